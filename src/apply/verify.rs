//! Verification: re-read the list until it matches the manifest (a 201 is
//! eventually consistent); this run's own duplicates go, another writer's are only reported.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::{holds, ApplyOptions, Remote, Rewrite, Stop, Verification};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{self, Change, Fields};

/// Ids the run knows about: identity is by id, never by values.
#[derive(Debug, Default)]
pub(super) struct KnownIds<'a> {
    /// Live before the run.
    pub initial: HashSet<&'a str>,
    /// Created by this run (from the 201 body or found by resolution).
    pub created: HashSet<String>,
    /// Creates done whose id the server did not say: claimed from the first new match seen.
    pub unclaimed: Vec<&'a Fields>,
    /// What this run sent for each id it created or updated.
    pub sent: HashMap<String, &'a Fields>,
    /// Creates found by their values: the copy taken may be an older one (seed 472), so
    /// every new copy holding them is this run's, read for until `--wait`.
    pub by_values: Vec<&'a Fields>,
}

impl KnownIds<'_> {
    fn claim(&mut self, live: &[LiveSubscription]) {
        let (initial, created, by_values) = (&self.initial, &mut self.created, &mut self.by_values);
        self.unclaimed.retain(|want| {
            let new = |s: &&LiveSubscription| !initial.contains(s.id.as_str()) && !created.contains(&s.id);
            match live.iter().filter(new).find(|s| holds(s, want)) {
                Some(s) => {
                    created.insert(s.id.clone());
                    by_values.push(*want);
                    false
                }
                None => true,
            }
        });
    }

    /// Every create of this run is claimed and listed (or `removed`), none found by values.
    fn settled(&self, live: &[LiveSubscription], removed: &HashSet<&str>) -> bool {
        let shows = |id: &String| removed.contains(id.as_str()) || live.iter().any(|s| &s.id == id);
        self.unclaimed.is_empty() && self.by_values.is_empty() && self.created.iter().all(shows)
    }

    /// This run's own extra copies of a key (by whose, never by id order): all of them when
    /// another copy has the declared values, else all but one (docs/reliability.md).
    pub(super) fn surplus<'l>(
        &self,
        manifest: &MerchantManifest,
        live: &'l [LiveSubscription],
    ) -> Vec<&'l LiveSubscription> {
        let ours = |s: &&LiveSubscription| {
            self.created.contains(&s.id)
                || (!self.initial.contains(s.id.as_str()) && self.by_values.iter().any(|f| holds(s, f)))
        };
        let mut copies = plan::by_key(manifest, live);
        let mut surplus = Vec::new();
        for want in &manifest.subscriptions {
            let same = copies.remove(&(want.topic.as_str(), want.name.as_str()));
            let equal = |s: &&LiveSubscription| s.name == want.name && s.callback_url == want.callback_url;
            let (mut mine, theirs): (Vec<_>, Vec<_>) = same.unwrap_or_default().into_iter().partition(ours);
            if !mine.is_empty() && !theirs.iter().any(equal) {
                // Keep one of this run's own: one with the declared values
                // if any (which one among equals is only a tie-break).
                mine.sort_by_key(|s| (!equal(s), &s.id));
                mine.remove(0);
            }
            surplus.extend(mine);
        }
        surplus
    }

    /// Another writer's.
    fn foreign(&self, id: &str) -> bool {
        !self.initial.contains(id) && !self.created.contains(id)
    }

    /// Values the server stored other than sent (trimmed, lowercased), by id.
    fn rewrites(&self, live: &[LiveSubscription]) -> Vec<Rewrite> {
        let mut rewrites: Vec<Rewrite> = (live.iter())
            .filter_map(|s| Some((s, *self.sent.get(&s.id)?)))
            .flat_map(|(s, sent)| {
                [
                    ("name", &sent.name, &s.name),
                    ("callbackUrl", &sent.callback_url, &s.callback_url),
                ]
                .into_iter()
                .filter(|(_, sent, stored)| sent != stored)
                .map(|(field, sent_value, stored)| Rewrite {
                    id: s.id.clone(),
                    field,
                    sent: sent_value.clone(),
                    stored: stored.clone(),
                    masking: sent.masking,
                })
            })
            .collect();
        rewrites.sort_by(|a, b| (&a.id, a.field).cmp(&(&b.id, b.field)));
        rewrites
    }
}

