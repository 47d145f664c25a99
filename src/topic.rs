//! The webhook topics Inveterate documents for API 2.0, with a one-line
//! description each, and the "did you mean" used by validation.

/// Every documented topic, in documentation order: its name as the API
/// spells it, and when Inveterate fires it.
#[rustfmt::skip]
pub const TOPICS: &[(&str, &str)] = &[
    ("customer.joined.paid_tier", "a customer joins a paid tier by purchasing a subscription"),
    ("customer.joined.free_tier", "a customer joins a free tier"),
    ("customer.joined.free_trial", "a customer starts a free trial"),
    ("customer.joined.lifetime_tier", "a customer joins a lifetime tier"),
    ("customer.changed_tier", "a member moves from one tier to another"),
    ("customer.updated", "a member's data changes"),
    ("customer.ordered", "a member places an order"),
    ("customer.payment_succeeded", "a membership payment succeeds"),
    ("customer.payment_failed", "a membership payment fails"),
    ("customer_billing.attempt.failed", "a billing attempt fails"),
    ("customer.payment_methods.updated", "a member's payment methods change"),
    ("customer.credits.updated", "a member's store credit changes"),
    ("customer.credits.expired", "a member's store credit expires"),
    ("customer.cancelled", "a membership is cancelled"),
    ("customer.pending_cancellation", "a cancellation is requested for a future date"),
];

pub fn is_known(s: &str) -> bool {
    TOPICS.iter().any(|(name, _)| *name == s)
}

/// The documented topic closest to `s`, if it is close enough to be a typo.
pub fn suggest(s: &str) -> Option<&'static str> {
    closest(s, TOPICS.iter().map(|(name, _)| (*name, *name)))
}

/// The candidate closest to `given` by normalised Levenshtein similarity,
/// if close enough (≥ 0.6) to be a typo; topics and fields alike.
pub fn closest<'a, T>(given: &str, candidates: impl IntoIterator<Item = (&'a str, T)>) -> Option<T> {
    let given = given.to_ascii_lowercase();
    let score = |name: &str| strsim::normalized_levenshtein(&given, &name.to_ascii_lowercase());
    candidates
        .into_iter()
        .map(|(name, value)| (score(name), value))
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifteen_documented_topics_are_known() {
        assert_eq!(TOPICS.len(), 15);
        for (name, description) in TOPICS {
            assert!(is_known(name) && !description.is_empty());
        }
    }

    #[test]
    fn typo_gets_a_suggestion() {
        assert_eq!(suggest("customer.canceled"), Some("customer.cancelled"));
        assert_eq!(
            suggest("customer.joined.paidtier"),
            Some("customer.joined.paid_tier")
        );
    }

    #[test]
    fn nonsense_gets_no_suggestion() {
        assert_eq!(suggest("order.created.xyz.abc"), None);
        assert!(!is_known("Customer.Cancelled"));
    }
}
