//! Masking of secrets inside callback URLs. Every plan, drift and apply
//! report shows URL userinfo and query-parameter values as `***`; only
//! `export` and saved plan files carry the real values.
//!
//! Masking works on the text as written (no URL normalisation), so a masked
//! URL reads exactly like the original apart from the secrets.

/// The text shown in place of a secret.
pub const MASK: &str = "***";

/// Returns `url` with its userinfo and query-parameter values replaced by
/// `***`, ready to show: unsafe characters are escaped
/// ([`crate::escape`]). Text that is not a URL is returned unchanged apart
/// from anything after a `?`, which is masked the same way.
pub fn mask_url(url: &str) -> String {
    let masked = mask_parts(url);
    crate::escape::escape(&masked).into_owned()
}

fn mask_parts(url: &str) -> String {
    let parts = split(url);
    let mut out = String::with_capacity(url.len());
    out.push_str(parts.scheme);
    if let Some(at) = parts.authority.rfind('@') {
        out.push_str(MASK);
        out.push_str(&parts.authority[at..]);
    } else {
        out.push_str(parts.authority);
    }
    out.push_str(parts.path);
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

/// Whether `url` carries a secret that [`mask_url`] would hide.
pub fn has_secret(url: &str) -> bool {
    mask_parts(url) != url
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
    fn at_sign_in_path_is_not_userinfo() {
        assert_eq!(mask_url("https://h/users/@me"), "https://h/users/@me");
    }
}
