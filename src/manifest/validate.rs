//! Validation of a parsed manifest ([`fields`](super::fields)): the top
//! level of a file, one merchant's label, key variable, `ignore` rules
//! and subscriptions, and the checks across its entries (each (`topic`,
//! `name`) declared once, none hidden by an `ignore` rule, each
//! `renamedFrom` claimed once). Fleet files reuse all of it
//! ([`fleet`](super::fleet)); one entry's values are
//! [`subscription`](super::subscription)'s.

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::Path;

use super::context::Ctx;
use super::diagnostic::{Diagnostic, MerchantLines, HELP_STARTS_WITH, KEY_NEVER_HERE};
use super::expand::is_var_name;
use super::fields::{IgnoreRule as RawRule, Manifest, DEFAULT_API_KEY_ENV};
use super::look_alike::label_problem;
use super::record::{Got, Key, Record, Version};
use super::subscription::{self, Declared, Options};
use super::yaml::{line, At, Read};
use crate::escape::show;
use crate::model::{IgnoreRule, Location, MerchantManifest, Pattern};

/// What validating a file gives: each merchant with the lines of its
/// `merchant:` and `apiKeyEnv:` fields, or every problem found.
pub(super) type Validated = Result<Vec<(MerchantManifest, MerchantLines)>, Vec<Diagnostic>>;

/// What every merchant of a file shares: the switches and `prune`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shared {
    /// `allowHttp` and `allowUnknownTopics`.
    pub(super) options: Options,
    /// `prune`.
    pub(super) prune: bool,
}

impl Shared {
    /// One merchant's manifest from its validated parts.
    pub(super) fn merchant(
        self,
        file: &Path,
        (label, api_key_env, canary): (String, String, bool),
        ignore: Vec<IgnoreRule>,
        declared: Vec<Declared>,
    ) -> MerchantManifest {
        MerchantManifest {
            label,
            canary,
            file: file.to_path_buf(),
            api_key_env,
            prune: self.prune,
            ignore,
            subscriptions: declared.into_iter().map(|d| d.sub).collect(),
            allows: crate::model::Allows {
                http: self.options.allow_http,
                unknown_topics: self.options.allow_unknown_topics,
            },
        }
    }
}

/// Checks what every file has at its top level (unknown fields, the
/// version, the switches); returns the switches, or `None` for a policy
/// file (reported: it belongs in `--policy`).
pub(super) fn top(ctx: &mut Ctx<'_>, m: &Manifest) -> Option<Shared> {
    let policy_field = m.unknown.iter().find_map(|key| {
        let Ok(Key(name)) = &key.value else { return None };
        let policy = <crate::policy::PolicyFile as Record>::FIELDS;
        (name != "version" && policy.contains(&name.as_str())).then_some((key.line, name))
    });
    if let Some((line, field)) = policy_field {
        let message = format!("this is a policy file (it has `{field}`), not a manifest");
        let help = "pass it with `--policy FILE` (or INVHOOKS_POLICY) and keep it out of the directories given to -f: the policy holds rules a pull request cannot change";
        ctx.error(line, message, Some(help.to_owned()));
        return None;
    }
    let suggested = ctx.unknown(m);
    let help = || Some(HELP_STARTS_WITH.to_owned());
    match ctx.get("version", &m.version) {
        Got::Absent if !suggested.contains(&"version") => {
            ctx.error(1, "missing `version`".to_owned(), help());
        }
        Got::Empty => ctx.error(line(&m.version), "`version` is empty".to_owned(), help()),
        Got::Ok(Version(v)) if v != "1" => {
            let message = format!("unsupported manifest version `{}`", show(v));
            let help = Some("this invhooks reads `version: 1` manifests".to_owned());
            ctx.error(line(&m.version), message, help);
        }
        _ => {}
    }
    let mut switch = |name: &str, field: &Option<At<bool>>, default: bool| match ctx.get(name, field) {
        Got::Ok(value) => *value,
        _ => default,
    };
    let shared = Shared {
        options: Options {
            allow_http: switch("allowHttp", &m.allow_http, false),
            allow_unknown_topics: switch("allowUnknownTopics", &m.allow_unknown_topics, false),
        },
        prune: switch("prune", &m.prune, true),
    };
    Some(shared)
}

