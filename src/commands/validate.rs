//! `invhooks validate`: the manifest checks, offline.

use std::path::PathBuf;

use super::{load, Context};
use crate::exit::Exit;

/// Runs `validate`.
pub fn run(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Exit> {
    let manifests = load(ctx, files)?;
    let mut text = String::new();
    for m in &manifests {
        text.push_str(&format!(
            "ok: {} (merchant `{}`): {} subscription{}, {} ignore rule{}, prune {}\n",
            m.file.display(),
            m.label,
            m.subscriptions.len(),
            plural(m.subscriptions.len()),
            m.ignore.len(),
            plural(m.ignore.len()),
            if m.prune { "on" } else { "off" },
        ));
    }
    ctx.out(&text);
    Ok(Exit::Success)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
