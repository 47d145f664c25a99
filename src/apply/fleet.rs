//! A whole run across merchants (README "Agencies and fleets"): the
//! reports of the merchants applied, the merchants a safety rule refused
//! (their changes not attempted, the others applied all the same), and the
//! fleet summary counted from them. Pure data; the renderers lay it out.

use super::{MerchantReport, Tally};
use crate::plan::Plan;

/// A merchant whose changes a safety threshold kept back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The merchant's label.
    pub merchant: String,
    /// The threshold that tripped, as `plan` shows it.
    pub reason: String,
}

/// What an `apply` run did with every merchant of its plan.
#[derive(Debug, Clone, Default)]
pub struct RunReport {
    /// One report per merchant whose changes were attempted, in plan order.
    pub merchants: Vec<MerchantReport>,
    /// Merchants refused by a safety threshold: nothing changed there.
    pub refused: Vec<Refusal>,
    /// Merchants with nothing to change.
    pub unchanged: usize,
}

/// How many stores ended each way, for the fleet summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stores {
    /// Every change done and live matching the manifest.
    pub changed: usize,
    /// Nothing to change.
    pub unchanged: usize,
    /// A change failed, was cut short, or live does not match yet.
    pub failed: usize,
    /// Refused by a safety threshold: nothing changed.
    pub refused: usize,
}

impl Stores {
    /// Every store of the run.
    pub fn total(&self) -> usize {
        self.changed + self.unchanged + self.failed + self.refused
    }
}

impl RunReport {
    /// The run of `plan`: `merchants` applied, `refused` kept back, and
    /// every other merchant of the plan unchanged.
    pub fn new(plan: &Plan, merchants: Vec<MerchantReport>, refused: Vec<Refusal>) -> Self {
        let unchanged = plan.merchants.iter().filter(|m| m.changes.is_empty()).count();
        Self {
            merchants,
            refused,
            unchanged,
        }
    }

    /// The fleet summary.
    pub fn stores(&self) -> Stores {
        let changed = self.merchants.iter().filter(|r| r.succeeded()).count();
        Stores {
            changed,
            unchanged: self.unchanged,
            failed: self.merchants.len() - changed,
            refused: self.refused.len(),
        }
    }

    /// True when every store is changed or unchanged: nothing failed,
    /// nothing was refused, nothing was cut short.
    pub fn succeeded(&self) -> bool {
        self.refused.is_empty() && self.merchants.iter().all(MerchantReport::succeeded)
    }

    /// An interrupt cut some merchant's run short.
    pub fn interrupted(&self) -> bool {
        self.merchants.iter().any(|r| r.interrupted)
    }

    /// Outcome counts over every change attempted.
    pub fn tally(&self) -> Tally {
        Tally::of(&self.merchants)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ChangeReport, Outcome, Verification};
    use crate::fixtures::{desired, manifest};
    use crate::plan::diff_all;

    fn report(label: &str, outcome: Outcome) -> MerchantReport {
        let m = manifest(vec![desired("customer.updated", "crm", "https://a/")]);
        let plan = diff_all([(&m, [].as_slice())]);
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

    #[test]
    fn every_store_is_counted_once_by_how_it_ended() {
        let changed = manifest(vec![desired("customer.updated", "crm", "https://a/")]);
        let quiet = manifest(Vec::new());
        let plan = diff_all([(&changed, [].as_slice()), (&quiet, [].as_slice())]);
        let refused = vec![Refusal {
            merchant: "c".into(),
            reason: "too many".into(),
        }];
        let run = RunReport::new(
            &plan,
            vec![
                report("a", Outcome::Done),
                report("b", Outcome::Failed { reason: "400".into() }),
            ],
            refused,
        );
        let stores = run.stores();
        assert_eq!(
            stores,
            Stores {
                changed: 1,
                unchanged: 1,
                failed: 1,
                refused: 1
            }
        );
        assert_eq!(stores.total(), 4);
        assert!(!run.succeeded());
        assert_eq!(run.tally().done(), 1);
    }

    #[test]
    fn a_refusal_alone_is_not_success() {
        let run = RunReport {
            refused: vec![Refusal {
                merchant: "a".into(),
                reason: "r".into(),
            }],
            ..RunReport::default()
        };
        assert!(!run.succeeded());
        assert!(RunReport::default().succeeded());
    }
}
