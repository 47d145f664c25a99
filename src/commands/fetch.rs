//! From manifests to [`Target`]s: load and police the files, select merchants, read
//! their keys, then every live list (one GET per merchant, a bounded number at once).

use std::path::{Path, PathBuf};

use super::{Context, Helped};
use crate::api::{self, ApiKey, Client};
use crate::apply::Remote as _;
use crate::cli::{KeyedArgs, SelectArgs};
use crate::manifest::{self, Diagnostics};
use crate::model::{LiveSubscription, MerchantManifest, Pattern};
use crate::plan::Plan;
use crate::select::Shard;

/// List reads in flight without flags for it: `apply`'s defaults (16 merchants × 4).
pub const READS_IN_FLIGHT: usize = 16 * 4;

/// The process environment, for `${VAR}` expansion and keys.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// The manifests, policed, or one error: nothing is sent before this passes.
pub fn load(ctx: &Context, files: &[PathBuf], keys: bool) -> anyhow::Result<Vec<MerchantManifest>> {
    validated(ctx, files, keys).map_err(|d| problems(ctx, &d))
}

/// The manifests, or every problem in them and against the policy, as data.
pub fn validated(ctx: &Context, files: &[PathBuf], keys: bool) -> Result<Vec<MerchantManifest>, Diagnostics> {
    ctx.policy()?;
    let manifests = manifest::load_paths(files, &process_env)?;
    police(ctx, &manifests, keys)?;
    Ok(manifests)
}

/// The policy file's problems, else the policy's with `manifests` (docs/policy.md); then, with
/// `keys`, two merchants with one key, who would manage one store twice, each deleting the
/// other's subscriptions.
pub fn police(ctx: &Context, manifests: &[MerchantManifest], keys: bool) -> Result<(), Diagnostics> {
    let mut found = ctx.policy()?.map_or_else(Vec::new, |p| p.check(manifests));
    if keys && found.is_empty() {
        found = manifest::same_store(manifests, &process_env);
    }
    found.is_empty().then_some(()).ok_or(Diagnostics(found))
}

/// Validation problems as one error (and, on GitHub Actions, annotations).
pub fn problems(ctx: &Context, d: &Diagnostics) -> anyhow::Error {
    ctx.annotations(|w, cwd| crate::render::github::diagnostics(&d.0, w, cwd));
    match d.0.len() {
        _ if ctx.policy().is_err() => {
            anyhow::anyhow!("{d}\nthe policy file has problems; nothing was sent to the API")
        }
        1 => anyhow::anyhow!("{d}"),
        n => anyhow::anyhow!("{d}\n{n} problems found in the manifest; nothing was sent to the API"),
    }
}

/// One merchant ready to plan: its manifest, key, client and live list.
#[derive(Debug)]
pub struct Target {
    pub manifest: MerchantManifest,
    pub client: Client,
    /// Saved plans bind to it.
    pub key: ApiKey,
    pub live: Vec<LiveSubscription>,
}

/// A merchant's key from `env_name`; `who` says where it was declared.
pub fn api_key(env_name: &str, who: &str) -> Result<ApiKey, Helped> {
    match process_env(env_name) {
        Some(key) if !key.trim().is_empty() => Ok(ApiKey::new(key.trim().to_owned())),
        _ => Err(Helped {
            error: anyhow::anyhow!("environment variable `{env_name}` is not set or empty ({who})"),
            help: format!("export {env_name}=<private API key from Inveterate Admin → Settings>; keys are never accepted as flags"),
        }),
    }
}

/// The selected merchants' targets (at most `reads` list reads at once) and their plan.
pub async fn fetch(
    ctx: &Context,
    files: &[PathBuf],
    select: &SelectArgs,
    reads: usize,
) -> anyhow::Result<(Vec<Target>, Plan)> {
    // Keys over every merchant, not only the selected: two shards sharing
    // a store would undo each other.
    let manifests = load(ctx, files, true)?;
    let manifests = selected(ctx, manifests, &select.merchants, select.shard)?;
    let who = |m: &MerchantManifest| format!("merchant `{}` in {}", m.label, m.file.display());
    let targets = targets(ctx, manifests, reads, who).await?;
    let merchants = targets.iter().map(|t| (&t.manifest, t.live.as_slice()));
    let plan = crate::plan::diff_all(merchants, &ctx.thresholds());
    Ok((targets, plan))
}

/// A merchant whose key `trigger` or `doctor` uses; `who` says where it was declared.
#[derive(Debug)]
pub struct Keyed {
    pub label: String,
    pub key_env: String,
    pub who: String,
}

