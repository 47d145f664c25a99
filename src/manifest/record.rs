//! Mapping types declared once ([`record!`]): the struct, its JSON
//! Schema and the names of its fields, and a reader that keeps unknown
//! keys; [`Problems`], where one file's problems go, with the checks
//! every typed field gets (its kind, keys that are no field with "did
//! you mean"). Manifests ([`fields`](super::fields)) and the policy file
//! declare their types with it.

use std::path::Path;

use super::diagnostic::{Diagnostic, KEY_NEVER_HERE};
use super::yaml::{At, Found, Read, Value};
use crate::escape::show;
use crate::topic::closest;

/// A mapping whose fields are declared once; see [`record!`].
pub(crate) trait Record {
    /// How messages name it: "unknown field … in subscription".
    const WHAT: &'static str;
    /// Its fields' YAML names, in declaration order.
    const FIELDS: &'static [&'static str];
    /// Keys that are none of its fields, with their lines.
    fn unknown(&self) -> &[At<Key>];
}

/// Declares a mapping type: a struct of `Option<At<T>>` fields with the
/// given YAML names, its JSON Schema (each field's doc comment and
/// `schemars` attributes), [`Record`] and a [`Read`] that reads the
/// fields in any order and keeps the other keys in `unknown`.
macro_rules! record {
    (
        $(#[$meta:meta])*
        pub(crate) struct $name:ident($what:literal) {
            $( $(#[$fmeta:meta])* $field:ident($key:literal): $ty:ty, )*
        }
    ) => {
        #[derive(Debug, Default, schemars::JsonSchema)]
        $(#[$meta])*
        #[serde(deny_unknown_fields)]
        pub(crate) struct $name {
            $( $(#[$fmeta])* #[serde(rename = $key)] pub(crate) $field: Option<$crate::manifest::yaml::At<$ty>>, )*
            /// Keys that are not fields.
            #[serde(skip)]
            pub(crate) unknown: Vec<$crate::manifest::yaml::At<$crate::manifest::record::Key>>,
        }

        impl $crate::manifest::record::Record for $name {
            const WHAT: &'static str = $what;
            const FIELDS: &'static [&'static str] = &[$($key),*];
            fn unknown(&self) -> &[$crate::manifest::yaml::At<$crate::manifest::record::Key>] {
                &self.unknown
            }
        }

        impl $crate::manifest::yaml::Read for $name {
            const EXPECTED: &'static str = "a mapping";
            fn mapping<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
                let mut record = Self::default();
                while let Some(key) = map.next_key::<$crate::manifest::yaml::At<$crate::manifest::record::Key>>()? {
                    let name = key.ok().map(|k| k.0.as_str());
                    $( if name == Some($key) {
                        record.$field = Some($crate::manifest::record::field(key.line, map.next_value()?));
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

/// A field's value at its key's line (used by [`record!`]).
pub(crate) fn field<T>(line: usize, value: Value<T>) -> At<T> {
    At { line, value: value.0 }
}

/// A mapping key as text: numbers and booleans as written (an unknown
/// field `1`), a list or mapping as what was found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Key(pub(crate) String);

impl Read for Key {
    const EXPECTED: &'static str = "plain text";
    fn text(text: &str) -> Option<Self> {
        Some(Key(text.to_owned()))
    }
    fn boolean(value: bool) -> Option<Self> {
        Some(Key(value.to_string()))
    }
    fn number(text: &str) -> Option<Self> {
        Some(Key(text.to_owned()))
    }
}

/// `version:` as YAML resolved it (manifests and the policy are `1`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Version(pub(crate) String);

impl Read for Version {
    const EXPECTED: &'static str = "the number `1`";
    fn number(text: &str) -> Option<Self> {
        Some(Version(text.to_owned()))
    }
}

impl schemars::JsonSchema for Version {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Version".into()
    }
    fn inline_schema() -> bool {
        true
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "const": 1 })
    }
}

/// Where the problems of one file go, and the checks every typed value
/// gets: the kind of each field ([`Problems::get`]), keys that are no
/// field ([`Problems::unknown`]).
#[derive(Debug)]
pub(crate) struct Problems<'a> {
    /// The file, for every diagnostic's location.
    pub(crate) file: &'a Path,
    list: Vec<Diagnostic>,
}

/// A field as read: absent, empty (`key:`), of the wrong kind (already
/// reported), or its value.
pub(crate) enum Got<'v, T> {
    Absent,
    Empty,
    Bad,
    Ok(&'v T),
}

impl<'a> Problems<'a> {
    /// No problems yet in `file`.
    pub(crate) fn new(file: &'a Path) -> Self {
        Problems {
            file,
            list: Vec::new(),
        }
    }

    /// Every problem recorded, in the order found.
    pub(crate) fn into_vec(self) -> Vec<Diagnostic> {
        self.list
    }

    /// Whether no problem was recorded.
    pub(crate) fn is_clean(&self) -> bool {
        self.list.is_empty()
    }

    /// Records a problem at `line`.
    pub(crate) fn error(&mut self, line: usize, message: String, help: Option<String>) {
        self.list.push(Diagnostic::new(self.file, line, message, help));
    }

    /// The field `name`; a value of the wrong kind is reported here.
    pub(crate) fn get<'v, T: Read>(&mut self, name: &str, field: &'v Option<At<T>>) -> Got<'v, T> {
        let Some(at) = field else {
            return Got::Absent;
        };
        match &at.value {
            Ok(value) => Got::Ok(value),
            Err(Found::Empty) => Got::Empty,
            Err(found) => {
                let help = match (T::EXPECTED, found.scalar()) {
                    (<bool as Read>::EXPECTED, _) => {
                        format!("write `{name}: true` or `{name}: false`, without quotes")
                    }
                    (Version::EXPECTED, _) => "write `version: 1`".to_owned(),
                    (<String as Read>::EXPECTED, Some(text)) => {
                        format!("put the value in quotes, e.g. `{name}: \"{text}\"`")
                    }
                    (_, _) if *found == Found::Binary => {
                        "write the text itself: a manifest is read as written, and `!!binary` is never decoded".to_owned()
                    }
                    (expected, _) => format!("`{name}` takes {expected}"),
                };
                let message = format!("`{name}` must be {}, found {}", T::EXPECTED, found.kind());
                self.error(at.line, message, Some(help));
                Got::Bad
            }
        }
    }

    /// Reports every key of `record` that is none of its fields; returns
    /// the fields suggested instead (a misspelt key), which then get no
    /// "missing" error.
    pub(crate) fn unknown<R: Record>(&mut self, record: &R) -> Vec<&'static str> {
        let mut suggested = Vec::new();
        for key in record.unknown() {
            let known = || {
                let list: Vec<String> = R::FIELDS.iter().map(|f| format!("`{f}`")).collect();
                format!("known fields: {}", list.join(", "))
            };
            let Ok(Key(name)) = &key.value else {
                let found = key.value.as_ref().err().map_or("", Found::kind);
                let message = format!("a field name must be plain text, found {found}");
                self.error(key.line, message, Some(known()));
                continue;
            };
            let help = match closest(name, R::FIELDS.iter().map(|f| (*f, *f))) {
                Some("apiKeyEnv") => {
                    suggested.push("apiKeyEnv");
                    format!("did you mean `apiKeyEnv`? It names the environment variable that holds the key, e.g. `apiKeyEnv: INVETERATE_API_KEY`; {}", KEY_NEVER_HERE)
                }
                Some(field) => {
                    suggested.push(field);
                    format!("did you mean `{field}`?")
                }
                None => known(),
            };
            let message = format!("unknown field `{}` in {}", show(name), R::WHAT);
            self.error(key.line, message, Some(help));
        }
        suggested
    }
}
