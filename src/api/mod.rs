//! The HTTP client of Inveterate's webhook-subscriptions API: one resource,
//! four verbs, the `{message, data}` envelope, the key in a header.
//!
//! Security rules live here, where the key is used: the key is sent only to
//! the base URL's origin (`https://`, or `http://` on loopback), redirects to
//! another origin are refused, bodies are capped, and the key never appears
//! in a log line or an error.
//!
//! | file | owns |
//! | --- | --- |
//! | `base_url.rs` | parsing and checking `--base-url` |
//! | `client.rs` | [`Client`] construction (headers, TLS roots, redirects) and the four verbs |
//! | `send.rs` | sending one request: retries, pacing, body cap, logs |
//! | `envelope/` | reading the `{message, data}` envelope and the list in it |
//! | `error.rs` | what a failure means: retry? outcome unknown? |
//! | `retry.rs`, `pace.rs` | backoff and `Retry-After`; adaptive pacing under 429s |
//! | `redact.rs` | keeping keys out of every text |

mod base_url;
mod client;
pub mod envelope;
mod error;
pub mod pace;
mod redact;
mod retry;
mod send;

pub use base_url::{is_loopback, parse_base_url, BaseUrlError};
pub use client::{Client, ClientOptions, Http, LogSink};
pub use error::{ApiError, Failure, Method};
pub use redact::{known_keys, redact_known};
pub use retry::{Attempts, RetryPolicy};

/// The resource path under the base URL.
pub const RESOURCE: &str = "admin/webhook-subscriptions";
/// The header that carries the key.
pub const KEY_HEADER: &str = "X-Inveterate-Api-Key";
/// Default base URL of the real API.
pub const DEFAULT_BASE_URL: &str = "https://public.inveterateapi.com/v2.0";
/// Largest response body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// A merchant's private API key. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key read from the environment.
    pub fn new(key: String) -> Self {
        redact::remember(&key);
        Self(key)
    }

    /// A salted digest of the key (`sha256:`…): binds a saved plan to the
    /// key it was made with, without holding the key.
    pub fn digest(&self, salt: &str) -> String {
        crate::digest::sha256_json(&("invhooks-key-v1", salt, &self.0))
    }

    /// `text` with the key replaced by `placeholder` (for a file that must
    /// not hold the key: saved plans).
    pub fn hide(&self, text: &str, placeholder: &str) -> String {
        text.replace(&self.0, placeholder)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_is_masked() {
        assert_eq!(format!("{:?}", ApiKey::new("sk_live_123".into())), "ApiKey(***)");
    }
}
