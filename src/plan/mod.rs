//! The pure diff: manifest and live list in, [`MerchantPlan`] out, joined on
//! (`topic`, `name`) or a `renamedFrom` name (docs/renames.md).

mod safety;

use std::collections::{HashMap, HashSet};

use serde::{Deserialize, Serialize};

pub use self::safety::{SafetyTrip, Thresholds};
use crate::model::{DesiredSubscription, LiveSubscription, Location, MerchantManifest};
use crate::secret::Masking;

/// The plan for every merchant, sorted by merchant label.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    pub merchants: Vec<MerchantPlan>,
}

impl Plan {
    pub fn has_changes(&self) -> bool {
        self.merchants.iter().any(|m| !m.changes.is_empty())
    }

    pub fn total(&self) -> Summary {
        let sum = |count: fn(&Summary) -> usize| self.merchants.iter().map(|m| count(&m.summary)).sum();
        Summary {
            create: sum(|s| s.create),
            update: sum(|s| s.update),
            delete: sum(|s| s.delete),
            unchanged: sum(|s| s.unchanged),
            ignored: sum(|s| s.ignored),
            unmanaged: sum(|s| s.unmanaged),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPlan {
    pub merchant: String,
    /// Creates, updates and deletes, sorted by topic, name, action, id.
    pub changes: Vec<Change>,
    /// Live subscriptions not declared but kept because `prune: false`.
    pub unmanaged: Vec<LiveSubscription>,
    pub summary: Summary,
    /// Set when `apply` would refuse this plan without `--force`.
    pub safety: Option<SafetyTrip>,
    pub renames_applied: Vec<RenameApplied>,
}

/// A `renamedFrom` that can go: the new key is live, the old name is not.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RenameApplied {
    pub topic: String,
    /// The new name.
    pub name: String,
    #[serde(rename = "renamedFrom")]
    pub from: String,
    #[serde(rename = "line", with = "crate::model::line")]
    pub location: Location,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub create: usize,
    pub update: usize,
    /// Duplicates included.
    pub delete: usize,
    pub unchanged: usize,
    pub ignored: usize,
    pub unmanaged: usize,
}

/// The kind of call a change makes: POST, PUT or DELETE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Create,
    Update,
    Delete,
}

impl Action {
    /// The symbol text output uses.
    pub fn symbol(self) -> char {
        ['+', '~', '-'][self as usize]
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.serialize(f) // serde's names: `create`, `update`, `delete`
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fields {
    pub topic: String,
    pub name: String,
    /// Unmasked: renderers mask it.
    pub callback_url: String,
    /// The entry's `maskPathSecrets` (written only when `false`).
    #[serde(rename = "maskPathSecrets", default, skip_serializing_if = "Masking::is_full")]
    pub masking: Masking,
}

impl From<&LiveSubscription> for Fields {
    fn from(s: &LiveSubscription) -> Self {
        Self {
            topic: s.topic.clone(),
            name: s.name.clone(),
            callback_url: s.callback_url.clone(),
            masking: Masking::Full,
        }
    }
}

impl From<&DesiredSubscription> for Fields {
    fn from(s: &DesiredSubscription) -> Self {
        Self {
            topic: s.topic.clone(),
            name: s.name.clone(),
            callback_url: s.callback_url.clone(),
            masking: s.masking,
        }
    }
}

/// One call to make; each variant carries exactly what its call needs.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    Create {
        after: Fields,
    },
    Update {
        id: String,
        before: Fields,
        after: Fields,
    },
    /// DELETE the live subscription `id`; `duplicate`: an extra copy of a
    /// subscription that is kept.
    Delete {
        id: String,
        before: Fields,
        duplicate: bool,
    },
}

impl Change {
    pub fn action(&self) -> Action {
        match self {
            Change::Create { .. } => Action::Create,
            Change::Update { .. } => Action::Update,
            Change::Delete { .. } => Action::Delete,
        }
    }

    fn subject(&self) -> &Fields {
        match self {
            Change::Create { after } => after,
            Change::Update { before, .. } | Change::Delete { before, .. } => before,
        }
    }

    pub fn topic(&self) -> &str {
        &self.subject().topic
    }

    /// The live name for an update.
    pub fn name(&self) -> &str {
        &self.subject().name
    }

    pub fn id(&self) -> Option<&str> {
        match self {
            Change::Create { .. } => None,
            Change::Update { id, .. } | Change::Delete { id, .. } => Some(id),
        }
    }

    pub fn before(&self) -> Option<&Fields> {
        match self {
            Change::Create { .. } => None,
            Change::Update { before, .. } | Change::Delete { before, .. } => Some(before),
        }
    }

    pub fn after(&self) -> Option<&Fields> {
        match self {
            Change::Create { after } | Change::Update { after, .. } => Some(after),
            Change::Delete { .. } => None,
        }
    }

    /// How this change's URLs are shown, old and new alike.
    pub fn masking(&self) -> Masking {
        self.after().map_or(Masking::Full, |after| after.masking)
    }

    pub fn is_duplicate(&self) -> bool {
        matches!(self, Change::Delete { duplicate: true, .. })
    }

