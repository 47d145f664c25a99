//! Saved plans (`plan --out`, `apply --plan`; docs/plan-json.md "Saved
//! plan"): per merchant the manifest as loaded (real values), the live list
//! and the plan, so applying needs only each key. Pure: a file is checked
//! against itself, then whether it still applies; [`crate::commands`] does the I/O.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::digest::sha256_json;
use crate::escape::escape;
use crate::model::{Allows, DesiredSubscription, IgnoreRule, LiveSubscription, MerchantManifest};
use crate::plan::{self, Action, Fields, MerchantPlan, Plan, SafetyTrip, Summary, Thresholds};
use crate::render::view::{url_note, LiveView};
use crate::secret::{mask_url, Keys};

pub const KIND: &str = "invhooks-saved-plan";
/// A new layout or meaning gets a new number; readers refuse unknown ones.
pub const FORMAT_VERSION: &str = "2";
pub const SENSITIVE: &str = "this file holds real callback URLs, which may carry secrets \
    (never the API key); keep it out of logs, public artifacts and git";

/// What stands where a live value held the merchant's API key.
pub fn key_placeholder(api_key_env: &str) -> String {
    format!("${{INVHOOKS_API_KEY_OF:{api_key_env}}}")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedPlan {
    pub kind: String,
    pub format_version: String,
    pub tool_version: String,
    pub sensitive: String,
    /// The API base URL the live state was read from.
    pub base_url: String,
    /// Random salt of the merchants' `key_digest`s.
    pub key_salt: String,
    pub manifest_digest: String,
    /// Sorted by label.
    pub merchants: Vec<SavedMerchant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchant {
    pub merchant: String,
    /// The variable's name, never the key.
    pub api_key_env: String,
    /// Salted digest of the key the plan was made with.
    pub key_digest: String,
    pub manifest: SavedManifest,
    pub live: SavedLive,
    pub plan: SavedMerchantPlan,
}

/// One merchant's plan in the file's layout: reading compares it with a
/// fresh plan written the same way (`save_plan`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedMerchantPlan {
    pub merchant: String,
    pub changes: Vec<SavedChange>,
    pub unmanaged: Vec<LiveSubscription>,
    pub summary: Summary,
    pub safety: Option<SafetyTrip>,
}

/// One change as stored: `id` and `before` `null` for a create, `after`
/// for a delete.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedChange {
    pub action: Action,
    pub topic: String,
    pub name: String,
    pub id: Option<String>,
    pub before: Option<Fields>,
    pub after: Option<Fields>,
    pub duplicate: bool,
}

/// A merchant's manifest as loaded: variables expanded, locations as lines.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SavedManifest {
    pub file: String,
    pub sha256: String,
    pub prune: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub canary: bool,
    pub ignore: Vec<IgnoreRule>,
    pub subscriptions: Vec<DesiredSubscription>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_http: bool,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_unknown_topics: bool,
}

/// The live list the plan was computed from, sorted by id.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedLive {
    pub fingerprint: String,
    pub subscriptions: Vec<LiveSubscription>,
}

/// Why a file is not a usable saved plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanFileError {
    #[error("it is not valid JSON ({0}); the file is truncated or corrupt")]
    NotJson(String),
    #[error("it is the output of `invhooks plan --format json` (URLs masked), not a saved plan")]
    JsonOutput,
    #[error("it is not an invhooks saved plan (no `\"kind\": \"{KIND}\"`)")]
    Foreign,
    #[error("it has saved-plan format_version {found:?} (written by invhooks {tool}); this invhooks ({ours}) reads format_version \"{FORMAT_VERSION}\"")]
    Version {
        found: String,
        tool: String,
        ours: String,
    },
    #[error("it is damaged: {0}")]
    Damaged(String),
    #[error("it is inconsistent: {0}")]
    Inconsistent(String),
}

/// `sha256:` over each subscription's fields, sorted: only the order the API
/// returns them in does not matter.
pub fn live_fingerprint(live: &[LiveSubscription]) -> String {
    let mut rows: Vec<[&str; 4]> = (live.iter())
        .map(|s| [&*s.id, &s.topic, &s.name, &s.callback_url])
        .collect();
    rows.sort_unstable();
    sha256_json(&("invhooks-live-v1", rows))
}

impl SavedMerchant {
    /// `m` planned against `live` (keys already placeholders) with the run's `thresholds`.
    pub fn new(
        m: &MerchantManifest,
        mut live: Vec<LiveSubscription>,
        sha256: String,
        key_digest: String,
        thresholds: &Thresholds,
    ) -> Self {
        live.sort();
        SavedMerchant {
            merchant: m.label.clone(),
            api_key_env: m.api_key_env.clone(),
            key_digest,
            manifest: SavedManifest {
                file: m.file.display().to_string(),
                sha256,
                prune: m.prune,
                canary: m.canary,
                ignore: m.ignore.clone(),
                subscriptions: m.subscriptions.clone(),
                allow_http: m.allows.http,
                allow_unknown_topics: m.allows.unknown_topics,
            },
            plan: save_plan(&plan::diff_with(m, &live, thresholds)),
            live: SavedLive {
                fingerprint: live_fingerprint(&live),
                subscriptions: live,
            },
        }
    }

