//! The YAML front end of manifests and the policy: one serde-saphyr pass to
//! typed values ([`Read`]; mappings declared once with [`record!`]), each with its line.
//! A value of the wrong kind is kept as what was [`Found`], so one bad value hides no
//! other; nesting, alias replay and scalar bytes are bounded while the text is read.

use std::fmt;
use std::path::Path;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::budget::BudgetBreach;
use serde_saphyr::{Error, Spanned, Tagged};

use super::Diagnostic;
use crate::escape::{escape, show};

/// Most bytes of text a document may hold once its aliases are expanded, and
/// again once its `${VAR}`s are (docs/fleets.md "Big stores").
pub const MAX_BYTES: usize = 16 * 1024 * 1024;
/// Most values aliases (`*name`) may add, counted as the parser events they replay.
pub(crate) const MAX_ALIAS_VALUES: usize = 100_000;
/// Deepest nesting: a manifest needs five levels, and each takes stack.
pub(crate) const MAX_DEPTH: usize = 32;

/// A value and its 1-based line: a list item's own line, a field's key's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct At<T> {
    pub(crate) line: usize,
    /// The value, or what was found instead.
    pub(crate) value: Result<T, Found>,
}

impl<T> At<T> {
    pub(crate) fn ok(&self) -> Option<&T> {
        self.value.as_ref().ok()
    }
}

/// The line of a field, when it is given.
pub(crate) fn given<T>(field: &Option<At<T>>) -> Option<usize> {
    field.as_ref().map(|at| at.line)
}

/// The line of a field (1 when absent).
pub(crate) fn line<T>(field: &Option<At<T>>) -> usize {
    field.as_ref().map_or(1, |at| at.line)
}

/// What a value was, when it was not of the kind its place takes.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Found {
    /// Nothing (`key:`, `~`, `null`).
    Empty,
    Bool(bool),
    /// A number, as YAML resolved it.
    Number(String),
    Text,
    List,
    Mapping,
    /// Tagged `!!binary`: values are read as written, never decoded.
    Binary,
}

impl Found {
    /// How messages name it: "found a number".
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Found::Empty => "an empty value",
            Found::Bool(_) => "a boolean",
            Found::Number(_) => "a number",
            Found::Text => "a string",
            Found::List => "a list",
            Found::Mapping => "a mapping",
            Found::Binary => "`!!binary` data",
        }
    }

    /// A number or boolean as YAML text, for "put it in quotes".
    pub(crate) fn scalar(&self) -> Option<String> {
        match self {
            Found::Bool(b) => Some(b.to_string()),
            Found::Number(text) => Some(text.clone()),
            _ => None,
        }
    }
}

/// A type a YAML value can be read into: each method takes one kind of value,
/// `None` when the type does not take it (a list or mapping is then skipped).
pub(crate) trait Read: Sized {
    /// What the value must be, for "must be …, found …".
    const EXPECTED: &'static str;
    fn text(_text: &str) -> Option<Self> {
        None
    }
    fn boolean(_value: bool) -> Option<Self> {
        None
    }
    /// From a number, as YAML resolved it (`0x1F` is `31`).
    fn number(_text: &str) -> Option<Self> {
        None
    }
    fn list<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        IgnoredAny.visit_seq(seq).map(|_| None)
    }
    fn mapping<'de, A: MapAccess<'de>>(map: A) -> Result<Option<Self>, A::Error> {
        IgnoredAny.visit_map(map).map(|_| None)
    }
}

impl Read for String {
    const EXPECTED: &'static str = "a string";
    fn text(text: &str) -> Option<Self> {
        Some(text.to_owned())
    }
}

impl Read for bool {
    const EXPECTED: &'static str = "`true` or `false`";
    fn boolean(value: bool) -> Option<Self> {
        Some(value)
    }
}

impl Read for usize {
    const EXPECTED: &'static str = "a whole number";
    fn number(text: &str) -> Option<Self> {
        text.parse().ok()
    }
}

