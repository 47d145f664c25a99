//! The base URL (`--base-url`, `INVETERATE_BASE_URL`): parsed and checked
//! once, before any request, so the key travels only over `https://`, or
//! plain `http://` to a loopback host (the sandbox).

use url::Url;

use crate::secret::mask_url;

/// Errors in the base URL, found before any request is made.
#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    /// Not a URL at all.
    #[error("base URL `{0}` is not a valid URL: {1}")]
    Invalid(String, url::ParseError),
    /// Plain HTTP to a non-loopback host would expose the key.
    #[error("base URL `{0}` is not https; the API key must not travel in clear text (plain http is allowed only for loopback hosts such as the sandbox)")]
    Insecure(String),
    /// A scheme other than http(s), or no host.
    #[error("base URL `{0}` must be an https:// URL with a host")]
    Unsupported(String),
}

/// Parses and checks a base URL: https, or http on a loopback host.
pub fn parse_base_url(raw: &str) -> Result<Url, BaseUrlError> {
    let shown = mask_url(raw);
    let mut url = Url::parse(raw).map_err(|e| BaseUrlError::Invalid(shown.clone(), e))?;
    match url.scheme() {
        "https" if url.host().is_some() => {}
        "http" if is_loopback(&url) => {}
        "http" => return Err(BaseUrlError::Insecure(shown)),
        _ => return Err(BaseUrlError::Unsupported(shown)),
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

/// Whether the URL's host is a loopback address or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        assert!(parse_base_url("https://public.inveterateapi.com/v2.0").is_ok());
        assert!(parse_base_url("http://127.0.0.1:8787/v2.0").is_ok());
        assert!(parse_base_url("http://localhost/v2.0").is_ok());
        assert!(parse_base_url("http://[::1]:1/v2.0").is_ok());
        assert!(matches!(
            parse_base_url("http://example.com/v2.0"),
            Err(BaseUrlError::Insecure(_))
        ));
        assert!(matches!(
            parse_base_url("ftp://example.com"),
            Err(BaseUrlError::Unsupported(_))
        ));
        assert!(matches!(parse_base_url("nope"), Err(BaseUrlError::Invalid(..))));
    }
}
