//! `invhooks apply`: plan, show, check safety, confirm, execute, report.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::time::Duration;

use anyhow::Context as _;

use super::fetch::{fetch, plan_targets};
use super::saved::{self, Prepared};
use super::{Context, Target};
use crate::apply::gate::{self, Gate, Switches};
use futures_util::stream::{self, StreamExt};

use super::context::Sink;
use super::interrupts;
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport, RunReport};
use crate::cli::ApplyArgs;
use crate::exit::Exit;
use crate::plan::{MerchantPlan, Plan};
use crate::render::markdown::{self, ApplyResult};
use crate::render::{report, text, Format};

/// What an interrupt before the first call prints (exit 1).
const CANCELLED: &str = "apply cancelled; nothing was changed";

/// Runs `apply`. An interrupt before the calls (while live state is read,
/// at the prompt) cancels it: nothing changed, exit 1.
pub async fn run(ctx: &Context, args: ApplyArgs) -> anyhow::Result<Exit> {
    let watch = interrupts::watch(ctx).context("cannot watch for interrupts (SIGINT, SIGTERM)")?;
    let prepared = prepare(ctx, &args).await;
    if ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    let Some((targets, plan)) = prepared? else {
        return Ok(Exit::Refused);
    };
    let shown = text::render(&plan, text::TextOptions { color: ctx.color }, &ctx.keys());
    match args.format {
        Format::Text => ctx.out(&shown),
        Format::Json | Format::Markdown => ctx.status(shown.trim_end()),
    }
    let switches = Switches {
        force: args.force,
        auto_approve: args.auto_approve,
        interactive: ctx.interactive,
    };
    let (refused, ask) = match gate::decide(&plan, switches) {
        Gate::NothingToDo => {
            let run = RunReport::new(&plan, Vec::new(), Vec::new());
            step_summary(ctx, &args, &plan, ApplyResult::Applied(&run));
            return Ok(Exit::Success);
        }
        Gate::Refused(reasons) => {
            if reasons == [gate::NO_TERMINAL] {
                ctx.refuse(&[
                    "apply asks for `yes` on a terminal and stdin is not one; nothing was changed".into(),
                    "an answer piped in (`echo yes |`) is refused on purpose: nobody has read the plan"
                        .into(),
                    "help: pass `--auto-approve` to apply without asking (CI, scripts)".into(),
                ]);
            } else {
                let mut lines = vec!["apply refused by a safety threshold; nothing was changed".to_owned()];
                lines.extend(reasons.iter().cloned());
                lines.push("help: check the manifest, or re-run with `--force` if this is intended".into());
                ctx.refuse(&lines);
            }
            step_summary(ctx, &args, &plan, ApplyResult::Refused(&reasons));
            return Ok(Exit::Refused);
        }
        Gate::Confirm(refused) => (refused, true),
        Gate::Go(refused) => (refused, false),
    };
    for r in &refused {
        ctx.refuse(&[format!(
            "merchant `{}`: {}; its changes are kept back, the other merchants are applied",
            r.merchant, r.reason
        )]);
    }
    if (ask && !confirm(ctx).await?) || ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    watch.notice(interrupts::WHILE_APPLYING);

    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        wait: Duration::from_secs(u64::from(args.wait)),
        ..ApplyOptions::default()
    };
    let held: Vec<&str> = refused.iter().map(|r| r.merchant.as_str()).collect();
    let reports = execute(
        ctx,
        &targets,
        &plan,
        &held,
        options,
        usize::from(args.merchant_parallelism),
    )
    .await;
    let run = RunReport::new(&plan, reports, refused);
    ctx.out(&match args.format {
        Format::Text => format!("\n{}", report::render(&run, ctx.color, &ctx.keys())),
        Format::Json => report::json(&run, &ctx.keys()),
        Format::Markdown => markdown::apply_summary(
            &plan,
            ApplyResult::Applied(&run),
            markdown::GITHUB_COMMENT_LIMIT,
            &ctx.keys(),
        ),
    });
    step_summary(ctx, &args, &plan, ApplyResult::Applied(&run));
    // Exit 3 only when nothing changed anywhere: the refusals above.
    Ok(if run.succeeded() {
        Exit::Success
    } else {
        Exit::Error
    })
}

/// The targets and the plan: a saved plan's (`None` when it is refused:
/// said, exit 3), or the manifests' against live state.
async fn prepare(ctx: &Context, args: &ApplyArgs) -> anyhow::Result<Option<(Vec<Target>, Plan)>> {
    Ok(match &args.plan {
        // A saved plan: its changes exactly, or a refusal if live moved.
        Some(path) => match saved::load(ctx, path).await? {
            Prepared::Ready { targets, plan } => Some((targets, plan)),
            Prepared::Refused(reasons) => {
                ctx.refuse(&reasons);
                let empty = Plan {
                    merchants: Vec::new(),
                };
                step_summary(ctx, args, &empty, ApplyResult::Refused(&reasons));
                None
            }
        },
        None => {
            let reads = usize::from(args.merchant_parallelism) * usize::from(args.parallelism);
            let targets = fetch(ctx, &args.manifests.files, &args.select, reads).await?;
            let plan = plan_targets(ctx, &targets);
            Some((targets, plan))
        }
    })
}

