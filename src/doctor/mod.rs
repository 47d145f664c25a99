//! `doctor` (README "Doctor"): whether a store's API behaves as invhooks
//! assumes, as checks a person can act on and a report a bug can carry.
//! [`Check`]s and [`Measured`] values per merchant, rendered as text or
//! JSON (`format_version` "1", docs/plan-json.md). [`list`] reads one GET
//! answer (pure); [`mod@write`] runs the round trip on a throwaway subscription
//! through [`crate::apply::Remote`]. The network checks before them (key,
//! DNS, TLS) are `commands/doctor.rs`.

pub mod list;
pub mod write;

use std::collections::BTreeMap;

use serde::Serialize;

/// Version of the JSON report's shape.
pub const FORMAT_VERSION: &str = "1";

/// A check's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As invhooks assumes.
    Ok,
    /// Works, with something to know or do.
    Warn,
    /// invhooks cannot work as it is: exit 1.
    Fail,
}

/// One check: a stable name, a verdict, one line saying what was found and,
/// for a warning or failure, what to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    /// Stable name (`get`, `envelope`, `visibility`, …).
    pub name: &'static str,
    /// The verdict.
    pub status: Status,
    /// What was found, on one line.
    pub detail: String,
    /// What to do; `None` when the check passed.
    pub help: Option<String>,
}

impl Check {
    /// A passed check.
    pub fn ok(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Status::Ok, detail.into(), None)
    }

    /// A warning, with what to do.
    pub fn warn(name: &'static str, detail: impl Into<String>, help: impl Into<String>) -> Self {
        Self::new(name, Status::Warn, detail.into(), Some(help.into()))
    }

    /// A failure, with what to do.
    pub fn fail(name: &'static str, detail: impl Into<String>, help: impl Into<String>) -> Self {
        Self::new(name, Status::Fail, detail.into(), Some(help.into()))
    }

    /// One line each: text from a server (its keys replaced where it is
    /// quoted) is escaped, so it cannot break lines or hide characters.
    fn new(name: &'static str, status: Status, detail: String, help: Option<String>) -> Self {
        let line = |text: String| crate::escape::escape(&text).into_owned();
        Self {
            name,
            status,
            detail: line(detail),
            help: help.map(line),
        }
    }
}

/// What was measured, for a bug report: `null` where it was not.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Measured {
    /// The GET's status.
    pub get_status: Option<u16>,
    /// The GET's latency, in milliseconds.
    pub get_ms: Option<u64>,
    /// How many subscriptions it listed.
    pub subscriptions: Option<usize>,
    /// Where the list is: `data`, or `data.KEY`.
    pub list_at: Option<String>,
    /// The JSON types of the ids.
    pub id_types: Vec<&'static str>,
    /// Fields of the subscriptions invhooks does not know.
    pub unknown_fields: Vec<String>,
    /// Pagination hints, by path.
    pub pagination_hints: BTreeMap<String, serde_json::Value>,
    /// Rate-limit headers (`X-RateLimit-*`, `RateLimit-*`, `Retry-After`).
    pub rate_limit_headers: BTreeMap<String, String>,
    /// `--write`: how long the created subscription took to show in GET.
    pub visible_after_ms: Option<u64>,
    /// `--write`: the `apply --wait` suggested for that.
    pub suggested_wait: Option<u64>,
    /// `--write`: the status of a DELETE of an id already gone.
    pub gone_status: Option<u16>,
}

/// One merchant's report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merchant {
    /// The label.
    pub merchant: String,
    /// The checks, in the order they ran.
    pub checks: Vec<Check>,
    /// What was measured.
    pub measured: Measured,
}

impl Merchant {
    /// A report with no checks yet.
    pub fn new(merchant: String) -> Self {
        Self {
            merchant,
            checks: Vec::new(),
            measured: Measured::default(),
        }
    }

    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }
}

/// The text report: a block per merchant, one line per check (its help
/// under it), then `Doctor: N ok, N warn, N fail.`
pub fn text(report: &[Merchant]) -> String {
    let mut out = String::new();
    let mut counts = [0; 3];
    for m in report {
        out.push_str(&format!("merchant `{}`\n", m.merchant));
        for c in &m.checks {
            counts[c.status as usize] += 1;
            let status = format!("{:?}", c.status).to_lowercase();
            out.push_str(&format!("  {status:<5} {:<13} {}\n", c.name, c.detail));
            if let Some(help) = &c.help {
                out.push_str(&format!("        help: {help}\n"));
            }
        }
    }
    let [ok, warn, fail] = counts;
    out.push_str(&format!("Doctor: {ok} ok, {warn} warn, {fail} fail.\n"));
    out
}

/// The JSON report (docs/plan-json.md "doctor").
pub fn json(report: &[Merchant]) -> String {
    #[derive(Serialize)]
    struct Report<'a> {
        format_version: &'static str,
        merchants: &'a [Merchant],
    }
    crate::render::json::pretty(&Report {
        format_version: FORMAT_VERSION,
        merchants: report,
    })
}

#[cfg(test)]
mod tests;
