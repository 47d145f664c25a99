//! A guess at each manifest's merchant label and key variable from its
//! top-level lines, made before the files are parsed, so that the live
//! lists of a big store or a big fleet can be read while they are
//! validated (README "Big stores"). Only a guess: the caller uses that read only when the
//! validated manifest names the same file, label and variable; anything
//! unusual (a fleet file, several documents, a flow mapping, a quoted value
//! with escapes, a key given twice, an unknown top-level key) gives no
//! guess.

use std::path::{Path, PathBuf};

use super::raw::{DEFAULT_API_KEY_ENV, MANIFEST_FIELDS};

/// Manifests that hold at least this much together are read early: below
/// it, parsing takes less than a round trip and there is nothing to win.
pub const EARLY_BYTES: u64 = 256 * 1024;

/// Which merchant a file probably declares, and where its key is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guess {
    /// The file, as the manifest will name it.
    pub file: PathBuf,
    /// The merchant label (`merchant:`, else the file stem).
    pub label: String,
    /// The key variable (`apiKeyEnv:`, else the default).
    pub api_key_env: String,
}

/// The guess for every manifest file under `paths`, in the order
/// [`load_paths`](super::load_paths) reads them, when together they hold
/// at least [`EARLY_BYTES`] (one big store, or a fleet of many files); a
/// file that cannot be read or guessed is left out (loading will say what
/// is wrong with it).
pub fn guesses(paths: &[PathBuf]) -> Vec<Guess> {
    let files = super::files::manifest_files(paths, &mut Vec::new());
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    if total < EARLY_BYTES {
        return Vec::new();
    }
    files
        .into_iter()
        .filter_map(|f| {
            let text = super::files::read_file(&f).ok()?;
            guess(&f, &text)
        })
        .collect()
}

/// The guess for `file` holding `text`, from its top-level `merchant:` and
/// `apiKeyEnv:` lines (pure).
pub fn guess(file: &Path, text: &str) -> Option<Guess> {
    let (mut label, mut api_key_env) = (None, None);
    let mut content = false;
    for line in text.lines() {
        let first = line.chars().next();
        if matches!(first, None | Some(' ' | '\t' | '#' | '-')) && !line.starts_with("---") {
            content |= first == Some('-');
            continue;
        }
        if line.starts_with("---") || line.starts_with("...") {
            if content {
                return None; // a second document
            }
            continue;
        }
        content = true;
        let (key, value) = line.split_once(':')?;
        let slot = match key {
            "merchant" => &mut label,
            "apiKeyEnv" => &mut api_key_env,
            "merchants" => return None,
            // Any other known key; an unknown one is an error anyway.
            _ if MANIFEST_FIELDS.iter().any(|f| f.name == key) => continue,
            _ => return None,
        };
        if slot.replace(scalar(value)?).is_some() {
            return None;
        }
    }
    Some(Guess {
        file: file.to_owned(),
        label: label.unwrap_or_else(|| super::validate::default_label(file)),
        api_key_env: api_key_env.unwrap_or_else(|| DEFAULT_API_KEY_ENV.to_owned()),
    })
}

/// A plain or simply quoted scalar, with an optional trailing comment.
fn scalar(value: &str) -> Option<String> {
    let value = match value.split_once(" #") {
        Some((before, _)) => before,
        None => value,
    }
    .trim();
    let inner = match value.as_bytes() {
        [b'"', .., b'"'] | [b'\'', .., b'\''] if value.len() >= 2 => &value[1..value.len() - 1],
        _ => value,
    };
    let plain = !inner.is_empty()
        && inner
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    plain.then(|| inner.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(text: &str) -> Option<(String, String)> {
        guess(Path::new("dir/acme-eu.yaml"), text).map(|g| (g.label, g.api_key_env))
    }

    #[test]
    fn top_level_lines_give_the_label_and_key_variable() {
        let text = "version: 1\nmerchant: \"acme\"  # the store\napiKeyEnv: KEY_ACME\nsubscriptions:\n  - name: a\n    merchant: nested\n";
        assert_eq!(g(text), Some(("acme".into(), "KEY_ACME".into())));
        assert_eq!(
            g("---\nversion: 1\nsubscriptions: []\n"),
            Some(("acme-eu".into(), "INVETERATE_API_KEY".into()))
        );
    }

    #[test]
    fn anything_unusual_gives_no_guess() {
        for text in [
            "version: 1\nmerchants:\n  - merchant: a\n",
            "version: 1\nmerchant: a\nmerchant: b\n",
            "{version: 1, merchant: a}\n",
            "version: 1\n---\nmerchant: b\n",
            "merchant: \"a\\u0041\"\n",
            "merchant: &anchor a\n",
            "apiKeyEnv: *ref\n",
            "\"merchant\": a\n",
            "version: 1\nlol0: &l0 [lol, lol]\n",
        ] {
            assert_eq!(g(text), None, "{text}");
        }
    }
}
