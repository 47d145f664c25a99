//! `invhooks apply`: plan, show, check safety, confirm, execute, report.

use std::io::Write;
use std::time::Duration;

use super::{fetch, plan_targets, Context, Target};
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport};
use crate::cli::ApplyArgs;
use crate::exit::Exit;
use crate::plan::Plan;
use crate::render::{self, text};

/// Runs `apply`.
pub async fn run(ctx: &Context, args: ApplyArgs) -> anyhow::Result<Exit> {
    let targets = fetch(ctx, &args.manifests.files).await?;
    let plan = plan_targets(&targets);
    ctx.out(&text::render(&plan, text::TextOptions { color: ctx.color }));
    if !plan.has_changes() {
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
        return Ok(Exit::Refused);
    }
    if !args.auto_approve && !confirm(ctx)? {
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
    ctx.out(&format!("\n{}", render::report::render(&reports, ctx.color)));
    Ok(if reports.iter().all(MerchantReport::succeeded) {
        Exit::Success
    } else {
        Exit::Error
    })
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
        let progress = |r: &ChangeReport| {
            if !ctx.progress {
                return;
            }
            ctx.status(&format!(
                "{label}: {} {}",
                outcome_word(r),
                text::change_line(&r.change, false)
            ));
        };
        reports.push(
            apply::apply(
                &target.client,
                &target.manifest,
                merchant_plan,
                &target.live,
                options,
                &progress,
            )
            .await,
        );
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
        ctx.warn("apply needs confirmation but stdin is not a terminal; nothing was changed. Pass `--auto-approve` to apply from CI");
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
