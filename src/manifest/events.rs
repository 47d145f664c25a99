//! Text → YAML value and line index in one pass over saphyr-parser's
//! events: the [`Value`] that validation deserializes from, and beside it
//! the line of every node by path ([`LineIndex`]). One parse yields both.
//!
//! Plain scalars are resolved by saphyr's YAML 1.2 core schema
//! ([`Scalar::parse_from_cow_and_metadata`]): `true`, `null`, `~`, `12`,
//! `0x1F`, `1.5`, `.inf`; anything quoted is a string. A tag outside the
//! core schema (`!secret x`) is kept as [`Value::Tagged`].
//!
//! What a hostile text could make costly is bounded here: nesting
//! ([`MAX_DEPTH`]) and what aliases expand to ([`MAX_ALIAS_NODES`]). A
//! key written twice in one mapping and a second document are errors, as
//! YAML and a single manifest require.

use std::borrow::Cow;
use std::collections::HashMap;

use saphyr::Scalar;
use saphyr_parser::{Event, Parser, ScalarStyle, Tag};
use serde_yaml::mapping::Entry;
use serde_yaml::value::{Tag as ValueTag, TaggedValue};
use serde_yaml::{Mapping, Number, Value};

use super::lines::{LineIndex, Seg};
use crate::escape::show;

/// Deepest nesting of lists and mappings (serde_yaml's own limit): far
/// beyond any manifest, and it keeps every walk of the value shallow.
pub(super) const MAX_DEPTH: usize = 128;

/// Most values that aliases (`*name`) may add to a document, counted over
/// every alias: a "billion laughs" text expands to far more.
pub(super) const MAX_ALIAS_NODES: usize = 100_000;

/// Why a text is not a YAML document a manifest can be: the line and the
/// message (without "invalid YAML: "), with the help for it when the
/// generic one ("check the indentation …") would not fit.
#[derive(Debug)]
pub(super) struct Problem {
    pub(super) line: usize,
    pub(super) message: String,
    pub(super) help: Option<&'static str>,
}

impl Problem {
    /// A problem the generic help fits (a syntax error).
    fn at(line: usize, message: String) -> Problem {
        Problem {
            line,
            message,
            help: None,
        }
    }

    fn new(line: usize, message: String, help: &'static str) -> Problem {
        Problem {
            line,
            message,
            help: Some(help),
        }
    }
}

/// Loads the first document of `text`: its value (`Null` when there is
/// none) and the line of each node.
///
/// # Errors
///
/// A syntax error (at saphyr's line), a second document, a key repeated
/// in a mapping, nesting deeper than [`MAX_DEPTH`], aliases expanding to
/// more than [`MAX_ALIAS_NODES`] values, or a scalar that its core tag
/// does not allow (`!!int abc`). A panic of the parser is an error too,
/// never a crash of the caller.
pub(super) fn load(text: &str) -> Result<(Value, LineIndex), Problem> {
    std::panic::catch_unwind(|| Loader::default().run(text))
        .unwrap_or_else(|_| Err(Problem::at(1, "the YAML parser failed on this text".to_owned())))
}

/// The loader's state between events.
#[derive(Default)]
struct Loader {
    /// The lists and mappings being read, innermost last.
    open: Vec<Open>,
    index: LineIndex,
    /// Finished nodes with an anchor (`&name`), by the parser's anchor id.
    anchors: HashMap<usize, Value>,
    /// Values added by aliases so far.
    aliased: usize,
    root: Option<Value>,
    documents: usize,
}

/// A list or mapping being read.
struct Open {
    items: Items,
    /// Its node in the line index; `None` inside a list or mapping used
    /// as a mapping key, which has no path.
    node: Option<usize>,
    /// The parser's anchor id (0: none).
    anchor: usize,
    /// A tag outside the core schema.
    tag: Option<ValueTag>,
    line: usize,
}

enum Items {
    Seq(Vec<Value>),
    Map { map: Mapping, key: Option<Key> },
}

/// A mapping key read, waiting for its value.
struct Key {
    value: Value,
    /// The entry's node in the line index (at the key's line).
    node: Option<usize>,
    line: usize,
}

