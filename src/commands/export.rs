//! `invhooks export`: the live subscriptions of one merchant as a manifest,
//! in a stable order, so that `plan` on the output reports no changes.
//! The one output with real URL values; secrets get a warning.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use serde::Serialize;

use super::{api_key, Context, Helped};
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
    if let Some(path) = &args.output {
        // Before any request: a manifest in git is not replaced by accident.
        if !args.force && std::fs::symlink_metadata(path).is_ok() {
            return Err(exists(path));
        }
    }
    let key = api_key(&args.api_key_env, "export")?;
    let client = ctx.client(&key)?;
    let mut live = client.list().await.context("could not read live subscriptions")?;
    live.sort_by(|a, b| (&a.topic, &a.name, &a.id).cmp(&(&b.topic, &b.name, &b.id)));
    let (yaml, written, warnings) = to_manifest(&live, args.merchant, &args.api_key_env)?;
    for w in &warnings {
        ctx.warn(w);
    }
    match &args.output {
        Some(path) => {
            write_private(path, yaml.as_bytes(), args.force)?;
            ctx.status(&format!(
                "wrote {written} subscription(s) to `{}` (mode 0600: it holds real callback URLs)",
                path.display()
            ));
        }
        None => ctx.out(&yaml),
    }
    Ok(Exit::Success)
}

fn exists(path: &Path) -> anyhow::Error {
    Helped::wrap(
        anyhow::anyhow!("`{}` already exists; nothing was written", path.display()),
        "pass `--force` to replace it, or choose another file with -o",
    )
}

/// Writes `bytes` to `path` atomically: a temporary file in the same
/// directory (mode 0600 on Unix), renamed into place; without `replace`,
/// never over an existing file (checked again at the rename).
fn write_private(path: &Path, bytes: &[u8], replace: bool) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let create = || format!("could not write `{}`", path.display());
    let mut file = tempfile::Builder::new()
        .prefix(".invhooks-export-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(create)?;
    file.write_all(bytes).with_context(create)?;
    file.as_file().sync_all().with_context(create)?;
    if replace {
        file.persist(path).map_err(|e| e.error).with_context(create)?;
    } else {
        match file.persist_noclobber(path) {
            Ok(_) => {}
            Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => return Err(exists(path)),
            Err(e) => return Err(anyhow::Error::new(e.error).context(create())),
        }
    }
    Ok(())
}

/// Builds the manifest text, the number of subscriptions in it (duplicates
/// are left out) and the warnings to show.
fn to_manifest(
    live: &[LiveSubscription],
    merchant: Option<String>,
    api_key_env: &str,
) -> anyhow::Result<(String, usize, Vec<String>)> {
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
    let written = manifest.subscriptions.len();
    let yaml = serde_yaml::to_string(&manifest)?;
    Ok((
        format!(
            "# exported by invhooks {} from live subscriptions\n{yaml}",
            env!("CARGO_PKG_VERSION")
        ),
        written,
        warnings,
    ))
}

/// Escapes `${` so the loader does not expand it.
fn escape(text: &str) -> String {
    text.replace("${", "$${")
}
