//! Lists that cannot be trusted to be whole. The list endpoint documents no
//! pagination, but a future or proxied list may arrive in pages
//! (`inveterate-api.md`, "The one resource"): planning from the first page
//! would create everything on the others, on every run. So the envelope is
//! searched for the common pagination hints — at the top level beside
//! `message`/`data`, inside `data` beside the list, and one level into a
//! `pagination`/`paging`/`pageInfo`/`meta`/`links`/`page` object there —
//! in camelCase, snake_case or PascalCase, and a hint that says the list
//! is incomplete is an error ([`check`]). Hints that say it is complete are
//! fine: a `Count` equal to the list's length, `next: null`,
//! `hasMore: false`, an empty cursor.

use std::collections::BTreeMap;

use serde_json::Value;

use super::BodyError;

/// Hints found, by path (`total`, `data.nextPage`, `meta.total`), each key's
/// last value (as `serde_json::Value` keeps a repeated key's last value).
pub type Hints = BTreeMap<String, Value>;

/// What a hint's name says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// How many items there are in all (`total`, `Count`, `totalCount`).
    Total,
    /// How many pages there are (`totalPages`).
    Pages,
    /// Where the next page starts (`next`, `nextToken`, `cursor`,
    /// `LastEvaluatedKey`).
    Next,
    /// Whether there is more (`hasMore`, `hasNextPage`, `isTruncated`).
    More,
}

/// `key` lowercased without `_` and `-`, so `next_page`, `nextPage` and
/// `NextPage` are one name.
fn normalise(key: &str) -> String {
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn kind(key: &str) -> Option<Kind> {
    Some(match normalise(key).as_str() {
        "total" | "totalcount" | "totalitems" | "totalresults" | "totalrecords" | "totalsize" | "count"
        | "itemcount" => Kind::Total,
        "totalpages" | "pagecount" | "numpages" | "lastpage" => Kind::Pages,
        "next" | "nextpage" | "nextpagetoken" | "nexttoken" | "nextcursor" | "cursor" | "nextkey"
        | "nexturl" | "nextlink" | "lastevaluatedkey" | "continuationtoken" => Kind::Next,
        "hasmore" | "hasnextpage" | "hasnext" | "more" | "istruncated" | "truncated" => Kind::More,
        _ => return None,
    })
}

fn is_container(key: &str) -> bool {
    matches!(
        normalise(key).as_str(),
        "pagination" | "paging" | "pageinfo" | "meta" | "links" | "page"
    )
}

/// Whether the value under `key` must be kept for [`record`].
pub fn wanted(key: &str) -> bool {
    kind(key).is_some() || is_container(key)
}

/// Records `value` found under `key` (a [`wanted`] one) at `prefix` (`""`
/// for the top level, `"data."` inside `data`).
pub fn record(hints: &mut Hints, prefix: &str, key: &str, value: Value) {
    match value {
        Value::Object(map) if is_container(key) && kind(key).is_none() => {
            for (inner, value) in map {
                if kind(&inner).is_some() {
                    hints.insert(format!("{prefix}{key}.{inner}"), value);
                }
            }
        }
        value if kind(key).is_some() => {
            hints.insert(format!("{prefix}{key}"), value);
        }
        _ => {}
    }
}

/// Records every [`wanted`] entry of `map` (the caller leaves out `data`
/// at the top level, and arrays inside `data`).
pub fn record_all<'a>(
    hints: &mut Hints,
    prefix: &str,
    map: impl IntoIterator<Item = (&'a String, &'a Value)>,
) {
    for (key, value) in map {
        if wanted(key) {
            record(hints, prefix, key, value.clone());
        }
    }
}

/// An error if any hint says a list of `len` items is not the whole list.
pub fn check(len: usize, hints: &Hints) -> Result<(), BodyError> {
    for (path, value) in hints {
        let name = path.rsplit('.').next().unwrap_or(path);
        let Some(kind) = kind(name) else { continue };
        let says = match kind {
            Kind::Total => number(value)
                .filter(|&n| n > len as f64)
                .map(|n| format!("the API returned {len} of {n} subscriptions")),
            Kind::Pages => number(value)
                .filter(|&n| n > 1.0)
                .map(|n| format!("the API returned {} on the first of {n} pages", count(len))),
            Kind::Next => {
                more_follows(value).then(|| format!("the API returned {} and a next page", count(len)))
            }
            Kind::More => {
                yes(value).then(|| format!("the API returned {} and says there are more", count(len)))
            }
        };
        if let Some(says) = says {
            return Err(BodyError::Incomplete(format!(
                "{says} (`{}`: {}) and invhooks does not page; refusing a partial list, which would plan a create for every subscription it misses",
                crate::escape::escape(path),
                shown(value)
            )));
        }
    }
    Ok(())
}

/// `1 subscription`, `2 subscriptions`.
fn count(len: usize) -> String {
    if len == 1 {
        "1 subscription".to_owned()
    } else {
        format!("{len} subscriptions")
    }
}

/// A number, or a string holding one.
fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Whether a next-page token or cursor points somewhere: anything but
/// `null`, `false`, `0`, an empty string, array or object.
fn more_follows(value: &Value) -> bool {
    match value {
        Value::Null | Value::Bool(false) => false,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) => !s.trim().is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
        Value::Bool(true) => true,
    }
}

/// Whether a "there is more" flag is set: `true`, `"true"`, or a number
/// other than 0.
fn yes(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        _ => false,
    }
}

/// A hint's value for a message: compact JSON, at most 40 characters,
/// unsafe characters escaped.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    let cut: String = text.chars().take(40).collect();
    let cut = if cut.len() < text.len() {
        format!("{cut}…")
    } else {
        cut
    };
    crate::escape::escape(&cut).into_owned()
}
