//! The pure diff: desired state (a [`MerchantManifest`]) and live state (the
//! API's list) in, a [`MerchantPlan`] out. No I/O, no clock; the same inputs
//! give the same plan, sorted by topic, then name.
//!
//! Semantics (README "Plan semantics" and `docs/plan-json.md`), joined on (`topic`, `name`):
//! desired only → create; both with another URL → update; both equal →
//! unchanged; live only and in scope → delete when `prune`, else unmanaged;
//! live matched by `ignore` → ignored, never touched; several live with one
//! key → keep one (the one already matching, else the lowest id) and delete
//! the extras as duplicates. A declared subscription whose key is not live
//! takes over a live one named in its `renamedFrom` (same topic) with one
//! update (README "Renames").

mod change;
mod safety;

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use self::change::{Action, Change, Fields};
use self::safety::safety;
pub use self::safety::{SafetyTrip, Thresholds, SAFETY_MAX_PERCENT, SAFETY_MIN_IN_SCOPE};

use crate::model::{DesiredSubscription, Key, LiveSubscription, Location, MerchantManifest};
/// The plan for every merchant, sorted by merchant label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// One entry per manifest file.
    pub merchants: Vec<MerchantPlan>,
}

impl Plan {
    /// Whether any merchant has a change to make.
    pub fn has_changes(&self) -> bool {
        self.merchants.iter().any(|m| !m.changes.is_empty())
    }

    /// Counts added up over all merchants.
    pub fn total(&self) -> Summary {
        self.merchants
            .iter()
            .fold(Summary::default(), |acc, m| acc + m.summary)
    }
}

/// What one merchant needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPlan {
    /// The merchant's label.
    pub merchant: String,
    /// Creates, updates and deletes, sorted by topic, name, action, id.
    pub changes: Vec<Change>,
    /// Live subscriptions not declared but kept because `prune: false`.
    pub unmanaged: Vec<LiveSubscription>,
    /// Counts of each outcome.
    pub summary: Summary,
    /// Set when `apply` would refuse this plan without `--force`.
    pub safety: Option<SafetyTrip>,
    /// Renames already applied: their `renamedFrom` can go (README "Renames").
    pub renames_applied: Vec<RenameApplied>,
}

/// A `renamedFrom` with nothing left to do: the new key is live and no
/// subscription in scope has the old name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct RenameApplied {
    /// Topic and new name.
    pub key: Key,
    /// The old name.
    pub from: String,
    /// Where the subscription is declared.
    pub location: Location,
}

/// Counts of a plan's outcomes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Subscriptions to create.
    pub create: usize,
    /// Subscriptions to update.
    pub update: usize,
    /// Subscriptions to delete (duplicates included).
    pub delete: usize,
    /// Declared and live, already equal.
    pub unchanged: usize,
    /// Live subscriptions matched by `ignore`.
    pub ignored: usize,
    /// Live, undeclared, kept because `prune: false`.
    pub unmanaged: usize,
}

impl std::ops::Add for Summary {
    type Output = Summary;

    fn add(self, o: Summary) -> Summary {
        Summary {
            create: self.create + o.create,
            update: self.update + o.update,
            delete: self.delete + o.delete,
            unchanged: self.unchanged + o.unchanged,
            ignored: self.ignored + o.ignored,
            unmanaged: self.unmanaged + o.unmanaged,
        }
    }
}

/// Plans one merchant with the built-in [`Thresholds`].
pub fn diff(manifest: &MerchantManifest, live: &[LiveSubscription]) -> MerchantPlan {
    diff_with(manifest, live, &Thresholds::default())
}