    fn load(&self, tool_version: &str) -> Result<LoadedMerchant, PlanFileError> {
        let who = &self.merchant;
        let inconsistent = |why: &str| Err(PlanFileError::Inconsistent(format!("merchant `{who}`{why}")));
        if self.api_key_env.trim().is_empty() {
            return inconsistent(" names no API key variable");
        }
        let live = &self.live.subscriptions;
        if live_fingerprint(live) != self.live.fingerprint {
            return inconsistent(": the live fingerprint does not match the stored live subscriptions");
        }
        // The manifest as it was loaded, for `apply`'s verification.
        let (saved, file) = (&self.manifest, PathBuf::from(&self.manifest.file));
        let mut manifest = MerchantManifest {
            label: self.merchant.clone(),
            file: file.clone(),
            api_key_env: self.api_key_env.clone(),
            canary: saved.canary,
            prune: saved.prune,
            ignore: saved.ignore.clone(),
            subscriptions: saved.subscriptions.clone(),
            allows: Allows {
                http: saved.allow_http,
                unknown_topics: saved.allow_unknown_topics,
            },
        };
        let locations = manifest.subscriptions.iter_mut().map(|s| &mut s.location);
        for at in locations.chain(manifest.ignore.iter_mut().map(|r| &mut r.location)) {
            at.file = file.clone();
        }
        // The changes must be the fresh plan's; `safety` is the file's for
        // `show`, and `apply` judges it by its own run's thresholds.
        let mut plan = plan::diff(&manifest, live);
        plan.safety = self.plan.safety;
        if save_plan(&plan) != self.plan {
            return inconsistent(&format!(
                ": the stored changes are not what its manifest and live state give \
                 (edited by hand, or written by another invhooks version: {tool_version})"
            ));
        }
        let live = live.clone();
        Ok(LoadedMerchant { manifest, live, plan })
    }
}

impl SavedPlan {
    pub fn new(
        tool_version: &str,
        base_url: &str,
        key_salt: String,
        mut merchants: Vec<SavedMerchant>,
    ) -> Self {
        merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
        // Over the manifest files' paths and digests.
        let mut files: Vec<_> = (merchants.iter())
            .map(|m| (&m.manifest.file, &m.manifest.sha256))
            .collect();
        files.sort();
        SavedPlan {
            kind: KIND.to_owned(),
            format_version: FORMAT_VERSION.to_owned(),
            tool_version: tool_version.to_owned(),
            sensitive: SENSITIVE.to_owned(),
            base_url: base_url.to_owned(),
            key_salt,
            manifest_digest: sha256_json(&("invhooks-manifests-v1", files)),
            merchants,
        }
    }

    /// Reads a saved plan and checks it against itself; `ours`: this build's version.
    pub fn parse(text: &str, ours: &str) -> Result<Loaded, PlanFileError> {
        use PlanFileError::{Damaged, Foreign, Inconsistent, JsonOutput, NotJson, Version};
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| NotJson(e.to_string()))?;
        let key = |k: &str| value.get(k);
        let text_of = |k: &str| key(k).and_then(|v| v.as_str());
        if text_of("kind") != Some(KIND) {
            let output = key("kind").is_none() && key("format_version").and(key("merchants")).is_some();
            return Err(if output { JsonOutput } else { Foreign });
        }
        let version = match key("format_version") {
            Some(serde_json::Value::String(s)) => s.clone(),
            other => other.map_or(String::new(), |v| v.to_string()),
        };
        if version != FORMAT_VERSION {
            return Err(Version {
                found: version,
                tool: text_of("tool_version").unwrap_or("unknown").to_owned(),
                ours: ours.to_owned(),
            });
        }
        // A damaged entry is named by its merchant.
        let file = SavedPlan::deserialize(&value).map_err(|e| {
            let label = (value["merchants"].as_array().into_iter().flatten())
                .filter(|m| SavedMerchant::deserialize(*m).is_err())
                .find_map(|m| m["merchant"].as_str());
            let at = label.map(|label| format!("merchant `{}`: ", escape(label)));
            Damaged(format!("{}{e}", at.unwrap_or_default()))
        })?;
        let mut labels = HashSet::new();
        if let Some(m) = file.merchants.iter().find(|m| !labels.insert(&m.merchant)) {
            return Err(Inconsistent(format!("merchant `{}` appears twice", m.merchant)));
        } else if file.merchants.is_empty() {
            return Err(Inconsistent("it names no merchant".to_owned()));
        }
        let merchants = file.merchants.iter().map(|m| m.load(&file.tool_version));
        let merchants = merchants.collect::<Result<_, _>>()?;
        Ok(Loaded { file, merchants })
    }
}

fn save_plan(plan: &MerchantPlan) -> SavedMerchantPlan {
    let changes = plan.changes.iter().map(|c| SavedChange {
        action: c.action(),
        topic: c.topic().to_owned(),
        name: c.name().to_owned(),
        id: c.id().map(str::to_owned),
        before: c.before().cloned(),
        after: c.after().cloned(),
        duplicate: c.is_duplicate(),
    });
    SavedMerchantPlan {
        merchant: plan.merchant.clone(),
        changes: changes.collect(),
        unmanaged: plan.unmanaged.clone(),
        summary: plan.summary,
        safety: plan.safety,
    }
}

