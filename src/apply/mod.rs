//! Executes a [`MerchantPlan`] through a [`Remote`]: the only code that changes the remote.
//! Whether to run is [`gate`]'s decision; in what order across a fleet, [`waves`]'.

mod report;
mod resolve;
mod verify;

pub mod gate;
pub mod waves;

use std::future::Future;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use tokio::time::Instant;

pub use self::report::{
    ChangeReport, MerchantReport, Outcome, Refusal, Rewrite, RunReport, Status, Verification,
};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{Action, Change, Fields, MerchantPlan};
pub use crate::stop::Stop;

/// The four calls apply needs: `api::Client`, or `apply::fake` in tests.
pub trait Remote: Sync {
    type Error: CallError;
    fn list(&self) -> impl Future<Output = Result<Vec<LiveSubscription>, Self::Error>> + Send;
    /// POST one subscription; the id the server gave it, when it says.
    fn create(&self, new: &Fields) -> impl Future<Output = Result<Option<String>, Self::Error>> + Send;
    fn update(&self, id: &str, new: &Fields) -> impl Future<Output = Result<(), Self::Error>> + Send;
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

#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Calls in flight per phase (at least 1).
    pub parallelism: usize,
    /// How long resolution and verification wait for live to show a change.
    pub wait: Duration,
    /// Pause between their reads.
    pub poll: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        Self {
            parallelism: 4,
            wait: Duration::from_secs(30),
            poll: Duration::from_millis(500),
        }
    }
}

/// Applies one merchant's `plan` (made from `initial`): creates, updates, then deletes (none
/// after a failure), `parallelism` calls in flight; then [`verify`]. `progress` hears each.
pub async fn apply<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    plan: &MerchantPlan,
    initial: &[LiveSubscription],
    options: ApplyOptions,
    stop: &Stop,
    progress: &(dyn Fn(&ChangeReport) + Sync),
) -> MerchantReport {
    let mut reports: Vec<Option<ChangeReport>> = vec![None; plan.changes.len()];
    let initial = initial.iter().map(|s| s.id.as_str()).collect();
    let mut ids = verify::KnownIds {
        initial,
        ..Default::default()
    };
    let mut failed = false;
    for action in [Action::Create, Action::Update, Action::Delete] {
        let phase = plan
            .changes
            .iter()
            .enumerate()
            .filter(|(_, c)| c.action() == action);
        let (known, skip) = (&ids.initial, action == Action::Delete && failed);
        let results: Vec<_> = stream::iter(phase)
            .map(|(index, change)| async move {
                let (outcome, created) = if skip {
                    (Outcome::Skipped(SKIPPED.to_owned()), None)
                } else {
                    resolve::execute(remote, change, known, options, stop).await
                };
                let report = ChangeReport {
                    change: change.clone(),
                    outcome,
                };
                progress(&report);
                (index, report, created)
            })
            .buffer_unordered(options.parallelism.max(1))
            .collect()
            .await;
        for (index, report, created) in results {
            // Not started is no failure: after a stop the deletes are not started, not skipped.
            failed |= !(report.outcome.is_done() || report.outcome == Outcome::NotStarted);
            match (&plan.changes[index], created, &report.outcome) {
                (Change::Create { after }, Some((id, by_values)), _) => {
                    if by_values {
                        ids.by_values.push(after);
                    }
                    ids.sent.insert(id.clone(), after);
                    ids.created.insert(id);
                }
                (Change::Create { after }, None, Outcome::Done) => ids.unclaimed.push(after),
                (Change::Update { id, after, .. }, _, Outcome::Done) => {
                    ids.sent.insert(id.clone(), after);
                }
                _ => {}
            }
            reports[index] = Some(report);
        }
    }
    let (verification, cleaned_up) = verify::verify(remote, manifest, &mut ids, failed, options, stop).await;
    MerchantReport {
        merchant: plan.merchant.clone(),
        changes: reports.into_iter().flatten().collect(),
        cleaned_up,
        verification,
        interrupted: stop.requested(),
    }
}

const SKIPPED: &str = "not attempted: a create or update failed, so nothing is deleted";

/// Whether `s` holds `fields`' values: a create of them, once it shows.
fn holds(s: &LiveSubscription, fields: &Fields) -> bool {
    (&s.topic, &s.name, &s.callback_url) == (&fields.topic, &fields.name, &fields.callback_url)
}

/// `wait` from now, bounded (a day at most) so that no value overflows.
fn deadline(wait: Duration) -> Instant {
    Instant::now() + wait.min(Duration::from_secs(86_400))
}

/// The live list, read again every `poll` until `deadline` while unreadable; `None` after a stop.
async fn read<R: Remote>(
    remote: &R,
    deadline: Instant,
    poll: Duration,
    stop: &Stop,
) -> Option<Result<Vec<LiveSubscription>, R::Error>> {
    while !stop.requested() {
        match remote.list().await {
            Err(_) if Instant::now() < deadline => pause(deadline, poll, stop).await,
            result => return Some(result),
        }
    }
    None
}

/// Waits `poll`, or until `deadline` or a stop if sooner.
async fn pause(deadline: Instant, poll: Duration, stop: &Stop) {
    let _ = stop
        .sleep(poll.min(deadline.saturating_duration_since(Instant::now())))
        .await;
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;
