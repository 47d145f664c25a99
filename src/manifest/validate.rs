//! A parsed manifest's top level, its merchants (the file's one, or each entry of a fleet's
//! `merchants` with its own key variable and `vars`, docs/fleets.md), and the checks across
//! one merchant's entries. A problem every merchant of a fleet has is reported once.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};

use super::context::{Ctx, Got};
use super::expand::is_var_name;
use super::fields::{FleetMerchant, Manifest, Subscription, Vars, WrittenIgnoreRule, DEFAULT_API_KEY_ENV};
use super::fields::{MAX_CHECKS, MAX_MERCHANTS, MAX_VARS};
use super::subscription::{self, name_problem};
use super::yaml::{given, line, At, FieldName, Found, Read, Record};
use super::{Diagnostic, KEY_NEVER_HERE};
use crate::escape::show;
use crate::model::{Allows, DesiredSubscription, IgnoreRule, Location, MerchantManifest, Pattern};

/// Each merchant of a file with the lines of its `merchant:` and `apiKeyEnv:`, or every problem.
pub(super) type Validated = Result<Vec<(MerchantManifest, MerchantLines)>, Vec<Diagnostic>>;

/// The lines of a merchant's `merchant:` and `apiKeyEnv:` (`None`: the default).
#[derive(Debug, Clone, Copy)]
pub(super) struct MerchantLines {
    pub(super) label: usize,
    pub(super) api_key_env: Option<usize>,
}

pub(super) const HELP_STARTS_WITH: &str = "a manifest starts with `version: 1`";

/// Checks the top level every file has: each merchant of the file starts as the
/// one returned. `None` for a policy file (reported: it belongs in `--policy`).
pub(super) fn top(ctx: &mut Ctx<'_>, m: &Manifest) -> Option<MerchantManifest> {
    let policy = <crate::policy::PolicyFile as Record>::FIELDS;
    let policy_field = m.unknown.iter().find_map(|key| match &key.value {
        Ok(FieldName(name)) if name != "version" && policy.contains(&name.as_str()) => Some((key.line, name)),
        _ => None,
    });
    if let Some((line, field)) = policy_field {
        let message = format!("this is a policy file (it has `{field}`), not a manifest");
        let help = "pass it with `--policy FILE` (or INVHOOKS_POLICY) and keep it out of the directories given to -f: the policy holds rules a pull request cannot change";
        return ctx.fail(line, message, help);
    }
    let suggested = ctx.unknown(m);
    let at = line(&m.version);
    match ctx.get("version", &m.version) {
        Got::Absent if !suggested.contains(&"version") => ctx.error(1, "missing `version`", HELP_STARTS_WITH),
        Got::Empty => ctx.error(at, "`version` is empty", HELP_STARTS_WITH),
        Got::Ok(&v) if v != 1 => {
            let message = format!("unsupported manifest version `{v}`");
            ctx.error(at, message, "this invhooks reads `version: 1` manifests");
        }
        _ => {}
    }
    let http = ctx.value("allowHttp", &m.allow_http) == Some(&true);
    let unknown_topics = ctx.value("allowUnknownTopics", &m.allow_unknown_topics) == Some(&true);
    let prune = ctx.value("prune", &m.prune) != Some(&false);
    Some(MerchantManifest {
        file: ctx.file.to_path_buf(),
        prune,
        allows: Allows { http, unknown_topics },
        ..MerchantManifest::default()
    })
}

/// A merchant before its subscriptions are read, its lines and its `vars`.
type Head = (MerchantManifest, MerchantLines, BTreeMap<String, String>);

