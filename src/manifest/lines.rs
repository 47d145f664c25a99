//! A map from YAML paths (`subscriptions/3/topic`) to 1-based line numbers,
//! filled by the loader ([`events`](super::events)) as it reads the
//! document, beside the value it builds.
//!
//! A mapping entry is recorded at its key's line; a sequence item at the
//! line where the item starts. Anything the index cannot answer falls back
//! to the nearest recorded parent, then to line 1.

use std::collections::HashMap;
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

    /// Records the document's root node at `line`; returns its id.
    pub(super) fn root(&mut self, line: usize) -> usize {
        self.nodes.clear();
        self.new_node(line)
    }

    /// The child of `parent` through `seg`, recorded at `line` if it is
    /// new (a path seen twice, e.g. a key and then its value, keeps its
    /// first line); returns its id.
    pub(super) fn child(&mut self, parent: usize, seg: Seg, line: usize) -> usize {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_falls_back_to_its_nearest_recorded_parent_then_line_one() {
        let mut index = LineIndex::default();
        assert_eq!(index.line(&[Seg::key("a")]), 1, "an empty index");
        let root = index.root(2);
        let list = index.child(root, Seg::key("subscriptions"), 3);
        let item = index.child(list, Seg::Index(0), 4);
        assert_eq!(
            index.child(list, Seg::Index(0), 9),
            item,
            "a path seen twice keeps its line"
        );
        index.child(item, Seg::key("name"), 5);
        let at = |path: &[Seg]| index.line(path);
        assert_eq!(
            at(&[Seg::key("subscriptions"), Seg::Index(0), Seg::key("name")]),
            5
        );
        assert_eq!(
            at(&[Seg::key("subscriptions"), Seg::Index(0), Seg::key("topic")]),
            4
        );
        assert_eq!(at(&[Seg::key("subscriptions"), Seg::Index(7)]), 3);
        assert_eq!(at(&[Seg::key("nope")]), 2);
    }
}
