//! SHA-256 digests as text (`sha256:` and 64 hex digits): the one hash
//! behind saved-plan fingerprints, manifest digests and drift fingerprints.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// Hex SHA-256 of `bytes`, prefixed `sha256:`.
pub fn sha256(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256:");
    for byte in digest {
        let _ = write!(out, "{byte:02x}");
    }
    out
}

/// [`sha256`] of a value's compact JSON (a tuple of strings, say): a
/// digest over several fields with no ambiguity where one ends.
pub fn sha256_json(value: &impl serde::Serialize) -> String {
    // Tuples and arrays of strings, numbers and options always serialise.
    sha256(serde_json::to_string(value).unwrap_or_default().as_bytes())
}
