//! Writing a saved plan: the file's text from what the plan is computed
//! from, and the fingerprints that pin that input.

use super::{
    SavedChange, SavedIgnore, SavedLive, SavedManifest, SavedMerchant, SavedMerchantPlan, SavedPlan,
    SavedSubscription, FORMAT_VERSION, KIND, SENSITIVE,
};
use crate::digest::sha256_json;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::{self, MerchantPlan, Thresholds};

/// The fingerprint of a live list: `sha256:` over the subscriptions' id,
/// topic, name and callback URL, sorted, in a fixed encoding. The order the
/// API returns them in does not matter; any other difference does.
pub fn live_fingerprint(live: &[LiveSubscription]) -> String {
    let mut rows: Vec<[&str; 4]> = live
        .iter()
        .map(|s| [&*s.id, &s.topic, &s.name, &s.callback_url])
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
    pub manifests: &'a [MerchantManifest],
    /// Their live lists.
    pub live: &'a [Vec<LiveSubscription>],
    /// Each manifest file's digest.
    pub files: &'a [String],
    /// Each merchant's key digest with `key_salt`.
    pub key_digests: &'a [String],
    pub key_salt: &'a str,
    /// Those of the run, for [`MerchantPlan::safety`].
    pub thresholds: &'a Thresholds,
}

/// The saved plan of `sources`, made against `base_url`.
pub fn build(tool_version: &str, base_url: &str, sources: Sources<'_>) -> SavedPlan {
    let per_merchant = sources.manifests.iter().zip(sources.live);
    let per_merchant = per_merchant.zip(sources.files.iter().zip(sources.key_digests));
    let mut merchants: Vec<SavedMerchant> = per_merchant
        .map(|((m, live), (sha, key_digest))| {
            let mut subscriptions = live.clone();
            subscriptions.sort();
            SavedMerchant {
                merchant: m.label.clone(),
                api_key_env: m.api_key_env.clone(),
                key_digest: key_digest.clone(),
                manifest: save_manifest(m, sha),
                plan: save_plan(&plan::diff_with(m, live, sources.thresholds)),
                live: SavedLive {
                    fingerprint: live_fingerprint(&subscriptions),
                    subscriptions,
                },
            }
        })
        .collect();
    merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    let files: Vec<_> = merchants
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
        manifest_digest: manifest_digest(&files),
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
    let glob = |p: &Option<crate::model::Pattern>| p.as_ref().map(|p| p.as_str().to_owned());
    SavedManifest {
        file: m.file.display().to_string(),
        sha256: sha.to_owned(),
        prune: m.prune,
        canary: m.canary,
        ignore: (m.ignore.iter())
            .map(|r| SavedIgnore {
                name: glob(&r.name),
                topic: glob(&r.topic),
                callback_url: glob(&r.callback_url),
                line: r.location.line,
            })
            .collect(),
        subscriptions: (m.subscriptions.iter())
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

/// The plan as the file stores it; reading compares a fresh plan this way.
pub(super) fn save_plan(plan: &MerchantPlan) -> SavedMerchantPlan {
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