impl<T: Read> Read for Vec<At<T>> {
    const EXPECTED: &'static str = "a list";
    fn list<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<Option<Self>, A::Error> {
        std::iter::from_fn(|| seq.next_element().transpose())
            .collect::<Result<_, _>>()
            .map(Some)
    }
}

/// The value; what was found instead is written as nothing.
impl<T: serde::Serialize> serde::Serialize for At<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.value.as_ref().ok().serialize(serializer)
    }
}

impl<T: schemars::JsonSchema> schemars::JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

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
            pub(crate) unknown: Vec<$crate::manifest::yaml::At<$crate::manifest::yaml::FieldName>>,
        }

        impl $crate::manifest::yaml::Record for $name {
            const WHAT: &'static str = $what;
            const FIELDS: &'static [&'static str] = &[$($key),*];
            fn unknown(&self) -> &[$crate::manifest::yaml::At<$crate::manifest::yaml::FieldName>] {
                &self.unknown
            }
        }

        impl $crate::manifest::yaml::Read for $name {
            const EXPECTED: &'static str = "a mapping";
            fn mapping<'de, A: serde::de::MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
                use $crate::manifest::yaml::{At, Value};
                let mut record = Self::default();
                while let Some(key) = map.next_key::<At<$crate::manifest::yaml::FieldName>>()? {
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

/// A value read as `T`, or what was found instead (a `!!binary` tag is never decoded).
pub(crate) struct Value<T>(pub(crate) Result<T, Found>);

impl<'de, T: Read> Deserialize<'de> for Value<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Tagged(Any(value), tag) = Tagged::<Any<T>>::deserialize(deserializer)?;
        let binary = tag.is_some_and(|t| t == "tag:yaml.org,2002:binary");
        Ok(Value(if binary { Err(Found::Binary) } else { value }))
    }
}

impl<'de, T: Read> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value<T>>::deserialize(deserializer)?;
        let line = usize::try_from(spanned.referenced.line()).map_or(usize::MAX, |line| line.max(1));
        Ok(At {
            line,
            value: spanned.value.0,
        })
    }
}

/// `T` read from a value of any kind, its tag aside (see [`Value`]).
struct Any<T>(Result<T, Found>);

impl<'de, T: Read> Deserialize<'de> for Any<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Any::<T>(Err(Found::Empty))).map(Any)
    }
}

/// Its own visitor: the value it starts with is never read.
impl<'de, T: Read> Visitor<'de> for Any<T> {
    type Value = Result<T, Found>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(T::EXPECTED)
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(T::text(text).ok_or(Found::Text))
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Self::Value, E> {
        Ok(T::boolean(value).ok_or(Found::Bool(value)))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Self::Value, E> {
        Ok(number(value.to_string()))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Self::Value, E> {
        Ok(number(value.to_string()))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Self::Value, E> {
        Ok(number(format!("{value:?}"))) // `{:?}` keeps the point: `1.0`, not `1`
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Found::Empty))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Err(Found::Empty))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Ok(T::list(seq)?.ok_or(Found::List))
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Ok(T::mapping(map)?.ok_or(Found::Mapping))
    }
}

fn number<T: Read>(text: String) -> Result<T, Found> {
    T::number(&text).ok_or(Found::Number(text))
}

/// Parses one document (after a byte-order mark) into `T`; invalid YAML, a
/// second document, a repeated key, a foreign tag or a bound exceeded is one diagnostic.
pub(crate) fn parse<T: Read>(file: &Path, text: &str) -> Result<Value<T>, Diagnostic> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            flow_nesting_limit: MAX_DEPTH,
            max_events: MAX_BYTES,
            max_nodes: MAX_BYTES,
            max_total_scalar_bytes: MAX_BYTES,
            max_recorded_anchor_bytes: MAX_BYTES,
            enforce_alias_anchor_ratio: false,
        },
        alias_limits: serde_saphyr::alias_limits! {
            max_total_replayed_events: MAX_ALIAS_VALUES,
        },
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        non_finite_float_policy: serde_saphyr::NonFiniteFloatPolicy::AsString,
        ignore_binary_tag_for_string: true,
        reject_unsupported_tags: true,
        merge_keys: serde_saphyr::MergeKeyPolicy::AsOrdinary,
        with_snippet: false,
    };
    serde_saphyr::from_str_with_options::<Value<T>>(text, options)
        .map_err(|error| tab_hint(problem(file, &error), text))
}

