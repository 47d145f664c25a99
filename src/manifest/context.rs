//! [`Ctx`]: where the validation of one file is and where its problems
//! go. It carries the environment lookup for `${VAR}`, the variable (and
//! value) of the merchant's key that no value may carry, the fleet
//! merchant being checked, and the byte budget of expanded values; it
//! derefs to the file's [`Problems`], which check each field's kind.

use std::ops::{Deref, DerefMut};
use std::path::Path;

use super::diagnostic::Diagnostic;
use super::fields::DEFAULT_API_KEY_ENV;
use super::record::Problems;
use super::yaml::MAX_BYTES;
use crate::model::Location;

/// Where the walk of one file is and where its problems go.
pub(super) struct Ctx<'a> {
    /// The file and its problems.
    problems: Problems<'a>,
    /// Environment lookup for `${VAR}`.
    pub(super) env: &'a (dyn Fn(&str) -> Option<String> + Sync),
    /// The variable holding this merchant's API key (`apiKeyEnv`): values
    /// may not reference it or contain its value.
    key_env: String,
    /// The value of `key_env`, when set and not blank, trimmed.
    key: Option<String>,
    /// The fleet merchant whose values are checked (`None` outside a
    /// fleet file): messages about its `vars` name it.
    pub(super) merchant: Option<String>,
    /// Bytes the file's values may still take once `${VAR}`s are expanded
    /// (every merchant's of a fleet): [`MAX_BYTES`].
    pub(super) left: usize,
}

impl<'a> Ctx<'a> {
    /// A walk of `file` with the default key variable.
    pub(super) fn new(file: &'a Path, env: &'a (dyn Fn(&str) -> Option<String> + Sync)) -> Self {
        let mut ctx = Ctx {
            problems: Problems::new(file),
            env,
            key_env: String::new(),
            key: None,
            merchant: None,
            left: MAX_BYTES,
        };
        ctx.set_key_env(DEFAULT_API_KEY_ENV);
        ctx
    }

    /// The variable holding this merchant's API key, and so the key.
    pub(super) fn set_key_env(&mut self, name: &str) {
        self.key = (self.env)(name)
            .map(|key| key.trim().to_owned())
            .filter(|key| !key.is_empty());
        name.clone_into(&mut self.key_env);
    }

    /// The variable holding this merchant's API key.
    pub(super) fn key_env(&self) -> &str {
        &self.key_env
    }

    /// The merchant's API key (trimmed), when its variable is set.
    pub(super) fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The file being walked.
    pub(super) fn file(&self) -> &'a Path {
        self.problems.file
    }

    /// The location of `line` in the file.
    pub(super) fn location(&self, line: usize) -> Location {
        Location {
            file: self.file().to_path_buf(),
            line,
        }
    }

    /// Every problem recorded, in the order found.
    pub(super) fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.problems.into_vec()
    }

    /// Counts `bytes` of expanded values against [`MAX_BYTES`] (every
    /// subscription holds its own name, URL and topic); the first time
    /// they would go past it, reports it at `line`. Whether they fit.
    pub(super) fn spend(&mut self, line: usize, bytes: usize) -> bool {
        if let Some(left) = self.left.checked_sub(bytes) {
            self.left = left;
            return true;
        }
        if self.left > 0 {
            self.left = 0;
            let message = format!(
                "the subscriptions expand to more than {} MiB of names, URLs and topics",
                MAX_BYTES >> 20
            );
            let help = "a fleet file is expanded once per merchant: split it into several files, or use shorter values";
            self.error(line, message, Some(help.to_owned()));
        }
        false
    }
}

/// The field checks of [`Problems`] (`ctx.get`, `ctx.unknown`, `ctx.error`).
impl<'a> Deref for Ctx<'a> {
    type Target = Problems<'a>;
    fn deref(&self) -> &Problems<'a> {
        &self.problems
    }
}

impl<'a> DerefMut for Ctx<'a> {
    fn deref_mut(&mut self) -> &mut Problems<'a> {
        &mut self.problems
    }
}
