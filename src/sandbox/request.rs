//! Reading and validating a request: the body, bounded in size and time,
//! and its JSON fields, checked one by one so a 400 names every problem at
//! once. Nothing here touches the store.

use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::{Body, Bytes};
use hyper::{header, HeaderMap};
use serde_json::{Map, Value};

use super::keys::Keys;
use super::wire::{kind, Op, Reply};

/// Largest accepted request body.
const BODY_LIMIT: usize = 1024 * 1024;
/// An oversize body is drained up to this size, so the client can still
/// read the 400; beyond it the connection is simply closed.
const DRAIN_LIMIT: usize = 16 * BODY_LIMIT;
/// How long a client may take to send its body.
const BODY_TIMEOUT: Duration = Duration::from_secs(30);

/// Reads the whole body, up to [`BODY_LIMIT`]. A larger body is drained
/// (up to [`DRAIN_LIMIT`]) and refused; a stalled one times out.
pub(crate) async fn read_body(body: impl Body<Data = Bytes>, headers: &HeaderMap) -> Result<Bytes, Reply> {
    let too_large = || Reply::bad_request("request body is larger than 1 MiB");
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > DRAIN_LIMIT as u64) {
        return Err(too_large());
    }
    let read = async {
        let mut body = std::pin::pin!(body);
        let mut buf = Vec::new();
        let mut total = 0usize;
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|_| Reply::bad_request("request body could not be read"))?;
            let Ok(chunk) = frame.into_data() else { continue };
            total = total.saturating_add(chunk.len());
            if total > DRAIN_LIMIT {
                return Err(too_large());
            }
            if total <= BODY_LIMIT {
                buf.extend_from_slice(&chunk);
            } else {
                buf = Vec::new();
            }
        }
        if total > BODY_LIMIT {
            Err(too_large())
        } else {
            Ok(Bytes::from(buf))
        }
    };
    tokio::time::timeout(BODY_TIMEOUT, read)
        .await
        .unwrap_or_else(|_| Err(Reply::bad_request("request body was not sent in time")))
}

/// A validated request.
#[derive(Debug)]
pub(crate) enum Input {
    List,
    Create {
        topic: String,
        name: String,
        callback_url: String,
    },
    Update {
        topic: String,
        id: String,
        name: Option<String>,
        callback_url: Option<String>,
    },
    Delete {
        topic: String,
        id: String,
    },
}

impl Input {
    /// Validates the body of `op`, reporting every problem at once. A
    /// field holding an accepted key is refused: the sandbox never stores
    /// a key, and never quotes one back.
    pub(crate) fn parse(op: Op, body: &[u8], keys: &Keys) -> Result<Input, Reply> {
        let expected = match op {
            Op::List => return Ok(Input::List),
            Op::Create => "`topic`, `callbackUrl` and `name`",
            Op::Update => "`topic`, `id` and optionally `callbackUrl`, `name`",
            Op::Delete => "`topic` and `id`",
        };
        let mut fields = Fields::parse(body, expected, keys)?;
        // Required fields come back empty when missing or invalid; `finish`
        // then fails, so an empty value is never used.
        let input = match op {
            Op::List => Input::List,
            Op::Create => {
                let topic = fields.required("topic");
                let callback_url = fields.required("callbackUrl");
                let name = fields.required("name");
                if !topic.is_empty() && !crate::topic::is_known(&topic) {
                    fields.problem(format!("unknown topic `{}`", keys.quote(&topic)));
                }
                fields.check_url(&callback_url);
                Input::Create {
                    topic,
                    name,
                    callback_url,
                }
            }
            Op::Update => {
                let topic = fields.required("topic");
                let id = fields.required("id");
                let callback_url = fields.optional("callbackUrl");
                let name = fields.optional("name");
                fields.check_url(callback_url.as_deref().unwrap_or_default());
                Input::Update {
                    topic,
                    id,
                    name,
                    callback_url,
                }
            }
            Op::Delete => {
                let topic = fields.required("topic");
                let id = fields.required("id");
                Input::Delete { topic, id }
            }
        };
        fields.finish()?;
        Ok(input)
    }
}

/// A valid `POST /_sandbox/trigger` body.
#[derive(Debug)]
pub(crate) struct Trigger {
    /// A documented topic.
    pub(crate) topic: String,
    /// The payload to deliver; `None` for the topic's sample.
    pub(crate) payload: Option<Value>,
}

