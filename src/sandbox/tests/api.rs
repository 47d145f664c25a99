//! The four verbs, merchants, keys and request counters.

#![allow(clippy::unwrap_used)]

use reqwest::Method;
use serde_json::json;

use super::*;
use crate::sandbox::wire::merchant_id;
use crate::sandbox::RequestStats;

#[tokio::test]
async fn create_list_update_delete_round_trip() {
    let sandbox = start(&[KEY]).await;
    let created = call(
        &sandbox,
        Method::POST,
        json!({"topic": "customer.updated", "callbackUrl": "https://a.example/hook", "name": "crm"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.content_type, "application/json");
    assert_eq!(created.body["message"], "webhook subscription created");
    let sub = &created.body["data"];
    assert_eq!(sub["id"], "wh_000001");
    // A labelled digest of the key, whatever the order of the keys.
    assert_eq!(sub["merchantId"], "m_6defbf1387daa62e");
    assert_eq!(sub["merchantId"], merchant_id(KEY).as_str());
    assert_eq!(sub["createdAt"], "2024-01-01T00:00:01Z");

    let second = call(
        &sandbox,
        Method::POST,
        json!({"topic": "customer.ordered", "callbackUrl": "http://b.example", "name": "erp"}),
    )
    .await;
    assert_eq!(second.body["data"]["id"], "wh_000002");
    let listed = list(&sandbox, KEY).await;
    assert_eq!(listed.len(), 2);
    assert_eq!(&listed[0], sub);
    assert_eq!(listed[1]["id"], "wh_000002");

    let updated = call(
        &sandbox,
        Method::PUT,
        json!({"topic": "customer.updated", "id": "wh_000001", "callbackUrl": "https://c.example/new"}),
    )
    .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["data"]["callbackUrl"], "https://c.example/new");
    assert_eq!(updated.body["data"]["name"], "crm");
    assert_eq!(updated.body["data"]["createdAt"], "2024-01-01T00:00:01Z");
    assert_eq!(updated.body["data"]["updatedAt"], "2024-01-01T00:00:03Z");
    let renamed = call(
        &sandbox,
        Method::PUT,
        json!({"topic": "customer.updated", "id": "wh_000001", "name": "crm2", "callbackUrl": null}),
    )
    .await;
    assert_eq!(renamed.body["data"]["name"], "crm2");
    assert_eq!(renamed.body["data"]["callbackUrl"], "https://c.example/new");

    let deleted = call(
        &sandbox,
        Method::DELETE,
        json!({"topic": "customer.updated", "id": "wh_000001"}),
    )
    .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["data"]["id"], "wh_000001");
    let ids: Vec<_> = sandbox.subscriptions(KEY).into_iter().map(|s| s.id).collect();
    assert_eq!(ids, ["wh_000002"]);
    sandbox.shutdown().await.unwrap();
}

#[tokio::test]
async fn merchants_are_separate_and_duplicates_are_allowed() {
    let sandbox = start(&[KEY, OTHER]).await;
    let body = json!({"topic": "customer.updated", "callbackUrl": "https://a.example", "name": "crm"});
    assert_eq!(call(&sandbox, Method::POST, body.clone()).await.status, 201);
    assert_eq!(call(&sandbox, Method::POST, body).await.status, 201);
    assert_eq!(list(&sandbox, KEY).await.len(), 2);
    assert!(list(&sandbox, OTHER).await.is_empty());
    let seeded = sandbox.seed(OTHER, &[("customer.not_yet_documented", "x", "not a url")]);
    assert_eq!(seeded[0].id, "wh_000003");
    assert_eq!(
        list(&sandbox, OTHER).await[0]["merchantId"],
        merchant_id(OTHER).as_str()
    );
    // Another merchant's id is unknown to this one.
    let answer = call(
        &sandbox,
        Method::DELETE,
        json!({"topic": "customer.not_yet_documented", "id": "wh_000003"}),
    )
    .await;
    assert_error(&answer, 400, &["no subscription with id `wh_000003`"]);
    // `seed` registers a new key as a new merchant.
    sandbox.seed("sk_new", &[("customer.ordered", "y", "https://y")]);
    assert_eq!(
        list(&sandbox, "sk_new").await[0]["merchantId"],
        merchant_id("sk_new").as_str()
    );
    assert!(sandbox.subscriptions("sk_unknown").is_empty());
}

