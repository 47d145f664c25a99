//! `invhooks export`: the live subscriptions of one merchant as a manifest,
//! in a stable order, so that `plan` on the output reports no changes.
//! The one output with real URL values; secrets get a warning.

use std::io::Write;
use std::path::Path;

use super::{api_key, Context, Helped};
use crate::cli::ExportArgs;
use crate::exit::Exit;
use crate::manifest;
use anyhow::Context as _;

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
    let exported = manifest::to_manifest(&live, args.merchant, &args.api_key_env)?;
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
    let written = exported.written;
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
