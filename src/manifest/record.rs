//! [`record!`] declares a YAML mapping type once (struct, JSON Schema, field
//! names, a reader that keeps unknown keys); [`Problems`] is where one file's
//! problems go, with the checks every field gets. Manifests and the policy use both.

use std::path::Path;

use super::diagnostic::{Diagnostic, Help, KEY_NEVER_HERE};
use super::yaml::{At, Found, Read};
use crate::escape::show;
use crate::topic::closest;

/// A mapping whose fields are declared once; see [`record!`].
pub(crate) trait Record {
    /// How messages name it: "unknown field … in subscription".
    const WHAT: &'static str;
    /// Its fields' YAML names, in declaration order.
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

/// A mapping key (a field's or a variable's name) as text: numbers and
/// booleans as written, so `1:` is an unknown field `1`.
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

/// `version:` as YAML resolved it (manifests and the policy are `1`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Version(pub(crate) String);

impl Read for Version {
    const EXPECTED: &'static str = "the number `1`";
    fn number(text: &str) -> Option<Self> {
        Some(Version(text.to_owned()))
    }
}

/// As `export` writes it: the number.
impl serde::Serialize for Version {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0.parse().unwrap_or(1))
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
/// gets: its kind ([`Problems::get`]), keys that are no field ([`Problems::unknown`]).
#[derive(Debug)]
pub(crate) struct Problems<'a> {
    /// The file, for every diagnostic's location.
    pub(crate) file: &'a Path,
    list: Vec<Diagnostic>,
}

/// A field as read: absent, empty (`key:`), of the wrong kind (already reported), or its value.
pub(crate) enum Got<'v, T> {
    Absent,
    Empty,
    Bad,
    Ok(&'v T),
}

impl<'a> Problems<'a> {
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

    pub(crate) fn is_clean(&self) -> bool {
        self.list.is_empty()
    }

    /// Records a problem at `line`.
    pub(crate) fn error(&mut self, line: usize, message: impl Into<String>, help: impl Help) {
        self.list.push(Diagnostic::new(self.file, line, message, help));
    }

    /// The field `name`; a value of the wrong kind is reported here.
    pub(crate) fn get<'v, T: Read>(&mut self, name: &str, field: &'v Option<At<T>>) -> Got<'v, T> {
        let Some(at) = field else { return Got::Absent };
        let found = match &at.value {
            Ok(value) => return Got::Ok(value),
            Err(Found::Empty) => return Got::Empty,
            Err(found) => found,
        };
        let help = match (T::EXPECTED, found.scalar()) {
            (<bool as Read>::EXPECTED, _) => {
                format!("write `{name}: true` or `{name}: false`, without quotes")
            }
            (Version::EXPECTED, _) => "write `version: 1`".to_owned(),
            (<String as Read>::EXPECTED, Some(text)) => {
                format!("put the value in quotes, e.g. `{name}: \"{text}\"`")
            }
            (_, _) if *found == Found::Binary => {
                "write the text itself: a manifest is read as written, and `!!binary` is never decoded"
                    .to_owned()
            }
            (expected, _) => format!("`{name}` takes {expected}"),
        };
        let message = format!("`{name}` must be {}, found {}", T::EXPECTED, found.kind());
        self.error(at.line, message, help);
        Got::Bad
    }

    /// A text field: `Some("")` when empty, `None` when absent or of the wrong kind.
    pub(crate) fn text<'v>(&mut self, name: &str, field: &'v Option<At<String>>) -> Option<&'v str> {
        match self.get(name, field) {
            Got::Ok(text) => Some(text),
            Got::Empty => Some(""),
            Got::Absent | Got::Bad => None,
        }
    }

    /// Reports every key of `record` that is none of its fields; returns the
    /// fields suggested instead (a misspelt key), which then get no "missing" error.
    pub(crate) fn unknown<R: Record>(&mut self, record: &R) -> Vec<&'static str> {
        let mut suggested = Vec::new();
        let known = || {
            let list: Vec<String> = R::FIELDS.iter().map(|f| format!("`{f}`")).collect();
            format!("known fields: {}", list.join(", "))
        };
        for key in record.unknown() {
            let name = match &key.value {
                Ok(FieldName(name)) => name,
                Err(found) => {
                    let message = format!("a field name must be plain text, found {}", found.kind());
                    self.error(key.line, message, known());
                    continue;
                }
            };
            let near = closest(name, R::FIELDS.iter().map(|f| (*f, *f)));
            suggested.extend(near);
            let help = match near {
                Some("apiKeyEnv") => format!("did you mean `apiKeyEnv`? It names the environment variable that holds the key, e.g. `apiKeyEnv: INVETERATE_API_KEY`; {KEY_NEVER_HERE}"),
                Some(field) => format!("did you mean `{field}`?"),
                None => known(),
            };
            self.error(
                key.line,
                format!("unknown field `{}` in {}", show(name), R::WHAT),
                help,
            );
        }
        suggested
    }
}
