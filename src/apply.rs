//! Executes a [`MerchantPlan`] through a [`Remote`]: the only code that
//! changes the remote. Creates, then updates, then deletes, each phase with
//! up to `parallelism` calls in flight; no delete runs after a failed create
//! or update; unknown outcomes are resolved by re-reading the live list; a
//! verification pass re-reads until live matches the manifest.

use std::collections::HashSet;
use std::future::Future;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use crate::api::{ApiError, Client};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{self, Action, Change, MerchantPlan};

/// The four calls apply needs; [`Client`] is the real one, tests may fake it.
pub trait Remote: Sync {
    /// All live subscriptions.
    fn list(&self) -> impl Future<Output = Result<Vec<LiveSubscription>, ApiError>> + Send;
    /// POST one subscription.
    fn create(&self, topic: &str, name: &str, url: &str)
        -> impl Future<Output = Result<(), ApiError>> + Send;
    /// PUT a subscription's URL and name.
    fn update(
        &self,
        id: &str,
        topic: &str,
        name: &str,
        url: &str,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// DELETE a subscription.
    fn delete(&self, id: &str, topic: &str) -> impl Future<Output = Result<(), ApiError>> + Send;
}

impl Remote for Client {
    async fn list(&self) -> Result<Vec<LiveSubscription>, ApiError> {
        Client::list(self).await
    }
    async fn create(&self, topic: &str, name: &str, url: &str) -> Result<(), ApiError> {
        Client::create(self, topic, name, url).await.map(drop)
    }
    async fn update(&self, id: &str, topic: &str, name: &str, url: &str) -> Result<(), ApiError> {
        Client::update(self, id, topic, name, url).await
    }
    async fn delete(&self, id: &str, topic: &str) -> Result<(), ApiError> {
        Client::delete(self, id, topic).await
    }
}

/// How to run an apply.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Calls in flight per phase (at least 1).
    pub parallelism: usize,
    /// How long verification waits for live to match.
    pub wait: Duration,
    /// Pause between verification reads.
    pub poll: Duration,
    /// How often an unknown outcome is resolved and the call retried.
    pub max_resolutions: u32,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            parallelism: 4,
            wait: Duration::from_secs(30),
            poll: Duration::from_millis(500),
            max_resolutions: 3,
        }
    }
}

/// What happened to one change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// The call succeeded (or, after an unknown outcome, the live list shows
    /// it took effect).
    Done,
    /// The call failed; `reason` is the error.
    Failed {
        /// Why.
        reason: String,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// A change and its outcome.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeReport {
    /// The planned change.
    pub change: Change,
    /// What happened.
    pub outcome: Outcome,
}

/// Whether live matched the manifest after the calls.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Verification {
    /// Live equals the manifest.
    Converged,
    /// Still different when time ran out: what is left to do.
    NotConverged {
        /// The plan that remains.
        remaining: Vec<Change>,
    },
    /// The live list could not be read.
    Unknown {
        /// Why.
        reason: String,
    },
}

/// The result of applying one merchant's plan.
#[derive(Debug, Clone, Serialize)]
pub struct MerchantReport {
    /// The merchant's label.
    pub merchant: String,
    /// Every planned change with its outcome, in plan order.
    pub changes: Vec<ChangeReport>,
    /// Deletes of duplicates this run caused (found by verification).
    pub cleaned_up: Vec<Change>,
    /// The verification result.
    pub verification: Verification,
}

impl MerchantReport {
    /// True when every change is done and live matches the manifest.
    pub fn succeeded(&self) -> bool {
        self.changes.iter().all(|c| c.outcome == Outcome::Done)
            && matches!(self.verification, Verification::Converged)
    }
}

/// Applies `plan` (computed from `initial` live state) for one merchant.
/// `progress` is called as each change finishes.
pub async fn apply<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    plan: &MerchantPlan,
    initial: &[LiveSubscription],
    options: ApplyOptions,
    progress: &(dyn Fn(&ChangeReport) + Sync),
) -> MerchantReport {
    // Each report carries its change's index in the plan, to be put back
    // in plan order at the end.
    let mut reports: Vec<(usize, ChangeReport)> = Vec::with_capacity(plan.changes.len());
    let mut failed = false;
    for action in [Action::Create, Action::Update, Action::Delete] {
        let phase: Vec<(usize, &Change)> = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action == action)
            .collect();
        if action == Action::Delete && failed {
            let reason = "not attempted: a create or update failed, so nothing is deleted".to_owned();
            for (index, change) in phase {
                let report = ChangeReport {
                    change: change.clone(),
                    outcome: Outcome::Skipped {
                        reason: reason.clone(),
                    },
                };
                progress(&report);
                reports.push((index, report));
            }
            continue;
        }
        let results: Vec<(usize, ChangeReport)> = stream::iter(phase)
            .map(|(index, change)| async move {
                let outcome = execute(remote, change, options.max_resolutions).await;
                let report = ChangeReport {
                    change: change.clone(),
                    outcome,
                };
                progress(&report);
                (index, report)
            })
            .buffer_unordered(options.parallelism.max(1))
            .collect()
            .await;
        failed |= results.iter().any(|(_, r)| r.outcome != Outcome::Done);
        reports.extend(results);
    }
    reports.sort_by_key(|(index, _)| *index);
    let reports: Vec<ChangeReport> = reports.into_iter().map(|(_, report)| report).collect();

    let known: HashSet<&str> = initial.iter().map(|s| s.id.as_str()).collect();
    let wait = if failed { Duration::ZERO } else { options.wait };
    let (verification, cleaned_up) = verify(remote, manifest, &known, wait, options.poll).await;
    MerchantReport {
        merchant: plan.merchant.clone(),
        changes: reports,
        cleaned_up,
        verification,
    }
}

