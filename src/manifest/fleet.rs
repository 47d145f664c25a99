//! Fleet files: a `merchants:` list instead of `merchant` / `apiKeyEnv`,
//! each entry one merchant with its own key variable and `vars`, all
//! sharing the file's `subscriptions`, `ignore` rules and switches
//! (README.md "Fleet files"). The shared entries are checked once per
//! merchant, with `${VAR}` looked up in its `vars` first; a problem every
//! merchant has is reported once, one only some have names the merchant.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::context::Ctx;
use super::diagnostic::{Diagnostic, MerchantLines};
use super::expand::is_var_name;
use super::fields::{FleetMerchant, Manifest, Vars, DEFAULT_API_KEY_ENV, MAX_VARS};
use super::record::{Got, Key};
use super::validate::{api_key_env, body, check_label, entries, Shared, Validated};
use super::yaml::{line, At};
use crate::escape::show;

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
    /// `canary: true`.
    canary: bool,
    vars: BTreeMap<String, String>,
}

/// Validates a fleet file (`ctx` has read its top-level fields): one
/// manifest per `merchants` entry, or every problem found.
pub(super) fn manifests(mut ctx: Ctx<'_>, m: &Manifest, shared: Shared) -> Validated {
    for (field, at) in [
        ("merchant", m.merchant.as_ref().map(|a| a.line)),
        ("apiKeyEnv", m.api_key_env.as_ref().map(|a| a.line)),
        ("canary", m.canary.as_ref().map(|a| a.line)),
    ] {
        if let Some(line) = at {
            ctx.error(
                line,
                format!("a file with `merchants` cannot also have a top-level `{field}`"),
                Some(format!(
                    "move `{field}` into each entry of `merchants`, or remove `merchants`"
                )),
            );
        }
    }
    let heads = heads(&mut ctx, m);
    if heads.is_empty() {
        // Still check the shared entries once, so every problem shows.
        body(&mut ctx, m, shared.options);
        return Err(ctx.into_diagnostics());
    }
    let subscriptions = m
        .subscriptions
        .as_ref()
        .and_then(|at| at.ok())
        .map_or(0, Vec::len);
    if subscriptions.saturating_mul(heads.len()) > MAX_CHECKS {
        ctx.error(
            line(&m.merchants),
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
        if ctx.left == 0 {
            break; // past the byte budget: reported once
        }
        let env = ctx.env;
        let vars = &head.vars;
        let lookup = |name: &str| vars.get(name).cloned().or_else(|| env(name));
        let mut own = Ctx::new(ctx.file(), &lookup);
        own.left = ctx.left;
        own.set_key_env(&head.api_key_env);
        own.merchant = Some(head.label.clone());
        let (ignore, declared) = body(&mut own, m, shared.options);
        ctx.left = own.left;
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
            let lines = MerchantLines {
                label: head.label_line,
                api_key_env: head.key_line,
            };
            (
                shared.merchant(
                    &file,
                    (head.label, head.api_key_env, head.canary),
                    ignore,
                    declared,
                ),
                lines,
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
fn heads(ctx: &mut Ctx<'_>, m: &Manifest) -> Vec<Head> {
    let at = line(&m.merchants);
    match m.merchants.as_ref().and_then(|at| at.ok()) {
        Some(items) if items.len() > MAX_MERCHANTS => {
            ctx.error(
                at,
                format!(
                    "`merchants` has {} entries; at most {MAX_MERCHANTS} are supported",
                    items.len()
                ),
                Some("split the fleet into several files".to_owned()),
            );
            return Vec::new();
        }
        Some(items) if items.is_empty() => {
            let help = "add `- merchant: store-a` with its `apiKeyEnv`, or use top-level `merchant:` for one merchant";
            ctx.error(at, "`merchants` is empty".to_owned(), Some(help.to_owned()));
            return Vec::new();
        }
        _ => {}
    }
    let example = "`- merchant: store-a` with `apiKeyEnv:` and `vars:`";
    let found = entries(ctx, &m.merchants, "merchants", "merchant", example, usize::MAX);
    // Every variable that holds a key in this file: no `vars` may set one.
    let keys: HashSet<&str> = found
        .iter()
        .map(
            |(_, entry)| match entry.api_key_env.as_ref().and_then(|at| at.ok()) {
                Some(name) => name.as_str(),
                None => DEFAULT_API_KEY_ENV,
            },
        )
        .collect();
    found
        .into_iter()
        .filter_map(|(at, entry)| head(ctx, at, entry, &keys))
        .collect()
}

/// One entry's label, key variable and `vars`; `None` when it has no
/// usable label (reported).
fn head(ctx: &mut Ctx<'_>, entry_line: usize, entry: &FleetMerchant, keys: &HashSet<&str>) -> Option<Head> {
    let suggested = ctx.unknown(entry);
    if entry.merchant.is_none() && !suggested.contains(&"merchant") {
        let help = "add `merchant: <label>`: in a fleet file each merchant needs its own label";
        let message = "merchant entry has no `merchant`".to_owned();
        ctx.error(entry_line, message, Some(help.to_owned()));
    }
    let api_key_env = api_key_env(ctx, &entry.api_key_env);
    let key_line = entry.api_key_env.as_ref().map(|at| at.line);
    let canary = matches!(ctx.get("canary", &entry.canary), Got::Ok(true));
    let vars = vars(ctx, &entry.vars, keys);
    let label = match ctx.get("merchant", &entry.merchant) {
        Got::Absent | Got::Bad => return None,
        Got::Empty => String::new(),
        Got::Ok(label) => label.clone(),
    };
    let label_line = line(&entry.merchant);
    let help = "give each merchant a label, e.g. `merchant: store-a`".to_owned();
    check_label(ctx, label_line, &label, help);
    Some(Head {
        label,
        label_line,
        api_key_env,
        key_line,
        canary,
        vars,
    })
}

/// The valid `vars` of one entry; the others are reported.
fn vars(ctx: &mut Ctx<'_>, field: &Option<At<Vars>>, keys: &HashSet<&str>) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let Got::Ok(Vars(pairs)) = ctx.get("vars", field) else {
        return vars;
    };
    if pairs.len() > MAX_VARS {
        let message = format!(
            "`vars` has {} entries; at most {MAX_VARS} are supported",
            pairs.len()
        );
        ctx.error(line(field), message, None);
        return vars;
    }
    for (name, value) in pairs {
        let Some(Key(name_text)) = name.ok().filter(|Key(n)| is_var_name(n)) else {
            let shown = match &name.value {
                Ok(Key(text)) => show(text),
                Err(found) => found.kind().to_owned(),
            };
            let message = format!("`vars` name `{shown}` is not a valid variable name");
            let help = "use letters, digits and `_`, not starting with a digit, e.g. `CRM_HOST`";
            ctx.error(name.line, message, Some(help.to_owned()));
            continue;
        };
        if keys.contains(name_text.as_str()) {
            let message = format!("`vars` sets `{name_text}`, a variable holding an API key");
            let help = "the API key must never leave the API request header; use another name";
            ctx.error(name.line, message, Some(help.to_owned()));
            continue;
        }
        match value {
            Ok(text) => {
                vars.insert(name_text.clone(), text.clone());
            }
            Err(found) => {
                let message = format!("`vars.{name_text}` must be a string, found {}", found.kind());
                let help = match found.scalar() {
                    Some(text) => format!("put the value in quotes, e.g. `{name_text}: \"{text}\"`"),
                    None => format!("write `{name_text}: <text>`"),
                };
                ctx.error(name.line, message, Some(help));
            }
        }
    }
    vars
}
