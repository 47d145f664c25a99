//! Every malformed request is a 400 envelope, never a 500 or a hang.

#![allow(clippy::unwrap_used)]

use reqwest::Method;
use serde_json::json;

use super::*;

#[tokio::test]
async fn invalid_bodies_are_400_envelopes() {
    let sandbox = start(&[KEY]).await;
    let post = |body: &str| send(&sandbox, Method::POST, Some(KEY), Some(body.as_bytes().to_vec()));
    assert_error(&post("{\"topic\": ").await, 400, &["not valid JSON"]);
    assert_error(&post("").await, 400, &["body is empty", "`callbackUrl`"]);
    assert_error(
        &post("[1]").await,
        400,
        &["must be a JSON object", "got an array"],
    );
    assert_error(
        &post("{}").await,
        400,
        &["missing required field `topic`", "`callbackUrl`", "`name`"],
    );
    let answer = post(r#"{"topic": 5, "callbackUrl": "https://a", "name": ""}"#).await;
    assert_error(
        &answer,
        400,
        &[
            "field `topic` must be a string, got a number",
            "field `name` must not be empty",
        ],
    );
    let answer = post(
        r#"{"topic": "customer.updated", "callbackUrl": "https://a", "name": "n", "callback_url": "x"}"#,
    )
    .await;
    assert_error(&answer, 400, &["unknown field `callback_url`"]);
    let answer = post(r#"{"topic": "customer.update", "callbackUrl": "https://a", "name": "n"}"#).await;
    assert_error(&answer, 400, &["unknown topic `customer.update`"]);
    for url in [
        "ftp://a.example/x?token=hunter2",
        "/relative?token=hunter2",
        "https://?token=hunter2",
    ] {
        let body = json!({"topic": "customer.updated", "callbackUrl": url, "name": "n"}).to_string();
        let answer = post(&body).await;
        assert_error(
            &answer,
            400,
            &["`callbackUrl` must be an absolute http or https URL"],
        );
        assert!(!answer.body["message"].as_str().unwrap().contains("hunter2"));
    }
    let answer = call(
        &sandbox,
        Method::PUT,
        json!({"topic": "customer.updated", "id": 1, "name": false}),
    )
    .await;
    assert_error(
        &answer,
        400,
        &[
            "field `id` must be a string",
            "field `name` must be a string, got a boolean",
        ],
    );
    let answer = call(&sandbox, Method::DELETE, json!({"id": "wh_000001"})).await;
    assert_error(&answer, 400, &["missing required field `topic`"]);
    assert!(sandbox.subscriptions(KEY).is_empty());
}

#[tokio::test]
async fn wrong_method_oversize_body_and_unknown_path() {
    let sandbox = start(&[KEY]).await;
    let answer = send(&sandbox, Method::PATCH, Some(KEY), Some(b"{}".to_vec())).await;
    assert_error(
        &answer,
        400,
        &["method `PATCH` is not allowed", "GET, POST, PUT or DELETE"],
    );
    let big = format!(
        r#"{{"topic":"customer.updated","callbackUrl":"https://a","name":"{}"}}"#,
        "x".repeat(1024 * 1024)
    );
    let answer = send(&sandbox, Method::POST, Some(KEY), Some(big.into_bytes())).await;
    assert_error(&answer, 400, &["larger than 1 MiB"]);
    let answer = send_path(&sandbox, Method::GET, "/v2.0/admin/webhooks").await;
    assert_error(&answer, 404, &["no route for `/v2.0/admin/webhooks`"]);
    // Still serving after all that.
    assert!(list(&sandbox, KEY).await.is_empty());
}

#[tokio::test]
async fn post_without_content_type_is_accepted() {
    let sandbox = start(&[KEY]).await;
    let body = json!({"topic": "customer.updated", "callbackUrl": "https://a", "name": "n"}).to_string();
    let response = reqwest::Client::new()
        .post(format!("{}/admin/webhook-subscriptions", sandbox.base_url()))
        .header("X-Inveterate-Api-Key", KEY)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);
}
