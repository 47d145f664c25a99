//! Reading Inveterate's `{"message", "data"}` envelope, tolerantly: the list
//! shape inside `data` is undocumented, so an array, or an object holding
//! exactly one array of subscription objects, are both accepted, and extra
//! fields are ignored. Anything else is an error, never an empty list: a
//! misread GET must not become a plan that re-creates everything.

use serde::Deserialize;
use serde_json::Value;

use crate::model::LiveSubscription;

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
/// A well-formed list is read in one typed pass ([`fast::parse_list`]),
/// straight into [`LiveSubscription`]s; anything that pass does not accept
/// is read again through `serde_json::Value` below, which accepts exactly
/// the same lists and words every error.
pub fn parse_list(body: &[u8]) -> Result<Vec<LiveSubscription>, BodyError> {
    match fast::parse_list(body) {
        Some(list) => Ok(list),
        None => parse_list_value(body),
    }
}

/// [`parse_list`] through `serde_json::Value`: slower, and the one that
/// explains what is wrong.
fn parse_list_value(body: &[u8]) -> Result<Vec<LiveSubscription>, BodyError> {
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

/// The typed pass of [`parse_list`]: `None` whenever the body is not a
/// list it can read in full (the `Value` pass then reads it or says why
/// not). It accepts the same shapes: `data` an array, or an object with
/// exactly one array among its values; items objects with string `id`
/// (or an integer), `topic`, `name` and `callbackUrl`, other fields
/// ignored; a repeated key keeps its last value, as `Value` does.
mod fast {
    use std::fmt;

    use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
    use serde::Deserialize;

    use crate::model::LiveSubscription;

    pub(super) fn parse_list(body: &[u8]) -> Option<Vec<LiveSubscription>> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let list = de.deserialize_map(EnvelopeVisitor).ok()??;
        de.end().ok()?;
        Some(list)
    }

    /// Any error ends the typed pass; its text is never shown.
    fn give_up<E: serde::de::Error>() -> E {
        E::custom("not a plain list")
    }

    /// The envelope: `Some(list)` when `data` was a list.
    struct EnvelopeVisitor;

    impl<'de> Visitor<'de> for EnvelopeVisitor {
        type Value = Option<Vec<LiveSubscription>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an envelope")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut list = None;
            while let Some(key) = map.next_key::<Key>()? {
                match key {
                    Key::Data => list = Some(map.next_value_seed(DataSeed)?),
                    _ => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            Ok(list)
        }
    }

    /// `data`: an array, or an object holding exactly one array.
    struct DataSeed;

    impl<'de> DeserializeSeed<'de> for DataSeed {
        type Value = Vec<LiveSubscription>;

        fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(DataVisitor)
        }
    }

    struct DataVisitor;

    impl<'de> Visitor<'de> for DataVisitor {
        type Value = Vec<LiveSubscription>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list of subscriptions")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            ItemsVisitor.visit_seq(seq)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut found = None;
            while map.next_key::<IgnoredAny>()?.is_some() {
                if let Some(items) = map.next_value_seed(MaybeItems)? {
                    if found.replace(items).is_some() {
                        return Err(give_up());
                    }
                }
            }
            found.ok_or_else(give_up)
        }
    }

    /// A value of the `data` object: `Some` if it is an array of
    /// subscriptions, `None` (skipped) if it is not an array.
    struct MaybeItems;

    impl<'de> DeserializeSeed<'de> for MaybeItems {
        type Value = Option<Vec<LiveSubscription>>;

        fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
            de.deserialize_any(self)
        }
    }

    impl<'de> Visitor<'de> for MaybeItems {
        type Value = Option<Vec<LiveSubscription>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("any value")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            ItemsVisitor.visit_seq(seq).map(Some)
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }

        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }

    struct ItemsVisitor;

    impl<'de> Visitor<'de> for ItemsVisitor {
        type Value = Vec<LiveSubscription>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an array of subscriptions")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
            while let Some(item) = seq.next_element::<Item>()? {
                items.push(item.0);
            }
            Ok(items)
        }
    }

    /// The keys the typed pass looks at.
    #[derive(Deserialize)]
    #[serde(field_identifier, rename_all = "camelCase")]
    enum Key {
        Data,
        Id,
        Topic,
        Name,
        CallbackUrl,
        #[serde(other)]
        Other,
    }

    struct Item(LiveSubscription);

    impl<'de> Deserialize<'de> for Item {
        fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
            de.deserialize_map(ItemVisitor)
        }
    }

    struct ItemVisitor;

    impl<'de> Visitor<'de> for ItemVisitor {
        type Value = Item;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a subscription object")
        }

        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
            let (mut id, mut topic, mut name, mut url) = (None, None, None, None);
            while let Some(key) = map.next_key::<Key>()? {
                match key {
                    Key::Id => id = Some(map.next_value::<Id>()?.0),
                    Key::Topic => topic = Some(map.next_value::<String>()?),
                    Key::Name => name = Some(map.next_value::<String>()?),
                    Key::CallbackUrl => url = Some(map.next_value::<String>()?),
                    Key::Data | Key::Other => {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
            match (id, topic, name, url) {
                (Some(id), Some(topic), Some(name), Some(callback_url)) => Ok(Item(LiveSubscription {
                    id,
                    topic,
                    name,
                    callback_url,
                })),
                _ => Err(give_up()),
            }
        }
    }

    /// An id: a string, or an integer read as its decimal text.
    struct Id(String);

    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
            de.deserialize_any(IdVisitor)
        }
    }

    struct IdVisitor;

    impl Visitor<'_> for IdVisitor {
        type Value = Id;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or an integer")
        }

        fn visit_str<E>(self, v: &str) -> Result<Id, E> {
            Ok(Id(v.to_owned()))
        }

        fn visit_string<E>(self, v: String) -> Result<Id, E> {
            Ok(Id(v))
        }

        fn visit_u64<E>(self, v: u64) -> Result<Id, E> {
            Ok(Id(v.to_string()))
        }

        fn visit_i64<E>(self, v: i64) -> Result<Id, E> {
            Ok(Id(v.to_string()))
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    const SUB: &str =
        r#"{"id":"1","topic":"customer.updated","name":"n","callbackUrl":"https://x/","merchantId":"m"}"#;

    #[test]
    fn accepts_an_array_or_an_object_holding_one_array() {
        for body in [
            format!(r#"{{"message":"ok","data":[{SUB}]}}"#),
            format!(r#"{{"message":"ok","data":{{"subscriptions":[{SUB}],"Count":1}}}}"#),
            format!(r#"{{"message":"ok","data":{{"Items":[{SUB}]}},"extra":true}}"#),
        ] {
            let list = parse_list(body.as_bytes()).unwrap();
            assert_eq!(list.len(), 1);
            assert_eq!(list[0].callback_url, "https://x/");
        }
        assert!(parse_list(br#"{"message":"ok","data":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn numeric_ids_are_read_as_text() {
        let body = r#"{"message":"ok","data":[{"id":42,"topic":"t","name":"n","callbackUrl":"u"}]}"#;
        assert_eq!(parse_list(body.as_bytes()).unwrap()[0].id, "42");
    }

    #[test]
    fn unknown_shapes_are_errors_not_empty_lists() {
        for body in [
            r#"{"message":"ok","data":{}}"#,
            r#"{"message":"ok","data":{"a":[],"b":[]}}"#,
            r#"{"message":"ok","data":"x"}"#,
            r#"{"message":"ok"}"#,
            r#"[]"#,
            r#"{"message":"ok","data":[{"id":"1"}]}"#,
            r#"{"message":"ok","data":[3]}"#,
        ] {
            assert!(
                matches!(parse_list(body.as_bytes()), Err(BodyError::Shape(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn html_is_not_json() {
        let err = parse_list(b"<html><body>502 Bad Gateway</body></html>").unwrap_err();
        assert!(err.to_string().contains("<html>"), "{err}");
        assert!(matches!(
            parse_list(b"{\"message\":\"ok\",\"da"),
            Err(BodyError::NotJson(_))
        ));
    }

    #[test]
    fn the_typed_pass_reads_what_the_value_pass_reads() {
        let sub = |id: &str, extra: &str| {
            format!(
                r#"{{"id":{id},"topic":"customer.updated","name":"n\u00e9","callbackUrl":"https://x/?a=1"{extra}}}"#
            )
        };
        let plain = [
            format!(
                r#"{{"message":"ok","data":{{"subscriptions":[{},{}],"Count":2}}}}"#,
                sub("\"wh_1\"", ""),
                sub("7", r#","merchantId":"m","deep":{"a":[1,{"b":null}]}"#)
            ),
            format!(r#"{{"data":[{}],"message":"ok"}}"#, sub("-3", "")),
            format!(
                r#"{{"message":"ok","data":[{}],"data":[{}]}}"#,
                sub("1", ""),
                sub("2", "")
            ),
            format!(
                r#"{{"data":{{"n":1,"s":"x","b":true,"z":null,"o":{{}},"items":[{}]}}}}"#,
                sub("\"a\"", r#","topic":"customer.ordered""#)
            ),
            r#" {"message":"ok","data":[]} "#.to_owned(),
        ];
        for body in &plain {
            let fast = fast::parse_list(body.as_bytes());
            assert!(fast.is_some(), "{body}");
            assert_eq!(fast.map(Ok), Some(parse_list_value(body.as_bytes())), "{body}");
        }
        let other = [
            format!(r#"{{"data":[{}]}}"#, sub("1.5", "")),
            format!(r#"{{"data":[{}]}}"#, sub("\"1\"", r#","name":null"#)),
            format!(r#"{{"data":{{"a":[{}],"b":[]}}}}"#, sub("1", "")),
            format!(r#"{{"data":[{}]}} x"#, sub("1", "")),
            r#"{"data":[{"id":"1","topic":"t","name":"n"}]}"#.to_owned(),
            r#"{"data":null}"#.to_owned(),
            r#"[{"data":[]}]"#.to_owned(),
        ];
        for body in &other {
            assert_eq!(fast::parse_list(body.as_bytes()), None, "{body}");
        }
        let float_id = parse_list(other[0].as_bytes()).unwrap();
        assert_eq!(float_id[0].id, "1.5");
    }

    proptest::proptest! {
        /// Whatever the typed pass accepts, the `Value` pass reads the same.
        #[test]
        fn the_typed_pass_never_disagrees(value in json_value()) {
            let body = serde_json::to_vec(&value).unwrap();
            if let Some(list) = fast::parse_list(&body) {
                proptest::prop_assert_eq!(Ok(list), parse_list_value(&body));
            }
        }
    }

    /// Envelopes of lists of mostly well-formed subscriptions, with the odd
    /// missing or mistyped field, extra fields, and other values around.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = || {
            prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                (-1e3f64..1e3).prop_map(Value::from),
                "[a-c]{0,3}".prop_map(Value::from),
                prop::collection::vec("[a-c]{0,2}".prop_map(Value::from), 0..2).prop_map(Value::from),
            ]
        };
        let field = move |weight: u32| prop_oneof![weight => "[a-c\u{e9}\"]{0,4}".prop_map(|s| Some(Value::from(s))), 1 => leaf().prop_map(Some), 1 => Just(None)];
        let id = prop_oneof![
            20 => "wh_[0-9]{1,3}".prop_map(|s| Some(Value::from(s))),
            8 => any::<i64>().prop_map(|n| Some(Value::from(n))),
            1 => leaf().prop_map(Some),
            1 => Just(None),
        ];
        let item = (id, field(40), field(40), field(40), prop::option::of(leaf())).prop_map(
            |(id, topic, name, url, extra)| {
                let mut map = serde_json::Map::new();
                for (key, value) in [
                    ("id", id),
                    ("topic", topic),
                    ("name", name),
                    ("callbackUrl", url),
                    ("merchantId", extra),
                ] {
                    if let Some(value) = value {
                        map.insert(key.to_owned(), value);
                    }
                }
                Value::Object(map)
            },
        );
        let items = prop::collection::vec(item, 0..5).prop_map(Value::from);
        let data = prop_oneof![
            6 => items.clone(),
            4 => (items.clone(), prop::collection::vec(("[a-d]", prop_oneof![3 => leaf(), 1 => items]), 0..3)).prop_map(|(items, others)| {
                let mut map: serde_json::Map<String, Value> = others.into_iter().collect();
                map.insert("subscriptions".to_owned(), items);
                Value::Object(map)
            }),
            1 => leaf(),
        ];
        (
            prop::option::weighted(0.95, data),
            leaf(),
            prop::bool::weighted(0.9),
        )
            .prop_map(|(data, message, wrap)| {
                let mut map = serde_json::Map::new();
                map.insert("message".to_owned(), message);
                if let Some(data) = data {
                    map.insert("data".to_owned(), data);
                }
                if wrap {
                    Value::Object(map)
                } else {
                    Value::Array(vec![Value::Object(map)])
                }
            })
    }

    #[test]
    fn message_is_read_from_error_envelopes() {
        assert_eq!(
            message(br#"{"message":"invalid API key","data":{}}"#).as_deref(),
            Some("invalid API key")
        );
        assert_eq!(message(b"<html>"), None);
    }
}
