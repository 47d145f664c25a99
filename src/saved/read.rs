//! Reading a saved plan: from text to checked, typed data ([`Loaded`]).
//! The file is checked against itself (its live fingerprint, each change's
//! shape, and the stored plan against a fresh diff of the stored manifest
//! and live list), so an edited or damaged file is refused before any
//! request.

use std::collections::HashSet;
use std::path::PathBuf;

use super::{
    live_fingerprint, PlanFileError, SavedChange, SavedMerchant, SavedMerchantPlan, SavedPlan,
    FORMAT_VERSION, KIND,
};
use crate::model::{DesiredSubscription, IgnoreRule, LiveSubscription, Location, MerchantManifest, Pattern};
use crate::plan::{self, Action, Change, MerchantPlan, Plan};

/// A saved plan that passed every check, in the in-memory types.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The invhooks that wrote it.
    pub tool_version: String,
    /// The API base URL the live state was read from.
    pub base_url: String,
    /// Salt of the key digests.
    pub key_salt: String,
    /// `sha256:` over every manifest file's path and digest.
    pub manifest_digest: String,
    /// One entry per merchant, sorted by label.
    pub merchants: Vec<LoadedMerchant>,
}

/// One merchant of a [`Loaded`] plan.
#[derive(Debug, Clone)]
pub struct LoadedMerchant {
    /// The manifest as it was loaded (for apply's verification).
    pub manifest: MerchantManifest,
    /// The live subscriptions the plan was computed from.
    pub live: Vec<LiveSubscription>,
    /// Their fingerprint.
    pub fingerprint: String,
    /// Salted digest of the key the plan was made with.
    pub key_digest: String,
    /// The changes to make, exactly.
    pub plan: MerchantPlan,
}

impl Loaded {
    /// The plan the file holds.
    pub fn plan(&self) -> Plan {
        Plan {
            merchants: self.merchants.iter().map(|m| m.plan.clone()).collect(),
        }
    }
}

impl SavedPlan {
    /// Reads a saved plan and checks it against itself; `ours` is this
    /// build's version, for the message about an unknown format.
    ///
    /// # Errors
    ///
    /// A file that is not JSON, not a saved plan, of another format
    /// version, missing or mistyping a key, or inconsistent.
    pub fn parse(text: &str, ours: &str) -> Result<Loaded, PlanFileError> {
        let saved = Self::parse_file(text, ours)?;
        let mut labels = HashSet::new();
        let mut merchants = Vec::with_capacity(saved.merchants.len());
        for m in &saved.merchants {
            if !labels.insert(m.merchant.as_str()) {
                return inconsistent(format!("merchant `{}` appears twice", m.merchant));
            }
            merchants.push(m.load(&saved.tool_version)?);
        }
        if merchants.is_empty() {
            return inconsistent("it names no merchant".to_owned());
        }
        Ok(Loaded {
            tool_version: saved.tool_version,
            base_url: saved.base_url,
            key_salt: saved.key_salt,
            manifest_digest: saved.manifest_digest,
            merchants,
        })
    }

    /// The file's layout, before any check of its meaning.
    fn parse_file(text: &str, ours: &str) -> Result<SavedPlan, PlanFileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PlanFileError::NotJson(e.to_string()))?;
        let str_key = |key: &str| value.get(key).and_then(|v| v.as_str());
        if str_key("kind") != Some(KIND) {
            let looks_like_output = value.get("kind").is_none()
                && value.get("format_version").is_some()
                && value.get("merchants").is_some();
            return Err(if looks_like_output {
                PlanFileError::JsonOutput
            } else {
                PlanFileError::Foreign
            });
        }
        let version = value
            .get("format_version")
            .map_or_else(String::new, |v| match v.as_str() {
                Some(s) => s.to_owned(),
                None => v.to_string(),
            });
        if version != FORMAT_VERSION {
            return Err(PlanFileError::Version {
                found: version,
                tool: str_key("tool_version").unwrap_or("unknown").to_owned(),
                ours: ours.to_owned(),
            });
        }
        serde_json::from_value(value).map_err(|e| PlanFileError::Damaged(e.to_string()))
    }
}

fn inconsistent<T>(message: String) -> Result<T, PlanFileError> {
    Err(PlanFileError::Inconsistent(message))
}

