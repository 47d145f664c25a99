//! A policy's `allowedCallbackHosts`, compiled so that a check stays fast
//! at tens of thousands of globs (one per store is normal for an agency):
//! a host name (`hooks.acme.dev`) is one hash lookup, a `*` + name glob
//! (`*.acme.dev`) one lookup per suffix of the host, and any other glob is
//! matched (globset, compiled on first use) only when the longest text it
//! requires (`hooks-` in `hooks-*.acme.dev`) occurs in the host, found by
//! one Aho-Corasick pass. Nothing is combined into one automaton whose
//! size limit could fail the build: a policy that cannot be compiled is an
//! error (README "Callback host policy"), never a list that allows all.

use std::collections::HashSet;
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use globset::{Glob, GlobMatcher};

/// The characters that make a glob more than a host name.
const META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

/// The longest glob accepted: far above any host (253 characters), and
/// small enough that compiling it stays far inside the regex size limit.
pub const MAX_GLOB: usize = 1_024;

/// Allowed host globs (lowercase ASCII), as written in the policy.
#[derive(Debug, Clone)]
pub struct HostGlobs {
    written: Vec<String>,
    exact: HashSet<String>,
    suffixes: HashSet<String>,
    /// The other globs, each compiled on first use.
    globs: Vec<(Glob, OnceLock<GlobMatcher>)>,
    /// The text each of `globs` requires, for those that require some.
    required: Option<AhoCorasick>,
    /// Which glob each pattern of `required` belongs to.
    required_by: Vec<usize>,
    /// The globs that require no text: tried for every host.
    others: Vec<usize>,
}

impl HostGlobs {
    /// Compiles `globs` (ASCII, lowercase).
    ///
    /// # Errors
    ///
    /// Each glob that does not parse or is longer than [`MAX_GLOB`], by
    /// index, with the reason.
    pub fn new(globs: &[String]) -> Result<Self, Vec<(usize, String)>> {
        let mut set = HostGlobs {
            written: globs.to_vec(),
            exact: HashSet::new(),
            suffixes: HashSet::new(),
            globs: Vec::new(),
            required: None,
            required_by: Vec::new(),
            others: Vec::new(),
        };
        let (mut problems, mut literals) = (Vec::new(), Vec::new());
        for (i, glob) in globs.iter().enumerate() {
            if glob.len() > MAX_GLOB {
                problems.push((i, format!("longer than {MAX_GLOB} characters")));
                continue;
            }
            let parsed = match Glob::new(glob) {
                Ok(parsed) => parsed,
                Err(e) => {
                    problems.push((i, e.kind().to_string()));
                    continue;
                }
            };
            match glob.strip_prefix('*') {
                _ if !glob.contains(META) => {
                    set.exact.insert(glob.clone());
                }
                Some(rest) if !rest.contains(META) => {
                    set.suffixes.insert(rest.to_owned());
                }
                _ => {
                    let id = set.globs.len();
                    set.globs.push((parsed, OnceLock::new()));
                    match required_text(glob) {
                        Some(text) => {
                            literals.push(text);
                            set.required_by.push(id);
                        }
                        None => set.others.push(id),
                    }
                }
            }
        }
        if !literals.is_empty() {
            match AhoCorasick::new(&literals) {
                Ok(automaton) => set.required = Some(automaton),
                Err(e) => problems.push((0, format!("the globs are too many to compile: {e}"))),
            }
        }
        match problems.is_empty() {
            true => Ok(set),
            false => Err(problems),
        }
    }

    /// The globs, in the policy's order.
    pub fn written(&self) -> &[String] {
        &self.written
    }

    /// Whether `host` (as [`super::host_of`] gives it) matches a glob.
    pub fn allows(&self, host: &str) -> bool {
        let matches = |id: usize| {
            let (glob, matcher) = &self.globs[id];
            matcher.get_or_init(|| glob.compile_matcher()).is_match(host)
        };
        let mut cuts = host.char_indices().map(|(i, _)| i).chain([host.len()]);
        self.exact.contains(host)
            || cuts.any(|cut| self.suffixes.contains(&host[cut..]))
            || self.required.as_ref().is_some_and(|automaton| {
                automaton
                    .find_overlapping_iter(host)
                    .any(|m| matches(self.required_by[m.pattern().as_usize()]))
            })
            || self.others.iter().any(|&id| matches(id))
    }
}

/// The longest run of plain characters outside any `[…]` class and `{…}`
/// alternation: text every host the glob matches contains.
fn required_text(glob: &str) -> Option<String> {
    let (mut best, mut run) = (String::new(), String::new());
    let (mut class, mut braces) = (false, 0usize);
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        let plain = !class && braces == 0 && !META.contains(&c);
        if plain {
            run.push(c);
            continue;
        }
        if run.len() > best.len() {
            best = std::mem::take(&mut run);
        }
        run.clear();
        match c {
            '\\' => {
                chars.next();
            }
            '[' if !class => {
                class = true;
                // `[!]…]`, `[^]…]` and `[]…]` hold a literal `]`.
                let _ = chars.next_if(|&c| c == '!' || c == '^');
                let _ = chars.next_if_eq(&']');
            }
            ']' if class => class = false,
            '{' if !class => braces += 1,
            '}' if !class => braces = braces.saturating_sub(1),
            _ => {}
        }
    }
    if run.len() > best.len() {
        best = run;
    }
    (!best.is_empty()).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_required_text_is_outside_classes_and_alternations() {
        assert_eq!(required_text("hooks-*.acme.dev").as_deref(), Some(".acme.dev"));
        assert_eq!(required_text("*store4-[ab]*").as_deref(), Some("store4-"));
        assert_eq!(required_text("[]abcdef]x").as_deref(), Some("x"));
        assert_eq!(required_text("[!]abcdef]x*").as_deref(), Some("x"));
        assert_eq!(required_text("{alpha,beta}.io*").as_deref(), Some(".io"));
        assert_eq!(required_text("a\\*bc*").as_deref(), Some("bc"));
        assert_eq!(required_text("*?*"), None);
    }
}
