//! [`Diagnostic`]: one problem in a manifest with its `file:line`, and
//! [`Diagnostics`], every problem found at once. A leaf: every other file
//! of the folder reports through these.

use std::fmt;
use std::path::Path;

use crate::model::Location;

/// Help for a file that is missing or does not start like a manifest.
pub(super) const HELP_PASS_FILE: &str = "pass the manifest with -f PATH";
pub(super) const HELP_STARTS_WITH: &str = "a manifest starts with `version: 1`";
/// What to say wherever an API key may have been written into a manifest.
pub(super) const KEY_NEVER_HERE: &str =
    "an API key never goes in a manifest: if one was pasted here, remove it and rotate the key";

/// One problem in a manifest, with where it is and, when there is one, how
/// to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    /// The file and 1-based line the problem is on (line 1 for problems of
    /// the content as a whole; 0 when the file itself cannot be read).
    pub location: Location,
    /// What is wrong: lowercase start, no trailing period, literal values
    /// in backticks, never a variable's value.
    pub message: String,
    /// How to fix it, when the message alone does not say.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at `file:line`.
    pub(crate) fn new(file: &Path, line: usize, message: String, help: Option<String>) -> Self {
        Diagnostic {
            location: Location {
                file: file.to_path_buf(),
                line,
            },
            message,
            help,
        }
    }
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

/// Every problem found while loading manifests, in file order and, within
/// a file, in line order.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

/// Most diagnostics displayed; a hostile file can have hundreds of
/// thousands, which would only flood a CI log.
const MAX_SHOWN: usize = 200;

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, diagnostic) in self.0.iter().take(MAX_SHOWN).enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{diagnostic}")?;
        }
        if self.0.len() > MAX_SHOWN {
            write!(f, "\n… and {} more problems not shown", self.0.len() - MAX_SHOWN)?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// The lines of a merchant's `merchant:` and `apiKeyEnv:`, for the checks
/// across files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct MerchantLines {
    /// The line of `merchant:` (1 when the label is the file's stem).
    pub(super) label: usize,
    /// The line of `apiKeyEnv:`, `None` when the default is used.
    pub(super) api_key_env: Option<usize>,
}

/// The diagnostic of a file with nothing in it.
pub(super) fn empty(file: &Path) -> Diagnostic {
    Diagnostic::new(
        file,
        1,
        format!("manifest `{}` is empty", file.display()),
        Some(HELP_STARTS_WITH.to_owned()),
    )
}
