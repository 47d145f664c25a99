//! The apply report: every change with its outcome, what was cleaned up,
//! and whether live converged to the manifest.

use std::fmt::Write;

use crate::apply::{MerchantReport, Outcome, Verification};
use crate::secret::mask_url;

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
        for s in &r.cleaned_up {
            let _ = writeln!(
                out,
                "  cleaned up a duplicate this run created: {} {} [{}] {}",
                s.topic,
                s.name,
                s.id,
                mask_url(&s.callback_url)
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