/// Plans one merchant: the whole plan semantics in one pure function;
/// `thresholds` decide [`MerchantPlan::safety`].
pub fn diff_with(
    manifest: &MerchantManifest,
    live: &[LiveSubscription],
    thresholds: &Thresholds,
) -> MerchantPlan {
    let mut summary = Summary::default();
    // Live copies joined in a hash map keyed by borrowed (topic, name);
    // the declared subscriptions are visited in file order, last first
    // (the changes are sorted at the end), and a key declared twice (which
    // validation refuses) counts once, its last declaration winning.
    let mut live_by_key: HashMap<(&str, &str), Copies<'_>> = HashMap::with_capacity(live.len());
    for sub in live {
        if manifest.is_ignored(sub) {
            summary.ignored += 1;
        } else {
            let key = (sub.topic.as_str(), sub.name.as_str());
            match live_by_key.entry(key) {
                Entry::Occupied(mut copies) => copies.get_mut().more.push(sub),
                Entry::Vacant(slot) => {
                    slot.insert(Copies {
                        first: sub,
                        more: Vec::new(),
                    });
                }
            }
        }
    }
    let in_scope = live.len() - summary.ignored;

    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut pending = Vec::new();
    let mut renamed_live = Vec::new();
    let mut declared: HashSet<(&str, &str)> = HashSet::with_capacity(manifest.subscriptions.len());
    for want in manifest.subscriptions.iter().rev() {
        let key = (want.topic.as_str(), want.name.as_str());
        if !declared.insert(key) {
            continue;
        }
        match live_by_key.remove(&key) {
            Some(copies) => {
                summary.unchanged += keep_one(copies, want, &mut changes);
                if !want.renamed_from.is_empty() {
                    renamed_live.push(want);
                }
            }
            None => pending.push(want),
        }
    }
    // Renames after every exact match, in key order: an old name that is
    // also declared is never taken, and two claims resolve the same way on
    // every run (validation refuses both, README "Renames").
    pending.sort_by(|a, b| (&a.topic, &a.name).cmp(&(&b.topic, &b.name)));
    for want in pending {
        let old = want
            .renamed_from
            .iter()
            .find_map(|old| live_by_key.remove(&(want.topic.as_str(), old.as_str())));
        match old {
            Some(copies) => summary.unchanged += keep_one(copies, want, &mut changes),
            None => changes.push(create(want)),
        }
    }
    let renames_applied = renames_applied(&renamed_live, live);
    for copies in live_by_key.into_values() {
        let mut copies = copies.into_vec();
        copies.sort_by(|a, b| a.id.cmp(&b.id));
        if manifest.prune {
            changes.extend(copies.into_iter().map(|s| delete(s, false)));
        } else {
            unmanaged.extend(copies.into_iter().cloned());
        }
    }
    changes.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    unmanaged.sort();

    for change in &changes {
        match change.action() {
            Action::Create => summary.create += 1,
            Action::Update => summary.update += 1,
            Action::Delete => summary.delete += 1,
        }
    }
    summary.unmanaged = unmanaged.len();
    let safety = safety(&summary, in_scope, manifest.subscriptions.is_empty(), thresholds);
    MerchantPlan {
        merchant: manifest.label.clone(),
        changes,
        unmanaged,
        summary,
        safety,
        renames_applied,
    }
}

/// The live subscriptions with one (topic, name): most keys have one.
struct Copies<'a> {
    first: &'a LiveSubscription,
    /// Duplicates, in list order.
    more: Vec<&'a LiveSubscription>,
}

impl<'a> Copies<'a> {
    fn into_vec(self) -> Vec<&'a LiveSubscription> {
        let mut all = Vec::with_capacity(1 + self.more.len());
        all.push(self.first);
        all.extend(self.more);
        all
    }
}

/// Keeps one of the live `copies` of `want` (the one with its URL, else the
/// lowest id), updating it when its name or URL differs, and deletes the
/// others as duplicates. Returns 1 when the kept one is already equal.
/// The lowest id is only a deterministic tie-break among copies that were
/// all live when the plan was made: whose copy survives a run's own
/// duplicate is apply's verification's decision, by owner (`apply::verify`).
fn keep_one(copies: Copies<'_>, want: &DesiredSubscription, changes: &mut Vec<Change>) -> usize {
    let kept = if copies.more.is_empty() {
        copies.first
    } else {
        let mut copies = copies.into_vec();
        copies.sort_by(|a, b| a.id.cmp(&b.id));
        let keep = copies
            .iter()
            .position(|s| s.callback_url == want.callback_url)
            .unwrap_or(0);
        let kept = copies.remove(keep);
        changes.extend(copies.into_iter().map(|extra| delete(extra, true)));
        kept
    };
    if kept.callback_url == want.callback_url && kept.name == want.name {
        1
    } else {
        changes.push(update(kept, want));
        0
    }
}

/// The `renamedFrom` names of `renamed` (declared and live under their
/// new key) that no live subscription has any more, ignored ones included.
fn renames_applied(renamed: &[&DesiredSubscription], live: &[LiveSubscription]) -> Vec<RenameApplied> {
    let mut done: Vec<RenameApplied> = renamed
        .iter()
        .flat_map(|want| {
            want.renamed_from
                .iter()
                .filter(|old| !live.iter().any(|s| s.topic == want.topic && s.name == **old))
                .map(|old| RenameApplied {
                    key: want.key(),
                    from: old.clone(),
                    location: want.location.clone(),
                })
        })
        .collect();
    done.sort();
    done
}

/// Plans every merchant from (manifest, live list) pairs; the plan is
/// sorted by merchant label.
pub fn diff_all<'a>(
    merchants: impl IntoIterator<Item = (&'a MerchantManifest, &'a [LiveSubscription])>,
) -> Plan {
    diff_all_with(merchants, &Thresholds::default())
}

/// [`diff_all`] with the given [`Thresholds`].
pub fn diff_all_with<'a>(
    merchants: impl IntoIterator<Item = (&'a MerchantManifest, &'a [LiveSubscription])>,
    thresholds: &Thresholds,
) -> Plan {
    let mut merchants: Vec<MerchantPlan> = merchants
        .into_iter()
        .map(|(m, l)| diff_with(m, l, thresholds))
        .collect();
    merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    Plan { merchants }
}

fn create(want: &DesiredSubscription) -> Change {
    Change::Create { after: want.into() }
}

fn update(live: &LiveSubscription, want: &DesiredSubscription) -> Change {
    Change::Update {
        id: live.id.clone(),
        before: live.into(),
        after: want.into(),
    }
}

fn delete(live: &LiveSubscription, duplicate: bool) -> Change {
    Change::Delete {
        id: live.id.clone(),
        before: live.into(),
        duplicate,
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
