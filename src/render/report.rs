//! The apply report: every change with its outcome, what was cleaned up,
//! and whether live converged to the manifest, as text or JSON.

use std::fmt::Write;

use super::json::{object, pretty, Counts, FORMAT_VERSION};
use super::view::ChangeView;
use super::{apply_line, failure_text, fleet_line, text::change_line, wave_line};
use crate::apply::waves::{GateFailure, Wave, WaveStatus};
use crate::apply::{ChangeReport, MerchantReport, Rewrite, RunReport, Verification};
use crate::escape::escape;
use crate::plan::Change;
use crate::secret::{Keys, Masked};

/// An apply run as text: the stores (when several), each merchant, the apply line.
pub fn render(run: &RunReport, color: bool, keys: &Keys) -> String {
    let mut out = String::new();
    let shown = |text: &str| escape(&Masked::text(text, keys)).into_owned();
    // Words line up; "not started" widens the column only when present.
    let outcomes = run.merchants.iter().flat_map(|r| &r.changes);
    let width = outcomes
        .map(|c| c.outcome.as_str().len())
        .fold("skipped".len(), usize::max);
    if let Some(line) = fleet_line(run.stores()) {
        let _ = writeln!(out, "{line}\n");
        statuses(&mut out, run, keys);
    }
    for r in &run.merchants {
        let _ = writeln!(out, "merchant {}", escape(&r.merchant));
        for c in &r.changes {
            let (word, line) = (c.outcome.as_str(), change_line(&c.change, color, keys));
            let _ = writeln!(out, "  {word:width$} {line}");
            if let Some(reason) = c.outcome.reason() {
                let _ = writeln!(out, "  {:width$} {}", "", shown(reason));
            }
        }
        for c in &r.cleaned_up {
            let line = change_line(c, color, keys);
            let _ = writeln!(out, "  cleaned up a duplicate this run created: {line}");
        }
        match &r.verification {
            Verification::Converged => out.push_str("  converged: live subscriptions match the manifest\n"),
            Verification::Unknown { reason } => {
                let _ = writeln!(out, "  not verified: {}", shown(reason));
            }
            Verification::NotConverged {
                remaining,
                foreign,
                rewrites,
            } => {
                let n = remaining.len();
                let _ = writeln!(out, "  not converged: {n} change(s) still needed:");
                for c in remaining {
                    let _ = writeln!(out, "    {}", change_line(c, color, keys));
                }
                if !foreign.is_empty() {
                    let ids: Vec<String> = foreign.iter().map(|id| shown(id)).collect();
                    let _ = writeln!(
                        out,
                        "  another writer is active: {} subscription(s) this run did not create appeared ({}); \
                         left alone. Find who else changes this merchant, then re-run `invhooks plan`",
                        foreign.len(),
                        ids.join(", ")
                    );
                }
                for w in rewrites {
                    let _ = writeln!(out, "  {}", rewrite_line(w, keys));
                }
            }
        }
        out.push('\n');
    }
    for r in &run.refused {
        let (merchant, reason) = (escape(&r.merchant), escape(&r.reason));
        let _ = writeln!(
            out,
            "merchant {merchant}\n  refused: {reason}; nothing was changed for this merchant. Check its manifest, \
             or re-run with `--force` (and `--merchant {merchant}`) if this is intended\n"
        );
    }
    out + &apply_line(run) + "\n"
}

/// Every store and how it ended, under its wave's line in a staged rollout.
fn statuses(out: &mut String, run: &RunReport, keys: &Keys) {
    let statuses = run.statuses();
    let widths = statuses.iter().map(|(m, _)| escape(m).chars().count());
    let width = widths.fold(0, usize::max).min(40);
    let mut rows = statuses.iter();
    for (i, wave) in run.rollout.waves.iter().enumerate() {
        if run.rollout.staged() {
            let _ = writeln!(out, "{}", wave_line(&run.rollout, i));
        }
        for (m, status) in rows.by_ref().take(wave.merchants.len()) {
            let _ = writeln!(out, "  {:width$}  {}", escape(m), status.as_str());
        }
        for f in gate_failures(&wave.status) {
            let shown = failure_text(f, |v| escape(&Masked::text(v, keys)).into_owned());
            let _ = writeln!(out, "  gate failed: {shown}");
        }
    }
    out.push('\n');
}

fn gate_failures(status: &WaveStatus) -> &[GateFailure] {
    match status {
        WaveStatus::Failed(failures) => failures,
        _ => &[],
    }
}

/// What a report says when the server stored a value other than sent.
fn rewrite_line(r: &Rewrite, keys: &Keys) -> String {
    let (sent, stored) = shown_rewrite(r, keys);
    let (field, id) = (r.field, escape(&Masked::text(&r.id, keys)).into_owned());
    match sent == stored {
        // Only the writing differs (`HTTPS://`, the host's case).
        true => format!(
            "the server stores `{field}` of [{id}] as the same URL written differently (`{stored}`); write it in the manifest as `invhooks export` shows it, or every plan will change it again"
        ),
        false => format!(
            "the server stores `{field}` `{sent}` of [{id}] as `{stored}`; write `{stored}` in the manifest, or every plan will change it again"
        ),
    }
}

/// A rewrite's two values as shown: masked (URLs as the entry says), escaped.
fn shown_rewrite(r: &Rewrite, keys: &Keys) -> (String, String) {
    let show = |v: &str| match r.field {
        "callbackUrl" => escape(&Masked::url(v, r.masking, keys)).into_owned(),
        _ => escape(&Masked::text(v, keys)).into_owned(),
    };
    (show(&r.sent), show(&r.stored))
}

