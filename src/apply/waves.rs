//! Staged rollouts (docs/guides/rollouts.md): the selected merchants cut
//! into waves by `--waves` (canaries first, then by label), what a wave's
//! gate found ([`GateFailure`]), and [`roll_out`], the loop that runs wave
//! after wave, pausing between them, until a gate fails or a stop is
//! requested. What running a wave and judging it means is the caller's:
//! the loop only keeps the order and the record.

use std::time::Duration;

use super::{MerchantReport, Stop, Verification};
use crate::check;

/// One size of `--waves`: how many merchants have been rolled out once the
/// wave is done, as a count or a percentage of the selected merchants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// That many merchants in all (at least 1).
    Count(u32),
    /// That percentage of the selected merchants in all, rounded down
    /// (1 to 100).
    Percent(u8),
}

/// `--waves SIZES`: cumulative sizes, at least one and at most
/// [`MAX_WAVES`]; sizes of one kind grow, and nothing follows `100%`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes(Vec<Size>);

/// Most sizes `--waves` takes.
pub const MAX_WAVES: usize = 20;
/// Largest count `--waves` takes.
pub const MAX_COUNT: u32 = 1_000_000;

impl Sizes {
    /// Every merchant in one wave: `apply` without `--waves`.
    pub fn all() -> Sizes {
        Sizes(vec![Size::Percent(100)])
    }

    /// Parses `1,10%,100%`; the error says what to write.
    pub fn parse(text: &str) -> Result<Sizes, String> {
        let usage =
            "write cumulative counts or percentages of the selected merchants, e.g. `--waves 1,10%,100%`";
        let mut sizes: Vec<Size> = Vec::new();
        for item in text.split(',').map(str::trim) {
            let size = match item.strip_suffix('%') {
                Some(p) => match p.trim().parse::<u8>() {
                    Ok(p @ 1..=100) => Size::Percent(p),
                    Ok(_) => return Err(format!("`{item}`: a percentage is 1% to 100%; {usage}")),
                    Err(_) => return Err(format!("`{item}` is not a percentage; {usage}")),
                },
                None => match item.parse::<u32>() {
                    Ok(0) => return Err(format!("`0`: a wave holds at least one merchant; {usage}")),
                    Ok(n) if n <= MAX_COUNT => Size::Count(n),
                    Ok(_) => return Err(format!("`{item}`: a count is at most {MAX_COUNT}; {usage}")),
                    Err(_) if item.is_empty() => return Err(format!("`{text}` has an empty size; {usage}")),
                    Err(_) => return Err(format!("`{item}` is not a count or a percentage; {usage}")),
                },
            };
            let shrinks = sizes.iter().rev().find_map(|&before| match (before, size) {
                (Size::Count(a), Size::Count(b)) if b <= a => Some(before),
                (Size::Percent(a), Size::Percent(b)) if b <= a => Some(before),
                _ => None,
            });
            if sizes.last() == Some(&Size::Percent(100)) {
                return Err(format!(
                    "`{text}`: `100%` is every merchant, so nothing can follow it"
                ));
            }
            if let Some(before) = shrinks {
                return Err(format!(
                    "`{text}`: sizes are cumulative (merchants in all so far), so `{}` after `{}` adds nothing; {usage}",
                    show(size),
                    show(before)
                ));
            }
            sizes.push(size);
        }
        if sizes.len() > MAX_WAVES {
            return Err(format!("`{text}` has {} waves; at most {MAX_WAVES}", sizes.len()));
        }
        Ok(Sizes(sizes))
    }

