//! Lists that may come in pages (`inveterate-api.md`, "The one resource"):
//! common pagination hints, looked for beside `data`, beside the list in
//! it and one level into a `meta`/`pagination`/… object, in any case style.

use std::collections::BTreeMap;

use serde_json::Value;

use super::BodyError;

/// By path (`total`, `data.nextPage`, `meta.total`).
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
    key.chars()
        .filter(|c| !matches!(c, '_' | '-'))
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

fn is_container(key: &str) -> bool {
    matches!(
        normalise(key).as_str(),
        "pagination" | "paging" | "pageinfo" | "meta" | "links" | "page"
    )
}

/// Records the hints among `entries` under `prefix` (`""` or `"data."`).
pub fn record<'a>(
    hints: &mut Hints,
    prefix: &str,
    entries: impl IntoIterator<Item = (&'a String, &'a Value)>,
) {
    for (key, value) in entries {
        match value {
            Value::Object(map) if is_container(key) && hint(key).is_none() => {
                for (inner, value) in map.iter().filter(|(k, _)| hint(k).is_some()) {
                    hints.insert(format!("{prefix}{key}.{inner}"), value.clone());
                }
            }
            _ if hint(key).is_some() => {
                hints.insert(format!("{prefix}{key}"), value.clone());
            }
            _ => {}
        }
    }
}

/// An error if a hint says a list of `len` is not whole (`next: null` is).
pub fn check(len: usize, hints: &Hints) -> Result<(), BodyError> {
    let subscriptions = format!("{len} subscription{}", if len == 1 { "" } else { "s" });
    for (path, value) in hints {
        let Some(hint) = hint(path.rsplit('.').next().unwrap_or(path)) else {
            continue;
        };
        let says = match hint {
            Hint::Total => number(value)
                .filter(|&n| n > len as f64)
                .map(|n| format!("the API returned {len} of {n} subscriptions")),
            Hint::Pages => number(value)
                .filter(|&n| n > 1.0)
                .map(|n| format!("the API returned {subscriptions} on the first of {n} pages")),
            Hint::Next => {
                set(value, true).then(|| format!("the API returned {subscriptions} and a next page"))
            }
            Hint::More => {
                set(value, false).then(|| format!("the API returned {subscriptions} and says there are more"))
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

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A next-page `token` that points somewhere, or a "more" flag that is set.
fn set(value: &Value, token: bool) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|n| n != 0.0),
        Value::String(s) if token => !s.trim().is_empty(),
        Value::String(s) => s.trim().eq_ignore_ascii_case("true"),
        Value::Array(a) => token && !a.is_empty(),
        Value::Object(o) => token && !o.is_empty(),
    }
}

/// A hint's value for a message: at most 40 characters, escaped.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    let mut cut: String = text.chars().take(40).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    crate::escape::escape(&cut).into_owned()
}
