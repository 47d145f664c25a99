//! Fleet files: a `merchants:` list instead of `merchant` / `apiKeyEnv`,
//! each entry one merchant with its own key variable and `vars`, all
//! sharing the file's `subscriptions`, `ignore` rules and switches
//! (README.md "Fleet files"). The shared entries are checked once per
//! merchant, with `${VAR}` looked up in its `vars` first; a problem every
//! merchant has is reported once, one only some have names the merchant.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_yaml::{Mapping, Value};

use super::diagnostic::{Anchors, Diagnostic};
use super::expand::is_var_name;
use super::lines::{child, Seg};
use super::raw::{RawFleetEntry, DEFAULT_API_KEY_ENV, FLEET_FIELDS, MAX_VARS};
use super::read::{kind, read_mapping, Ctx, FieldSet, Parsed};
use super::validate::{api_key_env, body, check_label, entries, Shared, Validated};
use crate::escape::show;
use crate::model::MerchantManifest;

/// Most `merchants` entries in one file.
pub(super) const MAX_MERCHANTS: usize = 10_000;
/// Most merchants × subscription entries in one file: each merchant's
/// values are checked on their own, so this bounds a hostile file's cost.
pub(super) const MAX_CHECKS: usize = 1_000_000;

/// One `merchants` entry as read.
struct Head {
    label: String,
    label_line: usize,
    api_key_env: String,
    /// The line of `apiKeyEnv:`, when given.
    key_line: Option<usize>,
    canary: bool,
    vars: BTreeMap<String, String>,
}

/// Validates a fleet file (`ctx` has read its top-level fields): one
/// manifest per `merchants` entry, or every problem found.
pub(super) fn manifests(mut ctx: Ctx<'_>, map: &Mapping, top: &FieldSet, shared: Shared) -> Validated {
    for field in ["merchant", "apiKeyEnv", "canary"] {
        if top.contains(field) {
            ctx.error(
                &[Seg::key(field)],
                format!("a file with `merchants` cannot also have a top-level `{field}`"),
                Some(format!(
                    "move `{field}` into each entry of `merchants`, or remove `merchants`"
                )),
            );
        }
    }
    let heads = heads(&mut ctx, map);
    if heads.is_empty() {
        // Still check the shared entries once, so every problem shows.
        body(&mut ctx, map, shared.options);
        return Err(ctx.into_diagnostics());
    }
    let subscriptions = map
        .get("subscriptions")
        .and_then(Value::as_sequence)
        .map_or(0, Vec::len);
    if subscriptions.saturating_mul(heads.len()) > MAX_CHECKS {
        ctx.error(
            &[Seg::key("merchants")],
            format!(
                "{} merchants × {subscriptions} subscriptions is more than {MAX_CHECKS} to check",
                heads.len()
            ),
            Some("split the fleet into several files".to_owned()),
        );
        return Err(ctx.into_diagnostics());
    }
    let mut per_merchant = Vec::with_capacity(heads.len());
    for head in heads {
        let env = ctx.env;
        let vars = &head.vars;
        let lookup = |name: &str| vars.get(name).cloned().or_else(|| env(name));
        let mut own = ctx.with_env(&lookup);
        own.set_key_env(&head.api_key_env);
        own.merchant = Some(head.label.clone());
        let (ignore, declared) = body(&mut own, map, shared.options);
        let diagnostics = own.into_diagnostics();
        per_merchant.push((head, ignore, declared, diagnostics));
    }
    let file = ctx.file().to_path_buf();
    let mut diagnostics = ctx.into_diagnostics();
    diagnostics.extend(merge(
        per_merchant
            .iter()
            .map(|(h, _, _, d)| (h.label.as_str(), d.as_slice())),
    ));
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok(per_merchant
        .into_iter()
        .map(|(head, ignore, declared, _)| {
            let anchors = Anchors {
                label: head.label_line,
                api_key_env: head.key_line,
            };
            let merchant = shared.merchant(&file, head.label, head.api_key_env, ignore, declared);
            (
                MerchantManifest {
                    canary: head.canary,
                    ..merchant
                },
                anchors,
            )
        })
        .collect())
}

/// The problems of every merchant: one all of them have is kept once, one
/// only some have is prefixed with the merchant's label (unless it
/// already names it).
fn merge<'a>(per: impl Iterator<Item = (&'a str, &'a [Diagnostic])> + Clone) -> Vec<Diagnostic> {
    let merchants = per.clone().count();
    let mut count: HashMap<&Diagnostic, usize> = HashMap::new();
    for (_, found) in per.clone() {
        for d in found.iter().collect::<HashSet<_>>() {
            *count.entry(d).or_default() += 1;
        }
    }
    let mut out = Vec::new();
    let mut emitted = HashSet::new();
    for (label, found) in per {
        for d in found {
            let mut d = d.clone();
            let named = format!("merchant `{}`: ", show(label));
            if count.get(&d) != Some(&merchants) && !d.message.starts_with(&named) {
                d.message = format!("{named}{}", d.message);
            }
            if !emitted.contains(&d) {
                emitted.insert(d.clone());
                out.push(d);
            }
        }
    }
    out
}