/// One change, resolving unknown outcomes by reading the live list.
async fn execute<R: Remote>(remote: &R, change: &Change, max_resolutions: u32) -> Outcome {
    let mut resolutions = 0;
    loop {
        let result = match (change.action, &change.after, &change.id) {
            (Action::Create, Some(after), _) => {
                remote
                    .create(&after.topic, &after.name, &after.callback_url)
                    .await
            }
            (Action::Update, Some(after), Some(id)) => {
                remote
                    .update(id, &after.topic, &after.name, &after.callback_url)
                    .await
            }
            (Action::Delete, _, Some(id)) => remote.delete(id, &change.topic).await,
            _ => {
                return Outcome::Failed {
                    reason: "malformed change (missing id or fields)".into(),
                }
            }
        };
        let err = match result {
            Ok(()) => return Outcome::Done,
            Err(err) => err,
        };
        if !err.outcome_unknown() {
            return Outcome::Failed {
                reason: err.to_string(),
            };
        }
        match took_effect(remote, change).await {
            Ok(true) => return Outcome::Done,
            Ok(false) if resolutions < max_resolutions => resolutions += 1,
            Ok(false) => {
                return Outcome::Failed {
                    reason: format!("{err}; the live list does not show the change"),
                }
            }
            Err(list_err) => {
                return Outcome::Failed {
                    reason: format!("{err}; and the outcome could not be checked: {list_err}"),
                }
            }
        }
    }
}

/// After an unknown outcome: does the live list show the change happened?
/// A create may take a moment to become visible (201 is eventually
/// consistent), so a missing create is looked for a few times.
async fn took_effect<R: Remote>(remote: &R, change: &Change) -> Result<bool, ApiError> {
    let looks = if change.action == Action::Create { 4 } else { 1 };
    for look in 0..looks {
        if look > 0 {
            tokio::time::sleep(Duration::from_millis(250 * look)).await;
        }
        let live = remote.list().await?;
        let happened = match (change.action, &change.after) {
            (Action::Create, Some(after)) => live.iter().any(|s| {
                s.topic == after.topic && s.name == after.name && s.callback_url == after.callback_url
            }),
            (Action::Update, Some(after)) => live
                .iter()
                .any(|s| Some(&s.id) == change.id.as_ref() && s.callback_url == after.callback_url),
            (Action::Delete, _) => !live.iter().any(|s| Some(&s.id) == change.id.as_ref()),
            _ => false,
        };
        if happened {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Re-reads until live matches the manifest or `wait` passes; removes
/// duplicates that this run created (ids not in the initial list).
async fn verify<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    known: &HashSet<&str>,
    wait: Duration,
    poll: Duration,
) -> (Verification, Vec<Change>) {
    let deadline = tokio::time::Instant::now() + wait;
    let mut cleaned = Vec::new();
    loop {
        let live = match remote.list().await {
            Ok(live) => live,
            Err(err) => {
                return (
                    Verification::Unknown {
                        reason: err.to_string(),
                    },
                    cleaned,
                )
            }
        };
        let remaining = plan::diff(manifest, &live);
        for extra in remaining.changes.iter().filter(|c| c.duplicate) {
            let Some(id) = extra.id.as_deref().filter(|id| !known.contains(id)) else {
                continue;
            };
            if remote.delete(id, &extra.topic).await.is_ok() {
                cleaned.push(extra.clone());
            }
        }
        if remaining.changes.is_empty() {
            return (Verification::Converged, cleaned);
        }
        if tokio::time::Instant::now() >= deadline {
            return (
                Verification::NotConverged {
                    remaining: remaining.changes,
                },
                cleaned,
            );
        }
        tokio::time::sleep(poll).await;
    }
}
