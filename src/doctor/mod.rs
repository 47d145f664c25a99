//! `doctor` (docs/commands/doctor.md): whether a store's API behaves as
//! invhooks assumes, as [`Check`]s to act on and [`Measured`] values for a bug
//! report. [`list`] reads one GET answer (pure); [`mod@write`] runs the round trip.

pub mod list;
pub mod write;

use std::collections::BTreeMap;

use serde::Serialize;

/// What a check found; a `Fail` exits 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Ok,
    Warn,
    Fail,
}

/// A stable name, a verdict, what was found and, unless it passed, what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub name: &'static str,
    pub status: Verdict,
    pub detail: String,
    pub help: Option<String>,
}

impl Check {
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Verdict::Ok, detail.into(), None)
    }

    pub fn warn(name: &'static str, detail: impl Into<String>, help: impl Into<String>) -> Self {
        Self::new(name, Verdict::Warn, detail.into(), Some(help.into()))
    }

    pub fn fail(name: &'static str, detail: impl Into<String>, help: impl Into<String>) -> Self {
        Self::new(name, Verdict::Fail, detail.into(), Some(help.into()))
    }

    /// Escaped: text from a server cannot break lines or hide characters.
    fn new(name: &'static str, status: Verdict, detail: String, help: Option<String>) -> Self {
        let line = |text: String| crate::escape::escape(&text).into_owned();
        Self {
            name,
            status,
            detail: line(detail),
            help: help.map(line),
        }
    }
}

/// For a bug report (the last three with `--write`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measured {
    pub get_status: Option<u16>,
    pub get_ms: Option<u64>,
    pub subscriptions: Option<usize>,
    /// `data`, or `data.KEY`.
    pub list_at: Option<String>,
    pub id_types: Vec<&'static str>,
    pub unknown_fields: Vec<String>,
    pub pagination_hints: BTreeMap<String, serde_json::Value>,
    pub rate_limit_headers: BTreeMap<String, String>,
    pub visible_after_ms: Option<u64>,
    /// The `apply --wait` suggested for `visible_after_ms`.
    pub suggested_wait: Option<u64>,
    /// The status of a DELETE of an id already gone.
    pub gone_status: Option<u16>,
}

/// One merchant's checks, in run order.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Merchant {
    pub merchant: String,
    pub checks: Vec<Check>,
    pub measured: Measured,
}

impl Merchant {
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Verdict::Fail)
    }
}

/// The text report: a block per merchant, then `Doctor: N ok, N warn, N fail.`
pub fn text(report: &[Merchant]) -> String {
    let mut out = String::new();
    let mut counts = [0; 3];
    for m in report {
        out.push_str(&format!("merchant `{}`\n", m.merchant));
        for c in &m.checks {
            counts[c.status as usize] += 1;
            let status = format!("{:?}", c.status).to_lowercase();
            let help = (c.help.as_ref()).map_or(String::new(), |h| format!("        help: {h}\n"));
            out.push_str(&format!("  {status:<5} {:<13} {}\n{help}", c.name, c.detail));
        }
    }
    let [ok, warn, fail] = counts;
    out.push_str(&format!("Doctor: {ok} ok, {warn} warn, {fail} fail.\n"));
    out
}

/// The JSON report, keys in SPEC's order.
pub fn json(report: &[Merchant]) -> String {
    use crate::render::json::{object, pretty, FORMAT_VERSION};
    pretty(&object! { format_version: FORMAT_VERSION, merchants: report })
}

#[cfg(test)]
mod tests;
