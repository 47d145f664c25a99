//! One call of a plan. An unknown outcome (a write's 5xx, timeout or dropped connection;
//! a DELETE's 400 or 404) is resolved by re-reading the list before sending again, so a
//! create is never sent twice and a change that happened is never reported failed.

use std::collections::HashSet;

use tokio::time::Instant;

use super::{ApplyOptions, CallError, Outcome, Remote, Stop};
use crate::model::LiveSubscription;
use crate::plan::Change;

/// An unknown outcome cut short by a stop: no request starts after one.
const UNCHECKED: &str =
    "interrupted before the outcome could be checked; `invhooks plan` shows whether it happened";

/// How often an unknown outcome is resolved and the call sent again.
const MAX_RESOLUTIONS: u32 = 3;

/// Makes `change`'s call: its outcome and, for a create, the id it made and whether it was
/// found by values after an unknown outcome (maybe an older copy; never one of `known`).
/// After a stop what did not start, or certainly had no effect, is `not started`.
pub(super) async fn execute<R: Remote>(
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
    let deadline = super::deadline(options.wait);
    while let Some(live) = super::read(remote, deadline, options.poll, stop).await {
        if let Some(found) = shows(change, &live?, known) {
            return Ok(Some(found));
        }
        if !matches!(change, Change::Create { .. }) || Instant::now() >= deadline {
            break;
        }
        super::pause(deadline, options.poll, stop).await;
    }
    Ok(None)
}

/// Whether `live` shows `change` done: `Some(created id)` if it does.
fn shows(change: &Change, live: &[LiveSubscription], known: &HashSet<&str>) -> Option<Option<String>> {
    let listed = |id: &String| live.iter().find(|s| &s.id == id);
    match change {
        Change::Create { after } => live
            .iter()
            .find(|s| !known.contains(s.id.as_str()) && super::holds(s, after))
            .map(|s| Some(s.id.clone())),
        Change::Update { id, after, .. } => listed(id)
            .is_some_and(|s| s.name == after.name && s.callback_url == after.callback_url)
            .then_some(None),
        Change::Delete { id, .. } => listed(id).is_none().then_some(None),
    }
}
