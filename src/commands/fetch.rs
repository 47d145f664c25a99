//! From manifests to [`Target`]s: load and validate the files, keep the
//! selected merchants (`--merchant`, `--shard`), read each merchant's key,
//! and fetch every live list (one GET per merchant, a bounded number at
//! once) with the hints a failed read needs. `plan`, `drift`, `apply` and
//! `apply --plan` all come through here.

use std::path::PathBuf;

use tokio::sync::Semaphore;

use super::{Context, Helped};
use crate::api::{self, ApiKey, Client};
use crate::apply::Remote as _;
use crate::cli::SelectArgs;
use crate::manifest;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::Plan;
use crate::select::Selection;

/// List reads in flight across merchants when the command has no flags for
/// it: `apply`'s defaults, `--merchant-parallelism` 16 × `--parallelism` 4
/// (README "Agencies and fleets").
pub const READS_IN_FLIGHT: usize = 16 * 4;

/// Reads the process environment, for manifest `${VAR}` expansion and key
/// comparison: a snapshot taken on first use (one map lookup per `${VAR}`,
/// however many merchants and fields; invhooks never sets a variable).
pub fn process_env(name: &str) -> Option<String> {
    static SNAPSHOT: std::sync::OnceLock<std::collections::HashMap<String, String>> =
        std::sync::OnceLock::new();
    SNAPSHOT
        .get_or_init(|| {
            std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect()
        })
        .get(name)
        .cloned()
}

