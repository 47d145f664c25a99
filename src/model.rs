//! The data both sides of the diff share: what the manifest wants
//! ([`MerchantManifest`], [`DesiredSubscription`]) and what the API has
//! ([`LiveSubscription`]). Plain data, no I/O.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secret::Masking;

/// A subscription as the Inveterate API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSubscription {
    /// Server-assigned identifier, needed to update or delete.
    pub id: String,
    /// Event topic; immutable for a given subscription.
    pub topic: String,
    /// Subscription name; with `topic`, the identity used by the plan.
    pub name: String,
    /// Where Inveterate delivers events.
    pub callback_url: String,
}

impl LiveSubscription {
    /// The identity the plan joins on.
    pub fn key(&self) -> Key {
        Key::new(&self.topic, &self.name)
    }
}

/// Identity of a subscription: the pair (`topic`, `name`). Orders by topic,
/// then name, which is the order every plan is printed in.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Key {
    /// Event topic.
    pub topic: String,
    /// Subscription name.
    pub name: String,
}

impl Key {
    /// Builds a key from its two parts.
    pub fn new(topic: &str, name: &str) -> Self {
        Self {
            topic: topic.to_owned(),
            name: name.to_owned(),
        }
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.topic, self.name)
    }
}

/// A place in a manifest file, for error messages and plan annotations.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The manifest file as the user named it (or as found in a directory).
    pub file: PathBuf,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One subscription the manifest declares, after `topics:` expansion and
/// `${VAR}` substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSubscription {
    /// Event topic.
    pub topic: String,
    /// Subscription name.
    pub name: String,
    /// Callback URL with variables expanded (may carry secrets).
    pub callback_url: String,
    /// Names (on the same topic) of live subscriptions this one takes over
    /// in place: `renamedFrom` (README "Renames").
    pub renamed_from: Vec<String>,
    /// How reports show its callback URL: `maskPathSecrets` (README
    /// "Secrets"); [`Masking::Full`] unless the entry turns the path
    /// heuristic off.
    pub masking: Masking,
    /// Where it was declared.
    pub location: Location,
}

impl DesiredSubscription {
    /// The identity the plan joins on.
    pub fn key(&self) -> Key {
        Key::new(&self.topic, &self.name)
    }
}

/// An `ignore` rule: live subscriptions it matches are never touched.
/// Every field that is set must match (glob syntax; `*` also crosses `/`).
#[derive(Debug, Clone)]
pub struct IgnoreRule {
    /// Glob on the subscription name.
    pub name: Option<Pattern>,
    /// Glob on the topic.
    pub topic: Option<Pattern>,
    /// Glob on the callback URL.
    pub callback_url: Option<Pattern>,
    /// Where the rule was declared.
    pub location: Location,
}

impl IgnoreRule {
    /// True when every pattern the rule sets matches. A rule with no
    /// pattern matches nothing (validation rejects such rules anyway).
    pub fn matches(&self, topic: &str, name: &str, callback_url: &str) -> bool {
        let parts = [
            (&self.name, name),
            (&self.topic, topic),
            (&self.callback_url, callback_url),
        ];
        parts.iter().any(|(p, _)| p.is_some())
            && parts
                .iter()
                .all(|(p, value)| p.as_ref().is_none_or(|p| p.is_match(value)))
    }
}

/// A compiled glob that remembers its source text.
#[derive(Debug, Clone)]
pub struct Pattern {
    glob: globset::Glob,
    matcher: globset::GlobMatcher,
}

impl Pattern {
    /// Compiles a glob (`*`, `?`, `[abc]`, `{a,b}`); `*` matches `/` too.
    pub fn new(source: &str) -> Result<Self, globset::Error> {
        let glob = globset::GlobBuilder::new(source)
            .literal_separator(false)
            .backslash_escape(true)
            .build()?;
        Ok(Self {
            matcher: glob.compile_matcher(),
            glob,
        })
    }

    /// Whether `value` matches the glob.
    pub fn is_match(&self, value: &str) -> bool {
        self.matcher.is_match(value)
    }

    /// The glob as written.
    pub fn as_str(&self) -> &str {
        self.glob.glob()
    }
}

/// Everything one manifest file declares for one merchant.
#[derive(Debug, Clone)]
pub struct MerchantManifest {
    /// Label shown in output (`merchant:`, default: the file's stem).
    pub label: String,
    /// The file it came from.
    pub file: PathBuf,
    /// Name of the environment variable holding this merchant's API key.
    pub api_key_env: String,
    /// `canary: true`: first in a staged rollout (`apply --waves`).
    pub canary: bool,
    /// Delete live subscriptions the manifest does not declare.
    pub prune: bool,
    /// Live subscriptions never touched.
    pub ignore: Vec<IgnoreRule>,
    /// Declared subscriptions, in file order.
    pub subscriptions: Vec<DesiredSubscription>,
    /// `allowHttp` and `allowUnknownTopics`, kept so that `apply --plan`
    /// checks a saved plan's entries as `validate` checked them.
    pub allows: Allows,
}

/// A manifest's switches that widen what its entries may hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allows {
    /// `allowHttp`.
    pub http: bool,
    /// `allowUnknownTopics`.
    pub unknown_topics: bool,
}

impl MerchantManifest {
    /// Whether an ignore rule covers this live subscription.
    pub fn is_ignored(&self, sub: &LiveSubscription) -> bool {
        self.ignore
            .iter()
            .any(|rule| rule.matches(&sub.topic, &sub.name, &sub.callback_url))
    }
}
