//! A map from YAML paths (`subscriptions/3/topic`) to 1-based line numbers,
//! built from saphyr-parser's event stream. serde_yaml is the authority for
//! the data but keeps no spans; this index only answers "which line".
//!
//! A mapping entry is recorded at its key's line; a sequence item at the
//! line where the item starts. Anything the index cannot answer falls back
//! to the nearest recorded parent, then to line 1. A saphyr error ends the
//! walk early (what was indexed so far stays usable) and never panics.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser};

/// One step of a path into the YAML document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Seg {
    /// A mapping key (scalar keys as written, without quotes).
    Key(String),
    /// A 0-based sequence index.
    Index(usize),
}

impl Seg {
    /// A key segment.
    pub(crate) fn key(key: &str) -> Seg {
        Seg::Key(key.to_owned())
    }
}

/// `base` with `seg` appended.
pub(crate) fn child(base: &[Seg], seg: Seg) -> Vec<Seg> {
    let mut path = base.to_vec();
    path.push(seg);
    path
}

/// Line numbers of the first document's nodes, by path.
///
/// Stored as a tree mirroring the document (an arena of nodes, each with
/// its sequence items and mapping keys), so building it copies no paths
/// and a lookup walks one step per segment.
#[derive(Debug, Default)]
pub(crate) struct LineIndex {
    /// `nodes[0]` is the root; empty when nothing was indexed.
    nodes: Vec<Node>,
}

/// One indexed node: its line and its children.
#[derive(Debug)]
struct Node {
    line: usize,
    /// Sequence items, by index.
    items: Vec<usize>,
    /// Mapping values, by key.
    keys: HashMap<String, usize>,
}

impl LineIndex {
    /// Indexes `text`. Never fails: on a parse error (or a parser bug) the
    /// index holds what was read before it.
    pub(crate) fn build(text: &str) -> LineIndex {
        let walked = std::panic::catch_unwind(|| {
            let mut builder = Builder::default();
            builder.walk(text);
            builder.nodes
        });
        LineIndex {
            nodes: walked.unwrap_or_default(),
        }
    }

    /// The line of `path`, else of its nearest indexed parent, else 1.
    pub(crate) fn line(&self, path: &[Seg]) -> usize {
        let Some(mut node) = self.nodes.first() else {
            return 1;
        };
        for seg in path {
            let next = match seg {
                Seg::Index(i) => node.items.get(*i),
                Seg::Key(key) => node.keys.get(key),
            };
            match next {
                Some(&id) => node = &self.nodes[id],
                None => break,
            }
        }
        node.line
    }
}

/// Where the next node goes inside its parent collection.
#[derive(Debug)]
enum Slot {
    /// Inside a sequence; the next item gets this index.
    Seq(usize),
    /// Inside a mapping: `None` while waiting for a key, then the key.
    Map(Option<Seg>),
}

#[derive(Debug)]
struct Frame {
    /// The collection's node.
    node: usize,
    slot: Slot,
}

#[derive(Debug, Default)]
struct Builder {
    nodes: Vec<Node>,
    stack: Vec<Frame>,
    /// Depth inside a non-scalar mapping key (skipped: it has no path).
    skip: usize,
    /// Set once the first document's root node has ended.
    done: bool,
}

/// What a node is to its parent.
enum Role {
    /// The document root.
    Root,
    /// A mapping key (`Some` for scalars, `None` for a collection key).
    Key,
    /// A sequence item or mapping value, reached through this segment
    /// from the parent node.
    Value(usize, Seg),
}

impl Builder {
    fn walk(&mut self, text: &str) {
        let mut parser = Parser::new_from_str(text);
        while let Some(Ok((event, span))) = parser.next_event() {
            if self.done {
                break;
            }
            let line = span.start.line().max(1);
            match event {
                Event::Scalar(value, ..) => self.scalar(Some(&value), line),
                Event::Alias(_) => self.scalar(None, line),
                Event::SequenceStart(..) => self.start(Slot::Seq(0), line),
                Event::MappingStart(..) => self.start(Slot::Map(None), line),
                Event::SequenceEnd | Event::MappingEnd => self.end(),
                Event::StreamEnd => break,
                _ => {}
            }
        }
    }

    /// Decides the role of the node that starts now, advancing the parent.
    fn role(&mut self) -> Role {
        let Some(frame) = self.stack.last_mut() else {
            return Role::Root;
        };
        match &mut frame.slot {
            Slot::Seq(next) => {
                let seg = Seg::Index(*next);
                *next += 1;
                Role::Value(frame.node, seg)
            }
            Slot::Map(key) => match key.take() {
                None => Role::Key,
                Some(seg) => Role::Value(frame.node, seg),
            },
        }
    }

