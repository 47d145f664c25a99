//! The base URL, checked before any request: the key travels only over `https://`, or plain
//! `http://` to loopback or a host named in [`ALLOW_INSECURE_ENV`] (never Inveterate's API).

use url::Url;

use super::DEFAULT_BASE_URL;
use crate::callback_url::is_loopback;
use crate::secret::mask_url;

/// Hosts (comma-separated) plain http may go to although not loopback.
pub const ALLOW_INSECURE_ENV: &str = "INVHOOKS_ALLOW_INSECURE_SANDBOX";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// The URL, ending in `/`.
    pub url: Url,
    /// `host:port` of plain http allowed by [`ALLOW_INSECURE_ENV`].
    pub insecure: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum BaseUrlError {
    #[error("base URL `{0}` is not a valid URL: {1}")]
    Invalid(String, url::ParseError),
    /// The shown URL, and its host.
    #[error("base URL `{0}` is not https; the API key must not travel in clear text (plain http is allowed only for loopback hosts such as the sandbox)")]
    Insecure(String, String),
    #[error("base URL `{0}` is plain http to Inveterate's API; the API key must not travel in clear text")]
    Inveterate(String),
    #[error("base URL `{0}` must be an https:// URL with a host")]
    Unsupported(String),
}

impl BaseUrlError {
    pub fn help(&self) -> String {
        match self {
            Self::Insecure(_, host) => format!(
                "for a sandbox in a CI service container (another host on a private network), opt in with `{ALLOW_INSECURE_ENV}={host}`; never for a real API"
            ),
            Self::Inveterate(_) => format!(
                "use `{DEFAULT_BASE_URL}`; `{ALLOW_INSECURE_ENV}` never applies to `*.inveterateapi.com`"
            ),
            _ => "pass an https URL with --base-url or INVETERATE_BASE_URL".into(),
        }
    }
}

impl BaseUrl {
    /// The flag, else the environment (empty counts as unset), else the real API.
    pub fn raw(flag: Option<&str>, env: Option<&str>) -> String {
        let set = |s: &&str| !s.is_empty();
        (flag.filter(set).or(env.filter(set)))
            .unwrap_or(DEFAULT_BASE_URL)
            .to_owned()
    }

    /// Checks `raw`; `allow_insecure` is the value of [`ALLOW_INSECURE_ENV`].
    pub fn parse(raw: &str, allow_insecure: Option<&str>) -> Result<BaseUrl, BaseUrlError> {
        let shown = mask_url(raw);
        let mut url = Url::parse(raw).map_err(|e| BaseUrlError::Invalid(shown.clone(), e))?;
        let host = host(&url);
        let allowed = |h: &str| normalise(h) == host;
        let insecure = match url.scheme() {
            "https" if url.host().is_some() => None,
            "http" if is_loopback(&url) => None,
            "http" if is_inveterate(&url) => return Err(BaseUrlError::Inveterate(shown)),
            "http" if allow_insecure.unwrap_or_default().split(',').any(allowed) => {
                Some(format!("{host}:{}", url.port_or_known_default().unwrap_or(80)))
            }
            "http" => return Err(BaseUrlError::Insecure(shown, host)),
            _ => return Err(BaseUrlError::Unsupported(shown)),
        };
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Ok(BaseUrl { url, insecure })
    }

    /// The warning printed on every run that sends the key in clear text.
    pub fn warning(&self) -> Option<String> {
        self.insecure.as_ref().map(|host| {
            format!(
                "`{ALLOW_INSECURE_ENV}` sends the API key in clear text (plain http) to `{host}`; use it only for a sandbox service container in CI, never with a real key"
            )
        })
    }
}

fn normalise(host: &str) -> String {
    host.trim().trim_end_matches('.').to_ascii_lowercase()
}

fn host(url: &Url) -> String {
    normalise(url.host_str().unwrap_or_default())
}

/// `inveterateapi.com` or a subdomain of it.
pub fn is_inveterate(url: &Url) -> bool {
    let host = host(url);
    host == "inveterateapi.com" || host.ends_with(".inveterateapi.com")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flag_then_environment_then_the_real_api() {
        assert_eq!(
            BaseUrl::raw(Some("https://a/v2.0"), Some("https://b/v2.0")),
            "https://a/v2.0"
        );
        assert_eq!(BaseUrl::raw(None, Some("https://b/v2.0")), "https://b/v2.0");
        assert_eq!(BaseUrl::raw(Some(""), Some("")), DEFAULT_BASE_URL);
        assert_eq!(BaseUrl::raw(None, None), DEFAULT_BASE_URL);
    }

    #[test]
    fn base_urls_must_be_https_unless_loopback() {
        for raw in [
            "https://public.inveterateapi.com/v2.0",
            "http://127.0.0.1:8787/v2.0",
            "http://localhost/v2.0",
            "http://[::1]:1/v2.0",
        ] {
            let base = BaseUrl::parse(raw, Some("sandbox")).unwrap();
            assert!(base.url.path().ends_with("/v2.0/"), "{raw}");
            assert_eq!((base.warning(), base.insecure), (None, None), "{raw}");
        }
        let parse = |raw| BaseUrl::parse(raw, None);
        assert!(matches!(
            parse("http://example.com/v2.0"),
            Err(BaseUrlError::Insecure(..))
        ));
        assert!(matches!(
            parse("ftp://example.com"),
            Err(BaseUrlError::Unsupported(_))
        ));
        assert!(matches!(parse("nope"), Err(BaseUrlError::Invalid(..))));
    }

    #[test]
    fn plain_http_to_another_host_is_refused_unless_that_host_is_listed() {
        let err = BaseUrl::parse("http://sandbox:8787/v2.0", None).unwrap_err();
        assert!(err.to_string().contains("is not https"), "{err}");
        let help = err.help();
        assert!(
            help.contains("`INVHOOKS_ALLOW_INSECURE_SANDBOX=sandbox`"),
            "{help}"
        );
        assert!(BaseUrl::parse("http://sandbox:8787/v2.0", Some("other,1")).is_err());
        let base = BaseUrl::parse("http://Sandbox:8787/v2.0", Some("db, sandbox")).unwrap();
        assert_eq!(base.url.as_str(), "http://sandbox:8787/v2.0/");
        assert_eq!(base.insecure.as_deref(), Some("sandbox:8787"));
        assert!(base.warning().unwrap().contains("clear text"));
        let base = BaseUrl::parse("http://sandbox/v2.0", Some("sandbox")).unwrap();
        assert_eq!(base.insecure.as_deref(), Some("sandbox:80"));
    }

    #[test]
    fn the_opt_in_never_applies_to_inveterates_api() {
        for raw in [
            "http://public.inveterateapi.com/v2.0",
            "http://PUBLIC.InveterateAPI.com./v2.0",
            "http://inveterateapi.com/v2.0",
            "http://staging.eu.inveterateapi.com:8080/v2.0",
        ] {
            let host = Url::parse(raw).unwrap().host_str().unwrap().to_owned();
            let err = BaseUrl::parse(raw, Some(&format!("{host},inveterateapi.com"))).unwrap_err();
            assert!(
                err.to_string().contains("plain http to Inveterate's API"),
                "{raw}: {err}"
            );
            assert!(err.help().contains("never applies"), "{raw}");
        }
        // A look-alike host is not Inveterate's.
        assert!(BaseUrl::parse("http://notinveterateapi.com/v2.0", Some("notinveterateapi.com")).is_ok());
    }
}
