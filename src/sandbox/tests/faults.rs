//! Fault injection over real HTTP: each fault alone at rate 1 (and 0),
//! reproducibility by seed, and the injected-fault counters.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use super::outcome::{client, create, injected_error, request, start_with, Outcome, TOPIC};
use super::*;
use crate::sandbox::{Faults, InjectedStats};

#[tokio::test]
async fn zero_rates_inject_nothing() {
    let sandbox = start_with(Faults {
        seed: 5,
        error_rate: 0.0,
        partial_failure_rate: 0.0,
        drop_rate: 0.0,
        ..Faults::default()
    })
    .await;
    let client = client();
    for round in 0..5 {
        let created = request(&client, &sandbox, Method::POST, Some(create("crm"))).await;
        assert_eq!(created.status(), Some(201), "{created:?}");
        let id = created.body()["data"]["id"].clone();
        let listed = request(&client, &sandbox, Method::GET, None).await;
        assert_eq!(
            listed.body()["data"]["subscriptions"][0]["id"],
            id,
            "round {round}"
        );
        let body = json!({"topic": TOPIC, "id": id, "callbackUrl": "https://b.example"});
        assert_eq!(
            request(&client, &sandbox, Method::PUT, Some(body)).await.status(),
            Some(200)
        );
        let body = json!({"topic": TOPIC, "id": id});
        assert_eq!(
            request(&client, &sandbox, Method::DELETE, Some(body))
                .await
                .status(),
            Some(200)
        );
    }
    assert!(sandbox.subscriptions(KEY).is_empty());
    assert_eq!(sandbox.counters().stats().injected, InjectedStats::default());
    assert_eq!(sandbox.counters().stats().total, 20);
}

