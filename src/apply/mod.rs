//! Executes a [`MerchantPlan`] through a [`Remote`]: the only code that
//! changes the remote. Creates, then updates, then deletes, each phase with
//! up to `parallelism` calls in flight; no delete runs after a failed create
//! or update; unknown outcomes are resolved by re-reading the live list
//! ([`resolve`]); a verification pass re-reads until live matches the
//! manifest ([`verify`]). Whether to run at all is [`gate`]'s decision;
//! in what order across a fleet, [`waves`]'.

mod fleet;
mod outcome;
mod resolve;
mod verify;

pub mod gate;
pub mod waves;

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};

pub use self::fleet::{Refusal, RunReport, Status, Stores};
pub use self::outcome::{ChangeReport, MerchantReport, Outcome, Rewrite, Tally, Verification};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{Action, Change, MerchantPlan};
pub use crate::stop::Stop;

/// The four calls apply needs; `api::Client` is the real one, and
/// `apply::fake` (tests) a scriptable in-memory one.
pub trait Remote: Sync {
    /// Why a call failed.
    type Error: CallError;
    /// All live subscriptions.
    fn list(&self) -> impl Future<Output = Result<Vec<LiveSubscription>, Self::Error>> + Send;
    /// POST one subscription; the id the server gave it, when it says.
    fn create(
        &self,
        topic: &str,
        name: &str,
        url: &str,
    ) -> impl Future<Output = Result<Option<String>, Self::Error>> + Send;
    /// PUT a subscription's URL and name.
    fn update(
        &self,
        id: &str,
        topic: &str,
        name: &str,
        url: &str,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;
    /// DELETE a subscription.
    fn delete(&self, id: &str, topic: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;
}

/// What apply must know of a failed call.
pub trait CallError: std::fmt::Display + Send {
    /// The call may have taken effect: re-read the list before deciding.
    fn outcome_unknown(&self) -> bool;
    /// The run's stop came before the call was sent (or sent again).
    fn is_interrupted(&self) -> bool;
    /// A 400 or 404: for a DELETE, the id may be gone already.
    fn is_not_found(&self) -> bool;
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
    apply_until(
        remote,
        manifest,
        plan,
        initial,
        options,
        &Stop::default(),
        progress,
    )
    .await
}

/// [`apply`] that starts no new call once `stop` is requested.
pub async fn apply_until<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    plan: &MerchantPlan,
    initial: &[LiveSubscription],
    options: ApplyOptions,
    stop: &Stop,
    progress: &(dyn Fn(&ChangeReport) + Sync),
) -> MerchantReport {
    // Each report carries its change's index in the plan, to be put back
    // in plan order at the end.
    let mut reports: Vec<(usize, ChangeReport)> = Vec::with_capacity(plan.changes.len());
    let mut ids = verify::Ids {
        initial: initial.iter().map(|s| s.id.as_str()).collect(),
        created: HashSet::new(),
        unclaimed: Vec::new(),
        sent: HashMap::new(),
    };
    let mut failed = false;
    for action in [Action::Create, Action::Update, Action::Delete] {
        let phase = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action() == action);
        if action == Action::Delete && failed {
            reports.extend(phase.map(|(index, change)| {
                let report = skipped(change);
                progress(&report);
                (index, report)
            }));
            continue;
        }
        let known = &ids.initial;
        let results: Vec<(usize, ChangeReport, Option<String>)> = stream::iter(phase)
            .map(|(index, change)| async move {
                let executed = resolve::execute(remote, change, known, options, stop).await;
                let report = ChangeReport {
                    change: change.clone(),
                    outcome: executed.outcome,
                };
                progress(&report);
                (index, report, executed.created)
            })
            .buffer_unordered(options.parallelism.max(1))
            .collect()
            .await;
        for (index, report, created) in results {
            // Not started is no failure: after an interrupt the deletes are
            // not started either (`Stop`), not skipped for a failure.
            failed |= !(report.outcome.is_done() || report.outcome == Outcome::NotStarted);
            match (&plan.changes[index], created, &report.outcome) {
                (Change::Create { after }, Some(id), _) => {
                    ids.sent.insert(id.clone(), after);
                    ids.created.insert(id);
                }
                (Change::Create { after }, None, Outcome::Done) => ids.unclaimed.push(after),
                (Change::Update { id, after, .. }, _, Outcome::Done) => {
                    ids.sent.insert(id.clone(), after);
                }
                _ => {}
            }
            reports.push((index, report));
        }
    }
    reports.sort_by_key(|(index, _)| *index);
    let reports: Vec<ChangeReport> = reports.into_iter().map(|(_, report)| report).collect();

    // A run that will not converge reads once, or, when it created
    // something, until its creates show (README "What apply promises");
    // an interrupted one reads nothing (`verify` ends at the stop).
    let (until, wait) = match (
        failed || stop.requested(),
        ids.created.is_empty() && ids.unclaimed.is_empty(),
    ) {
        (false, _) => (verify::Until::Converged, options.wait),
        (true, false) => (verify::Until::OwnCreatesShow, options.wait),
        (true, true) => (verify::Until::OwnCreatesShow, Duration::ZERO),
    };
    let (verification, cleaned_up) =
        verify::verify(remote, manifest, &mut ids, until, wait, options.poll, stop).await;
    MerchantReport {
        merchant: plan.merchant.clone(),
        changes: reports,
        cleaned_up,
        verification,
        interrupted: stop.requested(),
    }
}

/// `wait` from now, bounded (a day at most) so that no value overflows.
fn deadline(wait: Duration) -> tokio::time::Instant {
    tokio::time::Instant::now() + wait.min(Duration::from_secs(86_400))
}

/// The report of a delete not attempted because a create or update failed.
fn skipped(change: &Change) -> ChangeReport {
    ChangeReport {
        change: change.clone(),
        outcome: Outcome::Skipped {
            reason: "not attempted: a create or update failed, so nothing is deleted".to_owned(),
        },
    }
}
