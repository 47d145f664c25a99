//! Safety thresholds: when `apply` refuses a plan without `--force`
//! (README "What apply promises", "Safety"), built in or from a policy.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::Summary;

/// Live subscriptions in scope from which the percentage rule applies.
pub const SAFETY_MIN_IN_SCOPE: usize = 10;
/// Share of in-scope subscriptions a plan may update or delete (percent).
pub const SAFETY_MAX_PERCENT: usize = 30;

/// The limits past which `apply` refuses a plan without `--force`; a
/// policy's `safety:` replaces them (README "Callback host policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Live subscriptions in scope from which the percentage rule applies.
    pub min_in_scope: usize,
    /// Share of in-scope subscriptions a plan may update or delete (percent).
    pub max_change_percent: usize,
    /// Most deletes a plan may make, when set.
    pub max_deletes: Option<usize>,
    /// Most creates a plan may make, when set.
    pub max_creates: Option<usize>,
}

impl Default for Thresholds {
    /// The built-in limits: [`SAFETY_MIN_IN_SCOPE`], [`SAFETY_MAX_PERCENT`], no count limits.
    fn default() -> Self {
        Self {
            min_in_scope: SAFETY_MIN_IN_SCOPE,
            max_change_percent: SAFETY_MAX_PERCENT,
            max_deletes: None,
            max_creates: None,
        }
    }
}

/// A safety rule that `apply` enforces unless `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum SafetyTrip {
    /// More than `max_percent`% of at least [`Thresholds::min_in_scope`]
    /// in-scope subscriptions would change.
    MassChange {
        /// Updates plus deletes.
        changed: usize,
        /// Live subscriptions not matched by `ignore`.
        in_scope: usize,
        /// The threshold that tripped ([`SAFETY_MAX_PERCENT`] unless a
        /// policy sets another).
        #[serde(default = "default_max_percent")]
        max_percent: usize,
    },
    /// More deletes than a policy's `maxDeletes`.
    TooManyDeletes {
        /// Deletes in the plan.
        deleted: usize,
        /// The policy's limit.
        max: usize,
    },
    /// More creates than a policy's `maxCreates`.
    TooManyCreates {
        /// Creates in the plan.
        created: usize,
        /// The policy's limit.
        max: usize,
    },
    /// More than `max_percent`% as many creates as at least
    /// [`Thresholds::min_in_scope`] in-scope subscriptions: a misread or
    /// cut live list looks like this.
    MassCreate {
        /// Creates.
        created: usize,
        /// Live subscriptions not matched by `ignore`.
        in_scope: usize,
        /// The threshold that tripped ([`SAFETY_MAX_PERCENT`] unless a
        /// policy sets another).
        #[serde(default = "default_max_percent")]
        max_percent: usize,
    },
    /// The manifest declares nothing, so every live subscription would go.
    EmptyManifest {
        /// Live subscriptions that would be deleted.
        deleted: usize,
    },
}

impl fmt::Display for SafetyTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SafetyTrip::MassChange {
                changed,
                in_scope,
                max_percent,
            } => write!(
                f,
                "the plan updates or deletes {changed} of {in_scope} live subscriptions ({}%), \
                 over the {max_percent}% threshold",
                changed * 100 / in_scope.max(1)
            ),
            SafetyTrip::MassCreate {
                created,
                in_scope,
                max_percent,
            } => write!(
                f,
                "the plan creates {created} subscriptions where {in_scope} are live ({}%), \
                 over the {max_percent}% threshold (a live list read only in part looks like this)",
                created * 100 / in_scope.max(1)
            ),
            SafetyTrip::TooManyDeletes { deleted, max } => write!(
                f,
                "the plan deletes {deleted} subscriptions, over the policy's `maxDeletes: {max}`"
            ),
            SafetyTrip::TooManyCreates { created, max } => write!(
                f,
                "the plan creates {created} subscriptions, over the policy's `maxCreates: {max}`"
            ),
            SafetyTrip::EmptyManifest { deleted } => write!(
                f,
                "the manifest declares no subscriptions, so the plan deletes all {deleted} live ones"
            ),
        }
    }
}

fn default_max_percent() -> usize {
    SAFETY_MAX_PERCENT
}

pub(super) fn safety(
    summary: &Summary,
    in_scope: usize,
    manifest_empty: bool,
    t: &Thresholds,
) -> Option<SafetyTrip> {
    let changed = summary.update + summary.delete;
    if manifest_empty && summary.delete > 0 {
        Some(SafetyTrip::EmptyManifest {
            deleted: summary.delete,
        })
    } else if in_scope >= t.min_in_scope && changed * 100 > in_scope * t.max_change_percent {
        Some(SafetyTrip::MassChange {
            changed,
            in_scope,
            max_percent: t.max_change_percent,
        })
    } else if in_scope >= t.min_in_scope && summary.create * 100 > in_scope * t.max_change_percent {
        Some(SafetyTrip::MassCreate {
            created: summary.create,
            in_scope,
            max_percent: t.max_change_percent,
        })
    } else if let Some(max) = t.max_deletes.filter(|max| summary.delete > *max) {
        Some(SafetyTrip::TooManyDeletes {
            deleted: summary.delete,
            max,
        })
    } else {
        t.max_creates
            .filter(|max| summary.create > *max)
            .map(|max| SafetyTrip::TooManyCreates {
                created: summary.create,
                max,
            })
    }
}