    /// `ordered` cut into waves: each holds the merchants past the previous
    /// size up to its own (a wave that would hold none is left out), and
    /// how many waves the sizes made: merchants past the last size make one
    /// more wave, which is never started.
    pub fn split<T>(&self, ordered: Vec<T>) -> (Vec<Vec<T>>, usize) {
        let n = ordered.len();
        let mut rest = ordered.into_iter();
        let mut taken = 0;
        let mut waves = Vec::new();
        for size in &self.0 {
            let upto = match *size {
                Size::Count(k) => (k as usize).min(n),
                Size::Percent(p) => n * usize::from(p) / 100,
            };
            if upto > taken {
                waves.push(rest.by_ref().take(upto - taken).collect());
                taken = upto;
            }
        }
        let sized = waves.len();
        waves.extend(Some(rest.collect::<Vec<T>>()).filter(|r| !r.is_empty()));
        (waves, sized)
    }
}

fn show(size: Size) -> String {
    match size {
        Size::Count(n) => n.to_string(),
        Size::Percent(p) => format!("{p}%"),
    }
}

/// The rollout order: canaries (`canary: true`) first, then the others,
/// each by label.
pub fn order<'a>(merchants: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<String> {
    let mut all: Vec<(bool, &str)> = merchants.into_iter().map(|(m, canary)| (!canary, m)).collect();
    all.sort_unstable();
    all.into_iter().map(|(_, m)| m.to_owned()).collect()
}

/// `--wave-gate`: what must hold after a wave before the next starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WaveGate {
    /// Every merchant of the wave converged.
    #[default]
    Converge,
    /// Also every callback URL of the wave's merchants answers, as `check`
    /// probes it.
    Check,
    /// Also each accepts one test event (`check --send-test-event`).
    TestEvent,
}

impl WaveGate {
    /// The word reports use, as the flag spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            WaveGate::Converge => "converge",
            WaveGate::Check => "check",
            WaveGate::TestEvent => "test-event",
        }
    }
}

/// Why a wave's gate failed, for one merchant (and URL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateFailure {
    /// The merchant's label.
    pub merchant: String,
    /// The callback URL probed, masked; `None` for the converge gate.
    pub url: Option<String>,
    /// What went wrong, e.g. `TCP: connection refused`.
    pub reason: String,
}

/// How a wave ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaveStatus {
    /// Applied, and its gate passed.
    Passed,
    /// Applied, and its gate failed: the rollout stopped here.
    Failed(Vec<GateFailure>),
    /// A stop (an interrupt) came while it ran.
    Interrupted,
    /// A gate failed or a stop came before it.
    NotStarted,
}

impl WaveStatus {
    /// The word reports use.
    pub fn as_str(&self) -> &'static str {
        match self {
            WaveStatus::Passed => "passed",
            WaveStatus::Failed(_) => "failed",
            WaveStatus::Interrupted => "interrupted",
            WaveStatus::NotStarted => "not started",
        }
    }
}

/// One wave of a rollout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    /// Its merchants, in rollout order.
    pub merchants: Vec<String>,
    /// How it ended.
    pub status: WaveStatus,
}

/// A whole rollout: every selected merchant in exactly one wave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    /// The gate each wave had to pass.
    pub gate: WaveGate,
    /// The waves, in order.
    pub waves: Vec<Wave>,
    /// How many of them `--waves` sized: a last one past them holds the
    /// merchants beyond the last size (never started).
    pub sized: usize,
    /// A stop was requested during the rollout.
    pub interrupted: bool,
}

impl Rollout {
    /// One wave of `merchants` that passed: a run without waves or changes.
    pub fn whole(merchants: Vec<String>) -> Rollout {
        Rollout {
            gate: WaveGate::Converge,
            waves: vec![Wave {
                merchants,
                status: WaveStatus::Passed,
            }],
            sized: 1,
            interrupted: false,
        }
    }

    /// Whether it is a staged rollout: several waves, or a gate beyond
    /// `converge` (one wave of all is a plain `apply`).
    pub fn staged(&self) -> bool {
        self.waves.len() > 1 || self.gate != WaveGate::Converge
    }

    /// The first wave whose gate failed.
    pub fn failed(&self) -> Option<(usize, &[GateFailure])> {
        self.waves.iter().enumerate().find_map(|(i, w)| match &w.status {
            WaveStatus::Failed(f) => Some((i, f.as_slice())),
            _ => None,
        })
    }
}

