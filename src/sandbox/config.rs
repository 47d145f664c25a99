//! [`SandboxConfig`]: everything a sandbox needs to start, as resolved
//! settings. A leaf.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

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
    /// How events are delivered to callback URLs (`POST /_sandbox/trigger`).
    pub deliveries: DeliveryConfig,
    /// How subscription ids are made (`--ids`).
    pub ids: Ids,
}

/// How the sandbox makes subscription ids (`--ids`). No client may rely on
/// ids sorting by creation time: random ones make a client that does fail.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Ids {
    /// UUID-shaped ids drawn from the faults' seed (`--seed`), in no
    /// order: the same seed gives the same ids.
    #[default]
    Random,
    /// `wh_000001`, `wh_000002`, …: readable, for demos and snapshots.
    Sequential,
}

/// How the sandbox delivers events: bounded attempts with doubling
/// backoff, each attempt bounded in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Attempts per subscription, the first included (at least 1):
    /// `retryCount` goes from 0 to `attempts - 1`.
    pub attempts: u32,
    /// Wait before the first retry; it doubles before each further one.
    pub backoff: Duration,
    /// How long one attempt may take (connect, send, answer).
    pub timeout: Duration,
}

impl Default for DeliveryConfig {
    /// 1 + 3 retries, after 0.5, 1 and 2 s; 5 s per attempt.
    fn default() -> Self {
        DeliveryConfig {
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
        }
    }
}

impl fmt::Debug for SandboxConfig {
    /// Shows how many keys there are, never the keys themselves.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("api_keys", &format_args!("[{} hidden]", self.api_keys.len()))
            .field("state_file", &self.state_file)
            .field("faults", &self.faults)
            .field("deliveries", &self.deliveries)
            .field("ids", &self.ids)
            .finish()
    }
}
