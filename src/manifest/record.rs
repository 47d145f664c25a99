//! [`record!`] declares a YAML mapping type once: the struct, its JSON Schema,
//! its field names, and a reader that keeps the keys that are no field.

use super::yaml::{At, Read};

/// A mapping whose fields are declared once; see [`record!`].
pub(crate) trait Record {
    /// How messages name it: "unknown field … in subscription".
    const WHAT: &'static str;
    const FIELDS: &'static [&'static str];
    /// Keys that are none of its fields, with their lines.
    fn unknown(&self) -> &[At<FieldName>];
}

/// Declares a mapping type: a struct of `Option<At<T>>` fields with the given
/// YAML names, its JSON Schema (doc comments, `schemars` attributes),
/// [`Record`], and a [`Read`] that keeps the keys that are no field in `unknown`.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident($what:literal) {
            $( $(#[$fmeta:meta])* $field:ident($key:literal): $ty:ty, )*
        }
    ) => {
        #[derive(Debug, Default, schemars::JsonSchema, serde::Serialize)]
        $(#[$meta])*
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $( $(#[$fmeta])* #[serde(rename = $key, skip_serializing_if = "Option::is_none")] pub(crate) $field: Option<$crate::manifest::yaml::At<$ty>>, )*
            #[serde(skip)]
            pub(crate) unknown: Vec<$crate::manifest::yaml::At<$crate::manifest::record::FieldName>>,
        }

        impl $crate::manifest::record::Record for $name {
            const WHAT: &'static str = $what;
            const FIELDS: &'static [&'static str] = &[$($key),*];
            fn unknown(&self) -> &[$crate::manifest::yaml::At<$crate::manifest::record::FieldName>] {
                &self.unknown
            }
        }

        impl $crate::manifest::yaml::Read for $name {
            const EXPECTED: &'static str = "a mapping";
            fn mapping<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
                use $crate::manifest::yaml::{At, Value};
                let mut record = Self::default();
                while let Some(key) = map.next_key::<At<$crate::manifest::record::FieldName>>()? {
                    let name = key.ok().map(|k| k.0.as_str());
                    $( if name == Some($key) {
                        let Value(value) = map.next_value()?;
                        record.$field = Some(At { line: key.line, value });
                        continue;
                    } )*
                    map.next_value::<serde::de::IgnoredAny>()?;
                    record.unknown.push(key);
                }
                Ok(Some(record))
            }
        }
    };
}
pub(crate) use record;

/// A mapping key as text: numbers and booleans as written, so `1:` is an unknown field `1`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub(crate) struct FieldName(pub(crate) String);

impl Read for FieldName {
    const EXPECTED: &'static str = "plain text";
    fn text(text: &str) -> Option<Self> {
        Some(FieldName(text.to_owned()))
    }
    fn boolean(value: bool) -> Option<Self> {
        Some(FieldName(value.to_string()))
    }
    fn number(text: &str) -> Option<Self> {
        Some(FieldName(text.to_owned()))
    }
}
