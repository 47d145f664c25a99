//! The typed pass of [`super::parse_list`]: `None` whenever the body is not a
//! list it can read in full (the `Value` pass then reads it or says why
//! not). It accepts the same shapes: `data` an array, or an object with
//! exactly one array among its values; items objects with string `id`
//! (or an integer), `topic`, `name` and `callbackUrl`, other fields
//! ignored; a repeated key keeps its last value, as `Value` does.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::model::LiveSubscription;

pub(crate) fn parse_list(body: &[u8]) -> Option<Vec<LiveSubscription>> {
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
