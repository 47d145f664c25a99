//! How errors reach the user: the message, its causes, and a hint.

use std::fmt;

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

/// Renders an error as `error: …`, `  caused by: …` lines and a `  help:`.
pub fn report(err: &anyhow::Error) -> String {
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
    out
}
