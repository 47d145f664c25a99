//! `invhooks show PLAN.json`: a saved plan rendered like `plan` renders it
//! (README "Review a saved plan"), from the file alone: no key needed, no
//! request sent.

use super::saved::{self, Verb};
use super::Context;
use crate::api::ApiKey;
use crate::cli::ShowArgs;
use crate::exit::Exit;

/// Runs `show`.
pub fn run(ctx: &Context, args: &ShowArgs) -> anyhow::Result<Exit> {
    let loaded = saved::read(&args.plan, Verb::Show)?;
    // No key is needed, but a key that is set is registered for redaction,
    // so the output is masked exactly as `plan` masks it.
    for m in &loaded.merchants {
        if let Ok(key) = std::env::var(&m.manifest.api_key_env) {
            if !key.trim().is_empty() {
                drop(ApiKey::new(key.trim().to_owned()));
            }
        }
    }
    let plan = loaded.plan();
    ctx.out(&super::plan::render_plan(
        ctx,
        &plan,
        args.format,
        "invhooks plan",
    ));
    Ok(Exit::Success)
}
