//! What became of an apply: each change's [`Outcome`], the verification,
//! and one report per merchant. The words for outcomes live here, once.

use crate::plan::Change;
use crate::secret::Masking;

/// What happened to one change; `reason` in words reports show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded, or after an unknown outcome the list shows it.
    Done,
    /// A DELETE answered 400 or 404 for an id a fresh read no longer
    /// lists: someone deleted it first, as the plan wanted.
    AlreadyGone {
        reason: String,
    },
    Failed {
        reason: String,
    },
    Skipped {
        reason: String,
    },
    /// The run was interrupted first.
    NotStarted,
}

impl Outcome {
    /// In report order.
    pub const WORDS: [&'static str; 4] = ["done", "failed", "skipped", "not started"];

    pub fn as_str(&self) -> &'static str {
        Self::WORDS[self.index()]
    }

    /// Done, already gone included.
    pub fn is_done(&self) -> bool {
        self.index() == 0
    }

    pub fn index(&self) -> usize {
        match self {
            Outcome::Done | Outcome::AlreadyGone { .. } => 0,
            Outcome::Failed { .. } => 1,
            Outcome::Skipped { .. } => 2,
            Outcome::NotStarted => 3,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Done | Outcome::NotStarted => None,
            Outcome::AlreadyGone { reason } | Outcome::Failed { reason } | Outcome::Skipped { reason } => {
                Some(reason)
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct ChangeReport {
    pub change: Change,
    pub outcome: Outcome,
}

#[derive(Debug, Clone)]
pub enum Verification {
    Converged,
    /// Still different when time ran out, or all that is left will not
    /// change by waiting: `remaining`, the plan left; `foreign`, ids in it
    /// neither live before the run nor made by it (another writer's, left
    /// alone); `rewrites`, values the server stored other than sent.
    NotConverged {
        remaining: Vec<Change>,
        foreign: Vec<String>,
        rewrites: Vec<Rewrite>,
    },
    /// Live could not be read.
    Unknown {
        reason: String,
    },
}

impl Verification {
    pub fn as_str(&self) -> &'static str {
        match self {
            Verification::Converged => "converged",
            Verification::NotConverged { .. } => "not_converged",
            Verification::Unknown { .. } => "unknown",
        }
    }
}

/// A value the server stored other than it was sent (trimmed, lowercased):
/// the manifest should say what the server keeps, or every plan changes it
/// again. `field` is `name` or `callbackUrl`; `masking` the entry's
/// `maskPathSecrets`, for showing URLs (docs/secrets.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    pub id: String,
    pub field: &'static str,
    pub sent: String,
    pub stored: String,
    pub masking: Masking,
}

#[derive(Debug, Clone)]
pub struct MerchantReport {
    /// The merchant's label.
    pub merchant: String,
    /// In plan order.
    pub changes: Vec<ChangeReport>,
    /// Deletes of duplicates this run made (found by verification).
    pub cleaned_up: Vec<Change>,
    pub verification: Verification,
    pub interrupted: bool,
}

impl MerchantReport {
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self.changes.iter().all(|c| c.outcome.is_done())
            && matches!(self.verification, Verification::Converged)
    }
}
