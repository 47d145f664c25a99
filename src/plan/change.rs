//! A plan's unit: one call to make ([`Change`]).

use serde::{Deserialize, Serialize};

use crate::model::{DesiredSubscription, LiveSubscription};
use crate::secret::Masking;

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
        match self {
            Action::Create => '+',
            Action::Update => '~',
            Action::Delete => '-',
        }
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

    pub(super) fn sort_key(&self) -> (&str, &str, Action, Option<&str>) {
        (self.topic(), self.name(), self.action(), self.id())
    }
}