/// Validates a file of one merchant (no `merchants:`), its top level
/// read by [`top`].
pub(super) fn merchant(mut ctx: Ctx<'_>, m: &Manifest, shared: Shared) -> Validated {
    let file = ctx.file();
    let stem = default_label(file);
    let label = match ctx.get("merchant", &m.merchant) {
        Got::Absent | Got::Bad => stem.clone(),
        Got::Empty => String::new(),
        Got::Ok(label) => label.clone(),
    };
    let label_line = line(&m.merchant);
    if m.merchant.is_some() {
        let help = format!("give a label, or remove `merchant:` to use the file name `{stem}`");
        check_label(&mut ctx, label_line, &label, help);
    }
    let api_key_env = api_key_env(&mut ctx, &m.api_key_env);
    let canary = matches!(ctx.get("canary", &m.canary), Got::Ok(true));
    ctx.set_key_env(&api_key_env);
    let (ignore, declared) = body(&mut ctx, m, shared.options);
    if !ctx.is_clean() {
        return Err(ctx.into_diagnostics());
    }
    let lines = MerchantLines {
        label: label_line,
        api_key_env: m.api_key_env.as_ref().map(|at| at.line),
    };
    Ok(vec![(
        shared.merchant(file, (label, api_key_env, canary), ignore, declared),
        lines,
    )])
}

/// The label of a manifest without `merchant:`: its file stem.
pub(super) fn default_label(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "manifest".to_owned())
}

/// Checks a `merchant:` label at `line`; `empty_help` says what to do
/// when it is empty.
pub(super) fn check_label(ctx: &mut Ctx<'_>, line: usize, label: &str, empty_help: String) {
    if label.trim().is_empty() {
        ctx.error(line, "`merchant` is empty".to_owned(), Some(empty_help));
    } else if let Some((message, help)) = label_problem("merchant", label) {
        ctx.error(line, message, Some(help));
    }
}

/// The environment variable holding the API key (default
/// `INVETERATE_API_KEY`). A value that is no plausible variable name is
/// refused without being shown: it may be a key pasted in the wrong place.
pub(super) fn api_key_env(ctx: &mut Ctx<'_>, field: &Option<At<String>>) -> String {
    let name = match ctx.get("apiKeyEnv", field) {
        Got::Ok(name) => name.clone(),
        Got::Empty => String::new(),
        Got::Absent | Got::Bad => return DEFAULT_API_KEY_ENV.to_owned(),
    };
    if !plausible_var_name(&name) {
        let message = "`apiKeyEnv` does not look like the name of an environment variable".to_owned();
        let help = format!("`apiKeyEnv` names the variable that holds the key, e.g. `apiKeyEnv: INVETERATE_API_KEY_EU` (letters, digits and `_`); {KEY_NEVER_HERE}");
        ctx.error(line(field), message, Some(help));
    }
    name
}

/// Whether `name` is plausibly an environment variable's name, not a
/// key: letters, digits and `_`, not starting with a digit, at most 64
/// bytes, and no `_`-separated part that mixes lower- and uppercase over
/// 6 characters or more, or letters and digits over 16 (`123abcDEF` in
/// `sk_live_123abcDEF`).
fn plausible_var_name(name: &str) -> bool {
    is_var_name(name)
        && name.len() <= 64
        && !name.split('_').any(|part| {
            let has = |f: fn(&u8) -> bool| part.bytes().any(|b| f(&b));
            let (lower, upper) = (has(u8::is_ascii_lowercase), has(u8::is_ascii_uppercase));
            (part.len() >= 6 && lower && upper)
                || (part.len() >= 16 && has(u8::is_ascii_digit) && (lower || upper))
        })
}

