//! Fleet files (docs/fleets.md "Fleet files"): each `merchants` entry is one
//! merchant with its own key variable and `vars`, checked against the file's
//! shared entries. A problem every merchant has is reported once.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::context::{Ctx, Got};
use super::diagnostic::Diagnostic;
use super::expand::is_var_name;
use super::fields::{
    FleetMerchant, Manifest, Vars, DEFAULT_API_KEY_ENV, MAX_CHECKS, MAX_MERCHANTS, MAX_VARS,
};
use super::record::FieldName;
use super::validate::{api_key_env, body, check_label, entries, List, MerchantLines, Validated};
use super::yaml::{given, line, At};
use crate::escape::show;
use crate::model::MerchantManifest;

/// Validates a fleet file, its top level read: one manifest per `merchants` entry, or every problem.
pub(super) fn manifests(mut ctx: Ctx<'_>, m: &Manifest, base: MerchantManifest) -> Validated {
    let lines = [given(&m.merchant), given(&m.api_key_env), given(&m.canary)];
    for (field, line) in ["merchant", "apiKeyEnv", "canary"].into_iter().zip(lines) {
        let Some(line) = line else { continue };
        let message = format!("a file with `merchants` cannot also have a top-level `{field}`");
        let help = format!("move `{field}` into each entry of `merchants`, or remove `merchants`");
        ctx.error(line, message, help);
    }
    let heads = heads(&mut ctx, m, &base);
    let merchants = heads.len();
    let subscriptions = m.subscriptions.as_ref().and_then(At::ok).map_or(0, Vec::len);
    if merchants == 0 {
        // Still check the shared entries once, so every problem shows.
        body(&mut ctx, m, &mut base.clone());
        return Err(ctx.into_problems());
    }
    if subscriptions.saturating_mul(merchants) > MAX_CHECKS {
        let many = format!("{merchants} merchants × {subscriptions} subscriptions");
        let message = format!("{many} is more than {MAX_CHECKS} to check");
        ctx.error(line(&m.merchants), message, "split the fleet into several files");
        return Err(ctx.into_problems());
    }
    let mut per_merchant = Vec::with_capacity(merchants);
    for (mut manifest, lines, vars) in heads {
        if ctx.left == 0 {
            break; // past the byte budget: reported once
        }
        let env = ctx.env;
        let lookup = |name: &str| vars.get(name).cloned().or_else(|| env(name));
        let mut own = Ctx::new(ctx.file, &lookup);
        (own.left, own.merchant) = (ctx.left, Some(manifest.label.clone()));
        own.set_key_env(&manifest.api_key_env);
        body(&mut own, m, &mut manifest);
        ctx.left = own.left;
        per_merchant.push(((manifest, lines), own.into_problems()));
    }
    let mut diagnostics = ctx.into_problems();
    diagnostics.extend(merge(&per_merchant));
    if !diagnostics.is_empty() {
        return Err(diagnostics);
    }
    Ok(per_merchant.into_iter().map(|(merchant, _)| merchant).collect())
}

/// One problem all merchants have is kept once; one only some have is prefixed with the label.
fn merge(per: &[((MerchantManifest, MerchantLines), Vec<Diagnostic>)]) -> Vec<Diagnostic> {
    let mut count: HashMap<&Diagnostic, usize> = HashMap::new();
    for (_, found) in per {
        for d in found.iter().collect::<HashSet<_>>() {
            *count.entry(d).or_default() += 1;
        }
    }
    let mut emitted = HashSet::new();
    let mut out = Vec::new();
    for ((merchant, _), found) in per {
        let named = format!("merchant `{}`: ", show(&merchant.label));
        for d in found {
            let mut d = d.clone();
            if count.get(&d) != Some(&per.len()) && !d.message.starts_with(&named) {
                d.message.insert_str(0, &named);
            }
            if emitted.insert(d.clone()) {
                out.push(d);
            }
        }
    }
    out
}

