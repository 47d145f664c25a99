//! Whether `apply` may run: the safety thresholds and the confirmation, as
//! one pure decision over the plan and the run's switches. The command acts
//! on the [`Gate`] it gets; nothing here prints or reads input.

use crate::plan::Plan;

/// The switches that bear on the decision.
#[derive(Debug, Clone, Copy, Default)]
pub struct Switches {
    /// `--force`: go past safety thresholds.
    pub force: bool,
    /// `--auto-approve`: no confirmation.
    pub auto_approve: bool,
    /// Whether stdin is a terminal, so `yes` can be asked for.
    pub interactive: bool,
}

/// What `apply` does with a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    /// Nothing to change.
    NothingToDo,
    /// Refused: nothing is changed (exit 3). One reason per line.
    Refused(Vec<String>),
    /// Ask for `yes` on the terminal first.
    Confirm,
    /// Make the changes.
    Go,
}

/// The reason given when confirmation is needed but cannot be asked for.
pub const NO_TERMINAL: &str = "no confirmation: stdin is not a terminal and `--auto-approve` was not given";

/// Decides what to do with `plan`.
pub fn decide(plan: &Plan, switches: Switches) -> Gate {
    if !plan.has_changes() {
        return Gate::NothingToDo;
    }
    let trips: Vec<String> = plan
        .merchants
        .iter()
        .filter_map(|m| m.safety.map(|t| format!("merchant `{}`: {t}", m.merchant)))
        .collect();
    if !trips.is_empty() && !switches.force {
        Gate::Refused(trips)
    } else if switches.auto_approve {
        Gate::Go
    } else if switches.interactive {
        Gate::Confirm
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
        diff_all([(&m, l.as_slice())])
    }

    const GO: Switches = Switches {
        force: false,
        auto_approve: true,
        interactive: false,
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
        assert_eq!(decide(&mass, Switches { force: true, ..GO }), Gate::Go);
    }

    #[test]
    fn without_auto_approve_a_terminal_is_asked_and_a_pipe_is_refused() {
        let small = plan(1, 0);
        let ask = Switches {
            auto_approve: false,
            interactive: true,
            ..GO
        };
        assert_eq!(decide(&small, ask), Gate::Confirm);
        let pipe = Switches {
            interactive: false,
            ..ask
        };
        assert_eq!(decide(&small, pipe), Gate::Refused(vec![NO_TERMINAL.into()]));
    }
}
