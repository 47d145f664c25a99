//! A plan's unit: one call to make ([`Change`]), its kind ([`Action`]) and
//! the fields it is about ([`Fields`]).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::model::{DesiredSubscription, Key, LiveSubscription};
use crate::secret::Masking;

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
    /// How reports show the URLs of a change whose fields these are after
    /// it: the manifest entry's `maskPathSecrets` (README "Secrets"),
    /// written only when `false`. Live fields are always [`Masking::Full`].
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

    /// How this change's URLs are shown, old and new alike: the manifest
    /// entry's masking for a create or an update, [`Masking::Full`] for a
    /// delete (a live subscription has no entry).
    pub fn masking(&self) -> Masking {
        self.after().map_or(Masking::Full, |after| after.masking)
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
    pub(super) fn sort_key(&self) -> (&str, &str, Action, Option<&str>) {
        (self.topic(), self.name(), self.action(), self.id())
    }
}