/// The valid `merchants` entries; the others are reported.
fn heads(ctx: &mut Ctx<'_>, map: &Mapping) -> Vec<Head> {
    let path = [Seg::key("merchants")];
    match map.get("merchants") {
        Some(Value::Sequence(items)) if items.len() > MAX_MERCHANTS => {
            ctx.error(
                &path,
                format!(
                    "`merchants` has {} entries; at most {MAX_MERCHANTS} are supported",
                    items.len()
                ),
                Some("split the fleet into several files".to_owned()),
            );
            return Vec::new();
        }
        Some(Value::Sequence(items)) if items.is_empty() => {
            let help = "add `- merchant: store-a` with its `apiKeyEnv`, or use top-level `merchant:` for one merchant";
            ctx.error(&path, "`merchants` is empty".to_owned(), Some(help.to_owned()));
            return Vec::new();
        }
        _ => {}
    }
    let example = "`- merchant: store-a` with `apiKeyEnv:` and `vars:`";
    let found = entries(ctx, map, "merchants", "merchant", example, usize::MAX);
    let read: Vec<(Vec<Seg>, &Mapping, Parsed<RawFleetEntry>)> = found
        .into_iter()
        .map(|(path, entry)| {
            let parsed = read_mapping(ctx, entry, &path, FLEET_FIELDS, "merchant entry", &["vars"]);
            (path, entry, parsed)
        })
        .collect();
    // Every variable that holds a key in this file: no `vars` may set one.
    let keys: HashSet<String> = read
        .iter()
        .map(|(_, _, p)| {
            p.value
                .api_key_env
                .clone()
                .unwrap_or_else(|| DEFAULT_API_KEY_ENV.to_owned())
        })
        .collect();
    read.into_iter()
        .filter_map(|(path, entry, parsed)| head(ctx, &path, entry, parsed, &keys))
        .collect()
}

/// One entry's label, key variable and `vars`; `None` when it has no
/// usable label (reported).
fn head(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    entry: &Mapping,
    parsed: Parsed<RawFleetEntry>,
    keys: &HashSet<String>,
) -> Option<Head> {
    if parsed.missing("merchant") {
        let help = "add `merchant: <label>`: in a fleet file each merchant needs its own label";
        ctx.error(
            path,
            "merchant entry has no `merchant`".to_owned(),
            Some(help.to_owned()),
        );
    }
    let key_path = child(path, Seg::key("apiKeyEnv"));
    let api_key_env = api_key_env(ctx, parsed.value.api_key_env.clone(), &key_path);
    let key_line = parsed.present.contains("apiKeyEnv").then(|| ctx.line(&key_path));
    let vars = vars(ctx, path, entry.get("vars"), keys);
    if !parsed.usable("merchant") {
        return None;
    }
    let label_path = child(path, Seg::key("merchant"));
    let label = parsed.value.merchant.unwrap_or_default();
    let help = "give each merchant a label, e.g. `merchant: store-a`".to_owned();
    check_label(ctx, &label_path, &label, help);
    Some(Head {
        label,
        label_line: ctx.line(&label_path),
        api_key_env,
        key_line,
        canary: parsed.value.canary == Some(true),
        vars,
    })
}

/// The valid `vars` of one entry; the others are reported.
fn vars(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    value: Option<&Value>,
    keys: &HashSet<String>,
) -> BTreeMap<String, String> {
    let path = child(path, Seg::key("vars"));
    let mut vars = BTreeMap::new();
    let map = match value {
        None | Some(Value::Null) => return vars,
        Some(Value::Mapping(map)) if map.len() > MAX_VARS => {
            let message = format!(
                "`vars` has {} entries; at most {MAX_VARS} are supported",
                map.len()
            );
            ctx.error(&path, message, None);
            return vars;
        }
        Some(Value::Mapping(map)) => map,
        Some(other) => {
            let message = format!(
                "`vars` must be a mapping of names to values, found {}",
                kind(other)
            );
            let help = "write `vars: { STORE: a, CRM_HOST: crm-a.example.com }`";
            ctx.error(&path, message, Some(help.to_owned()));
            return vars;
        }
    };
    for (name, value) in map {
        let Some(name) = name.as_str().filter(|n| is_var_name(n)) else {
            let shown = serde_yaml::to_string(name).unwrap_or_default();
            let message = format!(
                "`vars` name `{}` is not a valid variable name",
                show(shown.trim())
            );
            let help = "use letters, digits and `_`, not starting with a digit, e.g. `CRM_HOST`";
            ctx.error(&path, message, Some(help.to_owned()));
            continue;
        };
        let here = child(&path, Seg::key(name));
        if keys.contains(name) {
            let message = format!("`vars` sets `{name}`, a variable holding an API key");
            let help = "the API key must never leave the API request header; use another name";
            ctx.error(&here, message, Some(help.to_owned()));
            continue;
        }
        match value {
            Value::String(text) => {
                vars.insert(name.to_owned(), text.clone());
            }
            other => {
                let message = format!("`vars.{name}` must be a string, found {}", kind(other));
                let help = match other {
                    Value::Number(_) | Value::Bool(_) => {
                        let text = serde_yaml::to_string(other).unwrap_or_default();
                        format!("put the value in quotes, e.g. `{name}: \"{}\"`", text.trim())
                    }
                    _ => format!("write `{name}: <text>`"),
                };
                ctx.error(&here, message, Some(help));
            }
        }
    }
    vars
}
