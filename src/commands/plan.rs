//! `invhooks plan` (load → fetch → diff → render), `drift` (the same plan
//! read as hand-made changes) and `show` (a saved plan rendered).

use super::fetch::{fetch, READS_IN_FLIGHT};
use super::saved;
use super::{check, Context};
use crate::cli::{DriftArgs, Format, PlanArgs, ShowArgs};
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::github::{self, Level};
use crate::render::markdown::GITHUB_COMMENT_LIMIT;
use crate::render::{self, drift, markdown, text};

pub async fn run(ctx: &Context, args: PlanArgs) -> anyhow::Result<Exit> {
    args.out.as_deref().map(saved::may_replace).transpose()?;
    let (targets, plan) = fetch(ctx, &args.manifests.files, &args.select, READS_IN_FLIGHT).await?;
    if let Some(out) = &args.out {
        saved::write(ctx, out, &targets)?;
    }
    let checked = match args.check_callbacks {
        true => callback_warnings(ctx, &plan).await,
        false => String::new(),
    };
    ctx.out(&render_plan(ctx, &plan, args.format, &checked));
    // Each safety warning as a `::warning` annotation on its manifest.
    ctx.annotations(|workspace, cwd| {
        (targets.iter())
            .filter_map(|t| {
                let m = plan.merchants.iter().find(|m| m.merchant == t.manifest.label)?;
                let file = github::repo_path(&t.manifest.file, workspace, cwd);
                let title = "invhooks: apply will refuse without --force";
                let message = format!("merchant `{}`: {}", m.merchant, m.safety?);
                Some(github::annotation(Level::Warning, &file, None, title, &message))
            })
            .collect()
    });
    ctx.step_summary(args.no_step_summary, || {
        render_plan(ctx, &plan, Format::Markdown, &checked)
    });
    Ok(Exit::Changes.when(args.detailed_exitcode && plan.has_changes()))
}

/// Runs `drift`: exit 0 in sync, 2 on drift, 1 on error.
pub async fn drift(ctx: &Context, args: DriftArgs) -> anyhow::Result<Exit> {
    let (_, plan) = fetch(ctx, &args.manifests.files, &args.select, READS_IN_FLIGHT).await?;
    let keys = ctx.keys();
    ctx.out(&match args.format {
        Format::Text => drift::text(&plan, ctx.color, &keys),
        Format::Json => drift::json(&plan, &keys),
        Format::Markdown => drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &keys),
    });
    ctx.step_summary(args.no_step_summary, || {
        drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &keys)
    });
    Ok(Exit::Changes.when(plan.has_changes()))
}

/// Runs `show PLAN.json`: from the file alone, no key, no request.
pub fn show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<Exit> {
    let loaded = saved::read(&args.plan, "show")?;
    // A key that is set is read (so masked, as `plan` masks it); one unset is no error here.
    (loaded.merchants.iter()).for_each(|m| drop(super::api_key(&m.manifest.api_key_env, "")));
    ctx.out(&render_plan(ctx, &loaded.plan(), args.format, ""));
    Ok(Exit::Success)
}

/// `--check-callbacks`: a warning per URL that does not answer, and the Markdown section.
async fn callback_warnings(ctx: &Context, plan: &Plan) -> String {
    let prober = check::prober(ctx).inspect_err(|e| ctx.warn(&format!("callback URLs not checked: {e:#}")));
    let Ok(prober) = prober else { return String::new() };
    let outcomes = check::probe_all(&prober, crate::check::planned_callbacks(plan), false).await;
    let failed = (outcomes.iter()).filter_map(|o| Some((o, o.result.as_ref().err()?)));
    for (o, failure) in failed {
        let users: Vec<String> = o.callback.users.iter().map(ToString::to_string).collect();
        let (shown, users) = (o.callback.shown(), users.join(", "));
        ctx.warn(&format!("callback {shown} ({users}) did not answer: {failure}"));
    }
    crate::check::render::markdown_warnings(&outcomes, GITHUB_COMMENT_LIMIT / 2)
}

/// A plan in `format`; in Markdown with `section` after it, within GitHub's comment limit.
fn render_plan(ctx: &Context, plan: &Plan, format: Format, section: &str) -> String {
    let keys = ctx.keys();
    let room = if section.is_empty() { 0 } else { section.len() + 1 };
    let limit = GITHUB_COMMENT_LIMIT.saturating_sub(room);
    let markdown = || markdown::render(plan, "invhooks plan", limit, &keys);
    match format {
        Format::Text => text::render(plan, ctx.color, &keys),
        Format::Json => render::json::render(plan, &keys),
        Format::Markdown if section.is_empty() => markdown(),
        Format::Markdown => format!("{}\n{section}", markdown()),
    }
}
