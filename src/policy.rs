//! The policy file (README "Callback host policy"): rules that live
//! outside the manifests, so a pull request cannot change them. Which
//! hosts callback URLs may point at (`allowedCallbackHosts`, globs on the
//! URL's host in its ASCII form) and the safety thresholds (`safety`).
//! Pure: [`parse`] takes the text, [`Policy::check`] the loaded manifests.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use self::hosts::HostGlobs;

#[path = "policy_hosts.rs"]
mod hosts;

use crate::callback_url::CallbackUrl;
use crate::manifest::{Diagnostic, Diagnostics};
use crate::model::{DesiredSubscription, MerchantManifest};
use crate::plan::Thresholds;
use crate::topic::closest;

/// Fields of the policy's top level.
const TOP_FIELDS: &[&str] = &["version", "allowedCallbackHosts", "safety"];
/// Fields of `safety:`.
const SAFETY_FIELDS: &[&str] = &["minInScope", "maxChangePercent", "maxDeletes", "maxCreates"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    version: serde_yaml::Value,
    allowed_callback_hosts: Option<Vec<String>>,
    safety: Option<RawSafety>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawSafety {
    min_in_scope: Option<usize>,
    max_change_percent: Option<usize>,
    max_deletes: Option<usize>,
    max_creates: Option<usize>,
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
/// the closest known one), a `version` other than 1, a glob that does not
/// parse, a percentage over 100.
pub fn parse(file: &Path, text: &str) -> Result<Policy, Diagnostics> {
    let fail = |line: usize, message: String, help: Option<String>| {
        Diagnostics(vec![Diagnostic::new(file, line, message, help)])
    };
    if text.trim().is_empty() {
        return Err(fail(
            1,
            "the policy file is empty".into(),
            Some("start it with `version: 1`".into()),
        ));
    }
    let raw: Raw = serde_yaml::from_str(text).map_err(|e| {
        let line = e.location().map_or(1, |l| l.line());
        let (message, help) = yaml_problem(&e.to_string());
        fail(line, message, help)
    })?;
    let mut problems = Vec::new();
    if raw.version.as_u64() != Some(1) {
        problems.push(Diagnostic::new(
            file,
            line_of(text, "version"),
            "the policy's `version` must be `1`".into(),
            Some("this invhooks reads policy files of `version: 1`".into()),
        ));
    }
    let hosts = match raw.allowed_callback_hosts {
        None => Some(Hosts::Any),
        Some(globs) => {
            let ascii: Vec<String> = globs.iter().map(|g| ascii_host(g)).collect();
            match HostGlobs::new(&ascii) {
                Ok(set) => Some(Hosts::Only(Box::new(set))),
                Err(bad) => {
                    problems.extend(bad.into_iter().map(|(i, why)| {
                        Diagnostic::new(
                            file,
                            line_of(text, &globs[i]),
                            format!(
                                "`{}` in `allowedCallbackHosts` is not a valid glob: {why}",
                                crate::escape::show(&globs[i])
                            ),
                            Some("use `*` for any characters, e.g. `*.acme.dev`".into()),
                        )
                    }));
                    None
                }
            }
        }
    };
    let safety = raw.safety.unwrap_or(RawSafety {
        min_in_scope: None,
        max_change_percent: None,
        max_deletes: None,
        max_creates: None,
    });
    let defaults = Thresholds::default();
    if safety.max_change_percent.is_some_and(|p| p > 100) {
        problems.push(Diagnostic::new(
            file,
            line_of(text, "maxChangePercent"),
            "`maxChangePercent` is a percentage: 0 to 100".into(),
            None,
        ));
    }
    let (Some(hosts), true) = (hosts, problems.is_empty()) else {
        return Err(Diagnostics(problems));
    };
    Ok(Policy {
        file: file.to_path_buf(),
        hosts,
        thresholds: Thresholds {
            min_in_scope: safety.min_in_scope.unwrap_or(defaults.min_in_scope),
            max_change_percent: safety.max_change_percent.unwrap_or(defaults.max_change_percent),
            max_deletes: safety.max_deletes.or(defaults.max_deletes),
            max_creates: safety.max_creates.or(defaults.max_creates),
        },
    })
}

/// A serde error as a message and a hint: an unknown field gets the
/// closest known one.
fn yaml_problem(text: &str) -> (String, Option<String>) {
    let text = text.split(" at line ").next().unwrap_or(text);
    if let Some(rest) = text.split("unknown field `").nth(1) {
        let name = rest.split('`').next().unwrap_or_default();
        let (fields, place) = if text.starts_with("safety") {
            (SAFETY_FIELDS, "policy `safety`")
        } else {
            (TOP_FIELDS, "policy")
        };
        let help = match closest(name, fields.iter().map(|f| (*f, *f))) {
            Some(f) => format!("did you mean `{f}`?"),
            None => format!(
                "known fields: {}",
                fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        return (format!("unknown field `{name}` in {place}"), Some(help));
    }
    (format!("the policy is not valid: {text}"), None)
}

/// The 1-based line of the first line containing `needle` (1 if none).
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).map_or(1, |i| i + 1)
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
