//! `check` reports as text, JSON and Markdown; every URL is masked
//! ([`Callback::shown`](super::Callback::shown)).

use std::fmt::Write;

use super::{CallbackReport, Delivery, StepFailure, User};
use crate::escape::escape;
use crate::render::json::{object, pretty, Counts, FORMAT_VERSION};
use crate::render::markdown::{code, row, Doc};

/// Users listed per URL before "… and N more".
const MAX_USERS: usize = 5;

/// The closing line, e.g. `Check: 2 reachable, 1 unreachable.`
fn summary_line(reports: &[CallbackReport]) -> String {
    let ok = reports.iter().filter(|r| r.ok()).count();
    match reports.len() {
        0 => "No callback URLs to check.".to_owned(),
        n => format!("Check: {ok} reachable, {} unreachable.", n - ok),
    }
}

/// What a result reads as: `HTTP 405` or `TCP: connection refused`.
fn result_text(result: &Result<u16, StepFailure>) -> String {
    (result.as_ref()).map_or_else(ToString::to_string, |status| format!("HTTP {status}"))
}

/// A URL's first users, each through `show`, then `… and N more`.
fn users(r: &CallbackReport, show: impl Fn(&str) -> String) -> Vec<String> {
    let users = &r.callback.users;
    let text = |u: &User| match &u.location {
        Some(at) => show(&format!("{u} ({at})")),
        None => show(&u.to_string()),
    };
    crate::render::first(MAX_USERS, users.iter().map(text)).collect()
}

/// What became of a test event, e.g. `test event rejected (HTTP 500)`.
pub(crate) fn delivery_text(d: &Delivery) -> String {
    let verdict = if d.accepted() { "accepted" } else { "rejected" };
    match &d.result {
        Ok(_) => format!("test event {verdict} ({})", result_text(&d.result)),
        Err(failure) => format!("test event not delivered ({failure})"),
    }
}

/// A line per URL, its users under a failure, each test event, the summary.
pub fn text(reports: &[CallbackReport]) -> String {
    let mut out = String::new();
    for r in reports {
        let (url, result, ms) = (r.callback.shown(), result_text(&r.result), r.latency.as_millis());
        let mark = if r.ok() { "ok  " } else { "FAIL" };
        let _ = writeln!(out, "{mark} {}  {}  {ms} ms", escape(&url), escape(&result));
        let users = (!r.ok()).then(|| users(r, |u| format!("used by {u}")));
        let events = (r.deliveries.iter()).map(|d| format!("{}: {}", d.user, delivery_text(d)));
        for line in users.into_iter().flatten().chain(events) {
            let _ = writeln!(out, "       {}", escape(&line));
        }
    }
    out + &summary_line(reports) + "\n"
}

/// The report as pretty JSON (keys in docs/commands/check.md).
pub fn json(reports: &[CallbackReport]) -> String {
    let callbacks = reports.iter().map(|r| {
        let failure = r.result.as_ref().err();
        let subscriptions = r.callback.users.iter().map(|user| {
            object! {
                #[serde(flatten)]
                user: user,
                file: user.location.as_ref().map(|l| l.file.display().to_string()),
                line: user.location.as_ref().map(|l| l.line),
            }
        });
        let test_events = r.deliveries.iter().map(|d| {
            object! {
                #[serde(flatten)]
                user: &d.user,
                accepted: d.accepted(),
                status: d.result.as_ref().ok().copied(),
                error: d.result.as_ref().err().map(ToString::to_string),
            }
        });
        object! {
            url: r.callback.shown(),
            reachable: r.ok(),
            status: match &r.result {
                Ok(status) | Err(StepFailure::Status(status)) => Some(*status),
                Err(_) => None,
            },
            step: failure.map(StepFailure::step),
            error: failure.map(ToString::to_string),
            latency_ms: r.latency.as_millis(),
            subscriptions: subscriptions.collect::<Vec<_>>(),
            test_events: test_events.collect::<Vec<_>>(),
        }
    });
    let (reachable, all) = (reports.iter().filter(|r| r.ok()).count(), reports.len());
    pretty(&object! {
        format_version: FORMAT_VERSION,
        reachable: reachable == all,
        callbacks: callbacks.collect::<Vec<_>>(),
        summary: Counts("reachable unreachable", [reachable, all - reachable]),
    })
}

/// The report as Markdown of at most `limit` bytes, failures first.
pub fn markdown(reports: &[CallbackReport], title: &str, limit: usize) -> String {
    let mut doc = Doc::new(title, limit);
    doc.head(&format!("**{}**\n\n", summary_line(reports)));
    let mut rows: Vec<&CallbackReport> = reports.iter().collect();
    rows.sort_by_key(|r| r.ok());
    table(doc, &rows)
}

/// The unreachable URLs for `plan --check-callbacks`; empty when all answer.
pub fn markdown_warnings(reports: &[CallbackReport], limit: usize) -> String {
    let failed: Vec<&CallbackReport> = reports.iter().filter(|r| !r.ok()).collect();
    if failed.is_empty() {
        return String::new();
    }
    let (mut doc, n, all) = (Doc::new("Callback check", limit), failed.len(), reports.len());
    doc.head(&format!(
        "> [!WARNING]\n> {n} of {all} callback URLs this plan delivers to did not answer a probe (`invhooks check`).\n\n"
    ));
    table(doc, &failed)
}

fn table(mut doc: Doc, reports: &[&CallbackReport]) -> String {
    let rows: Vec<String> = (reports.iter())
        .map(|r| {
            let mut result = code(&result_text(&r.result));
            for d in &r.deliveries {
                let _ = write!(result, "<br>{}: {}", code(&d.user.name), code(&delivery_text(d)));
            }
            let (icon, url) = (if r.ok() { "✅" } else { "❌" }, code(&r.callback.shown()));
            let latency = format!("{} ms", r.latency.as_millis());
            let users = users(r, code).join("<br>");
            row(&[icon, &url, &result, &latency, &users])
        })
        .collect();
    let head = "| | callback | result | latency | used by |\n| --- | --- | --- | --- | --- |\n";
    doc.table(head, &rows);
    doc.finish("callback URLs", "Run `invhooks check` for the full list.")
}
