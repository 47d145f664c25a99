//! Writing a saved plan: the file's text from a plan and what it was
//! computed from, and the fingerprints that pin that input.

use super::{
    SavedChange, SavedIgnore, SavedLive, SavedManifest, SavedMerchant, SavedMerchantPlan, SavedPlan,
    SavedSubscription, FORMAT_VERSION, KIND, SENSITIVE,
};
use crate::digest::sha256_json;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{Change, MerchantPlan, Plan};

/// The fingerprint of a live list: `sha256:` over the subscriptions' id,
/// topic, name and callback URL, sorted, in a fixed encoding. The order the
/// API returns them in does not matter; any other difference does.
pub fn live_fingerprint(live: &[LiveSubscription]) -> String {
    let mut rows: Vec<[&str; 4]> = live
        .iter()
        .map(|s| {
            [
                s.id.as_str(),
                s.topic.as_str(),
                s.name.as_str(),
                s.callback_url.as_str(),
            ]
        })
        .collect();
    rows.sort_unstable();
    sha256_json(&("invhooks-live-v1", rows))
}

/// The digest of all manifest files: `sha256:` over their paths and digests.
pub fn manifest_digest(files: &[(String, String)]) -> String {
    let mut files = files.to_vec();
    files.sort();
    sha256_json(&("invhooks-manifests-v1", files))
}

/// What a saved plan is made from, per merchant (in one order).
#[derive(Debug, Clone, Copy)]
pub struct Sources<'a> {
    /// The manifests.
    pub manifests: &'a [MerchantManifest],
    /// Their live lists.
    pub live: &'a [Vec<LiveSubscription>],
    /// Each manifest file's digest.
    pub files: &'a [String],
    /// Each merchant's key digest with `key_salt`.
    pub key_digests: &'a [String],
    /// The salt of the key digests.
    pub key_salt: &'a str,
}

/// Builds the saved plan of `plan`, computed from `sources`.
pub fn build(tool_version: &str, base_url: &str, sources: Sources<'_>, plan: &Plan) -> SavedPlan {
    let by_label: std::collections::HashMap<&str, &MerchantPlan> =
        plan.merchants.iter().map(|p| (p.merchant.as_str(), p)).collect();
    let mut merchants: Vec<SavedMerchant> = sources
        .manifests
        .iter()
        .zip(sources.live)
        .zip(sources.files.iter().zip(sources.key_digests))
        .filter_map(|((m, live), (sha, key_digest))| {
            let merchant_plan = *by_label.get(m.label.as_str())?;
            let mut subscriptions = live.clone();
            subscriptions.sort();
            Some(SavedMerchant {
                merchant: m.label.clone(),
                api_key_env: m.api_key_env.clone(),
                key_digest: key_digest.clone(),
                manifest: save_manifest(m, sha),
                live: SavedLive {
                    fingerprint: live_fingerprint(&subscriptions),
                    subscriptions,
                },
                plan: save_plan(merchant_plan),
            })
        })
        .collect();
    merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    let digests: Vec<(String, String)> = merchants
        .iter()
        .map(|m| (m.manifest.file.clone(), m.manifest.sha256.clone()))
        .collect();
    SavedPlan {
        kind: KIND.to_owned(),
        format_version: FORMAT_VERSION.to_owned(),
        tool_version: tool_version.to_owned(),
        sensitive: SENSITIVE.to_owned(),
        base_url: base_url.to_owned(),
        key_salt: sources.key_salt.to_owned(),
        manifest_digest: manifest_digest(&digests),
        merchants,
    }
}

impl SavedPlan {
    /// The file's text: pretty JSON with a trailing newline.
    pub fn to_json(&self) -> String {
        crate::render::json::pretty(self)
    }
}

fn save_manifest(m: &MerchantManifest, sha: &str) -> SavedManifest {
    SavedManifest {
        file: m.file.display().to_string(),
        sha256: sha.to_owned(),
        prune: m.prune,
        canary: m.canary,
        ignore: m
            .ignore
            .iter()
            .map(|r| SavedIgnore {
                name: r.name.as_ref().map(|p| p.as_str().to_owned()),
                topic: r.topic.as_ref().map(|p| p.as_str().to_owned()),
                callback_url: r.callback_url.as_ref().map(|p| p.as_str().to_owned()),
                line: r.location.line,
            })
            .collect(),
        subscriptions: m
            .subscriptions
            .iter()
            .map(|s| SavedSubscription {
                topic: s.topic.clone(),
                name: s.name.clone(),
                callback_url: s.callback_url.clone(),
                renamed_from: s.renamed_from.clone(),
                masking: s.masking,
                line: s.location.line,
            })
            .collect(),
        allow_http: m.allows.http,
        allow_unknown_topics: m.allows.unknown_topics,
    }
}

fn save_plan(plan: &MerchantPlan) -> SavedMerchantPlan {
    SavedMerchantPlan {
        merchant: plan.merchant.clone(),
        changes: plan.changes.iter().map(save_change).collect(),
        unmanaged: plan.unmanaged.clone(),
        summary: plan.summary,
        safety: plan.safety,
    }
}

fn save_change(change: &Change) -> SavedChange {
    SavedChange {
        action: change.action(),
        topic: change.topic().to_owned(),
        name: change.name().to_owned(),
        id: change.id().map(str::to_owned),
        before: change.before().cloned(),
        after: change.after().cloned(),
        duplicate: change.is_duplicate(),
    }
}
