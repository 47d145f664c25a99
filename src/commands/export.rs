//! `invhooks export`: live subscriptions as a manifest, or several stores' as one fleet file
//! (docs/fleets.md "Export a fleet"), on which `plan` reports no changes. Keys never written.

use std::path::Path;

use anyhow::Context as _;

use super::context::Sink;
use super::fetch::{targets, READS_IN_FLIGHT};
use super::{api_key, process_env, Context, Helped};
use crate::apply::Remote as _;
use crate::cli::ExportArgs;
use crate::exit::Exit;
use crate::manifest::{self, FleetError, StoreArg, StoreLive};
use crate::model::{LiveSubscription, MerchantManifest};

pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<Exit> {
    // Before any request: a manifest in git is not replaced by accident.
    let kept = (args.output.as_ref()).filter(|p| !args.force && std::fs::symlink_metadata(p).is_ok());
    if let Some(path) = kept {
        return Err(exists(path));
    }
    let shown = (args.output.as_deref()).map_or_else(|| "(stdout)".to_owned(), |p| p.display().to_string());
    let (yaml, what, left_out) = match args.stores.is_empty() {
        true => one(ctx, args.merchant.clone(), &args.api_key_env, "export", &shown).await?,
        false => fleet(ctx, &args.stores, &shown).await?,
    };
    match &args.output {
        None => ctx.out(&yaml),
        Some(path) => {
            ctx.emit(Sink::Private(path, args.force), &yaml)
                .map_err(|e| match e.kind() {
                    std::io::ErrorKind::AlreadyExists => exists(path),
                    _ => anyhow::Error::new(e).context(format!("could not write `{}`", path.display())),
                })?;
            let shown = path.display();
            ctx.status(&format!(
                "wrote {what} to `{shown}` (mode 0600: it holds real callback URLs)"
            ));
        }
    }
    if left_out > 0 {
        let refused = format!("{left_out} live subscription(s) left out of the export, each named above");
        ctx.refuse(&[refused]);
    }
    Ok(Exit::Error.when(left_out > 0))
}

/// One merchant's manifest, what it holds, and how many live subscriptions were left out (named).
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
        // Each named once, then left out of the next round.
        for (entry, d) in &found {
            let Some(id) = entry.and_then(|i| exported.ids.get(i)) else {
                let help = "nothing was written; fix the flag named above and export again";
                return Err(Helped::msg(d.to_string(), help));
            };
            let Some(at) = live.iter().position(|s| &s.id == id) else {
                continue;
            };
            let (sub, show) = (live.remove(at), crate::escape::show);
            left_out += 1;
            let (name, topic, id, message) = (show(&sub.name), show(&sub.topic), show(&sub.id), &d.message);
            let help = d.help.as_deref().map(|h| format!("; {h}")).unwrap_or_default();
            ctx.refuse(&[
                format!("live subscription `{name}` on `{topic}` [{id}] left out: a manifest cannot hold it as it is: {message}"),
                format!("help: change it in Inveterate (admin or API) and export again, or write its entry by hand{help}"),
            ]);
        }
    };
    exported.warnings.iter().for_each(|w| ctx.warn(w));
    Ok((yaml, format!("{} subscription(s)", exported.written), left_out))
}

/// One fleet file for every `--store`, or refused with every difference named.
async fn fleet(ctx: &Context, stores: &[StoreArg], shown: &str) -> anyhow::Result<(String, String, usize)> {
    refuse_twice(stores)?;
    let manifests: Vec<MerchantManifest> = (stores.iter())
        .map(|s| MerchantManifest {
            label: s.label.clone(),
            file: flag(s).into(),
            api_key_env: s.api_key_env.clone(),
            ..MerchantManifest::default()
        })
        .collect();
    if let Some(d) = manifest::same_store(&manifests, &process_env).first() {
        let help = "one key is one store: give each `--store` label its own store's key";
        return Err(Helped::msg(&d.message, help));
    }
    let who = |m: &MerchantManifest| format!("`{}`", m.file.display());
    let mut read = targets(ctx, manifests, READS_IN_FLIGHT, who).await?;
    read.iter_mut().for_each(|t| sort(&mut t.live));
    let lives: Vec<StoreLive<'_>> = (read.iter())
        .map(|t| StoreLive {
            label: &t.manifest.label,
            api_key_env: &t.manifest.api_key_env,
            live: &t.live,
        })
        .collect();
    // Every key read so far is every store's: `redact_known` finds any.
    let holds_key = |text: &str| crate::api::redact_known(text) != text;
    let exported = manifest::to_fleet(&lives, &holds_key).map_err(refused)?;
    exported.warnings.iter().for_each(|w| ctx.warn(w));
    // `holds_key` matches a short key only as a whole word: every key is
    // also hidden wherever it stands, the last step before the file.
    let yaml = (read.iter()).fold(exported.yaml, |yaml, t| {
        t.key.hide(&yaml, &format!("${{{}}}", t.manifest.api_key_env))
    });
    let found = manifest::problems_by_entry(Path::new(shown), &yaml);
    if !found.is_empty() {
        let help = "nothing was written: a fleet file shares one list, so these subscriptions cannot be left out of one store; change them in Inveterate, or export each store on its own";
        let found = manifest::Diagnostics(found.into_iter().map(|(_, d)| d).collect());
        return Err(Helped::msg(found.to_string(), help));
    }
    let (written, stores) = (exported.written, stores.len());
    let what = format!("{written} subscription(s) for {stores} merchant(s)");
    Ok((yaml, what, 0))
}

/// Two `--store` with one label or one variable: refused before any key is read.
fn refuse_twice(stores: &[StoreArg]) -> anyhow::Result<()> {
    for (i, store) in stores.iter().enumerate() {
        for earlier in &stores[..i] {
            let (what, help) = if earlier.label == store.label {
                let help = "give each store its own label";
                (format!("label `{}`", store.label), help)
            } else if earlier.api_key_env == store.api_key_env {
                let help = "one key is one store: give each store the variable holding its own key";
                (format!("variable `{}`", store.api_key_env), help)
            } else {
                continue;
            };
            let (a, b) = (flag(earlier), flag(store));
            return Err(Helped::msg(format!("`{a}` and `{b}` have the same {what}"), help));
        }
    }
    Ok(())
}

/// How the command line spelled `store`.
fn flag(store: &StoreArg) -> String {
    format!("--store {}={}", store.label, store.api_key_env)
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
    let text = "cannot write one fleet file: it declares one list of subscriptions for every store, and these stores differ";
    let shown = super::first(20, lines.into_iter().map(|l| format!("- {l}")));
    let lines: String = shown.map(|l| format!("\n  {l}")).collect();
    let help = "nothing was written; export each store on its own (`invhooks export --merchant LABEL --api-key-env VAR -o LABEL.yaml`), or make the stores agree first";
    Helped::msg(format!("{text}{lines}"), help)
}

fn exists(path: &Path) -> anyhow::Error {
    Helped::msg(
        format!("`{}` already exists; nothing was written", path.display()),
        "pass `--force` to replace it, or choose another file with -o",
    )
}
