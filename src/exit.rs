//! The process exit codes, one documented enum (docs/commands/index.md
//! "Exit codes"); CI scripts depend on the numbers.

/// Ordered by code, so `apply` exits with the `max` of refused and failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Exit {
    /// Success; for `plan --detailed-exitcode` and `drift`: no changes.
    Success = 0,
    /// An error: nothing was applied, or the report says exactly what was.
    Error = 1,
    /// `plan --detailed-exitcode` / `drift`: changes present.
    Changes = 2,
    /// `apply` refused by a safety rule: nothing was changed.
    Refused = 3,
}

impl Exit {
    /// `self` when `cond` holds, else `Success`.
    pub fn when(self, cond: bool) -> Exit {
        if cond {
            self
        } else {
            Exit::Success
        }
    }
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
