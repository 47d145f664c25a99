//! `invhooks apply`: plan, show, check safety, confirm, execute wave by wave
//! (docs/guides/rollouts.md; without `--waves`, one wave), report.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::check::{probe_all, prober};
use super::context::Sink;
use super::fetch::fetch;
use super::saved;
use super::{interrupts, Context, Target};
use crate::apply::gate::{self, Gate, Switches};
use crate::apply::waves::{self, GateFailure, Rollout, Sizes, WaveGate};
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport, Refusal, RunReport};
use crate::check;
use crate::cli::{ApplyArgs, Format};
use crate::exit::Exit;
use crate::plan::{MerchantPlan, Plan};
use crate::render::{markdown, report, text};

/// What an interrupt before the first call prints (exit 1).
const CANCELLED: &str = "apply cancelled; nothing was changed";

/// Runs `apply`; an interrupt before the calls cancels it (exit 1).
pub async fn run(ctx: &Context, args: ApplyArgs) -> anyhow::Result<Exit> {
    let again = "interrupted again: exiting now; the report is not printed. Re-run `invhooks plan` to see where things stand";
    let watch = interrupts::watch(ctx, &ctx.stop, again)?;
    let reads = usize::from(args.merchant_parallelism) * usize::from(args.parallelism);
    // A saved plan: its changes exactly, or a refusal if live moved.
    let prepared = match &args.plan {
        None => fetch(ctx, &args.manifests.files, &args.select, reads)
            .await
            .map(Ok),
        Some(path) => saved::load(ctx, path).await,
    };
    if let Ok(Err(reasons)) = &prepared {
        ctx.refuse(reasons);
        step_summary(ctx, &args, &Plan::default(), Err(reasons));
    }
    if ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    let Ok((targets, plan)) = prepared? else {
        return Ok(Exit::Refused);
    };
    let shown = text::render(&plan, ctx.color, &ctx.keys());
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
            step_summary(ctx, &args, &plan, Ok(&run));
            return Ok(Exit::Success);
        }
        Gate::Refused(reasons) => {
            ctx.refuse(&refusal(&plan, &reasons));
            step_summary(ctx, &args, &plan, Err(&reasons));
            return Ok(Exit::Refused);
        }
        Gate::Confirm(refused) => (refused, true),
        Gate::Go(refused) => (refused, false),
    };
    for r in &refused {
        let (merchant, reason) = (&r.merchant, &r.reason);
        ctx.refuse(&[format!(
            "merchant `{merchant}`: {reason}; skipped (`--keep-going`), the other merchants are applied"
        )]);
    }
    if (ask && !confirm(ctx).await?) || ctx.stop.requested() {
        ctx.warn(CANCELLED);
        return Ok(Exit::Error);
    }
    watch.notice(
        "interrupted: starting no new calls; finishing the calls in flight (each bounded by --timeout), then the report. Interrupt again to exit at once",
    );

    let run = roll_out(ctx, &args, &targets, &plan, refused).await?;
    let keys = ctx.keys();
    ctx.out(&match args.format {
        Format::Text => format!("\n{}", report::render(&run, ctx.color, &keys)),
        Format::Json => report::json(&run, &keys),
        Format::Markdown => markdown::apply_summary(&plan, Ok(&run), markdown::GITHUB_COMMENT_LIMIT, &keys),
    });
    step_summary(ctx, &args, &plan, Ok(&run));
    // Exit 3 when a merchant was refused (`--keep-going`), 1 for anything else short of success.
    let refused = Exit::Refused.when(!run.refused.is_empty());
    Ok(refused.max(Exit::Error.when(!run.succeeded())))
}

/// What stderr says when the gate refuses the whole plan.
fn refusal(plan: &Plan, reasons: &[String]) -> Vec<String> {
    if reasons == [gate::NO_TERMINAL] {
        return vec![
            "apply asks for `yes` on a terminal and stdin is not one; nothing was changed".into(),
            "an answer piped in (`echo yes |`) is refused on purpose: nobody has read the plan".into(),
            "help: pass `--auto-approve` to apply without asking (CI, scripts)".into(),
        ];
    }
    let others = plan.merchants.iter().filter(|m| !m.changes.is_empty()).count() > reasons.len();
    let keep_going = ", or with `--keep-going` to apply the other merchants and skip these";
    let help = format!(
        "help: check the manifest, or re-run with `--force` if this is intended{}",
        if others { keep_going } else { "" }
    );
    let head = "apply refused by a safety threshold; nothing was changed".to_owned();
    [vec![head], reasons.to_vec(), vec![help]].concat()
}

/// Appends the run's Markdown summary to `$GITHUB_STEP_SUMMARY` when set.
fn step_summary(ctx: &Context, args: &ApplyArgs, plan: &Plan, result: Result<&RunReport, &[String]>) {
    ctx.step_summary(args.no_step_summary, || {
        markdown::apply_summary(plan, result, markdown::GITHUB_COMMENT_LIMIT, &ctx.keys())
    });
}