/// A saved plan that passed every check: the file, and its merchants.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub file: SavedPlan,
    pub merchants: Vec<LoadedMerchant>,
}

#[derive(Debug, Clone)]
pub struct LoadedMerchant {
    pub manifest: MerchantManifest,
    pub live: Vec<LiveSubscription>,
    pub plan: MerchantPlan,
}

/// Live changes listed per stale merchant.
const MAX_STALE_LINES: usize = 10;

impl Loaded {
    pub fn plan(&self) -> Plan {
        Plan {
            merchants: self.merchants.iter().map(|m| m.plan.clone()).collect(),
        }
    }

    /// Why the plan, read from `shown`, cannot be applied against `base_url`.
    pub fn other_base_url(&self, base_url: &str, shown: &str) -> Option<Vec<String>> {
        let (was, now) = (mask_url(&self.file.base_url), mask_url(base_url));
        (self.file.base_url != base_url).then(|| {
            vec![
                format!("plan `{shown}` was computed against `{was}`, but this run talks to `{now}`; nothing was changed"),
                format!("use the same --base-url / INVETERATE_BASE_URL as the plan, or {}", replan(shown)),
            ]
        })
    }

    /// Why the plan cannot be applied with these keys (`digests`: in plan order).
    pub fn other_key(&self, digests: &[String], shown: &str) -> Option<Vec<String>> {
        let others = (self.file.merchants.iter().zip(digests)).filter(|(m, digest)| m.key_digest != **digest);
        let reasons: Vec<String> = others
            .map(|(m, _)| {
                let (label, env) = (&m.merchant, &m.api_key_env);
                format!("plan `{shown}` was saved for another API key: merchant `{label}` (`{env}`); nothing was changed")
            })
            .collect();
        let advice = format!("apply a plan with the key it was made with, or {}", replan(shown));
        (!reasons.is_empty()).then(|| [reasons, vec![advice]].concat())
    }

    /// Why the plan is stale given `fresh`, each merchant's live list now.
    pub fn stale(&self, fresh: &[Vec<LiveSubscription>], shown: &str, keys: &Keys) -> Option<Vec<String>> {
        let mut reasons = vec![format!(
            "plan is stale: `{shown}` no longer matches live state; nothing was changed"
        )];
        // The stored fingerprint was checked against the stored list on load.
        for ((m, saved), live) in self.merchants.iter().zip(&self.file.merchants).zip(fresh) {
            if live_fingerprint(live) != saved.live.fingerprint {
                let label = &m.manifest.label;
                reasons.push(format!(
                    "merchant `{label}`: live subscriptions changed since the plan was saved:"
                ));
                let lines = live_changes(&m.live, live, MAX_STALE_LINES, keys);
                reasons.extend(lines.into_iter().map(|line| format!("  {line}")));
            }
        }
        reasons.push(format!(
            "re-plan with `invhooks plan --out {shown}`, review it, then run `invhooks apply --plan {shown}`"
        ));
        (reasons.len() > 2).then_some(reasons)
    }
}

pub fn replan(shown: &str) -> String {
    format!("re-create it with `invhooks plan --out {shown}`, then run `invhooks apply --plan {shown}`")
}

/// How live state moved since a plan was saved: at most `max` lines, masked.
pub fn live_changes(
    was: &[LiveSubscription],
    now: &[LiveSubscription],
    max: usize,
    keys: &Keys,
) -> Vec<String> {
    let before: HashMap<&str, &LiveSubscription> = was.iter().map(|s| (s.id.as_str(), s)).collect();
    let after: HashSet<&str> = now.iter().map(|s| s.id.as_str()).collect();
    let mut lines = Vec::new();
    for s in now.iter().filter(|s| before.get(s.id.as_str()) != Some(s)) {
        let v = LiveView::of(s, keys);
        let Some(&o) = before.get(s.id.as_str()) else {
            lines.push(format!("added {} {} [{}] {}", v.topic, v.name, v.id, v.url));
            continue;
        };
        let was = LiveView::of(o, keys);
        let what = match (o.callback_url == s.callback_url, was.url == v.url) {
            (true, _) => format!("was {} {}", was.topic, was.name),
            (false, true) => format!(
                "callback URL {} ({})",
                v.url,
                url_note(&o.callback_url, &s.callback_url)
            ),
            (false, false) => format!("callback URL {} → {}", was.url, v.url),
        };
        lines.push(format!("changed {} {} [{}]: {what}", v.topic, v.name, v.id));
    }
    let removed = (was.iter())
        .filter(|o| !after.contains(o.id.as_str()))
        .map(|o| LiveView::of(o, keys));
    lines.extend(removed.map(|v| format!("removed {} {} [{}]", v.topic, v.name, v.id)));
    lines.sort();
    crate::render::first(max, lines.into_iter()).collect()
}

#[cfg(test)]
mod tests;
