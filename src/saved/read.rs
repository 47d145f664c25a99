//! Reading a saved plan ([`Loaded`]), checked against itself before any
//! request; then whether it still applies (same base URL, key and live
//! state), in the lines `apply --plan` prints.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use serde::Deserialize as _;

use super::{live_fingerprint, save_plan, PlanFileError, SavedMerchant, SavedPlan, FORMAT_VERSION, KIND};
use crate::escape::escape;
use crate::model::{Allows, LiveSubscription, MerchantManifest};
use crate::plan::{self, MerchantPlan, Plan};
use crate::render::view::{url_note, LiveView};
use crate::secret::{mask_url, Keys};

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

impl Loaded {
    pub fn plan(&self) -> Plan {
        Plan {
            merchants: self.merchants.iter().map(|m| m.plan.clone()).collect(),
        }
    }
}

impl SavedPlan {
    /// Reads a saved plan and checks it against itself; `ours`: this build's version.
    pub fn parse(text: &str, ours: &str) -> Result<Loaded, PlanFileError> {
        let file = Self::parse_file(text, ours)?;
        let mut labels = HashSet::new();
        if let Some(m) = file.merchants.iter().find(|m| !labels.insert(&m.merchant)) {
            let twice = format!("merchant `{}` appears twice", m.merchant);
            return Err(PlanFileError::Inconsistent(twice));
        } else if file.merchants.is_empty() {
            return Err(PlanFileError::Inconsistent("it names no merchant".to_owned()));
        }
        let merchants = file.merchants.iter().map(|m| m.load(&file.tool_version));
        let merchants = merchants.collect::<Result<_, _>>()?;
        Ok(Loaded { file, merchants })
    }

    fn parse_file(text: &str, ours: &str) -> Result<SavedPlan, PlanFileError> {
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| PlanFileError::NotJson(e.to_string()))?;
        let str_key = |key: &str| value.get(key).and_then(|v| v.as_str());
        if str_key("kind") != Some(KIND) {
            let output = value.get("kind").is_none() && value.get("format_version").is_some();
            return Err(match output && value.get("merchants").is_some() {
                true => PlanFileError::JsonOutput,
                false => PlanFileError::Foreign,
            });
        }
        let version = match value.get("format_version") {
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        if version != FORMAT_VERSION {
            let tool = str_key("tool_version").unwrap_or("unknown").to_owned();
            return Err(PlanFileError::Version {
                found: version,
                tool,
                ours: ours.to_owned(),
            });
        }
        SavedPlan::deserialize(&value).map_err(|e| PlanFileError::Damaged(damaged(&value, &e)))
    }
}

/// `error`, with the merchant whose entry holds it when one does.
fn damaged(value: &serde_json::Value, error: &serde_json::Error) -> String {
    let label = (value["merchants"].as_array().into_iter().flatten())
        .filter(|m| SavedMerchant::deserialize(*m).is_err())
        .find_map(|m| m["merchant"].as_str());
    match label {
        Some(label) => format!("merchant `{}`: {error}", escape(label)),
        None => error.to_string(),
    }
}

impl SavedMerchant {
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
        let manifest = self.manifest();
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

    /// The manifest as it was loaded, for `apply`'s verification.
    fn manifest(&self) -> MerchantManifest {
        let (saved, file) = (&self.manifest, PathBuf::from(&self.manifest.file));
        let mut m = MerchantManifest {
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
        let ignored = m.ignore.iter_mut().map(|r| &mut r.location);
        for at in m.subscriptions.iter_mut().map(|s| &mut s.location).chain(ignored) {
            at.file = file.clone();
        }
        m
    }
}

/// Live changes listed per stale merchant.
const MAX_STALE_LINES: usize = 10;

impl Loaded {
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
    saved: &[LiveSubscription],
    now: &[LiveSubscription],
    max: usize,
    keys: &Keys,
) -> Vec<String> {
    let before: HashMap<&str, &LiveSubscription> = saved.iter().map(|s| (s.id.as_str(), s)).collect();
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
    let removed = saved
        .iter()
        .filter(|o| !after.contains(o.id.as_str()))
        .map(|o| LiveView::of(o, keys));
    lines.extend(removed.map(|v| format!("removed {} {} [{}]", v.topic, v.name, v.id)));
    lines.sort();
    if lines.len() > max {
        let more = lines.len() - max;
        lines.truncate(max);
        lines.push(format!("and {more} more"));
    }
    lines
}