impl Loader {
    fn run(mut self, text: &str) -> Result<(Value, LineIndex), Problem> {
        let mut parser = Parser::new_from_str(text);
        while let Some(next) = parser.next_event() {
            let (event, span) = next.map_err(|error| {
                let line = error.marker().line().max(1);
                // The scanner's own bound on `[` / `{` nesting (255), met
                // before the events reach ours: the same message.
                if error.info() == "recursion limit exceeded" {
                    return too_deep(line);
                }
                Problem::at(line, error.info().to_owned())
            })?;
            let line = span.start.line().max(1);
            if event == Event::StreamEnd {
                break;
            }
            self.event(event, line)?;
        }
        Ok((self.root.unwrap_or(Value::Null), self.index))
    }

    fn event(&mut self, event: Event<'_>, line: usize) -> Result<(), Problem> {
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    let help = "a manifest is one YAML document; remove the `---` line or split the file";
                    return Err(Problem::new(
                        line,
                        "a second document starts here".to_owned(),
                        help,
                    ));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.start(line);
                let value =
                    scalar(&text, style, tag.as_deref()).map_err(|message| Problem::at(line, message))?;
                self.finish(value, anchor, line, || text.into_owned())?;
            }
            Event::Alias(id) => {
                self.start(line);
                let value = self.alias(id, line)?;
                self.finish(value, 0, line, || "*".to_owned())?;
            }
            Event::SequenceStart(anchor, tag) => {
                self.open(Items::Seq(Vec::new()), anchor, tag.as_deref(), line)?
            }
            Event::MappingStart(anchor, tag) => {
                let items = Items::Map {
                    map: Mapping::new(),
                    key: None,
                };
                self.open(items, anchor, tag.as_deref(), line)?;
            }
            Event::SequenceEnd | Event::MappingEnd => self.close()?,
            Event::Nothing | Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => {}
        }
        Ok(())
    }

    /// A node starts at `line`: records it in the line index, unless it is
    /// a mapping key (recorded when it is finished) or has no path.
    /// Returns its index node.
    fn start(&mut self, line: usize) -> Option<usize> {
        let Some(parent) = self.open.last() else {
            return Some(self.index.root(line));
        };
        match &parent.items {
            Items::Seq(items) => parent
                .node
                .map(|node| self.index.child(node, Seg::Index(items.len()), line)),
            Items::Map { key: None, .. } => None,
            Items::Map { key: Some(key), .. } => key.node,
        }
    }

    fn open(&mut self, items: Items, anchor: usize, tag: Option<&Tag>, line: usize) -> Result<(), Problem> {
        if self.open.len() >= MAX_DEPTH {
            return Err(too_deep(line));
        }
        let node = self.start(line);
        self.open.push(Open {
            items,
            node,
            anchor,
            tag: tag.filter(|t| !t.is_yaml_core_schema()).map(value_tag),
            line,
        });
        Ok(())
    }

    fn close(&mut self) -> Result<(), Problem> {
        let Some(open) = self.open.pop() else {
            return Ok(());
        };
        let value = match open.items {
            Items::Seq(items) => Value::Sequence(items),
            Items::Map { map, .. } => Value::Mapping(map),
        };
        let value = match open.tag {
            Some(tag) => Value::Tagged(Box::new(TaggedValue { tag, value })),
            None => value,
        };
        self.finish(value, open.anchor, open.line, String::new)
    }

    /// A finished node goes into its parent (or becomes the root);
    /// `written` gives its text when it turns out to be a mapping key.
    fn finish(
        &mut self,
        value: Value,
        anchor: usize,
        line: usize,
        written: impl FnOnce() -> String,
    ) -> Result<(), Problem> {
        if anchor > 0 {
            self.anchors.insert(anchor, value.clone());
        }
        let Some(parent) = self.open.last_mut() else {
            self.root.get_or_insert(value);
            return Ok(());
        };
        match &mut parent.items {
            Items::Seq(items) => items.push(value),
            Items::Map { map, key } => match key.take() {
                None => {
                    let node = parent
                        .node
                        .map(|node| self.index.child(node, Seg::Key(written()), line));
                    *key = Some(Key { value, node, line });
                }
                Some(key) => match map.entry(key.value) {
                    Entry::Vacant(entry) => {
                        entry.insert(value);
                    }
                    Entry::Occupied(entry) => {
                        let message = format!(
                            "the key `{}` appears twice in this mapping",
                            show(&key_text(entry.key()))
                        );
                        let help = "each field may appear once per mapping; remove the repeated key";
                        return Err(Problem::new(key.line, message, help));
                    }
                },
            },
        }
        Ok(())
    }

    /// The value an alias stands for, counted against [`MAX_ALIAS_NODES`].
    fn alias(&mut self, id: usize, line: usize) -> Result<Value, Problem> {
        let Some(value) = self.anchors.get(&id) else {
            let help = "an alias (`*name`) cannot stand for the list or mapping it is inside";
            return Err(Problem::new(
                line,
                "the alias refers to a node that contains it".to_owned(),
                help,
            ));
        };
        let budget = MAX_ALIAS_NODES - self.aliased;
        match nodes_within(value, budget) {
            Some(count) => {
                self.aliased += count;
                Ok(value.clone())
            }
            None => {
                let message = format!("aliases expand to more than {MAX_ALIAS_NODES} values");
                let help = "YAML aliases expand to too much data; write the entries out";
                Err(Problem::new(line, message, help))
            }
        }
    }
}