/// Appends the run's Markdown summary to `$GITHUB_STEP_SUMMARY` when set.
fn step_summary(ctx: &Context, args: &ApplyArgs, plan: &Plan, result: ApplyResult<'_>) {
    ctx.step_summary(args.no_step_summary, || {
        markdown::apply_summary(plan, result, markdown::GITHUB_COMMENT_LIMIT, &ctx.keys())
    });
}

/// Applies each merchant's part of `plan` but `held`'s, up to `merchants`
/// merchants at once, reporting progress on stderr; once `ctx.stop` is
/// requested (an interrupt) no call starts. Reports come back in plan order.
pub(super) async fn execute(
    ctx: &Context,
    targets: &[Target],
    plan: &Plan,
    held: &[&str],
    options: ApplyOptions,
    merchants: usize,
) -> Vec<MerchantReport> {
    let held: HashSet<&str> = held.iter().copied().collect();
    let by_label: HashMap<&str, &Target> = targets.iter().map(|t| (t.manifest.label.as_str(), t)).collect();
    let work: Vec<(&Target, &MerchantPlan)> = plan
        .merchants
        .iter()
        .filter(|m| !m.changes.is_empty() && !held.contains(m.merchant.as_str()))
        .filter_map(|m| Some((*by_label.get(m.merchant.as_str())?, m)))
        .collect();
    let stop = &ctx.stop;
    let progress = Progress::new(ctx, &work);
    let mut reports: Vec<(usize, MerchantReport)> = stream::iter(work.iter().enumerate())
        .map(|(i, (target, merchant_plan))| {
            let progress = &progress;
            async move {
                let on_change = |r: &ChangeReport| progress.change(&merchant_plan.merchant, r);
                let report = apply::apply_until(
                    &target.client,
                    &target.manifest,
                    merchant_plan,
                    &target.live,
                    options,
                    stop,
                    &on_change,
                )
                .await;
                progress.merchant_done();
                (i, report)
            }
        })
        .buffer_unordered(merchants.max(1))
        .collect()
        .await;
    progress.finish();
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// Progress on stderr: on a terminal a bar (changes of the one merchant,
/// or merchants done of all), elsewhere one line per finished change.
struct Progress<'a> {
    ctx: &'a Context,
    bar: Option<indicatif::ProgressBar>,
    per_change: bool,
}

impl<'a> Progress<'a> {
    fn new(ctx: &'a Context, work: &[(&Target, &MerchantPlan)]) -> Self {
        let per_change = work.len() == 1;
        let bar = match work {
            [(_, only)] => ctx.progress_bar(only.changes.len(), &only.merchant),
            _ => ctx.progress_bar(work.len(), "merchants"),
        };
        Self { ctx, bar, per_change }
    }

    fn change(&self, label: &str, r: &ChangeReport) {
        let line = format!(
            "{label}: {} {}",
            r.outcome.as_str(),
            text::change_line(&r.change, false, &self.ctx.keys())
        );
        match &self.bar {
            Some(bar) => {
                if self.per_change {
                    bar.inc(1);
                }
                if !r.outcome.is_done() {
                    let _ = self.ctx.emit(Sink::Bar(bar), &line);
                }
            }
            None => self.ctx.status(&line),
        }
    }

    fn merchant_done(&self) {
        if let (Some(bar), false) = (&self.bar, self.per_change) {
            bar.inc(1);
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Asks for `yes` on the terminal; an interrupt (Ctrl-C) is a no. The
/// answer is read on a thread of its own, which an interrupt leaves
/// behind (the process exits), so the prompt never holds the run.
async fn confirm(ctx: &Context) -> anyhow::Result<bool> {
    {
        let mut stderr = std::io::stderr().lock();
        write!(stderr, "\nApply these changes? Only `yes` is accepted: ")?;
        stderr.flush()?;
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let mut answer = String::new();
        let _ = tx.send(std::io::stdin().read_line(&mut answer).map(|_| answer));
    });
    match ctx.stop.or(rx).await {
        Ok(Ok(answer)) => Ok(answer?.trim() == "yes"),
        Ok(Err(_)) => Ok(false),
        Err(_) => {
            let _ = ctx.emit(Sink::Stderr, "\n");
            Ok(false)
        }
    }
}
