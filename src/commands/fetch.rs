//! From manifests to [`Target`]s: load and validate the files, read each
//! merchant's key, and fetch every live list (one GET per merchant,
//! concurrently) with the hints a failed read needs. `plan`, `drift`,
//! `apply` and `apply --plan` all come through here.

use std::path::PathBuf;

use super::{Context, Helped};
use crate::api::{self, ApiKey, Client};
use crate::manifest;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::Plan;

/// Reads the process environment, for manifest `${VAR}` expansion.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and validates manifests; diagnostics become one error (and, on
/// GitHub Actions, annotations too).
pub fn load(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<MerchantManifest>> {
    let manifests = manifest::load_paths(files, &process_env).map_err(|d| problems(ctx, &d))?;
    police(ctx, &manifests)?;
    Ok(manifests)
}

/// Checks manifests against the policy, if any (README "Callback host
/// policy"): a callback host it does not allow is a validation error.
pub fn police(ctx: &Context, manifests: &[MerchantManifest]) -> anyhow::Result<()> {
    let Some(policy) = &ctx.policy else {
        return Ok(());
    };
    match policy.check(manifests) {
        found if found.is_empty() => Ok(()),
        found => Err(problems(ctx, &manifest::Diagnostics(found))),
    }
}

/// Validation problems as one error (and, on GitHub Actions, annotations).
fn problems(ctx: &Context, d: &manifest::Diagnostics) -> anyhow::Error {
    ctx.annotate(d);
    match d.0.len() {
        1 => anyhow::anyhow!("{d}"),
        n => anyhow::anyhow!("{d}\n{n} problems found in the manifest; nothing was sent to the API"),
    }
}

/// One merchant ready to plan: its manifest, client and live state.
#[derive(Debug)]
pub struct Target {
    /// The merchant's manifest.
    pub manifest: MerchantManifest,
    /// A client holding the merchant's key.
    pub client: Client,
    /// The merchant's key (saved plans bind to it).
    pub key: ApiKey,
    /// Live subscriptions, read with one GET.
    pub live: Vec<LiveSubscription>,
}

/// Reads each merchant's key from its environment variable.
pub fn api_key(env_name: &str, who: &str) -> anyhow::Result<ApiKey> {
    match std::env::var(env_name) {
        Ok(key) if !key.trim().is_empty() => Ok(ApiKey::new(key.trim().to_owned())),
        _ => Err(Helped::wrap(
            anyhow::anyhow!("environment variable `{env_name}` is not set or empty ({who})"),
            format!("export {env_name}=<private API key from Inveterate Admin → Settings>; keys are never accepted as flags"),
        )),
    }
}

/// Loads manifests, then reads every merchant's live list.
pub async fn fetch(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<Target>> {
    let manifests = load(ctx, files)?;
    targets(ctx, manifests, |m| {
        format!("merchant `{}` in {}", m.label, m.file.display())
    })
    .await
}

/// Reads every merchant's live list (one GET each, concurrently) with the
/// key its manifest names; `who` says where a merchant was declared, for
/// the message when its key is missing. The first failed read is the error.
pub async fn targets(
    ctx: &Context,
    manifests: Vec<MerchantManifest>,
    who: impl Fn(&MerchantManifest) -> String,
) -> anyhow::Result<Vec<Target>> {
    // Two merchants with one key manage one store twice: each run would
    // delete the other's subscriptions. Compared by digest, never shown.
    let same = manifest::same_store(&manifests, &process_env);
    if !same.is_empty() {
        return Err(problems(ctx, &manifest::Diagnostics(same)));
    }
    let mut clients = Vec::with_capacity(manifests.len());
    for m in &manifests {
        let key = api_key(&m.api_key_env, &who(m))?;
        clients.push((ctx.client(&key)?, key));
    }
    let lists = futures_util::future::join_all(clients.iter().map(|(c, _)| c.list())).await;
    let mut targets = Vec::with_capacity(manifests.len());
    for ((manifest, (client, key)), live) in manifests.into_iter().zip(clients).zip(lists) {
        let live = live.map_err(|e| unreadable(&manifest, e))?;
        targets.push(Target {
            manifest,
            client,
            key,
            live,
        });
    }
    Ok(targets)
}

/// A failed list read, with what to check.
fn unreadable(manifest: &MerchantManifest, e: api::ApiError) -> anyhow::Error {
    let help = if matches!(e.failure, api::Failure::Tls(_)) {
        "if a corporate proxy or a private CA signs the server's certificate, pass that CA with --ca-cert FILE (or SSL_CERT_FILE); verification is never turned off".to_owned()
    } else if matches!(
        e.failure,
        api::Failure::Body(api::envelope::BodyError::Incomplete(_))
    ) {
        "nothing was changed; the list must arrive whole in one GET: show the response (-vv) to Inveterate support".to_owned()
    } else if e.is_auth() {
        format!(
            "check that `{}` holds this merchant's private API key",
            manifest.api_key_env
        )
    } else {
        "check the network, --base-url and --timeout, then re-run".to_owned()
    };
    Helped::wrap(
        anyhow::Error::new(e).context(format!(
            "merchant `{}`: could not read live subscriptions",
            manifest.label
        )),
        help,
    )
}

/// Plans every target, with the policy's safety thresholds if any.
pub fn plan_targets(ctx: &Context, targets: &[Target]) -> Plan {
    crate::plan::diff_all_with(
        targets.iter().map(|t| (&t.manifest, t.live.as_slice())),
        &ctx.thresholds(),
    )
}