/// The `ignore` rules and subscriptions of a file, checked with `ctx`'s
/// environment and key variable.
pub(super) fn body(ctx: &mut Ctx<'_>, m: &Manifest, options: Options) -> (Vec<IgnoreRule>, Vec<Declared>) {
    let example = "`- name: \"zapier-*\"`";
    let mut ignore = Vec::new();
    for (line, rule) in entries(ctx, &m.ignore, "ignore", "ignore rule", example, MAX_IGNORE_RULES) {
        ignore.extend(ignore_rule(ctx, line, rule));
    }
    let example = "`- name: crm-sync` with `topic:` and `callbackUrl:`";
    let found = entries(
        ctx,
        &m.subscriptions,
        "subscriptions",
        "subscription",
        example,
        MAX_ENTRIES,
    );
    let mut declared = Vec::with_capacity(found.len());
    for (line, entry) in found {
        declared.extend(subscription::subscription(ctx, line, entry, options));
    }
    cross(ctx, &declared, &ignore);
    (ignore, declared)
}

/// Most `subscriptions` entries in one manifest. A merchant has a few
/// dozen; the bound keeps a hostile manifest's validation time and memory
/// bounded while leaving room for very large deployments.
const MAX_ENTRIES: usize = 100_000;
/// Most `ignore` rules in one manifest: each live subscription is
/// matched against every rule, and a merchant has a few.
const MAX_IGNORE_RULES: usize = 100;

/// The entries of the list `key` that are mappings, with their lines;
/// anything else is reported. A list longer than `max` is one error, its
/// entries unchecked.
pub(super) fn entries<'v, T: Read>(
    ctx: &mut Ctx<'_>,
    field: &'v Option<At<Vec<At<T>>>>,
    key: &str,
    noun: &str,
    example: &str,
    max: usize,
) -> Vec<(usize, &'v T)> {
    let items = match ctx.get(key, field) {
        Got::Ok(items) => items,
        Got::Absent | Got::Empty | Got::Bad => return Vec::new(),
    };
    if items.len() > max {
        let message = format!("`{key}` has {} entries; at most {max} are supported", items.len());
        let help = "a manifest holds one merchant's subscriptions, usually a few dozen; check that -f names the right file";
        ctx.error(line(field), message, Some(help.to_owned()));
        return Vec::new();
    }
    let mut found = Vec::with_capacity(items.len());
    for item in items {
        match &item.value {
            Ok(entry) => found.push((item.line, entry)),
            Err(other) => ctx.error(
                item.line,
                format!("{noun} must be a mapping, found {}", other.kind()),
                Some(format!("write each {noun} as a mapping, e.g. {example}")),
            ),
        }
    }
    found
}

/// Checks one `ignore` entry and compiles its globs.
fn ignore_rule(ctx: &mut Ctx<'_>, line: usize, rule: &RawRule) -> Option<IgnoreRule> {
    let suggested = ctx.unknown(rule);
    if rule.name.is_none() && rule.topic.is_none() && rule.callback_url.is_none() && suggested.is_empty() {
        let message = "ignore rule has no `name`, `topic` or `callbackUrl`".to_owned();
        let help = "give at least one glob, e.g. `- name: \"zapier-*\"`; a rule without one matches nothing";
        ctx.error(line, message, Some(help.to_owned()));
        return None;
    }
    let name = glob(ctx, "name", &rule.name);
    let topic = glob(ctx, "topic", &rule.topic);
    let callback_url = glob(ctx, "callbackUrl", &rule.callback_url);
    Some(IgnoreRule {
        name: name.ok()?,
        topic: topic.ok()?,
        callback_url: callback_url.ok()?,
        location: ctx.location(line),
    })
    .filter(|_| suggested.is_empty())
}

