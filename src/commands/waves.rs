//! `apply`'s rollout (docs/guides/rollouts.md): [`apply::waves::roll_out`]
//! wired to the calls ([`Calls`]) and, for the `check` and `test-event`
//! gates, to `check`'s probes, with a line on stderr as each wave starts,
//! is judged and pauses. The run's one stop (`Context::stop`) ends every
//! wave, gate and pause. A run without `--waves` is one wave of every
//! merchant.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use super::apply::Calls;
use super::check::{probe_all, prober};
use super::{Context, Target};
use crate::apply::waves::{self, GateFailure, Rollout, Sizes, WaveGate};
use crate::apply::{ApplyOptions, Refusal, RunReport, Stop};
use crate::check;
use crate::cli::ApplyArgs;
use crate::plan::Plan;

/// Gate failures a status line names before "and N more".
const SHOWN: usize = 5;

/// Applies `plan` but `refused`'s merchants, wave by wave (canaries first,
/// then by label), each wave behind the gate `args` names.
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
    let (gate, count) = (args.wave_gate, planned.1);
    let prober = match gate {
        WaveGate::Converge => None,
        WaveGate::Check | WaveGate::TestEvent => Some(prober(ctx)?),
    };
    let held: HashSet<&str> = refused.iter().map(|r| r.merchant.as_str()).collect();
    // The run's one stop: `apply::run` watches for interrupts already.
    let stop: &Stop = &ctx.stop;
    let calls = Calls {
        ctx,
        targets,
        plan,
        options,
        merchants: usize::from(args.merchant_parallelism),
        stop,
    };
    let pause = Duration::from_secs(args.wave_pause);
    let mut reports = Vec::new();
    let waves = waves::roll_out(planned, pause, stop, async |i, wave: &[String]| {
        let wave: Vec<String> = wave
            .iter()
            .filter(|m| !held.contains(m.as_str()))
            .cloned()
            .collect();
        let (number, title) = (i + 1, format!("wave {}/{count}", i + 1));
        if count > 1 {
            ctx.status(&format!("wave {number} of {count}: {} merchant(s)", wave.len()));
        }
        let done = calls
            .execute(&wave, if count > 1 { &title } else { "merchants" })
            .await;
        let mut failures = waves::converge_failures(&done);
        reports.extend(done);
        if let (Some(prober), true) = (&prober, failures.is_empty() && !stop.requested()) {
            let manifests = wave
                .iter()
                .filter_map(|m| by_label.get(m.as_str()))
                .map(|t| &t.manifest);
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
    let index: HashMap<&str, usize> = plan
        .merchants
        .iter()
        .enumerate()
        .map(|(i, m)| (m.merchant.as_str(), i))
        .collect();
    reports.sort_by_key(|r| index.get(r.merchant.as_str()).copied());
    let rollout = Rollout {
        gate,
        waves,
        sized: count,
        interrupted: stop.requested(),
    };
    Ok(RunReport::new(reports, refused, rollout))
}

/// What stderr says once a wave's gate is judged.
fn gate_line(ctx: &Context, number: usize, gate: WaveGate, failures: &[GateFailure]) -> String {
    let head = format!("wave {number}: gate `{}`", gate.as_str());
    if failures.is_empty() {
        return format!("{head} passed");
    }
    let mut line = format!("{head} failed; the rollout stops here:");
    for f in failures.iter().take(SHOWN) {
        let keys = ctx.keys();
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
