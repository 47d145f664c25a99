//! Markdown for a pull-request comment or `$GITHUB_STEP_SUMMARY`: [`code`]
//! and [`code_text`] are the one way a value reaches Markdown, [`row`] the
//! one table row and [`Doc`] the byte budget, for drift's and check's too.

use std::collections::HashMap;
use std::fmt::Write;

use super::view::{ChangeView, FieldsView, LiveView, UNMANAGED_NOTE};
use super::{apply_line, failure_text, fleet_line, summary_line, wave_line, NO_CHANGES};
use crate::apply::waves::{converge_failures, WaveStatus};
use crate::apply::{Outcome, RunReport, Status};
use crate::escape::escape;
use crate::plan::{Change, MerchantPlan, Plan};
use crate::secret::{Keys, Masked};

/// GitHub's limit on a comment (and issue) body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// Room kept for the notes that say what was cut.
const RESERVE: usize = 1_024;
const FULL_PLAN: &str = "Run `invhooks plan` for the full list.";

/// Renders a plan as Markdown of at most `limit` bytes.
pub fn render(plan: &Plan, title: &str, limit: usize, keys: &Keys) -> String {
    let mut doc = Doc::new(title, limit);
    match plan.has_changes() {
        true => doc.head(&format!("**{}**\n\n", summary_line(&plan.total()))),
        false => doc.head(&format!("**{NO_CHANGES}**\n\n")),
    }
    let head = "| merchant | create | update | delete | unchanged | ignored | unmanaged |\n|---|---:|---:|---:|---:|---:|---:|\n";
    doc.counts(head, &plan.merchants, |m| {
        let s = m.summary;
        vec![s.create, s.update, s.delete, s.unchanged, s.ignored, s.unmanaged]
    });
    warnings(&mut doc, plan);
    change_tables(&mut doc, plan, None, keys);
    for m in &plan.merchants {
        doc.details(&details(m, keys));
    }
    doc.finish("changes", FULL_PLAN)
}

/// Renders an apply run, or its refusal's reasons, for `$GITHUB_STEP_SUMMARY`.
pub fn apply_summary(
    plan: &Plan,
    result: Result<&RunReport, &[String]>,
    limit: usize,
    keys: &Keys,
) -> String {
    let mut doc = Doc::new("invhooks apply", limit);
    match result {
        Err(reasons) => {
            doc.head("**Apply refused: nothing was changed.**\n\n");
            for reason in reasons {
                doc.head(&format!("- {}\n", code_text(&Masked::text(reason, keys))));
            }
            doc.head("\n");
        }
        Ok(_) if !plan.has_changes() => doc.head(&format!("**{NO_CHANGES}**\n\n")),
        Ok(run) => {
            doc.head(&format!("**{}**\n\n", apply_line(run)));
            if let Some(line) = fleet_line(run.stores()) {
                doc.head(&format!("{line}\n\n"));
            }
            waves_list(&mut doc, run, keys);
            statuses(&mut doc, run, keys);
        }
    }
    warnings(&mut doc, plan);
    change_tables(&mut doc, plan, result.ok(), keys);
    let full = result.map_or(FULL_PLAN, |_| "The job log has the full report.");
    doc.finish("changes", full)
}

/// A staged rollout's waves, one line each, and why a gate failed.
fn waves_list(doc: &mut Doc, run: &RunReport, keys: &Keys) {
    let rollout = &run.rollout;
    if !rollout.staged() {
        return;
    }
    for (i, wave) in rollout.waves.iter().enumerate() {
        let icon = match &wave.status {
            WaveStatus::Passed => "✅",
            WaveStatus::Failed(_) => "❌",
            WaveStatus::Interrupted | WaveStatus::NotStarted => "⏸️",
        };
        // Our own words: numbers and the gate's name, no value.
        doc.head(&format!("- {icon} {}\n", wave_line(rollout, i)));
        if let WaveStatus::Failed(failures) = &wave.status {
            let show = |v: &str| code_text(&Masked::text(v, keys));
            let rows: Vec<String> = (failures.iter())
                .map(|f| format!("  - {}\n", failure_text(f, show)))
                .collect();
            doc.head_fit(&rows, |n| {
                format!("  - and {n} more: the job log has every one\n")
            });
        }
    }
    doc.head("\n");
}

