//! The data both sides of the diff share: what a manifest wants and what
//! the API has. Plain data, no I/O.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::secret::Masking;

/// A subscription as the Inveterate API reports it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveSubscription {
    /// Server-assigned, needed to update or delete.
    pub id: String,
    pub topic: String,
    pub name: String,
    pub callback_url: String,
}

/// A place in a manifest file (`file:line`, line 1-based).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// Saved plans and drift JSON write a place as its line (a saved plan's reader fills in the file).
impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.line.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Location {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let (file, line) = (PathBuf::new(), usize::deserialize(d)?);
        Ok(Location { file, line })
    }
}

/// One declared subscription after `topics:` expansion and `${VAR}`
/// substitution (its URL may carry secrets); serde: as saved plans hold it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DesiredSubscription {
    pub topic: String,
    pub name: String,
    pub callback_url: String,
    /// Names on the same topic it takes over in place (docs/renames.md).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub renamed_from: Vec<String>,
    #[serde(rename = "maskPathSecrets", default, skip_serializing_if = "Masking::is_full")]
    pub masking: Masking,
    #[serde(rename = "line")]
    pub location: Location,
}

/// An `ignore` rule: live subscriptions it matches are never touched.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IgnoreRule {
    pub name: Option<Pattern>,
    pub topic: Option<Pattern>,
    pub callback_url: Option<Pattern>,
    #[serde(rename = "line")]
    pub location: Location,
}

impl IgnoreRule {
    /// Every pattern set matches; a rule without one matches nothing.
    pub fn matches(&self, topic: &str, name: &str, callback_url: &str) -> bool {
        let parts = [
            (&self.name, name),
            (&self.topic, topic),
            (&self.callback_url, callback_url),
        ];
        let matched = |(p, value): &(&Option<Pattern>, &str)| p.as_ref().is_none_or(|p| p.is_match(value));
        parts.iter().any(|(p, _)| p.is_some()) && parts.iter().all(matched)
    }
}

/// A compiled glob (`*`, `?`, `[abc]`, `{a,b}`; `*` crosses `/` too).
#[derive(Debug, Clone)]
pub struct Pattern(globset::GlobMatcher);

impl Pattern {
    pub fn new(source: &str) -> Result<Self, globset::Error> {
        Ok(Self(Self::glob(source)?.compile_matcher()))
    }

    /// A glob as all of ours read (the policy's hosts too): `*` crosses `/`, `\` escapes on every OS.
    pub fn glob(source: &str) -> Result<globset::Glob, globset::Error> {
        let mut glob = globset::GlobBuilder::new(source);
        glob.literal_separator(false).backslash_escape(true).build()
    }

    pub fn is_match(&self, value: &str) -> bool {
        self.0.is_match(value)
    }

    pub fn as_str(&self) -> &str {
        self.0.glob().glob()
    }
}

impl Serialize for Pattern {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.as_str().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Pattern {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let glob = String::deserialize(d)?;
        Pattern::new(&glob).map_err(|e| serde::de::Error::custom(format!("ignore glob `{glob}`: {e}")))
    }
}

/// Everything one manifest file declares for one merchant.
#[derive(Debug, Clone, Default)]
pub struct MerchantManifest {
    /// `merchant:`, default: the file's stem.
    pub label: String,
    pub file: PathBuf,
    pub api_key_env: String,
    /// First in a staged rollout (`apply --waves`).
    pub canary: bool,
    pub prune: bool,
    pub ignore: Vec<IgnoreRule>,
    /// In file order.
    pub subscriptions: Vec<DesiredSubscription>,
    /// So that `apply --plan` re-checks a saved plan's entries.
    pub allows: Allows,
}

/// `allowHttp` and `allowUnknownTopics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Allows {
    pub http: bool,
    pub unknown_topics: bool,
}

impl MerchantManifest {
    pub fn is_ignored(&self, s: &LiveSubscription) -> bool {
        self.ignore
            .iter()
            .any(|r| r.matches(&s.topic, &s.name, &s.callback_url))
    }
}