impl Trigger {
    /// Reads `{"topic": T, "payload": {...}}` (`payload` optional, an
    /// object); every problem is named in one 400, as for the resource.
    pub(crate) fn parse(body: &[u8], keys: &Keys) -> Result<Trigger, Reply> {
        let expected = "`topic` and optionally `payload`";
        let mut fields = Fields::parse(body, expected, keys)?;
        let topic = fields.required("topic");
        if !topic.is_empty() && !crate::topic::is_known(&topic) {
            fields.problem(format!(
                "unknown topic `{}`; `invhooks topics` lists them",
                keys.quote(&topic)
            ));
        }
        let payload = match fields.object.remove("payload") {
            None | Some(Value::Null) => None,
            Some(payload @ Value::Object(_)) if keys.occur_in(&payload.to_string()) => {
                fields.problem("field `payload` contains an API key; receivers never get one".to_owned());
                None
            }
            Some(payload @ Value::Object(_)) => Some(payload),
            Some(other) => {
                fields.problem(format!("field `payload` must be an object, got {}", kind(&other)));
                None
            }
        };
        fields.finish()?;
        Ok(Trigger { topic, payload })
    }
}

/// The fields of a JSON object body, taken one by one; problems pile up.
struct Fields<'k> {
    object: Map<String, Value>,
    problems: Vec<String>,
    keys: &'k Keys,
}

impl<'k> Fields<'k> {
    fn parse(body: &[u8], expected: &str, keys: &'k Keys) -> Result<Fields<'k>, Reply> {
        if body.iter().all(u8::is_ascii_whitespace) {
            return Err(Reply::bad_request(format!(
                "request body is empty; expected a JSON object with {expected}"
            )));
        }
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(object)) => Ok(Fields {
                object,
                problems: Vec::new(),
                keys,
            }),
            Ok(other) => Err(Reply::bad_request(format!(
                "request body must be a JSON object with {expected}, got {}",
                kind(&other)
            ))),
            Err(err) => Err(Reply::bad_request(format!(
                "request body is not valid JSON: {}",
                keys.scrub(&err.to_string())
            ))),
        }
    }

    /// A field that must be a non-empty string; empty when it is not.
    fn required(&mut self, name: &str) -> String {
        if !self.object.contains_key(name) {
            self.problem(format!("missing required field `{name}`"));
        }
        self.string(name).unwrap_or_default()
    }

    /// A field that, when present and not null, must be a non-empty string.
    fn optional(&mut self, name: &str) -> Option<String> {
        match self.object.get(name) {
            None | Some(Value::Null) => {
                self.object.remove(name);
                None
            }
            Some(_) => self.string(name),
        }
    }

    fn string(&mut self, name: &str) -> Option<String> {
        match self.object.remove(name)? {
            Value::String(s) if s.is_empty() => {
                self.problem(format!("field `{name}` must not be empty"));
                None
            }
            Value::String(s) if self.keys.occur_in(&s) => {
                self.problem(format!(
                    "field `{name}` contains an API key; the sandbox never stores one"
                ));
                None
            }
            Value::String(s) => Some(s),
            other => {
                self.problem(format!("field `{name}` must be a string, got {}", kind(&other)));
                None
            }
        }
    }

    /// A callback URL must be an absolute http(s) URL. It is never quoted
    /// back: it may carry a secret.
    /// An empty `url` is skipped (absent, or already reported).
    fn check_url(&mut self, url: &str) {
        if url.is_empty() {
            return;
        }
        let valid = url == url.trim()
            && url::Url::parse(url).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https") && u.host_str().is_some_and(|h| !h.is_empty())
            });
        if !valid {
            self.problem("field `callbackUrl` must be an absolute http or https URL".to_owned());
        }
    }

    fn problem(&mut self, message: String) {
        self.problems.push(message);
    }

    /// Fails on any problem, and on any field nobody took.
    fn finish(mut self) -> Result<(), Reply> {
        for name in self.object.keys() {
            self.problems
                .push(format!("unknown field `{}`", self.keys.quote(name)));
        }
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(Reply::bad_request(self.problems.join("; ")))
        }
    }
}
