//! One callback URL for several stores (docs/fleets.md "Export a fleet"): in
//! each part where the stores' URLs differ, the store's label or the run between
//! the common prefix and suffix becomes a `${VAR}`, one per distinct list of
//! values. Kept only when it expands back to every store's URL exactly.

use std::collections::{BTreeMap, HashSet};

use super::expand::{escape, expand};

/// Where URLs are split into parts that must line up across stores.
const SEPARATORS: [char; 4] = ['/', '?', '&', '#'];
/// Where a differing run may start or end inside a part.
const CUTS: [char; 10] = ['.', '-', '_', '=', ':', '@', '+', ',', ';', '~'];

/// The variables made so far: a name and one value per store each.
#[derive(Debug)]
pub(super) struct TemplateVars<'a> {
    pub(super) labels: Vec<&'a str>,
    /// The stores' key variables: no variable may take their names.
    pub(super) taken: HashSet<&'a str>,
    pub(super) made: Vec<(String, Vec<String>)>,
}

impl TemplateVars<'_> {
    /// The `vars` of store `i`.
    pub(super) fn of(&self, i: usize) -> BTreeMap<String, String> {
        self.made
            .iter()
            .map(|(name, values)| (name.clone(), values[i].clone()))
            .collect()
    }

    /// The variable holding `values`: made before, else named `base` (numbered when taken).
    fn name(&mut self, values: Vec<String>, base: &str) -> String {
        if let Some((name, _)) = self.made.iter().find(|(_, v)| *v == values) {
            return name.clone();
        }
        let base = if values == self.labels { "MERCHANT" } else { base };
        let free = |n: &String| !self.taken.contains(n.as_str()) && self.made.iter().all(|(m, _)| m != n);
        let numbered = (2..).map(|n| format!("{base}_{n}"));
        let name = std::iter::once(base.to_owned())
            .chain(numbered)
            .find(free)
            .unwrap_or_default();
        self.made.push((name.clone(), values));
        name
    }
}

/// The escaped `callbackUrl` declaring `urls` (one per store), adding its
/// variables to `vars`; else a store whose URL differs in more than per-store parts.
pub(super) fn template(urls: &[&str], vars: &mut TemplateVars<'_>) -> Result<String, usize> {
    let first = urls.first().copied().unwrap_or_default();
    if urls.iter().all(|u| *u == first) {
        return Ok(escape(first));
    }
    let parts: Vec<Vec<&str>> = urls.iter().map(|u| split(u)).collect();
    if let Some(other) = (1..parts.len()).find(|&i| !same_shape(&parts[0], &parts[i])) {
        return Err(other);
    }
    let mut written = String::new();
    for (at, piece) in parts[0].iter().enumerate() {
        let pieces: Vec<&str> = parts.iter().map(|p| p[at]).collect();
        if pieces.iter().all(|p| p == piece) {
            written.push_str(&escape(piece));
            continue;
        }
        let (pre, post) = around_label(&pieces, &vars.labels).unwrap_or_else(|| common(&pieces));
        let values: Vec<String> = pieces.iter().map(|p| p[pre..p.len() - post].to_owned()).collect();
        let base = match at == 4 && is_authority(&parts[0]) {
            false => "PART",
            true if pre == 0 && post == 0 => "HOST",
            true => "HOST_PART",
        };
        let name = vars.name(values, base);
        written.push_str(&escape(&piece[..pre]));
        written.push_str(&format!("${{{name}}}"));
        written.push_str(&escape(&piece[piece.len() - post..]));
    }
    match (0..urls.len()).find(|&i| !expands_to(&written, &vars.of(i), urls[i])) {
        Some(other) => Err(other.max(1)),
        None => Ok(written),
    }
}

/// `url` in parts, each separator a part of its own (at the odd indices).
fn split(url: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in url.char_indices().filter(|(_, c)| SEPARATORS.contains(c)) {
        parts.push(&url[start..i]);
        parts.push(&url[i..i + c.len_utf8()]);
        start = i + c.len_utf8();
    }
    parts.push(&url[start..]);
    parts
}

/// Whether two split URLs have the same separators.
fn same_shape(a: &[&str], b: &[&str]) -> bool {
    a.len() == b.len() && a.iter().zip(b).skip(1).step_by(2).all(|(x, y)| x == y)
}

/// Whether part 4 of `parts` is the host: `scheme://host…`.
fn is_authority(parts: &[&str]) -> bool {
    parts.len() > 4 && parts[0].ends_with(':') && parts[1] == "/" && parts[2].is_empty() && parts[3] == "/"
}

/// The bytes around each store's label, when each piece holds it once with the same text around.
fn around_label(pieces: &[&str], labels: &[&str]) -> Option<(usize, usize)> {
    let mut around = None;
    for (piece, label) in pieces.iter().zip(labels) {
        let mut found = piece.match_indices(label);
        let (at, _) = found.next().filter(|_| !label.is_empty())?;
        if found.next().is_some() {
            return None;
        }
        let here = (&piece[..at], &piece[at + label.len()..]);
        if here.0.ends_with('$') || around.is_some_and(|a| a != here) {
            return None;
        }
        around = Some(here);
    }
    around.map(|(before, after)| (before.len(), after.len()))
}

/// The longest common prefix and suffix ending (starting) at a cut, not overlapping.
fn common(pieces: &[&str]) -> (usize, usize) {
    let first = pieces[0].as_bytes();
    let run = |pairs: &mut dyn Iterator<Item = (&u8, &u8)>| pairs.take_while(|(a, b)| a == b).count();
    let pre = pieces.iter().map(|p| run(&mut first.iter().zip(p.as_bytes())));
    let post = pieces
        .iter()
        .map(|p| run(&mut first.iter().rev().zip(p.as_bytes().iter().rev())));
    let shortest = pieces.iter().map(|p| p.len()).min().unwrap_or(0);
    // Cuts are ASCII: a byte inside a character is never one.
    let cut = |b: &u8| CUTS.contains(&char::from(*b));
    let pre = pre.min().unwrap_or(0);
    let pre = first[..pre].iter().rposition(cut).map_or(0, |i| i + 1);
    let post = post.min().unwrap_or(0).min(shortest - pre);
    let post = first[first.len() - post..]
        .iter()
        .position(cut)
        .map_or(0, |i| post - i);
    (pre, post)
}

/// Whether `written` expands with `vars` (and nothing else) to `url`.
fn expands_to(written: &str, vars: &BTreeMap<String, String>, url: &str) -> bool {
    expand(written, &|name| vars.get(name).cloned(), usize::MAX).is_ok_and(|e| e == url)
}
