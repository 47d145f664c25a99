//! `apply`'s calls, wave by wave (docs/guides/rollouts.md): [`waves::roll_out`]
//! wired to the executor and `check`'s probes. Without `--waves`, one wave.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal as _;
use std::time::Duration;

use futures_util::stream::{self, StreamExt};
use indicatif::{ProgressBar, ProgressStyle};

use super::check::{probe_all, prober};
use super::context::Sink;
use super::{Context, Target};
use crate::apply::waves::{self, GateFailure, Rollout, Sizes, WaveGate};
use crate::apply::{self, ApplyOptions, ChangeReport, MerchantReport, Refusal, RunReport};
use crate::check;
use crate::cli::ApplyArgs;
use crate::plan::{MerchantPlan, Plan};

/// Gate failures a status line names before "and N more".
const SHOWN: usize = 5;

/// Applies `plan` but `refused`'s merchants, wave by wave (canaries first),
/// each behind `args`' gate; `ctx.stop` ends every wave, gate and pause.
pub(super) async fn roll_out(
    ctx: &Context,
    args: &ApplyArgs,
    targets: &[Target],
    plan: &Plan,
    refused: Vec<Refusal>,
    options: ApplyOptions,
) -> anyhow::Result<RunReport> {
    let by_label: HashMap<&str, &Target> = targets.iter().map(|t| (t.manifest.label.as_str(), t)).collect();
    let canary = |m: &str| by_label.get(m).is_some_and(|t| t.manifest.canary);
    let order = waves::order(
        plan.merchants
            .iter()
            .map(|m| (m.merchant.as_str(), canary(&m.merchant))),
    );
    let planned = args.waves.clone().unwrap_or_else(Sizes::all).split(order);
    let (gate, count, stop) = (args.wave_gate, planned.1, &ctx.stop);
    let prober = match gate {
        WaveGate::Converge => None,
        WaveGate::Check | WaveGate::TestEvent => Some(prober(ctx)?),
    };
    let held: HashSet<&str> = refused.iter().map(|r| r.merchant.as_str()).collect();
    let pause = Duration::from_secs(args.wave_pause);
    let mut reports = Vec::new();
    let waves = waves::roll_out(planned, pause, stop, async |i, wave: &[String]| {
        let wave: Vec<&str> = wave
            .iter()
            .map(String::as_str)
            .filter(|m| !held.contains(m))
            .collect();
        let number = i + 1;
        if count > 1 {
            ctx.status(&format!("wave {number} of {count}: {} merchant(s)", wave.len()));
        }
        let in_wave: HashSet<&str> = wave.iter().copied().collect();
        let work: Vec<(&Target, &MerchantPlan)> = (plan.merchants.iter())
            .filter(|m| !m.changes.is_empty() && in_wave.contains(m.merchant.as_str()))
            .filter_map(|m| Some((*by_label.get(m.merchant.as_str())?, m)))
            .collect();
        let title = if count > 1 {
            format!("wave {number}/{count}")
        } else {
            "merchants".to_owned()
        };
        let done = execute(ctx, work, options, usize::from(args.merchant_parallelism), &title).await;
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
            ctx.status(&format!(
                "waiting {} s before wave {} (`--wave-pause`); an interrupt ends the rollout here",
                pause.as_secs(),
                number + 1
            ));
        }
        failures
    })
    .await;
    // The plan's order: by label.
    reports.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    let rollout = Rollout {
        gate,
        waves,
        sized: count,
        interrupted: stop.requested(),
    };
    Ok(RunReport::new(reports, refused, rollout))
}

/// Applies each merchant's part, `merchants` at once, with progress on stderr
/// (a bar on a terminal, else a line per change); reports in `work`'s order.
async fn execute(
    ctx: &Context,
    work: Vec<(&Target, &MerchantPlan)>,
    options: ApplyOptions,
    merchants: usize,
    title: &str,
) -> Vec<MerchantReport> {
    let changes: usize = work.iter().map(|(_, m)| m.changes.len()).sum();
    let label = match &work[..] {
        [(_, only)] => only.merchant.as_str(),
        _ => title,
    };
    let bar = (!ctx.quiet && std::io::stderr().is_terminal()).then(|| {
        let bar = ProgressBar::new(changes as u64).with_prefix(label.to_owned());
        if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}") {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    });
    let (keys, bar) = (&ctx.keys(), &bar);
    let mut reports: Vec<(usize, MerchantReport)> = stream::iter(work.into_iter().enumerate())
        .map(|(i, (target, merchant_plan))| async move {
            let on_change = |r: &ChangeReport| {
                let change = crate::render::text::change_line(&r.change, false, keys);
                let line = format!("{}: {} {change}", merchant_plan.merchant, r.outcome.as_str());
                match bar {
                    None => ctx.status(&line),
                    Some(bar) => {
                        bar.inc(1);
                        if !r.outcome.is_done() {
                            let _ = ctx.emit(Sink::Bar(bar), &line);
                        }
                    }
                }
            };
            let (client, manifest, live) = (&target.client, &target.manifest, &target.live);
            let stop = &ctx.stop;
            (
                i,
                apply::apply(client, manifest, merchant_plan, live, options, stop, &on_change).await,
            )
        })
        .buffer_unordered(merchants.max(1))
        .collect()
        .await;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

/// What stderr says once a wave's gate is judged.
fn gate_line(ctx: &Context, number: usize, gate: WaveGate, failures: &[GateFailure]) -> String {
    let head = format!("wave {number}: gate `{}`", gate.as_str());
    if failures.is_empty() {
        return format!("{head} passed");
    }
    let keys = ctx.keys();
    let mut line = format!("{head} failed; the rollout stops here:");
    for f in failures.iter().take(SHOWN) {
        let shown = crate::render::failure_text(f, |v| {
            crate::escape::escape(&crate::secret::Masked::text(v, &keys)).into_owned()
        });
        line.push_str(&format!("\n  {shown}"));
    }
    if failures.len() > SHOWN {
        line.push_str(&format!(
            "\n  and {} more (see the report)",
            failures.len() - SHOWN
        ));
    }
    line
}
