//! The typed pass of [`super::parse_list`]: `None` whenever the body is not a
//! list it can read in full (the `Value` pass then reads it or says why
//! not). It accepts the same shapes: `data` an array, or an object with
//! exactly one array among its values; items objects with string `id`
//! (or an integer), `topic`, `name` and `callbackUrl`, other fields
//! ignored; a repeated key keeps its last value, as `Value` does. It
//! collects the same pagination hints (`hints.rs`) as the `Value` pass.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use std::collections::BTreeMap;

use serde_json::Value;

use super::hints::{self, Hints};
use crate::model::LiveSubscription;

/// The list and the pagination hints, or `None` to leave it to the
/// `Value` pass.
pub(crate) fn parse_list(body: &[u8]) -> Option<(Vec<LiveSubscription>, Hints)> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let list = de.deserialize_map(EnvelopeVisitor).ok()??;
    de.end().ok()?;
    Some(list)
}

/// Any error ends the typed pass; its text is never shown.
fn give_up<E: serde::de::Error>() -> E {
    E::custom("not a plain list")
}

/// The envelope: `Some` when `data` was a list. Pagination hints beside
/// `data` are kept as `Value`s (they are few and small).
struct EnvelopeVisitor;

impl<'de> Visitor<'de> for EnvelopeVisitor {
    type Value = Option<(Vec<LiveSubscription>, Hints)>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an envelope")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut list = None;
        let mut top = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "data" {
                list = Some(map.next_value_seed(DataSeed)?);
            } else if hints::wanted(&key) {
                top.insert(key, map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(list.map(|(items, mut found)| {
            for (key, value) in top {
                hints::record(&mut found, "", &key, value);
            }
            (items, found)
        }))
    }
}

/// `data`: an array, or an object holding exactly one array (and maybe
/// pagination hints).
struct DataSeed;

impl<'de> DeserializeSeed<'de> for DataSeed {
    type Value = (Vec<LiveSubscription>, Hints);

    fn deserialize<D: Deserializer<'de>>(self, de: D) -> Result<Self::Value, D::Error> {
        de.deserialize_any(DataVisitor)
    }
}

struct DataVisitor;

impl<'de> Visitor<'de> for DataVisitor {
    type Value = (Vec<LiveSubscription>, Hints);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of subscriptions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok((ItemsVisitor.visit_seq(seq)?, Hints::new()))
    }

    /// A repeated key keeps its last value, as in `Value`: hence the maps.
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut arrays = BTreeMap::new();
        let mut wanted = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            arrays.remove(&key);
            wanted.remove(&key);
            if hints::wanted(&key) {
                let value: Value = map.next_value()?;
                if value.is_array() {
                    return Err(give_up());
                }
                wanted.insert(key, value);
            } else if let Some(items) = map.next_value_seed(MaybeItems)? {
                arrays.insert(key, items);
            }
        }
        if arrays.len() != 1 {
            return Err(give_up());
        }
        let Some(items) = arrays.into_values().next() else {
            return Err(give_up());
        };
        let mut found = Hints::new();
        for (key, value) in wanted {
            hints::record(&mut found, "data.", &key, value);
        }
        Ok((items, found))
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
                Key::Other => {
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
