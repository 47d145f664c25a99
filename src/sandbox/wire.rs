//! The sandbox's own wire format, shared with no client it tests: bodies (bounded), their validation
//! (a 400 names every problem), the envelope; and the accepted API keys: which is which merchant (a
//! labelled digest: keys may be reordered between runs), each kept out of what the sandbox says.

use std::sync::{PoisonError, RwLock, RwLockReadGuard};
use std::time::Duration;

use anyhow::ensure;
use http_body_util::{BodyExt, Full};
use hyper::body::{Body, Bytes};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::{Method, StatusCode};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub(crate) type Response = hyper::Response<Full<Bytes>>;

pub(crate) const RESOURCE: &str = "/v2.0/admin/webhook-subscriptions";
const BODY_LIMIT: usize = 1024 * 1024;
/// An oversize body is drained up to this, so the client can read the 400.
const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// A JSON answer: its status and body, an envelope `{"message": …, "data": …}` with
/// `message` first as Inveterate writes it, or (`/_sandbox/`, no message) the data alone.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) message: Option<String>,
    pub(crate) data: Value,
}

impl Reply {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>, data: Value) -> Reply {
        let message = Some(message.into());
        Reply {
            status,
            message,
            data,
        }
    }

    pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply::new(status, message, json!({}))
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }

    pub(crate) fn into_response(self) -> Response {
        #[derive(serde::Serialize)]
        struct Envelope<'a> {
            message: &'a str,
            data: &'a Value,
        }
        let body = match &self.message {
            Some(message) => serde_json::to_vec(&Envelope {
                message,
                data: &self.data,
            }),
            None => serde_json::to_vec(&self.data),
        };
        let mut response = Response::new(Full::from(body.unwrap_or_default()));
        *response.status_mut() = self.status;
        let json = HeaderValue::from_static("application/json");
        response.headers_mut().insert(CONTENT_TYPE, json);
        response
    }
}

/// The whole body, up to 1 MiB; a larger one is drained (unless its `Content-Length` says) and refused.
pub(crate) async fn read_body(body: impl Body<Data = Bytes>) -> Result<Bytes, Reply> {
    let too_large = || Reply::bad_request("request body is larger than 1 MiB");
    if body.size_hint().lower() > DRAIN_LIMIT as u64 {
        return Err(too_large());
    }
    let read = async {
        let mut body = std::pin::pin!(body);
        let (mut buf, mut total) = (Vec::new(), 0usize);
        while total <= DRAIN_LIMIT {
            let Some(frame) = body.frame().await else { break };
            let frame = frame.map_err(|_| Reply::bad_request("request body could not be read"))?;
            let chunk = frame.into_data().unwrap_or_default();
            total = total.saturating_add(chunk.len());
            if total <= BODY_LIMIT {
                buf.extend_from_slice(&chunk);
            }
        }
        (total <= BODY_LIMIT)
            .then(|| Bytes::from(buf))
            .ok_or_else(too_large)
    };
    let late = |_| Reply::bad_request("request body was not sent in time");
    tokio::time::timeout(BODY_TIMEOUT, read).await.map_err(late)?
}

pub(crate) fn wrong_method(keys: &AcceptedKeys, method: &Method, path: &str, allowed: &str) -> Reply {
    let method = keys.quote(method.as_str());
    let message = format!("method `{method}` is not allowed on `{path}`; use {allowed}");
    Reply::bad_request(message)
}

/// A valid request to the resource; `url` is the `callbackUrl`.
#[derive(Debug)]
pub(crate) enum Input {
    List,
    Create {
        topic: String,
        name: String,
        url: String,
    },
    Update {
        topic: String,
        id: String,
        name: Option<String>,
        url: Option<String>,
    },
    Delete {
        topic: String,
        id: String,
    },
}

impl Input {
    /// What a body of `method` holds, for messages; a 400 for other methods.
    pub(crate) fn expected(method: &Method, keys: &AcceptedKeys) -> Result<&'static str, Reply> {
        match *method {
            Method::GET => Ok("nothing"),
            Method::POST => Ok("`topic`, `callbackUrl` and `name`"),
            Method::PUT => Ok("`topic`, `id` and optionally `callbackUrl`, `name`"),
            Method::DELETE => Ok("`topic` and `id`"),
            _ => Err(wrong_method(keys, method, RESOURCE, "GET, POST, PUT or DELETE")),
        }
    }

    /// Every problem at once (a field holding an accepted key is one).
    pub(crate) fn parse(method: &Method, body: &[u8], keys: &AcceptedKeys) -> Result<Input, Reply> {
        if method == Method::GET {
            return Ok(Input::List);
        }
        let mut fields = Fields::parse(body, Input::expected(method, keys)?, keys)?;
        // A required field missing or invalid comes back empty, and `finish` fails: it is never used.
        let topic = fields.required("topic");
        let input = match *method {
            Method::POST => {
                let url = fields.required("callbackUrl");
                let name = fields.required("name");
                fields.check_topic(&topic, "");
                fields.check_url(&url);
                Input::Create { topic, name, url }
            }
            Method::PUT => {
                let id = fields.required("id");
                let url = fields.take("callbackUrl", false);
                let name = fields.take("name", false);
                fields.check_url(url.as_deref().unwrap_or_default());
                Input::Update { topic, id, name, url }
            }
            _ => Input::Delete {
                id: fields.required("id"),
                topic,
            },
        };
        fields.finish()?;
        Ok(input)
    }
}