/// Every store by how it ended, a `<details>` block per status (open when
/// a store in it says why).
fn statuses(doc: &mut Doc, run: &RunReport, keys: &Keys) {
    let statuses = run.statuses();
    let mut why: HashMap<String, String> = (converge_failures(&run.merchants).into_iter())
        .map(|f| (f.merchant, f.reason))
        .collect();
    why.extend(run.refused.iter().map(|r| (r.merchant.clone(), r.reason.clone())));
    for (status, icon) in Status::ALL.into_iter().zip(["✅", "✅", "⛔", "❌", "⏸️"]) {
        let of = Vec::from_iter((statuses.iter()).filter_map(|&(m, s)| (s == status).then_some(m)));
        if of.is_empty() {
            continue;
        }
        let open = of.iter().any(|m| why.contains_key(*m)).then_some(" open");
        let (open, word, n) = (open.unwrap_or_default(), status.as_str(), of.len());
        let summary = format!("<details{open}><summary>{icon} {word}: {n}</summary>\n\n");
        doc.head(&summary);
        let items: Vec<String> = (of.iter())
            .map(|m| match why.get(*m) {
                Some(reason) => format!("- {}: {}\n", code_text(m), code_text(&Masked::text(reason, keys))),
                None => format!("{} ", code_text(m)),
            })
            .collect();
        let left = doc.head_fit(&items, |n| {
            format!("\n\n_{n} more not listed: the job log has every store_\n")
        });
        let list = left == 0 && items.iter().all(|i| i.ends_with('\n'));
        doc.head(&format!("\n{}</details>\n\n", if list { "" } else { "\n" }));
    }
}

fn warnings(doc: &mut Doc, plan: &Plan) {
    for m in &plan.merchants {
        if let Some(trip) = &m.safety {
            let merchant = code_text(&m.merchant);
            doc.head(&format!(
                "> [!WARNING]\n> **{merchant}**: {trip}; `apply` will refuse without `--force`.\n\n"
            ));
        }
    }
}

/// A table of changes per merchant; with `run`, each change's outcome first.
fn change_tables(doc: &mut Doc, plan: &Plan, run: Option<&RunReport>, keys: &Keys) {
    let reports: HashMap<&str, _> = (run.iter().flat_map(|r| &r.merchants))
        .map(|r| (r.merchant.as_str(), &r.changes))
        .collect();
    let (result, rule) = run.map_or(("", ""), |_| ("| result ", "|---"));
    for m in plan.merchants.iter().filter(|m| !m.changes.is_empty()) {
        let header = format!(
            "#### {}\n\n{result}| | topic | name | id | callback URL |\n{rule}|---|---|---|---|---|\n",
            code_text(&m.merchant)
        );
        // A merchant's reports are in plan order, one per change.
        let outcome = |i: usize, c: &Change| {
            let report = reports.get(m.merchant.as_str())?.get(i)?;
            (&report.change == c).then_some(&report.outcome)
        };
        let rows: Vec<String> = (m.changes.iter().enumerate())
            .map(|(i, c)| {
                let badge = run.map(|_| badge(outcome(i, c), keys));
                row(&badge.into_iter().chain(cells(c, keys)).collect::<Vec<_>>())
            })
            .collect();
        doc.table(&header, &rows);
    }
}

fn badge(outcome: Option<&Outcome>, keys: &Keys) -> String {
    outcome.map_or("not run".to_owned(), |o| {
        let reason = o.reason().map(|r| format!(": {}", code(&Masked::text(r, keys))));
        let icon = ["✅", "❌", "⏭️", "⏸️"][o.index()];
        format!("{icon} {}{}", o.as_str(), reason.unwrap_or_default())
    })
}

