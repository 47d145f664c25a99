//! Faults in time: the rate limit's 429s and refill, the visibility delay
//! and latency, through `server::handle` in-process on tokio's paused clock
//! (no socket: the clock moves only when a test advances it or every task
//! is idle in a timer); and a shutdown during a slow request, over TCP in
//! real time.

#![allow(clippy::unwrap_used)]

use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::time::Instant;

use super::outcome::{client, create, handled, start_with, Outcome, TOPIC};
use super::*;
use crate::sandbox::{Faults, InjectedStats};

#[tokio::test(start_paused = true)]
async fn rate_limit_answers_429_with_retry_after_then_recovers() {
    let sandbox = start_with(Faults {
        rate_limit: Some(1.0),
        ..Faults::default()
    })
    .await;
    // The bucket holds max(1, 1) = 1 token: the burst's second and third
    // requests are refused, and nothing is written.
    let first = handled(&sandbox, Method::POST, Some(create("a"))).await;
    assert_eq!(first.status(), Some(201));
    for (method, body) in [(Method::POST, Some(create("b"))), (Method::GET, None)] {
        let refused = handled(&sandbox, method, body).await;
        let Outcome::Answer {
            status,
            retry_after,
            body,
        } = &refused
        else {
            panic!("dropped");
        };
        assert_eq!(*status, 429);
        assert_eq!(retry_after.as_deref(), Some("1"));
        assert_eq!(body["data"], json!({}));
        assert!(body["message"].as_str().unwrap().contains("rate limit"), "{body}");
    }
    assert_eq!(
        sandbox.subscriptions(KEY).len(),
        1,
        "the refused create was not written"
    );
    // The bucket refills exactly as the clock is advanced.
    tokio::time::advance(Duration::from_millis(900)).await;
    let early = handled(&sandbox, Method::GET, None).await;
    assert_eq!(early.status(), Some(429), "0.9 tokens after 0.9 s");
    tokio::time::advance(Duration::from_millis(100)).await;
    let again = handled(&sandbox, Method::GET, None).await;
    assert_eq!(again.status(), Some(200));
    assert_eq!(again.body()["data"]["subscriptions"].as_array().unwrap().len(), 1);
    let stats = sandbox.counters().stats();
    assert_eq!(stats.injected.rate_limited, 3);
    assert_eq!(
        (stats.get, stats.post),
        (3, 2),
        "refused requests are still counted"
    );
}

#[tokio::test(start_paused = true)]
async fn rate_limited_requests_are_not_subject_to_other_faults() {
    let sandbox = start_with(Faults {
        rate_limit: Some(1.0),
        error_rate: 1.0,
        latency: Duration::from_millis(300),
        ..Faults::default()
    })
    .await;
    let started = Instant::now();
    assert_eq!(handled(&sandbox, Method::GET, None).await.status(), Some(500));
    assert_eq!(started.elapsed(), Duration::from_millis(300), "the latency");
    assert_eq!(handled(&sandbox, Method::GET, None).await.status(), Some(429));
    assert_eq!(
        started.elapsed(),
        Duration::from_millis(300),
        "no latency for a 429"
    );
    let expected = InjectedStats {
        errors: 1,
        rate_limited: 1,
        ..InjectedStats::default()
    };
    assert_eq!(sandbox.counters().stats().injected, expected);
    assert_eq!(
        sandbox.counters().fault_log().len(),
        1,
        "{:?}",
        sandbox.counters().fault_log()
    );
    assert!(
        sandbox.counters().fault_log()[0].ends_with("#1 error"),
        "{:?}",
        sandbox.counters().fault_log()
    );
}

#[tokio::test(start_paused = true)]
async fn visibility_delay_hides_a_create_from_get_for_a_while() {
    let delay = Duration::from_millis(500);
    let sandbox = start_with(Faults {
        visibility_delay: delay,
        ..Faults::default()
    })
    .await;
    let seeded = sandbox.seed(KEY, &[(TOPIC, "old", "https://old.example")]);
    let ids = |outcome: &Outcome| -> Vec<String> {
        let subs = outcome.body()["data"]["subscriptions"].as_array().unwrap();
        subs.iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let created = handled(&sandbox, Method::POST, Some(create("new"))).await;
    assert_eq!(created.status(), Some(201));
    let id = created.body()["data"]["id"].as_str().unwrap().to_owned();
    let listed = handled(&sandbox, Method::GET, None).await;
    assert_eq!(ids(&listed), [seeded[0].id.clone()], "not visible yet");
    // The in-process view shows everything, GET only what is visible.
    assert_eq!(sandbox.subscriptions(KEY).len(), 2);

    // PUT and DELETE work on a hidden subscription at once.
    let body = json!({"topic": TOPIC, "id": id, "callbackUrl": "https://new.example"});
    let updated = handled(&sandbox, Method::PUT, Some(body)).await;
    assert_eq!(updated.status(), Some(200), "{updated:?}");
    let other = handled(&sandbox, Method::POST, Some(create("gone"))).await;
    let other_id = other.body()["data"]["id"].as_str().unwrap().to_owned();
    let body = json!({"topic": TOPIC, "id": other_id});
    assert_eq!(
        handled(&sandbox, Method::DELETE, Some(body)).await.status(),
        Some(200)
    );
    assert_eq!(sandbox.subscriptions(KEY).len(), 2);

    // Hidden until exactly the delay has passed.
    tokio::time::advance(delay - Duration::from_millis(1)).await;
    assert_eq!(ids(&handled(&sandbox, Method::GET, None).await).len(), 1);
    tokio::time::advance(Duration::from_millis(1)).await;
    let listed = handled(&sandbox, Method::GET, None).await;
    assert_eq!(ids(&listed), [seeded[0].id.clone(), id]);
    assert_eq!(
        listed.body()["data"]["subscriptions"][1]["callbackUrl"],
        "https://new.example"
    );
}

#[tokio::test(start_paused = true)]
async fn latency_delays_every_request() {
    let latency = Duration::from_millis(150);
    let sandbox = start_with(Faults {
        latency,
        ..Faults::default()
    })
    .await;
    for (method, body) in [(Method::GET, None), (Method::POST, Some(create("a")))] {
        let started = Instant::now();
        let outcome = handled(&sandbox, method, body).await;
        assert!(outcome.status().is_some());
        assert_eq!(started.elapsed(), latency);
    }
    assert_eq!(sandbox.counters().stats().injected, InjectedStats::default());
}

/// Real time and real TCP: the connection layer is what is tested here.
#[tokio::test]
async fn shutdown_lets_a_request_in_flight_finish() {
    let sandbox = start_with(Faults {
        latency: Duration::from_millis(300),
        ..Faults::default()
    })
    .await;
    let url = format!("{}/admin/webhook-subscriptions", sandbox.base_url());
    let idle = client();
    // An idle keep-alive connection must not hold the shutdown up.
    let first = idle
        .get(&url)
        .header("X-Inveterate-Api-Key", KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let in_flight = tokio::spawn(async move {
        let response = client()
            .get(&url)
            .header("X-Inveterate-Api-Key", KEY)
            .send()
            .await
            .unwrap();
        response.status().as_u16()
    });
    // The second request has arrived (it is counted on arrival) and waits
    // out its latency.
    let deadline = Instant::now() + Duration::from_secs(10);
    while sandbox.counters().stats().get < 2 {
        assert!(Instant::now() < deadline, "the second request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let addr = sandbox.addr();
    sandbox.shutdown().await.unwrap();
    assert_eq!(in_flight.await.unwrap(), 200);
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "no longer listening"
    );
}
