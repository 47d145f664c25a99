//! [`Ctx`]: what one file's values are checked against (the environment, the
//! merchant's key, the expansion budget); it derefs to the file's [`Problems`].

use std::ops::{Deref, DerefMut};
use std::path::Path;

use super::fields::DEFAULT_API_KEY_ENV;
use super::record::Problems;
use super::yaml::MAX_BYTES;
use crate::model::Location;

/// The lookup of `${VAR}`s (injected: the core reads no environment).
pub(super) type Env<'a> = &'a (dyn Fn(&str) -> Option<String> + Sync);

pub(super) struct Ctx<'a> {
    pub(super) problems: Problems<'a>,
    pub(super) env: Env<'a>,
    /// The variable holding this merchant's API key (`apiKeyEnv`), which no value may use.
    pub(super) key_env: String,
    /// Its value, trimmed, when set and not blank: no value may contain it.
    pub(super) key: Option<String>,
    /// The fleet merchant whose values are checked, for messages about its `vars`.
    pub(super) merchant: Option<String>,
    /// Bytes the file's expanded values may still take (every merchant's of a fleet).
    pub(super) left: usize,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(file: &'a Path, env: Env<'a>) -> Self {
        let problems = Problems::new(file);
        let mut ctx = Ctx {
            problems,
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

    pub(super) fn location(&self, line: usize) -> Location {
        Location {
            file: self.file.to_path_buf(),
            line,
        }
    }

    /// Counts `bytes` of expanded values against [`MAX_BYTES`] (each subscription
    /// holds its own name, URL and topic), reporting the first overrun at `line`.
    pub(super) fn spend(&mut self, line: usize, bytes: usize) -> bool {
        if let Some(left) = self.left.checked_sub(bytes) {
            self.left = left;
            return true;
        }
        if self.left > 0 {
            self.left = 0;
            let mib = MAX_BYTES >> 20;
            let message =
                format!("the subscriptions expand to more than {mib} MiB of names, URLs and topics");
            let help = "a fleet file is expanded once per merchant: split it into several files, or use shorter values";
            self.error(line, message, help);
        }
        false
    }
}

/// The field checks of [`Problems`]: `ctx.get`, `ctx.unknown`, `ctx.error`.
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
