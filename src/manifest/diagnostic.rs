//! [`Diagnostic`]: one problem in a manifest with its `file:line`;
//! [`Diagnostics`]: every problem found at once.

use std::fmt;
use std::path::Path;

use serde::{Serialize, Serializer};

use crate::model::Location;

/// What to say wherever an API key may have been written into a manifest.
pub(super) const KEY_NEVER_HERE: &str =
    "an API key never goes in a manifest: if one was pasted here, remove it and rotate the key";

/// One problem in a manifest, where it is and, when there is one, how to fix it (serde: in
/// `validate --format json`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// File and 1-based line (1: the content as a whole; 0: the file itself cannot be read).
    #[serde(flatten, serialize_with = "file_line_severity")]
    pub location: Location,
    /// Lowercase start, no trailing period, literal values in backticks, never a variable's value.
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// An empty `help` is none.
    pub(crate) fn new(file: &Path, line: usize, message: impl Into<String>, help: impl Into<String>) -> Self {
        let file = file.to_path_buf();
        let help = Some(help.into()).filter(|help| !help.is_empty());
        let (location, message) = (Location { file, line }, message.into());
        Diagnostic {
            location,
            message,
            help,
        }
    }
}

/// `file`, `line` (null for 0: the file itself) and `severity` of a problem in JSON.
fn file_line_severity<S: Serializer>(at: &Location, s: S) -> Result<S::Ok, S::Error> {
    let (file, line) = (at.file.display().to_string(), (at.line > 0).then_some(at.line));
    serde_json::json!({ "file": file, "line": line, "severity": "error" }).serialize(s)
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.location.line {
            0 => write!(f, "error: {}", self.message)?,
            _ => write!(f, "error: {}: {}", self.location, self.message)?,
        }
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

/// Every problem found while loading manifests, in file order, then line order.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// Most diagnostics displayed: a hostile file's hundreds of thousands would only flood a CI log.
const MAX_SHOWN: usize = 200;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().take(MAX_SHOWN).enumerate() {
            let sep = if i > 0 { "\n" } else { "" };
            write!(f, "{sep}{diagnostic}")?;
        }
        if self.0.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems not shown", self.0.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}
