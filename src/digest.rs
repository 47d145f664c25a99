//! SHA-256 as text (`sha256:` and 64 hex digits): the one hash behind
//! saved-plan fingerprints, manifest digests and drift fingerprints.

use sha2::{Digest, Sha256};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// [`sha256`] of a value's compact JSON: a digest over several fields with
/// no ambiguity where one ends.
pub fn sha256_json(value: &impl serde::Serialize) -> String {
    // Tuples and arrays of strings, numbers and options always serialise.
    sha256(serde_json::to_string(value).unwrap_or_default().as_bytes())
}
