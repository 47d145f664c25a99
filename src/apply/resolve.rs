//! One call of a plan, and what to do when its outcome is unknown (a 500,
//! a timeout, a dropped connection on a write): re-read the live list to
//! learn whether it happened before sending it again, so a create is never
//! sent twice and a change that happened is never reported as failed.

use std::time::Duration;

use super::{Outcome, Remote};
use crate::api::ApiError;
use crate::plan::Change;

/// Makes `change`'s call, resolving unknown outcomes by reading the list
/// up to `max_resolutions` times before repeating it.
pub(super) async fn execute<R: Remote>(remote: &R, change: &Change, max_resolutions: u32) -> Outcome {
    let mut resolutions = 0;
    loop {
        let result = match change {
            Change::Create { after } => remote
                .create(&after.topic, &after.name, &after.callback_url)
                .await
                .map(drop),
            Change::Update { id, after, .. } => {
                remote
                    .update(id, &after.topic, &after.name, &after.callback_url)
                    .await
            }
            Change::Delete { id, before, .. } => remote.delete(id, &before.topic).await,
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
    let looks = if matches!(change, Change::Create { .. }) {
        4
    } else {
        1
    };
    for look in 0..looks {
        if look > 0 {
            tokio::time::sleep(Duration::from_millis(250 * look)).await;
        }
        let live = remote.list().await?;
        let happened = match change {
            Change::Create { after } => live.iter().any(|s| {
                s.topic == after.topic && s.name == after.name && s.callback_url == after.callback_url
            }),
            Change::Update { id, after, .. } => live
                .iter()
                .any(|s| &s.id == id && s.name == after.name && s.callback_url == after.callback_url),
            Change::Delete { id, .. } => !live.iter().any(|s| &s.id == id),
        };
        if happened {
            return Ok(true);
        }
    }
    Ok(false)
}
