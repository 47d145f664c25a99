//! What became of an apply: each change's [`Outcome`], each merchant's, the run's (docs/fleets.md).

use std::collections::{HashMap, HashSet};

use super::waves::{Rollout, WaveStatus};
use crate::plan::Change;
use crate::secret::Masking;

/// What happened to one change; the reason in words reports show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded, or after an unknown outcome the list shows it.
    Done,
    /// A DELETE answered 400 or 404 for an id a fresh read no longer lists.
    AlreadyGone(String),
    Failed(String),
    Skipped(String),
    NotStarted,
}

impl Outcome {
    /// In report order.
    pub const WORDS: [&'static str; 4] = ["done", "failed", "skipped", "not started"];

    pub fn as_str(&self) -> &'static str {
        Self::WORDS[self.index()]
    }

    /// Done, already gone included.
    pub fn is_done(&self) -> bool {
        self.index() == 0
    }

    pub fn index(&self) -> usize {
        match self {
            Outcome::Done | Outcome::AlreadyGone(_) => 0,
            Outcome::Failed(_) => 1,
            Outcome::Skipped(_) => 2,
            Outcome::NotStarted => 3,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Done | Outcome::NotStarted => None,
            Outcome::AlreadyGone(reason) | Outcome::Failed(reason) | Outcome::Skipped(reason) => Some(reason),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChangeReport {
    pub change: Change,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Verification {
    Converged,
    /// Still different at the deadline, or nothing will change by waiting (`foreign`: another's ids).
    NotConverged {
        remaining: Vec<Change>,
        foreign: Vec<String>,
        rewrites: Vec<Rewrite>,
    },
    Unknown {
        reason: String,
    },
}

impl Verification {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verification::Converged => "converged",
            Verification::NotConverged { .. } => "not_converged",
            Verification::Unknown { .. } => "unknown",
        }
    }
}

/// A value the server stored other than sent (trimmed, lowercased); `field`: `name` or `callbackUrl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub id: String,
    pub field: &'static str,
    pub sent: String,
    pub stored: String,
    pub masking: Masking,
}

#[derive(Debug, Clone)]
pub struct MerchantReport {
    pub merchant: String,
    /// In plan order.
    pub changes: Vec<ChangeReport>,
    /// Deletes of duplicates this run made (found by verification).
    pub cleaned_up: Vec<Change>,
    pub verification: Verification,
    pub interrupted: bool,
}

impl MerchantReport {
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self.changes.iter().all(|c| c.outcome.is_done())
            && matches!(self.verification, Verification::Converged)
    }
}

/// A merchant whose changes a safety threshold kept back (`--keep-going`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Refusal {
    pub merchant: String,
    /// The threshold that tripped, as `plan` shows it.
    pub reason: String,
}

#[derive(Debug, Clone)]
pub struct RunReport {
    /// Each merchant whose changes were attempted, in plan order.
    pub merchants: Vec<MerchantReport>,
    pub refused: Vec<Refusal>,
    /// Every merchant of the plan, in its wave.
    pub rollout: Rollout,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Changes made; live matches the manifest.
    Applied,
    /// Nothing to change: live already matched.
    Converged,
    /// Kept back by a safety threshold (`--keep-going`): nothing changed.
    Refused,
    /// A change failed, was cut short, or live does not match yet.
    Failed,
    /// Its wave never started, or an interrupt came before its first call.
    NotStarted,
}

impl Status {
    /// In the order summaries list them.
    pub const ALL: [Status; 5] = [
        Status::Applied,
        Status::Converged,
        Status::Refused,
        Status::Failed,
        Status::NotStarted,
    ];

    pub fn as_str(self) -> &'static str {
        ["applied", "converged", "refused", "failed", "not started"][self as usize]
    }
}

impl RunReport {
    pub fn new(merchants: Vec<MerchantReport>, refused: Vec<Refusal>, rollout: Rollout) -> Self {
        Self {
            merchants,
            refused,
            rollout,
        }
    }

    /// In rollout order.
    pub fn statuses(&self) -> Vec<(&str, Status)> {
        let reports: HashMap<&str, &MerchantReport> =
            self.merchants.iter().map(|r| (r.merchant.as_str(), r)).collect();
        let refused: HashSet<&str> = self.refused.iter().map(|r| r.merchant.as_str()).collect();
        let status = |m: &str, wave: &WaveStatus| match reports.get(m) {
            _ if refused.contains(m) => Status::Refused,
            Some(r) if r.succeeded() => Status::Applied,
            Some(r) if r.interrupted && r.changes.iter().all(|c| c.outcome == Outcome::NotStarted) => {
                Status::NotStarted
            }
            Some(_) => Status::Failed,
            None if *wave == WaveStatus::NotStarted => Status::NotStarted,
            None => Status::Converged,
        };
        let waves = self.rollout.waves.iter();
        let all = waves.flat_map(|w| w.merchants.iter().map(move |m| (m.as_str(), &w.status)));
        all.map(|(m, wave)| (m, status(m, wave))).collect()
    }