/// Renders an apply run as JSON (`docs/plan-json.md`, "Apply report").
pub fn json<'a>(run: &'a RunReport, keys: &Keys) -> String {
    let views = |changes: &'a [Change]| Vec::from_iter(changes.iter().map(|c| ChangeView::of(c, keys)));
    let merchant = |r: &'a MerchantReport| {
        let (remaining, foreign, rewrites, reason): (&[Change], &[String], &[Rewrite], _) =
            match &r.verification {
                Verification::NotConverged {
                    remaining,
                    foreign,
                    rewrites,
                } => (remaining, foreign, rewrites, None),
                Verification::Unknown { reason } => (&[], &[], &[], Some(Masked::text(reason, keys))),
                Verification::Converged => (&[], &[], &[], None),
            };
        let change = |c: &'a ChangeReport| {
            object! {
                #[serde(flatten)]
                change: ChangeView::of(&c.change, keys),
                outcome: c.outcome.as_str(),
                reason: c.outcome.reason().map(|t| Masked::text(t, keys)),
            }
        };
        let rewrite = |w: &'a Rewrite| {
            let (sent, stored) = shown_rewrite(w, keys);
            object! {
                id: Masked::text(&w.id, keys),
                field: w.field,
                sent: sent,
                stored: stored,
            }
        };
        object! {
            merchant: &r.merchant,
            changes: r.changes.iter().map(change).collect::<Vec<_>>(),
            cleaned_up: views(&r.cleaned_up),
            verification: object! {
                status: r.verification.as_str(),
                remaining: views(remaining),
                other_writer_ids: foreign.iter().map(|id| Masked::text(id, keys)).collect::<Vec<_>>(),
                server_rewrites: rewrites.iter().map(rewrite).collect::<Vec<_>>(),
                reason: reason,
            },
        }
    };
    let (stores, statuses) = (run.stores(), run.statuses());
    let [applied, converged, refused, failed, not_started] = stores;
    let total = stores.iter().sum();
    let mut rows = statuses.iter();
    let wave = |(i, w): (usize, &'a Wave)| {
        object! {
            index: i + 1,
            merchants: (rows.by_ref().take(w.merchants.len()))
                .map(|&(merchant, s)| object! { merchant: merchant, status: s.as_str() })
                .collect::<Vec<_>>(),
            gate: run.rollout.gate.as_str(),
            status: w.status.as_str(),
            failures: gate_failures(&w.status),
        }
    };
    pretty(&object! {
        format_version: FORMAT_VERSION,
        succeeded: run.succeeded(),
        interrupted: run.interrupted(),
        stores: Counts(
            "total changed unchanged failed refused not_started",
            [total, applied, converged, failed, refused, not_started],
        ),
        merchants: run.merchants.iter().map(merchant).collect::<Vec<_>>(),
        refused: &run.refused,
        waves: run.rollout.waves.iter().enumerate().map(wave).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apply::{ChangeReport, Outcome};
    use crate::fixtures::{desired, manifest};
    use crate::secret::Masking;

    /// A failed change, yet live converged (another writer made it): the
    /// report never also says "re-run to converge" (issue 19, finding 10).
    #[test]
    fn a_converged_run_never_says_re_run_to_converge() {
        let m = manifest(vec![desired("customer.updated", "crm", "https://a/")]);
        let plan = crate::plan::diff_all([(&m, [].as_slice())], &Default::default());
        let merchant = |verification| MerchantReport {
            merchant: "acme".into(),
            changes: vec![ChangeReport {
                change: plan.merchants[0].changes[0].clone(),
                outcome: Outcome::Failed("400".into()),
            }],
            cleaned_up: Vec::new(),
            verification,
            interrupted: false,
        };
        let text = render(
            &RunReport::new(
                vec![merchant(Verification::Converged)],
                Vec::new(),
                crate::apply::waves::Rollout::whole(vec!["acme".into()]),
            ),
            false,
            &Keys::none(),
        );
        assert!(text.contains("converged") && !text.contains("Re-run"), "{text}");
        let missing = Verification::NotConverged {
            remaining: plan.merchants[0].changes.clone(),
            foreign: Vec::new(),
            rewrites: Vec::new(),
        };
        let text = render(
            &RunReport::new(
                vec![merchant(missing)],
                Vec::new(),
                crate::apply::waves::Rollout::whole(vec!["acme".into()]),
            ),
            false,
            &Keys::none(),
        );
        assert!(text.contains("Re-run `invhooks apply` to converge"), "{text}");
    }

    #[test]
    fn a_rewritten_url_is_masked_as_its_entry_says() {
        let mut r = Rewrite {
            id: "wh_1".into(),
            field: "callbackUrl",
            sent: "https://H.example/t/123e4567-e89b-12d3-a456-426614174000?s=1".into(),
            stored: "https://h.example/t/123e4567-e89b-12d3-a456-426614174000?s=1".into(),
            masking: Masking::Full,
        };
        assert_eq!(
            shown_rewrite(&r, &Keys::none()),
            (
                "https://h.example/t/***?s=***".into(),
                "https://h.example/t/***?s=***".into()
            ),
            "shown as parsed: the host lowercase"
        );
        r.masking = Masking::KeepPath;
        let (sent, stored) = shown_rewrite(&r, &Keys::none());
        assert!(
            sent.ends_with("/t/123e4567-e89b-12d3-a456-426614174000?s=***"),
            "{sent}"
        );
        assert!(stored.starts_with("https://h.example/t/123e4567-"), "{stored}");
    }
}
