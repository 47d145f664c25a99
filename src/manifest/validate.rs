//! The structural pass: walks serde_yaml's `Value`, checks the keys at
//! every level against the known fields of the [`raw`](super::raw) types,
//! and deserializes each field and each list entry on its own, so that one
//! bad value never hides another. Value checks live in
//! [`subscription`](super::subscription) and [`checks`](super::checks).

use std::path::Path;

use serde_yaml::{Mapping, Value};

use super::checks;
use super::diagnostic::{empty, Anchors, Diagnostic, HELP_STARTS_WITH};
use super::expand::is_var_name;
use super::lines::{child, LineIndex, Seg};
use super::names::label_problem;
use super::raw::{RawManifest, DEFAULT_API_KEY_ENV, MANIFEST_FIELDS};
use super::read::{kind, read_mapping, version_error, Ctx, FieldSet, Parsed};
use super::subscription::{self, Declared, Options};
use crate::escape::show;
use crate::model::{IgnoreRule, MerchantManifest};

/// What [`manifest`] returns: each merchant with the lines of its
/// `merchant:` and `apiKeyEnv:` fields, or every problem found.
pub(super) type Validated = Result<Vec<(MerchantManifest, Anchors)>, Vec<Diagnostic>>;

/// Validates a fleet file once its top-level fields are read (`fleet`
/// module, passed in by `mod.rs` so that imports flow one way).
pub(super) type Fleet = fn(Ctx<'_>, &Mapping, &FieldSet, Shared) -> Validated;

/// Validates a parsed manifest: its merchant or, with `merchants:`, each
/// merchant of the fleet (validated by `fleet`).
pub(super) fn manifest(
    file: &Path,
    value: &Value,
    index: &LineIndex,
    env: &(dyn Fn(&str) -> Option<String> + Sync),
    fleet: Fleet,
) -> Validated {
    let mut ctx = Ctx::new(file, index, env);
    let map = match value {
        Value::Mapping(map) => map,
        Value::Null => return Err(vec![empty(file)]),
        other => {
            let message = format!("manifest must be a mapping of fields, found {}", kind(other));
            ctx.error_at(1, message, Some(HELP_STARTS_WITH.to_owned()));
            return Err(ctx.into_diagnostics());
        }
    };
    let lists = ["ignore", "subscriptions", "merchants"];
    let top: Parsed<RawManifest> = read_mapping(&mut ctx, map, &[], MANIFEST_FIELDS, "manifest", &lists);
    check_version(&mut ctx, &top);
    let shared = Shared {
        options: Options {
            allow_http: top.value.allow_http.unwrap_or(false),
            allow_unknown_topics: top.value.allow_unknown_topics.unwrap_or(false),
        },
        prune: top.value.prune.unwrap_or(true),
    };
    if top.present.contains("merchants") {
        return fleet(ctx, map, &top.present, shared);
    }
    let (label, label_line) = label(&mut ctx, file, &top);
    let api_key_env = api_key_env(&mut ctx, top.value.api_key_env.clone(), &[Seg::key("apiKeyEnv")]);
    ctx.set_key_env(&api_key_env);
    let (ignore, declared) = body(&mut ctx, map, shared.options);
    if !ctx.is_clean() {
        return Err(ctx.into_diagnostics());
    }
    let anchors = Anchors {
        label: label_line,
        api_key_env: top
            .present
            .contains("apiKeyEnv")
            .then(|| ctx.line(&[Seg::key("apiKeyEnv")])),
    };
    let canary = top.value.canary == Some(true);
    Ok(vec![(
        MerchantManifest {
            canary,
            ..shared.merchant(file, label, api_key_env, ignore, declared)
        },
        anchors,
    )])
}

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
        label: String,
        api_key_env: String,
        ignore: Vec<IgnoreRule>,
        declared: Vec<Declared>,
    ) -> MerchantManifest {
        MerchantManifest {
            label,
            file: file.to_path_buf(),
            api_key_env,
            canary: false,
            prune: self.prune,
            ignore,
            subscriptions: declared.into_iter().map(|d| d.sub).collect(),
        }
    }
}

/// The `ignore` rules and subscriptions of a file, checked with `ctx`'s
/// environment and key variable.
pub(super) fn body(ctx: &mut Ctx<'_>, map: &Mapping, options: Options) -> (Vec<IgnoreRule>, Vec<Declared>) {
    let ignore = ignore_rules(ctx, map);
    let declared = subscriptions(ctx, map, options);
    checks::cross(ctx, &declared, &ignore);
    (ignore, declared)
}

fn check_version(ctx: &mut Ctx<'_>, top: &Parsed<RawManifest>) {
    let help = Some(HELP_STARTS_WITH.to_owned());
    if top.missing("version") {
        ctx.error_at(1, "missing `version`".to_owned(), help);
    } else if top.usable("version") {
        match top.value.version {
            Some(1) => {}
            Some(n) => version_error(ctx, &n.to_string()),
            None => ctx.error(&[Seg::key("version")], "`version` is empty".to_owned(), help),
        }
    }
}

/// The label of a manifest without `merchant:`: its file stem.
pub(super) fn default_label(file: &Path) -> String {
    file.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "manifest".to_owned())
}

/// The merchant label (default: the file stem) and its line.
fn label(ctx: &mut Ctx<'_>, file: &Path, top: &Parsed<RawManifest>) -> (String, usize) {
    let stem = default_label(file);
    if !top.usable("merchant") {
        return (stem, 1);
    }
    let path = [Seg::key("merchant")];
    let label = top.value.merchant.clone().unwrap_or_default();
    let help = format!("give a label, or remove `merchant:` to use the file name `{stem}`");
    check_label(ctx, &path, &label, help);
    (label, ctx.line(&path))
}

