//! The Markdown plan, for a pull-request comment or `$GITHUB_STEP_SUMMARY`:
//! summary first, then a table of changes per merchant. It always fits
//! GitHub's comment limit: tables are cut, never the summary, and the cut
//! is stated.

use std::fmt::Write;

use super::{summary_line, NO_CHANGES};
use crate::plan::{Action, Change, Plan};
use crate::secret::mask_url;

/// GitHub's limit on a comment body, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;
/// Room kept for the truncation notes.
const RESERVE: usize = 1_024;

/// Renders a plan as Markdown of at most `limit` characters.
pub fn render(plan: &Plan, title: &str, limit: usize) -> String {
    let mut out = format!("### {title}\n\n");
    let total = plan.total();
    if plan.has_changes() {
        let _ = writeln!(out, "**{}**\n", summary_line(&total));
    } else {
        let _ = writeln!(out, "**{NO_CHANGES}**\n");
    }
    out.push_str("| merchant | create | update | delete | unchanged | ignored | unmanaged |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|\n");
    for m in &plan.merchants {
        let s = m.summary;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            cell(&m.merchant),
            s.create,
            s.update,
            s.delete,
            s.unchanged,
            s.ignored,
            s.unmanaged
        );
    }
    out.push('\n');
    for m in &plan.merchants {
        if let Some(trip) = &m.safety {
            let _ = writeln!(
                out,
                "> [!WARNING]\n> **{}**: {trip}; `apply` will refuse without `--force`.\n",
                cell(&m.merchant)
            );
        }
    }

    let budget = limit.saturating_sub(RESERVE);
    let mut omitted = 0usize;
    for m in plan.merchants.iter().filter(|m| !m.changes.is_empty()) {
        let header = format!(
            "#### {}\n\n| | topic | name | id | callback URL |\n|---|---|---|---|---|\n",
            cell(&m.merchant)
        );
        if out.len() + header.len() > budget {
            omitted += m.changes.len();
            continue;
        }
        out.push_str(&header);
        for change in &m.changes {
            let row = row(change);
            if out.len() + row.len() > budget {
                omitted += 1;
            } else {
                out.push_str(&row);
            }
        }
        out.push('\n');
    }
    if omitted > 0 {
        let _ = writeln!(
            out,
            "_{omitted} more change(s) not shown: the comment would exceed GitHub's {GITHUB_COMMENT_LIMIT}-character limit. Run `invhooks plan` for the full list._"
        );
    }
    out
}

fn row(c: &Change) -> String {
    let (symbol, label) = match c.action {
        Action::Create => ("➕", "create"),
        Action::Update => ("🔄", "update"),
        Action::Delete if c.duplicate => ("➖", "delete (duplicate)"),
        Action::Delete => ("➖", "delete"),
    };
    let url = match (&c.before, &c.after) {
        (Some(b), Some(a)) => {
            let (old, new) = (mask_url(&b.callback_url), mask_url(&a.callback_url));
            if old == new {
                format!("{} (secret changed)", code(&new))
            } else {
                format!("{} → {}", code(&old), code(&new))
            }
        }
        (None, Some(a)) => code(&mask_url(&a.callback_url)),
        (Some(b), None) => code(&mask_url(&b.callback_url)),
        (None, None) => String::new(),
    };
    format!(
        "| {symbol} {label} | {} | {} | {} | {url} |\n",
        code(&c.topic),
        code(&c.name),
        c.id.as_deref().map(code).unwrap_or_default()
    )
}

/// Text safe inside a table cell: pipes escaped, newlines flattened.
fn cell(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// A code span that survives backticks in the text.
fn code(text: &str) -> String {
    let text = cell(text);
    let fence = if text.contains('`') { "`` " } else { "`" };
    let close = if text.contains('`') { " ``" } else { "`" };
    format!("{fence}{text}{close}")
}
