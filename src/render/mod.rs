//! Plan → text for people, JSON for programs, Markdown for pull requests.
//! Pure: every renderer returns a `String`; callers decide where it goes.
//! Every renderer masks URL secrets ([`crate::secret`]).

pub mod drift;
pub mod github;
pub mod json;
pub mod markdown;
#[cfg(test)]
mod props;
pub mod report;
pub mod text;
pub mod view;

use crate::apply::{MerchantReport, RunReport, Stores, Verification};
use crate::plan::Summary;

/// Output format of `plan`, `drift` and `apply`'s report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// For people: one line per change, colour on a terminal.
    #[default]
    Text,
    /// For programs: stable keys, versioned by `format_version`.
    Json,
    /// For pull-request comments and `$GITHUB_STEP_SUMMARY`.
    Markdown,
}

/// The summary sentence, e.g. `Plan: 1 to create, 0 to update, 2 to delete, 4 unchanged, 1 ignored.`
pub fn summary_line(s: &Summary) -> String {
    let mut line = format!(
        "Plan: {} to create, {} to update, {} to delete, {} unchanged, {} ignored",
        s.create, s.update, s.delete, s.unchanged, s.ignored
    );
    if s.unmanaged > 0 {
        line.push_str(&format!(", {} unmanaged", s.unmanaged));
    }
    line.push('.');
    line
}

/// The line printed when nothing differs.
pub const NO_CHANGES: &str = "No changes. Live subscriptions match the manifest.";

/// The apply report's last line, e.g. `Apply complete: 3 done, 0 failed, 0 skipped.`
pub fn apply_line(run: &RunReport) -> String {
    let (tally, interrupted) = (run.tally(), run.interrupted());
    let ok = run.merchants.iter().all(MerchantReport::succeeded);
    // What the merchants' own lines say: never "re-run to converge" beside
    // "converged".
    let converged = run
        .merchants
        .iter()
        .all(|r| matches!(r.verification, Verification::Converged));
    let state = match (interrupted, run.succeeded()) {
        (true, _) => "interrupted",
        (false, true) => "complete",
        (false, false) => "incomplete",
    };
    let not_started = match tally.not_started() {
        0 => String::new(),
        n => format!(", {n} not started"),
    };
    let refused = match run.refused.len() {
        0 => String::new(),
        n => format!(", {n} merchant(s) refused"),
    };
    format!(
        "Apply {state}: {} done, {} failed, {} skipped{not_started}{refused}.{}",
        tally.done(),
        tally.failed(),
        tally.skipped(),
        match (interrupted, ok) {
            (true, _) => " Re-run `invhooks apply` to finish.",
            (false, false) if converged => " Live matches the manifest all the same: see what failed above.",
            (false, false) => " Re-run `invhooks apply` to converge once the cause is fixed.",
            (false, true) if run.refused.is_empty() => "",
            (false, true) => " Refused merchants kept their subscriptions: see why above.",
        }
    )
}

/// The fleet summary of an apply run, `None` for a run of one merchant
/// (its report says it all): `Stores: 4 (1 changed, 1 unchanged, 1 failed,
/// 1 refused).`
pub fn fleet_line(stores: Stores) -> Option<String> {
    (stores.total() > 1).then(|| {
        format!(
            "Stores: {} ({} changed, {} unchanged, {} failed, {} refused).",
            stores.total(),
            stores.changed,
            stores.unchanged,
            stores.failed,
            stores.refused
        )
    })
}
