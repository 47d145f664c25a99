//! `invhooks drift`: the plan read as a report of hand-made changes; exit 0
//! in sync, 2 on drift, 1 on error.

use super::fetch::{fetch, plan_targets, READS_IN_FLIGHT};
use super::Context;
use crate::cli::DriftArgs;
use crate::exit::Exit;
use crate::render::markdown::GITHUB_COMMENT_LIMIT;
use crate::render::{drift, Format};

/// Runs `drift`.
pub async fn run(ctx: &Context, args: DriftArgs) -> anyhow::Result<Exit> {
    let targets = fetch(ctx, &args.manifests.files, &args.select, READS_IN_FLIGHT).await?;
    let plan = plan_targets(ctx, &targets);
    ctx.out(&match args.format {
        Format::Text => drift::text(&plan, ctx.color, &ctx.keys()),
        Format::Json => drift::json(&plan, &ctx.keys()),
        Format::Markdown => drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &ctx.keys()),
    });
    ctx.step_summary(args.no_step_summary, || {
        drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &ctx.keys())
    });
    Ok(if plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}
