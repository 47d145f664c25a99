//! A callback URL read once, by the WHATWG rules (the `url` crate, as
//! deliveries read it). [`CallbackUrl::parse`], for manifests, refuses what
//! parsers disagree on (`https://a.example\@b.example/` is `a.example` for WHATWG).

use std::ops::Range;

use url::{Host, Position, Url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallbackUrl(Url);

impl CallbackUrl {
    /// `https` or `http` with a host, no backslash, whitespace or control
    /// character; else why not, and what to do.
    pub fn parse(text: &str) -> Result<Self, (String, &'static str)> {
        const FULL: &str = "write a full URL such as `https://hooks.example.com/inveterate`";
        const BACKSLASH: &str =
            "URL parsers disagree on where a backslash puts the host: write `/`, or `%5C` for a backslash in the path";
        const HTTPS: &str = "Inveterate delivers webhooks to `https://` URLs";
        let url = Url::parse(text).map_err(|e| (format!("is not an absolute URL: {e}"), FULL));
        let (problem, help) = match url {
            _ if text.chars().any(char::is_control) => ("contains a control character", "remove it"),
            _ if text.chars().any(char::is_whitespace) => {
                ("contains whitespace", "percent-encode spaces as `%20`")
            }
            _ if text.contains('\\') => ("contains a backslash (`\\`)", BACKSLASH),
            Ok(url) if !matches!(url.scheme(), "https" | "http") => ("must use `https`", HTTPS),
            Ok(url) if url.host().is_none() => ("has no host", FULL),
            url => return url.map(Self),
        };
        Err((problem.to_owned(), help))
    }

    /// A live value, read leniently as a delivery would; `None`: no URL.
    pub fn read(text: &str) -> Option<Self> {
        Url::parse(text).ok().map(Self)
    }

    /// The host events go to: lowercase, punycode, no trailing dot; an IP as such.
    pub fn host(&self) -> Option<String> {
        match self.0.host()? {
            Host::Domain(d) => Some(d.trim_end_matches('.').to_ascii_lowercase()),
            Host::Ipv4(ip) => Some(ip.to_string()),
            Host::Ipv6(ip) => Some(ip.to_string()),
        }
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// Real values: never shown.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Byte ranges of [`CallbackUrl::as_str`] that are secret apart from keys:
    /// userinfo, query values, and (with [`Masking::Full`]) secret-looking path segments.
    pub(crate) fn secret_parts(&self, masking: Masking) -> Vec<Range<usize>> {
        let at = |p: Position| self.0[..p].len();
        let mut parts = Vec::new();
        if !self.0.username().is_empty() || self.0.password().is_some() {
            // `user:password@`: up to the `@` before the host.
            parts.push(at(Position::BeforeUsername)..at(Position::BeforeHost) - 1);
        }
        if masking == Masking::Full {
            let host = self.0.host_str().unwrap_or_default().to_ascii_lowercase();
            parts.extend(path_secrets(&host, self.0.path(), at(Position::BeforePath)));
        }
        if let Some(query) = self.0.query() {
            parts.extend(query_secrets(query, at(Position::BeforeQuery)));
        }
        parts
    }
}

/// All parts masked, or all but the path heuristic (`maskPathSecrets: false`,
/// serialised as that boolean).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(from = "bool", into = "bool")]
pub enum Masking {
    #[default]
    Full,
    KeepPath,
}

impl Masking {
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

/// Hosts whose webhook URLs hold their secret in the path: the prefix after
/// which segments are secret, and how many of those stay readable.
const PROVIDERS: [(&str, &str, usize); 3] = [
    ("hooks.slack.com", "/services/", 0),
    ("hooks.zapier.com", "/hooks/catch/", 0),
    // `/api/webhooks/ID/TOKEN`: the id (one segment) stays readable.
    ("discord.com", "/api/webhooks/", 1),
];

/// The secret ranges of `path` (at byte `at`): a known provider's tokens, else random-looking segments.
fn path_secrets(host: &str, path: &str, at: usize) -> Vec<Range<usize>> {
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

/// The secret ranges of `query` (at byte `at`): every value, and an item that
/// is a token as a whole (random, or base64 whose `=` padding is no separator).
fn query_secrets(query: &str, at: usize) -> Vec<Range<usize>> {
    const MIN_PADDED: usize = 16;
    let base64 = |b: u8| b.is_ascii_alphanumeric() || b"+/-_".contains(&b);
    let padded = |bare: &str, item: &str| {
        bare.len() < item.len() && bare.len() >= MIN_PADDED && bare.bytes().all(base64)
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

/// Shannon entropy, in bits per byte.
fn entropy(text: &str) -> f64 {
    let mut counts = [0usize; 256];
    text.bytes().for_each(|b| counts[usize::from(b)] += 1);
    let share = |c: usize| c as f64 / text.len() as f64;
    let shares = counts.iter().filter(|&&c| c > 0).map(|&c| share(c));
    shares.map(|p| -p * p.log2()).sum()
}

/// `localhost` or a loopback address: where plain `http` stays on the machine.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::secret::{Keys, Masked};

    /// An 8-character piece of `key` that `shown` holds and `text` does
    /// not hold apart from the key itself (ASCII case ignored).
    fn piece_shown(key: &str, text: &str, shown: &str) -> Option<String> {
        let (key, shown) = (key.to_ascii_lowercase(), shown.to_ascii_lowercase());
        let elsewhere = text.to_ascii_lowercase().replace(&key, "\u{0}");
        key.as_bytes()
            .windows(8)
            .filter_map(|w| std::str::from_utf8(w).ok())
            .find(|piece| shown.contains(piece) && !elsewhere.contains(piece))
            .map(str::to_owned)
    }

    /// The property `fuzz/fuzz_targets/url_mask.rs` checks at length: any
    /// text and key, never a panic; a strict parse agrees with the lenient
    /// one and has a host; what is shown is printable ASCII and holds no
    /// 8-character piece of a key of 12 or more characters (that has no
    /// `*`, which masking writes) that the text holds only inside the key.
    fn check(key: &str, text: &str) -> Result<(), TestCaseError> {
        let keys = Keys::new([key]);
        let read = CallbackUrl::read(text);
        if let Ok(url) = CallbackUrl::parse(text) {
            prop_assert_eq!(read.as_ref().map(CallbackUrl::as_str), Some(url.as_str()));
            prop_assert!(url.host().is_some());
            prop_assert!(!text.contains('\\') && !text.chars().any(|c| c.is_whitespace() || c.is_control()));
        }
        for masking in [Masking::Full, Masking::KeepPath] {
            let shown = Masked::url(text, masking, &keys);
            prop_assert!(shown.bytes().all(|b| (0x20..0x7f).contains(&b)), "{}", shown);
            if key.len() >= 12 && !key.contains('*') {
                let piece = piece_shown(key, text, &shown);
                prop_assert!(piece.is_none(), "{:?} of {:?} in {}", piece, key, shown);
            }
        }
        Ok(())
    }

    /// Text built from the pieces parsers disagree on, and the key.
    fn texts(key: String) -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("https://".to_owned()),
            Just("http://".to_owned()),
            Just(key),
            "[a-zA-Z0-9.-]{1,8}",
            prop::sample::select(vec![
                "@", "\\", "/", "?", "#", "=", "&", ":", "%", "%2F", " ", "\t", "[::1]", "ü", "\u{200b}", "*"
            ])
            .prop_map(str::to_owned),
        ];
        prop::collection::vec(piece, 1..12).prop_map(|parts| parts.concat())
    }

    proptest! {
        // 256 cases (proptest's default); `PROPTEST_CASES` for a long run.
        #[test]
        fn parsing_and_masking_any_text_keeps_the_rules(
            (key, text) in "[A-Za-z0-9+/=_-]{12,40}".prop_flat_map(|k| (Just(k.clone()), texts(k)))
        ) {
            check(&key, &text)?;
        }

        #[test]
        fn parsing_and_masking_arbitrary_text_keeps_the_rules(key in ".{0,20}", text in ".{0,80}") {
            check(&key, &text)?;
        }
    }

    #[test]
    fn a_backslash_whitespace_or_control_character_is_refused() {
        for (text, problem) in [
            (
                "https://attacker.example\\@hooks.acme.dev/x",
                "contains a backslash (`\\`)",
            ),
            ("https://hooks.acme.dev/a\\b", "contains a backslash (`\\`)"),
            ("https://hooks.acme.dev/a b", "contains whitespace"),
            ("https://hooks.acme.dev/\u{a0}", "contains whitespace"),
            ("https://hooks.acme.dev/a\tb", "contains a control character"),
            ("https://hooks.acme.dev/\u{85}", "contains a control character"),
            ("ftp://hooks.acme.dev/", "must use `https`"),
            (
                "hooks.acme.dev/x",
                "is not an absolute URL: relative URL without a base",
            ),
        ] {
            let refused = CallbackUrl::parse(text).map_err(|(problem, _)| problem);
            assert_eq!(refused, Err(problem.to_owned()), "{text}");
        }
    }

    #[test]
    fn the_host_is_the_one_deliveries_use() {
        let host = |t: &str| CallbackUrl::read(t).and_then(|u| u.host());
        assert_eq!(
            host("https://attacker.example\\@hooks.acme.dev/x").as_deref(),
            Some("attacker.example")
        );
        assert_eq!(
            host("HTTPS://Hooks.ACME.dev./x").as_deref(),
            Some("hooks.acme.dev")
        );
        assert_eq!(host("https://bücher.de/").as_deref(), Some("xn--bcher-kva.de"));
        assert_eq!(host("https://u:p@[::1]:8443/").as_deref(), Some("::1"));
        assert_eq!(host("https://0x7f.1/").as_deref(), Some("127.0.0.1"));
        assert_eq!(host("not a url"), None);
        let strict = CallbackUrl::parse("HTTPS://Hooks.ACME.dev/x").map(|u| u.host());
        assert_eq!(strict, Ok(Some("hooks.acme.dev".to_owned())));
    }

    #[test]
    fn secret_parts_are_ranges_of_the_parsed_url() {
        let url = CallbackUrl::read("https://u:p@h.example/t/9f8Kq2LmZx7Vb4Nc1Rt6Yw3/x?a=1&flag&b=#f")
            .expect("a URL");
        let text = url.as_str();
        let parts: Vec<&str> = url
            .secret_parts(Masking::Full)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(parts, ["u:p", "9f8Kq2LmZx7Vb4Nc1Rt6Yw3", "1"]);
        let kept: Vec<&str> = url
            .secret_parts(Masking::KeepPath)
            .into_iter()
            .map(|r| &text[r])
            .collect();
        assert_eq!(kept, ["u:p", "1"]);
    }
}