    fn sort_key(&self) -> (&str, &str, Action, Option<&str>) {
        (self.topic(), self.name(), self.action(), self.id())
    }
}

/// Plans one merchant with the built-in [`Thresholds`].
pub fn diff(manifest: &MerchantManifest, live: &[LiveSubscription]) -> MerchantPlan {
    diff_with(manifest, live, &Thresholds::default())
}

/// Plans one merchant; `thresholds` decide [`MerchantPlan::safety`].
pub fn diff_with(
    manifest: &MerchantManifest,
    live: &[LiveSubscription],
    thresholds: &Thresholds,
) -> MerchantPlan {
    let mut copies = by_key(manifest, live);
    let ignored = live.len() - copies.values().map(Vec::len).sum::<usize>();
    let (mut changes, mut unchanged, mut pending, mut renamed) = (Vec::new(), 0, Vec::new(), Vec::new());
    // Last declaration first: a key declared twice (which validation
    // refuses) is planned once, from its last declaration.
    let mut declared = HashSet::with_capacity(manifest.subscriptions.len());
    for want in manifest.subscriptions.iter().rev() {
        let key = (want.topic.as_str(), want.name.as_str());
        if !declared.insert(key) {
            continue;
        }
        match copies.remove(&key) {
            Some(found) => {
                unchanged += keep_one(found, want, &mut changes);
                if !want.renamed_from.is_empty() {
                    renamed.push(want);
                }
            }
            None => pending.push(want),
        }
    }
    // Renames after every exact match, in key order: an old name that is
    // also declared is never taken, and two claims resolve the same way on
    // every run (validation refuses both).
    pending.sort_by(|a, b| (&a.topic, &a.name).cmp(&(&b.topic, &b.name)));
    for want in pending {
        let mut olds = want.renamed_from.iter();
        match olds.find_map(|old| copies.remove(&(want.topic.as_str(), old.as_str()))) {
            Some(found) => unchanged += keep_one(found, want, &mut changes),
            None => changes.push(Change::Create { after: want.into() }),
        }
    }
    let mut unmanaged = Vec::new();
    for found in copies.into_values() {
        match manifest.prune {
            true => changes.extend(found.into_iter().map(|s| delete(s, false))),
            false => unmanaged.extend(found.into_iter().cloned()),
        }
    }
    changes.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
    unmanaged.sort();
    let count = |action| changes.iter().filter(|c| c.action() == action).count();
    let summary = Summary {
        create: count(Action::Create),
        update: count(Action::Update),
        delete: count(Action::Delete),
        unchanged,
        ignored,
        unmanaged: unmanaged.len(),
    };
    MerchantPlan {
        merchant: manifest.label.clone(),
        safety: thresholds.trip(&summary, manifest, live),
        renames_applied: renames_applied(&renamed, live),
        changes,
        unmanaged,
        summary,
    }
}

/// `live` by (topic, name), without what `manifest` ignores.
pub(crate) fn by_key<'l>(
    manifest: &MerchantManifest,
    live: &'l [LiveSubscription],
) -> HashMap<(&'l str, &'l str), Vec<&'l LiveSubscription>> {
    let mut copies: HashMap<_, Vec<_>> = HashMap::with_capacity(live.len());
    for s in live.iter().filter(|s| !manifest.is_ignored(s)) {
        let key = (s.topic.as_str(), s.name.as_str());
        copies.entry(key).or_default().push(s);
    }
    copies
}

/// Keeps one of the live `copies` of `want` (with its URL, else the lowest
/// id), updated if it differs, and deletes the others; 1 if already equal.
fn keep_one(
    mut copies: Vec<&LiveSubscription>,
    want: &DesiredSubscription,
    changes: &mut Vec<Change>,
) -> usize {
    copies.sort_by(|a, b| a.id.cmp(&b.id));
    let keep = copies.iter().position(|s| s.callback_url == want.callback_url);
    let kept = copies.remove(keep.unwrap_or(0));
    changes.extend(copies.into_iter().map(|extra| delete(extra, true)));
    if kept.callback_url == want.callback_url && kept.name == want.name {
        return 1;
    }
    let (id, before, after) = (kept.id.clone(), kept.into(), want.into());
    changes.push(Change::Update { id, before, after });
    0
}

pub(crate) fn delete(live: &LiveSubscription, duplicate: bool) -> Change {
    let (id, before) = (live.id.clone(), live.into());
    Change::Delete {
        id,
        before,
        duplicate,
    }
}

/// The `renamedFrom` names of `renamed` (live under their new key) that no
/// live subscription has any more, ignored ones included.
fn renames_applied(renamed: &[&DesiredSubscription], live: &[LiveSubscription]) -> Vec<RenameApplied> {
    let mut done: Vec<RenameApplied> = (renamed.iter())
        .flat_map(|want| want.renamed_from.iter().map(move |from| (want, from)))
        .filter(|(want, from)| !live.iter().any(|s| s.topic == want.topic && &s.name == *from))
        .map(|(want, from)| RenameApplied {
            topic: want.topic.clone(),
            name: want.name.clone(),
            from: from.clone(),
            location: want.location.clone(),
        })
        .collect();
    done.sort();
    done
}

/// Plans every merchant from (manifest, live list) pairs, sorted by label.
pub fn diff_all<'a>(
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod props;