impl SavedMerchant {
    /// Checks one merchant and converts it to the in-memory types.
    fn load(&self, tool_version: &str) -> Result<LoadedMerchant, PlanFileError> {
        let who = &self.merchant;
        if self.plan.merchant != self.merchant {
            return inconsistent(format!(
                "merchant `{who}` holds the plan of `{}`",
                self.plan.merchant
            ));
        }
        if self.api_key_env.trim().is_empty() {
            return inconsistent(format!("merchant `{who}` names no API key variable"));
        }
        if live_fingerprint(&self.live.subscriptions) != self.live.fingerprint {
            return inconsistent(format!(
                "merchant `{who}`: the live fingerprint does not match the stored live subscriptions"
            ));
        }
        let manifest = self.manifest()?;
        let plan = self.plan.load(who)?;
        // `safety` is not compared: it is judged by the thresholds of the
        // run that applies the plan (a policy's, README "Callback host policy");
        // nor are the notes on applied renames, which `apply` does not use.
        let fresh = plan::diff(&manifest, &self.live.subscriptions);
        if (MerchantPlan {
            safety: plan.safety,
            renames_applied: Vec::new(),
            ..fresh
        }) != plan
        {
            return inconsistent(format!(
                "merchant `{who}`: the stored changes are not what its manifest and live state give \
                 (edited by hand, or written by another invhooks version: {tool_version})"
            ));
        }
        Ok(LoadedMerchant {
            manifest,
            live: self.live.subscriptions.clone(),
            fingerprint: self.live.fingerprint.clone(),
            key_digest: self.key_digest.clone(),
            plan,
        })
    }

    /// The manifest as it was loaded, rebuilt for `apply`'s verification.
    fn manifest(&self) -> Result<MerchantManifest, PlanFileError> {
        let file = PathBuf::from(&self.manifest.file);
        let at = |line: usize| Location {
            file: file.clone(),
            line,
        };
        let glob = |g: &Option<String>| -> Result<Option<Pattern>, PlanFileError> {
            g.as_deref()
                .map(|g| {
                    Pattern::new(g).map_err(|e| {
                        PlanFileError::Damaged(format!(
                            "merchant `{}`: ignore glob `{g}`: {e}",
                            self.merchant
                        ))
                    })
                })
                .transpose()
        };
        let mut ignore = Vec::with_capacity(self.manifest.ignore.len());
        for rule in &self.manifest.ignore {
            ignore.push(IgnoreRule {
                name: glob(&rule.name)?,
                topic: glob(&rule.topic)?,
                callback_url: glob(&rule.callback_url)?,
                location: at(rule.line),
            });
        }
        let subscriptions = self
            .manifest
            .subscriptions
            .iter()
            .map(|s| DesiredSubscription {
                topic: s.topic.clone(),
                name: s.name.clone(),
                callback_url: s.callback_url.clone(),
                renamed_from: s.renamed_from.clone(),
                masking: s.masking,
                location: at(s.line),
            })
            .collect();
        Ok(MerchantManifest {
            label: self.merchant.clone(),
            file: file.clone(),
            api_key_env: self.api_key_env.clone(),
            canary: self.manifest.canary,
            prune: self.manifest.prune,
            ignore,
            subscriptions,
            allows: crate::model::Allows {
                http: self.manifest.allow_http,
                unknown_topics: self.manifest.allow_unknown_topics,
            },
        })
    }
}

impl SavedMerchantPlan {
    fn load(&self, who: &str) -> Result<MerchantPlan, PlanFileError> {
        let changes = self
            .changes
            .iter()
            .map(|c| {
                c.load().ok_or_else(|| {
                    PlanFileError::Inconsistent(format!(
                        "merchant `{who}`: a {} change is malformed",
                        c.action
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(MerchantPlan {
            merchant: self.merchant.clone(),
            changes,
            unmanaged: self.unmanaged.clone(),
            summary: self.summary,
            safety: self.safety,
            renames_applied: Vec::new(),
        })
    }
}

impl SavedChange {
    /// The change, if its keys fit its action.
    fn load(&self) -> Option<Change> {
        let change = match (self.action, &self.id, &self.before, &self.after) {
            (Action::Create, None, None, Some(after)) if !self.duplicate => {
                Change::Create { after: after.clone() }
            }
            (Action::Update, Some(id), Some(before), Some(after)) if !self.duplicate => Change::Update {
                id: id.clone(),
                before: before.clone(),
                after: after.clone(),
            },
            (Action::Delete, Some(id), Some(before), None) => Change::Delete {
                id: id.clone(),
                before: before.clone(),
                duplicate: self.duplicate,
            },
            _ => return None,
        };
        (change.topic() == self.topic && change.name() == self.name).then_some(change)
    }
}
