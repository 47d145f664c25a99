//! The policy file (README "Callback host policy"): rules that live
//! outside the manifests, so a pull request cannot change them. Which
//! hosts callback URLs may point at (`allowedCallbackHosts`, globs on the
//! URL's host in its ASCII form) and the safety thresholds (`safety`).
//! Pure: [`parse`] takes the text, [`Policy::check`] the loaded manifests.

use std::path::{Path, PathBuf};

use self::hosts::HostGlobs;

#[path = "policy_hosts.rs"]
mod hosts;

use crate::callback_url::CallbackUrl;
use crate::manifest::context::{Ctx, Got};
use crate::manifest::record::{record, Version};
use crate::manifest::yaml::{self, At, Found};
use crate::manifest::{Diagnostic, Diagnostics};
use crate::model::{DesiredSubscription, MerchantManifest};
use crate::plan::Thresholds;

record! {
    /// The policy file as written.
    pub(crate) struct PolicyFile("policy") {
        /// Always `1`.
        version("version"): Version,
        /// Globs on the callback URL's host.
        allowed_callback_hosts("allowedCallbackHosts"): Vec<At<String>>,
        /// Safety thresholds replacing the built-in ones.
        safety("safety"): Safety,
    }
}

record! {
    /// `safety:` of the policy file.
    pub(crate) struct Safety("policy `safety`") {
        /// `plan::Thresholds::min_in_scope`.
        min_in_scope("minInScope"): usize,
        /// `plan::Thresholds::max_change_percent`.
        max_change_percent("maxChangePercent"): usize,
        /// `plan::Thresholds::max_deletes`.
        max_deletes("maxDeletes"): usize,
        /// `plan::Thresholds::max_creates`.
        max_creates("maxCreates"): usize,
    }
}

/// A checked policy.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The file it was read from, for messages.
    pub file: PathBuf,
    /// Which callback hosts it allows.
    hosts: Hosts,
    /// The safety thresholds: the built-in ones, with the policy's keys
    /// replacing theirs.
    pub thresholds: Thresholds,
}

/// Which callback hosts a policy allows. Any host only when the file has
/// no `allowedCallbackHosts`: a list is compiled without a step that can
/// fail, and a glob that does not parse fails the whole policy, so no
/// problem with the list can read as "no restriction".
#[derive(Debug, Clone)]
enum Hosts {
    /// No `allowedCallbackHosts` key.
    Any,
    /// Only hosts matching one of these globs (none for `[]`).
    Only(Box<HostGlobs>),
}

/// How many globs a refusal names before it gives the count.
const SHOWN_GLOBS: usize = 5;

/// Parses and checks a policy file's text.
///
/// # Errors
///
/// Every problem, with `file:line`: YAML syntax, an unknown field (with
/// the closest known one), a value of the wrong kind, a `version` other
/// than 1, a glob that does not parse, a percentage over 100.
pub fn parse(file: &Path, text: &str) -> Result<Policy, Diagnostics> {
    let fail = |line: usize, message: String, help: Option<String>| {
        Diagnostics(vec![Diagnostic::new(file, line, message, help)])
    };
    let raw = match yaml::parse::<PolicyFile>(file, text)
        .map_err(|d| Diagnostics(vec![d]))?
        .0
    {
        Ok(raw) => raw,
        Err(Found::Empty) => {
            return Err(fail(
                1,
                "the policy file is empty".into(),
                Some("start it with `version: 1`".into()),
            ))
        }
        Err(found) => {
            let message = format!("the policy must be a mapping of fields, found {}", found.kind());
            return Err(fail(1, message, Some("start it with `version: 1`".into())));
        }
    };
    let mut problems = Ctx::new(file, &|_| None);
    problems.unknown(&raw);
    if !matches!(problems.get("version", &raw.version), Got::Ok(Version(v)) if v == "1") {
        problems.error(
            raw.version.as_ref().map_or(1, |at| at.line),
            "the policy's `version` must be `1`",
            Some("this invhooks reads policy files of `version: 1`".into()),
        );
    }
    // Fail closed: any host only without the key; a list is compiled by a
    // step that cannot fail, and every problem in it refuses the policy.
    let hosts = match problems.get("allowedCallbackHosts", &raw.allowed_callback_hosts) {
        Got::Absent => Some(Hosts::Any),
        Got::Bad => None,
        Got::Empty => HostGlobs::new(&[]).ok().map(|set| Hosts::Only(Box::new(set))),
        Got::Ok(globs) => {
            let mut written: Vec<(usize, &str)> = Vec::with_capacity(globs.len());
            for glob in globs {
                match glob.ok() {
                    Some(text) => written.push((glob.line, text.as_str())),
                    None => {
                        let found = glob.value.as_ref().err().map_or("", Found::kind);
                        problems.error(
                            glob.line,
                            format!("`allowedCallbackHosts` lists hosts, found {found}"),
                            Some("write each host as a string, e.g. `\"*.acme.dev\"`".into()),
                        );
                    }
                }
            }
            let ascii: Vec<String> = written.iter().map(|(_, g)| ascii_host(g)).collect();
            match HostGlobs::new(&ascii) {
                Ok(set) => Some(Hosts::Only(Box::new(set))),
                Err(bad) => {
                    for (i, why) in bad {
                        let (line, text) = written[i];
                        problems.error(
                            line,
                            format!(
                                "`{}` in `allowedCallbackHosts` is not a valid glob: {why}",
                                crate::escape::show(text)
                            ),
                            Some("use `*` for any characters, e.g. `*.acme.dev`".into()),
                        );
                    }
                    None
                }
            }
        }
    };
    let defaults = Thresholds::default();
    let mut thresholds = defaults;
    if let Got::Ok(safety) = problems.get("safety", &raw.safety) {
        problems.unknown(safety);
        let mut number = |name: &str, field: &Option<At<usize>>| match problems.get(name, field) {
            Got::Ok(n) => Some(*n),
            _ => None,
        };
        thresholds.min_in_scope = number("minInScope", &safety.min_in_scope).unwrap_or(defaults.min_in_scope);
        let percent = number("maxChangePercent", &safety.max_change_percent);
        thresholds.max_deletes = number("maxDeletes", &safety.max_deletes).or(defaults.max_deletes);
        thresholds.max_creates = number("maxCreates", &safety.max_creates).or(defaults.max_creates);
        match percent {
            Some(p) if p > 100 => problems.error(
                safety.max_change_percent.as_ref().map_or(1, |at| at.line),
                "`maxChangePercent` is a percentage: 0 to 100",
                None,
            ),
            Some(p) => thresholds.max_change_percent = p,
            None => {}
        }
    }
    let (Some(hosts), true) = (hosts, problems.is_clean()) else {
        let mut problems = problems.into_problems();
        problems.sort_by_key(|d| d.location.line);
        return Err(Diagnostics(problems));
    };
    Ok(Policy {
        file: file.to_path_buf(),
        hosts,
        thresholds,
    })
}

