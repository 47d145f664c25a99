//! [`SandboxConfig`]: everything a sandbox needs to start, as resolved
//! settings. A leaf.

use std::fmt;
use std::path::PathBuf;

use super::faults::Faults;

/// Everything a sandbox needs to start: resolved settings, no clap types.
#[derive(Clone, Default)]
pub struct SandboxConfig {
    /// Accepted API keys; each one is a merchant with its own subscriptions
    /// (named by a digest of the key, whatever their order). Keys must be distinct
    /// and non-empty.
    pub api_keys: Vec<String>,
    /// Where the state is loaded from and persisted to; `None` keeps it in
    /// memory only.
    pub state_file: Option<PathBuf>,
    /// Fault injection (none by default).
    pub faults: Faults,
}

impl fmt::Debug for SandboxConfig {
    /// Shows how many keys there are, never the keys themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("api_keys", &format_args!("[{} hidden]", self.api_keys.len()))
            .field("state_file", &self.state_file)
            .field("faults", &self.faults)
            .finish()
    }
}
