//! What became of an apply: each change's [`Outcome`], the verification,
//! one report per merchant.

use crate::plan::Change;
use crate::secret::Masking;

/// What happened to one change; the reason in words reports show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded, or after an unknown outcome the list shows it.
    Done,
    /// A DELETE answered 400 or 404 for an id a fresh read no longer lists.
    AlreadyGone(String),
    Failed(String),
    Skipped(String),
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
            Outcome::Done | Outcome::AlreadyGone(_) => 0,
            Outcome::Failed(_) => 1,
            Outcome::Skipped(_) => 2,
            Outcome::NotStarted => 3,
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Done | Outcome::NotStarted => None,
            Outcome::AlreadyGone(reason) | Outcome::Failed(reason) | Outcome::Skipped(reason) => Some(reason),
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
    /// Still different at the deadline, or what is left will not change by
    /// waiting: `foreign`, another writer's ids (left alone).
    NotConverged {
        remaining: Vec<Change>,
        foreign: Vec<String>,
        rewrites: Vec<Rewrite>,
    },
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

/// A value the server stored other than sent (trimmed, lowercased): the
/// manifest should say what it keeps. `field`: `name` or `callbackUrl`.
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