    /// The child of `parent` through `seg`, created at `line` if it is new
    /// (a path seen twice, e.g. a repeated key, keeps its first line).
    fn child(&mut self, parent: usize, seg: Seg, line: usize) -> usize {
        let existing = match &seg {
            Seg::Index(i) => self.nodes[parent].items.get(*i).copied(),
            Seg::Key(key) => self.nodes[parent].keys.get(key).copied(),
        };
        if let Some(id) = existing {
            return id;
        }
        let id = self.new_node(line);
        match seg {
            // Items are numbered in order from 0, so a new one is the next.
            Seg::Index(_) => self.nodes[parent].items.push(id),
            Seg::Key(key) => {
                self.nodes[parent].keys.insert(key, id);
            }
        }
        id
    }

    fn new_node(&mut self, line: usize) -> usize {
        self.nodes.push(Node {
            line,
            items: Vec::new(),
            keys: HashMap::new(),
        });
        self.nodes.len() - 1
    }

    fn scalar(&mut self, text: Option<&str>, line: usize) {
        if self.skip > 0 {
            return;
        }
        match self.role() {
            Role::Root => {
                self.new_node(line);
                self.done = true;
            }
            Role::Key => {
                let seg = Seg::Key(text.unwrap_or("*").to_owned());
                if let Some(parent) = self.stack.last().map(|frame| frame.node) {
                    self.child(parent, seg.clone(), line);
                }
                self.set_key(seg);
            }
            Role::Value(parent, seg) => {
                self.child(parent, seg, line);
            }
        }
    }

    fn start(&mut self, slot: Slot, line: usize) {
        if self.skip > 0 {
            self.skip += 1;
            return;
        }
        let node = match self.role() {
            Role::Root => self.new_node(line),
            Role::Key => {
                self.skip = 1;
                return;
            }
            Role::Value(parent, seg) => self.child(parent, seg, line),
        };
        self.stack.push(Frame { node, slot });
    }

    fn end(&mut self) {
        if self.skip > 0 {
            self.skip -= 1;
            if self.skip == 0 {
                // A collection used as a key: its value gets an unnamed key.
                self.set_key(Seg::Key(String::new()));
            }
            return;
        }
        self.stack.pop();
        if self.stack.is_empty() {
            self.done = true;
        }
    }

    fn set_key(&mut self, seg: Seg) {
        if let Some(Frame {
            slot: Slot::Map(key), ..
        }) = self.stack.last_mut()
        {
            *key = Some(seg);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(parts: &[&str]) -> Vec<Seg> {
        parts
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => Seg::Index(i),
                Err(_) => Seg::key(p),
            })
            .collect()
    }

    const TEXT: &str = "\
version: 1
subscriptions:
  - name: a
    topics: [x,
      y]
  -
    name: b
    topic: |
      zz
  - {name: c, ? [k]: v, after: 1}
";

    #[test]
    fn keys_and_items_get_their_lines() {
        let index = LineIndex::build(TEXT);
        assert_eq!(index.line(&path(&["version"])), 1);
        assert_eq!(index.line(&path(&["subscriptions"])), 2);
        assert_eq!(index.line(&path(&["subscriptions", "0"])), 3);
        assert_eq!(index.line(&path(&["subscriptions", "0", "topics", "1"])), 5);
        assert_eq!(index.line(&path(&["subscriptions", "1"])), 7);
        assert_eq!(index.line(&path(&["subscriptions", "1", "topic"])), 8);
        assert_eq!(index.line(&path(&["subscriptions", "2", "after"])), 10);
    }

    #[test]
    fn unknown_paths_fall_back_to_the_parent_then_line_one() {
        let index = LineIndex::build(TEXT);
        assert_eq!(index.line(&path(&["subscriptions", "1", "nope"])), 7);
        assert_eq!(index.line(&path(&["nope"])), 1);
    }

    /// A manifest large enough to be indexed on a thread of its own
    /// (`PARALLEL_INDEX_BYTES`) gets the same lines.
    #[test]
    fn a_large_manifest_is_indexed_alongside_the_parse() {
        use std::fmt::Write;
        let mut text = "version: 1\nsubscriptions:\n".to_owned();
        for i in 0..1500 {
            let topic = if i == 1400 {
                "customer.updatd"
            } else {
                "customer.updated"
            };
            let _ = write!(
                text,
                "  - name: hook-{i:04}\n    topic: {topic}\n    callbackUrl: https://hooks.example.com/inveterate/{i:04}\n"
            );
        }
        assert!(text.len() > 64 * 1024);
        let file = std::path::Path::new("big.yaml");
        let err = crate::manifest::load_str(file, &text, &|_| None).expect_err("a bad topic");
        assert_eq!(err.0.len(), 1, "{err}");
        assert_eq!(err.0[0].location.line, 3 + 1400 * 3 + 1, "{err}");
        let fixed = text.replace("customer.updatd", "customer.updated");
        let manifest = crate::manifest::load_str(file, &fixed, &|_| None).expect("valid");
        for (i, sub) in manifest.subscriptions.iter().enumerate() {
            assert_eq!(sub.location.line, 3 + i * 3);
        }
    }

    #[test]
    fn broken_yaml_does_not_panic() {
        for text in ["a: [", "- a\nb: c", "{{{{", "\t:", "a: *x", ""] {
            let index = LineIndex::build(text);
            assert!(index.line(&path(&["a"])) >= 1);
        }
    }
}
