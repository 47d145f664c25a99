//! `invhooks plan`: load → fetch (one GET per merchant) → diff → render;
//! optionally save the plan (`--out`) and summarise it for GitHub Actions.

use super::fetch::{fetch, plan_targets};
use super::{saved, Context};
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{self, markdown, text, Format};

/// Runs `plan`.
pub async fn run(ctx: &Context, args: PlanArgs) -> anyhow::Result<Exit> {
    let targets = fetch(ctx, &args.manifests.files).await?;
    let plan = plan_targets(&targets);
    if let Some(out) = &args.out {
        saved::write(ctx, out, &targets, &plan)?;
    }
    ctx.out(&render_plan(ctx, &plan, args.format, "invhooks plan"));
    let warnings: Vec<_> = targets
        .iter()
        .filter_map(|t| {
            let m = plan.merchants.iter().find(|m| m.merchant == t.manifest.label)?;
            let trip = m.safety?;
            Some((
                t.manifest.file.clone(),
                format!("merchant `{}`: {trip}", m.merchant),
            ))
        })
        .collect();
    ctx.annotate_warnings(&warnings);
    ctx.step_summary(args.no_step_summary, || {
        markdown::render(&plan, "invhooks plan", markdown::GITHUB_COMMENT_LIMIT)
    });
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
