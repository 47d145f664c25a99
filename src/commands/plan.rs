//! `invhooks plan`: load → fetch (one GET per merchant) → diff → render.

use super::{fetch, plan_targets, Context};
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{self, markdown, text, Format};

/// Runs `plan`.
pub async fn run(ctx: &Context, args: PlanArgs) -> anyhow::Result<Exit> {
    let targets = fetch(ctx, &args.manifests.files).await?;
    let plan = plan_targets(&targets);
    ctx.out(&render_plan(ctx, &plan, args.format, "invhooks plan"));
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Renders a plan in the chosen format.
pub fn render_plan(ctx: &Context, plan: &Plan, format: Format, title: &str) -> String {
    match format {
        Format::Text => text::render(plan, text::TextOptions { color: ctx.color }),
        Format::Json => render::json::render(plan),
        Format::Markdown => markdown::render(plan, title, markdown::GITHUB_COMMENT_LIMIT),
    }
}