#[tokio::test]
async fn bad_or_missing_key_is_400_without_echo() {
    let sandbox = start(&[KEY]).await;
    for key in [None, Some("sk_wrong"), Some("")] {
        let answer = send(&sandbox, Method::GET, key, None).await;
        assert_error(&answer, 400, &[]);
        assert_eq!(answer.body, json!({"message": "invalid API key", "data": {}}));
    }
    let body = br#"{"topic":"customer.updated"}"#.to_vec();
    let answer = send(&sandbox, Method::POST, Some("sk_wrong"), Some(body)).await;
    assert_eq!(answer.body["message"], "invalid API key");
    // Debug output never shows a key either.
    assert!(!format!("{sandbox:?}").contains(KEY));
    assert!(!format!("{:?}", config(&[KEY])).contains(KEY));
}

#[tokio::test]
async fn unknown_id_or_other_topic_takes_no_action() {
    let sandbox = start(&[KEY]).await;
    let live = sandbox.seed(KEY, &[("customer.updated", "crm", "https://a")]);
    let before = sandbox.subscriptions(KEY);
    let cases = [
        (
            Method::PUT,
            json!({"topic": "customer.updated", "id": "wh_999999", "name": "x"}),
            "wh_999999",
        ),
        (
            Method::PUT,
            json!({"topic": "customer.ordered", "id": live[0].id, "name": "x"}),
            "customer.ordered",
        ),
        (
            Method::DELETE,
            json!({"topic": "customer.updated", "id": "nope"}),
            "nope",
        ),
        (
            Method::DELETE,
            json!({"topic": "customer.ordered", "id": live[0].id}),
            "customer.ordered",
        ),
    ];
    for (method, body, needle) in cases {
        let answer = call(&sandbox, method, body).await;
        assert_error(&answer, 400, &[needle, "NO action was taken"]);
    }
    assert_eq!(sandbox.subscriptions(KEY), before);
}

#[tokio::test]
async fn stats_count_resource_requests_by_method() {
    let sandbox = start(&[KEY]).await;
    list(&sandbox, KEY).await;
    send(&sandbox, Method::GET, Some("sk_wrong"), None).await;
    call(&sandbox, Method::POST, json!({})).await;
    call(&sandbox, Method::DELETE, json!({})).await;
    send(&sandbox, Method::PATCH, Some(KEY), None).await;
    send_path(&sandbox, Method::GET, "/nowhere").await;
    let expected = RequestStats {
        get: 2,
        post: 1,
        put: 0,
        delete: 1,
        total: 5,
        ..RequestStats::default()
    };
    assert_eq!(sandbox.counters().stats(), expected);
    let over_http = send_path(&sandbox, Method::GET, "/_sandbox/stats").await;
    assert_eq!(over_http.status, 200);
    assert_eq!(
        over_http.body,
        json!({"requests": {"GET": 2, "POST": 1, "PUT": 0, "DELETE": 1, "total": 5, "injected": {
            "errors": 0, "partial_failures": 0, "drops_before": 0, "drops_after": 0, "rate_limited": 0,
            "repeated_ids": 0, "cut_pages": 0
        }}})
    );
    assert_eq!(
        sandbox.counters().stats(),
        expected,
        "the stats endpoint is not counted"
    );
    let wrong = send_path(&sandbox, Method::POST, "/_sandbox/stats").await;
    assert_error(&wrong, 400, &["use GET"]);
    sandbox.counters().reset();
    assert_eq!(sandbox.counters().stats(), RequestStats::default());
}

/// Every envelope starts with `message`, as Inveterate writes it (and `docs/openapi.yaml`
/// shows): a list, a create, an error; `/_sandbox/` answers are their data alone.
#[tokio::test]
async fn an_envelope_writes_message_before_data() {
    let sandbox = start(&[KEY]).await;
    let url = format!("{}/admin/webhook-subscriptions", sandbox.base_url());
    let client = reqwest::Client::new();
    let hook = json!({"topic": "customer.updated", "callbackUrl": "https://a.example/hook", "name": "crm"});
    let requests = [
        client.post(&url).header("X-Inveterate-Api-Key", KEY).json(&hook),
        client.get(&url).header("X-Inveterate-Api-Key", KEY),
        client.get(&url).header("X-Inveterate-Api-Key", "wrong"),
    ];
    for request in requests {
        let body = request.send().await.unwrap().text().await.unwrap();
        assert!(body.starts_with(r#"{"message":"#), "{body}");
        assert!(body.contains(r#","data":"#), "{body}");
    }
    let stats = client.get(url.replace("/v2.0/admin/webhook-subscriptions", "/_sandbox/stats"));
    let body = stats.send().await.unwrap().text().await.unwrap();
    assert!(body.starts_with(r#"{"requests":"#), "{body}");
}