/// A key as messages show it.
fn key_text(key: &Value) -> String {
    match key {
        Value::String(text) => text.clone(),
        Value::Number(number) => number.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "null".to_owned(),
        Value::Sequence(_) | Value::Mapping(_) | Value::Tagged(_) => "(a list or mapping)".to_owned(),
    }
}

/// Nesting deeper than [`MAX_DEPTH`], found at `line`.
fn too_deep(line: usize) -> Problem {
    let help = "a manifest needs only a few levels; check the indentation and for unclosed `[` or `{`";
    let message = format!("lists or mappings nest more than {MAX_DEPTH} levels deep");
    Problem::new(line, message, help)
}

/// The number of values in `value` (itself included) if at most `budget`.
fn nodes_within(value: &Value, budget: usize) -> Option<usize> {
    let mut count = 0usize;
    let mut pending = vec![value];
    while let Some(value) = pending.pop() {
        count += 1;
        if count > budget {
            return None;
        }
        match value {
            Value::Sequence(items) => pending.extend(items),
            Value::Mapping(map) => pending.extend(map.iter().flat_map(|(k, v)| [k, v])),
            Value::Tagged(tagged) => pending.push(&tagged.value),
            Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {}
        }
    }
    Some(count)
}

/// A scalar's value, or why its core tag refuses it.
fn scalar(text: &str, style: ScalarStyle, tag: Option<&Tag>) -> Result<Value, String> {
    let custom = tag.filter(|t| !t.is_yaml_core_schema());
    let core = tag.filter(|t| t.is_yaml_core_schema()).map(Cow::Borrowed);
    let resolved = Scalar::parse_from_cow_and_metadata(Cow::Borrowed(text), style, core.as_ref())
        .ok_or_else(|| {
            let suffix = tag.map_or("", |t| t.suffix.as_str());
            format!("`{}` is not a valid `!!{}`", show(text), show(suffix))
        })?;
    let value = match resolved {
        // serde_yaml's reading, kept: digits with a leading zero (`007`,
        // a postcode) are text, not the number 7.
        Scalar::Integer(_) | Scalar::FloatingPoint(_) if leading_zero_digits(text) => {
            Value::String(text.to_owned())
        }
        Scalar::Null => Value::Null,
        Scalar::Boolean(b) => Value::Bool(b),
        Scalar::Integer(i) => Value::Number(Number::from(i)),
        Scalar::FloatingPoint(f) => Value::Number(Number::from(f.0)),
        Scalar::String(s) => Value::String(s.into_owned()),
    };
    Ok(match custom {
        Some(tag) => Value::Tagged(Box::new(TaggedValue {
            tag: value_tag(tag),
            value,
        })),
        None => value,
    })
}

/// `0` followed by digits only, after an optional sign.
fn leading_zero_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    digits.len() > 1 && digits.starts_with('0') && digits.bytes().all(|b| b.is_ascii_digit())
}

/// serde_yaml's form of a tag (`!name`); never empty.
fn value_tag(tag: &Tag) -> ValueTag {
    let text = format!("{}{}", tag.handle, tag.suffix);
    ValueTag::new(if text.is_empty() { "!".to_owned() } else { text })
}
