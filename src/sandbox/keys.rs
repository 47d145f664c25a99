//! The configured API keys: which key is which merchant, and keeping every
//! key out of what the sandbox stores and says.
//!
//! A merchant is named by a labelled SHA-256 digest of its key
//! ([`merchant_id`]), never by the key or by its position among the
//! `--api-key` flags: the state file and `merchantId` hold the digest, so
//! restarting with the keys reordered, or with one added, gives every
//! merchant its own subscriptions. Every piece of request text a reply
//! quotes passes through [`Keys::quote`], the one place that scrubs keys.

use std::sync::{PoisonError, RwLock};

use anyhow::ensure;
use sha2::{Digest, Sha256};

/// Prefixed to a key before it is hashed, so the digest is the sandbox's
/// own (it matches no plain SHA-256 of the key found elsewhere).
const LABEL: &[u8] = b"invhooks sandbox merchant v1\0";
/// Hex digits of the digest kept in a merchant id (64 bits).
const ID_HEX: usize = 16;
/// What a key is replaced with in quoted text.
const MASK: &str = "***";
/// Longest request text quoted back in a message.
const QUOTE_LIMIT: usize = 100;

/// The merchant id of `key`: `m_` and the first 16 hex digits of
/// SHA-256(label ‖ key).
pub(crate) fn merchant_id(key: &str) -> String {
    let digest = Sha256::new()
        .chain_update(LABEL)
        .chain_update(key.as_bytes())
        .finalize();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("m_{}", &hex[..ID_HEX])
}

/// The keys the sandbox accepts; [`Sandbox::seed`](super::Sandbox::seed)
/// may add one while it runs.
#[derive(Default)]
pub(crate) struct Keys(RwLock<Vec<String>>);

impl std::fmt::Debug for Keys {
    /// How many keys there are, never the keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Keys([{} hidden])", self.read().len())
    }
}

impl Keys {
    /// Checks the keys: non-empty, distinct, and distinct merchant ids.
    pub(crate) fn new(api_keys: &[String]) -> anyhow::Result<Keys> {
        let mut ids = Vec::with_capacity(api_keys.len());
        for (index, key) in api_keys.iter().enumerate() {
            ensure!(!key.is_empty(), "API key number {} is empty", index + 1);
            let id = merchant_id(key);
            ensure!(
                !ids.contains(&id),
                "API key number {} repeats an earlier key; each key is one merchant",
                index + 1
            );
            ids.push(id);
        }
        Ok(Keys(RwLock::new(api_keys.to_vec())))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Vec<String>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// The merchant id of `key`, if it is an accepted key.
    pub(crate) fn merchant(&self, key: &str) -> Option<String> {
        self.read().iter().any(|k| k == key).then(|| merchant_id(key))
    }

    /// Accepts `key` from now on (an empty key is never accepted); returns
    /// its merchant id.
    pub(crate) fn add(&self, key: &str) -> String {
        let mut keys = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if !key.is_empty() && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
        merchant_id(key)
    }

    /// Whether `text` contains an accepted key.
    pub(crate) fn occur_in(&self, text: &str) -> bool {
        self.read().iter().any(|key| text.contains(key.as_str()))
    }

    /// `text` with every accepted key replaced by `***`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for key in self.read().iter() {
            if out.contains(key.as_str()) {
                out = out.replace(key.as_str(), MASK);
            }
        }
        out
    }

    /// Request text as a message quotes it: without backticks or control
    /// characters (so it cannot break the message's quoting), every key
    /// scrubbed, then cut to a readable length. Scrubbed before it is cut,
    /// so no part of a key survives the cut.
    pub(crate) fn quote(&self, text: &str) -> String {
        let clean: String = text.chars().filter(|c| !c.is_control() && *c != '`').collect();
        let scrubbed = self.scrub(&clean);
        let mut out: String = scrubbed.chars().take(QUOTE_LIMIT).collect();
        if scrubbed.chars().count() > QUOTE_LIMIT {
            out.push('…');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn merchant_ids_are_labelled_digests_of_the_key() {
        let id = merchant_id("sk_test_secret_one");
        assert_eq!(id.len(), 2 + ID_HEX);
        assert!(id.starts_with("m_") && id[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id, merchant_id("sk_test_secret_one"), "stable across runs");
        assert_ne!(id, merchant_id("sk_test_secret_two"));
        // Not the plain SHA-256 of the key.
        let plain = Sha256::digest(b"sk_test_secret_one");
        assert_ne!(&id[2..4], format!("{:02x}", plain[0]));
    }

    #[test]
    fn keys_are_distinct_and_non_empty() {
        let err = Keys::new(&["a".into(), "a".into()]).unwrap_err();
        assert!(err.to_string().contains("number 2 repeats"), "{err}");
        assert!(Keys::new(&[String::new()]).is_err());
        let keys = Keys::new(&["a".into(), "b".into()]).unwrap();
        assert_eq!(keys.merchant("b"), Some(merchant_id("b")));
        assert_eq!(keys.merchant("c"), None);
        assert_eq!(keys.add("c"), merchant_id("c"));
        assert_eq!(keys.merchant("c"), Some(merchant_id("c")));
    }

    #[test]
    fn quoting_scrubs_every_key_before_it_cuts() {
        let keys = Keys::new(&["sk_live_0123456789".into()]).unwrap();
        assert_eq!(keys.quote("a`b\nc"), "abc");
        assert_eq!(keys.quote("x-sk_live_0123456789-y"), "x-***-y");
        // A key split by a control character is joined, then scrubbed.
        assert_eq!(keys.quote("sk_live_01234\n56789"), "***");
        // A key across the cut leaves no piece behind.
        let long = format!("{}sk_live_0123456789", "a".repeat(95));
        let quoted = keys.quote(&long);
        assert!(!quoted.contains("sk_live"), "{quoted}");
        assert!(quoted.ends_with("***"), "{quoted}");
    }
}
