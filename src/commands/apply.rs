//! `invhooks apply`: plan, show, check safety, confirm, execute, report.

use std::io::Write;
use std::time::Duration;

use super::fetch::{fetch, plan_targets};
use super::saved::{self, Prepared};
use super::{Context, Target};
use crate::apply::gate::{self, Gate, Switches};
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
            let plan = plan_targets(ctx, &targets);
            (targets, plan)
        }
    };
    let shown = text::render(&plan, text::TextOptions { color: ctx.color });
    match args.format {
        Format::Text => ctx.out(&shown),
        Format::Json | Format::Markdown => ctx.status(shown.trim_end()),
    }
    let switches = Switches {
        force: args.force,
        auto_approve: args.auto_approve,
        interactive: ctx.interactive,
    };
    match gate::decide(&plan, switches) {
        Gate::NothingToDo => {
            step_summary(ctx, &args, &plan, ApplyResult::Applied(&[]));
            return Ok(Exit::Success);
        }
        Gate::Refused(reasons) => {
            if reasons == [gate::NO_TERMINAL] {
                ctx.warn("apply needs confirmation but stdin is not a terminal; nothing was changed. Pass `--auto-approve` to apply from CI");
            } else {
                for reason in &reasons {
                    ctx.warn(reason);
                }
                ctx.warn("apply refused by a safety threshold; nothing was changed. Check the manifest, or re-run with `--force` if this is intended");
            }
            step_summary(ctx, &args, &plan, ApplyResult::Refused(&reasons));
            return Ok(Exit::Refused);
        }
        Gate::Confirm if !confirm()? => {
            ctx.warn("apply cancelled; nothing was changed");
            return Ok(Exit::Error);
        }
        Gate::Confirm | Gate::Go => {}
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
                r.outcome.as_str(),
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

/// Asks for `yes` on the terminal.
fn confirm() -> anyhow::Result<bool> {
    let mut stderr = std::io::stderr().lock();
    write!(stderr, "\nApply these changes? Only `yes` is accepted: ")?;
    stderr.flush()?;
    let mut answer = String::new();
    std::io::stdin().read_line(&mut answer)?;
    Ok(answer.trim() == "yes")
}
