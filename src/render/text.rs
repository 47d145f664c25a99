//! The text plan: one line per change (`+` create, `~` update, `-` delete),
//! the changed part of an updated URL highlighted, a summary line.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use similar::ChangeTag;

use super::view::{ChangeView, LiveView, UrlView, UNMANAGED_NOTE};
use super::{summary_line, NO_CHANGES};
use crate::escape::escape;
use crate::model::LiveSubscription;
use crate::plan::{Action, Change, Plan};
use crate::secret::Keys;

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

/// Renders a plan as text, `keys` and URL secrets masked.
pub fn render(plan: &Plan, options: TextOptions, keys: &Keys) -> String {
    let p = Painter { color: options.color };
    let mut out = String::new();
    for merchant in &plan.merchants {
        let bold = Style::new().bold();
        let _ = writeln!(
            out,
            "{}",
            p.paint(bold, &format!("merchant {}", escape(&merchant.merchant)))
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
            let _ = writeln!(out, "  {}", change_line(change, options.color, keys));
        }
        for sub in &merchant.unmanaged {
            let _ = writeln!(out, "  {}", unmanaged_line(sub, options.color, keys));
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

/// One change on one line: symbol, topic, name, id, the URL(s), notes.
pub fn change_line(change: &Change, color: bool, keys: &Keys) -> String {
    let p = Painter { color };
    let view = ChangeView::of(change, keys);
    let symbol = p.paint(action_style(view.action), &view.symbol().to_string());
    let id = view
        .id
        .as_ref()
        .map(|id| format!(" [{}]", escape(id)))
        .unwrap_or_default();
    let url = match &view.url {
        UrlView::Changed { runs, .. } => url_change(runs, &p),
        other => escape(other.shown()).into_owned(),
    };
    let mut line = format!(
        "{symbol} {} {}{id}  {url}",
        escape(&view.topic),
        view.title(|t| escape(t).into_owned())
    );
    for note in &view.notes {
        let _ = write!(line, " ({note})");
    }
    line
}

/// One unmanaged subscription: listed, left alone.
pub fn unmanaged_line(sub: &LiveSubscription, color: bool, keys: &Keys) -> String {
    let p = Painter { color };
    let view = LiveView::of(sub, keys);
    format!(
        "{} {} {} [{}]  {} ({UNMANAGED_NOTE})",
        p.paint(Style::new().dimmed(), "?"),
        escape(&view.topic),
        escape(&view.name),
        escape(&view.id),
        escape(&view.url)
    )
}

/// `old → new`, the removed and inserted runs highlighted.
fn url_change(runs: &[(ChangeTag, String)], p: &Painter) -> String {
    let (mut before, mut after) = (String::new(), String::new());
    let removed = Style::new()
        .fg_color(Some(AnsiColor::Red.into()))
        .bold()
        .underline();
    let added = Style::new()
        .fg_color(Some(AnsiColor::Green.into()))
        .bold()
        .underline();
    for (tag, text) in runs {
        let text = &escape(text);
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
