//! Live subscriptions as a manifest (`invhooks export`), or several stores' as
//! one fleet file (docs/fleets.md "Export a fleet"): a stable order, duplicates
//! left out, `${` escaped, so `plan` on the output reports no changes. Pure.
//! A fleet's callback URL is one [`template`] for every store.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_saphyr::SerializeError;

use super::expand::{escape, expand, is_var_name};
use super::fields::{self, FleetMerchant, Subscription, Vars, DEFAULT_API_KEY_ENV, MAX_CHECKS, MAX_VARS};
use super::subscription::name_problem;
use super::yaml::{At, FieldName};
use crate::model::{LiveSubscription, MerchantManifest};
use crate::secret::{has_secret, mask_url};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    pub yaml: String,
    /// Subscriptions in it (duplicates are left out).
    pub written: usize,
    /// The live id behind each entry of `subscriptions`, in order (empty for a fleet's shared list).
    pub ids: Vec<String>,
    /// Duplicates left out, URLs with secrets.
    pub warnings: Vec<String>,
}

/// A value to write: it has no line.
fn at<T>(value: T) -> At<T> {
    At {
        line: 0,
        value: Ok(value),
    }
}

fn set<T>(value: T) -> Option<At<T>> {
    Some(at(value))
}

/// One entry of `subscriptions`; `callback_url` is already escaped.
fn entry(name: &str, topic: &str, callback_url: String) -> At<Subscription> {
    let mut entry = Subscription::default();
    (entry.name, entry.topic) = (set(escape(name)), set(topic.to_owned()));
    entry.callback_url = set(callback_url);
    at(entry)
}

/// A document: `allowHttp` and `allowUnknownTopics` only when on.
fn manifest(
    (http, unknown): (bool, bool),
    subscriptions: Vec<At<Subscription>>,
    merchant: Option<String>,
    api_key_env: Option<String>,
) -> fields::Manifest {
    fields::Manifest {
        version: set(1),
        merchant: merchant.and_then(set),
        api_key_env: api_key_env.and_then(set),
        allow_http: http.then(|| at(true)),
        allow_unknown_topics: unknown.then(|| at(true)),
        subscriptions: set(subscriptions),
        ..Default::default()
    }
}

/// The switches `live` needs: plain http (by the parsed scheme: `HTTP://` too), an unknown topic.
fn switches<'a>(live: impl Iterator<Item = &'a LiveSubscription> + Clone) -> (bool, bool) {
    let http = live
        .clone()
        .any(|s| url::Url::parse(&s.callback_url).is_ok_and(|u| u.scheme() == "http"));
    (http, live.into_iter().any(|s| !crate::topic::is_known(&s.topic)))
}

/// The manifest of `live` (sorted by topic, name, id); errors: none in practice (plain strings).
pub fn to_manifest(
    live: &[LiveSubscription],
    merchant: Option<String>,
    api_key_env: &str,
) -> Result<Exported, SerializeError> {
    let (kept, warnings) = kept(live, None);
    let entries = kept
        .iter()
        .map(|s| entry(&s.name, &s.topic, escape(&s.callback_url)));
    let key = (api_key_env != DEFAULT_API_KEY_ENV).then(|| api_key_env.to_owned());
    let document = manifest(switches(live.iter()), entries.collect(), merchant, key);
    let ids = kept.iter().map(|sub| sub.id.clone()).collect();
    exported(&document, ids, warnings)
}

/// `manifest` as a document, so a saved plan's values are checked by [`super::problems_by_entry`].
pub fn as_written(manifest: &MerchantManifest) -> Result<String, SerializeError> {
    let entries = manifest
        .subscriptions
        .iter()
        .map(|s| entry(&s.name, &s.topic, escape(&s.callback_url)));
    let allows = (manifest.allows.http, manifest.allows.unknown_topics);
    let (label, key) = (manifest.label.clone(), manifest.api_key_env.clone());
    serde_saphyr::to_string(&self::manifest(allows, entries.collect(), Some(label), Some(key)))
}