fn cells(c: &Change, keys: &Keys) -> [String; 5] {
    let view = ChangeView::of(c, keys);
    let symbol = ["➕", "🔄", "➖"][view.action as usize];
    let url = match view.changed_url() {
        Some((old, new)) => format!("{} → {}", code(old), code(new)),
        None => code(view.url()),
    };
    // A duplicate's note (`duplicate`) follows its action, any other the URL.
    let note = view.note.map(|n| format!(" ({n})")).unwrap_or_default();
    let (label, url) = match view.duplicate {
        true => (format!("{}{note}", view.action), url),
        false => (view.action.to_string(), url + &note),
    };
    let id = view.id.as_deref().map(code).unwrap_or_default();
    [
        format!("{symbol} {label}"),
        code(&view.topic),
        view.title(code),
        id,
        url,
    ]
}

/// One merchant's plan as a diff in a `<details>` block.
fn details(m: &MerchantPlan, keys: &Keys) -> String {
    if m.changes.is_empty() && m.unmanaged.is_empty() {
        return String::new();
    }
    let mut lines = String::new();
    for c in &m.changes {
        let v = ChangeView::of(c, keys);
        let id = (v.id.as_deref()).map_or(String::new(), |id| format!(" [{}]", escape(id)));
        let line = |sign: char, f: &FieldsView| {
            let (topic, name, url) = (escape(&v.topic), escape(&f.name), escape(&f.callback_url));
            format!("{sign} {topic} {name}{id}  {url}")
        };
        let diff: Vec<String> = [('-', &v.before), ('+', &v.after)]
            .into_iter()
            .filter_map(|(sign, f)| f.as_ref().map(|f| line(sign, f)))
            .collect();
        let note = v.note.map(|n| format!("  ({n})")).unwrap_or_default();
        let _ = writeln!(lines, "{}{note}", diff.join("\n"));
    }
    for s in &m.unmanaged {
        let v = LiveView::of(s, keys);
        let (topic, name, id, url) = (escape(&v.topic), escape(&v.name), escape(&v.id), escape(&v.url));
        let _ = writeln!(lines, "  {topic} {name} [{id}]  {url}  ({UNMANAGED_NOTE})");
    }
    let fence = "`".repeat(longest_backtick_run(&lines).max(2) + 1);
    let (merchant, changes, unmanaged) = (html_code(&m.merchant), m.changes.len(), m.unmanaged.len());
    format!(
        "<details><summary>{merchant}: {changes} change(s), {unmanaged} unmanaged</summary>\n\n{fence}diff\n{lines}{fence}\n\n</details>\n\n"
    )
}

/// A table row of cells already made safe ([`code`], or our own words).
pub(crate) fn row<S: std::borrow::Borrow<str>>(cells: &[S]) -> String {
    format!("| {} |\n", cells.join(" | "))
}

/// A value invhooks did not write, in a table cell: [`code_text`] with `|`
/// escaped (a `\` before one shown as `\u{5c}`: GitHub reads `\\|` as a
/// backslash and a pipe that ends the cell).
pub(crate) fn code(text: &str) -> String {
    span(&escape(text).replace("\\|", "\\u{5c}|").replace('|', "\\|"))
}

/// A value invhooks did not write, outside a table: a code span no value can
/// end, open HTML, a link or a mention in, or break across lines.
pub(crate) fn code_text(text: &str) -> String {
    span(&escape(text))
}

/// `text` (escaped) in a fence longer than its backtick runs, padded at a
/// backtick or space edge (CommonMark strips one space a side).
fn span(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    let fence = "`".repeat(longest_backtick_run(text) + 1);
    let edge = |c: Option<char>| matches!(c, Some('`' | ' '));
    match edge(text.chars().next()) || edge(text.chars().next_back()) {
        true => format!("{fence} {text} {fence}"),
        false => format!("{fence}{text}{fence}"),
    }
}

