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

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{DesiredSubscription, Key, LiveSubscription, Location, MerchantManifest};

/// Live subscriptions in scope from which the percentage rule applies.
pub const SAFETY_MIN_IN_SCOPE: usize = 10;
/// Share of in-scope subscriptions a plan may update or delete (percent).
pub const SAFETY_MAX_PERCENT: usize = 30;

/// The limits past which `apply` refuses a plan without `--force`; a
/// policy's `safety:` replaces them (README "Callback host policy").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Live subscriptions in scope from which the percentage rule applies.
    pub min_in_scope: usize,
    /// Share of in-scope subscriptions a plan may update or delete (percent).
    pub max_change_percent: usize,
    /// Most deletes a plan may make, when set.
    pub max_deletes: Option<usize>,
    /// Most creates a plan may make, when set.
    pub max_creates: Option<usize>,
}

impl Default for Thresholds {
    /// The built-in limits: [`SAFETY_MIN_IN_SCOPE`], [`SAFETY_MAX_PERCENT`], no count limits.
    fn default() -> Self {
        Self {
            min_in_scope: SAFETY_MIN_IN_SCOPE,
            max_change_percent: SAFETY_MAX_PERCENT,
            max_deletes: None,
            max_creates: None,
        }
    }
}

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

/// The kind of call a change makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// POST a new subscription.
    Create,
    /// PUT a new callback URL on an existing subscription.
    Update,
    /// DELETE a subscription.
    Delete,
}

impl Action {
    /// The symbol text output uses: `+`, `~`, `-`.
    pub fn symbol(self) -> char {
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Create => "create",
            Action::Update => "update",
            Action::Delete => "delete",
        })
    }
}

/// The fields of a subscription that a change is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Fields {
    /// Event topic.
    pub topic: String,
    /// Subscription name.
    pub name: String,
    /// Callback URL, unmasked (renderers mask it).
    pub callback_url: String,
}

impl From<&LiveSubscription> for Fields {
    fn from(s: &LiveSubscription) -> Self {
        Self {
            topic: s.topic.clone(),
            name: s.name.clone(),
            callback_url: s.callback_url.clone(),
        }
    }
}

impl From<&DesiredSubscription> for Fields {
    fn from(s: &DesiredSubscription) -> Self {
        Self {
            topic: s.topic.clone(),
            name: s.name.clone(),
            callback_url: s.callback_url.clone(),
        }
    }
}

/// One call to make. Each variant carries exactly the data its call needs,
/// so a create with an id or a delete without one cannot be built.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Change {
    /// POST `after`.
    Create {
        /// The subscription to create, as the manifest declares it.
        after: Fields,
    },
    /// PUT `after` on the live subscription `id` (whose fields were `before`).
    Update {
        /// Id of the live subscription.
        id: String,
        /// Its live fields.
        before: Fields,
        /// Its fields after the call.
        after: Fields,
    },
    /// DELETE the live subscription `id`.
    Delete {
        /// Id of the live subscription.
        id: String,
        /// Its live fields.
        before: Fields,
        /// It is an extra copy of a subscription that is kept.
        duplicate: bool,
    },
}

impl Change {
    /// The kind of call.
    pub fn action(&self) -> Action {
        match self {
            Change::Create { .. } => Action::Create,
            Change::Update { .. } => Action::Update,
            Change::Delete { .. } => Action::Delete,
        }
    }

    /// The fields the change starts from: live for an update or delete,
    /// the manifest's for a create.
    fn subject(&self) -> &Fields {
        match self {
            Change::Create { after } => after,
            Change::Update { before, .. } | Change::Delete { before, .. } => before,
        }
    }

    /// Topic of the subscription.
    pub fn topic(&self) -> &str {
        &self.subject().topic
    }

    /// Name of the subscription (the live name for an update).
    pub fn name(&self) -> &str {
        &self.subject().name
    }

    /// Id of the live subscription (`None` for a create).
    pub fn id(&self) -> Option<&str> {
        match self {
            Change::Create { .. } => None,
            Change::Update { id, .. } | Change::Delete { id, .. } => Some(id),
        }
    }

    /// Live fields before the change (`None` for a create).
    pub fn before(&self) -> Option<&Fields> {
        match self {
            Change::Create { .. } => None,
            Change::Update { before, .. } | Change::Delete { before, .. } => Some(before),
        }
    }

    /// Fields after the change (`None` for a delete).
    pub fn after(&self) -> Option<&Fields> {
        match self {
            Change::Create { after } | Change::Update { after, .. } => Some(after),
            Change::Delete { .. } => None,
        }
    }

    /// A delete of an extra copy of a subscription that is kept.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, Change::Delete { duplicate: true, .. })
    }

    /// The identity the change is about.
    pub fn key(&self) -> Key {
        Key::new(self.topic(), self.name())
    }

    /// The order plans list changes in: topic, name, action, id.
    fn sort_key(&self) -> (&str, &str, Action, Option<&str>) {
        (self.topic(), self.name(), self.action(), self.id())
    }
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

