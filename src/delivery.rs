//! The body Inveterate POSTs to a callback URL (`check --send-test-event`
//! and the sandbox's deliveries), with a sample payload per topic.

use serde::Serialize;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

pub const VERSION: &str = "2025-06";

/// An event's `metadata` (Inveterate's own spelling `triggerredAt` included).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<'a> {
    pub topic: &'a str,
    pub id: &'a str,
    pub shop_domain: &'a str,
    /// RFC 3339 (also the sample's `createdAt`, `updatedAt`).
    #[serde(rename = "triggerredAt")]
    pub at: &'a str,
}

/// A synthetic event (`check --send-test-event`), `metadata.test: true`.
pub fn test_body(event: &Event<'_>) -> Value {
    let payload = sample_payload(event.topic, "gid://shopify/Shop/1000000001", event.at);
    let mut body = envelope(payload, event, 0);
    body["metadata"]["test"] = Value::Bool(true);
    body
}

/// `{"payload", "metadata"}` in Inveterate's shape.
pub fn envelope(payload: Value, event: &Event<'_>, retry_count: u32) -> Value {
    let mut metadata = serde_json::to_value(event).unwrap_or_default();
    metadata["retryCount"] = retry_count.into();
    metadata["version"] = VERSION.into();
    json!({ "payload": payload, "metadata": metadata })
}

pub fn sample_payload(topic: &str, merchant_id: &str, at: &str) -> Value {
    json!({
        "merchantId": merchant_id,
        "customerId": "gid://shopify/Customer/2000000001",
        "createdAt": at,
        "updatedAt": at,
        "detail": detail(topic),
    })
}

/// Each documented topic's sample `detail`, one line each.
const DETAILS: &str = r#"{
    "customer.joined.paid_tier": { "tierId": "tier_sample_gold", "tierName": "Gold" },
    "customer.joined.free_tier": { "tierId": "tier_sample_gold", "tierName": "Gold" },
    "customer.joined.free_trial": { "tierId": "tier_sample_gold", "tierName": "Gold" },
    "customer.joined.lifetime_tier": { "tierId": "tier_sample_gold", "tierName": "Gold" },
    "customer.changed_tier": { "previousTierId": "tier_sample_silver", "tierId": "tier_sample_gold" },
    "customer.ordered": { "orderId": "gid://shopify/Order/3000000001", "total": "42.00", "currency": "USD" },
    "customer.updated": { "changed": ["email"], "email": "member@example.invalid" },
    "customer.payment_methods.updated": { "paymentMethod": "card", "last4": "4242" },
    "customer.payment_succeeded": { "amount": "9.99", "currency": "USD", "attempt": 1 },
    "customer.payment_failed": { "amount": "9.99", "currency": "USD", "attempt": 1 },
    "customer_billing.attempt.failed": { "amount": "9.99", "currency": "USD", "attempt": 1 },
    "customer.credits.updated": { "credits": "5.00", "currency": "USD" },
    "customer.credits.expired": { "credits": "5.00", "currency": "USD" },
    "customer.cancelled": { "tierId": "tier_sample_gold", "cancelAt": "2026-01-01T00:00:00Z" },
    "customer.pending_cancellation": { "tierId": "tier_sample_gold", "cancelAt": "2026-01-01T00:00:00Z" }
}"#;

fn detail(topic: &str) -> Value {
    let details: Value = serde_json::from_str(DETAILS).unwrap_or_default();
    details.get(topic).cloned().unwrap_or_else(|| json!({}))
}

/// The wall clock as RFC 3339: receivers may check an event's age.
pub fn now() -> String {
    rfc3339(OffsetDateTime::now_utc().unix_timestamp().try_into().unwrap_or(0))
}

/// `secs` since the Unix epoch as RFC 3339 UTC (`2026-01-02T03:04:05Z`).
pub fn rfc3339(secs: u64) -> String {
    let at = OffsetDateTime::from_unix_timestamp(i64::try_from(secs).unwrap_or(i64::MAX));
    at.ok()
        .and_then(|at| at.format(&Rfc3339).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_767_323_045), "2026-01-02T03:04:05Z");
    }

    #[test]
    fn a_test_event_has_the_documented_keys_and_is_marked() {
        let event = Event {
            topic: "customer.cancelled",
            id: "evt_1",
            shop_domain: "acme.myshopify.com",
            at: "2026-01-02T03:04:05Z",
        };
        let v = test_body(&event);
        for key in ["merchantId", "customerId", "createdAt", "updatedAt", "detail"] {
            assert!(v["payload"].get(key).is_some(), "payload.{key}");
        }
        let m = &v["metadata"];
        assert_eq!(m["triggerredAt"], "2026-01-02T03:04:05Z");
        assert_eq!(m["retryCount"], 0);
        assert_eq!(m["version"], VERSION);
        assert_eq!(m["topic"], "customer.cancelled");
        assert_eq!(m["test"], true);
        let real = envelope(json!({}), &event, 0);
        assert!(real["metadata"].get("test").is_none(), "only test events say so");
    }

    #[test]
    fn a_retry_counts_up_and_keeps_the_id_and_the_payload() {
        let event = Event {
            topic: "customer.updated",
            id: "evt_000007",
            shop_domain: "sandbox-m_1.myshopify.com",
            at: "2026-01-02T03:04:05Z",
        };
        let payload = json!({ "custom": [1, 2] });
        let first = envelope(payload.clone(), &event, 0);
        let third = envelope(payload.clone(), &event, 2);
        assert_eq!(first["metadata"]["retryCount"], 0);
        assert_eq!(third["metadata"]["retryCount"], 2);
        assert_eq!(first["metadata"]["id"], third["metadata"]["id"]);
        assert_eq!(third["payload"], payload, "a given payload is sent as it is");
        assert!(third["metadata"].get("test").is_none());
        let keys: Vec<&str> = third["metadata"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = [
            "id",
            "retryCount",
            "shopDomain",
            "topic",
            "version",
            "triggerredAt",
        ];
        expected.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn every_topic_has_a_sample_payload_with_the_documented_fields() {
        for (topic, _) in crate::topic::TOPICS {
            let p = sample_payload(topic, "m_0123456789abcdef", "2026-01-02T03:04:05Z");
            assert_eq!(p["merchantId"], "m_0123456789abcdef", "{topic:?}");
            assert!(
                p["customerId"].as_str().is_some_and(|c| !c.is_empty()),
                "{topic:?}"
            );
            assert_eq!(p["createdAt"], "2026-01-02T03:04:05Z", "{topic:?}");
            assert_eq!(p["updatedAt"], "2026-01-02T03:04:05Z", "{topic:?}");
            assert_eq!(p["detail"], detail(topic), "{topic:?}");
        }
        let tier = sample_payload("customer.changed_tier", "m", "t");
        assert_eq!(tier["detail"]["previousTierId"], "tier_sample_silver");
        let order = sample_payload("customer.ordered", "m", "t");
        assert!(order["detail"]["orderId"]
            .as_str()
            .is_some_and(|o| o.contains("Order")));
        let credits = sample_payload("customer.credits.expired", "m", "t");
        assert_eq!(credits["detail"]["currency"], "USD");
    }

    #[test]
    fn every_documented_topic_has_a_detail_object() {
        for (topic, _) in crate::topic::TOPICS {
            assert!(
                detail(topic).as_object().is_some_and(|o| !o.is_empty()),
                "{topic:?}"
            );
        }
    }
}