/// Checks a `merchant:` label at `path`; `empty_help` says what to do when
/// it is empty.
pub(super) fn check_label(ctx: &mut Ctx<'_>, path: &[Seg], label: &str, empty_help: String) {
    if label.trim().is_empty() {
        ctx.error(path, "`merchant` is empty".to_owned(), Some(empty_help));
    } else if let Some((message, help)) = label_problem("merchant", label) {
        ctx.error(path, message, Some(help));
    }
}

/// The environment variable holding the API key (default
/// `INVETERATE_API_KEY`).
pub(super) fn api_key_env(ctx: &mut Ctx<'_>, written: Option<String>, path: &[Seg]) -> String {
    let Some(name) = written else {
        return DEFAULT_API_KEY_ENV.to_owned();
    };
    if !is_var_name(&name) {
        let message = format!(
            "`apiKeyEnv` `{}` is not a valid environment variable name",
            show(&name)
        );
        let help = "use letters, digits and `_`, not starting with a digit, e.g. `INVETERATE_API_KEY_EU`";
        ctx.error(path, message, Some(help.to_owned()));
    }
    name
}

/// The valid `ignore` rules; the others are reported.
fn ignore_rules(ctx: &mut Ctx<'_>, map: &Mapping) -> Vec<IgnoreRule> {
    let example = "`- name: \"zapier-*\"`";
    let mut rules = Vec::new();
    for (path, entry) in entries(ctx, map, "ignore", "ignore rule", example, MAX_IGNORE_RULES) {
        rules.extend(checks::ignore_rule(ctx, &path, entry));
    }
    rules
}

/// The valid subscriptions, one per topic; the others are reported.
/// Entries are independent, so a long list is checked in shares on
/// several threads ([`PARALLEL_ENTRIES`]); subscriptions and problems come
/// back in entry order either way.
fn subscriptions(ctx: &mut Ctx<'_>, map: &Mapping, options: Options) -> Vec<Declared> {
    let example = "`- name: crm-sync` with `topic:` and `callbackUrl:`";
    let found = entries(ctx, map, "subscriptions", "subscription", example, MAX_ENTRIES);
    let check = |ctx: &mut Ctx<'_>, share: &[(Vec<Seg>, &Mapping)]| {
        let mut declared = Vec::with_capacity(share.len());
        for (path, entry) in share {
            declared.extend(subscription::subscription(ctx, path, entry, options));
        }
        declared
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(found.len() / PARALLEL_ENTRIES)
        .min(MAX_THREADS);
    if threads < 2 {
        return check(ctx, &found);
    }
    let shares: Vec<_> = found.chunks(found.len().div_ceil(threads)).collect();
    let checked: Vec<(Ctx<'_>, Vec<Declared>)> = std::thread::scope(|scope| {
        let running: Vec<_> = shares
            .iter()
            .map(|share| {
                let mut fork = ctx.fork();
                scope.spawn(move || {
                    let declared = check(&mut fork, share);
                    (fork, declared)
                })
            })
            .collect();
        running
            .into_iter()
            // A panic (a bug) reaches the caller as it would on one thread.
            .map(|handle| {
                handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    let mut declared = Vec::with_capacity(found.len());
    for (fork, mut share) in checked {
        ctx.absorb(fork);
        declared.append(&mut share);
    }
    declared
}

/// Entries per thread below which a list is checked on one thread: a
/// thread costs tens of microseconds, an entry about five.
const PARALLEL_ENTRIES: usize = 2_000;
/// Most threads checking one list.
const MAX_THREADS: usize = 8;

/// Most `subscriptions` entries in one manifest. A merchant has a few
/// dozen; the bound keeps a hostile manifest's validation time and memory
/// bounded while leaving room for very large deployments (ignore rules
/// are matched as one compiled set, so the cost is linear in entries).
const MAX_ENTRIES: usize = 100_000;
/// Most `ignore` rules in one manifest.
const MAX_IGNORE_RULES: usize = 1_000;

/// The entries of the list under `key` that are mappings, with their
/// paths; anything else is reported. A list longer than `max` is one
/// error, its entries unchecked.
pub(super) fn entries<'v>(
    ctx: &mut Ctx<'_>,
    map: &'v Mapping,
    key: &str,
    noun: &str,
    example: &str,
    max: usize,
) -> Vec<(Vec<Seg>, &'v Mapping)> {
    let path = vec![Seg::key(key)];
    let mut found = Vec::new();
    match map.get(key) {
        None | Some(Value::Null) => {}
        Some(Value::Sequence(items)) if items.len() > max => ctx.error(
            &path,
            format!("`{key}` has {} entries; at most {max} are supported", items.len()),
            Some("a manifest holds one merchant's subscriptions, usually a few dozen; check that -f names the right file".to_owned()),
        ),
        Some(Value::Sequence(items)) => {
            for (i, item) in items.iter().enumerate() {
                let item_path = child(&path, Seg::Index(i));
                match item {
                    Value::Mapping(entry) => found.push((item_path, entry)),
                    other => ctx.error(
                        &item_path,
                        format!("{noun} must be a mapping, found {}", kind(other)),
                        Some(format!("write each {noun} as a mapping, e.g. {example}")),
                    ),
                }
            }
        }
        Some(other) => ctx.error(
            &path,
            format!("`{key}` must be a list, found {}", kind(other)),
            Some(format!("write one entry per {noun}, e.g. {example}")),
        ),
    }
    found
}
