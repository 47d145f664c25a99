//! The accepted API keys: which key is which merchant (a labelled digest, so keys may be reordered
//! between runs), and every key kept out of what the sandbox stores and says.

use std::sync::{PoisonError, RwLock, RwLockReadGuard};

use anyhow::ensure;
use sha2::{Digest, Sha256};

const LABEL: &[u8] = b"invhooks sandbox merchant v1\0";
const QUOTE_LIMIT: usize = 100;

/// `m_` and the first 16 hex digits of SHA-256(label ‖ key).
pub(crate) fn merchant_id(key: &str) -> String {
    let digest = Sha256::new().chain_update(LABEL).chain_update(key).finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("m_{hex}")
}

/// [`Sandbox::seed`](super::Sandbox::seed) may add one while it runs.
pub(crate) struct AcceptedKeys(RwLock<Vec<String>>);

impl AcceptedKeys {
    pub(crate) fn new(api_keys: &[String]) -> anyhow::Result<AcceptedKeys> {
        for (index, key) in api_keys.iter().enumerate() {
            let number = index + 1;
            ensure!(!key.is_empty(), "API key number {number} is empty");
            ensure!(
                !api_keys[..index].contains(key),
                "API key number {number} repeats an earlier key; each key is one merchant"
            );
        }
        Ok(AcceptedKeys(RwLock::new(api_keys.to_vec())))
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<String>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn merchant(&self, key: &str) -> Option<String> {
        self.read().iter().any(|k| k == key).then(|| merchant_id(key))
    }

    /// Accepts `key` (an empty key never); its merchant id.
    pub(crate) fn add(&self, key: &str) -> String {
        let mut keys = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if !key.is_empty() && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
        merchant_id(key)
    }

    pub(crate) fn occur_in(&self, text: &str) -> bool {
        self.read().iter().any(|key| text.contains(key.as_str()))
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let scrub = |text: String, key: &String| text.replace(key.as_str(), "***");
        self.read().iter().fold(text.to_owned(), scrub)
    }

    /// The one place quoted request text is scrubbed: no backtick or control character, keys
    /// scrubbed before the cut (no piece survives).
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
        assert_eq!(id.len(), 2 + 16);
        assert!(id.starts_with("m_") && id[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id, merchant_id("sk_test_secret_one"), "stable across runs");
        assert_ne!(id, merchant_id("sk_test_secret_two"));
        // Not the plain SHA-256 of the key.
        let plain = Sha256::digest(b"sk_test_secret_one");
        assert_ne!(&id[2..4], format!("{:02x}", plain[0]));
    }

    #[test]
    fn keys_are_distinct_and_non_empty() {
        let Err(err) = AcceptedKeys::new(&["a".into(), "a".into()]) else {
            panic!("a repeated key was accepted");
        };
        assert!(err.to_string().contains("number 2 repeats"), "{err}");
        assert!(AcceptedKeys::new(&[String::new()]).is_err());
        let keys = AcceptedKeys::new(&["a".into(), "b".into()]).unwrap();
        assert_eq!(keys.merchant("b"), Some(merchant_id("b")));
        assert_eq!(keys.merchant("c"), None);
        assert_eq!(keys.add("c"), merchant_id("c"));
        assert_eq!(keys.merchant("c"), Some(merchant_id("c")));
    }

    #[test]
    fn quoting_scrubs_every_key_before_it_cuts() {
        let keys = AcceptedKeys::new(&["sk_live_0123456789".into()]).unwrap();
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
