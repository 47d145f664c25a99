//! The HTTP client of Inveterate's webhook-subscriptions API; the security
//! rules live here, where the key is used (ARCHITECTURE.md "Invariants").

mod base_url;
mod client;
pub mod envelope;
mod error;
mod key;
mod pace;
mod send;

pub use base_url::{is_inveterate, BaseUrl, BaseUrlError, ALLOW_INSECURE_ENV};
pub use client::{Client, ClientOptions, Http, LogSink};
pub use error::{ApiError, Failure};
pub use key::{known_keys, redact_known, ApiKey};
pub use reqwest::Method;
pub use send::RetryPolicy;

/// The resource path under the base URL.
pub const RESOURCE: &str = "admin/webhook-subscriptions";
pub const KEY_HEADER: &str = "X-Inveterate-Api-Key";
pub const DEFAULT_BASE_URL: &str = "https://public.inveterateapi.com/v2.0";
/// Largest response body read.
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
