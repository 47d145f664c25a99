//! Fleet files (docs/fleets.md "Fleet files"): each `merchants` entry is one
//! merchant with its own key variable and `vars`, checked against the file's
//! shared entries. A problem every merchant has is reported once.

use std::collections::{BTreeMap, HashSet};

use super::context::{Ctx, Got};
use super::expand::is_var_name;
use super::fields::{FleetMerchant, Manifest, Vars, DEFAULT_API_KEY_ENV, MAX_MERCHANTS, MAX_VARS};
use super::record::FieldName;
use super::validate::{self, entries, Head, List};
use super::yaml::{given, line, At};
use crate::escape::show;
use crate::model::MerchantManifest;

/// The valid `merchants` entries, each a merchant with its lines and `vars`; the others are reported.
pub(super) fn heads(ctx: &mut Ctx<'_>, m: &Manifest, base: &MerchantManifest) -> Vec<Head> {
    let lines = [given(&m.merchant), given(&m.api_key_env), given(&m.canary)];
    for (field, line) in ["merchant", "apiKeyEnv", "canary"].into_iter().zip(lines) {
        let Some(line) = line else { continue };
        let message = format!("a file with `merchants` cannot also have a top-level `{field}`");
        let help = format!("move `{field}` into each entry of `merchants`, or remove `merchants`");
        ctx.error(line, message, help);
    }
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
    let label = ctx.text("merchant", &entry.merchant).map(str::to_owned);
    let help = "give each merchant a label, e.g. `merchant: store-a`";
    let head = validate::head(ctx, label, entry, help.to_owned(), base);
    let vars = vars(ctx, &entry.vars, keys);
    head.map(|(merchant, lines, _)| (merchant, lines, vars))
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
