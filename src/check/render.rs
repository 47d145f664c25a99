//! `check` results as text (one line per URL), JSON (`format_version`
//! "1") and Markdown (a table for a pull-request comment). Pure; every URL
//! is masked ([`Callback::shown`](super::Callback::shown)).

use serde::Serialize;

use super::{Delivery, Outcome, User};
use crate::render::json::pretty;
use crate::render::markdown::code;

/// Version of the JSON check report's shape.
pub const FORMAT_VERSION: &str = "1";
/// Users listed per URL before "and N more".
const MAX_USERS: usize = 5;
/// Rows of a Markdown table before the rest is cut: at a few hundred
/// bytes a row, a table stays far inside GitHub's 65,536 characters.
pub const MAX_ROWS: usize = 50;

/// The closing line, e.g. `Check: 2 reachable, 1 unreachable.`
pub fn summary_line(outcomes: &[Outcome]) -> String {
    let ok = outcomes.iter().filter(|o| o.ok()).count();
    format!("Check: {ok} reachable, {} unreachable.", outcomes.len() - ok)
}

/// What a result reads as: `HTTP 405` or `TCP: connection refused`.
fn result_text(result: &Result<u16, super::Failure>) -> String {
    match result {
        Ok(status) => format!("HTTP {status}"),
        Err(failure) => failure.to_string(),
    }
}

fn user_text(u: &User) -> String {
    let at = u.location.as_ref().map(|l| format!(" ({l})")).unwrap_or_default();
    crate::escape::escape(&format!("{} {} {}{at}", u.merchant, u.topic, u.name)).into_owned()
}

/// What became of a test event, e.g. `test event rejected (HTTP 500)`.
pub(crate) fn delivery_text(d: &Delivery) -> String {
    let verdict = if d.accepted() { "accepted" } else { "rejected" };
    match &d.result {
        Ok(status) => format!("test event {verdict} (HTTP {status})"),
        Err(failure) => format!("test event not delivered ({failure})"),
    }
}

/// One line per URL (`ok` or `FAIL`, the masked URL, the result, the
/// latency), its users under a failure, each test event, then the summary.
pub fn text(outcomes: &[Outcome]) -> String {
    let mut out = String::new();
    for o in outcomes {
        let mark = if o.ok() { "ok  " } else { "FAIL" };
        out.push_str(&format!(
            "{mark} {}  {}  {} ms\n",
            crate::escape::escape(&o.callback.shown()),
            crate::escape::escape(&result_text(&o.result)),
            o.latency.as_millis()
        ));
        if !o.ok() {
            let users = &o.callback.users;
            for u in users.iter().take(MAX_USERS) {
                out.push_str(&format!("       used by {}\n", user_text(u)));
            }
            if users.len() > MAX_USERS {
                out.push_str(&format!("       and {} more\n", users.len() - MAX_USERS));
            }
        }
        for d in &o.deliveries {
            let line = format!(
                "{} {} {}: {}",
                d.user.merchant,
                d.user.topic,
                d.user.name,
                delivery_text(d)
            );
            out.push_str(&format!("       {}\n", crate::escape::escape(&line)));
        }
    }
    if outcomes.is_empty() {
        out.push_str("No callback URLs to check.\n");
    } else {
        out.push_str(&summary_line(outcomes));
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct JsonReport<'a> {
    format_version: &'static str,
    reachable: bool,
    callbacks: Vec<JsonCallback<'a>>,
    summary: JsonSummary,
}

#[derive(Serialize)]
struct JsonSummary {
    reachable: usize,
    unreachable: usize,
}

#[derive(Serialize)]
struct JsonCallback<'a> {
    url: String,
    reachable: bool,
    status: Option<u16>,
    step: Option<super::Step>,
    error: Option<String>,
    latency_ms: u128,
    subscriptions: Vec<JsonUser<'a>>,
    test_events: Vec<JsonDelivery<'a>>,
}

#[derive(Serialize)]
struct JsonUser<'a> {
    merchant: &'a str,
    topic: &'a str,
    name: &'a str,
    file: Option<String>,
    line: Option<usize>,
}

#[derive(Serialize)]
struct JsonDelivery<'a> {
    merchant: &'a str,
    topic: &'a str,
    name: &'a str,
    accepted: bool,
    status: Option<u16>,
    error: Option<String>,
}

