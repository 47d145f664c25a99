//! The apply report: every change with its outcome, what was cleaned up,
//! and whether live converged to the manifest, as text or JSON.

use std::fmt::Write;

use serde::Serialize;

use super::json::{change as json_change, pretty, JsonChange, FORMAT_VERSION};
use super::{apply_line, failure_text, fleet_line, text::change_line, wave_line};
use crate::apply::waves::{GateFailure, WaveStatus};
use crate::apply::{MerchantReport, Refusal, Rewrite, RunReport, Status, Verification};
use crate::escape::escape;
use crate::secret::{Keys, Masked};

/// Renders an apply run as text: the fleet summary first when the plan
/// has several merchants, then each merchant applied, each one refused, and
/// the apply line. `keys` are masked in every value and server message.
pub fn render(run: &RunReport, color: bool, keys: &Keys) -> String {
    let reports = run.merchants.as_slice();
    // Words line up; "not started" widens the column only when present.
    let width = reports
        .iter()
        .flat_map(|r| &r.changes)
        .map(|c| c.outcome.as_str().len())
        .fold("skipped".len(), usize::max);
    let mut out = String::new();
    if let Some(line) = fleet_line(run.stores()) {
        let _ = writeln!(out, "{line}\n");
        statuses(&mut out, run, keys);
    }
    for r in reports {
        let _ = writeln!(out, "merchant {}", escape(&r.merchant));
        for c in &r.changes {
            let word = c.outcome.as_str();
            let _ = writeln!(out, "  {word:width$} {}", change_line(&c.change, color, keys));
            if let Some(reason) = c.outcome.reason() {
                let _ = writeln!(out, "  {:width$} {}", "", escape(&Masked::text(reason, keys)));
            }
        }
        for c in &r.cleaned_up {
            let _ = writeln!(
                out,
                "  cleaned up a duplicate this run created: {}",
                change_line(c, color, keys)
            );
        }
        match &r.verification {
            Verification::Converged => {
                let _ = writeln!(out, "  converged: live subscriptions match the manifest");
            }
            Verification::NotConverged {
                remaining,
                foreign,
                rewrites,
            } => {
                let _ = writeln!(
                    out,
                    "  not converged: {} change(s) still needed:",
                    remaining.len()
                );
                for c in remaining {
                    let _ = writeln!(out, "    {}", change_line(c, color, keys));
                }
                if !foreign.is_empty() {
                    let _ = writeln!(out, "  {}", escape(&other_writer_line(foreign, keys)));
                }
                for r in rewrites {
                    let _ = writeln!(out, "  {}", rewrite_line(r, keys));
                }
            }
            Verification::Unknown { reason } => {
                let _ = writeln!(out, "  not verified: {}", escape(&Masked::text(reason, keys)));
            }
        }
        out.push('\n');
    }
    for r in &run.refused {
        let _ = writeln!(
            out,
            "merchant {}\n  {}\n",
            escape(&r.merchant),
            escape(&refused_line(r))
        );
    }
    out.push_str(&apply_line(run));
    out.push('\n');
    out
}

/// Every store and how it ended, wave by wave; a wave's header (its size,
/// gate and result, why a gate failed) only for a staged rollout.
fn statuses(out: &mut String, run: &RunReport, keys: &Keys) {
    let rollout = &run.rollout;
    let staged = rollout.staged();
    let statuses = run.statuses();
    let width = statuses
        .iter()
        .map(|(m, _)| escape(m).chars().count())
        .fold(0, usize::max)
        .min(40);
    let mut rows = statuses.iter();
    for (i, wave) in rollout.waves.iter().enumerate() {
        if staged {
            let _ = writeln!(out, "{}", wave_line(rollout, i));
        }
        for (m, status) in rows.by_ref().take(wave.merchants.len()) {
            let _ = writeln!(out, "  {:width$}  {}", escape(m), status.as_str());
        }
        if let WaveStatus::Failed(failures) = &wave.status {
            for f in failures {
                let shown = failure_text(f, |v| escape(&Masked::text(v, keys)).into_owned());
                let _ = writeln!(out, "  gate failed: {shown}");
            }
        }
    }
    out.push('\n');
}

/// What a report says of a merchant a safety threshold kept back.
pub fn refused_line(r: &Refusal) -> String {
    format!(
        "refused: {}; nothing was changed for this merchant. Check its manifest, or re-run with `--force` (and `--merchant {}`) if this is intended",
        r.reason, r.merchant
    )
}

