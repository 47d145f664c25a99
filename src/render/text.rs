//! The text plan: one line per change (`+` create, `~` update, `-` delete),
//! the changed part of an updated URL highlighted, a summary line.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use super::{summary_line, NO_CHANGES};
use crate::escape::escape;
use crate::plan::{Action, Change, Plan};
use crate::secret::mask_url;

/// Text rendering options.
#[derive(Debug, Clone, Copy, Default)]
pub struct TextOptions {
    /// Emit ANSI colours.
    pub color: bool,
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_owned()
        }
    }
}

fn action_style(action: Action) -> Style {
    let color = match action {
        Action::Create => AnsiColor::Green,
        Action::Update => AnsiColor::Yellow,
        Action::Delete => AnsiColor::Red,
    };
    Style::new().fg_color(Some(color.into()))
}

/// Renders a plan as text.
pub fn render(plan: &Plan, options: TextOptions) -> String {
    let p = Painter { color: options.color };
    let mut out = String::new();
    for merchant in &plan.merchants {
        let bold = Style::new().bold();
        let _ = writeln!(
            out,
            "{}",
            p.paint(bold, &format!("merchant {}", merchant.merchant))
        );
        if merchant.changes.is_empty() && merchant.unmanaged.is_empty() {
            let s = merchant.summary;
            let _ = writeln!(
                out,
                "  no changes ({} unchanged, {} ignored)",
                s.unchanged, s.ignored
            );
        }
        for change in &merchant.changes {
            let _ = writeln!(out, "  {}", change_line(change, options.color));
        }
        for sub in &merchant.unmanaged {
            let _ = writeln!(
                out,
                "  {} {} {} [{}] unmanaged, kept because `prune: false`",
                p.paint(Style::new().dimmed(), "?"),
                escape(&sub.topic),
                escape(&sub.name),
                escape(&sub.id)
            );
        }
        if let Some(trip) = &merchant.safety {
            let warn = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
            let _ = writeln!(
                out,
                "  {} {trip}; `apply` will refuse without `--force`",
                p.paint(warn, "warning:")
            );
        }
        out.push('\n');
    }
    if plan.has_changes() {
        out.push_str(&p.paint(Style::new().bold(), &summary_line(&plan.total())));
    } else {
        out.push_str(NO_CHANGES);
    }
    out.push('\n');
    out
}

/// One change on one line: symbol, topic, name, id, and the URL(s).
pub fn change_line(change: &Change, color: bool) -> String {
    let p = Painter { color };
    let symbol = p.paint(action_style(change.action), &change.action.symbol().to_string());
    let id = change
        .id
        .as_deref()
        .map(|id| format!(" [{}]", escape(id)))
        .unwrap_or_default();
    let mut line = format!("{symbol} {} {}{id}", escape(&change.topic), escape(&change.name));
    match (change.action, &change.before, &change.after) {
        (Action::Create, _, Some(after)) => {
            let _ = write!(line, "  {}", mask_url(&after.callback_url));
        }
        (Action::Update, Some(before), Some(after)) => {
            let _ = write!(
                line,
                "  {}",
                url_change(&before.callback_url, &after.callback_url, &p)
            );
        }
        (Action::Delete, Some(before), _) => {
            let _ = write!(line, "  {}", mask_url(&before.callback_url));
            if change.duplicate {
                line.push_str(" (duplicate)");
            }
        }
        _ => {}
    }
    line
}

/// `old → new` with the differing characters highlighted; a change hidden
/// by masking reads as a changed secret.
fn url_change(old: &str, new: &str, p: &Painter) -> String {
    let (old_m, new_m) = (mask_url(old), mask_url(new));
    if old_m == new_m {
        return format!("{new_m} (secret in URL changed)");
    }
    let diff = TextDiff::from_chars(old_m.as_str(), new_m.as_str());
    let (mut before, mut after) = (String::new(), String::new());
    let removed = Style::new()
        .fg_color(Some(AnsiColor::Red.into()))
        .bold()
        .underline();
    let added = Style::new()
        .fg_color(Some(AnsiColor::Green.into()))
        .bold()
        .underline();
    // Merge the per-character diff into runs so each run is painted once.
    let mut runs: Vec<(ChangeTag, String)> = Vec::new();
    for op in diff.iter_all_changes() {
        match runs.last_mut() {
            Some((tag, text)) if *tag == op.tag() => text.push_str(op.value()),
            _ => runs.push((op.tag(), op.value().to_owned())),
        }
    }
    for (tag, text) in &runs {
        match tag {
            ChangeTag::Equal => {
                before.push_str(text);
                after.push_str(text);
            }
            ChangeTag::Delete => before.push_str(&p.paint(removed, text)),
            ChangeTag::Insert => after.push_str(&p.paint(added, text)),
        }
    }
    format!("{before} → {after}")
}