/// A `POST /_sandbox/trigger` body: a documented topic, and the payload (`None`: the topic's sample).
pub(crate) fn parse_trigger(body: &[u8], keys: &AcceptedKeys) -> Result<(String, Option<Value>), Reply> {
    let mut fields = Fields::parse(body, "`topic` and optionally `payload`", keys)?;
    let topic = fields.required("topic");
    fields.check_topic(&topic, "; `invhooks topics` lists them");
    let payload = match fields.map.remove("payload") {
        None | Some(Value::Null) => None,
        Some(payload @ Value::Object(_)) if !keys.occur_in(&payload.to_string()) => Some(payload),
        Some(Value::Object(_)) => {
            fields.problem("field `payload` contains an API key; receivers never get one")
        }
        Some(other) => fields.problem(format!("field `payload` must be an object, got {}", kind(&other))),
    };
    fields.finish()?;
    Ok((topic, payload))
}

/// A JSON object body's fields, taken one by one; problems pile up.
struct Fields<'k> {
    map: Map<String, Value>,
    problems: Vec<String>,
    keys: &'k AcceptedKeys,
}

impl<'k> Fields<'k> {
    fn parse(body: &[u8], expected: &str, keys: &'k AcceptedKeys) -> Result<Fields<'k>, Reply> {
        if body.iter().all(u8::is_ascii_whitespace) {
            let message = format!("request body is empty; expected a JSON object with {expected}");
            return Err(Reply::bad_request(message));
        }
        let message = match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => {
                let problems = Vec::new();
                return Ok(Fields { map, problems, keys });
            }
            Ok(other) => format!(
                "request body must be a JSON object with {expected}, got {}",
                kind(&other)
            ),
            Err(err) => format!("request body is not valid JSON: {}", keys.scrub(&err.to_string())),
        };
        Err(Reply::bad_request(message))
    }

    /// Empty when it is not a non-empty string.
    fn required(&mut self, name: &str) -> String {
        self.take(name, true).unwrap_or_default()
    }

    /// A non-empty string holding no key, or a problem (none for an optional one absent or null).
    fn take(&mut self, name: &str, required: bool) -> Option<String> {
        let problem = match self.map.remove(name) {
            None | Some(Value::Null) if !required => return None,
            None => format!("missing required field `{name}`"),
            Some(Value::String(s)) if s.is_empty() => format!("field `{name}` must not be empty"),
            Some(Value::String(s)) if self.keys.occur_in(&s) => {
                format!("field `{name}` contains an API key; the sandbox never stores one")
            }
            Some(Value::String(s)) => return Some(s),
            Some(other) => format!("field `{name}` must be a string, got {}", kind(&other)),
        };
        self.problem(problem)
    }

    fn problem<T>(&mut self, problem: impl Into<String>) -> Option<T> {
        self.problems.push(problem.into());
        None
    }

    fn check_topic(&mut self, topic: &str, hint: &str) {
        if !topic.is_empty() && !crate::topic::is_known(topic) {
            self.problem::<()>(format!("unknown topic `{}`{hint}", self.keys.quote(topic)));
        }
    }

