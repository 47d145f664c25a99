//! The sandbox's own wire vocabulary: the four operations ([`Op`]), the
//! JSON responses it writes, and the envelope most of them are
//! ([`Reply`]). Written here, not shared with the client's envelope
//! reader (`api::envelope`): a test double shares no code with what it
//! tests. A leaf.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::StatusCode;
use serde_json::{json, Value};

/// Every response the sandbox sends: a whole body.
pub(crate) type Response = hyper::Response<Full<Bytes>>;

/// The four operations of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    List,
    Create,
    Update,
    Delete,
}

/// `body` as `application/json` with `status`.
pub(crate) fn json_response(status: StatusCode, body: &Value) -> Response {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// An envelope response: `{"message": …, "data": …}`.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    message: String,
    data: Value,
}

impl Reply {
    pub(crate) fn ok(status: StatusCode, message: &str, data: Value) -> Reply {
        Reply {
            status,
            message: message.to_owned(),
            data,
        }
    }

    /// An error envelope: `data` is `{}`.
    pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply {
            status,
            message: message.into(),
            data: json!({}),
        }
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }

    /// The `data` to send, for a lie to rewrite.
    pub(crate) fn data_mut(&mut self) -> &mut Value {
        &mut self.data
    }

    pub(crate) fn into_response(self) -> Response {
        json_response(
            self.status,
            &json!({ "message": self.message, "data": self.data }),
        )
    }
}

/// What a JSON value is, for messages: `a string`, `an array`, …
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
