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
    let shown = args
        .output
        .as_deref()
        .map_or_else(|| "(stdout)".to_owned(), |p| p.display().to_string());
    let (yaml, what, left_out) = match args.stores.is_empty() {
        true => one(ctx, args.merchant.clone(), &args.api_key_env, "export", &shown).await?,
        false => fleet(ctx, &args.stores, &shown)
            .await
            .map(|(yaml, what)| (yaml, what, 0))?,
    };
    match &args.output {
        Some(path) => {
            ctx.emit(Sink::Private(path, args.force), &yaml)
                .map_err(|e| match e.kind() {
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
    if left_out > 0 {
        let _ = ctx.emit(
            Sink::Stderr,
            &format!("error: {left_out} live subscription(s) left out of the export, each named above\n"),
        );
        return Ok(Exit::Error);
    }
    Ok(Exit::Success)
}

/// One merchant's manifest (labelled `merchant`, its key in `api_key_env`,
/// to be written to `shown`), what it holds (for the status line), and how
/// many live subscriptions were left out because `validate` would refuse
/// them (each named on stderr); `who` runs it (`export`, `init`).
pub(super) async fn one(
    ctx: &Context,
    merchant: Option<String>,
    api_key_env: &str,
    who: &str,
    shown: &str,
) -> anyhow::Result<(String, String, usize)> {
    let key = api_key(api_key_env, who)?;
    let client = ctx.client(&key)?;
    let mut live = client.list().await.context("could not read live subscriptions")?;
    sort(&mut live);
    let mut left_out = 0;
    let (exported, yaml) = loop {
        let exported = manifest::to_manifest(&live, merchant.clone(), api_key_env)?;
        let yaml = key.hide(&exported.yaml, &format!("${{{api_key_env}}}"));
        let found = manifest::problems_by_entry(Path::new(shown), &yaml);
        if found.is_empty() {
            break (exported, yaml);
        }
        let refused = refuse_entries(ctx, &live, &exported, found)?;
        left_out += refused.len();
        live.retain(|s| !refused.contains(&s.id));
    };
    for w in &exported.warnings {
        ctx.warn(w);
    }
    Ok((yaml, format!("{} subscription(s)", exported.written), left_out))
}

/// Names on stderr each live subscription whose entry `found` has a problem
/// with, and what to do; returns their ids. A problem outside the entries
/// (the merchant label) fails the export.
fn refuse_entries(
    ctx: &Context,
    live: &[LiveSubscription],
    exported: &manifest::Exported,
    found: Vec<(Option<usize>, manifest::Diagnostic)>,
) -> anyhow::Result<Vec<String>> {
    let mut refused: Vec<String> = Vec::new();
    for (entry, d) in &found {
        let Some(sub) = entry
            .and_then(|i| exported.ids.get(i))
            .and_then(|id| live.iter().find(|s| &s.id == id))
        else {
            return Err(Helped::wrap(
                anyhow::anyhow!("{d}"),
                "nothing was written; fix the flag named above and export again",
            ));
        };
        if refused.contains(&sub.id) {
            continue;
        }
        refused.push(sub.id.clone());
        let show = crate::escape::show;
        let help = d.help.as_deref().map(|h| format!("; {h}")).unwrap_or_default();
        let _ = ctx.emit(
            Sink::Stderr,
            &format!(
                "error: live subscription `{}` on `{}` [{}] left out: a manifest cannot hold it as it is: {}\n  \
                 help: change it in Inveterate (admin or API) and export again, or write its entry by hand{help}\n",
                show(&sub.name),
                show(&sub.topic),
                show(&sub.id),
                d.message
            ),
        );
    }
    Ok(refused)
}

/// One fleet file for every `--store`: each store's list read (at most
/// [`READS_IN_FLIGHT`] at once), then merged, or refused with every
/// difference named.
async fn fleet(ctx: &Context, stores: &[StoreArg], shown: &str) -> anyhow::Result<(String, String)> {
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
    let found = manifest::problems_by_entry(Path::new(shown), &yaml);
    if !found.is_empty() {
        return Err(Helped::wrap(
            anyhow::anyhow!("{}", manifest::Diagnostics(found.into_iter().map(|(_, d)| d).collect())),
            "nothing was written: a fleet file shares one list, so these subscriptions cannot be left out of one store; change them in Inveterate, or export each store on its own",
        ));
    }
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
        allows: crate::model::Allows::default(),
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
