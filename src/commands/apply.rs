//! `invhooks apply`: plan, show, check safety, confirm, execute (in waves:
//! `waves.rs`), report.

use std::collections::{HashMap, HashSet};
use std::io::{IsTerminal as _, Write};
use std::time::Duration;

use anyhow::Context as _;

use super::fetch::{fetch, plan_targets};
use super::saved::{self, Prepared};
use super::{Context, Target};
use crate::apply::gate::{self, Gate, Switches};
use futures_util::stream::{self, StreamExt};

use super::context::Sink;
use super::interrupts;
use crate::apply::waves::{Rollout, WaveGate};
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport, RunReport, Stop};
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
        interactive: std::io::stdin().is_terminal(),
        keep_going: args.keep_going,
    };
    let (refused, ask) = match gate::decide(&plan, switches) {
        // A gate beyond `converge` probes even a fleet with nothing to
        // change: re-running never skips a gate that failed.
        Gate::NothingToDo if args.wave_gate != WaveGate::Converge => (Vec::new(), false),
        Gate::NothingToDo => {
            let labels = plan.merchants.iter().map(|m| m.merchant.clone()).collect();
            let run = RunReport::new(Vec::new(), Vec::new(), Rollout::whole(labels));
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
                let others = plan.merchants.iter().filter(|m| !m.changes.is_empty()).count() > reasons.len();
                lines.push(format!(
                    "help: check the manifest, or re-run with `--force` if this is intended{}",
                    if others {
                        ", or with `--keep-going` to apply the other merchants and skip these"
                    } else {
                        ""
                    }
                ));
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
            "merchant `{}`: {}; skipped (`--keep-going`), the other merchants are applied",
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
    let run = super::waves::roll_out(ctx, &args, &targets, &plan, refused, options).await?;
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
    // Exit 3 when a merchant was refused (`--keep-going`), 1 for anything
    // else short of success.
    Ok(match (run.refused.is_empty(), run.succeeded()) {
        (false, _) => Exit::Refused,
        (true, true) => Exit::Success,
        (true, false) => Exit::Error,
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

/// One run's calls, shared by its waves: the targets and plan, each
/// merchant's options, how many merchants at once, and the stop an
/// interrupt requests.
#[derive(Debug)]
pub(super) struct Calls<'a> {
    pub ctx: &'a Context,
    pub targets: &'a [Target],
    pub plan: &'a Plan,
    pub options: ApplyOptions,
    pub merchants: usize,
    pub stop: &'a Stop,
}

impl Calls<'_> {
    /// Applies the part of the plan of each merchant of `wave` that has
    /// changes, up to `merchants` merchants at once, with progress on
    /// stderr (`title` names a bar of several merchants); once `stop` is
    /// requested no call starts. Reports come back in plan order.
    pub(super) async fn execute(&self, wave: &[String], title: &str) -> Vec<MerchantReport> {
        let wave: HashSet<&str> = wave.iter().map(String::as_str).collect();
        let by_label: HashMap<&str, &Target> = self
            .targets
            .iter()
            .map(|t| (t.manifest.label.as_str(), t))
            .collect();
        let work: Vec<(&Target, &MerchantPlan)> = (self.plan.merchants.iter())
            .filter(|m| !m.changes.is_empty() && wave.contains(m.merchant.as_str()))
            .filter_map(|m| Some((*by_label.get(m.merchant.as_str())?, m)))
            .collect();
        let progress = Progress::new(self.ctx, &work, title);
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
                        self.options,
                        self.stop,
                        &on_change,
                    )
                    .await;
                    progress.merchant_done();
                    (i, report)
                }
            })
            .buffer_unordered(self.merchants.max(1))
            .collect()
            .await;
        progress.finish();
        reports.sort_by_key(|(i, _)| *i);
        reports.into_iter().map(|(_, r)| r).collect()
    }
}

/// Progress on stderr: on a terminal a bar (changes of the one merchant,
/// or merchants done of all), elsewhere one line per finished change.
struct Progress<'a> {
    ctx: &'a Context,
    bar: Option<indicatif::ProgressBar>,
    per_change: bool,
}

impl<'a> Progress<'a> {
    fn new(ctx: &'a Context, work: &[(&Target, &MerchantPlan)], title: &str) -> Self {
        let per_change = work.len() == 1;
        let bar = match work {
            [(_, only)] => ctx.progress_bar(only.changes.len(), &only.merchant),
            _ => ctx.progress_bar(work.len(), title),
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
