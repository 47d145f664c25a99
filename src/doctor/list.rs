//! One GET answer as `doctor` checks (pure), read by [`envelope::shape`] as
//! plans read it, URLs by `validate`'s [`crate::manifest::callback_url_problem`].

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::StatusCode;

use super::{Check, Measured};
use crate::api::envelope::{self, Shape};
use crate::api::{redact_known, ApiError, Failure};
use crate::secret::mask_url;

/// The fields invhooks reads, then those the API docs say come beside them.
const KNOWN_FIELDS: &str = "id topic name callbackUrl merchantId createdAt updatedAt";
/// What to do about an answer plans cannot use.
pub(super) const REPORT: &str = "attach `invhooks doctor --format json` to an invhooks issue";
const REFUSED: &str = "plan and apply refuse this list";

/// The checks of one GET answer, measures into `m`; `key_env` is for advice.
pub fn read(
    (status, headers, body): (StatusCode, &HeaderMap, &[u8]),
    elapsed: Duration,
    key_env: &str,
    m: &mut Measured,
) -> Vec<Check> {
    let ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
    (m.get_status, m.get_ms) = (Some(status.as_u16()), Some(ms));
    m.rate_limit_headers = rate_limit_headers(headers);
    let said = format!("{status} in {ms} ms");
    let mut checks = match (status.is_success(), envelope::shape(body)) {
        (false, _) => vec![refused(status, body, key_env, &said)],
        (true, Ok(shape)) => list(&shape, &said, m),
        (true, Err(e)) => {
            let proxy = "a proxy, firewall or login page answered instead of the API: check HTTPS_PROXY and --base-url";
            let help = if is_html(body) { proxy } else { REPORT };
            let unreadable = Check::fail("envelope", e.to_string(), help);
            vec![Check::ok("get", said), unreadable]
        }
    };
    checks.push(rate_limit(&m.rate_limit_headers));
    checks
}

fn list(shape: &Shape, said: &str, m: &mut Measured) -> Vec<Check> {
    m.subscriptions = Some(shape.list.len());
    m.list_at = Some(shape.at.clone());
    let id_types = shape.id_types.iter().map(|t| t.trim_start_matches("a "));
    m.id_types = id_types.collect();
    let known = |f: &&String| KNOWN_FIELDS.split(' ').any(|k| k == f.as_str());
    let unknown = shape.fields.iter().filter(|f| !known(f));
    m.unknown_fields = unknown.cloned().collect();
    m.pagination_hints = shape.hints.clone();
    let at = match shape.at.strip_prefix("data.") {
        Some(key) => format!("`data` is an object holding the list under `{key}`"),
        None => "`data` is the list (an array)".to_owned(),
    };
    vec![
        Check::ok("get", format!("{said}: {} subscription(s)", shape.list.len())),
        Check::ok("envelope", at),
        ids(shape, &m.id_types),
        fields(&m.unknown_fields),
        pagination(shape),
        duplicates(shape),
        callback_urls(shape),
    ]
}

/// A status other than success; a bad key whether 400, 401 or 403.
fn refused(status: StatusCode, body: &[u8], key_env: &str, said: &str) -> Check {
    let why = match envelope::message(body) {
        Some(message) => format!(": {}", redact_known(&message)),
        None if is_html(body) => ": an HTML page, from a proxy or gateway rather than the API".into(),
        None => String::new(),
    };
    let key_help = format!("check that `{key_env}` holds this store's private API key");
    let (detail, help) = match status.as_u16() {
        400 | 401 | 403 => ("the key was refused", key_help.as_str()),
        404 => (
            "no webhook-subscriptions resource at this base URL",
            "check --base-url: the API's is `https://public.inveterateapi.com/v2.0`",
        ),
        429 => (
            "rate-limited at the first request",
            "wait and re-run; `rate_limit` shows what the API asked",
        ),
        300..=399 => (
            "redirected",
            "invhooks follows only same-origin 307/308 redirects: point --base-url at the API itself",
        ),
        _ => ("the API did not answer the list", REPORT),
    };
    Check::fail("get", format!("{detail} ({said}{why})"), help)
}

fn is_html(body: &[u8]) -> bool {
    body.trim_ascii_start().starts_with(b"<")
}

fn ids(shape: &Shape, types: &[&str]) -> Check {
    let example = (shape.list.first()).map_or(String::new(), |s| format!(", e.g. `{}`", s.id));
    match types {
        [] => Check::ok("ids", "no subscriptions, so no ids to inspect (`--write` creates one)"),
        ["string"] => Check::ok("ids", format!("strings{example}")),
        _ => Check::warn(
            "ids",
            format!("{}s{example}: invhooks sends ids back as strings", types.join("s and ")),
            "run `invhooks doctor --write` on a test store: its rename and delete show whether the API accepts that",
        ),
    }
}

/// `ok` when nothing was `found`, else a warning listing it after `what`.
fn unless_found(name: &'static str, ok: &str, found: Vec<String>, what: &str, help: &str) -> Check {
    match found.is_empty() {
        true => Check::ok(name, ok),
        false => Check::warn(name, format!("{what}{}", listed(found.into_iter())), help),
    }
}

