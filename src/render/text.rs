//! The text plan: one line per change (`+` create, `~` update, `-` delete),
//! an updated URL's changed part highlighted; every value [`escape`]d.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use super::view::{ChangeView, LiveView, UNMANAGED_NOTE};
use super::{summary_line, NO_CHANGES};
use crate::escape::escape;
use crate::model::LiveSubscription;
use crate::plan::{Change, Plan};
use crate::secret::Keys;

fn paint(color: bool, style: Style, text: &str) -> String {
    match color && !text.is_empty() {
        true => format!("{}{text}{}", style.render(), style.render_reset()),
        false => text.to_owned(),
    }
}

fn fg(color: AnsiColor) -> Style {
    Style::new().fg_color(Some(color.into()))
}

pub fn render(plan: &Plan, color: bool, keys: &Keys) -> String {
    let (bold, mut out) = (Style::new().bold(), String::new());
    for m in &plan.merchants {
        let merchant = format!("merchant {}", escape(&m.merchant));
        let _ = writeln!(out, "{}", paint(color, bold, &merchant));
        if m.changes.is_empty() && m.unmanaged.is_empty() {
            let (unchanged, ignored) = (m.summary.unchanged, m.summary.ignored);
            let _ = writeln!(out, "  no changes ({unchanged} unchanged, {ignored} ignored)");
        }
        let changes = m.changes.iter().map(|c| change_line(c, color, keys));
        for line in changes.chain(m.unmanaged.iter().map(|s| unmanaged_line(s, color, keys))) {
            let _ = writeln!(out, "  {line}");
        }
        if let Some(trip) = &m.safety {
            let warning = paint(color, fg(AnsiColor::Yellow).bold(), "warning:");
            let _ = writeln!(out, "  {warning} {trip}; `apply` will refuse without `--force`");
        }
        out.push('\n');
    }
    match plan.has_changes() {
        true => out + &paint(color, bold, &summary_line(&plan.total())) + "\n",
        false => out + NO_CHANGES + "\n",
    }
}

/// Symbol, topic, name, id, the URL(s), the note.
pub fn change_line(change: &Change, color: bool, keys: &Keys) -> String {
    let view = ChangeView::of(change, keys);
    let style = fg([AnsiColor::Green, AnsiColor::Yellow, AnsiColor::Red][view.action as usize]);
    let url = match view.changed_url() {
        Some((old, new)) => url_diff(old, new, color),
        None => escape(view.url()).into_owned(),
    };
    let symbol = paint(color, style, &view.action.symbol().to_string());
    let (topic, title) = (escape(&view.topic), view.title(|t| escape(t).into_owned()));
    let id = (view.id.as_ref()).map_or(String::new(), |id| format!(" [{}]", escape(id)));
    let note = view.note.map(|n| format!(" ({n})")).unwrap_or_default();
    format!("{symbol} {topic} {title}{id}  {url}{note}")
}

pub fn unmanaged_line(sub: &LiveSubscription, color: bool, keys: &Keys) -> String {
    let v = LiveView::of(sub, keys);
    let (topic, name, id, url) = (escape(&v.topic), escape(&v.name), escape(&v.id), escape(&v.url));
    let mark = paint(color, Style::new().dimmed(), "?");
    format!("{mark} {topic} {name} [{id}]  {url} ({UNMANAGED_NOTE})")
}

/// `old → new`, the removed and inserted runs of characters highlighted.
fn url_diff(old: &str, new: &str, color: bool) -> String {
    let diff = TextDiff::from_chars(old, new);
    let changes: Vec<_> = diff.iter_all_changes().collect();
    let (mut before, mut after) = (String::new(), String::new());
    for run in changes.chunk_by(|a, b| a.tag() == b.tag()) {
        let text: String = run.iter().map(|c| c.value()).collect();
        let text = escape(&text);
        let marked = |c: AnsiColor| paint(color, fg(c).bold().underline(), &text);
        let (old, new) = match run[0].tag() {
            ChangeTag::Equal => (text.to_string(), text.to_string()),
            ChangeTag::Delete => (marked(AnsiColor::Red), String::new()),
            ChangeTag::Insert => (String::new(), marked(AnsiColor::Green)),
        };
        before.push_str(&old);
        after.push_str(&new);
    }
    format!("{before} → {after}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::update;

    #[test]
    fn an_update_marks_the_changed_characters() {
        let c = update("wh_1", "customer.updated", "crm", "https://a/x", "https://a/y");
        let line = change_line(&c, true, &Keys::none());
        let marked = |color, text| paint(true, fg(color).bold().underline(), text);
        let (removed, added) = (marked(AnsiColor::Red, "x"), marked(AnsiColor::Green, "y"));
        assert!(
            line.ends_with(&format!("https://a/{removed} → https://a/{added}")),
            "{line:?}"
        );
        assert!(change_line(&c, false, &Keys::none()).ends_with("https://a/x → https://a/y"));
    }
}