/// A value inside an HTML block (a `<summary>`): entity-escaped `<code>`.
fn html_code(text: &str) -> String {
    let text = escape(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    format!("<code>{text}</code>")
}

fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// A Markdown document within a byte limit: a head never cut (but for its
/// rows past half the budget), tables cut by rows, details whole or dropped.
#[derive(Debug, Default)]
pub(crate) struct Doc {
    limit: usize,
    head: String,
    body: String,
    shown: usize,
    omitted: usize,
    omitted_details: usize,
}

impl Doc {
    /// Starts a document with its marker (so a workflow finds its comment).
    pub(crate) fn new(title: &str, limit: usize) -> Self {
        let head = format!("<!-- {title} -->\n### {title}\n\n");
        Self {
            limit,
            head,
            ..Self::default()
        }
    }

    fn room(&self) -> usize {
        self.limit
            .saturating_sub(RESERVE + self.head.len() + self.body.len())
    }

    pub(crate) fn head(&mut self, text: &str) {
        self.head.push_str(text);
    }

    /// A table of counts, a row per merchant, in the head.
    pub(crate) fn counts<'a>(
        &mut self,
        head: &str,
        merchants: impl IntoIterator<Item = &'a MerchantPlan>,
        counts: impl Fn(&MerchantPlan) -> Vec<usize>,
    ) {
        let rows: Vec<String> = (merchants.into_iter())
            .map(|m| {
                let n = counts(m).into_iter().map(|n| n.to_string());
                row(&[code(&m.merchant)].into_iter().chain(n).collect::<Vec<_>>())
            })
            .collect();
        self.head(head);
        self.head_fit(&rows, |n| format!("| _{n} more merchant(s) not listed_ |\n"));
        self.head("\n");
    }

    /// Appends items while the head stays within half the budget, then
    /// `more(n)` for the `n` left out; `n`.
    pub(crate) fn head_fit(&mut self, items: &[String], more: impl Fn(usize) -> String) -> usize {
        let cap = self.limit.saturating_sub(RESERVE) / 2;
        for (i, item) in items.iter().enumerate() {
            if self.head.len() + item.len() > cap {
                self.head.push_str(&more(items.len() - i));
                return items.len() - i;
            }
            self.head.push_str(item);
        }
        0
    }

    /// Appends a table's rows while they fit, its header only with its first.
    pub(crate) fn table(&mut self, header: &str, rows: &[String]) {
        let Some(first) = rows.first() else { return };
        if header.len() + first.len() + 1 > self.room() {
            self.omitted += rows.len();
            return;
        }
        self.body.push_str(header);
        for row in rows {
            if row.len() < self.room() {
                self.body.push_str(row);
                self.shown += 1;
            } else {
                self.omitted += 1;
            }
        }
        self.body.push('\n');
    }

    pub(crate) fn details(&mut self, block: &str) {
        match block.len() > self.room() {
            true => self.omitted_details += 1,
            false => self.body.push_str(block),
        }
    }

    /// `rows` names what the tables list, `full` where the complete list is;
    /// the last guard of the limit cuts at a character boundary.
    pub(crate) fn finish(self, rows: &str, full: &str) -> String {
        let (shown, omitted, mut out) = (self.shown, self.omitted, self.head);
        let limit = "to fit GitHub's 65,536-character limit";
        let total = shown + omitted;
        match (omitted, self.omitted_details) {
            (0, 0) => {}
            (0, n) => out += &format!("> [!NOTE]\n> {n} details block(s) were left out {limit}. {full}\n\n"),
            _ => out += &format!("> [!NOTE]\n> The tables below show {shown} of {total} {rows}: {omitted} row(s) were left out {limit}. {full}\n\n"),
        }
        out.push_str(&self.body);
        if omitted > 0 {
            let _ = writeln!(out, "_{omitted} more {rows} not shown. {full}_");
        }
        const CUT: &str = "\n\n_(cut to fit GitHub's limit)_\n";
        if out.len() <= self.limit {
            return out;
        }
        let mut end = self.limit.saturating_sub(CUT.len());
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
        out + CUT
    }
}

#[cfg(test)]
#[path = "markdown_tests.rs"]
mod tests;
