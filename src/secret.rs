//! Secrets kept out of everything shown (docs/secrets.md, which describes
//! the rules). Values are masked before anything renders them: a renderer
//! gets a [`Masked`], whose only constructors mask, so colour, diffs,
//! truncation, escaping and every format work on text without a secret.
//! Keys ([`Keys`]) are masked first, in the raw value; then a URL's parts.

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::callback_url::CallbackUrl;

/// The text shown in place of a secret.
pub const MASK: &str = "***";

/// What a callback URL that does not parse is shown as: never any of its
/// text, which could name a host events do not go to.
pub const INVALID_URL: &str = "(not a valid URL)";

/// What a callback URL is shown as when masking the key in it would make it
/// read as another place (a key holding `/` or `@`).
pub const KEY_URL: &str = "(a URL holding an API key)";

/// A key shorter than this is matched only as a whole token.
const SHORT_KEY: usize = 12;

/// Which parts of a URL are masked: all, or all but the path heuristic
/// (`maskPathSecrets: false`; serialised as that boolean).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(from = "bool", into = "bool")]
pub enum Masking {
    #[default]
    Full,
    KeepPath,
}

impl Masking {
    /// For `skip_serializing_if`.
    pub fn is_full(&self) -> bool {
        *self == Masking::Full
    }
}

impl From<bool> for Masking {
    fn from(mask_path_secrets: bool) -> Self {
        match mask_path_secrets {
            true => Masking::Full,
            false => Masking::KeepPath,
        }
    }
}

impl From<Masking> for bool {
    fn from(masking: Masking) -> Self {
        masking.is_full()
    }
}

/// The API keys to mask, found in one pass; passed explicitly, so the core
/// stays pure.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// `None` with keys if the automaton could not be built: then every
    /// text is masked whole (fail closed).
    automaton: Option<AhoCorasick>,
    any: bool,
}

impl Keys {
    /// The keys `keys` (empty ones ignored).
    pub fn new<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        let keys: Vec<String> = keys
            .into_iter()
            .map(|k| k.as_ref().to_owned())
            .filter(|k| !k.is_empty())
            .collect();
        let mut builder = AhoCorasick::builder();
        let automaton = builder
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(&keys);
        Self {
            automaton: automaton.ok(),
            any: !keys.is_empty(),
        }
    }

    /// No key: structural masking only.
    pub fn none() -> Self {
        Self::default()
    }

    pub fn is_empty(&self) -> bool {
        !self.any
    }

    /// Where keys occur in `text` (ASCII case ignored; a short key only as
    /// a whole token), as byte ranges, possibly overlapping.
    pub fn find(&self, text: &[u8]) -> Vec<Range<usize>> {
        let Some(automaton) = &self.automaton else {
            return self.any.then_some(0..text.len()).into_iter().collect();
        };
        let alnum = |i: usize| text.get(i).is_some_and(u8::is_ascii_alphanumeric);
        let whole = |r: &Range<usize>| {
            r.len() >= SHORT_KEY
                || !((alnum(r.start) && r.start > 0 && alnum(r.start - 1))
                    || (alnum(r.end - 1) && alnum(r.end)))
        };
        automaton
            .find_overlapping_iter(text)
            .map(|m| m.range())
            .filter(whole)
            .collect()
    }

    /// `text` with every key replaced by `***`; borrowed when it holds none.
    pub fn replace<'a>(&self, text: &'a str) -> Cow<'a, str> {
        mask_ranges(text, self.find(text.as_bytes()))
    }
}

/// `text` with each run of overlapping or touching `ranges` replaced by one
/// `***`.
fn mask_ranges(text: &str, mut ranges: Vec<Range<usize>>) -> Cow<'_, str> {
    if ranges.is_empty() {
        return Cow::Borrowed(text);
    }
    ranges.sort_by_key(|r| (r.start, r.end));
    let (mut out, mut pos) = (String::with_capacity(text.len()), 0);
    let mut iter = ranges.into_iter().peekable();
    while let Some(mut run) = iter.next() {
        while let Some(next) = iter.next_if(|n| n.start <= run.end) {
            run.end = run.end.max(next.end);
        }
        out.push_str(&text[pos..run.start]);
        out.push_str(MASK);
        pos = run.end;
    }
    out.push_str(&text[pos..]);
    Cow::Owned(out)
}

/// A value with its secrets masked, the only form renderers get: its
/// constructors mask, nothing builds one from raw text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Masked<'a>(Cow<'a, str>);

impl<'a> Masked<'a> {
    /// A name, id, topic or server message with every key replaced.
    pub fn text(text: &'a str, keys: &Keys) -> Self {
        Masked(keys.replace(text))
    }

