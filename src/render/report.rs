//! The apply report: every change with its outcome, what was cleaned up,
//! and whether live converged to the manifest.

use std::fmt::Write;

use serde::Serialize;

use super::json::{change as json_change, JsonChange, FORMAT_VERSION};
use crate::apply::{MerchantReport, Outcome, Verification};

use super::text::change_line;

/// Renders apply reports as text.
pub fn render(reports: &[MerchantReport], color: bool) -> String {
    let mut out = String::new();
    let (mut done, mut failed, mut skipped) = (0, 0, 0);
    for r in reports {
        let _ = writeln!(out, "merchant {}", r.merchant);
        for c in &r.changes {
            let (label, reason) = match &c.outcome {
                Outcome::Done => {
                    done += 1;
                    ("done   ", None)
                }
                Outcome::Failed { reason } => {
                    failed += 1;
                    ("failed ", Some(reason))
                }
                Outcome::Skipped { reason } => {
                    skipped += 1;
                    ("skipped", Some(reason))
                }
            };
            let _ = writeln!(out, "  {label} {}", change_line(&c.change, color));
            if let Some(reason) = reason {
                let _ = writeln!(out, "          {reason}");
            }
        }
        for c in &r.cleaned_up {
            let _ = writeln!(
                out,
                "  cleaned up a duplicate this run created: {}",
                change_line(c, color)
            );
        }
        match &r.verification {
            Verification::Converged => {
                let _ = writeln!(out, "  converged: live subscriptions match the manifest");
            }
            Verification::NotConverged { remaining } => {
                let _ = writeln!(
                    out,
                    "  not converged: {} change(s) still needed:",
                    remaining.len()
                );
                for c in remaining {
                    let _ = writeln!(out, "    {}", change_line(c, color));
                }
            }
            Verification::Unknown { reason } => {
                let _ = writeln!(out, "  not verified: {reason}");
            }
        }
        out.push('\n');
    }
    let all_ok = reports.iter().all(MerchantReport::succeeded);
    let _ = writeln!(
        out,
        "Apply {}: {done} done, {failed} failed, {skipped} skipped.{}",
        if all_ok { "complete" } else { "incomplete" },
        if all_ok {
            ""
        } else {
            " Re-run `invhooks apply` to converge once the cause is fixed."
        }
    );
    out
}

/// Renders apply reports as JSON: every change with its `outcome`
/// (`done`, `failed`, `skipped`) and `reason`, what was cleaned up, and the
/// verification `status` (`converged`, `not_converged`, `unknown`).
pub fn json(reports: &[MerchantReport]) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        succeeded: bool,
        merchants: Vec<Merchant<'a>>,
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
        reason: Option<&'a str>,
    }
    #[derive(Serialize)]
    struct Verified<'a> {
        status: &'static str,
        remaining: Vec<JsonChange<'a>>,
        reason: Option<&'a str>,
    }
    let doc = Doc {
        format_version: FORMAT_VERSION,
        succeeded: reports.iter().all(MerchantReport::succeeded),
        merchants: reports
            .iter()
            .map(|r| Merchant {
                merchant: &r.merchant,
                changes: r
                    .changes
                    .iter()
                    .map(|c| {
                        let (outcome, reason) = match &c.outcome {
                            Outcome::Done => ("done", None),
                            Outcome::Failed { reason } => ("failed", Some(reason.as_str())),
                            Outcome::Skipped { reason } => ("skipped", Some(reason.as_str())),
                        };
                        Entry {
                            change: json_change(&c.change),
                            outcome,
                            reason,
                        }
                    })
                    .collect(),
                cleaned_up: r.cleaned_up.iter().map(json_change).collect(),
                verification: match &r.verification {
                    Verification::Converged => Verified {
                        status: "converged",
                        remaining: vec![],
                        reason: None,
                    },
                    Verification::NotConverged { remaining } => Verified {
                        status: "not_converged",
                        remaining: remaining.iter().map(json_change).collect(),
                        reason: None,
                    },
                    Verification::Unknown { reason } => Verified {
                        status: "unknown",
                        remaining: vec![],
                        reason: Some(reason),
                    },
                },
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
