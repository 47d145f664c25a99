//! Executes a [`MerchantPlan`] through a [`Remote`]: the only code that changes the remote.
//! Whether to run is [`gate`]'s decision; in what order across a fleet, [`waves`]'.

mod report;
mod verify;

pub mod gate;
pub mod waves;

use std::collections::HashSet;
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
        let phase = (plan.changes.iter().enumerate()).filter(|(_, c)| c.action() == action);
        let (known, skip) = (&ids.initial, action == Action::Delete && failed);
        let results: Vec<_> = stream::iter(phase)
            .map(|(index, change)| async move {
                let (outcome, created) = if skip {
                    (Outcome::Skipped(SKIPPED.to_owned()), None)
                } else {
                    execute(remote, change, known, options, stop).await
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
                    ids.by_values.extend(by_values.then_some(after));
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
    let _ = (stop.sleep(poll.min(deadline.saturating_duration_since(Instant::now())))).await;
}

/// An unknown outcome cut short by a stop: no request starts after one.
const UNCHECKED: &str =
    "interrupted before the outcome could be checked; `invhooks plan` shows whether it happened";

/// How often an unknown outcome is resolved and the call sent again.
const MAX_RESOLUTIONS: u32 = 3;

/// Makes `change`'s call: an unknown outcome (a write's 5xx, timeout or dropped connection; a
/// DELETE's 400 or 404) is resolved by re-reading the list before sending again, so a create
/// is never sent twice. Its outcome, and for a create the id made and whether it was found by
/// values (maybe an older copy; never one of `known`). After a stop what did not start, or
/// certainly had no effect, is `not started`.
async fn execute<R: Remote>(
    remote: &R,
    change: &Change,
    known: &HashSet<&str>,
    options: ApplyOptions,
    stop: &Stop,
) -> (Outcome, Option<(String, bool)>) {
    let failed = |reason| (Outcome::Failed(reason), None);
    let mut resolutions = 0;
    loop {
        if stop.requested() {
            return (Outcome::NotStarted, None);
        }
        let result = match change {
            Change::Create { after } => remote.create(after).await,
            Change::Update { id, after, .. } => remote.update(id, after).await.map(|()| None),
            Change::Delete { id, before, .. } => remote.delete(id, &before.topic).await.map(|()| None),
        };
        let err = match result {
            Ok(created) => return (Outcome::Done, created.map(|id| (id, false))),
            Err(err) if err.is_interrupted() && !err.outcome_unknown() => return (Outcome::NotStarted, None),
            Err(err) => err,
        };
        // A DELETE answered 400 or 404 may have raced another deleter: a
        // fresh read tells (docs/reliability.md). Never resent.
        let gone = matches!(change, Change::Delete { .. }) && err.is_not_found();
        if !err.outcome_unknown() && !gone {
            return failed(err.to_string());
        }
        match took_effect(remote, change, known, options, stop).await {
            Ok(None) | Err(_) if stop.requested() => return failed(format!("{err}; {UNCHECKED}")),
            Ok(Some(_)) if gone => {
                let reason = format!("already gone: {err}; a fresh read no longer lists it");
                return (Outcome::AlreadyGone(reason), None);
            }
            Ok(None) if gone => return failed(format!("{err}; a fresh read still lists it")),
            Ok(Some(created)) => return (Outcome::Done, created.map(|id| (id, true))),
            Ok(None) if resolutions < MAX_RESOLUTIONS => resolutions += 1,
            Ok(None) => return failed(format!("{err}; the live list does not show the change")),
            Err(list_err) => {
                return failed(format!("{err}; and the outcome could not be checked: {list_err}"))
            }
        }
    }
}

/// `Some(id)` if the live list shows the change happened (the new id for a
/// create, looked for until `options.wait`: 201 is eventually consistent;
/// an update or delete in one read). A stop: `Ok(None)`.
async fn took_effect<R: Remote>(
    remote: &R,
    change: &Change,
    known: &HashSet<&str>,
    options: ApplyOptions,
    stop: &Stop,
) -> Result<Option<Option<String>>, R::Error> {
    let deadline = deadline(options.wait);
    while let Some(live) = read(remote, deadline, options.poll, stop).await {
        if let Some(found) = shows(change, &live?, known) {
            return Ok(Some(found));
        }
        if !matches!(change, Change::Create { .. }) || Instant::now() >= deadline {
            break;
        }
        pause(deadline, options.poll, stop).await;
    }
    Ok(None)
}

/// Whether `live` shows `change` done: `Some(created id)` if it does.
fn shows(change: &Change, live: &[LiveSubscription], known: &HashSet<&str>) -> Option<Option<String>> {
    let listed = |id: &String| live.iter().find(|s| &s.id == id);
    match change {
        Change::Create { after } => live
            .iter()
            .find(|s| !known.contains(s.id.as_str()) && holds(s, after))
            .map(|s| Some(s.id.clone())),
        Change::Update { id, after, .. } => listed(id)
            .is_some_and(|s| s.name == after.name && s.callback_url == after.callback_url)
            .then_some(None),
        Change::Delete { id, .. } => listed(id).is_none().then_some(None),
    }
}

#[cfg(test)]
pub(crate) mod fake;
#[cfg(test)]
mod tests;
