//! Masking of secrets inside callback URLs. Every plan, drift and apply
//! report shows URL userinfo, query-parameter values and path segments that
//! look like secrets as `***`; only `export` and saved plan files carry the
//! real values.
//!
//! A path segment looks like a secret (README "Secrets"), when it is
//! - a token of a known webhook provider: every segment after
//!   `hooks.slack.com/services/`, after `hooks.zapier.com/hooks/catch/`, and
//!   the token after `discord.com/api/webhooks/ID/`; or
//! - a UUID, or holds a run of at least 16 letters and digits with both
//!   kinds and at least 3.3 bits of Shannon entropy per character (random
//!   tokens and hashes; not words such as `membership-cancelled-2024` or
//!   `customers2024`, whose runs are words or short).
//!
//! Masking works on the text as written (no URL normalisation), so a masked
//! URL reads exactly like the original apart from the secrets.
//!
//! A manifest entry can turn the path heuristic off for its own URLs
//! (`maskPathSecrets: false`, [`Masking::KeepPath`]): userinfo and query
//! values stay masked, and an API key anywhere in a URL is still replaced
//! by the writer every output goes through (ARCHITECTURE.md "Invariants";
//! a manifest value may not contain a key at all).

/// The text shown in place of a secret.
pub const MASK: &str = "***";

/// Which parts of a URL are masked: everything that may be a secret
/// ([`Masking::Full`], the default), or all but the path heuristic, for a
/// manifest entry with `maskPathSecrets: false` (README "Secrets").
/// Written to saved plans as that boolean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(from = "bool", into = "bool")]
pub enum Masking {
    /// Userinfo, query values and path segments that look like secrets.
    #[default]
    Full,
    /// Userinfo and query values; the path is shown as written.
    KeepPath,
}

impl Masking {
    /// Whether this is the default, [`Masking::Full`] (for
    /// `skip_serializing_if`).
    pub fn is_full(&self) -> bool {
        *self == Masking::Full
    }
}

impl From<bool> for Masking {
    /// `maskPathSecrets: true` or `false`.
    fn from(mask_path_secrets: bool) -> Self {
        if mask_path_secrets {
            Masking::Full
        } else {
            Masking::KeepPath
        }
    }
}

impl From<Masking> for bool {
    fn from(masking: Masking) -> Self {
        masking == Masking::Full
    }
}

/// Returns `url` with its userinfo, query-parameter values and
/// secret-looking path segments replaced by `***`, ready to show: unsafe
/// characters are escaped ([`crate::escape`]). Text that is not a URL is
/// returned unchanged apart from anything after a `?`, which is masked the
/// same way. [`mask_url_with`] with [`Masking::Full`].
pub fn mask_url(url: &str) -> String {
    mask_url_with(url, Masking::Full)
}

/// Returns `url` masked as `masking` says, ready to show (escaped): the one
/// function every report masks a callback URL with.
pub fn mask_url_with(url: &str, masking: Masking) -> String {
    let masked = mask_parts(url, masking);
    crate::escape::escape(&masked).into_owned()
}

fn mask_parts(url: &str, masking: Masking) -> String {
    let parts = split(url);
    let mut out = String::with_capacity(url.len());
    out.push_str(parts.scheme);
    if let Some(at) = parts.authority.rfind('@') {
        out.push_str(MASK);
        out.push_str(&parts.authority[at..]);
    } else {
        out.push_str(parts.authority);
    }
    match masking {
        Masking::Full => out.push_str(&mask_path(host(parts.authority), parts.path)),
        Masking::KeepPath => out.push_str(parts.path),
    }
    if let Some(query) = parts.query {
        out.push('?');
        let masked: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, value)) if !value.is_empty() => format!("{key}={MASK}"),
                _ => pair.to_owned(),
            })
            .collect();
        out.push_str(&masked.join("&"));
    }
    if let Some(fragment) = parts.fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// The host of an authority (`user@host:port`), lowercased.
fn host(authority: &str) -> String {
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) {
            h
        } else {
            host
        }
    });
    host.to_ascii_lowercase()
}

/// Providers whose webhook URLs carry their secret in the path: the host,
/// and the path prefix after which every segment is a secret.
const PROVIDERS: [(&str, &str, usize); 3] = [
    ("hooks.slack.com", "/services/", 0),
    ("hooks.zapier.com", "/hooks/catch/", 0),
    // `/api/webhooks/ID/TOKEN`: the id (one segment) stays readable.
    ("discord.com", "/api/webhooks/", 1),
];

/// `path` with the segments that look like secrets replaced by `***`.
fn mask_path(host: String, path: &str) -> String {
    let provider = PROVIDERS
        .iter()
        .find(|(h, prefix, _)| host == *h && path.starts_with(prefix));
    if let Some((_, prefix, keep)) = provider {
        let rest = &path[prefix.len()..];
        let masked: Vec<&str> = rest
            .split('/')
            .enumerate()
            .map(|(i, seg)| if i < *keep || seg.is_empty() { seg } else { MASK })
            .collect();
        return format!("{prefix}{}", masked.join("/"));
    }
    path.split('/')
        .map(|seg| if looks_random(seg) { MASK } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// A random-looking token (see the module documentation): a UUID, or a
/// run of letters and digits of at least 16 with both, and high entropy.
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
    for b in text.bytes() {
        counts[usize::from(b)] += 1;
    }
    let n = text.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / n;
            -p * p.log2()
        })
        .sum()
}