const INTERRUPTED: &str = "interrupted before live was read again; `invhooks plan` shows where things stand";

/// Re-reads until live matches or `wait` passes (early when waiting changes nothing),
/// deleting this run's duplicates. A run that `failed` or stopped reads until its own
/// creates show, so a re-run plans with them. A stop ends it at once.
pub(super) async fn verify<R: Remote>(
    remote: &R,
    manifest: &MerchantManifest,
    ids: &mut KnownIds<'_>,
    failed: bool,
    options: ApplyOptions,
    stop: &Stop,
) -> (Verification, Vec<Change>) {
    let converge = !failed && !stop.requested();
    let created = !(ids.created.is_empty() && ids.unclaimed.is_empty());
    let wait = [Duration::ZERO, options.wait][usize::from(converge || created)];
    let (deadline, poll) = (super::deadline(wait), options.poll);
    let mut cleaned = Vec::new();
    let mut last = None;
    loop {
        let live = match super::read(remote, deadline, poll, stop).await {
            Some(Ok(live)) => live,
            Some(Err(err)) => {
                let reason = err.to_string();
                return (Verification::Unknown { reason }, cleaned);
            }
            None => {
                let reason = INTERRUPTED.to_owned();
                return (last.unwrap_or(Verification::Unknown { reason }), cleaned);
            }
        };
        ids.claim(&live);
        for extra in ids.surplus(manifest, &live) {
            if stop.requested() {
                break;
            }
            if cleaned.iter().any(|c: &Change| c.id() == Some(extra.id.as_str())) {
                continue;
            }
            if remote.delete(&extra.id, &extra.topic).await.is_ok() {
                cleaned.push(Change::delete(extra, true));
            }
        }
        // The plan that remains once this run's extra copies are gone.
        let removed: HashSet<&str> = cleaned.iter().filter_map(Change::id).collect();
        let (gone, kept): (Vec<_>, Vec<_>) =
            (live.iter().cloned()).partition(|s| removed.contains(s.id.as_str()));
        let remaining = plan::diff(manifest, &kept).changes;
        // Until this run's own creates show, an older copy may stand in for one.
        let late = tokio::time::Instant::now() >= deadline;
        let settled = ids.settled(&live, &removed) || late;
        // A duplicate deleted but still listed needs another look.
        if remaining.is_empty() && gone.is_empty() && settled {
            return (Verification::Converged, cleaned);
        }
        let foreign = (remaining.iter().filter_map(Change::id)).filter(|id| ids.foreign(id));
        let mut foreign: Vec<String> = foreign.map(str::to_owned).collect();
        foreign.sort();
        let rewrites = ids.rewrites(&live);
        // Another writer's subscriptions, or values the server rewrote, will not change by waiting.
        let rewritten = |c: &Change| match c {
            Change::Create { after } => rewrites.iter().any(|r| ids.sent.get(&r.id) == Some(&after)),
            _ => c.id().is_some_and(|id| rewrites.iter().any(|r| r.id == id)),
        };
        let explained = |c: &Change| c.id().is_some_and(|id| ids.foreign(id)) || rewritten(c);
        let stuck = !remaining.is_empty() && remaining.iter().all(explained);
        let enough = !converge && settled;
        let verification = Verification::NotConverged {
            remaining,
            foreign,
            rewrites,
        };
        if stuck || enough || late {
            return (verification, cleaned);
        }
        last = Some(verification);
        super::pause(deadline, poll, stop).await;
    }
}
