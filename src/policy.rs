//! The policy file (`--policy`, docs/policy.md): the callback hosts and safety
//! thresholds, kept outside the manifests so a pull request cannot change them.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use aho_corasick::AhoCorasick;
use globset::{Glob, GlobMatcher};

use crate::callback_url::CallbackUrl;
use crate::escape::show;
use crate::manifest::context::{document, Ctx, Got};
use crate::manifest::yaml::{self, record, At};
use crate::manifest::{Diagnostic, Diagnostics};
use crate::model::{DesiredSubscription, MerchantManifest, Pattern};
use crate::plan::Thresholds;

record! {
    pub(crate) struct PolicyFile("policy") {
        version("version"): usize,
        allowed_callback_hosts("allowedCallbackHosts"): Vec<At<String>>,
        safety("safety"): Safety,
    }
}

record! {
    /// `safety:`: the [`Thresholds`] it replaces.
    pub(crate) struct Safety("policy `safety`") {
        min_in_scope("minInScope"): usize,
        max_change_percent("maxChangePercent"): usize,
        max_deletes("maxDeletes"): usize,
        max_creates("maxCreates"): usize,
    }
}

#[derive(Debug, Clone)]
pub struct Policy {
    pub file: PathBuf,
    /// `None` only without `allowedCallbackHosts`: a list that is there is
    /// compiled or refuses the policy, never read as "no restriction".
    hosts: Option<HostGlobs>,
    /// The built-in ones, with the policy's keys replacing theirs.
    pub thresholds: Thresholds,
}

/// How many globs a refusal names before it gives the count.
const SHOWN_GLOBS: usize = 5;

/// Parses and checks a policy file's text; else every problem, in line order.
pub fn parse(file: &Path, text: &str) -> Result<Policy, Diagnostics> {
    let empty = "the policy file is empty".to_owned();
    let raw: PolicyFile =
        document(file, text, empty, "the policy", "start it with `version: 1`").map_err(Diagnostics)?;
    let mut ctx = Ctx::new(file, &|_| None);
    ctx.unknown(&raw);
    if !matches!(ctx.get("version", &raw.version), Got::Ok(1)) {
        let help = "this invhooks reads policy files of `version: 1`";
        let line = yaml::line(&raw.version);
        ctx.error(line, "the policy's `version` must be `1`", help);
    }
    let hosts = match ctx.get("allowedCallbackHosts", &raw.allowed_callback_hosts) {
        Got::Absent => Some(None),
        Got::Bad => None,
        Got::Empty => HostGlobs::new(&[]).ok().map(Some),
        Got::Ok(globs) => host_globs(&mut ctx, globs).map(Some),
    };
    let mut t = Thresholds::default();
    if let Some(safety) = ctx.value("safety", &raw.safety) {
        ctx.unknown(safety);
        let mut number = |name: &str, field: &Option<At<usize>>| ctx.value(name, field).copied();
        t.min_in_scope = number("minInScope", &safety.min_in_scope).unwrap_or(t.min_in_scope);
        let percent = number("maxChangePercent", &safety.max_change_percent);
        t.max_deletes = number("maxDeletes", &safety.max_deletes);
        t.max_creates = number("maxCreates", &safety.max_creates);
        t.max_change_percent = percent.unwrap_or(t.max_change_percent);
        if t.max_change_percent > 100 {
            let line = yaml::line(&safety.max_change_percent);
            ctx.error(line, "`maxChangePercent` is a percentage: 0 to 100", "");
        }
    }
    match (hosts, ctx.is_clean()) {
        (Some(hosts), true) => Ok(Policy {
            file: file.to_path_buf(),
            hosts,
            thresholds: t,
        }),
        _ => Err(Diagnostics(ctx.into_problems())),
    }
}

/// `allowedCallbackHosts` compiled, or `None` with its problems recorded.
fn host_globs(ctx: &mut Ctx<'_>, globs: &[At<String>]) -> Option<HostGlobs> {
    let help = "write each host as a string, e.g. `\"*.acme.dev\"`";
    let written = ctx.items("allowedCallbackHosts", globs, help);
    let ascii: Vec<String> = written.iter().map(|(_, glob)| ascii_host(glob)).collect();
    let compiled = HostGlobs::new(&ascii).map_err(|bad| {
        for (i, why) in bad {
            let (line, text) = written[i];
            let shown = show(text);
            let message = format!("`{shown}` in `allowedCallbackHosts` is not a valid glob: {why}");
            ctx.error(line, message, "use `*` for any characters, e.g. `*.acme.dev`");
        }
    });
    compiled.ok()
}

/// A host glob as URLs' hosts are compared: lowercase, IDN as punycode.
fn ascii_host(host: &str) -> String {
    match url::Host::parse(host) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => host.to_ascii_lowercase(),
    }
}

impl Policy {
    /// Whether a callback to `url` is allowed; else the host (or the URL, masked).
    /// The host is the one deliveries use, so no userinfo or port passes for another.
    pub fn allows(&self, url: &str) -> Result<(), String> {
        let Some(globs) = &self.hosts else {
            return Ok(());
        };
        match CallbackUrl::parse(url).ok().and_then(|u| u.host()) {
            Some(host) if globs.allows(&host) => Ok(()),
            Some(host) => Err(host),
            None => Err(crate::secret::mask_url(url)),
        }
    }