/// Whether `url` carries a secret that [`mask_url`] would hide.
pub fn has_secret(url: &str) -> bool {
    mask_parts(url, Masking::Full) != url
}

struct Parts<'a> {
    scheme: &'a str,
    authority: &'a str,
    path: &'a str,
    query: Option<&'a str>,
    fragment: Option<&'a str>,
}

fn split(url: &str) -> Parts<'_> {
    let (rest, fragment) = match url.split_once('#') {
        Some((rest, fragment)) => (rest, Some(fragment)),
        None => (url, None),
    };
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let scheme_end = rest.find("://").map_or(0, |i| i + 3);
    let (scheme, after) = rest.split_at(scheme_end);
    let (authority, path) = if scheme_end == 0 {
        ("", after)
    } else {
        after.split_at(after.find('/').unwrap_or(after.len()))
    };
    Parts {
        scheme,
        authority,
        path,
        query,
        fragment,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_urls_are_unchanged() {
        for url in [
            "https://hooks.acme.dev/inveterate",
            "https://hooks.acme.dev",
            "http://127.0.0.1:8080/x#frag",
            "not a url",
            "https://h/p?flag",
        ] {
            assert_eq!(mask_url(url), url);
            assert!(!has_secret(url));
        }
    }

    #[test]
    fn userinfo_and_query_values_are_masked() {
        assert_eq!(
            mask_url("https://user:pa55@hooks.acme.dev/x?token=abc&mode=1#f"),
            "https://***@hooks.acme.dev/x?token=***&mode=***#f"
        );
        assert_eq!(mask_url("https://h/p?a=&b=2"), "https://h/p?a=&b=***");
        assert_eq!(mask_url("relative/path?sig=s3cr3t"), "relative/path?sig=***");
        assert!(has_secret("https://u@h/"));
    }

    #[test]
    fn provider_tokens_in_paths_are_masked() {
        assert_eq!(
            mask_url("https://hooks.slack.com/services/T0ABC/B0DEF/XyZ123abcDEF456ghiJKL789"),
            "https://hooks.slack.com/services/***/***/***"
        );
        assert_eq!(
            mask_url("https://hooks.zapier.com/hooks/catch/123456/ab1cd2/"),
            "https://hooks.zapier.com/hooks/catch/***/***/"
        );
        assert_eq!(
            mask_url("https://discord.com/api/webhooks/1234567890/tok-EN_value"),
            "https://discord.com/api/webhooks/1234567890/***"
        );
        assert_eq!(
            mask_url("https://hooks.slack.com/other/x"),
            "https://hooks.slack.com/other/x"
        );
    }

    #[test]
    fn random_looking_segments_are_masked_and_words_are_not() {
        assert_eq!(
            mask_url("https://r.example/in/9f8Kq2LmZx7Vb4Nc1Rt6Yw3/events"),
            "https://r.example/in/***/events"
        );
        assert_eq!(
            mask_url("https://r.example/u/123e4567-e89b-12d3-a456-426614174000"),
            "https://r.example/u/***"
        );
        for url in [
            "https://hooks.acme.dev/inveterate/membership-cancelled-2024",
            "https://hooks.acme.dev/v2/customers/updated",
            "https://hooks.acme.dev/aaaaaaaaaaaaaaaaaaaaaaaa1",
            "https://hooks.acme.dev/inveterate2024/loyalty-members",
        ] {
            assert_eq!(mask_url(url), url);
        }
        assert!(has_secret("https://r.example/in/9f8Kq2LmZx7Vb4Nc1Rt6Yw3"));
    }

    #[test]
    fn keep_path_shows_the_path_and_still_masks_userinfo_and_query_values() {
        let tenant = "https://r.example/t/123e4567-e89b-12d3-a456-426614174000/in";
        assert_eq!(mask_url_with(tenant, Masking::KeepPath), tenant);
        assert_eq!(mask_url_with(tenant, Masking::Full), "https://r.example/t/***/in");
        let slack = "https://hooks.slack.com/services/T0ABC/B0DEF/XyZ123abcDEF456ghiJKL789";
        assert_eq!(mask_url_with(slack, Masking::KeepPath), slack);
        assert_eq!(
            mask_url_with(
                "https://u:p@r.example/t/123e4567-e89b-12d3-a456-426614174000?sig=abc#f",
                Masking::KeepPath
            ),
            "https://***@r.example/t/123e4567-e89b-12d3-a456-426614174000?sig=***#f"
        );
        assert_eq!(
            mask_url_with("https://h/\u{202e}x", Masking::KeepPath),
            mask_url("https://h/\u{202e}x"),
            "escaping is the same"
        );
    }

    #[test]
    fn masking_reads_and_writes_as_mask_path_secrets() {
        assert_eq!(Masking::default(), Masking::Full);
        assert_eq!(Masking::from(false), Masking::KeepPath);
        assert!(!bool::from(Masking::KeepPath) && bool::from(Masking::Full));
        let json = serde_json::to_string(&Masking::KeepPath).ok();
        assert_eq!(json.as_deref(), Some("false"));
        let back: Option<Masking> = serde_json::from_str("true").ok();
        assert_eq!(back, Some(Masking::Full));
    }

    #[test]
    fn at_sign_in_path_is_not_userinfo() {
        assert_eq!(mask_url("https://h/users/@me"), "https://h/users/@me");
    }
}