    /// Never quoted back: it may carry a secret.
    fn check_url(&mut self, url: &str) {
        let valid = url == url.trim()
            && url::Url::parse(url).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
            });
        if !url.is_empty() && !valid {
            self.problem::<()>("field `callbackUrl` must be an absolute http or https URL");
        }
    }

    /// Any field nobody took is a problem too.
    fn finish(mut self) -> Result<(), Reply> {
        let unknown = self
            .map
            .keys()
            .map(|name| format!("unknown field `{}`", self.keys.quote(name)));
        self.problems.extend(unknown);
        match self.problems.is_empty() {
            true => Ok(()),
            false => Err(Reply::bad_request(self.problems.join("; "))),
        }
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

const LABEL: &[u8] = b"invhooks sandbox merchant v1\0";
const QUOTE_LIMIT: usize = 100;

/// `m_` and the first 16 hex digits of SHA-256(label ‖ key).
pub(crate) fn merchant_id(key: &str) -> String {
    let digest = Sha256::new().chain_update(LABEL).chain_update(key).finalize();
    format!("m_{:.16}", format!("{digest:x}"))
}

/// [`Sandbox::seed`](super::Sandbox::seed) may add one while it runs.
pub(crate) struct AcceptedKeys(RwLock<Vec<String>>);

impl AcceptedKeys {
    pub(crate) fn new(api_keys: &[String]) -> anyhow::Result<AcceptedKeys> {
        for (index, key) in api_keys.iter().enumerate() {
            let number = index + 1;
            ensure!(!key.is_empty(), "API key number {number} is empty");
            ensure!(
                !api_keys[..index].contains(key),
                "API key number {number} repeats an earlier key; each key is one merchant"
            );
        }
        Ok(AcceptedKeys(RwLock::new(api_keys.to_vec())))
    }

    fn read(&self) -> RwLockReadGuard<'_, Vec<String>> {
        self.0.read().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn merchant(&self, key: &str) -> Option<String> {
        self.read().iter().any(|k| k == key).then(|| merchant_id(key))
    }

    /// Accepts `key` (an empty key never); its merchant id.
    pub(crate) fn add(&self, key: &str) -> String {
        let mut keys = self.0.write().unwrap_or_else(PoisonError::into_inner);
        if !key.is_empty() && !keys.iter().any(|k| k == key) {
            keys.push(key.to_owned());
        }
        merchant_id(key)
    }

    pub(crate) fn occur_in(&self, text: &str) -> bool {
        self.read().iter().any(|key| text.contains(key.as_str()))
    }

    pub(crate) fn scrub(&self, text: &str) -> String {
        let scrub = |text: String, key: &String| text.replace(key.as_str(), "***");
        self.read().iter().fold(text.to_owned(), scrub)
    }

    /// The one place quoted request text is scrubbed: no backtick or control character, keys
    /// scrubbed before the cut (no piece survives).
    pub(crate) fn quote(&self, text: &str) -> String {
        let clean: String = text.chars().filter(|c| !c.is_control() && *c != '`').collect();
        let scrubbed = self.scrub(&clean);
        let mut out: String = scrubbed.chars().take(QUOTE_LIMIT).collect();
        if scrubbed.chars().count() > QUOTE_LIMIT {
            out.push('…');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn merchant_ids_are_labelled_digests_of_the_key() {
        let id = merchant_id("sk_test_secret_one");
        assert_eq!(id.len(), 2 + 16);
        assert!(id.starts_with("m_") && id[2..].chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(id, merchant_id("sk_test_secret_one"), "stable across runs");
        assert_ne!(id, merchant_id("sk_test_secret_two"));
        // Not the plain SHA-256 of the key.
        let plain = Sha256::digest(b"sk_test_secret_one");
        assert_ne!(&id[2..4], format!("{:02x}", plain[0]));
    }

    #[test]
    fn keys_are_distinct_and_non_empty() {
        let Err(err) = AcceptedKeys::new(&["a".into(), "a".into()]) else {
            panic!("a repeated key was accepted");
        };
        assert!(err.to_string().contains("number 2 repeats"), "{err}");
        assert!(AcceptedKeys::new(&[String::new()]).is_err());
        let keys = AcceptedKeys::new(&["a".into(), "b".into()]).unwrap();
        assert_eq!(keys.merchant("b"), Some(merchant_id("b")));
        assert_eq!(keys.merchant("c"), None);
        assert_eq!(keys.add("c"), merchant_id("c"));
        assert_eq!(keys.merchant("c"), Some(merchant_id("c")));
    }

    #[test]
    fn quoting_scrubs_every_key_before_it_cuts() {
        let keys = AcceptedKeys::new(&["sk_live_0123456789".into()]).unwrap();
        assert_eq!(keys.quote("a`b\nc"), "abc");
        assert_eq!(keys.quote("x-sk_live_0123456789-y"), "x-***-y");
        // A key split by a control character is joined, then scrubbed.
        assert_eq!(keys.quote("sk_live_01234\n56789"), "***");
        // A key across the cut leaves no piece behind.
        let long = format!("{}sk_live_0123456789", "a".repeat(95));
        let quoted = keys.quote(&long);
        assert!(!quoted.contains("sk_live"), "{quoted}");
        assert!(quoted.ends_with("***"), "{quoted}");
    }
}