/// A host or host glob in the form URLs are compared in: lowercase ASCII,
/// internationalised labels in punycode (`bücher.de` → `xn--bcher-kva.de`).
fn ascii_host(host: &str) -> String {
    match url::Host::parse(host) {
        Ok(url::Host::Domain(ascii)) => ascii,
        _ => host.to_ascii_lowercase(),
    }
}

/// The host of `url` as the policy sees it: the host of its one reading
/// ([`CallbackUrl::host`]: userinfo and port removed, IDN as punycode,
/// lowercase), so neither `https://allowed@evil.example`, a backslash nor
/// a port can pass for another host; `None` for a URL a manifest could
/// not declare.
pub fn host_of(url: &str) -> Option<String> {
    CallbackUrl::parse(url).ok()?.host()
}

impl Policy {
    /// Whether a callback to `url` is allowed; `Err` holds the host that
    /// is not (or the URL, masked, when it has no host).
    pub fn allows(&self, url: &str) -> Result<(), String> {
        let Hosts::Only(set) = &self.hosts else {
            return Ok(());
        };
        match host_of(url) {
            Some(host) if set.allows(&host) => Ok(()),
            Some(host) => Err(host),
            None => Err(crate::secret::mask_url(url)),
        }
    }

    /// One diagnostic per manifest entry whose callback host the policy
    /// does not allow, at its `file:line`, naming its topics (an entry
    /// with `topics: [a, b]` is one problem, not one per topic).
    pub fn check(&self, manifests: &[MerchantManifest]) -> Vec<Diagnostic> {
        let mut refused: Vec<(&DesiredSubscription, String, Vec<&str>)> = Vec::new();
        for s in manifests.iter().flat_map(|m| &m.subscriptions) {
            let Err(host) = self.allows(&s.callback_url) else {
                continue;
            };
            match refused.last_mut() {
                Some((entry, last, topics))
                    if entry.location == s.location && entry.name == s.name && *last == host =>
                {
                    topics.push(&s.topic);
                }
                _ => refused.push((s, host, vec![&s.topic])),
            }
        }
        let file = self.file.display();
        refused
            .into_iter()
            .map(|(s, host, topics)| {
                let host = crate::escape::show(&host);
                let topics: Vec<String> = topics.iter().map(|t| format!("`{}`", crate::escape::show(t))).collect();
                Diagnostic::new(
                    &s.location.file,
                    s.location.line,
                    format!(
                        "callback host `{host}` of `{}` ({}) is not allowed by policy `{file}` (allowedCallbackHosts: {})",
                        crate::escape::show(&s.name),
                        topics.join(", "),
                        self.allowed()
                    ),
                    Some(format!(
                        "point the callback at an allowed host, or ask the owners of `{file}` to add `{host}` to `allowedCallbackHosts`"
                    )),
                )
            })
            .collect()
    }

    /// The allowed globs for a message: a few, and how many in all.
    fn allowed(&self) -> String {
        let globs = match &self.hosts {
            Hosts::Any => return "any".into(),
            Hosts::Only(set) if set.written().is_empty() => return "none".into(),
            Hosts::Only(set) => set.written(),
        };
        let shown: Vec<String> = globs
            .iter()
            .take(SHOWN_GLOBS)
            .map(|g| format!("`{}`", crate::escape::show(g)))
            .collect();
        match globs.len() - shown.len() {
            0 => shown.join(", "),
            more => format!("{} and {more} more, {} in all", shown.join(", "), globs.len()),
        }
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
