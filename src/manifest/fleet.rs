//! Fleet files (docs/fleets.md "Fleet files"): `merchants:` instead of
//! `merchant` / `apiKeyEnv`, each entry one merchant with its own key variable
//! and `vars`, all sharing the file's entries and switches, checked once per
//! merchant with `${VAR}` looked up in its `vars` first. A problem every
//! merchant has is reported once; one only some have names the merchant.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::context::Ctx;
use super::diagnostic::Diagnostic;
use super::expand::is_var_name;
use super::fields::{
    FleetMerchant, Manifest, Vars, DEFAULT_API_KEY_ENV, MAX_CHECKS, MAX_MERCHANTS, MAX_VARS,
};
use super::record::{FieldName, Got};
use super::validate::{
    api_key_env, body, check_label, entries, Merchant, MerchantLines, Switches, Validated,
};
use super::yaml::{line, At};
use crate::escape::show;

/// Validates a fleet file, its top level read: one manifest per `merchants` entry, or every problem.
pub(super) fn manifests(mut ctx: Ctx<'_>, m: &Manifest, switches: Switches) -> Validated {
    let (merchant, key) = (
        m.merchant.as_ref().map(|a| a.line),
        m.api_key_env.as_ref().map(|a| a.line),
    );
    for (field, at) in [
        ("merchant", merchant),
        ("apiKeyEnv", key),
        ("canary", m.canary.as_ref().map(|a| a.line)),
    ] {
        if let Some(line) = at {
            let message = format!("a file with `merchants` cannot also have a top-level `{field}`");
            ctx.error(
                line,
                message,
                format!("move `{field}` into each entry of `merchants`, or remove `merchants`"),
            );
        }
    }
    let heads = heads(&mut ctx, m);
    if heads.is_empty() {
        // Still check the shared entries once, so every problem shows.
        body(&mut ctx, m, switches.allows);
        return Err(ctx.problems.into_vec());
    }
    let subscriptions = m.subscriptions.as_ref().and_then(At::ok).map_or(0, Vec::len);
    if subscriptions.saturating_mul(heads.len()) > MAX_CHECKS {
        let message = format!(
            "{} merchants × {subscriptions} subscriptions is more than {MAX_CHECKS} to check",
            heads.len()
        );
        ctx.error(line(&m.merchants), message, "split the fleet into several files");
        return Err(ctx.problems.into_vec());
    }
    let mut per_merchant = Vec::with_capacity(heads.len());
    for (head, vars) in heads {
        if ctx.left == 0 {
            break; // past the byte budget: reported once
        }
        let env = ctx.env;
        let lookup = |name: &str| vars.get(name).cloned().or_else(|| env(name));
        let mut own = Ctx::new(ctx.file, &lookup);
        own.left = ctx.left;
        own.set_key_env(&head.api_key_env);
        own.merchant = Some(head.label.clone());
        let (ignore, declared) = body(&mut own, m, switches.allows);
        ctx.left = own.left;
        per_merchant.push((head, ignore, declared, own.problems.into_vec()));
    }
    let file = ctx.file;
    let mut diagnostics = ctx.problems.into_vec();
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
        .map(|(head, ignore, declared, _)| switches.manifest(file, head, ignore, declared))
        .collect())
}

/// The problems of every merchant: one all of them have is kept once, one only
/// some have is prefixed with the merchant's label (unless it already names it).
fn merge<'a>(per: impl Iterator<Item = (&'a str, &'a [Diagnostic])> + Clone) -> Vec<Diagnostic> {
    let merchants = per.clone().count();
    let mut count: HashMap<&Diagnostic, usize> = HashMap::new();
    for (_, found) in per.clone() {
        for d in found.iter().collect::<HashSet<_>>() {
            *count.entry(d).or_default() += 1;
        }
    }
    let mut emitted = HashSet::new();
    let mut out = Vec::new();
    for (label, found) in per {
        let named = format!("merchant `{}`: ", show(label));
        for d in found {
            let mut d = d.clone();
            if count.get(&d) != Some(&merchants) && !d.message.starts_with(&named) {
                d.message.insert_str(0, &named);
            }
            if emitted.insert(d.clone()) {
                out.push(d);
            }
        }
    }
    out
}