/// Runs the first `sized` of `waves` in order: `run` applies one (its
/// index, its merchants) and returns its gate's failures. Between waves it
/// waits `pause`. After a failed gate, or once `stop` is requested, no wave
/// starts; nor does any past `sized`.
pub async fn roll_out(
    (waves, sized): (Vec<Vec<String>>, usize),
    pause: Duration,
    stop: &Stop,
    mut run: impl AsyncFnMut(usize, &[String]) -> Vec<GateFailure>,
) -> Vec<Wave> {
    let mut done = Vec::with_capacity(waves.len());
    let mut go = true;
    for (index, merchants) in waves.into_iter().enumerate() {
        go = go && index < sized && !stop.requested() && (index == 0 || wait(stop, pause).await);
        let status = match go {
            false => WaveStatus::NotStarted,
            true => {
                let failures = run(index, &merchants).await;
                match (stop.requested(), failures.is_empty()) {
                    (true, _) => WaveStatus::Interrupted,
                    (false, true) => WaveStatus::Passed,
                    (false, false) => WaveStatus::Failed(failures),
                }
            }
        };
        go = status == WaveStatus::Passed;
        done.push(Wave { merchants, status });
    }
    done
}

/// Waits `duration`, or less once `stop` is requested; whether it ran out.
// Polls until the run's one cancellation token (issue 19) can be selected on.
async fn wait(stop: &Stop, duration: Duration) -> bool {
    let end = tokio::time::Instant::now() + duration;
    while !stop.requested() {
        let left = end.saturating_duration_since(tokio::time::Instant::now());
        if left.is_zero() {
            return true;
        }
        tokio::time::sleep(left.min(Duration::from_millis(50))).await;
    }
    false
}

/// The converge gate: every merchant of `reports` that did not converge.
pub fn converge_failures<'a>(reports: impl IntoIterator<Item = &'a MerchantReport>) -> Vec<GateFailure> {
    let why = |r: &MerchantReport| {
        let failed = r
            .changes
            .iter()
            .filter_map(|c| c.outcome.reason())
            .collect::<Vec<_>>();
        match (&r.verification, failed.first()) {
            _ if r.interrupted => "interrupted".to_owned(),
            (_, Some(first)) => format!("{} change(s) failed or skipped; first: {first}", failed.len()),
            (Verification::NotConverged { remaining, .. }, None) => {
                format!("not converged: {} change(s) still needed", remaining.len())
            }
            (Verification::Unknown { reason }, None) => format!("not verified: {reason}"),
            (Verification::Converged, None) => "not converged".to_owned(),
        }
    };
    reports
        .into_iter()
        .filter(|r| !r.succeeded())
        .map(|r| GateFailure {
            merchant: r.merchant.clone(),
            url: None,
            reason: why(r),
        })
        .collect()
}

/// The check and test-event gates: per merchant, each callback URL that did
/// not answer or did not accept its test event.
pub fn probe_failures(outcomes: &[check::Outcome]) -> Vec<GateFailure> {
    let mut found = Vec::new();
    for o in outcomes.iter().filter(|o| !o.ok()) {
        let url = Some(o.callback.shown());
        let failure = |merchant: &str, reason: String| GateFailure {
            merchant: merchant.to_owned(),
            url: url.clone(),
            reason,
        };
        match &o.result {
            Err(f) => found.extend(
                o.callback
                    .users
                    .iter()
                    .map(|u| failure(&u.merchant, f.to_string())),
            ),
            Ok(_) => found.extend(
                (o.deliveries.iter().filter(|d| !d.accepted()))
                    .map(|d| failure(&d.user.merchant, check::render::delivery_text(d))),
            ),
        }
    }
    found.dedup();
    found
}

#[cfg(test)]
#[path = "waves_tests.rs"]
mod tests;
