//! Reading the `{"message", "data"}` envelope: `data` is an array of subscriptions, or an
//! object holding exactly one. Anything else, or a list that may be partial (a pagination
//! hint, a repeated id), is an error, never an empty list that would re-create everything.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

use crate::model::LiveSubscription;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// Not JSON (an HTML error page from a proxy, or truncated JSON).
    #[error("the response is not JSON ({0})")]
    NotJson(String),
    #[error("unrecognised list shape: {0}")]
    Shape(String),
    /// A pagination hint says there is more, or an id is listed twice.
    #[error("{0}")]
    Incomplete(String),
}

/// The `message` of an error's envelope.
pub fn message(body: &[u8]) -> Option<String> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let message = value.get("message")?.as_str()?;
    (!message.trim().is_empty()).then(|| message.to_owned())
}

/// The subscriptions of a GET answer, refusing a list that may not be whole.
pub fn parse_list(body: &[u8]) -> Result<Vec<LiveSubscription>, BodyError> {
    let value = parse_json(body)?;
    let (_, items, hints) = located(&value)?;
    let list = subscriptions(items)?;
    check_hints(list.len(), &hints)?;
    check_ids(&list)?;
    Ok(list)
}

fn check_ids(list: &[LiveSubscription]) -> Result<(), BodyError> {
    let mut seen = HashSet::with_capacity(list.len());
    let repeated: Vec<&str> = (list.iter().map(|s| s.id.as_str()))
        .filter(|id| !seen.insert(*id))
        .collect();
    let Some(first) = repeated.first() else {
        return Ok(());
    };
    Err(BodyError::Incomplete(format!(
        "the API listed id `{}` more than once ({} repeated entries of {}), as overlapping pages would; refusing a list with repeated ids, which could make the plan delete the copy it keeps",
        crate::escape::escape(first),
        repeated.len(),
        list.len()
    )))
}

/// What a list answer looks like, for `doctor`, with [`parse_list`]'s verdicts.
#[derive(Debug)]
pub struct Shape {
    /// `data`, or `data.KEY` in an object.
    pub at: String,
    pub list: Vec<LiveSubscription>,
    /// `a string`, `a number`.
    pub id_types: BTreeSet<&'static str>,
    pub fields: BTreeSet<String>,
    pub hints: Hints,
    /// Why [`parse_list`] refuses the list as partial, or for a repeated id.
    pub partial: Option<BodyError>,
    pub repeated: Option<BodyError>,
}

/// An error where [`parse_list`] cannot read it at all.
pub fn shape(body: &[u8]) -> Result<Shape, BodyError> {
    let value = parse_json(body)?;
    let (at, items, hints) = located(&value)?;
    let list = subscriptions(items)?;
    let objects = || items.iter().filter_map(Value::as_object);
    Ok(Shape {
        id_types: objects().filter_map(|o| o.get("id")).map(kind).collect(),
        fields: objects().flat_map(|o| o.keys().cloned()).collect(),
        partial: check_hints(list.len(), &hints).err(),
        repeated: check_ids(&list).err(),
        at,
        list,
        hints,
    })
}

/// Where the list is (`data`, `data.KEY`), its items, and the hints around it.
fn located(value: &Value) -> Result<(String, &Vec<Value>, Hints), BodyError> {
    let shape = |text: String| Err(BodyError::Shape(text));
    let Value::Object(top) = value else {
        let found = kind(value);
        return shape(format!(
            "the body is {found}, expected an object with `message` and `data`"
        ));
    };
    let Some(data) = top.get("data") else {
        return shape("the envelope has no `data` field".into());
    };
    let mut hints = Hints::new();
    record(&mut hints, "", top.iter().filter(|(k, _)| *k != "data"));
    let map = match data {
        Value::Array(items) => return Ok(("data".to_owned(), items, hints)),
        Value::Object(map) => map,
        other => {
            let found = kind(other);
            return shape(format!("`data` is {found}, expected a list of subscriptions"));
        }
    };
    record(&mut hints, "data.", map.iter().filter(|(_, v)| !v.is_array()));
    let arrays: Vec<(&String, &Vec<Value>)> =
        map.iter().filter_map(|(k, v)| Some((k, v.as_array()?))).collect();
    match arrays[..] {
        [(key, items)] => Ok((format!("data.{key}"), items, hints)),
        [] => shape("`data` is an object without an array of subscriptions".into()),
        _ => {
            let keys: Vec<&str> = arrays.iter().map(|(k, _)| k.as_str()).collect();
            let keys = keys.join(", ");
            shape(format!(
                "`data` holds several arrays ({keys}); cannot tell which lists the subscriptions"
            ))
        }
    }
}

