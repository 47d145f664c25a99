//! `invhooks apply`: plan, show, check safety, confirm, execute, report.

use std::io::Write;
use std::time::Duration;

use super::saved::{self, Prepared};
use super::{fetch, plan_targets, Context, Target};
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport};
use crate::cli::ApplyArgs;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::markdown::{self, ApplyResult};
use crate::render::{report, text, Format};

/// Runs `apply`.
pub async fn run(ctx: &Context, args: ApplyArgs) -> anyhow::Result<Exit> {
    let (targets, plan) = match &args.plan {
        // A saved plan: its changes exactly, or a refusal if live moved.
        Some(path) => match saved::load(ctx, path).await? {
            Prepared::Ready { targets, plan } => (targets, plan),
            Prepared::Refused(reasons) => {
                for reason in &reasons {
                    ctx.warn(reason);
                }
                let empty = Plan {
                    merchants: Vec::new(),
                };
                step_summary(ctx, &args, &empty, ApplyResult::Refused(&reasons));
                return Ok(Exit::Refused);
            }
        },
        None => {
            let targets = fetch(ctx, &args.manifests.files).await?;
            let plan = plan_targets(&targets);
            (targets, plan)
        }
    };
    let shown = text::render(&plan, text::TextOptions { color: ctx.color });
    match args.format {
        Format::Text => ctx.out(&shown),
        Format::Json | Format::Markdown => ctx.status(shown.trim_end()),
    }
    if !plan.has_changes() {
        step_summary(ctx, &args, &plan, ApplyResult::Applied(&[]));
        return Ok(Exit::Success);
    }
    let trips: Vec<_> = plan
        .merchants
        .iter()
        .filter_map(|m| m.safety.map(|t| format!("merchant `{}`: {t}", m.merchant)))
        .collect();
    if !trips.is_empty() && !args.force {
        for trip in &trips {
            ctx.warn(trip);
        }
        ctx.warn("apply refused by a safety threshold; nothing was changed. Check the manifest, or re-run with `--force` if this is intended");
        step_summary(ctx, &args, &plan, ApplyResult::Refused(&trips));
        return Ok(Exit::Refused);
    }
    if !args.auto_approve && !confirm(ctx)? {
        let why = ["no confirmation: stdin is not a terminal and `--auto-approve` was not given".to_owned()];
        if !ctx.interactive {
            step_summary(ctx, &args, &plan, ApplyResult::Refused(&why));
        }
        return Ok(if ctx.interactive {
            Exit::Error
        } else {
            Exit::Refused
        });
    }

    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        wait: Duration::from_secs(args.wait),
        ..ApplyOptions::default()
    };
    let reports = execute(ctx, &targets, &plan, options).await;
    ctx.out(&match args.format {
        Format::Text => format!("\n{}", report::render(&reports, ctx.color)),
        Format::Json => report::json(&reports),
        Format::Markdown => markdown::apply_summary(
            &plan,
            ApplyResult::Applied(&reports),
            markdown::GITHUB_COMMENT_LIMIT,
        ),
    });
    step_summary(ctx, &args, &plan, ApplyResult::Applied(&reports));
    Ok(if reports.iter().all(MerchantReport::succeeded) {
        Exit::Success
    } else {
        Exit::Error
    })
}

/// Appends the run's Markdown summary to `$GITHUB_STEP_SUMMARY` when set.
fn step_summary(ctx: &Context, args: &ApplyArgs, plan: &Plan, result: ApplyResult<'_>) {
    ctx.step_summary(args.no_step_summary, || {
        markdown::apply_summary(plan, result, markdown::GITHUB_COMMENT_LIMIT)
    });
}

/// Applies each merchant's part of `plan`, reporting progress on stderr.
pub(super) async fn execute(
    ctx: &Context,
    targets: &[Target],
    plan: &Plan,
    options: ApplyOptions,
) -> Vec<MerchantReport> {
    let mut reports = Vec::new();
    for target in targets {
        let Some(merchant_plan) = plan
            .merchants
            .iter()
            .find(|m| m.merchant == target.manifest.label)
        else {
            continue;
        };
        if merchant_plan.changes.is_empty() {
            continue;
        }
        let label = &merchant_plan.merchant;
        let bar = ctx.progress_bar(merchant_plan.changes.len(), label);
        let progress = |r: &ChangeReport| {
            let line = format!(
                "{label}: {} {}",
                outcome_word(r),
                text::change_line(&r.change, false)
            );
            match &bar {
                Some(bar) => {
                    bar.inc(1);
                    if r.outcome != apply::Outcome::Done {
                        bar.println(line);
                    }
                }
                None => ctx.status(&line),
            }
        };
        let report = apply::apply(
            &target.client,
            &target.manifest,
            merchant_plan,
            &target.live,
            options,
            &progress,
        )
        .await;
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        reports.push(report);
    }
    reports
}

fn outcome_word(r: &ChangeReport) -> &'static str {
    match r.outcome {
        apply::Outcome::Done => "done",
        apply::Outcome::Failed { .. } => "failed",
        apply::Outcome::Skipped { .. } => "skipped",
    }
}

/// Asks for `yes` on a terminal; refuses without one.
fn confirm(ctx: &Context) -> anyhow::Result<bool> {
    if !ctx.interactive {
        ctx.warn("apply asks for `yes` on a terminal and stdin is not one; nothing was changed. An answer piped in (`echo yes |`) is refused on purpose: nobody has read the plan. Pass `--auto-approve` to apply without asking (CI, scripts)");
        return Ok(false);
    }
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "\nApply these changes? Only `yes` is accepted: ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    if answer.trim() == "yes" {
        Ok(true)
    } else {
        ctx.warn("apply cancelled; nothing was changed");
        Ok(false)
    }
}
