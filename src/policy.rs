//! The policy file (README "Callback host policy"): rules that live
//! outside the manifests, so a pull request cannot change them. Which
//! hosts callback URLs may point at (`allowedCallbackHosts`, globs on the
//! URL's host in its ASCII form) and the safety thresholds (`safety`).
//! Pure: [`parse`] takes the text, [`Policy::check`] the loaded manifests.

use std::path::{Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::manifest::record::{record, Got, Problems, Version};
use crate::manifest::yaml::{self, At, Found};
use crate::manifest::{Diagnostic, Diagnostics};
use crate::model::MerchantManifest;
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
    /// The allowed host globs (ASCII, lowercase) and their matcher; `None`
    /// when the policy does not restrict hosts.
    hosts: Option<(Vec<String>, GlobSet)>,
    /// The safety thresholds: the built-in ones, with the policy's keys
    /// replacing theirs.
    pub thresholds: Thresholds,
}

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
    let mut problems = Problems::new(file);
    problems.unknown(&raw);
    if !matches!(problems.get("version", &raw.version), Got::Ok(Version(v)) if v == "1") {
        problems.error(
            raw.version.as_ref().map_or(1, |at| at.line),
            "the policy's `version` must be `1`".into(),
            Some("this invhooks reads policy files of `version: 1`".into()),
        );
    }
    let hosts = match problems.get("allowedCallbackHosts", &raw.allowed_callback_hosts) {
        Got::Absent | Got::Empty | Got::Bad => None,
        Got::Ok(globs) => {
            let mut set = GlobSetBuilder::new();
            let mut shown = Vec::with_capacity(globs.len());
            for glob in globs {
                let Some(text) = glob.ok() else {
                    let found = glob.value.as_ref().err().map_or("", Found::kind);
                    let message = format!("`allowedCallbackHosts` lists hosts, found {found}");
                    problems.error(
                        glob.line,
                        message,
                        Some("write each host as a string, e.g. `\"*.acme.dev\"`".into()),
                    );
                    continue;
                };
                let ascii = ascii_host(text);
                match GlobBuilder::new(&ascii).case_insensitive(true).build() {
                    Ok(g) => {
                        set.add(g);
                        shown.push(ascii);
                    }
                    Err(e) => problems.error(
                        glob.line,
                        format!(
                            "`{text}` in `allowedCallbackHosts` is not a valid glob: {}",
                            e.kind()
                        ),
                        Some("use `*` for any characters, e.g. `*.acme.dev`".into()),
                    ),
                }
            }
            set.build().ok().map(|set| (shown, set))
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
                "`maxChangePercent` is a percentage: 0 to 100".into(),
                None,
            ),
            Some(p) => thresholds.max_change_percent = p,
            None => {}
        }
    }
    if !problems.is_clean() {
        let mut problems = problems.into_vec();
        problems.sort_by_key(|d| d.location.line);
        return Err(Diagnostics(problems));
    }
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

/// The host of `url` as the policy sees it: what the `url` crate parses
/// (userinfo and port removed, IDN as punycode, lowercase), so neither
/// `https://allowed@evil.example` nor a port can pass for another host.
pub fn host_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.host()? {
        url::Host::Domain(d) => Some(d.trim_end_matches('.').to_ascii_lowercase()),
        url::Host::Ipv4(ip) => Some(ip.to_string()),
        url::Host::Ipv6(ip) => Some(ip.to_string()),
    }
}

impl Policy {
    /// Whether a callback to `url` is allowed; `Err` holds the host that
    /// is not (or the URL, masked, when it has no host).
    pub fn allows(&self, url: &str) -> Result<(), String> {
        let Some((_, set)) = &self.hosts else {
            return Ok(());
        };
        match host_of(url) {
            Some(host) if set.is_match(&host) => Ok(()),
            Some(host) => Err(host),
            None => Err(crate::secret::mask_url(url)),
        }
    }

    /// One diagnostic per desired callback URL whose host the policy does
    /// not allow, at the subscription's `file:line`.
    pub fn check(&self, manifests: &[MerchantManifest]) -> Vec<Diagnostic> {
        let allowed = self.hosts.as_ref().map_or_else(String::new, |(globs, _)| {
            globs
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        });
        let mut problems = Vec::new();
        for m in manifests {
            for s in &m.subscriptions {
                if let Err(host) = self.allows(&s.callback_url) {
                    problems.push(Diagnostic::new(
                        &s.location.file,
                        s.location.line,
                        format!(
                            "callback host `{host}` is not allowed by policy `{}` (allowedCallbackHosts: {})",
                            self.file.display(),
                            if allowed.is_empty() { "none".into() } else { allowed.clone() }
                        ),
                        Some(format!(
                            "point the callback at an allowed host, or ask the owners of `{}` to add `{host}` to `allowedCallbackHosts`",
                            self.file.display()
                        )),
                    ));
                }
            }
        }
        problems
    }
}

#[cfg(test)]
#[path = "policy_tests.rs"]
mod tests;