fn json_user(u: &User) -> JsonUser<'_> {
    JsonUser {
        merchant: &u.merchant,
        topic: &u.topic,
        name: &u.name,
        file: u.location.as_ref().map(|l| l.file.display().to_string()),
        line: u.location.as_ref().map(|l| l.line),
    }
}

/// The report as pretty JSON (keys in README "Probe callbacks").
pub fn json(outcomes: &[Outcome]) -> String {
    let callbacks: Vec<_> = outcomes
        .iter()
        .map(|o| {
            let failure = o.result.as_ref().err();
            JsonCallback {
                url: o.callback.shown(),
                reachable: o.ok(),
                status: o.result.as_ref().ok().copied().or(failure.and_then(|f| f.status)),
                step: failure.map(|f| f.step),
                error: failure.map(ToString::to_string),
                latency_ms: o.latency.as_millis(),
                subscriptions: o.callback.users.iter().map(json_user).collect(),
                test_events: o
                    .deliveries
                    .iter()
                    .map(|d| JsonDelivery {
                        merchant: &d.user.merchant,
                        topic: &d.user.topic,
                        name: &d.user.name,
                        accepted: d.accepted(),
                        status: d.result.as_ref().ok().copied(),
                        error: d.result.as_ref().err().map(ToString::to_string),
                    })
                    .collect(),
            }
        })
        .collect();
    let reachable = callbacks.iter().filter(|c| c.reachable).count();
    pretty(&JsonReport {
        format_version: FORMAT_VERSION,
        reachable: reachable == callbacks.len(),
        summary: JsonSummary {
            reachable,
            unreachable: callbacks.len() - reachable,
        },
        callbacks,
    })
}

/// The report as Markdown under `title`: the summary in bold, then one
/// table row per URL (failures first), cut after a few hundred rows.
pub fn markdown(outcomes: &[Outcome], title: &str) -> String {
    let mut out = format!("### {title}\n\n");
    if outcomes.is_empty() {
        out.push_str("**No callback URLs to check.**\n");
        return out;
    }
    out.push_str(&format!("**{}**\n\n", summary_line(outcomes)));
    let mut rows: Vec<&Outcome> = outcomes.iter().collect();
    rows.sort_by_key(|o| o.ok());
    table(&mut out, &rows);
    out
}

/// The unreachable URLs among `outcomes` as a warning section for the
/// plan's Markdown (`plan --check-callbacks`); empty when all answer.
pub fn markdown_warnings(outcomes: &[Outcome]) -> String {
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| !o.ok()).collect();
    if failed.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "### Callback check\n\n> [!WARNING]\n> {} of {} callback URLs this plan delivers to did not answer a probe (`invhooks check`).\n\n",
        failed.len(),
        outcomes.len()
    );
    table(&mut out, &failed);
    out
}

/// One table row per outcome, at most [`MAX_ROWS`], then a note on the rest.
fn table(out: &mut String, rows: &[&Outcome]) {
    out.push_str("| | callback | result | latency | used by |\n| --- | --- | --- | --- | --- |\n");
    for o in rows.iter().take(MAX_ROWS) {
        let mut result = code(&result_text(&o.result));
        for d in &o.deliveries {
            result.push_str(&format!(
                "<br>{}: {}",
                code(&d.user.name),
                code(&delivery_text(d))
            ));
        }
        let mut users: Vec<String> = o
            .callback
            .users
            .iter()
            .take(MAX_USERS)
            .map(|u| code(&user_text(u)))
            .collect();
        if o.callback.users.len() > MAX_USERS {
            users.push(format!("and {} more", o.callback.users.len() - MAX_USERS));
        }
        out.push_str(&format!(
            "| {} | {} | {result} | {} ms | {} |\n",
            if o.ok() { "✅" } else { "❌" },
            code(&o.callback.shown()),
            o.latency.as_millis(),
            users.join("<br>")
        ));
    }
    if rows.len() > MAX_ROWS {
        out.push_str(&format!(
            "\n{} more callback URLs not shown; run `invhooks check` for the full list.\n",
            rows.len() - MAX_ROWS
        ));
    }
}