/// Validates a file's merchants (its one, or each of `merchants`), its top level read by [`top`].
pub(super) fn manifests(mut ctx: Ctx<'_>, m: &Manifest, base: MerchantManifest) -> Validated {
    let fleet = m.merchants.is_some();
    let heads = match fleet {
        true => heads(&mut ctx, m, &base),
        false => Vec::from_iter(one(&mut ctx, m, &base)),
    };
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
        (own.left, own.merchant) = (ctx.left, fleet.then(|| manifest.label.clone()));
        own.set_key_env(&manifest.api_key_env);
        body(&mut own, m, &mut manifest);
        ctx.left = own.left;
        per_merchant.push(((manifest, lines), own.into_problems()));
    }
    ctx.problems.extend(merge(&per_merchant));
    if !ctx.is_clean() {
        return Err(ctx.into_problems());
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

/// The one merchant of a file without `merchants:`, labelled by default with the file's stem.
fn one(ctx: &mut Ctx<'_>, m: &Manifest, base: &MerchantManifest) -> Option<Head> {
    let stem = ctx.file.file_stem().map(|s| s.to_string_lossy().into_owned());
    let stem = stem.filter(|s| !s.is_empty()).unwrap_or("manifest".into());
    let help = format!("give a label, or remove `merchant:` to use the file name `{stem}`");
    let mut entry = FleetMerchant::default();
    let (merchant, api_key_env, canary) = (m.merchant.clone(), m.api_key_env.clone(), m.canary.clone());
    (entry.merchant, entry.api_key_env, entry.canary) = (merchant, api_key_env, canary);
    head(ctx, &entry, Some(&stem), help, base)
}

/// `base` as `entry` declares it, its label (else `default`) checked when written; `None` without one.
fn head(
    ctx: &mut Ctx<'_>,
    entry: &FleetMerchant,
    default: Option<&str>,
    empty_help: String,
    base: &MerchantManifest,
) -> Option<Head> {
    let label = ctx.text("merchant", &entry.merchant).or(default);
    let api_key_env = api_key_env(ctx, &entry.api_key_env);
    let canary = ctx.value("canary", &entry.canary) == Some(&true);
    let (label, at) = (label?, line(&entry.merchant));
    let problem = match label.trim().is_empty() {
        true => Some(("`merchant` is empty".to_owned(), empty_help)),
        false => name_problem("merchant", label, usize::MAX),
    };
    if let (Some(_), Some((message, help))) = (&entry.merchant, problem) {
        ctx.error(at, message, help);
    }
    let lines = MerchantLines {
        label: at,
        api_key_env: given(&entry.api_key_env),
    };
    let merchant = MerchantManifest {
        label: label.to_owned(),
        api_key_env,
        canary,
        ..base.clone()
    };
    Some((merchant, lines, BTreeMap::new()))
}

/// The valid `merchants` entries, each a merchant with its lines and `vars`; the others are reported.
fn heads(ctx: &mut Ctx<'_>, m: &Manifest, base: &MerchantManifest) -> Vec<Head> {
    let lines = [given(&m.merchant), given(&m.api_key_env), given(&m.canary)];
    for (field, line) in ["merchant", "apiKeyEnv", "canary"].into_iter().zip(lines) {
        let Some(line) = line else { continue };
        let message = format!("a file with `merchants` cannot also have a top-level `{field}`");
        let help = format!("move `{field}` into each entry of `merchants`, or remove `merchants`");
        ctx.error(line, message, help);
    }
    let empty = |at: &At<Vec<_>>| matches!(at.value, Err(Found::Empty)) || at.ok().is_some_and(Vec::is_empty);
    if m.merchants.as_ref().is_some_and(empty) {
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
        .filter_map(|entry| fleet_head(ctx, entry, &keys, base))
        .collect()
}

const MERCHANTS: List = (
    "merchants",
    "merchant",
    "`- merchant: store-a` with `apiKeyEnv:` and `vars:`",
    MAX_MERCHANTS,
);

/// One entry's label, key variable and `vars`; `None` when it has no usable label (reported).
fn fleet_head(
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
    let help = "give each merchant a label, e.g. `merchant: store-a`";
    let head = head(ctx, entry, None, help.to_owned(), base);
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

/// The variable holding the API key; no plausible name is refused unshown: it may be a key.
fn api_key_env(ctx: &mut Ctx<'_>, field: &Option<At<String>>) -> String {
    let Some(name) = ctx.text("apiKeyEnv", field) else {
        return DEFAULT_API_KEY_ENV.to_owned();
    };
    if !plausible_var_name(name) {
        let message = "`apiKeyEnv` does not look like the name of an environment variable";
        let help = format!("`apiKeyEnv` names the variable that holds the key, e.g. `apiKeyEnv: INVETERATE_API_KEY_EU` (letters, digits and `_`); {KEY_NEVER_HERE}");
        ctx.error(line(field), message, help);
    }
    name.to_owned()
}

/// Whether `name` is plausibly a variable's name, not a key (`123abcDEF` in
/// `sk_live_123abcDEF`): no part mixing cases over 6 characters, or letters and digits over 16.
fn plausible_var_name(name: &str) -> bool {
    let key_like = |part: &str| {
        let has = |f: fn(&u8) -> bool| part.bytes().any(|b| f(&b));
        let (lower, upper) = (has(u8::is_ascii_lowercase), has(u8::is_ascii_uppercase));
        let digit = has(u8::is_ascii_digit);
        (part.len() >= 6 && lower && upper) || (part.len() >= 16 && digit && (lower || upper))
    };
    is_var_name(name) && name.len() <= 64 && !name.split('_').any(key_like)
}

/// A list of mappings: its key, what an entry is called, an example, the most entries.
pub(super) type List = (&'static str, &'static str, &'static str, usize);

/// Each live subscription is matched against every `ignore` rule; a merchant has a few dozen entries.
const IGNORE: List = ("ignore", "ignore rule", "`- name: \"zapier-*\"`", 100);
const SUBSCRIPTIONS: List = (
    "subscriptions",
    "subscription",
    "`- name: crm-sync` with `topic:` and `callbackUrl:`",
    100_000,
);

/// Checks the `ignore` rules and subscriptions of a file into `manifest`.
pub(super) fn body(ctx: &mut Ctx<'_>, m: &Manifest, manifest: &mut MerchantManifest) {
    for (line, rule) in entries(ctx, &m.ignore, IGNORE) {
        manifest.ignore.extend(ignore_rule(ctx, line, rule));
    }
    let mut declared = Vec::new();
    for (line, entry) in entries(ctx, &m.subscriptions, SUBSCRIPTIONS) {
        let subs = subscription::check(ctx, line, entry, manifest.allows);
        declared.extend(subs.into_iter().map(|sub| (entry, sub)));
    }
    cross(ctx, &declared, &manifest.ignore);
    manifest.subscriptions = declared.into_iter().map(|(_, sub)| sub).collect();
}

/// The entries of a list that are mappings, with their lines; anything else is reported.
pub(super) fn entries<'v, T: Read>(
    ctx: &mut Ctx<'_>,
    field: &'v Option<At<Vec<At<T>>>>,
    list: List,
) -> Vec<(usize, &'v T)> {
    let (key, noun, example, max) = list;
    let Got::Ok(items) = ctx.get(key, field) else {
        return Vec::new();
    };
    if items.len() > max {
        let message = format!("`{key}` has {} entries; at most {max} are supported", items.len());
        let help = "check that -f names the right file; a fleet can be split into several files";
        return ctx.fail(line(field), message, help).unwrap_or_default();
    }
    ctx.items(
        key,
        items,
        &format!("write each {noun} as a mapping, e.g. {example}"),
    )
}

fn ignore_rule(ctx: &mut Ctx<'_>, line: usize, rule: &WrittenIgnoreRule) -> Option<IgnoreRule> {
    let suggested = ctx.unknown(rule);
    if rule.name.is_none() && rule.topic.is_none() && rule.callback_url.is_none() && suggested.is_empty() {
        let help = "give at least one glob, e.g. `- name: \"zapier-*\"`; a rule without one matches nothing";
        return ctx.fail(line, "ignore rule has no `name`, `topic` or `callbackUrl`", help);
    }
    let name = glob(ctx, "name", &rule.name);
    let topic = glob(ctx, "topic", &rule.topic);
    let callback_url = glob(ctx, "callbackUrl", &rule.callback_url);
    let (name, topic, callback_url, location) =
        (name.ok()?, topic.ok()?, callback_url.ok()?, ctx.location(line));
    suggested.is_empty().then_some(IgnoreRule {
        name,
        topic,
        callback_url,
        location,
    })
}

/// The compiled glob of one ignore-rule field (`Ok(None)` when absent).
fn glob(ctx: &mut Ctx<'_>, field: &str, value: &Option<At<String>>) -> Result<Option<Pattern>, ()> {
    if value.is_none() {
        return Ok(None);
    }
    let source = ctx.text(field, value).ok_or(())?;
    let line = line(value);
    if source.is_empty() {
        let help = "give a glob such as `zapier-*`, or remove the field";
        ctx.error(line, format!("`{field}` in ignore rule is empty"), help);
        return Err(());
    }
    Pattern::new(source).map(Some).map_err(|error| {
        // A URL glob is not quoted: no part of a secret in it is shown.
        let shown = (field != "callbackUrl").then(|| format!(" `{}`", show(source)));
        let shown = shown.unwrap_or_default();
        let reason = match error.kind() {
            globset::ErrorKind::Regex(_) => "the glob is too complex".to_owned(),
            kind => kind.to_string(),
        };
        let message = format!("invalid glob{shown} in `{field}`: {reason}");
        let help = "globs use `*`, `?`, `[abc]` and `{a,b}`; escape a literal one with `\\`";
        ctx.error(line, message, help);
    })
}

/// Each (topic, name) once, hidden by no `ignore` rule; each old name undeclared, claimed once.
fn cross(ctx: &mut Ctx<'_>, declared: &[(&Subscription, DesiredSubscription)], rules: &[IgnoreRule]) {
    let mut first: HashMap<(&str, &str), &Location> = HashMap::with_capacity(declared.len());
    for (entry, sub) in declared {
        let at = sub.location.line;
        // As written: the expanded name may hold a variable's value.
        let written = entry.name.as_ref().and_then(At::ok).map_or("", String::as_str);
        let shown = || format!("`{}` on `{}`", show(written), show(&sub.topic));
        match first.entry((sub.topic.as_str(), sub.name.as_str())) {
            Entry::Occupied(earlier) => {
                let there = earlier.get();
                let help = format!("also declared at {there}; names must be unique per topic");
                ctx.error(at, format!("duplicate subscription {}", shown()), help);
                continue;
            }
            Entry::Vacant(slot) => slot.insert(&sub.location),
        };
        if let Some(rule) = rules
            .iter()
            .find(|r| r.matches(&sub.topic, &sub.name, &sub.callback_url))
        {
            let rule = &rule.location;
            let message = format!("subscription {} is matched by an ignore rule", shown());
            let help = format!(
                "the ignore rule at {rule} would hide it from invhooks; remove the rule or the subscription"
            );
            ctx.error(at, message, help);
        }
    }
    let mut claimed: HashMap<(&str, &str), usize> = HashMap::new();
    for (entry, sub) in declared {
        let line = line(&entry.renamed_from);
        for old in &sub.renamed_from {
            let key = (sub.topic.as_str(), old.as_str());
            let shown = format!("`{}` on `{}`", show(old), show(&sub.topic));
            let (message, help) = if let Some(there) = first.get(&key) {
                let message = format!("`renamedFrom` names {shown}, which the manifest declares");
                (message, format!("it is declared at {there}; a renamed subscription's old name must not be declared: remove that entry or this old name"))
            } else if let Some(earlier) = claimed.get(&key) {
                let file = sub.location.file.display();
                let message = format!("{shown} is claimed by two `renamedFrom` entries");
                (message, format!("also claimed at {file}:{earlier}; one live subscription can take one new name: keep one `renamedFrom`"))
            } else {
                claimed.insert(key, line);
                continue;
            };
            ctx.error(line, message, help);
        }
    }
}