/// The valid `merchants` entries, each a merchant with its lines and `vars`; the others are reported.
fn heads(ctx: &mut Ctx<'_>, m: &Manifest, base: &MerchantManifest) -> Vec<Head> {
    if m.merchants.as_ref().and_then(At::ok).is_some_and(Vec::is_empty) {
        let help =
            "add `- merchant: store-a` with its `apiKeyEnv`, or use top-level `merchant:` for one merchant";
        return ctx
            .fail(line(&m.merchants), "`merchants` is empty", help)
            .unwrap_or_default();
    }
    let found = entries(ctx, &m.merchants, MERCHANTS);
    // Every variable that holds a key in this file: no `vars` may set one.
    let key_env = |e: &FleetMerchant| e.api_key_env.as_ref().and_then(At::ok).cloned();
    let keys: HashSet<String> = found
        .iter()
        .map(|(_, e)| key_env(e).unwrap_or(DEFAULT_API_KEY_ENV.into()))
        .collect();
    found
        .into_iter()
        .filter_map(|entry| head(ctx, entry, &keys, base))
        .collect()
}

const MERCHANTS: List = (
    "merchants",
    "merchant",
    "`- merchant: store-a` with `apiKeyEnv:` and `vars:`",
    MAX_MERCHANTS,
);

/// A fleet merchant before its subscriptions are read, its lines and its `vars`.
type Head = (MerchantManifest, MerchantLines, BTreeMap<String, String>);

/// One entry's label, key variable and `vars`; `None` when it has no usable label (reported).
fn head(
    ctx: &mut Ctx<'_>,
    (at, entry): (usize, &FleetMerchant),
    keys: &HashSet<String>,
    base: &MerchantManifest,
) -> Option<Head> {
    let suggested = ctx.unknown(entry);
    if entry.merchant.is_none() && !suggested.contains(&"merchant") {
        let help = "add `merchant: <label>`: in a fleet file each merchant needs its own label";
        ctx.error(at, "merchant entry has no `merchant`", help);
    }
    let api_key_env = api_key_env(ctx, &entry.api_key_env);
    let canary = ctx.value("canary", &entry.canary) == Some(&true);
    let vars = vars(ctx, &entry.vars, keys);
    let label = ctx.text("merchant", &entry.merchant)?.to_owned();
    let help = "give each merchant a label, e.g. `merchant: store-a`";
    check_label(ctx, line(&entry.merchant), &label, help.into());
    let lines = MerchantLines {
        label: line(&entry.merchant),
        api_key_env: given(&entry.api_key_env),
    };
    let merchant = MerchantManifest {
        label,
        api_key_env,
        canary,
        ..base.clone()
    };
    Some((merchant, lines, vars))
}

/// The valid `vars` of one entry; the others are reported.
fn vars(ctx: &mut Ctx<'_>, field: &Option<At<Vars>>, keys: &HashSet<String>) -> BTreeMap<String, String> {
    let mut vars = BTreeMap::new();
    let Got::Ok(Vars(pairs)) = ctx.get("vars", field) else {
        return vars;
    };
    if pairs.len() > MAX_VARS {
        let n = pairs.len();
        let message = format!("`vars` has {n} entries; at most {MAX_VARS} are supported");
        return ctx.fail(line(field), message, "").unwrap_or(vars);
    }
    let help = "use letters, digits and `_`, not starting with a digit, e.g. `CRM_HOST`";
    let invalid = |shown: &str| format!("`vars` name `{shown}` is not a valid variable name");
    for (name, value) in pairs {
        let line = name.line;
        match (&name.value, value) {
            (Ok(FieldName(n)), _) if !is_var_name(n) => ctx.error(line, invalid(&show(n)), help),
            (Err(found), _) => ctx.error(line, invalid(found.kind()), help),
            (Ok(FieldName(n)), _) if keys.contains(n) => {
                let message = format!("`vars` sets `{n}`, a variable holding an API key");
                let help = "the API key must never leave the API request header; use another name";
                ctx.error(line, message, help);
            }
            (Ok(FieldName(n)), Ok(text)) => _ = vars.insert(n.clone(), text.clone()),
            (Ok(FieldName(n)), Err(found)) => {
                let message = format!("`vars.{n}` must be a string, found {}", found.kind());
                let help = match found.scalar() {
                    Some(text) => format!("put the value in quotes, e.g. `{n}: \"{text}\"`"),
                    None => format!("write `{n}: <text>`"),
                };
                ctx.error(line, message, help);
            }
        }
    }
    vars
}