/// The compiled glob of one ignore-rule field (`Ok(None)` when absent).
fn glob(ctx: &mut Ctx<'_>, field: &str, value: &Option<At<String>>) -> Result<Option<Pattern>, ()> {
    let source = match ctx.get(field, value) {
        Got::Absent => return Ok(None),
        Got::Bad => return Err(()),
        Got::Empty => "",
        Got::Ok(source) => source.as_str(),
    };
    let line = line(value);
    if source.is_empty() {
        let help = "give a glob such as `zapier-*`, or remove the field";
        let message = format!("`{field}` in ignore rule is empty");
        ctx.error(line, message, Some(help.to_owned()));
        return Err(());
    }
    Pattern::new(source).map(Some).map_err(|error| {
        // A URL glob is no URL: it is not quoted, so no part of a secret
        // in it is shown.
        let shown = match field {
            "callbackUrl" => String::new(),
            _ => format!(" `{}`", show(source)),
        };
        let reason = match error.kind() {
            globset::ErrorKind::Regex(_) => "the glob is too complex".to_owned(),
            kind => kind.to_string(),
        };
        let message = format!("invalid glob{shown} in `{field}`: {reason}");
        let help = "globs use `*`, `?`, `[abc]` and `{a,b}`; escape a literal one with `\\`";
        ctx.error(line, message, Some(help.to_owned()));
    })
}

/// Checks across entries: each (topic, name) declared once, no declared
/// subscription hidden by an `ignore` rule, `renamedFrom` claims.
fn cross(ctx: &mut Ctx<'_>, declared: &[Declared], rules: &[IgnoreRule]) {
    let mut first: HashMap<(&str, &str), &Location> = HashMap::with_capacity(declared.len());
    for entry in declared {
        let sub = &entry.sub;
        // Built only for a message: most entries have none.
        let shown = || format!("`{}` on `{}`", show(&entry.written_name), show(&sub.topic));
        match first.entry((sub.topic.as_str(), sub.name.as_str())) {
            Entry::Occupied(earlier) => {
                let help = format!(
                    "also declared at {}; names must be unique per topic",
                    earlier.get()
                );
                let message = format!("duplicate subscription {}", shown());
                ctx.error(sub.location.line, message, Some(help));
                continue;
            }
            Entry::Vacant(slot) => {
                slot.insert(&sub.location);
            }
        }
        if let Some(rule) = rules
            .iter()
            .find(|r| r.matches(&sub.topic, &sub.name, &sub.callback_url))
        {
            let help = format!(
                "the ignore rule at {} would hide it from invhooks; remove the rule or the subscription",
                rule.location
            );
            let message = format!("subscription {} is matched by an ignore rule", shown());
            ctx.error(sub.location.line, message, Some(help));
        }
    }
    renames(ctx, declared, &first);
}

/// Each `renamedFrom` old name (per topic) names no declared subscription
/// and is claimed by one entry only (README "Renames").
fn renames(ctx: &mut Ctx<'_>, declared: &[Declared], keys: &HashMap<(&str, &str), &Location>) {
    let mut claimed: HashMap<(&str, &str), usize> = HashMap::new();
    for entry in declared {
        let sub = &entry.sub;
        for old in &sub.renamed_from {
            let key = (sub.topic.as_str(), old.as_str());
            let shown = format!("`{}` on `{}`", show(old), show(&sub.topic));
            if let Some(there) = keys.get(&key) {
                let help = format!(
                    "it is declared at {there}; a renamed subscription's old name must not be declared: remove that entry or this old name"
                );
                let message = format!("`renamedFrom` names {shown}, which the manifest declares");
                ctx.error(entry.renamed_line, message, Some(help));
            } else if let Some(line) = claimed.get(&key) {
                let help = format!(
                    "also claimed at {}:{line}; one live subscription can take one new name: keep one `renamedFrom`",
                    sub.location.file.display()
                );
                let message = format!("{shown} is claimed by two `renamedFrom` entries");
                ctx.error(entry.renamed_line, message, Some(help));
            } else {
                claimed.insert(key, entry.renamed_line);
            }
        }
    }
}