/// The first of each (topic, name) of `live`, and warnings: duplicates left out, URLs with secrets.
fn kept<'a>(live: &'a [LiveSubscription], store: Option<&str>) -> (Vec<&'a LiveSubscription>, Vec<String>) {
    let whose = store.map_or_else(String::new, |m| format!("merchant `{m}`: "));
    let mut warnings = Vec::new();
    let mut kept: Vec<&LiveSubscription> = Vec::new();
    for sub in live {
        let (name, topic) = (&sub.name, &sub.topic);
        if kept.last().is_some_and(|e| &e.topic == topic && &e.name == name) {
            warnings.push(format!("{whose}duplicate `{name}` on `{topic}` [{}] left out: a manifest declares each (topic, name) once, so `apply` would delete it", sub.id));
            continue;
        }
        if has_secret(&sub.callback_url) {
            let masked = mask_url(&sub.callback_url);
            warnings.push(format!("{whose}`{name}` on `{topic}` has a secret in its URL ({masked}); consider `${{VAR}}` in the manifest instead of committing it"));
        }
        kept.push(sub);
    }
    (kept, warnings)
}

/// The YAML text of `document` under the `# exported by` line; `ids` empty for a fleet.
fn exported(
    doc: &fields::Manifest,
    ids: Vec<String>,
    warnings: Vec<String>,
) -> Result<Exported, SerializeError> {
    let version = env!("CARGO_PKG_VERSION");
    let yaml = serde_saphyr::to_string(doc)?;
    let yaml = format!("# exported by invhooks {version} from live subscriptions\n{yaml}");
    let written = doc.subscriptions.as_ref().and_then(At::ok).map_or(0, Vec::len);
    Ok(Exported {
        yaml,
        written,
        ids,
        warnings,
    })
}

/// One `export --store LABEL=VAR`: in one value, a label is never paired with another store's key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreArg {
    pub label: String,
    pub api_key_env: String,
}

impl StoreArg {
    /// Parses `LABEL=VAR`: refuses a label `merchant:` would refuse, or a VAR that is no variable name.
    pub fn parse(value: &str) -> Result<Self, String> {
        let refuse = |problem: &str| Err(format!("{problem}, e.g. `--store store-a=KEY_STORE_A`"));
        let Some((label, var)) = value.rsplit_once('=') else {
            return refuse("expected `LABEL=VAR`, the label and the variable holding its key");
        };
        if label.trim().is_empty() || label.trim() != label || label.chars().any(char::is_control) {
            return refuse("the label before `=` must be non-empty text without surrounding spaces");
        }
        // Refused here, before any request, rather than in the file written.
        if let Some((message, help)) = name_problem("LABEL", label, usize::MAX) {
            return Err(format!("{message}; {help}"));
        }
        if !is_var_name(var) {
            let var = crate::escape::show(var);
            return refuse(&format!("`{var}` after `=` is not an environment variable name (letters, digits and `_`, not starting with a digit)"));
        }
        let (label, api_key_env) = (label.to_owned(), var.to_owned());
        Ok(Self { label, api_key_env })
    }
}

#[derive(Debug, Clone, Copy)]
pub struct StoreLive<'a> {
    pub label: &'a str,
    pub api_key_env: &'a str,
    /// Sorted by topic, name, id.
    pub live: &'a [LiveSubscription],
}

