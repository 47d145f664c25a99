//! The webhook topics Inveterate documents for API 2.0, with a one-line
//! description each, and the "did you mean" used by validation.

use std::fmt;
use std::str::FromStr;

macro_rules! topics {
    ($($variant:ident => $name:literal, $description:literal;)+) => {
        /// A documented webhook topic.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Topic {
            $(
                #[doc = $description]
                $variant,
            )+
        }

        impl Topic {
            /// Every documented topic, in documentation order.
            pub const ALL: &'static [Topic] = &[$(Topic::$variant),+];

            /// The topic as the API spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Topic::$variant => $name,)+
                }
            }

            /// When Inveterate fires it.
            pub fn description(self) -> &'static str {
                match self {
                    $(Topic::$variant => $description,)+
                }
            }
        }
    };
}

topics! {
    JoinedPaidTier => "customer.joined.paid_tier", "a customer joins a paid tier by purchasing a subscription";
    JoinedFreeTier => "customer.joined.free_tier", "a customer joins a free tier";
    JoinedFreeTrial => "customer.joined.free_trial", "a customer starts a free trial";
    JoinedLifetimeTier => "customer.joined.lifetime_tier", "a customer joins a lifetime tier";
    ChangedTier => "customer.changed_tier", "a member moves from one tier to another";
    Updated => "customer.updated", "a member's data changes";
    Ordered => "customer.ordered", "a member places an order";
    PaymentSucceeded => "customer.payment_succeeded", "a membership payment succeeds";
    PaymentFailed => "customer.payment_failed", "a membership payment fails";
    BillingAttemptFailed => "customer_billing.attempt.failed", "a billing attempt fails";
    PaymentMethodsUpdated => "customer.payment_methods.updated", "a member's payment methods change";
    CreditsUpdated => "customer.credits.updated", "a member's store credit changes";
    CreditsExpired => "customer.credits.expired", "a member's store credit expires";
    Cancelled => "customer.cancelled", "a membership is cancelled";
    PendingCancellation => "customer.pending_cancellation", "a cancellation is requested for a future date";
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Returned when a string is not a documented topic.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown topic `{given}`")]
pub struct UnknownTopic {
    /// The string that was given.
    pub given: String,
    /// The closest documented topic, when one is close enough to be a typo.
    pub suggestion: Option<Topic>,
}

impl FromStr for Topic {
    type Err = UnknownTopic;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Topic::ALL
            .iter()
            .copied()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownTopic {
                given: s.to_owned(),
                suggestion: suggest(s),
            })
    }
}

/// Whether `s` is a documented topic.
pub fn is_known(s: &str) -> bool {
    s.parse::<Topic>().is_ok()
}

/// The documented topic closest to `s`, if it is close enough to be a typo.
pub fn suggest(s: &str) -> Option<Topic> {
    closest(s, Topic::ALL.iter().map(|t| (t.as_str(), *t)))
}

/// The candidate closest to `given` by normalised Levenshtein similarity,
/// if it is similar enough (≥ 0.6) to be a typo. Shared by topic and field
/// suggestions so both feel the same.
pub fn closest<'a, T>(given: &str, candidates: impl IntoIterator<Item = (&'a str, T)>) -> Option<T> {
    let given = given.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|(name, value)| {
            (
                strsim::normalized_levenshtein(&given, &name.to_ascii_lowercase()),
                value,
            )
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn fifteen_documented_topics_round_trip() {
        assert_eq!(Topic::ALL.len(), 15);
        for t in Topic::ALL {
            assert_eq!(t.as_str().parse::<Topic>(), Ok(*t));
            assert!(!t.description().is_empty());
        }
    }

    #[test]
    fn typo_gets_a_suggestion() {
        let err = "customer.canceled".parse::<Topic>().unwrap_err();
        assert_eq!(err.suggestion, Some(Topic::Cancelled));
        assert_eq!(suggest("customer.joined.paidtier"), Some(Topic::JoinedPaidTier));
    }

    #[test]
    fn nonsense_gets_no_suggestion() {
        assert_eq!(suggest("order.created.xyz.abc"), None);
        assert!(!is_known("Customer.Cancelled"));
    }
}
