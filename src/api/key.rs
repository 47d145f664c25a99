//! The API key, and every key this process has read: the [`Keys`] matcher
//! values are masked with, and [`redact_known`], the last line of defence.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, PoisonError};

use crate::secret::Keys;

/// A merchant's private API key. Its `Debug` never shows the value.
#[derive(Clone)]
pub struct ApiKey(pub(super) String);

impl ApiKey {
    /// Remembers the key for [`known_keys`].
    pub fn new(key: String) -> Self {
        let (keys, matcher) = &mut *KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
        if !key.is_empty() && keys.insert(key.clone()) {
            *matcher = None;
        }
        Self(key)
    }

    /// A salted digest of the key (`sha256:`…): binds a saved plan to the
    /// key it was made with, without holding the key.
    pub fn digest(&self, salt: &str) -> String {
        crate::digest::sha256_json(&("invhooks-key-v1", salt, &self.0))
    }

    /// For a file that must not hold the key (saved plans, export).
    pub fn hide(&self, text: &str, placeholder: &str) -> String {
        text.replace(&self.0, placeholder)
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// Every key read, and their matcher, rebuilt on first use after new keys.
static KNOWN: Mutex<(BTreeSet<String>, Option<Arc<Keys>>)> = Mutex::new((BTreeSet::new(), None));

pub fn known_keys() -> Arc<Keys> {
    let (keys, matcher) = &mut *KNOWN.lock().unwrap_or_else(PoisonError::into_inner);
    Arc::clone(matcher.get_or_insert_with(|| Arc::new(Keys::new(keys.iter()))))
}

pub fn redact_known(text: &str) -> String {
    known_keys().replace(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_is_masked() {
        assert_eq!(format!("{:?}", ApiKey::new("sk_live_123".into())), "ApiKey(***)");
    }

    #[test]
    fn known_keys_are_redacted() {
        ApiKey::new("sk_live_known_one".into());
        ApiKey::new(String::new());
        let text = redact_known("a sk_live_known_one b");
        assert_eq!(text, "a *** b");
    }

    #[test]
    fn a_key_inside_another_is_masked_whole() {
        ApiKey::new("k".into());
        ApiKey::new("sk_live_outer_k_key".into());
        assert_eq!(redact_known("sk_live_outer_k_key k"), "*** ***");
    }
}