/// Loads and validates manifests, then checks them against the policy;
/// diagnostics become one error (and, on GitHub Actions, annotations
/// too). Nothing is sent to the API before this has passed.
pub fn load(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<MerchantManifest>> {
    validated(ctx, files).map_err(|d| problems(ctx, &d))
}

/// [`load`] for a command that needs only each merchant's label and key
/// variable (`trigger`, `doctor`): an unset `${VAR}` reads as a placeholder
/// URL (`https://unset.invalid/VAR`), which nothing sends or shows.
pub fn load_keys_only(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<MerchantManifest>> {
    let env = |name: &str| process_env(name).or_else(|| Some(format!("https://unset.invalid/{name}")));
    manifest::load_paths(files, &env).map_err(|d| problems(ctx, &d))
}

/// The manifests, or every problem in them and against the policy (as
/// data: `validate --format json`).
pub fn validated(ctx: &Context, files: &[PathBuf]) -> Result<Vec<MerchantManifest>, manifest::Diagnostics> {
    let manifests = manifest::load_paths(files, &process_env)?;
    match policed(ctx, &manifests) {
        found if found.is_empty() => Ok(manifests),
        found => Err(manifest::Diagnostics(found)),
    }
}

/// Checks manifests against the policy, if any (README "Callback host
/// policy"): a callback host it does not allow is a validation error.
pub fn police(ctx: &Context, manifests: &[MerchantManifest]) -> anyhow::Result<()> {
    match policed(ctx, manifests) {
        found if found.is_empty() => Ok(()),
        found => Err(problems(ctx, &manifest::Diagnostics(found))),
    }
}

/// What the policy, if any, finds wrong with `manifests`.
fn policed(ctx: &Context, manifests: &[MerchantManifest]) -> Vec<manifest::Diagnostic> {
    ctx.policy
        .as_ref()
        .map(|p| p.check(manifests))
        .unwrap_or_default()
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
    match process_env(env_name) {
        Some(key) if !key.trim().is_empty() => Ok(ApiKey::new(key.trim().to_owned())),
        _ => Err(Helped::wrap(
            anyhow::anyhow!("environment variable `{env_name}` is not set or empty ({who})"),
            format!("export {env_name}=<private API key from Inveterate Admin → Settings>; keys are never accepted as flags"),
        )),
    }
}

/// Loads manifests, keeps the selected merchants, then reads their live
/// lists, at most `reads` at once. An invalid manifest sends nothing.
pub async fn fetch(
    ctx: &Context,
    files: &[PathBuf],
    select: &SelectArgs,
    reads: usize,
) -> anyhow::Result<Vec<Target>> {
    let manifests = load(ctx, files)?;
    // Checked over every merchant, not only the selected: two shards
    // sharing a store would undo each other.
    refuse_same_store(ctx, &manifests)?;
    let manifests = selected(ctx, manifests, select)?;
    read_lists(ctx, manifests, reads, |m| {
        format!("merchant `{}` in {}", m.label, m.file.display())
    })
    .await
}

/// A merchant a command reads the key of without planning it (`trigger`,
/// `doctor`): its label, its key variable, and where it was declared.
#[derive(Debug)]
pub struct Keyed {
    /// The label, or the key variable when there is no manifest.
    pub label: String,
    /// The variable holding its key.
    pub key_env: String,
    /// Where it was declared, for the message when the key is missing.
    pub who: String,
}

/// The manifest read when no `-f` is given, if it exists.
const DEFAULT_MANIFEST: &str = "webhooks.yaml";
/// The key variable used when there is no manifest.
const DEFAULT_KEY_ENV: &str = "INVETERATE_API_KEY";

/// The merchants of `files` that the `merchants` globs select; without
/// `-f`, those of `webhooks.yaml` when it exists, else one reading
/// `INVETERATE_API_KEY` (as `export` does), declared by `command`.
pub fn keyed(
    ctx: &Context,
    files: &[PathBuf],
    merchants: &[String],
    command: &str,
) -> anyhow::Result<Vec<Keyed>> {
    let files: Vec<PathBuf> = match files {
        [] if std::path::Path::new(DEFAULT_MANIFEST).exists() => vec![PathBuf::from(DEFAULT_MANIFEST)],
        [] if merchants.is_empty() => {
            let (label, key_env) = (DEFAULT_KEY_ENV.to_owned(), DEFAULT_KEY_ENV.to_owned());
            let who = command.to_owned();
            return Ok(vec![Keyed { label, key_env, who }]);
        }
        [] => anyhow::bail!("`--merchant` selects merchants of manifests; pass them with -f PATH"),
        files => files.to_vec(),
    };
    let selection = SelectArgs {
        merchants: merchants.to_vec(),
        shard: None,
    };
    // Only keys are needed: a manifest's other variables may be unset.
    let manifests = selected(ctx, load_keys_only(ctx, &files)?, &selection)?;
    Ok(manifests
        .into_iter()
        .map(|m| Keyed {
            who: format!("merchant `{}` in {}", m.label, m.file.display()),
            label: m.label,
            key_env: m.api_key_env,
        })
        .collect())
}

/// Keeps the merchants `select` picks (README "Agencies and fleets"); a
/// `--merchant` glob matching no label is an error, an empty shard is not.
pub fn selected(
    ctx: &Context,
    manifests: Vec<MerchantManifest>,
    select: &SelectArgs,
) -> anyhow::Result<Vec<MerchantManifest>> {
    let selection = Selection::new(&select.merchants, select.shard).map_err(|(glob, e)| {
        Helped::wrap(
            anyhow::anyhow!("`--merchant {glob}` is not a valid glob: {e}"),
            "use `*` and `?` wildcards, e.g. `--merchant 'store-*'`",
        )
    })?;
    if selection.is_everything() {
        return Ok(manifests);
    }
    let labels: Vec<&str> = manifests.iter().map(|m| m.label.as_str()).collect();
    if let Some(glob) = selection.unmatched(&labels).first() {
        let mut some: Vec<String> = labels.iter().take(5).map(|l| format!("`{l}`")).collect();
        if labels.len() > some.len() {
            some.push(format!("… ({} in all)", labels.len()));
        }
        return Err(Helped::wrap(
            anyhow::anyhow!("no merchant matches `--merchant {glob}`"),
            format!("the manifests declare {}", some.join(", ")),
        ));
    }
    let kept: Vec<_> = manifests
        .into_iter()
        .filter(|m| selection.selects(&m.label))
        .collect();
    if kept.is_empty() {
        if let Some(shard) = select.shard {
            ctx.status(&format!("no merchant in shard {shard}"));
        }
    }
    Ok(kept)
}

/// Two merchants with one key manage one store twice: each run would
/// delete the other's subscriptions. Compared by digest, never shown.
fn refuse_same_store(ctx: &Context, manifests: &[MerchantManifest]) -> anyhow::Result<()> {
    let same = manifest::same_store(manifests, &process_env);
    match same.is_empty() {
        true => Ok(()),
        false => Err(problems(ctx, &manifest::Diagnostics(same))),
    }
}

/// Reads every merchant's live list (one GET each, at most `reads` at once,
/// in manifest order) with the key its manifest names; `who` says where a
/// merchant was declared, for the message when its key is missing. The
/// first failed read (in manifest order) is the error. Two merchants with
/// one key are refused first ([`fetch`] checks that over every manifest).
pub async fn targets(
    ctx: &Context,
    manifests: Vec<MerchantManifest>,
    reads: usize,
    who: impl Fn(&MerchantManifest) -> String,
) -> anyhow::Result<Vec<Target>> {
    refuse_same_store(ctx, &manifests)?;
    read_lists(ctx, manifests, reads, who).await
}

/// Reads every merchant's live list with its key, at most `reads` at once
/// (permits granted in manifest order, so no read waits behind a slower
/// one); the first failed read (in manifest order) is the error.
async fn read_lists(
    ctx: &Context,
    manifests: Vec<MerchantManifest>,
    reads: usize,
    who: impl Fn(&MerchantManifest) -> String,
) -> anyhow::Result<Vec<Target>> {
    let permits = Semaphore::new(reads.max(1));
    let mut clients = Vec::with_capacity(manifests.len());
    for m in &manifests {
        let key = api_key(&m.api_key_env, &who(m))?;
        clients.push((ctx.client(&key)?, key));
    }
    let lists = futures_util::future::join_all(clients.iter().map(|(c, _)| async {
        let _permit = permits.acquire().await;
        c.list().await
    }))
    .await;
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
    let help = read_help(&e, &manifest.api_key_env);
    Helped::wrap(
        anyhow::Error::new(e).context(format!(
            "merchant `{}`: could not read live subscriptions",
            manifest.label
        )),
        help,
    )
}

/// What to check after a failed list read with the key in `key_env`
/// (`doctor` says the same).
pub fn read_help(e: &api::ApiError, key_env: &str) -> String {
    if matches!(e.failure, api::Failure::Tls(_)) {
        "if a corporate proxy or a private CA signs the server's certificate, pass that CA with --ca-cert FILE (or SSL_CERT_FILE); verification is never turned off".to_owned()
    } else if matches!(
        e.failure,
        api::Failure::Body(api::envelope::BodyError::Incomplete(_))
    ) {
        "nothing was changed; the list must arrive whole in one GET: show the response (-vv) to Inveterate support".to_owned()
    } else if e.is_auth() {
        format!("check that `{key_env}` holds this merchant's private API key")
    } else {
        "check the network, --base-url and --timeout, then re-run".to_owned()
    }
}

/// Plans every target, with the policy's safety thresholds if any.
pub fn plan_targets(ctx: &Context, targets: &[Target]) -> Plan {
    crate::plan::diff_all_with(
        targets.iter().map(|t| (&t.manifest, t.live.as_slice())),
        &ctx.thresholds(),
    )
}