    /// A callback URL as the WHATWG parser reads it, masked: keys replaced
    /// in the raw text first (so no rewriting by the parser can leave a
    /// piece of one), then read, then its secret parts masked.
    pub fn url(text: &str, masking: Masking, keys: &Keys) -> Masked<'static> {
        let Some(real) = CallbackUrl::read(text) else {
            return Masked(Cow::Borrowed(INVALID_URL));
        };
        let shown = match keys.replace(text) {
            Cow::Borrowed(_) => real,
            Cow::Owned(replaced) => match CallbackUrl::read(&replaced) {
                Some(shown) if shown.reads_as(&real) => shown,
                _ => return Masked(Cow::Borrowed(KEY_URL)),
            },
        };
        let text = shown.as_str();
        // A key the parser put together (a tab removed) is masked too.
        let mut ranges = keys.find(text.as_bytes());
        ranges.extend(shown.secret_parts(masking));
        Masked(Cow::Owned(mask_ranges(text, ranges).into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0.into_owned()
    }
}

impl std::ops::Deref for Masked<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Masked<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// `url` masked without keys, for messages outside the reports
/// (`Context::emit` still redacts keys).
pub fn mask_url(url: &str) -> String {
    Masked::url(url, Masking::Full, &Keys::none()).into_string()
}

/// Whether `url` carries a secret that [`Masking::Full`] would hide.
pub fn has_secret(url: &str) -> bool {
    CallbackUrl::read(url).is_some_and(|u| !u.secret_parts(Masking::Full).is_empty())
}

/// Providers whose webhook URLs carry their secret in the path: host, the
/// prefix after which segments are secret, how many of those stay readable.
const PROVIDERS: [(&str, &str, usize); 3] = [
    ("hooks.slack.com", "/services/", 0),
    ("hooks.zapier.com", "/hooks/catch/", 0),
    // `/api/webhooks/ID/TOKEN`: the id (one segment) stays readable.
    ("discord.com", "/api/webhooks/", 1),
];

/// The ranges of `path` (starting at byte `at`) that are secret: a known
/// provider's tokens, else the segments that look random.
pub(crate) fn path_secrets(host: &str, path: &str, at: usize) -> Vec<Range<usize>> {
    let provider = PROVIDERS
        .iter()
        .find(|(h, prefix, _)| host == *h && path.starts_with(prefix));
    let (skip, keep) = provider.map_or((0, None), |(_, prefix, keep)| (prefix.len(), Some(*keep)));
    let mut out = Vec::new();
    let mut start = at + skip;
    for (i, seg) in path[skip..].split('/').enumerate() {
        let secret = match keep {
            Some(keep) => i >= keep && !seg.is_empty(),
            None => looks_random(seg),
        };
        if secret {
            out.push(start..start + seg.len());
        }
        start += seg.len() + 1;
    }
    out
}

/// The ranges of `query` (starting at byte `at`) that are secret: every
/// value, and an item that as a whole is a token (random, or base64 whose
/// `=` padding is no separator).
pub(crate) fn query_secrets(query: &str, at: usize) -> Vec<Range<usize>> {
    const MIN_PADDED: usize = 16;
    let padded = |bare: &str, item: &str| {
        bare.len() < item.len()
            && bare.len() >= MIN_PADDED
            && bare
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+/-_".contains(&b))
    };
    let mut out = Vec::new();
    let mut start = at;
    for item in query.split('&') {
        let bare = item.trim_end_matches('=');
        if looks_random(bare) || padded(bare, item) {
            out.push(start..start + item.len());
        } else if let Some(eq) = item.find('=').filter(|eq| eq + 1 < item.len()) {
            out.push(start + eq + 1..start + item.len());
        }
        start += item.len() + 1;
    }
    out
}

/// A UUID, or a run of 16+ letters and digits mixing both with high
/// entropy (not words such as `membership-cancelled-2024`).
fn looks_random(segment: &str) -> bool {
    const MIN_RUN: usize = 16;
    const MIN_BITS_PER_CHAR: f64 = 3.3;
    let uuid = segment.len() == 36
        && segment.split('-').map(str::len).eq([8, 4, 4, 4, 12])
        && segment.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
    uuid || segment.split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        run.len() >= MIN_RUN
            && run.bytes().any(|b| b.is_ascii_digit())
            && run.bytes().any(|b| b.is_ascii_alphabetic())
            && entropy(run) >= MIN_BITS_PER_CHAR
    })
}

/// Shannon entropy of the bytes of `text`, in bits per byte.
fn entropy(text: &str) -> f64 {
    let mut counts = [0usize; 256];
    text.bytes().for_each(|b| counts[usize::from(b)] += 1);
    let shares = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| c as f64 / text.len() as f64);
    shares.map(|p| -p * p.log2()).sum()
}

#[cfg(test)]
#[path = "secret_tests.rs"]
mod tests;
