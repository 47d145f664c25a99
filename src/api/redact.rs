//! Keeping API keys out of text the tool prints: whatever a server echoes
//! back (an error `message`, an HTML page, a `Location`) is scrubbed of the
//! client's own key before it becomes an error or a log line, and the panic
//! hook scrubs every key this process has read.

use std::sync::{Mutex, PoisonError};

use super::envelope::BodyError;
use super::error::Failure;

/// Shown in place of a key.
const MASK: &str = "***";

/// Every key this process has read, for [`redact_known`].
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Records a key so that [`redact_known`] hides it.
pub(crate) fn remember(key: &str) {
    if key.is_empty() {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if !known.iter().any(|k| k == key) {
        known.push(key.to_owned());
    }
}

/// `text` with every key this process has read replaced by `***`: for
/// output that does not know which key it might hold (a panic message).
pub fn redact_known(text: &str) -> String {
    let known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    known.iter().fold(text.to_owned(), |text, key| scrub(&text, key))
}

/// `text` with `secret` replaced by `***`.
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_owned()
    } else {
        text.replace(secret, MASK)
    }
}

/// `failure` with `secret` scrubbed from every text it carries.
pub(crate) fn scrub_failure(failure: Failure, secret: &str) -> Failure {
    let s = |text: String| scrub(&text, secret);
    match failure {
        Failure::Status {
            status,
            message,
            retry_after,
        } => Failure::Status {
            status,
            message: message.map(s),
            retry_after,
        },
        Failure::WaitTooLong {
            status,
            message,
            asked,
            left,
        } => Failure::WaitTooLong {
            status,
            message: message.map(s),
            asked,
            left,
        },
        Failure::Connect(text) => Failure::Connect(s(text)),
        Failure::Dropped(text) => Failure::Dropped(s(text)),
        Failure::Body(BodyError::NotJson(text)) => Failure::Body(BodyError::NotJson(s(text))),
        Failure::Body(BodyError::Shape(text)) => Failure::Body(BodyError::Shape(s(text))),
        Failure::Body(BodyError::Incomplete(text)) => Failure::Body(BodyError::Incomplete(s(text))),
        Failure::Redirect(text) => Failure::Redirect(s(text)),
        Failure::Tls(text) => Failure::Tls(s(text)),
        other @ (Failure::Timeout(_) | Failure::TooLarge(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_keys_are_scrubbed_from_every_failure() {
        let key = "sk_live_redact_me";
        let status = reqwest::StatusCode::BAD_REQUEST;
        let failures = [
            Failure::Status {
                status,
                message: Some(format!("key {key} is not valid")),
                retry_after: None,
            },
            Failure::Connect(key.to_owned()),
            Failure::Dropped(key.to_owned()),
            Failure::Body(BodyError::NotJson(key.to_owned())),
            Failure::Body(BodyError::Shape(key.to_owned())),
            Failure::Body(BodyError::Incomplete(key.to_owned())),
            Failure::Redirect(format!("https://evil.example/{key}")),
            Failure::Tls(key.to_owned()),
            Failure::WaitTooLong {
                status,
                message: Some(key.to_owned()),
                asked: 3600,
                left: 120,
            },
        ];
        for failure in failures {
            let text = scrub_failure(failure, key).to_string();
            assert!(!text.contains(key), "{text}");
            assert!(text.contains(MASK), "{text}");
        }
    }

    #[test]
    fn known_keys_are_redacted() {
        remember("sk_live_known_one");
        remember("");
        let text = redact_known("a sk_live_known_one b");
        assert_eq!(text, "a *** b");
    }
}
