//! Which base URL the API client uses: `--base-url`, else
//! `INVETERATE_BASE_URL`, else Inveterate's API, checked by
//! [`api::parse_base_url`] (https, or http on loopback), with one explicit
//! opt-in for a sandbox in a CI service container reached over plain http
//! by a host name of its own ([`ALLOW_INSECURE_ENV`]).

use url::Url;

use super::Helped;
use crate::api::{self, BaseUrlError};

/// Host names (comma-separated) to which plain http is allowed although
/// they are not loopback: a sandbox service container (`sandbox`). Never
/// honoured for Inveterate's own API host.
pub const ALLOW_INSECURE_ENV: &str = "INVHOOKS_ALLOW_INSECURE_SANDBOX";

/// A checked base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl {
    /// The URL, ending in `/`.
    pub url: Url,
    /// `host:port` when it is plain http to a non-loopback host allowed by
    /// [`ALLOW_INSECURE_ENV`]: the key then travels in clear text, and every
    /// run says so.
    pub insecure: Option<String>,
}

impl BaseUrl {
    /// The warning printed on every run that uses the opt-in.
    pub fn warning(&self) -> Option<String> {
        self.insecure.as_ref().map(|host| {
            format!(
                "`{ALLOW_INSECURE_ENV}` sends the API key in clear text (plain http) to `{host}`; use it only for a sandbox service container in CI, never with a real key"
            )
        })
    }
}

/// The raw base URL: the flag, else the environment (empty counts as unset),
/// else the real API.
pub fn raw(flag: Option<&str>, env: Option<&str>) -> String {
    flag.filter(|s| !s.is_empty())
        .or(env.filter(|s| !s.is_empty()))
        .unwrap_or(api::DEFAULT_BASE_URL)
        .to_owned()
}

/// Checks `raw`; `allow_insecure` is the value of [`ALLOW_INSECURE_ENV`].
pub fn resolve(raw: &str, allow_insecure: Option<&str>) -> anyhow::Result<BaseUrl> {
    let context = "check --base-url or INVETERATE_BASE_URL";
    let err = match api::parse_base_url(raw) {
        Ok(url) => return Ok(BaseUrl { url, insecure: None }),
        Err(err @ BaseUrlError::Insecure(_)) => err,
        Err(err) => return Err(anyhow::Error::new(err).context(context)),
    };
    // Plain http to a host that is not loopback.
    let url = Url::parse(raw)?;
    let host = url
        .host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    let shown = format!("{host}:{}", url.port_or_known_default().unwrap_or(80));
    if is_inveterate(&host) {
        return Err(Helped::wrap(
            anyhow::anyhow!(
                "base URL `{}` is plain http to Inveterate's API; the API key must not travel in clear text",
                crate::secret::mask_url(raw)
            ),
            format!(
                "use `{}`; `{ALLOW_INSECURE_ENV}` never applies to `*.inveterateapi.com`",
                api::DEFAULT_BASE_URL
            ),
        ));
    }
    let allowed = allow_insecure
        .unwrap_or_default()
        .split(',')
        .map(|h| h.trim().trim_end_matches('.').to_ascii_lowercase())
        .any(|h| !h.is_empty() && h == host);
    if allowed {
        // The other checks (host, trailing `/`) as for https, then back to http.
        let mut https = url.clone();
        let mut url = https
            .set_scheme("https")
            .ok()
            .and_then(|()| api::parse_base_url(https.as_str()).ok())
            .ok_or_else(|| anyhow::anyhow!("base URL `{}` is not usable", crate::secret::mask_url(raw)))?;
        url.set_scheme("http").map_err(|()| {
            anyhow::anyhow!("base URL `{}` cannot be plain http", crate::secret::mask_url(raw))
        })?;
        return Ok(BaseUrl {
            url,
            insecure: Some(shown),
        });
    }
    Err(Helped::wrap(
        anyhow::Error::new(err).context(context),
        format!(
            "for a sandbox in a CI service container (another host on a private network), opt in with `{ALLOW_INSECURE_ENV}={host}`; never for a real API"
        ),
    ))
}

/// `inveterateapi.com` or any subdomain of it.
pub fn is_inveterate(host: &str) -> bool {
    host == "inveterateapi.com" || host.ends_with(".inveterateapi.com")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn flag_then_environment_then_the_real_api() {
        assert_eq!(
            raw(Some("https://a/v2.0"), Some("https://b/v2.0")),
            "https://a/v2.0"
        );
        assert_eq!(raw(None, Some("https://b/v2.0")), "https://b/v2.0");
        assert_eq!(raw(Some(""), Some("")), api::DEFAULT_BASE_URL);
        assert_eq!(raw(None, None), api::DEFAULT_BASE_URL);
    }

    #[test]
    fn https_and_loopback_need_no_opt_in() {
        for raw in [
            "https://public.inveterateapi.com/v2.0",
            "http://127.0.0.1:8787/v2.0",
        ] {
            let base = resolve(raw, Some("sandbox")).unwrap();
            assert_eq!(base.insecure, None, "{raw}");
            assert_eq!(base.warning(), None);
        }
    }

    #[test]
    fn plain_http_to_another_host_is_refused_unless_that_host_is_listed() {
        let err = resolve("http://sandbox:8787/v2.0", None).unwrap_err();
        let helped = err.downcast_ref::<Helped>().unwrap();
        assert!(
            format!("{:#}", helped.error).contains("is not https"),
            "{:#}",
            helped.error
        );
        assert!(
            helped.help.contains("`INVHOOKS_ALLOW_INSECURE_SANDBOX=sandbox`"),
            "{}",
            helped.help
        );
        assert!(resolve("http://sandbox:8787/v2.0", Some("other,1")).is_err());
        let base = resolve("http://Sandbox:8787/v2.0", Some("db, sandbox")).unwrap();
        assert_eq!(base.url.as_str(), "http://sandbox:8787/v2.0/");
        assert_eq!(base.insecure.as_deref(), Some("sandbox:8787"));
        assert!(base.warning().unwrap().contains("clear text"));
        let base = resolve("http://sandbox/v2.0", Some("sandbox")).unwrap();
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
            let err = resolve(raw, Some(&format!("{host},inveterateapi.com"))).unwrap_err();
            assert!(
                format!("{err}").contains("plain http to Inveterate's API"),
                "{raw}: {err}"
            );
        }
        // A look-alike host is not Inveterate's.
        assert!(resolve("http://notinveterateapi.com/v2.0", Some("notinveterateapi.com")).is_ok());
    }
}
