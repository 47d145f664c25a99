//! Keeping API keys out of text the tool prints: whatever a server echoes
//! back (an error `message`, an HTML page, a `Location`) is scrubbed of the
//! client's own key before it becomes an error or a log line, and the panic
//! hook scrubs every key this process has read.

use std::collections::BTreeSet;
use std::sync::{Mutex, PoisonError};

use aho_corasick::{AhoCorasick, MatchKind};

use super::envelope::BodyError;
use super::error::Failure;

/// Shown in place of a key.
const MASK: &str = "***";

/// Every key this process has read, for [`redact_known`].
static KNOWN: Mutex<Known> = Mutex::new(Known {
    keys: BTreeSet::new(),
    automaton: None,
    stale: false,
});

/// The keys, and one automaton that finds them all in a single pass,
/// leftmost-longest (so a key that contains another is masked whole). The
/// automaton is rebuilt when first used after new keys arrived, so reading
/// a thousand keys builds it once, not a thousand times.
struct Known {
    keys: BTreeSet<String>,
    automaton: Option<AhoCorasick>,
    stale: bool,
}

impl Known {
    /// The keys, with the automaton built over all of them.
    fn get() -> std::sync::MutexGuard<'static, Known> {
        let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
        if known.stale {
            // Building fails only past size limits far beyond a few
            // thousand keys; should it, `redact_known` falls back to plain
            // replacements and `excerpt` withholds the excerpt.
            known.automaton = AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(&known.keys)
                .ok();
            known.stale = false;
        }
        known
    }

    /// Every non-overlapping key in `bytes`, leftmost-longest first, as
    /// byte ranges.
    fn find(&self, bytes: &[u8]) -> Vec<std::ops::Range<usize>> {
        match &self.automaton {
            Some(automaton) => automaton.find_iter(bytes).map(|m| m.range()).collect(),
            None => Vec::new(),
        }
    }
}

/// Records a key so that [`redact_known`] hides it.
pub(crate) fn remember(key: &str) {
    if key.is_empty() {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    if known.keys.insert(key.to_owned()) {
        known.stale = true;
    }
}

/// `text` with every key this process has read replaced by `***`: for
/// output that does not know which key it might hold (a panic message).
pub fn redact_known(text: &str) -> String {
    let known = Known::get();
    match &known.automaton {
        Some(automaton) => {
            let mut out = String::with_capacity(text.len());
            automaton.replace_all_with(text, &mut out, |_, _, out| {
                out.push_str(MASK);
                true
            });
            out
        }
        None => {
            let mut keys: Vec<&String> = known.keys.iter().collect();
            keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
            keys.into_iter()
                .fold(text.to_owned(), |text, key| scrub(&text, key))
        }
    }
}

/// The first `len` bytes of `body` (lossy UTF-8, line breaks as spaces)
/// for an error message, with every key this process has read masked
/// *before* the cut, so no part of a key that crosses it survives.
pub(crate) fn excerpt(body: &[u8], len: usize) -> String {
    let known = Known::get();
    if known.automaton.is_none() && !known.keys.is_empty() {
        return "(excerpt withheld)".to_owned();
    }
    let mut out = Vec::with_capacity(len + MASK.len());
    let mut pos = 0;
    for key in known.find(body) {
        if out.len() + (key.start - pos) >= len {
            break;
        }
        out.extend_from_slice(&body[pos..key.start]);
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
        Failure::Interrupted { after } => Failure::Interrupted {
            after: after.map(|f| Box::new(scrub_failure(*f, secret))),
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