/// The merchants `--merchant` selects of `-f`, else of `webhooks.yaml`, else `INVETERATE_API_KEY`.
pub fn keyed(ctx: &Context, args: &KeyedArgs, command: &str) -> anyhow::Result<Vec<Keyed>> {
    const DEFAULT_MANIFEST: &str = "webhooks.yaml";
    let files = match &args.files[..] {
        [] if Path::new(DEFAULT_MANIFEST).exists() => vec![PathBuf::from(DEFAULT_MANIFEST)],
        [] if args.merchants.is_empty() => {
            let key_env = manifest::DEFAULT_API_KEY_ENV;
            let (label, key_env, who) = (key_env.into(), key_env.into(), command.into());
            return Ok(vec![Keyed { label, key_env, who }]);
        }
        [] => anyhow::bail!("`--merchant` selects merchants of manifests; pass them with -f PATH"),
        files => files.to_vec(),
    };
    // Only keys are needed: an unset `${VAR}` elsewhere reads as a URL
    // nothing sends or shows.
    let env = |name: &str| process_env(name).or_else(|| Some(format!("https://unset.invalid/{name}")));
    let manifests = manifest::load_paths(&files, &env).map_err(|d| problems(ctx, &d))?;
    let keyed = |m: MerchantManifest| Keyed {
        who: format!("merchant `{}` in {}", m.label, m.file.display()),
        label: m.label,
        key_env: m.api_key_env,
    };
    Ok(selected(ctx, manifests, &args.merchants, None)?
        .into_iter()
        .map(keyed)
        .collect())
}

/// The merchants `--merchant` and `--shard` pick; a glob matching no label is an error, an empty shard not.
pub fn selected(
    ctx: &Context,
    mut manifests: Vec<MerchantManifest>,
    merchants: &[String],
    shard: Option<Shard>,
) -> anyhow::Result<Vec<MerchantManifest>> {
    let globs = (merchants.iter())
        .map(|glob| {
            Pattern::new(glob).map_err(|e| {
                let help = "use `*` and `?` wildcards, e.g. `--merchant 'store-*'`";
                Helped::msg(format!("`--merchant {glob}` is not a valid glob: {e}"), help)
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let labels: Vec<&str> = manifests.iter().map(|m| m.label.as_str()).collect();
    if let Some(glob) = globs.iter().find(|g| !labels.iter().any(|l| g.is_match(l))) {
        let some: Vec<String> = super::first(5, labels.iter().map(|l| format!("`{l}`"))).collect();
        return Err(Helped::msg(
            format!("no merchant matches `--merchant {}`", glob.as_str()),
            format!("the manifests declare {}", some.join(", ")),
        ));
    }
    let globbed = |label: &str| globs.is_empty() || globs.iter().any(|g| g.is_match(label));
    manifests.retain(|m| globbed(&m.label) && shard.is_none_or(|s| s.holds(&m.label)));
    if let (true, Some(shard)) = (manifests.is_empty(), shard) {
        ctx.status(&format!("no merchant in shard {shard}"));
    }
    Ok(manifests)
}

/// Every merchant's live list, at most `reads` at once; the first failure in manifest order is the error.
pub async fn targets(
    ctx: &Context,
    manifests: Vec<MerchantManifest>,
    reads: usize,
    who: impl Fn(&MerchantManifest) -> String,
) -> anyhow::Result<Vec<Target>> {
    let permits = tokio::sync::Semaphore::new(reads.max(1));
    let keyed = (manifests.into_iter())
        .map(|m| {
            let key = api_key(&m.api_key_env, &who(&m))?;
            Ok((ctx.client(&key)?, key, m))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let lists = futures_util::future::join_all(keyed.iter().map(|(c, _, _)| async {
        let _permit = permits.acquire().await;
        c.list().await
    }))
    .await;
    (keyed.into_iter().zip(lists))
        .map(|((client, key, manifest), live)| {
            let live = live.map_err(|e| {
                let help = read_help(&e, &manifest.api_key_env);
                let what = format!("merchant `{}`: could not read live subscriptions", manifest.label);
                Helped::wrap(anyhow::Error::new(e).context(what), help)
            })?;
            Ok(Target {
                manifest,
                client,
                key,
                live,
            })
        })
        .collect()
}

/// What to check after a failed list read (`doctor` says the same).
pub fn read_help(e: &api::ApiError, key_env: &str) -> String {
    match &e.failure {
        api::Failure::Tls(_) => "if a corporate proxy or a private CA signs the server's certificate, pass that CA with --ca-cert FILE (or SSL_CERT_FILE); verification is never turned off".to_owned(),
        api::Failure::Body(api::envelope::BodyError::Incomplete(_)) => "nothing was changed; the list must arrive whole in one GET: show the response (-vv) to Inveterate support".to_owned(),
        _ if e.is_auth() => format!("check that `{key_env}` holds this merchant's private API key"),
        _ => "check the network, --base-url and --timeout, then re-run".to_owned(),
    }
}