/// What a report says when another writer changed the merchant meanwhile.
pub fn other_writer_line(foreign: &[String], keys: &Keys) -> String {
    let ids: Vec<Masked<'_>> = foreign.iter().map(|id| Masked::text(id, keys)).collect();
    format!(
        "another writer is active: {} subscription(s) this run did not create appeared ({}); \
         left alone. Find who else changes this merchant, then re-run `invhooks plan`",
        foreign.len(),
        ids.iter()
            .map(|id| escape(id).into_owned())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// What a report says when the server stored a value other than sent.
pub fn rewrite_line(r: &Rewrite, keys: &Keys) -> String {
    let (sent, stored) = shown_rewrite(r, keys);
    let id = escape(&Masked::text(&r.id, keys)).into_owned();
    if sent == stored {
        // Only the writing differs (`HTTPS://`, the host's case): both are
        // shown as they are read.
        return format!(
            "the server stores `{}` of [{id}] as the same URL written differently (`{stored}`); write it in the manifest as `invhooks export` shows it, or every plan will change it again",
            r.field
        );
    }
    format!(
        "the server stores `{}` `{sent}` of [{id}] as `{stored}`; write `{stored}` in the manifest, or every plan will change it again",
        r.field,
    )
}

/// A rewrite's two values as shown: masked (URLs as the entry says), escaped.
fn shown_rewrite(r: &Rewrite, keys: &Keys) -> (String, String) {
    let show = |v: &str| {
        let masked = match r.field {
            "callbackUrl" => Masked::url(v, r.masking, keys),
            _ => Masked::text(v, keys),
        };
        escape(&masked).into_owned()
    };
    (show(&r.sent), show(&r.stored))
}

/// Renders an apply run as JSON: whether it `succeeded` or was
/// `interrupted`, the `stores` summary, every change with
/// its `outcome` (`done`, `failed`, `skipped`, `not started`) and
/// `reason`, what was cleaned up, the verification `status` (`converged`,
/// `not_converged`, `unknown`), the merchants `refused` by a threshold, and
/// the `waves`: each store's status, the gate and how it ended.
pub fn json(run: &RunReport, keys: &Keys) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        succeeded: bool,
        interrupted: bool,
        stores: StoresJson,
        merchants: Vec<Merchant<'a>>,
        refused: Vec<Refused<'a>>,
        waves: Vec<WaveJson<'a>>,
    }
    #[derive(Serialize)]
    struct StoresJson {
        total: usize,
        changed: usize,
        unchanged: usize,
        failed: usize,
        refused: usize,
        not_started: usize,
    }
    #[derive(Serialize)]
    struct WaveJson<'a> {
        index: usize,
        merchants: Vec<StoreJson<'a>>,
        gate: &'static str,
        status: &'static str,
        failures: &'a [GateFailure],
    }
    #[derive(Serialize)]
    struct StoreJson<'a> {
        merchant: &'a str,
        status: &'static str,
    }
    #[derive(Serialize)]
    struct Refused<'a> {
        merchant: &'a str,
        reason: &'a str,
    }
    #[derive(Serialize)]
    struct Merchant<'a> {
        merchant: &'a str,
        changes: Vec<Entry<'a>>,
        cleaned_up: Vec<JsonChange<'a>>,
        verification: Verified<'a>,
    }
    #[derive(Serialize)]
    struct Entry<'a> {
        #[serde(flatten)]
        change: JsonChange<'a>,
        outcome: &'static str,
        reason: Option<Masked<'a>>,
    }
    #[derive(Serialize)]
    struct Verified<'a> {
        status: &'static str,
        remaining: Vec<JsonChange<'a>>,
        other_writer_ids: Vec<Masked<'a>>,
        server_rewrites: Vec<Rewritten<'a>>,
        reason: Option<Masked<'a>>,
    }
    #[derive(Serialize)]
    struct Rewritten<'a> {
        id: Masked<'a>,
        field: &'static str,
        sent: String,
        stored: String,
    }
    fn merchant<'a>(r: &'a MerchantReport, keys: &Keys) -> Merchant<'a> {
        let text = |t: &'a str| Masked::text(t, keys);
        let json_change = |c: &'a crate::plan::Change| json_change(c, keys);
        let (remaining, foreign, rewrites, reason) = match &r.verification {
            Verification::NotConverged {
                remaining,
                foreign,
                rewrites,
            } => (&remaining[..], &foreign[..], &rewrites[..], None),
            Verification::Unknown { reason } => (&[][..], &[][..], &[][..], Some(text(reason))),
            Verification::Converged => (&[][..], &[][..], &[][..], None),
        };
        Merchant {
            merchant: &r.merchant,
            changes: r
                .changes
                .iter()
                .map(|c| Entry {
                    change: json_change(&c.change),
                    outcome: c.outcome.as_str(),
                    reason: c.outcome.reason().map(text),
                })
                .collect(),
            cleaned_up: r.cleaned_up.iter().map(json_change).collect(),
            verification: Verified {
                status: r.verification.as_str(),
                remaining: remaining.iter().map(json_change).collect(),
                other_writer_ids: foreign.iter().map(|id| text(id)).collect(),
                server_rewrites: rewrites
                    .iter()
                    .map(|w| {
                        let (sent, stored) = shown_rewrite(w, keys);
                        Rewritten {
                            id: text(&w.id),
                            field: w.field,
                            sent,
                            stored,
                        }
                    })
                    .collect(),
                reason,
            },
        }
    }
    let stores = run.stores();
    let statuses = run.statuses();
    let mut rows = statuses.iter();
    let waves = (run.rollout.waves.iter().enumerate())
        .map(|(i, w)| WaveJson {
            index: i + 1,
            merchants: (rows.by_ref().take(w.merchants.len()))
                .map(|&(merchant, s)| StoreJson {
                    merchant,
                    status: s.as_str(),
                })
                .collect(),
            gate: run.rollout.gate.as_str(),
            status: w.status.as_str(),
            failures: match &w.status {
                WaveStatus::Failed(f) => f,
                _ => &[],
            },
        })
        .collect();
    pretty(&Doc {
        format_version: FORMAT_VERSION,
        succeeded: run.succeeded(),
        interrupted: run.interrupted(),
        stores: StoresJson {
            total: stores.total(),
            changed: stores.get(Status::Applied),
            unchanged: stores.get(Status::Converged),
            failed: stores.get(Status::Failed),
            refused: stores.get(Status::Refused),
            not_started: stores.get(Status::NotStarted),
        },
        merchants: run.merchants.iter().map(|r| merchant(r, keys)).collect(),
        refused: run
            .refused
            .iter()
            .map(|r| Refused {
                merchant: &r.merchant,
                reason: &r.reason,
            })
            .collect(),
        waves,
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
        let plan = crate::plan::diff_all([(&m, [].as_slice())]);
        let merchant = |verification| MerchantReport {
            merchant: "acme".into(),
            changes: vec![ChangeReport {
                change: plan.merchants[0].changes[0].clone(),
                outcome: Outcome::Failed { reason: "400".into() },
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