    /// One diagnostic per manifest entry (not per topic) whose host is not allowed.
    pub fn check(&self, manifests: &[MerchantManifest]) -> Vec<Diagnostic> {
        let refused: Vec<(&DesiredSubscription, String)> = (manifests.iter())
            .flat_map(|m| &m.subscriptions)
            .filter_map(|s| Some((s, self.allows(&s.callback_url).err()?)))
            .collect();
        let one_entry = |(a, x): &(&DesiredSubscription, _), (b, y): &(&DesiredSubscription, _)| {
            a.location == b.location && a.name == b.name && x == y
        };
        let (file, allowed) = (self.file.display(), self.allowed());
        let refusal = |entry: &[(&DesiredSubscription, String)]| {
            let (s, host) = &entry[0];
            let topics = entry.iter().map(|(s, _)| format!("`{}`", show(&s.topic)));
            let (host, name, topics) = (show(host), show(&s.name), topics.collect::<Vec<_>>().join(", "));
            let message = format!("callback host `{host}` of `{name}` ({topics}) is not allowed by policy `{file}` (allowedCallbackHosts: {allowed})");
            let help = format!("point the callback at an allowed host, or ask the owners of `{file}` to add `{host}` to `allowedCallbackHosts`");
            Diagnostic::new(&s.location.file, s.location.line, message, help)
        };
        refused.chunk_by(one_entry).map(refusal).collect()
    }

    /// The allowed globs for a message: the first few, then `… and N more`.
    fn allowed(&self) -> String {
        let Some(HostGlobs { written, .. }) = &self.hosts else {
            return "any".into();
        };
        if written.is_empty() {
            return "none".into();
        }
        let shown = written.iter().map(|g| format!("`{}`", show(g)));
        crate::render::first(SHOWN_GLOBS, shown)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The characters that make a glob more than a host name.
const META: &[char] = &['*', '?', '[', ']', '{', '}', '\\'];

/// The longest glob: far above any host (253), far inside the regex size limit.
pub const MAX_GLOB: usize = 1_024;

/// Allowed host globs (lowercase ASCII), fast at tens of thousands (BENCHMARKS.md
/// "Policy"): names hashed, `*.name` by suffix, other globs tried only when the
/// text they require occurs in the host. No combined regex whose size limit
/// could fail: a policy that cannot be compiled is refused, never allows all.
#[derive(Debug, Clone)]
pub struct HostGlobs {
    written: Vec<String>,
    exact: HashSet<String>,
    suffixes: HashSet<String>,
    /// Compiled on first use: those with a `required` pattern of the same index, then the rest.
    globs: Vec<(Glob, OnceLock<GlobMatcher>)>,
    required: AhoCorasick,
}

impl HostGlobs {
    /// Compiles `written` (ASCII, lowercase); else each glob that does not, with why.
    pub fn new(written: &[String]) -> Result<Self, Vec<(usize, String)>> {
        let (mut exact, mut suffixes, mut problems) = (HashSet::new(), HashSet::new(), Vec::new());
        let (mut required, mut others) = (Vec::new(), Vec::new());
        for (i, glob) in written.iter().enumerate() {
            let parsed = match glob.len() <= MAX_GLOB {
                true => Pattern::glob(glob).map_err(|e| e.kind().to_string()),
                false => Err(format!("longer than {MAX_GLOB} characters")),
            };
            match (parsed, glob.strip_prefix('*'), required_text(glob)) {
                (Err(why), ..) => problems.push((i, why)),
                _ if !glob.contains(META) => drop(exact.insert(glob.clone())),
                (_, Some(rest), _) if !rest.contains(META) => drop(suffixes.insert(rest.to_owned())),
                (Ok(parsed), _, Some(text)) => required.push((text, parsed)),
                (Ok(parsed), _, None) => others.push(parsed),
            }
        }
        let automaton = AhoCorasick::new(required.iter().map(|(text, _)| text));
        let automaton =
            automaton.map_err(|e| problems.push((0, format!("the globs are too many to compile: {e}"))));
        let globs = required.into_iter().map(|(_, glob)| glob).chain(others);
        match (automaton, problems.is_empty()) {
            (Ok(required), true) => Ok(HostGlobs {
                written: written.to_vec(),
                exact,
                suffixes,
                globs: globs.map(|glob| (glob, OnceLock::new())).collect(),
                required,
            }),
            _ => Err(problems),
        }
    }

    /// Whether `host` (as [`CallbackUrl::host`] gives it) matches a glob.
    pub fn allows(&self, host: &str) -> bool {
        let matches = |id: usize| {
            let (glob, matcher) = &self.globs[id];
            matcher.get_or_init(|| glob.compile_matcher()).is_match(host)
        };
        let mut cuts = host.char_indices().map(|(i, _)| i).chain([host.len()]);
        let others = self.required.patterns_len()..self.globs.len();
        self.exact.contains(host)
            || cuts.any(|cut| self.suffixes.contains(&host[cut..]))
            || self
                .required
                .find_overlapping_iter(host)
                .any(|m| matches(m.pattern().as_usize()))
            || others.into_iter().any(matches)
    }
}

/// Text every matching host contains: the longest plain run before the first
/// `[` or `{`, or after the last `]` or `}` (never inside a class or alternation).
fn required_text(glob: &str) -> Option<String> {
    let (head, tail) = (glob.split(['[', '{']).next(), glob.rsplit([']', '}']).next());
    let runs = head.into_iter().chain(tail).flat_map(|part| part.split(META));
    runs.max_by_key(|run| run.len())
        .filter(|run| !run.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