#[derive(Debug, thiserror::Error)]
pub enum FleetError {
    #[error("the stores cannot share one list of subscriptions")]
    Refused(Vec<String>),
    #[error(transparent)]
    Yaml(#[from] SerializeError),
}

/// (topic, name) → callback URL of one store, duplicates left out.
type Keyed<'a> = BTreeMap<(&'a str, &'a str), &'a str>;

/// The fleet file of `stores`, or every difference; a value that `holds_key` (a key) is refused.
pub fn to_fleet(stores: &[StoreLive<'_>], holds_key: &dyn Fn(&str) -> bool) -> Result<Exported, FleetError> {
    let mut stores = stores.to_vec();
    stores.sort_by(|a, b| a.label.cmp(b.label));
    let (mut keyed, mut warnings, mut refused) = (Vec::with_capacity(stores.len()), Vec::new(), Vec::new());
    for store in &stores {
        let (subs, found) = kept(store.live, Some(store.label));
        warnings.extend(found);
        let leaks = subs
            .iter()
            .filter(|s| holds_key(&s.name) || holds_key(&s.callback_url));
        let label = store.label;
        refused.extend(leaks.map(|s| format!("`{label}` has an API key in `{}` on `{}`", s.name, s.topic)));
        let urls = subs.iter().map(|s| ((&*s.topic, &*s.name), &*s.callback_url));
        keyed.push(urls.collect());
    }
    let labels = stores.iter().map(|s| s.label).collect();
    let (taken, made) = (stores.iter().map(|s| s.api_key_env).collect(), Vec::new());
    let mut vars = TemplateVars { labels, taken, made };
    let subscriptions = templated(&keyed, &mut vars, &mut refused);
    let (written, merchants, parts) = (subscriptions.len(), stores.len(), vars.made.len());
    if parts > MAX_VARS {
        let differ = format!("the callback URLs differ in {parts} per-store parts");
        refused.push(format!("{differ}; a merchant's `vars` holds at most {MAX_VARS}"));
    } else if merchants.saturating_mul(written) > MAX_CHECKS {
        let many = format!("{merchants} merchants × {written} subscriptions");
        refused.push(format!("{many} is more than {MAX_CHECKS} for one fleet file"));
    }
    if !refused.is_empty() {
        return Err(FleetError::Refused(refused));
    }
    let switches = switches(stores.iter().flat_map(|s| s.live));
    let mut document = manifest(switches, subscriptions, None, None);
    let merchant = |(i, store): (usize, &StoreLive<'_>)| {
        let own: Vec<_> = vars
            .of(i)
            .into_iter()
            .map(|(name, value)| (at(FieldName(name)), Ok(value)))
            .collect();
        let mut entry = FleetMerchant::default();
        (entry.merchant, entry.api_key_env) =
            (set(store.label.to_owned()), set(store.api_key_env.to_owned()));
        entry.vars = (!own.is_empty()).then(|| at(Vars(own)));
        at(entry)
    };
    document.merchants = set(stores.iter().enumerate().map(merchant).collect());
    Ok(exported(&document, Vec::new(), warnings)?)
}

/// The entries of the keys every store has; a key only some have, or a URL no template declares, is refused.
fn templated(
    keyed: &[Keyed<'_>],
    vars: &mut TemplateVars<'_>,
    refused: &mut Vec<String>,
) -> Vec<At<Subscription>> {
    let keys: BTreeSet<(&str, &str)> = keyed.iter().flat_map(|k| k.keys().copied()).collect();
    let mut subscriptions = Vec::new();
    for (topic, name) in keys {
        let found: Vec<Option<&str>> = keyed.iter().map(|k| k.get(&(topic, name)).copied()).collect();
        let Some(urls) = found.iter().copied().collect::<Option<Vec<&str>>>() else {
            // Named against the first store.
            let (labels, first) = (&vars.labels, found[0].is_some());
            for (b, url) in labels.iter().zip(&found).filter(|(_, u)| u.is_some() != first) {
                let (has, does) = [("has no", "does"), ("has", "does not")][usize::from(url.is_some())];
                refused.push(format!(
                    "`{b}` {has} `{name}` on `{topic}`; `{}` {does}",
                    labels[0]
                ));
            }
            continue;
        };
        match template(&urls, vars) {
            Ok(callback_url) => subscriptions.push(entry(name, topic, callback_url)),
            Err(i) => {
                let (a, b) = (mask_url(urls[i]), mask_url(urls[0]));
                let (this, first) = (vars.labels[i], vars.labels[0]);
                let differs = format!("`{this}` has another callback URL than `{first}`");
                refused.push(format!("{differs} for `{name}` on `{topic}` (`{a}`, `{b}`), not one that differs only in per-store parts"));
            }
        }
    }
    subscriptions
}

/// Where URLs are split into parts that must line up across stores.
const SEPARATORS: [char; 4] = ['/', '?', '&', '#'];
/// Where a differing run may start or end inside a part.
const CUTS: [char; 10] = ['.', '-', '_', '=', ':', '@', '+', ',', ';', '~'];

/// The variables made so far: a name and one value per store each.
#[derive(Debug)]
struct TemplateVars<'a> {
    labels: Vec<&'a str>,
    /// The stores' key variables: no variable may take their names.
    taken: HashSet<&'a str>,
    made: Vec<(String, Vec<String>)>,
}

impl TemplateVars<'_> {
    /// The `vars` of store `i`.
    fn of(&self, i: usize) -> BTreeMap<String, String> {
        self.made
            .iter()
            .map(|(name, values)| (name.clone(), values[i].clone()))
            .collect()
    }

    /// The variable holding `values`: made before, else named `base` (numbered when taken).
    fn name(&mut self, values: Vec<String>, base: &str) -> String {
        if let Some((name, _)) = self.made.iter().find(|(_, v)| *v == values) {
            return name.clone();
        }
        let base = if values == self.labels { "MERCHANT" } else { base };
        let free = |n: &String| !self.taken.contains(n.as_str()) && self.made.iter().all(|(m, _)| m != n);
        let numbered = (2..).map(|n| format!("{base}_{n}"));
        let name = std::iter::once(base.to_owned())
            .chain(numbered)
            .find(free)
            .unwrap_or_default();
        self.made.push((name.clone(), values));
        name
    }
}

/// The escaped `callbackUrl` declaring `urls` (one per store), adding its
/// variables to `vars`; else a store whose URL differs in more than per-store parts.
fn template(urls: &[&str], vars: &mut TemplateVars<'_>) -> Result<String, usize> {
    let parts: Vec<Vec<&str>> = urls.iter().map(|u| split(u)).collect();
    if let Some(other) = (1..parts.len()).find(|&i| !same_shape(&parts[0], &parts[i])) {
        return Err(other);
    }
    let mut written = String::new();
    for (at, piece) in parts[0].iter().enumerate() {
        let pieces: Vec<&str> = parts.iter().map(|p| p[at]).collect();
        if pieces.iter().all(|p| p == piece) {
            written.push_str(&escape(piece));
            continue;
        }
        let (pre, post) = around_label(&pieces, &vars.labels).unwrap_or_else(|| common(&pieces));
        let values: Vec<String> = pieces.iter().map(|p| p[pre..p.len() - post].to_owned()).collect();
        let base = match at == 4 && is_authority(&parts[0]) {
            false => "PART",
            true if pre == 0 && post == 0 => "HOST",
            true => "HOST_PART",
        };
        let name = vars.name(values, base);
        written.push_str(&escape(&piece[..pre]));
        written.push_str(&format!("${{{name}}}"));
        written.push_str(&escape(&piece[piece.len() - post..]));
    }
    match (0..urls.len()).find(|&i| !expands_to(&written, &vars.of(i), urls[i])) {
        Some(other) => Err(other.max(1)),
        None => Ok(written),
    }
}

/// `url` in parts, each separator a part of its own (at the odd indices).
fn split(url: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, separator) in url.match_indices(SEPARATORS) {
        parts.extend([&url[start..i], separator]);
        start = i + separator.len();
    }
    parts.push(&url[start..]);
    parts
}

