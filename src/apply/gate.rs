//! Whether `apply` may run, and for which merchants: thresholds and confirmation as one pure
//! decision. A threshold refuses the run (with `--keep-going`: its merchants, unless none is left).

use super::Refusal;
use crate::plan::{MerchantPlan, Plan};

#[derive(Debug, Clone, Copy, Default)]
pub struct Switches {
    /// `--force`: go past safety thresholds.
    pub force: bool,
    /// `--auto-approve`: no confirmation.
    pub auto_approve: bool,
    /// Stdin is a terminal, so `yes` can be asked for.
    pub interactive: bool,
    /// `--keep-going`: a refused merchant is skipped, the others applied.
    pub keep_going: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Nothing to change.
    NothingToDo,
    /// Refused: nothing is changed (exit 3). One reason per line.
    Refused(Vec<String>),
    /// Ask for `yes` first, then go.
    Confirm(Vec<Refusal>),
    /// Make the changes of every merchant but the refused ones.
    Go(Vec<Refusal>),
}

pub const NO_TERMINAL: &str = "no confirmation: stdin is not a terminal and `--auto-approve` was not given";

pub fn decide(plan: &Plan, switches: Switches) -> Gate {
    if !plan.has_changes() {
        return Gate::NothingToDo;
    }
    let changing = || plan.merchants.iter().filter(|m| !m.changes.is_empty());
    let trip = |m: &MerchantPlan| {
        let (merchant, reason) = (
            m.merchant.clone(),
            m.safety.filter(|_| !switches.force)?.to_string(),
        );
        Some(Refusal { merchant, reason })
    };
    let refused: Vec<Refusal> = changing().filter_map(trip).collect();
    if !refused.is_empty() && (!switches.keep_going || refused.len() == changing().count()) {
        let reasons = (refused.iter()).map(|r| format!("merchant `{}`: {}", r.merchant, r.reason));
        Gate::Refused(reasons.collect())
    } else if switches.auto_approve {
        Gate::Go(refused)
    } else if switches.interactive {
        Gate::Confirm(refused)
    } else {
        Gate::Refused(vec![NO_TERMINAL.to_owned()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{desired, live, manifest};
    use crate::plan::diff_all;

    fn plan(desired_n: usize, live_n: usize) -> Plan {
        fleet(&[("acme", desired_n, live_n)])
    }

    /// A plan of merchants `(label, desired, live)`; none in common.
    fn fleet(merchants: &[(&str, usize, usize)]) -> Plan {
        let merchants = merchants.iter().map(|&(label, d, l)| {
            let mut m = one(d, l).merchants.remove(0);
            m.merchant = label.to_owned();
            m
        });
        Plan {
            merchants: merchants.collect(),
        }
    }

    fn one(desired_n: usize, live_n: usize) -> Plan {
        let m = manifest(
            (0..desired_n)
                .map(|i| desired("customer.updated", &format!("d{i}"), "https://a/"))
                .collect(),
        );
        let l: Vec<_> = (0..live_n)
            .map(|i| {
                live(
                    &format!("wh_{i}"),
                    "customer.updated",
                    &format!("l{i}"),
                    "https://a/",
                )
            })
            .collect();
        diff_all([(&m, l.as_slice())], &Default::default())
    }

    const GO: Switches = Switches {
        force: false,
        auto_approve: true,
        interactive: false,
        keep_going: false,
    };

    #[test]
    fn an_empty_plan_needs_nothing() {
        assert_eq!(decide(&plan(0, 0), GO), Gate::NothingToDo);
    }

    #[test]
    fn a_safety_trip_refuses_unless_forced() {
        let mass = plan(1, 10);
        let Gate::Refused(reasons) = decide(&mass, GO) else {
            panic!("expected a refusal");
        };
        assert!(reasons[0].starts_with("merchant `acme`: the plan updates or deletes 10 of 10"));
        assert_eq!(decide(&mass, Switches { force: true, ..GO }), Gate::Go(vec![]));
    }

    #[test]
    fn without_auto_approve_a_terminal_is_asked_and_a_pipe_is_refused() {
        let small = plan(1, 0);
        let ask = Switches {
            auto_approve: false,
            interactive: true,
            ..GO
        };
        assert_eq!(decide(&small, ask), Gate::Confirm(vec![]));
        let pipe = Switches {
            interactive: false,
            ..ask
        };
        assert_eq!(decide(&small, pipe), Gate::Refused(vec![NO_TERMINAL.into()]));
    }

    #[test]
    fn a_threshold_refuses_the_run_naming_every_merchant_it_tripped_for() {
        let mixed = fleet(&[("a", 1, 0), ("b", 1, 10), ("c", 1, 10)]);
        let Gate::Refused(reasons) = decide(&mixed, GO) else {
            panic!("expected a refusal before any write");
        };
        assert_eq!(reasons.len(), 2, "{reasons:?}");
        assert!(reasons[0].starts_with("merchant `b`: ") && reasons[1].starts_with("merchant `c`: "));
    }

    #[test]
    fn with_keep_going_a_threshold_keeps_back_only_its_merchant() {
        let mixed = fleet(&[("a", 1, 0), ("b", 1, 10), ("c", 0, 0)]);
        let keep_going = Switches {
            keep_going: true,
            ..GO
        };
        let Gate::Go(refused) = decide(&mixed, keep_going) else {
            panic!("expected the others to go");
        };
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].merchant, "b");
        assert!(refused[0]
            .reason
            .starts_with("the plan updates or deletes 10 of 10"));
        let all = fleet(&[("a", 1, 10), ("b", 1, 10), ("c", 0, 0)]);
        let Gate::Refused(reasons) = decide(&all, keep_going) else {
            panic!("expected a refusal when no merchant is left");
        };
        assert_eq!(reasons.len(), 2);
    }
}
