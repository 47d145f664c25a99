//! `invhooks export`: the live subscriptions of one merchant as a manifest,
//! in a stable order, so that `plan` on the output reports no changes.
//! The one output with real URL values; secrets get a warning.

use std::io::Write;

use anyhow::Context as _;
use serde::Serialize;

use super::{api_key, Context};
use crate::cli::ExportArgs;
use crate::exit::Exit;
use crate::model::LiveSubscription;
use crate::secret::{has_secret, mask_url};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Manifest {
    version: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    merchant: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    api_key_env: Option<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_http: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    allow_unknown_topics: bool,
    subscriptions: Vec<Entry>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry {
    name: String,
    topic: String,
    callback_url: String,
}

/// Runs `export`.
pub async fn run(ctx: &Context, args: ExportArgs) -> anyhow::Result<Exit> {
    let key = api_key(&args.api_key_env, "export")?;
    let client = ctx.client(&key)?;
    let mut live = client.list().await.context("could not read live subscriptions")?;
    live.sort_by(|a, b| (&a.topic, &a.name, &a.id).cmp(&(&b.topic, &b.name, &b.id)));
    let (yaml, warnings) = to_manifest(&live, args.merchant, &args.api_key_env)?;
    for w in &warnings {
        ctx.warn(w);
    }
    match &args.output {
        Some(path) => {
            let mut file = std::fs::File::create(path)
                .with_context(|| format!("could not create `{}`", path.display()))?;
            file.write_all(yaml.as_bytes())?;
            ctx.status(&format!(
                "wrote {} subscription(s) to {}",
                live.len(),
                path.display()
            ));
        }
        None => ctx.out(&yaml),
    }
    Ok(Exit::Success)
}

/// Builds the manifest text and the warnings to show.
fn to_manifest(
    live: &[LiveSubscription],
    merchant: Option<String>,
    api_key_env: &str,
) -> anyhow::Result<(String, Vec<String>)> {
    let mut warnings = Vec::new();
    let mut entries: Vec<Entry> = Vec::new();
    for sub in live {
        if entries
            .last()
            .is_some_and(|e| e.topic == sub.topic && e.name == sub.name)
        {
            warnings.push(format!(
                "duplicate `{}` on `{}` [{}] left out: a manifest declares each (topic, name) once, so `apply` would delete it",
                sub.name, sub.topic, sub.id
            ));
            continue;
        }
        if has_secret(&sub.callback_url) {
            warnings.push(format!(
                "`{}` on `{}` has a secret in its URL ({}); consider `${{VAR}}` in the manifest instead of committing it",
                sub.name,
                sub.topic,
                mask_url(&sub.callback_url)
            ));
        }
        entries.push(Entry {
            name: escape(&sub.name),
            topic: sub.topic.clone(),
            callback_url: escape(&sub.callback_url),
        });
    }
    let manifest = Manifest {
        version: 1,
        merchant,
        api_key_env: (api_key_env != "INVETERATE_API_KEY").then(|| api_key_env.to_owned()),
        allow_http: live.iter().any(|s| s.callback_url.starts_with("http://")),
        allow_unknown_topics: live.iter().any(|s| !crate::topic::is_known(&s.topic)),
        subscriptions: entries,
    };
    let yaml = serde_yaml::to_string(&manifest)?;
    Ok((
        format!(
            "# exported by invhooks {} from live subscriptions\n{yaml}",
            env!("CARGO_PKG_VERSION")
        ),
        warnings,
    ))
}

/// Escapes `${` so the loader does not expand it.
fn escape(text: &str) -> String {
    text.replace("${", "$${")
}