fn fields(unknown: &[String]) -> Check {
    let help = format!("invhooks neither reads nor keeps them (a PUT sends id, topic, name and callbackUrl): if one changes delivery, {REPORT}");
    unless_found(
        "fields",
        "only fields invhooks knows (id, topic, name, callbackUrl and documented extras)",
        unknown.iter().map(|f| format!("`{f}`")).collect(),
        "fields invhooks does not know: ",
        &help,
    )
}

fn pagination(shape: &Shape) -> Check {
    if let Some(e) = &shape.partial {
        return Check::fail("pagination", e.to_string(), format!("{REFUSED}: {REPORT}"));
    }
    if shape.hints.is_empty() {
        let said = "no pagination hints: the list came whole in one GET";
        return Check::ok("pagination", said);
    }
    let hints = listed(shape.hints.iter().map(|(k, v)| format!("`{k}`: {v}")));
    Check::ok("pagination", format!("hints say the list is whole ({hints})"))
}

fn duplicates(shape: &Shape) -> Check {
    if let Some(e) = &shape.repeated {
        return Check::fail("duplicates", e.to_string(), format!("{REFUSED}: {REPORT}"));
    }
    let mut seen = BTreeSet::new();
    let twice: BTreeSet<_> = (shape.list.iter())
        .map(|s| (&s.topic, &s.name))
        .filter(|p| !seen.insert(*p))
        .collect();
    unless_found(
        "duplicates",
        "every id and every (topic, name) is listed once",
        twice.iter().map(|(t, n)| format!("`{n}` on `{t}`")).collect(),
        "several subscriptions share a topic and name: ",
        "the first apply keeps one of each (the one matching the manifest, else the first by id) and deletes the others",
    )
}

fn callback_urls(shape: &Shape) -> Check {
    let refused = (shape.list.iter()).filter_map(|s| {
        let (problem, _) = crate::manifest::callback_url_problem(&s.callback_url, true)?;
        // The key first, in the raw value; then the URL's secret parts.
        let shown = mask_url(&redact_known(&s.callback_url));
        Some(format!("`{}` on `{}`: `{shown}` {problem}", s.name, s.topic))
    });
    unless_found(
        "callback_urls",
        "every callback URL is one a manifest can hold",
        refused.collect(),
        "`validate` would refuse ",
        "`export` cannot write these: fix them in the Inveterate admin (Webhooks) before managing the store",
    )
}

/// `X-RateLimit-*`, `RateLimit-*` and `Retry-After`, by lowercase name.
fn rate_limit_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let wanted = |n: &str| n.strip_prefix("x-").unwrap_or(n).starts_with("ratelimit") || n == "retry-after";
    let value = |v: &HeaderValue| String::from_utf8_lossy(v.as_bytes()).chars().take(80).collect();
    let found = headers.iter().filter(|(name, _)| wanted(name.as_str()));
    found.map(|(name, v)| (name.to_string(), value(v))).collect()
}

fn rate_limit(headers: &BTreeMap<String, String>) -> Check {
    if headers.is_empty() {
        let said = "no rate-limit headers (none documented); apply slows down on a 429 by itself";
        return Check::ok("rate_limit", said);
    }
    let shown = listed(headers.iter().map(|(k, v)| format!("`{k}: {v}`")));
    let spent = |(k, v): (&String, &String)| k.ends_with("-remaining") && v.trim() == "0";
    if !headers.iter().any(spent) {
        return Check::ok("rate_limit", shown);
    }
    let said = format!("{shown}: no requests left in this window");
    let help = "wait for the window to reset before an apply, or lower `apply --parallelism`";
    Check::warn("rate_limit", said, help)
}

/// The first three items joined, then `… and N more`.
fn listed<I: ExactSizeIterator<Item = String>>(items: I) -> String {
    crate::render::first(3, items).collect::<Vec<_>>().join(", ")
}

/// `resolve` and `connect` as the GET found them (`proxy`: `HTTPS_PROXY`), or the
/// check that failed, with `help` for it.
pub fn connection(
    base: &url::Url,
    insecure: bool,
    proxy: Option<String>,
    failed: Option<(&ApiError, String)>,
) -> Vec<Check> {
    let host = base.host_str().unwrap_or_default();
    let resolved = Check::ok("resolve", format!("`{host}` resolves"));
    let Some((e, help)) = failed else {
        let via = proxy.map(|p| format!(" (`HTTPS_PROXY` is `{}`)", mask_url(&p)));
        let via = via.unwrap_or_default();
        let loopback = format!("plain http to loopback `{host}` (a sandbox): no TLS");
        let connected = match (base.scheme(), insecure) {
            ("https", _) => Check::ok("connect", format!("verified TLS to `{host}`{via}")),
            (_, false) => Check::ok("connect", loopback),
            (_, true) => Check::warn(
                "connect",
                format!("plain http to `{host}`: the key travels unencrypted"),
                "only for a sandbox service container; a real store is `https://`",
            ),
        };
        return vec![resolved, connected];
    };
    let phase = match &e.failure {
        Failure::Connect(why) if why.contains("dns error") => {
            let help = "check --base-url (or INVETERATE_BASE_URL) and this machine's DNS";
            let detail = format!("`{host}` does not resolve: {why}");
            return vec![Check::fail("resolve", detail, help)];
        }
        Failure::Connect(_) | Failure::Tls(_) => "connect",
        _ => "get",
    };
    vec![resolved, Check::fail(phase, e.failure.to_string(), help)]
}
