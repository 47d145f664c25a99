//! Reading Inveterate's `{"message", "data"}` envelope, tolerantly: the list
//! shape inside `data` is undocumented, so an array, or an object holding
//! exactly one array of subscription objects, are both accepted, and extra
//! fields are ignored. Anything else is an error, never an empty list: a
//! misread GET must not become a plan that re-creates everything.

use serde::Deserialize;
use serde_json::Value;

use crate::model::LiveSubscription;

mod typed;

/// Why a response body could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON (an HTML error page from a proxy, or truncated JSON).
    #[error("the response is not JSON ({0})")]
    NotJson(String),
    /// JSON, but not the list shape the tool knows.
    #[error("unrecognised list shape: {0}")]
    Shape(String),
}

/// The `message` of an envelope, if the body is one (used for errors).
pub fn message(body: &[u8]) -> Option<String> {
    #[derive(Deserialize)]
    struct Envelope {
        message: Option<String>,
    }
    serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.message)
        .filter(|m| !m.trim().is_empty())
}

/// Parses a GET response into subscriptions.
///
/// A well-formed list is read in one typed pass ([`typed::parse_list`]),
/// straight into [`LiveSubscription`]s; anything that pass does not accept
/// is read again through `serde_json::Value` below, which accepts exactly
/// the same lists and words every error.
pub fn parse_list(body: &[u8]) -> Result<Vec<LiveSubscription>, BodyError> {
    match typed::parse_list(body) {
        Some(list) => Ok(list),
        None => parse_list_value(body),
    }
}

/// [`parse_list`] through `serde_json::Value` only: slower, and the one
/// that explains what is wrong. Public (hidden) for `benches/core.rs`.
#[doc(hidden)]
pub fn parse_list_value(body: &[u8]) -> Result<Vec<LiveSubscription>, BodyError> {
    let value = parse_json(body)?;
    let data = data(&value)?;
    let items = match data {
        Value::Array(items) => items,
        Value::Object(map) => {
            let arrays: Vec<(&String, &Vec<Value>)> = map
                .iter()
                .filter_map(|(k, v)| v.as_array().map(|a| (k, a)))
                .collect();
            match arrays.as_slice() {
                [(_, items)] => *items,
                [] => {
                    return Err(BodyError::Shape(
                        "`data` is an object without an array of subscriptions".into(),
                    ))
                }
                several => {
                    let keys: Vec<&str> = several.iter().map(|(k, _)| k.as_str()).collect();
                    return Err(BodyError::Shape(format!(
                        "`data` holds several arrays ({}); cannot tell which lists the subscriptions",
                        keys.join(", ")
                    )));
                }
            }
        }
        other => {
            return Err(BodyError::Shape(format!(
                "`data` is {}, expected a list of subscriptions",
                kind(other)
            )))
        }
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| subscription(item).map_err(|e| BodyError::Shape(format!("item {i}: {e}"))))
        .collect()
}

/// [`parse_list`]'s typed pass alone. Public (hidden) for `benches/core.rs`.
#[doc(hidden)]
pub fn parse_list_typed(body: &[u8]) -> Option<Vec<LiveSubscription>> {
    typed::parse_list(body)
}

/// Parses a create/update response's `data` as one subscription, if it is one.
pub fn parse_one(body: &[u8]) -> Option<LiveSubscription> {
    let value = parse_json(body).ok()?;
    subscription(data(&value).ok()?).ok()
}

fn parse_json(body: &[u8]) -> Result<Value, BodyError> {
    serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(60)]).replace(['\n', '\r'], " ");
        BodyError::NotJson(format!("{e}; it starts with {start:?}"))
    })
}

fn data(value: &Value) -> Result<&Value, BodyError> {
    match value {
        Value::Object(map) => map
            .get("data")
            .ok_or_else(|| BodyError::Shape("the envelope has no `data` field".into())),
        other => Err(BodyError::Shape(format!(
            "the body is {}, expected an object with `message` and `data`",
            kind(other)
        ))),
    }
}

fn subscription(item: &Value) -> Result<LiveSubscription, String> {
    let Value::Object(map) = item else {
        return Err(format!("{} instead of a subscription object", kind(item)));
    };
    let field = |name: &str| -> Result<String, String> {
        match map.get(name) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) if name == "id" => Ok(n.to_string()),
            Some(other) => Err(format!("`{name}` is {}, expected a string", kind(other))),
            None => Err(format!("missing `{name}`")),
        }
    };
    Ok(LiveSubscription {
        id: field("id")?,
        topic: field("topic")?,
        name: field("name")?,
        callback_url: field("callbackUrl")?,
    })
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

#[cfg(test)]
mod tests;