#[tokio::test]
async fn error_rate_one_fails_every_method_before_any_write() {
    let sandbox = start_with(Faults {
        error_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let live = sandbox.seed(KEY, &[(TOPIC, "crm", "https://a.example")]);
    let id = &live[0].id;
    let client = client();
    let requests = [
        (Method::GET, None),
        (Method::POST, Some(create("new"))),
        (
            Method::PUT,
            Some(json!({"topic": TOPIC, "id": id, "callbackUrl": "https://b.example"})),
        ),
        (Method::DELETE, Some(json!({"topic": TOPIC, "id": id}))),
    ];
    for (method, body) in requests {
        let outcome = request(&client, &sandbox, method.clone(), body).await;
        assert_eq!(outcome.status(), Some(500), "{method}: {outcome:?}");
        assert_eq!(outcome.body(), &injected_error(), "{method}");
    }
    assert_eq!(sandbox.subscriptions(KEY), live, "nothing was written");
    // Requests that never reach the store keep their honest answer.
    let wrong_key = send(&sandbox, Method::GET, Some("sk_wrong"), None).await;
    assert_error(&wrong_key, 400, &["invalid API key"]);
    let invalid = call(&sandbox, Method::POST, json!({"topic": TOPIC})).await;
    assert_error(&invalid, 400, &["missing required field `name`"]);

    let stats = sandbox.counters().stats();
    assert_eq!((stats.get, stats.post, stats.put, stats.delete), (2, 2, 1, 1));
    let expected = InjectedStats {
        errors: 4,
        ..InjectedStats::default()
    };
    assert_eq!(stats.injected, expected);
    // The stats endpoint is not subject to faults and shows the counts.
    let over_http = send_path(&sandbox, Method::GET, "/_sandbox/stats").await;
    assert_eq!(over_http.status, 200);
    assert_eq!(
        over_http.body["requests"]["injected"],
        json!({"errors": 4, "partial_failures": 0, "drops_before": 0, "drops_after": 0, "rate_limited": 0,
               "repeated_ids": 0, "cut_pages": 0})
    );
    sandbox.counters().reset();
    assert_eq!(sandbox.counters().stats().injected, InjectedStats::default());
}

#[tokio::test]
async fn partial_failure_rate_one_writes_then_fails() {
    let sandbox = start_with(Faults {
        partial_failure_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let client = client();
    let created = request(&client, &sandbox, Method::POST, Some(create("crm"))).await;
    assert_eq!(created.status(), Some(500));
    assert_eq!(created.body(), &injected_error());
    let live = sandbox.subscriptions(KEY);
    assert_eq!(live.len(), 1, "the create happened");
    let id = live[0].id.clone();
    // GET is not a write: it is never a partial failure.
    let listed = request(&client, &sandbox, Method::GET, None).await;
    assert_eq!(listed.status(), Some(200));
    assert_eq!(listed.body()["data"]["subscriptions"][0]["id"], id.as_str());

    let body = json!({"topic": TOPIC, "id": id, "callbackUrl": "https://b.example"});
    let updated = request(&client, &sandbox, Method::PUT, Some(body)).await;
    assert_eq!(updated.body(), &injected_error());
    assert_eq!(sandbox.subscriptions(KEY)[0].callback_url, "https://b.example");

    // When the store refuses, nothing happened: the 400 goes out.
    let unknown = json!({"topic": TOPIC, "id": "wh_999999"});
    let refused = request(&client, &sandbox, Method::DELETE, Some(unknown)).await;
    assert_eq!(refused.status(), Some(400));
    assert!(refused.body()["message"]
        .as_str()
        .unwrap()
        .contains("NO action was taken"));

    let deleted = request(
        &client,
        &sandbox,
        Method::DELETE,
        Some(json!({"topic": TOPIC, "id": id})),
    )
    .await;
    assert_eq!(deleted.body(), &injected_error());
    assert!(sandbox.subscriptions(KEY).is_empty(), "the delete happened");
    let expected = InjectedStats {
        partial_failures: 3,
        ..InjectedStats::default()
    };
    assert_eq!(sandbox.counters().stats().injected, expected);
}

#[tokio::test]
async fn drop_rate_one_closes_without_a_response_before_or_after_the_write() {
    let sandbox = start_with(Faults {
        seed: 3,
        drop_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let client = client();
    let mut before = 0;
    let mut after = 0;
    for n in 0..12 {
        let name = format!("crm-{n}");
        let count = sandbox.subscriptions(KEY).len();
        let outcome = request(&client, &sandbox, Method::POST, Some(create(&name))).await;
        assert_eq!(outcome, Outcome::Dropped);
        let live = sandbox.subscriptions(KEY);
        let injected = sandbox.counters().stats().injected;
        if live.len() == count + 1 {
            // Dropped after the write: the create happened.
            assert_eq!(live[count].name, name);
            after += 1;
        } else {
            assert_eq!(live.len(), count, "dropped before the write: nothing happened");
            before += 1;
        }
        assert_eq!(
            (injected.drops_before, injected.drops_after),
            (before, after),
            "request {n}"
        );
    }
    assert!(before > 0 && after > 0, "{before} before, {after} after");
    assert_eq!(
        request(&client, &sandbox, Method::GET, None).await,
        Outcome::Dropped
    );
    assert_eq!(sandbox.counters().stats().injected.errors, 0);
}

/// Runs a fixed sequence of requests, one client with keep-alive, and
/// returns what each one saw.
async fn run_sequence(faults: Faults) -> (Vec<Option<u16>>, InjectedStats, Vec<String>) {
    let sandbox = start_with(faults).await;
    let client = client();
    let mut outcomes = Vec::new();
    for n in 0..40 {
        let (method, body) = match n % 4 {
            0 => (Method::POST, Some(create(&format!("crm-{n}")))),
            1 => (Method::GET, None),
            2 => (
                Method::PUT,
                Some(json!({"topic": TOPIC, "id": format!("wh_{:06}", n / 4 + 1), "name": "renamed"})),
            ),
            _ => (
                Method::DELETE,
                Some(json!({"topic": TOPIC, "id": format!("wh_{:06}", n / 4 + 1)})),
            ),
        };
        outcomes.push(request(&client, &sandbox, method, body).await.status());
    }
    let live = sandbox
        .subscriptions(KEY)
        .into_iter()
        .map(|s| format!("{}:{}", s.id, s.name));
    (outcomes, sandbox.counters().stats().injected, live.collect())
}

#[tokio::test]
async fn same_seed_same_fates_through_keep_alive_connections() {
    let all = |seed| Faults {
        seed,
        error_rate: 0.2,
        partial_failure_rate: 0.3,
        drop_rate: 0.3,
        ..Faults::default()
    };
    let first = run_sequence(all(13)).await;
    assert_eq!(run_sequence(all(13)).await, first);
    let (outcomes, injected, _) = &first;
    // Every kind of fault shows up, and a client keeps working after a
    // dropped connection.
    assert!(
        injected.errors > 0 && injected.partial_failures > 0,
        "{injected:?}"
    );
    assert!(
        injected.drops_before > 0 && injected.drops_after > 0,
        "{injected:?}"
    );
    let dropped = outcomes.iter().filter(|o| o.is_none()).count() as u64;
    assert_eq!(dropped, injected.drops_before + injected.drops_after);
    assert!(outcomes.contains(&Some(201)));
    assert_ne!(run_sequence(all(12)).await, first);
}

#[tokio::test]
async fn error_rate_half_gives_the_same_statuses_for_the_same_seed() {
    async fn statuses(seed: u64) -> Vec<u16> {
        let sandbox = start_with(Faults {
            seed,
            error_rate: 0.5,
            ..Faults::default()
        })
        .await;
        let client = client();
        let mut statuses = Vec::new();
        for _ in 0..50 {
            statuses.push(
                request(&client, &sandbox, Method::GET, None)
                    .await
                    .status()
                    .unwrap(),
            );
        }
        statuses
    }
    let first = statuses(1).await;
    assert_eq!(statuses(1).await, first);
    assert!(first.contains(&200) && first.contains(&500), "{first:?}");
    assert!(first.iter().all(|s| *s == 200 || *s == 500));
    assert_ne!(statuses(2).await, first);
}

#[tokio::test]
async fn invalid_faults_refuse_to_start() {
    let err = Sandbox::start(
        ANY_PORT.parse().unwrap(),
        SandboxConfig {
            faults: Faults {
                drop_rate: 2.0,
                ..Faults::default()
            },
            ..config(&[KEY])
        },
    )
    .await
    .unwrap_err();
    let shown = format!("{err:#}");
    assert!(
        shown.contains("for `--drop-rate`: expected a probability between 0 and 1"),
        "{shown}"
    );
}

#[tokio::test]
async fn a_drop_closes_the_connection_at_once_without_a_byte() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let sandbox = start_with(Faults {
        drop_rate: 1.0,
        ..Faults::default()
    })
    .await;
    for _ in 0..4 {
        let mut stream = tokio::net::TcpStream::connect(sandbox.addr()).await.unwrap();
        let body = create("raw").to_string();
        let request = format!(
            "POST /v2.0/admin/webhook-subscriptions HTTP/1.1\r\nHost: x\r\nX-Inveterate-Api-Key: {KEY}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        // Keep-alive is the default in HTTP/1.1: only the drop closes this.
        let mut received = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut received))
            .await
            .expect("the connection was left open");
        assert!(
            read.is_ok()
                || read
                    .as_ref()
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "{read:?}"
        );
        assert!(received.is_empty(), "{}", String::from_utf8_lossy(&received));
    }
    let injected = sandbox.counters().stats().injected;
    assert_eq!(injected.drops_before + injected.drops_after, 4);
    assert_eq!(sandbox.subscriptions(KEY).len() as u64, injected.drops_after);
}

#[tokio::test]
async fn lying_lists_are_ones_the_client_refuses_and_end_with_set_faults() {
    let sandbox = start_with(Faults {
        seed: 3,
        lying_list_rate: 1.0,
        ..Faults::default()
    })
    .await;
    let client = client();
    // Nothing to lie about: an empty list is answered honestly.
    let empty = request(&client, &sandbox, Method::GET, None).await;
    assert_eq!(empty.body()["data"], json!({"subscriptions": []}));
    let live = sandbox.seed(
        KEY,
        &[
            (TOPIC, "crm", "https://a.example"),
            (TOPIC, "erp", "https://b.example"),
            (TOPIC, "wms", "https://c.example"),
        ],
    );
    for round in 0..40 {
        let listed = request(&client, &sandbox, Method::GET, None).await;
        assert_eq!(listed.status(), Some(200), "round {round}");
        let body = listed.body().to_string();
        let err = crate::api::envelope::parse_list(body.as_bytes()).unwrap_err();
        assert!(
            matches!(err, crate::api::envelope::BodyError::Incomplete(_)),
            "round {round}: {err:?} in {body}"
        );
    }
    // Writes are never lied about, and a lie changes nothing stored.
    let created = request(&client, &sandbox, Method::POST, Some(create("new"))).await;
    assert_eq!(created.status(), Some(201), "{created:?}");
    assert_eq!(sandbox.subscriptions(KEY)[..3], live[..]);
    let injected = sandbox.counters().stats().injected;
    assert_eq!(injected.repeated_ids + injected.cut_pages, 40, "{injected:?}");
    assert!(
        injected.repeated_ids > 5 && injected.cut_pages > 5,
        "{injected:?}"
    );

    // Once the faults are set to none, lists are whole again.
    sandbox.set_faults(Faults::default()).unwrap();
    let listed = request(&client, &sandbox, Method::GET, None).await;
    let body = listed.body().to_string();
    let whole = crate::api::envelope::parse_list(body.as_bytes()).unwrap();
    assert_eq!(whole, sandbox.subscriptions(KEY));
    assert_eq!(
        sandbox.counters().stats().injected,
        injected,
        "no lie after set_faults"
    );
    let bad = Faults {
        lying_list_rate: 2.0,
        ..Faults::default()
    };
    let err = sandbox.set_faults(bad).unwrap_err();
    assert!(
        format!("{err:#}").contains("for `--lying-list-rate`: expected a probability"),
        "{err:#}"
    );
}
