//! What became of an apply: each change's [`Outcome`], the verification,
//! and one report per merchant. The words for outcomes live here, once.

use crate::plan::Change;

/// What happened to one change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The call succeeded (or, after an unknown outcome, the live list shows
    /// it took effect).
    Done,
    /// A delete answered 400 or 404 for an id that a fresh read no longer
    /// lists: someone else deleted it first. Done, as the plan wanted.
    AlreadyGone {
        /// `already gone:` and what the DELETE was answered.
        reason: String,
    },
    /// The call failed; `reason` is the error.
    Failed {
        /// Why.
        reason: String,
    },
    /// Not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
    /// Not started: the run was interrupted first.
    NotStarted,
}

impl Outcome {
    /// Every outcome's word, in report order.
    pub const WORDS: [&'static str; 4] = ["done", "failed", "skipped", "not started"];

    /// The word reports use: `done`, `failed`, `skipped`.
    pub fn as_str(&self) -> &'static str {
        Self::WORDS[self.index()]
    }

    /// Whether the change is done (already gone included).
    pub fn is_done(&self) -> bool {
        self.index() == 0
    }

    /// Position in [`Outcome::WORDS`].
    pub fn index(&self) -> usize {
        match self {
            Outcome::Done | Outcome::AlreadyGone { .. } => 0,
            Outcome::Failed { .. } => 1,
            Outcome::Skipped { .. } => 2,
            Outcome::NotStarted => 3,
        }
    }

    /// Why it failed or was skipped, or how a delete was already gone.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Done | Outcome::NotStarted => None,
            Outcome::AlreadyGone { reason } | Outcome::Failed { reason } | Outcome::Skipped { reason } => {
                Some(reason)
            }
        }
    }
}

/// A change and its outcome.
#[derive(Debug, Clone)]
pub struct ChangeReport {
    /// The planned change.
    pub change: Change,
    /// What happened.
    pub outcome: Outcome,
}

/// Whether live matched the manifest after the calls.
#[derive(Debug, Clone)]
pub enum Verification {
    /// Live equals the manifest.
    Converged,
    /// Still different when time ran out (or all that is left is another
    /// writer's): what is left to do.
    NotConverged {
        /// The plan that remains.
        remaining: Vec<Change>,
        /// Ids among `remaining` that were neither live before the run nor
        /// made by it: another writer is active. Left alone.
        foreign: Vec<String>,
        /// Values the server stored differently from what was sent: the
        /// manifest should say what the server keeps, or every plan will
        /// change them again.
        rewrites: Vec<Rewrite>,
    },
    /// The live list could not be read.
    Unknown {
        /// Why.
        reason: String,
    },
}

impl Verification {
    /// The word reports use: `converged`, `not_converged`, `unknown`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Verification::Converged => "converged",
            Verification::NotConverged { .. } => "not_converged",
            Verification::Unknown { .. } => "unknown",
        }
    }
}

/// A value the server stored other than it was sent (trimmed, lowercased).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewrite {
    /// The subscription.
    pub id: String,
    /// `name` or `callbackUrl`.
    pub field: &'static str,
    /// What this run sent (the manifest's value).
    pub sent: String,
    /// What the server stores.
    pub stored: String,
    /// How reports show the two values when they are URLs: the manifest
    /// entry's `maskPathSecrets` (README "Secrets").
    pub masking: crate::secret::Masking,
}

/// The result of applying one merchant's plan.
#[derive(Debug, Clone)]
pub struct MerchantReport {
    /// The merchant's label.
    pub merchant: String,
    /// Every planned change with its outcome, in plan order.
    pub changes: Vec<ChangeReport>,
    /// Deletes of duplicates this run caused (found by verification).
    pub cleaned_up: Vec<Change>,
    /// The verification result.
    pub verification: Verification,
    /// An interrupt stopped the run before every call was made.
    pub interrupted: bool,
}

impl MerchantReport {
    /// True when every change is done, live matches the manifest, and no
    /// interrupt cut the run short.
    pub fn succeeded(&self) -> bool {
        !self.interrupted
            && self.changes.iter().all(|c| c.outcome.is_done())
            && matches!(self.verification, Verification::Converged)
    }
}
