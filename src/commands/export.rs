//! `invhooks export`: the live subscriptions of one merchant as a manifest,
//! or of several (`--store LABEL=VAR`, repeated) as one fleet file, in a
//! stable order, so that `plan` on the output reports no changes (README.md
//! "Export a fleet"). The one output with real URL values; secrets get a
//! warning, keys are never written.

use std::path::Path;

use super::context::Sink;
use super::fetch::{targets, READS_IN_FLIGHT};
use super::{api_key, process_env, Context, Helped};
use crate::api::{self, ApiKey};
use crate::cli::ExportArgs;
use crate::exit::Exit;
use crate::manifest::{self, FleetError, StoreArg, StoreLive};
use crate::model::{LiveSubscription, MerchantManifest};
use anyhow::Context as _;

/// Most refusal lines shown; the rest are counted.
const SHOWN: usize = 20;

/// Runs `export`.
pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<Exit> {
    if let Some(path) = &args.output {
        // Before any request: a manifest in git is not replaced by accident.
        if !args.force && std::fs::symlink_metadata(path).is_ok() {
            return Err(exists(path));
        }
    }
    let (yaml, what) = match args.stores.is_empty() {
        true => one(ctx, &args).await?,
        false => fleet(ctx, &args.stores).await?,
    };
    match &args.output {
        Some(path) => {
            let sink = match args.force {
                true => Sink::Private(path),
                false => Sink::PrivateNew(path),
            };
            ctx.emit(sink, &yaml).map_err(|e| match e.kind() {
                std::io::ErrorKind::AlreadyExists => exists(path),
                _ => anyhow::Error::new(e).context(format!("could not write `{}`", path.display())),
            })?;
            ctx.status(&format!(
                "wrote {what} to `{}` (mode 0600: it holds real callback URLs)",
                path.display()
            ));
        }
        None => ctx.out(&yaml),
    }
    Ok(Exit::Success)
}

/// One merchant's manifest, and what it holds (for the status line).
async fn one(ctx: &Context, args: &ExportArgs) -> anyhow::Result<(String, String)> {
    let key = api_key(&args.api_key_env, "export")?;
    let client = ctx.client(&key)?;
    let mut live = client.list().await.context("could not read live subscriptions")?;
    sort(&mut live);
    let exported = manifest::to_manifest(&live, args.merchant.clone(), &args.api_key_env)?;
    for w in &exported.warnings {
        ctx.warn(w);
    }
    // Never the key, even inside a live URL: a `${VAR}` in its place, which
    // the manifest then refuses until the URL is fixed.
    let placeholder = format!("${{{}}}", args.api_key_env);
    let yaml = key.hide(&exported.yaml, &placeholder);
    if yaml != exported.yaml {
        ctx.warn(&format!(
            "a live value holds the API key; exported as `{placeholder}`, which a manifest may not use: \
             move that receiver's token out of the URL (the key lets anyone read and redirect the merchant's events)"
        ));
    }
    Ok((yaml, format!("{} subscription(s)", exported.written)))
}

/// One fleet file for every `--store`: each store's list read (at most
/// [`READS_IN_FLIGHT`] at once), then merged, or refused with every
/// difference named.
async fn fleet(ctx: &Context, stores: &[StoreArg]) -> anyhow::Result<(String, String)> {
    refuse_twice(stores)?;
    let manifests: Vec<MerchantManifest> = stores.iter().map(as_manifest).collect();
    let same = manifest::same_store(&manifests, &process_env);
    if let Some(d) = same.first() {
        return Err(Helped::wrap(
            anyhow::anyhow!("{}", d.message),
            "one key is one store: give each `--store` label its own store's key",
        ));
    }
    let mut read = targets(ctx, manifests, READS_IN_FLIGHT, |m| {
        format!("`--store {}={}`", m.label, m.api_key_env)
    })
    .await?;
    for target in &mut read {
        sort(&mut target.live);
    }
    let lives: Vec<StoreLive<'_>> = read
        .iter()
        .map(|t| StoreLive {
            label: &t.manifest.label,
            api_key_env: &t.manifest.api_key_env,
            live: &t.live,
        })
        .collect();
    // Every key read so far is every store's: `redact_known` finds any.
    let holds_key = |text: &str| api::redact_known(text) != text;
    let exported = manifest::to_fleet(&lives, &holds_key).map_err(refused)?;
    for w in &exported.warnings {
        ctx.warn(w);
    }
    let keys: Vec<(&ApiKey, &str)> = read
        .iter()
        .map(|t| (&t.key, t.manifest.api_key_env.as_str()))
        .collect();
    // Refused above already; kept as the last line before the file.
    let yaml = keys.iter().fold(exported.yaml, |yaml, (key, var)| {
        key.hide(&yaml, &format!("${{{var}}}"))
    });
    Ok((
        yaml,
        format!(
            "{} subscription(s) for {} merchant(s)",
            exported.written,
            stores.len()
        ),
    ))
}

/// Two `--store` with one label or one variable: refused before any key
/// is read.
fn refuse_twice(stores: &[StoreArg]) -> anyhow::Result<()> {
    for (i, store) in stores.iter().enumerate() {
        let Some(earlier) = stores[..i]
            .iter()
            .find(|s| s.label == store.label || s.api_key_env == store.api_key_env)
        else {
            continue;
        };
        let (what, help) = match earlier.label == store.label {
            true => (
                format!("label `{}`", store.label),
                "give each store its own label",
            ),
            false => (
                format!("variable `{}`", store.api_key_env),
                "one key is one store: give each store the variable holding its own key",
            ),
        };
        return Err(Helped::wrap(
            anyhow::anyhow!(
                "`--store {}={}` and `--store {}={}` have the same {what}",
                earlier.label,
                earlier.api_key_env,
                store.label,
                store.api_key_env
            ),
            help,
        ));
    }
    Ok(())
}

/// A `--store` as the manifest the shared reading code takes.
fn as_manifest(store: &StoreArg) -> MerchantManifest {
    MerchantManifest {
        label: store.label.clone(),
        file: format!("--store {}={}", store.label, store.api_key_env).into(),
        api_key_env: store.api_key_env.clone(),
        canary: false,
        prune: true,
        ignore: Vec::new(),
        subscriptions: Vec::new(),
    }
}

/// The stable order every export starts from.
fn sort(live: &mut [LiveSubscription]) {
    live.sort_by(|a, b| (&a.topic, &a.name, &a.id).cmp(&(&b.topic, &b.name, &b.id)));
}

/// The stores cannot be one fleet file: every difference, and what to do.
fn refused(e: FleetError) -> anyhow::Error {
    let FleetError::Refused(lines) = e else {
        return anyhow::Error::new(e);
    };
    let mut text = "cannot write one fleet file: it declares one list of subscriptions for every store, and these stores differ".to_owned();
    for line in lines.iter().take(SHOWN) {
        text.push_str("\n  - ");
        text.push_str(line);
    }
    if lines.len() > SHOWN {
        text.push_str(&format!("\n  … and {} more", lines.len() - SHOWN));
    }
    Helped::wrap(
        anyhow::anyhow!(text),
        "nothing was written; export each store on its own (`invhooks export --merchant LABEL --api-key-env VAR -o LABEL.yaml`), or make the stores agree first",
    )
}

fn exists(path: &Path) -> anyhow::Error {
    Helped::wrap(
        anyhow::anyhow!("`{}` already exists; nothing was written", path.display()),
        "pass `--force` to replace it, or choose another file with -o",
    )
}
