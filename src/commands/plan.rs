//! `invhooks plan`: load → fetch (one GET per merchant) → diff → render;
//! optionally save the plan (`--out`), probe the callbacks it delivers to,
//! and summarise it for GitHub Actions. `drift` reads the same plan as a
//! report of hand-made changes, `show` renders a saved one.

use std::collections::HashMap;

use super::fetch::{fetch, plan_targets, READS_IN_FLIGHT};
use super::saved::{self, Verb};
use super::{check, Context};
use crate::api::ApiKey;
use crate::cli::{DriftArgs, PlanArgs, ShowArgs};
use crate::exit::Exit;
use crate::plan::{MerchantPlan, Plan};
use crate::render::markdown::GITHUB_COMMENT_LIMIT;
use crate::render::{self, drift, markdown, text, Format};
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
    let checked = match args.check_callbacks {
        true => callback_warnings(ctx, &plan).await,
        false => String::new(),
    };
    ctx.out(&match args.format {
        Format::Markdown if !checked.is_empty() => with_section(&plan, &checked, &ctx.keys()),
        format => render_plan(ctx, &plan, format),
    });
    let by_label: HashMap<&str, &MerchantPlan> =
        plan.merchants.iter().map(|m| (m.merchant.as_str(), m)).collect();
    let warnings: Vec<_> = (targets.iter())
        .filter_map(|t| {
            let m = by_label.get(t.manifest.label.as_str())?;
            Some((
                t.manifest.file.clone(),
                format!("merchant `{}`: {}", m.merchant, m.safety?),
            ))
        })
        .collect();
    ctx.annotate_warnings(&warnings);
    ctx.step_summary(args.no_step_summary, || {
        with_section(&plan, &checked, &ctx.keys())
    });
    Ok(match args.detailed_exitcode && plan.has_changes() {
        true => Exit::Changes,
        false => Exit::Success,
    })
}

/// Runs `drift`: exit 0 in sync, 2 on drift, 1 on error.
pub async fn drift(ctx: &Context, args: DriftArgs) -> anyhow::Result<Exit> {
    let targets = fetch(ctx, &args.manifests.files, &args.select, READS_IN_FLIGHT).await?;
    let plan = plan_targets(ctx, &targets);
    let keys = ctx.keys();
    ctx.out(&match args.format {
        Format::Text => drift::text(&plan, ctx.color, &keys),
        Format::Json => drift::json(&plan, &keys),
        Format::Markdown => drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &keys),
    });
    ctx.step_summary(args.no_step_summary, || {
        drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &keys)
    });
    Ok(if plan.has_changes() {
        Exit::Changes
    } else {
        Exit::Success
    })
}

/// Runs `show PLAN.json` (docs/commands/show.md): from the file alone, no
/// key needed, no request.
pub fn show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<Exit> {
    let loaded = saved::read(&args.plan, Verb::Show)?;
    // A key that is set is registered for masking, as `plan` masks it.
    for m in &loaded.merchants {
        if let Some(key) = super::process_env(&m.manifest.api_key_env).filter(|k| !k.trim().is_empty()) {
            drop(ApiKey::new(key.trim().to_owned()));
        }
    }
    ctx.out(&render_plan(ctx, &loaded.plan(), args.format));
    Ok(Exit::Success)
}

/// `plan --check-callbacks`: probes the URLs the plan would start
/// delivering to, warns on stderr for each one that does not answer, and
/// returns the Markdown warning section (empty when all answer). Never
/// fails the plan.
async fn callback_warnings(ctx: &Context, plan: &Plan) -> String {
    let prober = match check::prober(ctx) {
        Ok(prober) => prober,
        Err(e) => {
            ctx.warn(&format!("callback URLs not checked: {e:#}"));
            return String::new();
        }
    };
    let outcomes = check::probe_all(&prober, crate::check::planned_callbacks(plan), false).await;
    for o in &outcomes {
        if let Err(failure) = &o.result {
            let users: Vec<String> = o.callback.users.iter().map(ToString::to_string).collect();
            let (shown, users) = (o.callback.shown(), users.join(", "));
            ctx.warn(&format!("callback {shown} ({users}) did not answer: {failure}"));
        }
    }
    crate::check::render::markdown_warnings(&outcomes, GITHUB_COMMENT_LIMIT / 2)
}

/// The plan's Markdown with `section` (the callback check) after it, the
/// whole within GitHub's comment limit.
fn with_section(plan: &Plan, section: &str, keys: &Keys) -> String {
    let room = if section.is_empty() { 0 } else { section.len() + 1 };
    let limit = GITHUB_COMMENT_LIMIT.saturating_sub(room);
    let mut text = markdown::render(plan, "invhooks plan", limit, keys);
    if !section.is_empty() {
        text.push('\n');
        text.push_str(section);
    }
    text
}

/// Renders a plan in the chosen format (`plan`, `show`).
fn render_plan(ctx: &Context, plan: &Plan, format: Format) -> String {
    let keys = ctx.keys();
    match format {
        Format::Text => text::render(plan, ctx.color, &keys),
        Format::Json => render::json::render(plan, &keys),
        Format::Markdown => markdown::render(plan, "invhooks plan", GITHUB_COMMENT_LIMIT, &keys),
    }
}
