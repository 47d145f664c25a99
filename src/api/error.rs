//! Errors of one API call: may the request have taken effect, and may it be retried.

use reqwest::{Method, StatusCode};

use super::envelope::BodyError;
use super::known_keys;
use crate::apply::CallError;

/// What went wrong, without the request line; server text scrubbed of keys ([`Failure::scrub`]).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// `gave_up`: the retry budget left when `Retry-After` asked for more (failed at once).
    #[error(
        "{status}{}{}",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default(),
        gave_up.map(|left| format!("; the server asked to wait {} s (`Retry-After`), longer than the {left} s left of the retry budget, so the call was not retried; re-run later", retry_after.unwrap_or_default())).unwrap_or_default()
    )]
    Status {
        status: StatusCode,
        message: Option<String>,
        retry_after: Option<u64>,
        gave_up: Option<u64>,
    },
    /// The request was never sent.
    #[error("could not connect to {0}")]
    Connect(String),
    #[error("no response within {0} s (the --timeout)")]
    Timeout(u64),
    #[error("the connection was closed before a complete response: {0}")]
    Dropped(String),
    #[error("{0}")]
    Body(#[from] BodyError),
    #[error("the response is larger than {0} bytes; refusing to read it")]
    TooLarge(usize),
    /// A redirect that would carry the key elsewhere, or turn a write into a GET.
    #[error(
        "the server redirected to `{0}`; not followed (only same-origin 307/308 redirects are, so the API key stays with the configured server and a write keeps its method); check --base-url"
    )]
    Redirect(String),
    /// Verification is never turned off.
    #[error("the server's TLS certificate is not trusted: {0}")]
    Tls(String),
    /// A stop came before the request was (re)sent; `after`: the last try.
    #[error(
        "interrupted before the request was sent{}",
        after.as_deref().map(|f| format!(" again (the last attempt: {f})")).unwrap_or_default()
    )]
    Interrupted { after: Option<Box<Failure>> },
}

impl Failure {
    /// Scrubs every key read from every text this failure carries.
    pub(crate) fn scrub(&mut self) {
        let text = match self {
            Failure::Status {
                message: Some(text), ..
            }
            | Failure::Connect(text)
            | Failure::Dropped(text)
            | Failure::Redirect(text)
            | Failure::Tls(text)
            | Failure::Body(
                BodyError::NotJson(text) | BodyError::Shape(text) | BodyError::Incomplete(text),
            ) => text,
            Failure::Interrupted { after: Some(after) } => return after.scrub(),
            _ => return,
        };
        *text = known_keys().replace(text).into_owned();
    }

    /// A 500/502/503/504 (maybe a proxy's), a timeout, a dropped connection, or a stop after one.
    fn may_have_arrived(&self) -> bool {
        match self {
            Failure::Timeout(_) | Failure::Dropped(_) => true,
            Failure::Status {
                status,
                gave_up: None,
                ..
            } => matches!(status.as_u16(), 500 | 502 | 503 | 504),
            Failure::Interrupted { after } => after.as_deref().is_some_and(Failure::may_have_arrived),
            _ => false,
        }
    }
}

/// One failed API call: method, path (no host) and what happened.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path} failed: {failure}")]
pub struct ApiError {
    pub method: Method,
    pub path: String,
    pub failure: Failure,
}

impl ApiError {
    pub fn status(&self) -> Option<u16> {
        match &self.failure {
            Failure::Status { status, .. } => Some(status.as_u16()),
            _ => None,
        }
    }

    /// Certainly had no effect (no connection, 429), or repeating is harmless (GET, PUT).
    pub fn is_retryable(&self) -> bool {
        let repeatable = matches!(self.method, Method::GET | Method::PUT);
        match &self.failure {
            Failure::Connect(_) => true,
            Failure::Interrupted { .. } => false,
            failure => self.is_throttled() || (failure.may_have_arrived() && repeatable),
        }
    }

    /// The server asked the client to slow down (429).
    pub fn is_throttled(&self) -> bool {
        matches!(&self.failure, Failure::Status { status, .. } if status.as_u16() == 429)
    }

    pub fn retry_after(&self) -> Option<u64> {
        match &self.failure {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A status the API uses for a bad or missing key.
    pub fn is_auth(&self) -> bool {
        matches!(self.status(), Some(400 | 401 | 403))
    }
}

impl CallError for ApiError {
    fn outcome_unknown(&self) -> bool {
        self.method != Method::GET && self.failure.may_have_arrived()
    }

    fn is_interrupted(&self) -> bool {
        matches!(self.failure, Failure::Interrupted { .. })
    }

    fn is_not_found(&self) -> bool {
        matches!(self.status(), Some(400 | 404))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::MASK;

    #[test]
    fn echoed_keys_are_scrubbed_from_every_failure() {
        let key = "sk_live_redact_me";
        crate::api::ApiKey::new(key.to_owned());
        let status = StatusCode::BAD_REQUEST;
        let failures = [
            Failure::Status {
                status,
                message: Some(format!("key {key} is not valid")),
                retry_after: None,
                gave_up: None,
            },
            Failure::Connect(key.to_owned()),
            Failure::Dropped(key.to_owned()),
            Failure::Body(BodyError::NotJson(key.to_owned())),
            Failure::Body(BodyError::Shape(key.to_owned())),
            Failure::Body(BodyError::Incomplete(key.to_owned())),
            Failure::Redirect(format!("https://evil.example/{key}")),
            Failure::Tls(key.to_owned()),
            Failure::Status {
                status,
                message: Some(key.to_owned()),
                retry_after: Some(3600),
                gave_up: Some(120),
            },
            Failure::Interrupted {
                after: Some(Box::new(Failure::Dropped(key.to_owned()))),
            },
        ];
        for mut failure in failures {
            failure.scrub();
            let text = failure.to_string();
            assert!(!text.contains(key), "{text}");
            assert!(text.contains(MASK), "{text}");
        }
    }
}