/// Asks for `yes`; an interrupt is a no (the read's thread is left behind, never holding the run).
async fn confirm(ctx: &Context) -> anyhow::Result<bool> {
    ctx.emit(Sink::Stderr, "\nApply these changes? Only `yes` is accepted: ")?;
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

/// Applies `plan` but `refused`'s merchants wave by wave (canaries first), each behind a
/// gate, `--merchant-parallelism` at once, with progress on stderr.
async fn roll_out(
    ctx: &Context,
    args: &ApplyArgs,
    targets: &[Target],
    plan: &Plan,
    refused: Vec<Refusal>,
) -> anyhow::Result<RunReport> {
    let by_label: HashMap<&str, &Target> = targets.iter().map(|t| (t.manifest.label.as_str(), t)).collect();
    let canary = |m: &str| by_label.get(m).is_some_and(|t| t.manifest.canary);
    let labels = plan.merchants.iter().map(|m| m.merchant.as_str());
    let order = waves::order(labels.map(|m| (m, canary(m))));
    let planned = args.waves.clone().unwrap_or_else(Sizes::all).split(order);
    let (gate, count, stop, keys) = (args.wave_gate, planned.1, &ctx.stop, &ctx.keys());
    let prober = (gate != WaveGate::Converge).then(|| prober(ctx)).transpose()?;
    let held: HashSet<&str> = refused.iter().map(|r| r.merchant.as_str()).collect();
    let pause = Duration::from_secs(args.wave_pause);
    let options = ApplyOptions {
        parallelism: usize::from(args.parallelism),
        wait: Duration::from_secs(u64::from(args.wait)),
        ..ApplyOptions::default()
    };
    let mut reports = Vec::new();
    let waves = waves::roll_out(planned, pause, stop, async |i, wave: &[String]| {
        let wave: HashSet<_> = (wave.iter().map(String::as_str))
            .filter(|m| !held.contains(m))
            .collect();
        let number = i + 1;
        if count > 1 {
            ctx.status(&format!("wave {number} of {count}: {} merchant(s)", wave.len()));
        }
        let work: Vec<(&Target, &MerchantPlan)> = (plan.merchants.iter())
            .filter(|m| !m.changes.is_empty() && wave.contains(m.merchant.as_str()))
            .filter_map(|m| Some((*by_label.get(m.merchant.as_str())?, m)))
            .collect();
        let label = match &work[..] {
            [(_, only)] => only.merchant.clone(),
            _ if count > 1 => format!("wave {number}/{count}"),
            _ => "merchants".to_owned(),
        };
        let changes: usize = work.iter().map(|(_, m)| m.changes.len()).sum();
        // Drawn on a terminal only (else every line is a status line), never with `-q`.
        let bar = &ProgressBar::new(changes as u64).with_prefix(label);
        if ctx.quiet {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        let mut done: Vec<MerchantReport> = stream::iter(work)
            .map(|(target, merchant_plan)| async move {
                let on_change = |r: &ChangeReport| {
                    bar.inc(1);
                    if bar.is_hidden() || !r.outcome.is_done() {
                        let change = crate::render::text::change_line(&r.change, false, keys);
                        let line = format!("{}: {} {change}", merchant_plan.merchant, r.outcome.as_str());
                        bar.suspend(|| ctx.status(&line));
                    }
                };
                let (client, manifest, live) = (&target.client, &target.manifest, &target.live);
                apply::apply(client, manifest, merchant_plan, live, options, stop, &on_change).await
            })
            .buffer_unordered(usize::from(args.merchant_parallelism))
            .collect()
            .await;
        bar.finish_and_clear();
        // The plan's order: by label.
        done.sort_by(|a, b| a.merchant.cmp(&b.merchant));
        let mut failures = waves::converge_failures(&done);
        reports.extend(done);
        if let (Some(prober), true) = (&prober, failures.is_empty() && !stop.requested()) {
            let manifests = wave.iter().filter_map(|m| by_label.get(m)).map(|t| &t.manifest);
            let outcomes = probe_all(prober, check::callbacks(manifests), gate == WaveGate::TestEvent).await;
            failures = waves::probe_failures(&outcomes);
        }
        if count > 1 || gate != WaveGate::Converge {
            ctx.status(&gate_line(ctx, number, gate, &failures));
        }
        if failures.is_empty() && number < count && !pause.is_zero() && !stop.requested() {
            let (secs, next) = (pause.as_secs(), number + 1);
            ctx.status(&format!(
                "waiting {secs} s before wave {next} (`--wave-pause`); an interrupt ends the rollout here"
            ));
        }
        failures
    })
    .await;
    reports.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    let (sized, interrupted) = (count, stop.requested());
    let rollout = Rollout {
        gate,
        waves,
        sized,
        interrupted,
    };
    Ok(RunReport::new(reports, refused, rollout))
}

/// What stderr says once a wave's gate is judged.
fn gate_line(ctx: &Context, number: usize, gate: WaveGate, failures: &[GateFailure]) -> String {
    let head = format!("wave {number}: gate `{}`", gate.as_str());
    if failures.is_empty() {
        return format!("{head} passed");
    }
    let keys = ctx.keys();
    let show = |v: &str| crate::escape::escape(&crate::secret::Masked::text(v, &keys)).into_owned();
    let shown = failures.iter().map(|f| crate::render::failure_text(f, show));
    let lines: String = super::first(5, shown).map(|line| format!("\n  {line}")).collect();
    format!("{head} failed; the rollout stops here:{lines}")
}