/// A parse error as a diagnostic at its line, in our words where the parser's would not help.
fn problem(file: &Path, error: &Error) -> Diagnostic {
    let (error, location) = match error.without_snippet() {
        // At the line where the alias is used, not where its anchor is.
        Error::AliasError { error, locations, .. } => {
            (error.without_snippet(), Some(locations.reference_location))
        }
        other => (other, other.location()),
    };
    let line = location
        .map_or(1, |l| usize::try_from(l.line()).unwrap_or(usize::MAX))
        .max(1);
    let budget = |b: fn(&BudgetBreach) -> bool| matches!(error, Error::Budget { breach, .. } if b(breach));
    // Block nesting, or flow `[{` (the parser's own recursion limit).
    let deep = budget(|b| matches!(b, BudgetBreach::Depth { .. }))
        || error.to_string().contains("recursion limit exceeded");
    let (message, help) = match error {
        _ if budget(|b| matches!(b, BudgetBreach::ScalarBytes { .. })) => (
            format!("the document expands to more than {} MiB", MAX_BYTES >> 20),
            "aliases (`*name`) repeat the text they stand for; write the entries out, or split the file",
        ),
        Error::AliasReplayLimitExceeded { .. } | Error::AliasReplayStackDepthExceeded { .. } => (
            format!("aliases expand to more than {MAX_ALIAS_VALUES} values"),
            "YAML aliases expand to too much data; write the entries out",
        ),
        _ if deep => (
            format!("lists or mappings nest more than {MAX_DEPTH} levels deep"),
            "a manifest needs only a few levels; check the indentation and for unclosed `[` or `{`",
        ),
        Error::DuplicateMappingKey { key, .. } => (
            format!(
                "the key `{}` appears twice in this mapping",
                show(key.as_deref().unwrap_or("(a list or mapping)"))
            ),
            "each field may appear once per mapping; remove the repeated key",
        ),
        Error::MultipleDocuments { .. } => (
            "a second document starts here".to_owned(),
            "a manifest is one YAML document; remove the `---` line or split the file",
        ),
        Error::RecursiveReferencesRequireWeakTypes { .. } => (
            "the alias refers to a node that contains it".to_owned(),
            "an alias (`*name`) cannot stand for the list or mapping it is inside",
        ),
        Error::UnsupportedTag { tag, .. } => (
            format!("the tag `{}` is not supported", show(tag)),
            "write the value without the tag: a manifest's values are plain YAML",
        ),
        other => {
            let text = other.to_string();
            let text = text.rfind(" at line ").map_or(&text[..], |at| &text[..at]);
            (
                text.to_owned(),
                "check the indentation and quoting on this line and the one before",
            )
        }
    };
    Diagnostic::new(file, line, format!("invalid YAML: {}", escape(&message)), help)
}

/// The help for a YAML error on (or next to) a line indented with a tab.
pub(crate) const TAB_HELP: &str = "YAML does not allow tabs for indentation; use spaces";

/// `diagnostic` with the tab hint, moved to the tabbed line when its own, the next (the parser
/// can stop at the end of the line before) or the one before is indented with a tab.
fn tab_hint(mut diagnostic: Diagnostic, text: &str) -> Diagnostic {
    let line = diagnostic.location.line;
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split(['\n', '\r']).collect();
    // Its indentation holds a tab: after the leading spaces, a tab.
    let line_of = |n: usize| lines.get(n.checked_sub(1)?);
    let tabbed = |n: &usize| line_of(*n).is_some_and(|l| l.trim_start_matches(' ').starts_with('\t'));
    if let Some(n) = [line, line + 1, line.saturating_sub(1)].into_iter().find(tabbed) {
        diagnostic.location.line = n;
        diagnostic.help = Some(TAB_HELP.to_owned());
    }
    diagnostic
}
