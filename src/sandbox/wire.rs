//! The shared vocabulary of the sandbox's request path: the four
//! operations ([`Op`]) and the envelope every answer is ([`Reply`]). A
//! leaf: `request`, `faults` and `http` all use it, it uses none of them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// The four operations of the resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    List,
    Create,
    Update,
    Delete,
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

    pub(crate) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
        Reply {
            status,
            message: message.into(),
            data: json!({}),
        }
    }

    /// The `data` to send, for a lie to rewrite.
    pub(crate) fn data_mut(&mut self) -> &mut Value {
        &mut self.data
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> Reply {
        Reply::error(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        let body = json!({ "message": self.message, "data": self.data });
        (self.status, Json(body)).into_response()
    }
}