/// The valid `merchants` entries with their `vars`; the others are reported.
fn heads(ctx: &mut Ctx<'_>, m: &Manifest) -> Vec<(Merchant, BTreeMap<String, String>)> {
    let at = line(&m.merchants);
    match m.merchants.as_ref().and_then(At::ok) {
        Some(items) if items.len() > MAX_MERCHANTS => {
            let message = format!(
                "`merchants` has {} entries; at most {MAX_MERCHANTS} are supported",
                items.len()
            );
            ctx.error(at, message, "split the fleet into several files");
            return Vec::new();
        }
        Some(items) if items.is_empty() => {
            let help = "add `- merchant: store-a` with its `apiKeyEnv`, or use top-level `merchant:` for one merchant";
            ctx.error(at, "`merchants` is empty", help);
            return Vec::new();
        }
        _ => {}
    }
    let example = "`- merchant: store-a` with `apiKeyEnv:` and `vars:`";
    let found = entries(ctx, &m.merchants, ("merchants", "merchant"), example, usize::MAX);
    // Every variable that holds a key in this file: no `vars` may set one.
    let keys: HashSet<&str> = found
        .iter()
        .map(|(_, entry)| {
            entry
                .api_key_env
                .as_ref()
                .and_then(At::ok)
                .map_or(DEFAULT_API_KEY_ENV, String::as_str)
        })
        .collect();
    found
        .into_iter()
        .filter_map(|(at, entry)| head(ctx, at, entry, &keys))
        .collect()
}

/// One entry's label, key variable and `vars`; `None` when it has no usable label (reported).
fn head(
    ctx: &mut Ctx<'_>,
    at: usize,
    entry: &FleetMerchant,
    keys: &HashSet<&str>,
) -> Option<(Merchant, BTreeMap<String, String>)> {
    let suggested = ctx.unknown(entry);
    if entry.merchant.is_none() && !suggested.contains(&"merchant") {
        let help = "add `merchant: <label>`: in a fleet file each merchant needs its own label";
        ctx.error(at, "merchant entry has no `merchant`", help);
    }
    let api_key_env = api_key_env(ctx, &entry.api_key_env);
    let canary = matches!(ctx.get("canary", &entry.canary), Got::Ok(true));
    let vars = vars(ctx, &entry.vars, keys);
    let label = match ctx.get("merchant", &entry.merchant) {
        Got::Absent | Got::Bad => return None,
        Got::Empty => String::new(),
        Got::Ok(label) => label.clone(),
    };
    let lines = MerchantLines {
        label: line(&entry.merchant),
        api_key_env: entry.api_key_env.as_ref().map(|at| at.line),
    };
    check_label(
        ctx,
        lines.label,
        &label,
        "give each merchant a label, e.g. `merchant: store-a`".to_owned(),
    );
    Some((
        Merchant {
            label,
            api_key_env,
            canary,
            lines,
        },
        vars,
    ))
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
        let line = name.line;
        let name = match &name.value {
            Ok(FieldName(name)) if is_var_name(name) => name,
            other => {
                let shown = other
                    .as_ref()
                    .map_or_else(|found| found.kind().to_owned(), |FieldName(n)| show(n));
                let help = "use letters, digits and `_`, not starting with a digit, e.g. `CRM_HOST`";
                ctx.error(
                    line,
                    format!("`vars` name `{shown}` is not a valid variable name"),
                    help,
                );
                continue;
            }
        };
        if keys.contains(name.as_str()) {
            let help = "the API key must never leave the API request header; use another name";
            ctx.error(
                line,
                format!("`vars` sets `{name}`, a variable holding an API key"),
                help,
            );
            continue;
        }
        match value {
            Ok(text) => {
                vars.insert(name.clone(), text.clone());
            }
            Err(found) => {
                let help = match found.scalar() {
                    Some(text) => format!("put the value in quotes, e.g. `{name}: \"{text}\"`"),
                    None => format!("write `{name}: <text>`"),
                };
                ctx.error(
                    line,
                    format!("`vars.{name}` must be a string, found {}", found.kind()),
                    help,
                );
            }
        }
    }
    vars
}
