//! `invhooks plan`: load → fetch (one GET per merchant) → diff → render;
//! optionally save the plan (`--out`) and summarise it for GitHub Actions.

use super::fetch::{fetch, plan_targets, READS_IN_FLIGHT};
use super::{check, saved, Context};
use crate::cli::PlanArgs;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{self, markdown, text, Format};
use crate::secret::Keys;

/// Runs `plan`.
pub async fn run(ctx: &Context, args: PlanArgs) -> anyhow::Result<Exit> {
    if let Some(out) = &args.out {
        saved::may_replace(out)?;
    }
    let targets = fetch(ctx, &args.manifests.files, &args.select, READS_IN_FLIGHT).await?;
    let plan = plan_targets(ctx, &targets);
    if let Some(out) = &args.out {
        saved::write(ctx, out, &targets)?;
    }
    let checked = if args.check_callbacks {
        callback_warnings(ctx, &plan).await
    } else {
        String::new()
    };
    ctx.out(&match args.format {
        Format::Markdown if !checked.is_empty() => with_section(&plan, &checked, &ctx.keys()),
        format => render_plan(ctx, &plan, format, "invhooks plan"),
    });
    let by_label: std::collections::HashMap<&str, &crate::plan::MerchantPlan> =
        plan.merchants.iter().map(|m| (m.merchant.as_str(), m)).collect();
    let warnings: Vec<_> = targets
        .iter()
        .filter_map(|t| {
            let m = by_label.get(t.manifest.label.as_str())?;
            let trip = m.safety?;
            Some((
                t.manifest.file.clone(),
                format!("merchant `{}`: {trip}", m.merchant),
            ))
        })
        .collect();
    ctx.annotate_warnings(&warnings);
    ctx.step_summary(args.no_step_summary, || {
        with_section(&plan, &checked, &ctx.keys())
    });
    Ok(if args.detailed_exitcode && plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// `plan --check-callbacks`: probes the URLs the plan would start
/// delivering to (README "Probe callbacks"), warns on stderr for each one
/// that does not answer, and returns the Markdown warning section (empty
/// when all answer). Never fails the plan.
async fn callback_warnings(ctx: &Context, plan: &Plan) -> String {
    let prober = match check::prober(ctx) {
        Ok(prober) => prober,
        Err(e) => {
            ctx.warn(&format!("callback URLs not checked: {e:#}"));
            return String::new();
        }
    };
    let outcomes = check::probe_all(&prober, crate::check::planned_callbacks(plan), false).await;
    for o in outcomes.iter().filter(|o| !o.ok()) {
        if let Err(failure) = &o.result {
            let users: Vec<String> = o
                .callback
                .users
                .iter()
                .map(|u| format!("{} {} {}", u.merchant, u.topic, u.name))
                .collect();
            ctx.warn(&format!(
                "callback {} ({}) did not answer: {failure}",
                o.callback.shown(),
                users.join(", ")
            ));
        }
    }
    let section = crate::check::render::markdown_warnings(&outcomes);
    if section.len() > markdown::GITHUB_COMMENT_LIMIT / 2 {
        let failed = outcomes.iter().filter(|o| !o.ok()).count();
        return format!("### Callback check\n\n> [!WARNING]\n> {failed} callback URLs this plan delivers to did not answer a probe; run `invhooks check` for the list.\n");
    }
    section
}

/// The plan's Markdown with `section` (the callback check) after it, the
/// whole within GitHub's comment limit.
fn with_section(plan: &Plan, section: &str, keys: &Keys) -> String {
    let room = if section.is_empty() { 0 } else { section.len() + 1 };
    let limit = markdown::GITHUB_COMMENT_LIMIT.saturating_sub(room);
    let mut text = markdown::render(plan, "invhooks plan", limit, keys);
    if !section.is_empty() {
        text.push('\n');
        text.push_str(section);
    }
    text
}

/// Renders a plan in the chosen format.
pub fn render_plan(ctx: &Context, plan: &Plan, format: Format, title: &str) -> String {
    match format {
        Format::Text => text::render(plan, ctx.color, &ctx.keys()),
        Format::Json => render::json::render(plan, &ctx.keys()),
        Format::Markdown => markdown::render(plan, title, markdown::GITHUB_COMMENT_LIMIT, &ctx.keys()),
    }
}
