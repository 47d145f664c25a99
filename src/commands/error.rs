//! How errors reach the user: the message, its causes, and a hint.

use std::fmt;
use std::io::Write as _;

/// An error with a suggestion of what to do next.
#[derive(Debug)]
pub struct Helped {
    /// The error.
    pub error: anyhow::Error,
    /// What to do about it.
    pub help: String,
}

impl Helped {
    /// Wraps `error` with `help`.
    pub fn wrap(error: anyhow::Error, help: impl Into<String>) -> anyhow::Error {
        anyhow::Error::new(Helped {
            error,
            help: help.into(),
        })
    }
}

impl fmt::Display for Helped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.error)
    }
}

impl std::error::Error for Helped {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.error.source()
    }
}

/// Renders an error as `error: …`, `  caused by: …` lines and a `  help:`,
/// with every API key read so far redacted; `color` paints the labels.
pub fn report(err: &anyhow::Error, color: bool) -> String {
    let mut out = String::new();
    let mut help = None;
    for (i, cause) in err.chain().enumerate() {
        if let Some(h) = cause.downcast_ref::<Helped>() {
            help.get_or_insert_with(|| h.help.clone());
        }
        let text = cause.to_string();
        if i == 0 {
            if text.starts_with("error:") {
                out.push_str(&text);
            } else {
                out.push_str(&format!("error: {text}"));
            }
        } else {
            out.push_str(&format!("\n  caused by: {text}"));
        }
    }
    if let Some(help) = help {
        out.push_str(&format!("\n  help: {help}"));
    }
    out.push('\n');
    paint_labels(
        &crate::render::github::defuse(&crate::api::redact_known(&out)),
        color,
    )
}

/// `text` with each line's leading `error:` (bold red) or `warning:` (bold
/// yellow) coloured when `color`, and nothing else changed.
pub(super) fn paint_labels(text: &str, color: bool) -> String {
    use anstyle::{AnsiColor, Style};
    if !color {
        return text.to_owned();
    }
    let paint = |line: &str| {
        for (label, hue) in [("error:", AnsiColor::Red), ("warning:", AnsiColor::Yellow)] {
            if let Some(rest) = line.strip_prefix(label) {
                let style = Style::new().bold().fg_color(Some(hue.into()));
                return format!("{}{label}{}{rest}", style.render(), style.render_reset());
            }
        }
        line.to_owned()
    };
    text.split_inclusive('\n').map(paint).collect()
}

/// Installs the process's panic hook: a crash is reported as a bug, and
/// every API key the process has read is redacted from the report, so even
/// a bug that formats a key cannot print it.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let _ = std::io::stderr().lock().write_all(panic_report(info).as_bytes());
    }));
}

/// The text of the panic hook, keys redacted.
fn panic_report(info: &std::panic::PanicHookInfo<'_>) -> String {
    let payload = info.payload();
    let message = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_owned());
    let at = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let backtrace = std::backtrace::Backtrace::capture();
    let backtrace = match backtrace.status() {
        std::backtrace::BacktraceStatus::Captured => format!("\n{backtrace}"),
        _ => String::new(),
    };
    let report = crate::api::redact_known(&format!(
        "error: invhooks crashed{at}: {message}\n  help: this is a bug; please report it with the command you ran (API keys are redacted from this message){backtrace}\n"
    ));
    crate::render::github::defuse(&report).into_owned()
}
