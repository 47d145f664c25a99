//! Staged rollouts (docs/guides/rollouts.md): merchants cut into waves by `--waves`, run by
//! [`roll_out`] until a gate fails or a stop; running and judging a wave is the caller's.

use std::time::Duration;

use super::{MerchantReport, Stop, Verification};
use crate::check;

/// `--waves SIZES`: 1 to 20 cumulative counts or percentages (`true`, rounded down).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes(Vec<(u32, bool)>);

impl Sizes {
    /// `apply` without `--waves`.
    pub fn all() -> Sizes {
        Sizes(vec![(100, true)])
    }

    pub fn parse(text: &str) -> Result<Sizes, String> {
        let usage =
            "write cumulative counts or percentages of the selected merchants, e.g. `--waves 1,10%,100%`";
        let mut sizes: Vec<(u32, bool)> = Vec::new();
        for item in text.split(',').map(str::trim) {
            let (number, percent) = item.strip_suffix('%').map_or((item, false), |n| (n.trim(), true));
            let n = number.parse().unwrap_or(u32::MAX);
            let problem = match (n, percent) {
                _ if item.is_empty() => format!("`{text}` has an empty size"),
                (u32::MAX, _) => format!("`{item}` is not a count or a percentage"),
                (0, false) => "`0`: a wave holds at least one merchant".to_owned(),
                (0 | 101.., true) => format!("`{item}`: a percentage is 1% to 100%"),
                (1_000_001.., false) => format!("`{item}`: a count is at most 1000000"),
                _ if sizes.last() == Some(&(100, true)) => {
                    format!("`{text}`: `100%` is every merchant, so nothing can follow it")
                }
                _ => match sizes.iter().rev().find(|b| b.1 == percent).filter(|b| b.0 >= n) {
                    Some(b) => format!("`{text}`: sizes are cumulative (merchants in all so far), so `{item}` after `{}{}` adds nothing", b.0, if percent { "%" } else { "" }),
                    None => String::new(),
                },
            };
            if !problem.is_empty() {
                return Err(format!("{problem}; {usage}"));
            }
            sizes.push((n, percent));
        }
        match sizes.len() {
            21.. => Err(format!("`{text}` has {} waves; at most 20", sizes.len())),
            _ => Ok(Sizes(sizes)),
        }
    }

    /// `ordered` cut into waves (none empty; past the last size, one more), and how many sized.
    pub fn split<T>(&self, ordered: Vec<T>) -> (Vec<Vec<T>>, usize) {
        let n = ordered.len();
        let (mut rest, mut taken, mut waves) = (ordered.into_iter(), 0, Vec::new());
        for &(size, percent) in &self.0 {
            let size = size as usize;
            let upto = if percent { n * size / 100 } else { size.min(n) };
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

/// The rollout order: canaries first, then the others, each by label.
pub fn order<'a>(merchants: impl IntoIterator<Item = (&'a str, bool)>) -> Vec<String> {
    let mut all: Vec<(bool, &str)> = merchants.into_iter().map(|(m, canary)| (!canary, m)).collect();
    all.sort_unstable();
    all.into_iter().map(|(_, m)| m.to_owned()).collect()
}

/// `--wave-gate`: what must hold after a wave before the next starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WaveGate {
    #[default]
    Converge,
    Check,
    TestEvent,
}

impl WaveGate {
    /// As the flag spells it.
    pub fn as_str(self) -> &'static str {
        ["converge", "check", "test-event"][self as usize]
    }
}

/// Why a wave's gate failed for one merchant; `url`, masked, for a probe.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GateFailure {
    pub merchant: String,
    pub url: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaveStatus {
    Passed,
    Failed(Vec<GateFailure>),
    Interrupted,
    NotStarted,
}

impl WaveStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            WaveStatus::Passed => "passed",
            WaveStatus::Failed(_) => "failed",
            WaveStatus::Interrupted => "interrupted",
            WaveStatus::NotStarted => "not started",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wave {
    pub merchants: Vec<String>,
    pub status: WaveStatus,
}

/// Every selected merchant in exactly one wave; `--waves` made the first `sized`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rollout {
    pub gate: WaveGate,
    pub waves: Vec<Wave>,
    pub sized: usize,
    pub interrupted: bool,
}

impl Rollout {
    /// A run without waves or changes.
    pub fn whole(merchants: Vec<String>) -> Rollout {
        let status = WaveStatus::Passed;
        let waves = vec![Wave { merchants, status }];
        Rollout {
            waves,
            sized: 1,
            ..Rollout::default()
        }
    }

    /// Several waves, or a gate beyond `converge` (not a plain `apply`).
    pub fn staged(&self) -> bool {
        self.waves.len() > 1 || self.gate != WaveGate::Converge
    }

    pub fn failed(&self) -> Option<(usize, &[GateFailure])> {
        self.waves.iter().enumerate().find_map(|(i, w)| match &w.status {
            WaveStatus::Failed(f) => Some((i, f.as_slice())),
            _ => None,
        })
    }
}

/// Runs the first `sized` of `waves`, `pause` apart, `run` returning a wave's gate failures;
/// after a failure or a stop none starts.
pub async fn roll_out(
    (waves, sized): (Vec<Vec<String>>, usize),
    pause: Duration,
    stop: &Stop,
    mut run: impl AsyncFnMut(usize, &[String]) -> Vec<GateFailure>,
) -> Vec<Wave> {
    let mut done = Vec::with_capacity(waves.len());
    let mut go = true;
    for (index, merchants) in waves.into_iter().enumerate() {
        go = go && index < sized && !stop.requested() && (index == 0 || stop.sleep(pause).await.is_ok());
        let status = match go {
            false => WaveStatus::NotStarted,
            true => match run(index, &merchants).await {
                _ if stop.requested() => WaveStatus::Interrupted,
                failures if failures.is_empty() => WaveStatus::Passed,
                failures => WaveStatus::Failed(failures),
            },
        };
        go = status == WaveStatus::Passed;
        done.push(Wave { merchants, status });
    }
    done
}

pub fn converge_failures<'a>(reports: impl IntoIterator<Item = &'a MerchantReport>) -> Vec<GateFailure> {
    let why = |r: &MerchantReport| {
        let failed: Vec<&str> = r.changes.iter().filter_map(|c| c.outcome.reason()).collect();
        match (&r.verification, failed.first()) {
            _ if r.interrupted => "interrupted".to_owned(),
            (_, Some(first)) => format!("{} change(s) failed or skipped; first: {first}", failed.len()),
            (Verification::NotConverged { remaining, .. }, _) => {
                format!("not converged: {} change(s) still needed", remaining.len())
            }
            (Verification::Unknown { reason }, _) => format!("not verified: {reason}"),
            (Verification::Converged, _) => "not converged".to_owned(),
        }
    };
    let failed = reports.into_iter().filter(|r| !r.succeeded());
    failed
        .map(|r| GateFailure {
            merchant: r.merchant.clone(),
            url: None,
            reason: why(r),
        })
        .collect()
}

/// The check and test-event gates: each merchant's URL that failed.
pub fn probe_failures(outcomes: &[check::CallbackReport]) -> Vec<GateFailure> {
    let mut found = Vec::new();
    for o in outcomes.iter().filter(|o| !o.ok()) {
        let failure = |merchant: &str, reason| GateFailure {
            merchant: merchant.to_owned(),
            url: Some(o.callback.shown()),
            reason,
        };
        match &o.result {
            Err(f) => found.extend((o.callback.users.iter()).map(|u| failure(&u.merchant, f.to_string()))),
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