/// A safety rule that `apply` enforces unless `--force`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum SafetyTrip {
    /// More than `max_percent`% of at least [`Thresholds::min_in_scope`]
    /// in-scope subscriptions would change.
    MassChange {
        /// Updates plus deletes.
        changed: usize,
        /// Live subscriptions not matched by `ignore`.
        in_scope: usize,
        /// The threshold that tripped ([`SAFETY_MAX_PERCENT`] unless a
        /// policy sets another).
        #[serde(default = "default_max_percent")]
        max_percent: usize,
    },
    /// More deletes than a policy's `maxDeletes`.
    TooManyDeletes {
        /// Deletes in the plan.
        deleted: usize,
        /// The policy's limit.
        max: usize,
    },
    /// More creates than a policy's `maxCreates`.
    TooManyCreates {
        /// Creates in the plan.
        created: usize,
        /// The policy's limit.
        max: usize,
    },
    /// More than `max_percent`% as many creates as at least
    /// [`Thresholds::min_in_scope`] in-scope subscriptions: a misread or
    /// cut live list looks like this.
    MassCreate {
        /// Creates.
        created: usize,
        /// Live subscriptions not matched by `ignore`.
        in_scope: usize,
        /// The threshold that tripped ([`SAFETY_MAX_PERCENT`] unless a
        /// policy sets another).
        #[serde(default = "default_max_percent")]
        max_percent: usize,
    },
    /// The manifest declares nothing, so every live subscription would go.
    EmptyManifest {
        /// Live subscriptions that would be deleted.
        deleted: usize,
    },
}

impl fmt::Display for SafetyTrip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SafetyTrip::MassChange {
                changed,
                in_scope,
                max_percent,
            } => write!(
                f,
                "the plan updates or deletes {changed} of {in_scope} live subscriptions ({}%), \
                 over the {max_percent}% threshold",
                changed * 100 / in_scope.max(1)
            ),
            SafetyTrip::MassCreate {
                created,
                in_scope,
                max_percent,
            } => write!(
                f,
                "the plan creates {created} subscriptions where {in_scope} are live ({}%), \
                 over the {max_percent}% threshold (a live list read only in part looks like this)",
                created * 100 / in_scope.max(1)
            ),
            SafetyTrip::TooManyDeletes { deleted, max } => write!(
                f,
                "the plan deletes {deleted} subscriptions, over the policy's `maxDeletes: {max}`"
            ),
            SafetyTrip::TooManyCreates { created, max } => write!(
                f,
                "the plan creates {created} subscriptions, over the policy's `maxCreates: {max}`"
            ),
            SafetyTrip::EmptyManifest { deleted } => write!(
                f,
                "the manifest declares no subscriptions, so the plan deletes all {deleted} live ones"
            ),
        }
    }
}

fn default_max_percent() -> usize {
    SAFETY_MAX_PERCENT
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
    // Joined in hash maps keyed by borrowed (topic, name): the order they
    // are visited in does not matter, the changes are sorted at the end.
    let mut live_by_key: HashMap<(&str, &str), Vec<&LiveSubscription>> = HashMap::with_capacity(live.len());
    let ignore = manifest.ignore_set();
    for sub in live {
        if ignore
            .first_match(&sub.topic, &sub.name, &sub.callback_url)
            .is_some()
        {
            summary.ignored += 1;
        } else {
            let key = (sub.topic.as_str(), sub.name.as_str());
            live_by_key.entry(key).or_default().push(sub);
        }
    }
    let in_scope = live.len() - summary.ignored;
    let desired: HashMap<(&str, &str), &DesiredSubscription> = manifest
        .subscriptions
        .iter()
        .map(|d| ((d.topic.as_str(), d.name.as_str()), d))
        .collect();

    let mut changes = Vec::new();
    let mut unmanaged = Vec::new();
    let mut pending = Vec::new();
    let mut renamed_live = Vec::new();
    for (key, want) in &desired {
        match live_by_key.remove(key) {
            Some(copies) => {
                summary.unchanged += keep_one(copies, want, &mut changes);
                if !want.renamed_from.is_empty() {
                    renamed_live.push(*want);
                }
            }
            None => pending.push(*want),
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
    for (_, mut copies) in live_by_key {
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

/// Keeps one of the live `copies` of `want` (the one with its URL, else the
/// lowest id), updating it when its name or URL differs, and deletes the
/// others as duplicates. Returns 1 when the kept one is already equal.
fn keep_one(
    mut copies: Vec<&LiveSubscription>,
    want: &DesiredSubscription,
    changes: &mut Vec<Change>,
) -> usize {
    copies.sort_by(|a, b| a.id.cmp(&b.id));
    let keep = copies
        .iter()
        .position(|s| s.callback_url == want.callback_url)
        .unwrap_or(0);
    let kept = copies.remove(keep);
    changes.extend(copies.into_iter().map(|extra| delete(extra, true)));
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

fn safety(summary: &Summary, in_scope: usize, manifest_empty: bool, t: &Thresholds) -> Option<SafetyTrip> {
    let changed = summary.update + summary.delete;
    if manifest_empty && summary.delete > 0 {
        Some(SafetyTrip::EmptyManifest {
            deleted: summary.delete,
        })
    } else if in_scope >= t.min_in_scope && changed * 100 > in_scope * t.max_change_percent {
        Some(SafetyTrip::MassChange {
            changed,
            in_scope,
            max_percent: t.max_change_percent,
        })
    } else if in_scope >= t.min_in_scope && summary.create * 100 > in_scope * t.max_change_percent {
        Some(SafetyTrip::MassCreate {
            created: summary.create,
            in_scope,
            max_percent: t.max_change_percent,
        })
    } else if let Some(max) = t.max_deletes.filter(|max| summary.delete > *max) {
        Some(SafetyTrip::TooManyDeletes {
            deleted: summary.delete,
            max,
        })
    } else {
        t.max_creates
            .filter(|max| summary.create > *max)
            .map(|max| SafetyTrip::TooManyCreates {
                created: summary.create,
                max,
            })
    }
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
#[path = "plan_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "plan_props.rs"]
mod props;
