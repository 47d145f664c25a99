//! When `apply` refuses a plan without `--force` (docs/reliability.md, docs/policy.md).

use serde::{Deserialize, Serialize};

use super::Summary;
use crate::model::{LiveSubscription, MerchantManifest};

/// The limits past which `apply` refuses a plan without `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Live subscriptions in scope from which the percentage rules apply.
    pub min_in_scope: usize,
    /// Share of those a plan may update or delete, or create (percent).
    pub max_change_percent: usize,
    pub max_deletes: Option<usize>,
    pub max_creates: Option<usize>,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            min_in_scope: 10,
            max_change_percent: MAX_PERCENT,
            max_deletes: None,
            max_creates: None,
        }
    }
}

const MAX_PERCENT: usize = 30;

/// A safety rule that `apply` enforces unless `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum SafetyTrip {
    /// In scope: live and not ignored.
    #[error(
        "the plan updates or deletes {changed} of {in_scope} live subscriptions ({}%), \
         over the {max_percent}% threshold",
        percent(*.changed, *.in_scope)
    )]
    MassChange {
        changed: usize,
        in_scope: usize,
        #[serde(default = "max_percent")]
        max_percent: usize,
    },
    #[error("the plan deletes {deleted} subscriptions, over the policy's `maxDeletes: {max}`")]
    TooManyDeletes { deleted: usize, max: usize },
    #[error("the plan creates {created} subscriptions, over the policy's `maxCreates: {max}`")]
    TooManyCreates { created: usize, max: usize },
    #[error(
        "the plan creates {created} subscriptions where {in_scope} are live ({}%), over the \
         {max_percent}% threshold (a live list read only in part looks like this)",
        percent(*.created, *.in_scope)
    )]
    MassCreate {
        created: usize,
        in_scope: usize,
        #[serde(default = "max_percent")]
        max_percent: usize,
    },
    #[error("the manifest declares no subscriptions, so the plan deletes all {deleted} live ones")]
    EmptyManifest { deleted: usize },
}

/// Saved plans written before the threshold was recorded had the built-in one.
fn max_percent() -> usize {
    MAX_PERCENT
}

fn percent(n: usize, of: usize) -> usize {
    n * 100 / of.max(1)
}

impl Thresholds {
    /// The first rule `summary`, a plan of `manifest` against `live`, trips.
    pub fn trip(
        &self,
        summary: &Summary,
        manifest: &MerchantManifest,
        live: &[LiveSubscription],
    ) -> Option<SafetyTrip> {
        let (created, deleted, max_percent) = (summary.create, summary.delete, self.max_change_percent);
        let in_scope = live.len() - summary.ignored;
        let changed = summary.update + deleted;
        let over = |n: usize| in_scope >= self.min_in_scope && n * 100 > in_scope * max_percent;
        if manifest.subscriptions.is_empty() && deleted > 0 {
            Some(SafetyTrip::EmptyManifest { deleted })
        } else if over(changed) {
            Some(SafetyTrip::MassChange {
                changed,
                in_scope,
                max_percent,
            })
        } else if over(created) {
            Some(SafetyTrip::MassCreate {
                created,
                in_scope,
                max_percent,
            })
        } else if let Some(max) = self.max_deletes.filter(|max| deleted > *max) {
            Some(SafetyTrip::TooManyDeletes { deleted, max })
        } else {
            let max = self.max_creates.filter(|max| created > *max)?;
            Some(SafetyTrip::TooManyCreates { created, max })
        }
    }
}
