//! Errors of one API call, classified by what they mean for a reconciler:
//! whether the request may have taken effect, and whether to retry.

use std::fmt;

use super::envelope::BodyError;

/// An HTTP method the tool uses; shown in every error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// List subscriptions.
    Get,
    /// Create a subscription.
    Post,
    /// Update a subscription.
    Put,
    /// Delete a subscription.
    Delete,
}

impl Method {
    /// Whether repeating the request can do no harm.
    pub fn is_idempotent(self) -> bool {
        matches!(self, Method::Get | Method::Put)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
        })
    }
}

/// What went wrong, without the request line (see [`ApiError`]).
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The server answered with a non-success status.
    #[error("{status}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// HTTP status code.
        status: reqwest::StatusCode,
        /// The envelope's `message`, when the body had one.
        message: Option<String>,
        /// `Retry-After`, in seconds, when the server sent one.
        retry_after: Option<u64>,
    },
    /// No connection could be made: the request was never sent.
    #[error("could not connect to {0}")]
    Connect(String),
    /// No complete answer within `--timeout`.
    #[error("no response within {0} s (the --timeout)")]
    Timeout(u64),
    /// The connection broke before a complete response arrived.
    #[error("the connection was closed before a complete response: {0}")]
    Dropped(String),
    /// The body was unreadable.
    #[error("{0}")]
    Body(#[from] BodyError),
    /// The body exceeded the size cap.
    #[error("the response is larger than {0} bytes; refusing to read it")]
    TooLarge(usize),
    /// A redirect not followed: to another origin (which would carry the
    /// key elsewhere), or one that would change a write into a GET.
    #[error(
        "the server redirected to `{0}`; not followed (only same-origin 307/308 redirects are, so the API key stays with the configured server and a write keeps its method); check --base-url"
    )]
    Redirect(String),
    /// The server's TLS certificate is not trusted (unknown issuer, wrong
    /// name, expired): verification is never turned off.
    #[error("the server's TLS certificate is not trusted: {0}")]
    Tls(String),
    /// The run was interrupted (SIGINT, SIGTERM) before the request was
    /// sent, or before it was sent again: `after` is what the attempt
    /// before said, if there was one.
    #[error(
        "interrupted before the request was sent{}",
        after.as_deref().map(|f| format!(" again (the last attempt: {f})")).unwrap_or_default()
    )]
    Interrupted {
        /// The previous attempt's failure.
        after: Option<Box<Failure>>,
    },
    /// A 429 or 503 whose `Retry-After` asks for a longer wait than is
    /// left of the retry budget: the call fails at once (nothing happened).
    #[error(
        "{status}{}; the server asked to wait {asked} s (`Retry-After`), longer than the {left} s left of the retry budget, so the call was not retried; re-run later",
        message.as_deref().map(|m| format!(": {m}")).unwrap_or_default()
    )]
    WaitTooLong {
        /// HTTP status code.
        status: reqwest::StatusCode,
        /// The envelope's `message`, when the body had one.
        message: Option<String>,
        /// Seconds the server asked for.
        asked: u64,
        /// Whole seconds left of the retry budget.
        left: u64,
    },
}

/// One failed API call: method, path and what happened.
#[derive(Debug, thiserror::Error)]
#[error("{method} {path} failed: {failure}")]
pub struct ApiError {
    /// The request's method.
    pub method: Method,
    /// The request's path (no host: the base URL is in the settings).
    pub path: String,
    /// What happened.
    pub failure: Failure,
}

impl ApiError {
    /// The request may be sent again as is: it certainly had no effect (no
    /// connection, 429), or repeating it does no harm (a 500, 502, 503 or
    /// 504, a timeout or a dropped connection on GET or PUT). A 502, 503 or
    /// 504 may come from a proxy that did forward the request, so on POST
    /// or DELETE it is an unknown outcome, never retried blindly.
    pub fn is_retryable(&self) -> bool {
        match &self.failure {
            Failure::Connect(_) => true,
            Failure::Status { status, .. } => match status.as_u16() {
                429 => true,
                500 | 502 | 503 | 504 => self.method.is_idempotent(),
                _ => false,
            },
            Failure::Timeout(_) | Failure::Dropped(_) => self.method.is_idempotent(),
            _ => false,
        }
    }

    /// The write may or may not have taken effect (a 500, 502, 503 or 504,
    /// a timeout or a dropped connection on POST, PUT or DELETE, after any
    /// retries): the caller must re-read the live list before deciding.
    /// An interrupted request is unknown when the attempt before it was.
    pub fn outcome_unknown(&self) -> bool {
        fn unknown(failure: &Failure) -> bool {
            match failure {
                Failure::Timeout(_) | Failure::Dropped(_) => true,
                Failure::Status { status, .. } => matches!(status.as_u16(), 500 | 502 | 503 | 504),
                Failure::Interrupted { after } => after.as_deref().is_some_and(unknown),
                _ => false,
            }
        }
        self.method != Method::Get && unknown(&self.failure)
    }

    /// The run was interrupted before this request was (re)sent.
    pub fn is_interrupted(&self) -> bool {
        matches!(self.failure, Failure::Interrupted { .. })
    }

    /// A 400 or 404: for a DELETE, the id may already be gone (the API
    /// answers 400 "no subscription with id" to an id another deleter
    /// removed), which only a fresh read can tell.
    pub fn is_not_found(&self) -> bool {
        matches!(&self.failure, Failure::Status { status, .. } if matches!(status.as_u16(), 400 | 404))
    }

    /// The server asked the client to slow down (429).
    pub fn is_throttled(&self) -> bool {
        matches!(&self.failure, Failure::Status { status, .. } if status.as_u16() == 429)
    }

    /// Seconds the server asked to wait, if it said.
    pub fn retry_after(&self) -> Option<u64> {
        match &self.failure {
            Failure::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// A status the API uses for a bad or missing key.
    pub fn is_auth(&self) -> bool {
        matches!(&self.failure, Failure::Status { status, .. } if matches!(status.as_u16(), 400 | 401 | 403))
    }
}
