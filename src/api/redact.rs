//! Keeping API keys out of text the tool prints: the registry of every key
//! this process has read ([`known_keys`], a [`Keys`] matcher passed to
//! whatever masks values), and, with it, whatever a server echoes back (an
//! error `message`, an HTML page, a `Location`) is scrubbed before it
//! becomes an error or a log line; the panic hook and `Context::emit`
//! redact every output line with it, the last line of defence.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use super::envelope::BodyError;
use super::error::Failure;
use crate::secret::{Keys, MASK};

/// Every key this process has read, and their [`Keys`] matcher, rebuilt on
/// first use after new keys arrived (reading a thousand keys builds it
/// once, not a thousand times).
static KNOWN: Mutex<Known> = Mutex::new(Known {
    keys: BTreeSet::new(),
    matcher: None,
});

struct Known {
    keys: BTreeSet<String>,
    matcher: Option<Arc<Keys>>,
}

/// Records a key so that every later [`known_keys`] masks it.
pub(crate) fn remember(key: &str) {
    if key.is_empty() {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if known.keys.insert(key.to_owned()) {
        known.matcher = None;
    }
}

/// Every key this process has read so far, to mask values with: what
/// `commands` passes to the renderers, and what [`redact_known`] uses.
pub fn known_keys() -> Arc<Keys> {
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    let Known { keys, matcher } = &mut *known;
    Arc::clone(matcher.get_or_insert_with(|| Arc::new(Keys::new(keys.iter()))))
}

/// `text` with every key this process has read replaced by `***` (a
/// short key only as a whole token): the last line of defence for output
/// that does not know which key it might hold (a panic message, a line
/// about to be written).
pub fn redact_known(text: &str) -> String {
    known_keys().replace(text).into_owned()
}

/// The first `len` bytes of `body` (lossy UTF-8, line breaks as spaces)
/// for an error message, with every key this process has read masked
/// *before* the cut, so no part of a key that crosses it survives.
pub(crate) fn excerpt(body: &[u8], len: usize) -> String {
    let mut keys = known_keys().find(body);
    keys.sort_by_key(|r| r.start);
    let mut out = Vec::with_capacity(len + MASK.len());
    let mut pos = 0;
    for key in keys {
        if key.end <= pos {
            continue;
        }
        let start = key.start.max(pos);
        if out.len() + (start - pos) >= len {
            break;
        }
        out.extend_from_slice(&body[pos..start]);
        out.extend_from_slice(MASK.as_bytes());
        pos = key.end;
        if out.len() >= len {
            break;
        }
    }
    let room = len.saturating_sub(out.len());
    out.extend_from_slice(&body[pos..body.len().min(pos + room)]);
    out.truncate(len);
    String::from_utf8_lossy(&out).replace(['\n', '\r'], " ")
}

/// `failure` with every key this process has read scrubbed from every
/// text it carries (the server's words reach reports and errors).
pub(crate) fn scrub_failure(failure: Failure) -> Failure {
    let keys = known_keys();
    let s = |text: String| keys.replace(&text).into_owned();
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
        Failure::Interrupted { after } => Failure::Interrupted {
            after: after.map(|f| Box::new(scrub_failure(*f))),
        },
        other @ (Failure::Timeout(_) | Failure::TooLarge(_)) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echoed_keys_are_scrubbed_from_every_failure() {
        let key = "sk_live_redact_me";
        remember(key);
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
            let text = scrub_failure(failure).to_string();
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

    #[test]
    fn a_key_inside_another_is_masked_whole() {
        remember("k");
        remember("sk_live_outer_k_key");
        assert_eq!(redact_known("sk_live_outer_k_key k"), "*** ***");
    }

    #[test]
    fn excerpts_are_scrubbed_before_they_are_cut() {
        let key = "sk_live_excerpt_0123456789abcdef";
        remember(key);
        for pad in 0..80 {
            let body = format!("{}Invalid API key: {key} and more text after it", "x".repeat(pad));
            let text = excerpt(body.as_bytes(), 60);
            assert!(text.len() <= 60, "{text}");
            for piece in key.as_bytes().windows(6) {
                let piece = std::str::from_utf8(piece).unwrap_or_default();
                assert!(!text.contains(piece), "pad {pad}: {text}");
            }
        }
        assert_eq!(excerpt(format!("{key}{key}\nyes").as_bytes(), 60), "****** yes");
        assert_eq!(excerpt(b"short", 60), "short");
    }
}
