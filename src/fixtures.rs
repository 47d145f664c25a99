//! Builders for tests: one place that makes live and desired
//! subscriptions, manifests and changes, so unit tests read as their data.
#![allow(clippy::unwrap_used, reason = "test fixtures")]

use crate::model::{DesiredSubscription, IgnoreRule, LiveSubscription, Location, MerchantManifest, Pattern};
use crate::plan::{Change, Fields};
use crate::secret::Masking;

/// The location every fixture is declared at.
pub fn location() -> Location {
    Location {
        file: "webhooks.yaml".into(),
        line: 1,
    }
}

/// A live subscription.
pub fn live(id: &str, topic: &str, name: &str, url: &str) -> LiveSubscription {
    LiveSubscription {
        id: id.into(),
        topic: topic.into(),
        name: name.into(),
        callback_url: url.into(),
    }
}

/// A declared subscription.
pub fn desired(topic: &str, name: &str, url: &str) -> DesiredSubscription {
    DesiredSubscription {
        topic: topic.into(),
        name: name.into(),
        callback_url: url.into(),
        renamed_from: vec![],
        masking: Masking::Full,
        location: location(),
    }
}

/// A declared subscription with `renamedFrom: old`.
pub fn renamed(topic: &str, name: &str, url: &str, old: &[&str]) -> DesiredSubscription {
    DesiredSubscription {
        renamed_from: old.iter().map(|o| (*o).to_owned()).collect(),
        ..desired(topic, name, url)
    }
}

/// The manifest of merchant `acme` (prune on, no ignore rules).
pub fn manifest(subscriptions: Vec<DesiredSubscription>) -> MerchantManifest {
    MerchantManifest {
        label: "acme".into(),
        file: "webhooks.yaml".into(),
        api_key_env: "INVETERATE_API_KEY".into(),
        canary: false,
        prune: true,
        ignore: vec![],
        subscriptions,
        allows: crate::model::Allows::default(),
    }
}

/// An ignore rule on names.
pub fn ignore_name(glob: &str) -> IgnoreRule {
    IgnoreRule {
        name: Some(Pattern::new(glob).unwrap()),
        topic: None,
        callback_url: None,
        location: location(),
    }
}

/// The fields of a subscription.
pub fn fields(topic: &str, name: &str, url: &str) -> Fields {
    Fields {
        topic: topic.into(),
        name: name.into(),
        callback_url: url.into(),
        masking: Masking::Full,
    }
}

/// A create.
pub fn create(topic: &str, name: &str, url: &str) -> Change {
    Change::Create {
        after: fields(topic, name, url),
    }
}

/// An update of the URL.
pub fn update(id: &str, topic: &str, name: &str, old: &str, new: &str) -> Change {
    Change::Update {
        id: id.into(),
        before: fields(topic, name, old),
        after: fields(topic, name, new),
    }
}

/// A delete.
pub fn delete(id: &str, topic: &str, name: &str, url: &str, duplicate: bool) -> Change {
    Change::Delete {
        id: id.into(),
        before: fields(topic, name, url),
        duplicate,
    }
}
