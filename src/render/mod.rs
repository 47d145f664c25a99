//! Plan, drift and apply reports as text, JSON and Markdown. Pure: every
//! renderer returns a `String` laying out only masked values ([`view`]).

pub mod drift;
pub mod github;
pub mod json;
pub mod markdown;
pub mod report;
pub mod text;
pub mod view;

use crate::apply::waves::{GateFailure, Rollout};
use crate::apply::{MerchantReport, RunReport, Status, Verification};
use crate::plan::Summary;

/// The first `n` of `items`, then `… and N more`: every long list a message holds, cut one way.
pub fn first<I: ExactSizeIterator<Item = String>>(n: usize, items: I) -> impl Iterator<Item = String> {
    let more = items.len().saturating_sub(n);
    items
        .take(n)
        .chain((more > 0).then(|| format!("… and {more} more")))
}

fn extra(n: usize, what: &str) -> String {
    match n {
        0 => String::new(),
        n => format!(", {n} {what}"),
    }
}

/// The summary sentence, e.g. `Plan: 1 to create, 0 to update, 2 to delete, 4 unchanged, 1 ignored.`
pub fn summary_line(s: &Summary) -> String {
    let (create, update, delete, unchanged) = (s.create, s.update, s.delete, s.unchanged);
    let unmanaged = extra(s.unmanaged, "unmanaged");
    format!(
        "Plan: {create} to create, {update} to update, {delete} to delete, {unchanged} unchanged, {} ignored{unmanaged}.",
        s.ignored
    )
}

pub const NO_CHANGES: &str = "No changes. Live subscriptions match the manifest.";

/// The apply report's last line, e.g. `Apply complete: 3 done, 0 failed, 0 skipped.`
pub fn apply_line(run: &RunReport) -> String {
    let ([done, failed, skipped, not_started], interrupted) = (run.tally(), run.interrupted());
    let ok = run.merchants.iter().all(MerchantReport::succeeded);
    // What the merchants' own lines say: never "re-run to converge" beside "converged".
    let converged = (run.merchants.iter()).all(|r| matches!(r.verification, Verification::Converged));
    let state = match (interrupted, run.succeeded()) {
        (true, _) => "interrupted",
        (false, true) => "complete",
        (false, false) => "incomplete",
    };
    let waiting = run.stores()[Status::NotStarted as usize];
    let gate = run.rollout.failed().filter(|_| run.rollout.staged());
    let hint = match (interrupted, ok, gate) {
        (true, _, _) => " Re-run the same command to finish.".to_owned(),
        (false, _, Some((i, _))) => format!(
            " Wave {}'s `{}` gate failed, so the rollout stopped: fix the cause, then re-run the same command to resume.",
            i + 1,
            run.rollout.gate.as_str()
        ),
        (false, false, None) if converged => " Live matches the manifest all the same: see what failed above.".to_owned(),
        (false, false, None) => " Re-run `invhooks apply` to converge once the cause is fixed.".to_owned(),
        (false, true, None) if !run.refused.is_empty() => {
            " Refused merchants kept their subscriptions: see why above.".to_owned()
        }
        (false, true, None) if waiting > 0 => {
            format!(" {waiting} store(s) are past the last `--waves` size and were not started.")
        }
        (false, true, None) => String::new(),
    };
    let rest = extra(not_started, "not started") + &extra(run.refused.len(), "merchant(s) refused");
    format!("Apply {state}: {done} done, {failed} failed, {skipped} skipped{rest}.{hint}")
}

/// `Stores: 5: 1 applied, 1 converged, …`; `None` for one merchant.
pub fn fleet_line(stores: [usize; 5]) -> Option<String> {
    let counts: Vec<String> = (Status::ALL.iter().zip(stores))
        .map(|(s, n)| format!("{n} {}", s.as_str()))
        .collect();
    let total: usize = stores.iter().sum();
    (total > 1).then(|| format!("Stores: {total}: {}.", counts.join(", ")))
}

/// E.g. ``wave 2 of 3 (1 store(s), gate `check`): failed``.
pub fn wave_line(rollout: &Rollout, i: usize) -> String {
    let (wave, gate, sized) = (&rollout.waves[i], rollout.gate.as_str(), rollout.sized);
    let (n, size, status) = (i + 1, wave.merchants.len(), wave.status.as_str());
    match i < sized {
        true => format!("wave {n} of {sized} ({size} store(s), gate `{gate}`): {status}"),
        false => format!("past the last `--waves` size ({size} store(s)): not started"),
    }
}

/// One gate failure as reports say it, each value through the sink's `show`.
pub fn failure_text(f: &GateFailure, show: impl Fn(&str) -> String) -> String {
    let url = f.url.as_deref().map(|url| format!("{}: ", show(url)));
    let (merchant, reason) = (show(&f.merchant), show(&f.reason));
    format!("merchant {merchant}: {}{reason}", url.unwrap_or_default())
}

#[cfg(test)]
mod props;