/// Whether two split URLs have the same separators.
fn same_shape(a: &[&str], b: &[&str]) -> bool {
    a.len() == b.len() && a.iter().zip(b).skip(1).step_by(2).all(|(x, y)| x == y)
}

/// Whether part 4 of `parts` is the host: `scheme://host…`.
fn is_authority(parts: &[&str]) -> bool {
    parts.len() > 4 && parts[0].ends_with(':') && parts[1] == "/" && parts[2].is_empty() && parts[3] == "/"
}

/// The bytes around each store's label, when each piece holds it once with the same text around.
fn around_label(pieces: &[&str], labels: &[&str]) -> Option<(usize, usize)> {
    let mut around = None;
    for (piece, label) in pieces.iter().zip(labels) {
        let mut found = piece.match_indices(label);
        let (at, _) = found.next().filter(|_| !label.is_empty())?;
        if found.next().is_some() {
            return None;
        }
        let here = (&piece[..at], &piece[at + label.len()..]);
        if here.0.ends_with('$') || around.is_some_and(|a| a != here) {
            return None;
        }
        around = Some(here);
    }
    around.map(|(before, after)| (before.len(), after.len()))
}

/// The longest common prefix and suffix ending (starting) at a cut, not overlapping.
fn common(pieces: &[&str]) -> (usize, usize) {
    let first = pieces[0].as_bytes();
    let run = |pairs: &mut dyn Iterator<Item = (&u8, &u8)>| pairs.take_while(|(a, b)| a == b).count();
    let pre = pieces.iter().map(|p| run(&mut first.iter().zip(p.as_bytes())));
    let post = pieces
        .iter()
        .map(|p| run(&mut first.iter().rev().zip(p.as_bytes().iter().rev())));
    let shortest = pieces.iter().map(|p| p.len()).min().unwrap_or(0);
    // Cuts are ASCII: a byte inside a character is never one.
    let cut = |b: &u8| CUTS.contains(&char::from(*b));
    let pre = pre.min().unwrap_or(0);
    let pre = first[..pre].iter().rposition(cut).map_or(0, |i| i + 1);
    let post = post.min().unwrap_or(0).min(shortest - pre);
    let post = first[first.len() - post..]
        .iter()
        .position(cut)
        .map_or(0, |i| post - i);
    (pre, post)
}

/// Whether `written` expands with `vars` (and nothing else) to `url`.
fn expands_to(written: &str, vars: &BTreeMap<String, String>, url: &str) -> bool {
    expand(written, &|name| vars.get(name).cloned(), usize::MAX).is_ok_and(|e| e == url)
}
