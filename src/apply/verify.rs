//! Verification: after the calls, re-read the live list until it matches
//! the manifest or the wait runs out (Inveterate's 201 is eventually
//! consistent), removing duplicates this run caused.

use std::collections::HashSet;
use std::time::Duration;

use super::{Remote, Verification};
use crate::model::MerchantManifest;
use crate::plan::{self, Change};

/// Re-reads until live matches the manifest or `wait` passes; removes
/// duplicates that this run created (ids not in the initial list).
pub(super) async fn verify<R: Remote>(
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
                let reason = err.to_string();
                return (Verification::Unknown { reason }, cleaned);
            }
        };
        let remaining = plan::diff(manifest, &live);
        for extra in remaining.changes.iter().filter(|c| c.is_duplicate()) {
            let (Some(id), topic) = (extra.id().filter(|id| !known.contains(id)), extra.topic()) else {
                continue;
            };
            if remote.delete(id, topic).await.is_ok() {
                cleaned.push(extra.clone());
            }
        }
        if remaining.changes.is_empty() {
            return (Verification::Converged, cleaned);
        }
        if tokio::time::Instant::now() >= deadline {
            let remaining = remaining.changes;
            return (Verification::NotConverged { remaining }, cleaned);
        }
        tokio::time::sleep(poll).await;
    }
}
