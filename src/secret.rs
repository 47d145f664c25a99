//! Secrets kept out of everything shown (docs/secrets.md): renderers get a
//! [`Masked`], whose only constructors mask, so colour, diffs, truncation and
//! escaping work on text without a secret. Keys ([`Keys`]) are masked first,
//! in the raw value; then a URL's parts.

use std::borrow::Cow;
use std::ops::Range;

use aho_corasick::AhoCorasick;

use crate::callback_url::CallbackUrl;
pub use crate::callback_url::Masking;

pub const MASK: &str = "***";

/// A URL that does not parse: none of its text, which could name a wrong host.
pub const INVALID_URL: &str = "(not a valid URL)";

/// A URL that masking its key would make read as another place (`/`, `@` in a key).
pub const KEY_URL: &str = "(a URL holding an API key)";

/// A key shorter than this is matched only as a whole token.
const SHORT_KEY: usize = 12;

/// The API keys to mask, found in one pass; passed explicitly, so the core stays pure.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// `None` with keys: the automaton could not be built, so all text is masked (fail closed).
    automaton: Option<AhoCorasick>,
    any: bool,
}

impl Keys {
    /// Empty keys are ignored.
    pub fn new<S: AsRef<str>>(keys: impl IntoIterator<Item = S>) -> Self {
        let keys: Vec<S> = keys.into_iter().filter(|k| !k.as_ref().is_empty()).collect();
        let mut builder = AhoCorasick::builder();
        builder.ascii_case_insensitive(true);
        Self {
            automaton: builder.build(keys.iter().map(|k| k.as_ref())).ok(),
            any: !keys.is_empty(),
        }
    }

    /// No key: structural masking only.
    pub fn none() -> Self {
        Self::default()
    }

    /// Byte ranges (maybe overlapping) of keys in `text`, ASCII case ignored;
    /// a short key only as a whole token.
    fn find(&self, text: &[u8]) -> Vec<Range<usize>> {
        let Some(automaton) = &self.automaton else {
            return self.any.then_some(0..text.len()).into_iter().collect();
        };
        let alnum = |i: usize| text.get(i).is_some_and(u8::is_ascii_alphanumeric);
        let whole = |r: &Range<usize>| {
            r.len() >= SHORT_KEY
                || !((alnum(r.start) && r.start > 0 && alnum(r.start - 1))
                    || (alnum(r.end - 1) && alnum(r.end)))
        };
        let found = automaton.find_overlapping_iter(text).map(|m| m.range());
        found.filter(whole).collect()
    }

    /// `text` with every key replaced by `***`; borrowed when it holds none.
    pub fn replace<'a>(&self, text: &'a str) -> Cow<'a, str> {
        mask_ranges(text, self.find(text.as_bytes()))
    }
}

/// `text` with each run of overlapping or touching `ranges` replaced by one `***`.
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

/// A value with its secrets masked: nothing builds one from raw text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(transparent)]
pub struct Masked<'a>(Cow<'a, str>);

impl<'a> Masked<'a> {
    /// A name, id, topic or server message with every key replaced.
    pub fn text(text: &'a str, keys: &Keys) -> Self {
        Masked(keys.replace(text))
    }

    /// A callback URL as the WHATWG parser reads it: keys replaced in the raw
    /// text first (so the parser's rewriting leaves no piece of one), then parts.
    pub fn url(text: &str, masking: Masking, keys: &Keys) -> Masked<'static> {
        let Some(real) = CallbackUrl::read(text) else {
            return Masked(Cow::Borrowed(INVALID_URL));
        };
        let shown = match keys.replace(text) {
            Cow::Borrowed(_) => real,
            Cow::Owned(replaced) => match CallbackUrl::read(&replaced) {
                Some(shown) if reads_as(&shown, &real) => shown,
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

/// `url` masked without keys, for messages (`Context::emit` still redacts keys).
pub fn mask_url(url: &str) -> String {
    Masked::url(url, Masking::Full, &Keys::none()).into_string()
}

/// Whether `url` carries a secret that [`Masking::Full`] would hide.
pub fn has_secret(url: &str) -> bool {
    CallbackUrl::read(url).is_some_and(|u| !u.secret_parts(Masking::Full).is_empty())
}

/// Whether `shown` (keys replaced by `***`) names the place `real` does: the
/// same scheme and port, and the same host where each `***` is any run of it.
fn reads_as(shown: &CallbackUrl, real: &CallbackUrl) -> bool {
    let (shown, real) = (shown.url(), real.url());
    let pieces = shown.host_str().unwrap_or_default().split(MASK);
    let glob = pieces.map(globset::escape).collect::<Vec<_>>().join("*");
    let host = real.host_str().unwrap_or_default();
    let host = globset::Glob::new(&glob).is_ok_and(|g| g.compile_matcher().is_match(host));
    host && shown.scheme() == real.scheme() && shown.port_or_known_default() == real.port_or_known_default()
}

#[cfg(test)]
#[path = "secret_tests.rs"]
mod tests;
