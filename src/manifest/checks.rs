//! Checks of `ignore` rules, and checks across entries: each (`topic`,
//! `name`) declared once, no declared subscription hidden by a rule, each
//! `renamedFrom` naming an undeclared key that no other entry claims.

use std::collections::hash_map::Entry;
use std::collections::HashMap;

use super::lines::{child, Seg};
use super::raw::{RawIgnoreRule, IGNORE_FIELDS};
use super::read::{read_mapping, Ctx, Parsed};
use super::subscription::Declared;
use crate::escape::show;
use crate::model::{IgnoreRule, IgnoreSet, Location, Pattern};

/// Checks one `ignore` entry and compiles its globs.
pub(super) fn ignore_rule(ctx: &mut Ctx<'_>, path: &[Seg], map: &serde_yaml::Mapping) -> Option<IgnoreRule> {
    let entry: Parsed<RawIgnoreRule> = read_mapping(ctx, map, path, IGNORE_FIELDS, "ignore rule", &[]);
    if ["name", "topic", "callbackUrl"].iter().all(|f| entry.missing(f)) {
        let message = "ignore rule has no `name`, `topic` or `callbackUrl`".to_owned();
        let help = "give at least one glob, e.g. `- name: \"zapier-*\"`; a rule without one matches nothing";
        ctx.error(path, message, Some(help.to_owned()));
        return None;
    }
    let value = &entry.value;
    let name = glob(ctx, path, &entry, "name", value.name.as_deref());
    let topic = glob(ctx, path, &entry, "topic", value.topic.as_deref());
    let callback_url = glob(ctx, path, &entry, "callbackUrl", value.callback_url.as_deref());
    let any_reported = entry.present.iter().any(|f| entry.reported.contains(f));
    Some(IgnoreRule {
        name: name.ok()?,
        topic: topic.ok()?,
        callback_url: callback_url.ok()?,
        location: ctx.location(path),
    })
    .filter(|_| !any_reported)
}

/// The compiled glob of one ignore-rule field (`Ok(None)` when absent).
fn glob(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    entry: &Parsed<RawIgnoreRule>,
    field: &str,
    source: Option<&str>,
) -> Result<Option<Pattern>, ()> {
    if !entry.usable(field) {
        return Ok(None);
    }
    let path = child(path, Seg::key(field));
    let Some(source) = source.filter(|s| !s.is_empty()) else {
        let help = "give a glob such as `zapier-*`, or remove the field";
        ctx.error(
            &path,
            format!("`{field}` in ignore rule is empty"),
            Some(help.to_owned()),
        );
        return Err(());
    };
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
        ctx.error(&path, message, Some(help.to_owned()));
    })
}

/// Checks across entries: each (topic, name) declared once, and no
/// declared subscription hidden by an `ignore` rule.
pub(super) fn cross(ctx: &mut Ctx<'_>, declared: &[Declared], rules: &[IgnoreRule]) {
    let mut first: HashMap<(&str, &str), &Location> = HashMap::with_capacity(declared.len());
    let ignore = IgnoreSet::new(rules);
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
                ctx.error_at(
                    sub.location.line,
                    format!("duplicate subscription {}", shown()),
                    Some(help),
                );
                continue;
            }
            Entry::Vacant(slot) => {
                slot.insert(&sub.location);
            }
        }
        if let Some(rule) = ignore
            .first_match(&sub.topic, &sub.name, &sub.callback_url)
            .and_then(|i| rules.get(i))
        {
            let help = format!(
                "the ignore rule at {} would hide it from invhooks; remove the rule or the subscription",
                rule.location
            );
            ctx.error_at(
                sub.location.line,
                format!("subscription {} is matched by an ignore rule", shown()),
                Some(help),
            );
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
                ctx.error_at(entry.renamed_line, message, Some(help));
            } else if let Some(line) = claimed.get(&key) {
                let help = format!(
                    "also claimed at {}:{line}; one live subscription can take one new name: keep one `renamedFrom`",
                    sub.location.file.display()
                );
                let message = format!("{shown} is claimed by two `renamedFrom` entries");
                ctx.error_at(entry.renamed_line, message, Some(help));
            } else {
                claimed.insert(key, entry.renamed_line);
            }
        }
    }
}