    /// How many stores ended each way, indexed like [`Status::ALL`].
    pub fn stores(&self) -> [usize; 5] {
        let mut stores = [0; 5];
        for (_, status) in self.statuses() {
            stores[status as usize] += 1;
        }
        stores
    }

    /// Nothing failed, refused or interrupted (stores past the last `--waves` size may wait).
    pub fn succeeded(&self) -> bool {
        self.refused.is_empty()
            && !self.interrupted()
            && self.rollout.failed().is_none()
            && self.merchants.iter().all(MerchantReport::succeeded)
    }

    pub fn interrupted(&self) -> bool {
        self.rollout.interrupted || self.merchants.iter().any(|r| r.interrupted)
    }

    /// Changes by outcome, indexed like [`Outcome::WORDS`].
    pub fn tally(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for c in self.merchants.iter().flat_map(|r| &r.changes) {
            counts[c.outcome.index()] += 1;
        }
        counts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::waves::{Wave, WaveGate};
    use crate::fixtures::{desired, manifest};
    use crate::plan::diff_all;

    fn report(label: &str, outcome: Outcome) -> MerchantReport {
        let m = manifest(vec![desired("customer.updated", "crm", "https://a/")]);
        let plan = diff_all([(&m, [].as_slice())], &Default::default());
        MerchantReport {
            merchant: label.to_owned(),
            changes: vec![ChangeReport {
                change: plan.merchants[0].changes[0].clone(),
                outcome,
            }],
            cleaned_up: Vec::new(),
            verification: Verification::Converged,
            interrupted: false,
        }
    }

    fn wave(merchants: &[&str], status: WaveStatus) -> Wave {
        Wave {
            merchants: merchants.iter().map(|m| (*m).to_owned()).collect(),
            status,
        }
    }

    #[test]
    fn every_store_is_counted_once_by_how_it_ended() {
        let refused = vec![Refusal {
            merchant: "c".into(),
            reason: "too many".into(),
        }];
        let mut cut = report("f", Outcome::NotStarted);
        cut.interrupted = true;
        let rollout = Rollout {
            gate: WaveGate::Converge,
            waves: vec![
                wave(&["a", "b", "c", "d", "f"], WaveStatus::Failed(Vec::new())),
                wave(&["e", "g"], WaveStatus::NotStarted),
            ],
            sized: 2,
            interrupted: false,
        };
        let run = RunReport::new(
            vec![
                report("a", Outcome::Done),
                report("b", Outcome::Failed("400".into())),
                cut,
            ],
            refused,
            rollout,
        );
        let statuses: Vec<(&str, &str)> = run.statuses().iter().map(|(m, s)| (*m, s.as_str())).collect();
        assert_eq!(
            statuses,
            [
                ("a", "applied"),
                ("b", "failed"),
                ("c", "refused"),
                ("d", "converged"),
                ("f", "not started"),
                ("e", "not started"),
                ("g", "not started")
            ]
        );
        assert_eq!(run.stores(), [1, 1, 1, 1, 3]);
        assert!(!run.succeeded() && run.interrupted());
        assert_eq!(run.tally(), [1, 1, 0, 1]);
    }

    #[test]
    fn a_refusal_or_a_failed_gate_alone_is_not_success_but_stores_past_the_last_wave_are() {
        let refused = RunReport::new(
            Vec::new(),
            vec![Refusal {
                merchant: "a".into(),
                reason: "r".into(),
            }],
            Rollout::whole(vec!["a".into()]),
        );
        assert!(!refused.succeeded());
        let mut rollout = Rollout::whole(vec!["a".into()]);
        assert!(RunReport::new(Vec::new(), Vec::new(), rollout.clone()).succeeded());
        rollout.waves.push(wave(&["b"], WaveStatus::NotStarted));
        assert!(RunReport::new(Vec::new(), Vec::new(), rollout.clone()).succeeded());
        rollout.waves[0].status = WaveStatus::Failed(Vec::new());
        assert!(!RunReport::new(Vec::new(), Vec::new(), rollout).succeeded());
    }
}