fn subscriptions(items: &[Value]) -> Result<Vec<LiveSubscription>, BodyError> {
    let read = |(i, item)| subscription(item).map_err(|e| BodyError::Shape(format!("item {i}: {e}")));
    items.iter().enumerate().map(read).collect()
}

/// A create's answer: its `data`, if it is one subscription.
pub fn parse_one(body: &[u8]) -> Option<LiveSubscription> {
    let value: Value = serde_json::from_slice(body).ok()?;
    subscription(value.get("data")?).ok()
}

fn parse_json(body: &[u8]) -> Result<Value, BodyError> {
    serde_json::from_slice(body)
        .map_err(|e| BodyError::NotJson(format!("{e}; it starts with {:?}", excerpt(body, 60))))
}

/// The first `len` bytes of `body`, keys masked before the cut so no part of one survives.
fn excerpt(body: &[u8], len: usize) -> String {
    let masked = super::redact_known(&String::from_utf8_lossy(body));
    let end = (0..=len.min(masked.len()))
        .rev()
        .find(|&i| masked.is_char_boundary(i))
        .unwrap_or(0);
    masked[..end].replace(['\n', '\r'], " ")
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

/// Pagination hints by path (`total`, `data.nextPage`, `meta.total`).
pub type Hints = BTreeMap<String, Value>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hint {
    Total,
    Pages,
    Next,
    More,
}

/// `next_page`, `nextPage` and `NextPage` are one name.
fn normalise(key: &str) -> String {
    (key.chars().filter(|c| !matches!(c, '_' | '-')))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn hint(key: &str) -> Option<Hint> {
    Some(match normalise(key).as_str() {
        "total" | "totalcount" | "totalitems" | "totalresults" | "totalrecords" | "totalsize" | "count"
        | "itemcount" => Hint::Total,
        "totalpages" | "pagecount" | "numpages" | "lastpage" => Hint::Pages,
        "next" | "nextpage" | "nextpagetoken" | "nexttoken" | "nextcursor" | "cursor" | "nextkey"
        | "nexturl" | "nextlink" | "lastevaluatedkey" | "continuationtoken" => Hint::Next,
        "hasmore" | "hasnextpage" | "hasnext" | "more" | "istruncated" | "truncated" => Hint::More,
        _ => return None,
    })
}

/// Records the hints among `entries` under `prefix`, and one level into `meta`/`pagination`/….
fn record<'a>(hints: &mut Hints, prefix: &str, entries: impl IntoIterator<Item = (&'a String, &'a Value)>) {
    for (key, value) in entries {
        let containers = ["pagination", "paging", "pageinfo", "meta", "links", "page"];
        match value {
            _ if hint(key).is_some() => drop(hints.insert(format!("{prefix}{key}"), value.clone())),
            Value::Object(map) if containers.contains(&normalise(key).as_str()) => {
                let inner = map.iter().filter(|(k, _)| hint(k).is_some());
                hints.extend(inner.map(|(inner, value)| (format!("{prefix}{key}.{inner}"), value.clone())));
            }
            _ => {}
        }
    }
}

/// An error if a hint says a list of `len` is not whole (`next: null` is).
fn check_hints(len: usize, hints: &Hints) -> Result<(), BodyError> {
    let subscriptions = format!("{len} subscription{}", if len == 1 { "" } else { "s" });
    for (path, value) in hints {
        let number = match value {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        };
        let says = match hint(path.rsplit('.').next().unwrap_or(path)) {
            Some(Hint::Total) => number
                .filter(|&n| n > len as f64)
                .map(|n| format!("{len} of {n} subscriptions")),
            Some(Hint::Pages) => number
                .filter(|&n| n > 1.0)
                .map(|n| format!("{subscriptions} on the first of {n} pages")),
            Some(Hint::Next) => points(value).then(|| format!("{subscriptions} and a next page")),
            Some(Hint::More) => is_set(value).then(|| format!("{subscriptions} and says there are more")),
            None => None,
        };
        let Some(says) = says else { continue };
        let text = value.to_string();
        let cut: String = text.chars().take(40).collect();
        let shown = if cut.len() < text.len() { cut + "…" } else { cut };
        return Err(BodyError::Incomplete(format!(
            "the API returned {says} (`{}`: {}) and invhooks does not page; refusing a partial list, which would plan a create for every subscription it misses",
            crate::escape::escape(path),
            crate::escape::escape(&shown)
        )));
    }
    Ok(())
}

/// A next-page token that points somewhere.
fn points(value: &Value) -> bool {
    match value {
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        other => is_set(other),
    }
}

/// A "more" flag that is set.
fn is_set(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        _ => false,
    }
}

#[cfg(test)]
mod tests;
