//! Checks of one `subscriptions` entry: `name` and `callbackUrl` expanded
//! and checked, `topic` / `topics` checked and expanded to one
//! subscription per topic.
//!
//! Messages never carry a variable's value: names and URLs are shown as
//! written in the manifest, URLs through [`mask_url`].

use std::collections::HashSet;

use url::Host;

use super::expand::{expand, ExpandError};
use super::lines::{child, Seg};
use super::names::{look_alike, HIDDEN_HELP};
use super::raw::{RawSubscription, SUBSCRIPTION_FIELDS};
use super::read::{read_mapping, Ctx, Parsed};
use super::renamed;
use crate::callback_url::CallbackUrl;
use crate::escape::{code_point, hidden_char, is_unsafe, show};
use crate::model::DesiredSubscription;
use crate::secret::{Keys, Masking};
use crate::topic;

pub(super) const MAX_NAME_CHARS: usize = 255;
const MAX_URL_CHARS: usize = 2048;
const UNKNOWN_TOPIC_HINT: &str = "(set `allowUnknownTopics: true` if Inveterate added this topic)";

/// Manifest-wide switches that change what an entry may contain.
#[derive(Debug, Clone, Copy)]
pub(super) struct Options {
    /// `allowHttp`: plain `http://` to any host.
    pub(super) allow_http: bool,
    /// `allowUnknownTopics`: any well-formed topic.
    pub(super) allow_unknown_topics: bool,
}

/// A subscription after expansion, with its name as written (for messages).
pub(super) struct Declared {
    /// The subscription as the plan sees it.
    pub(super) sub: DesiredSubscription,
    /// `name` as written in the manifest, before `${VAR}` expansion.
    pub(super) written_name: String,
    /// The line of its `renamedFrom:` (for messages about it).
    pub(super) renamed_line: usize,
}

/// Checks one `subscriptions` entry; returns one subscription per valid
/// topic when its name and URL are valid.
pub(super) fn subscription(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    map: &serde_yaml::Mapping,
    options: Options,
) -> Vec<Declared> {
    let entry: Parsed<RawSubscription> =
        read_mapping(ctx, map, path, SUBSCRIPTION_FIELDS, "subscription", &[]);
    let name = name(ctx, path, &entry);
    let url = callback_url(ctx, path, &entry, options);
    let topics = topics(ctx, path, &entry, options);
    let renamed_from = renamed::renamed_from(ctx, path, &entry);
    let (Some((written_name, name)), Some(url), Some(renamed_from)) = (name, url, renamed_from) else {
        return Vec::new();
    };
    // A mistyped value is reported by `read_mapping`; the entry is then
    // dropped with the rest of the file's problems.
    let masking = entry.value.mask_path_secrets.map_or(Masking::Full, Masking::from);
    let location = ctx.location(path);
    let renamed_line = ctx.line(&child(path, Seg::key("renamedFrom")));
    topics
        .into_iter()
        .map(|topic| Declared {
            sub: DesiredSubscription {
                topic,
                name: name.clone(),
                callback_url: url.clone(),
                renamed_from: renamed_from.clone(),
                masking,
                location: location.clone(),
            },
            written_name: written_name.clone(),
            renamed_line,
        })
        .collect()
}

/// The name as written and as expanded.
fn name(ctx: &mut Ctx<'_>, path: &[Seg], entry: &Parsed<RawSubscription>) -> Option<(String, String)> {
    if entry.missing("name") {
        let help = "add `name: …`; with the topic it identifies the subscription";
        ctx.error(
            path,
            "subscription has no `name`".to_owned(),
            Some(help.to_owned()),
        );
    }
    if !entry.usable("name") {
        return None;
    }
    let path = child(path, Seg::key("name"));
    let written = entry.value.name.clone().unwrap_or_default();
    if written.trim().is_empty() {
        let help = "give the subscription a name, e.g. `name: crm-sync`";
        ctx.error(&path, "`name` is empty".to_owned(), Some(help.to_owned()));
        return None;
    }
    let expanded = expanded(ctx, &path, "name", &written)?;
    let problem = if expanded.trim().is_empty() {
        Some((
            "`name` is empty after expanding variables".to_owned(),
            "set the variables it uses, or give a default with ${VAR:-default}",
        ))
    } else if expanded.chars().any(char::is_control) {
        Some(("`name` contains a control character".to_owned(), "remove it"))
    } else if let Some(c) = hidden_char(&expanded) {
        Some((
            format!(
                "`name` contains the invisible or text-direction character {}",
                code_point(c)
            ),
            HIDDEN_HELP,
        ))
    } else if expanded.chars().count() > MAX_NAME_CHARS {
        Some((
            "`name` is longer than 255 characters".to_owned(),
            "use a shorter name",
        ))
    } else {
        None
    };
    let problem = problem
        .map(|(message, help)| (message, help.to_owned()))
        .or_else(|| look_alike("name", &expanded));
    match problem {
        Some((message, help)) => {
            ctx.error(&path, message, Some(help));
            None
        }
        None => Some((written, expanded)),
    }
}

/// The callback URL, expanded and checked.
fn callback_url(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    entry: &Parsed<RawSubscription>,
    options: Options,
) -> Option<String> {
    let example = "e.g. `callbackUrl: https://hooks.example.com/inveterate`";
    if entry.missing("callbackUrl") {
        let help = format!("add the URL Inveterate delivers events to, {example}");
        ctx.error(path, "subscription has no `callbackUrl`".to_owned(), Some(help));
    }
    if !entry.usable("callbackUrl") {
        return None;
    }
    let path = child(path, Seg::key("callbackUrl"));
    let written = entry.value.callback_url.clone().unwrap_or_default();
    if written.trim().is_empty() {
        let help = format!("give the URL Inveterate delivers events to, {example}");
        ctx.error(&path, "`callbackUrl` is empty".to_owned(), Some(help));
        return None;
    }
    let url = expanded(ctx, &path, "callbackUrl", &written)?;
    match url_problem(&url, options) {
        None => Some(url),
        Some((problem, help)) => {
            // Quoted as it is read (masked), or not at all: never a second
            // reading of the text (SPEC "Safety by construction").
            let quote = CallbackUrl::read(&written)
                .filter(|_| !written.chars().any(|c| is_unsafe(c) || c.is_whitespace()))
                .map(|u| format!(" `{}`", u.masked(Masking::Full, &Keys::none())))
                .unwrap_or_default();
            let via = if url == written {
                ""
            } else {
                " (after expanding variables)"
            };
            ctx.error(&path, format!("callback URL{quote}{via} {problem}"), Some(help));
            None
        }
    }
}

/// What is wrong with an expanded callback URL, and how to fix it. Never
/// quotes any part of the URL: it may come from the environment.
pub(super) fn url_problem(url: &str, options: Options) -> Option<(String, String)> {
    if url.chars().count() > MAX_URL_CHARS {
        return Some((
            "is longer than 2048 characters".to_owned(),
            "use a shorter URL".to_owned(),
        ));
    }
    if let Some(c) = hidden_char(url) {
        return Some((
            format!(
                "contains the invisible or text-direction character {}",
                code_point(c)
            ),
            HIDDEN_HELP.to_owned(),
        ));
    }
    // The one reading of a callback URL (SPEC "Safety by construction").
    let parsed = match CallbackUrl::parse(url) {
        Ok(parsed) => parsed,
        Err(problem) => return Some((problem.to_string(), problem.help().to_owned())),
    };
    let http = parsed.url().scheme() == "http";
    let loopback = match parsed.url().host() {
        Some(Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if http && !loopback && !options.allow_http {
        let help = "use `https://`, or set `allowHttp: true` to allow unencrypted callbacks (`http://` to localhost is always allowed)";
        return Some(("uses plain `http`".to_owned(), help.to_owned()));
    }
    None
}

/// `${VAR}` expansion of `field`, reporting each problem.
pub(super) fn expanded(ctx: &mut Ctx<'_>, path: &[Seg], field: &str, written: &str) -> Option<String> {
    if !written.contains('$') {
        // Nothing to expand (most values): the text is the value.
        return without_key(ctx, path, field, written, Some(written.to_owned()));
    }
    let errors = match expand(written, ctx.env) {
        Ok(value) => return without_key(ctx, path, field, written, Some(value)),
        Err(errors) => {
            without_key(ctx, path, field, written, None);
            errors
        }
    };
    let syntax_help = "write `${NAME}` or `${NAME:-default}` (NAME: letters, digits and `_`, not starting with a digit), or `$${` for a literal `${`";
    for error in errors {
        let (message, help) = match error {
            ExpandError::Unset(var) => match &ctx.merchant {
                None => (
                    format!("variable `{var}` is not set"),
                    format!("export {var}=… or write ${{{var}:-default}}"),
                ),
                Some(merchant) => (
                    format!(
                        "merchant `{}`: `${{{var}}}` is not set (not in its `vars`, not in the environment)",
                        show(merchant)
                    ),
                    format!(
                        "add `{var}` to the `vars` of `{}`, or export {var}=…",
                        show(merchant)
                    ),
                ),
            },
            ExpandError::Invalid(reference) => (
                format!("invalid variable reference `{}` in `{field}`", show(&reference)),
                syntax_help.to_owned(),
            ),
            ExpandError::Unterminated => (
                format!("unterminated `${{` in `{field}`"),
                "close the reference with `}`, or write `$${` for a literal `${`".to_owned(),
            ),
        };
        ctx.error(path, message, Some(help));
    }
    None
}

/// `value` (the expansion of `written`), unless it would carry the API key:
/// a reference to the key's variable (checked even when it is unset), or
/// the key's value however it got there. The key would otherwise be
/// printed by `plan` and sent to Inveterate as part of a subscription, for
/// anyone who can open a pull request to read in CI logs or receive at
/// their endpoint.
fn without_key(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    field: &str,
    written: &str,
    value: Option<String>,
) -> Option<String> {
    const MARK: &str = "\u{0}key\u{0}";
    // The same expansion with every variable set and the key's marked:
    // finds a reference exactly as expansion reads it (defaults and `$${`).
    let references = written.contains('$') && {
        let probe = |name: &str| {
            Some(if name == ctx.key_env() {
                MARK.to_owned()
            } else {
                String::new()
            })
        };
        expand(written, &probe).is_ok_and(|v| v.contains(MARK))
    };
    let contains = matches!((ctx.key(), &value), (Some(k), Some(v)) if v.contains(k));
    if !references && !contains {
        return value;
    }
    let key_env = ctx.key_env();
    let message = if references {
        format!("`{field}` uses `${{{key_env}}}`, the variable holding this merchant's API key")
    } else {
        format!("`{field}` would contain this merchant's API key (the value of `{key_env}`)")
    };
    let help = "the API key must never leave the API request header: it would be printed in the plan and sent as part of the subscription; use another variable";
    ctx.error(path, message, Some(help.to_owned()));
    None
}

/// The entry's topics (`topic` or `topics`), each checked; only valid ones
/// are returned.
fn topics(ctx: &mut Ctx<'_>, path: &[Seg], entry: &Parsed<RawSubscription>, options: Options) -> Vec<String> {
    let has_topic = entry.present.contains("topic");
    let has_topics = entry.present.contains("topics");
    if has_topic && has_topics {
        let help = "use `topic` for one topic or `topics` for several, not both";
        let message = "subscription has both `topic` and `topics`".to_owned();
        ctx.error(&child(path, Seg::key("topics")), message, Some(help.to_owned()));
        return Vec::new();
    }
    if entry.missing("topic") && entry.missing("topics") {
        let help =
            "add `topic: customer.cancelled`, or `topics: [...]` for several; `invhooks topics` lists them";
        ctx.error(
            path,
            "subscription has no `topic` or `topics`".to_owned(),
            Some(help.to_owned()),
        );
    }
    let mut valid = Vec::new();
    if entry.usable("topic") {
        let topic_path = child(path, Seg::key("topic"));
        match entry.value.topic.as_deref().filter(|t| !t.is_empty()) {
            None => {
                let help = "write a topic such as `customer.cancelled`; `invhooks topics` lists them";
                ctx.error(&topic_path, "`topic` is empty".to_owned(), Some(help.to_owned()));
            }
            Some(topic) => valid.extend(checked_topic(ctx, &topic_path, topic, options)),
        }
    }
    if entry.usable("topics") {
        let list = entry.value.topics.as_deref().unwrap_or_default();
        valid.extend(topic_list(ctx, &child(path, Seg::key("topics")), list, options));
    }
    valid
}

/// The valid topics of a `topics:` list; empty, repeated and invalid
/// items are reported.
fn topic_list(ctx: &mut Ctx<'_>, list_path: &[Seg], list: &[String], options: Options) -> Vec<String> {
    if list.is_empty() {
        let help = "list at least one topic, e.g. `topics: [customer.cancelled]`";
        ctx.error(list_path, "`topics` is empty".to_owned(), Some(help.to_owned()));
    }
    let mut valid = Vec::new();
    let mut seen = HashSet::new();
    for (i, topic) in list.iter().enumerate() {
        // The item's path is only needed for a message.
        let item_path = || child(list_path, Seg::Index(i));
        if topic.is_empty() {
            let message = format!("item {} of `topics` is empty", i + 1);
            let help = "write a topic or remove the item".to_owned();
            ctx.error(&item_path(), message, Some(help));
        } else if !seen.insert(topic.as_str()) {
            let message = format!("duplicate topic `{}` in `topics`", show(topic));
            ctx.error(&item_path(), message, Some("list each topic once".to_owned()));
        } else if topic::is_known(topic) {
            valid.push(topic.clone());
        } else {
            valid.extend(checked_topic(ctx, &item_path(), topic, options));
        }
    }
    valid
}

/// `Some(topic)` when it is known, or well-formed and unknown topics are
/// allowed.
fn checked_topic(ctx: &mut Ctx<'_>, path: &[Seg], topic: &str, options: Options) -> Option<String> {
    if topic::is_known(topic) {
        return Some(topic.to_owned());
    }
    if options.allow_unknown_topics {
        if topic.chars().any(|c| c.is_whitespace() || c.is_control()) || hidden_char(topic).is_some() {
            let message = format!(
                "topic `{}` contains whitespace or a control character",
                show(topic)
            );
            ctx.error(
                path,
                message,
                Some("topics look like `customer.cancelled`".to_owned()),
            );
            return None;
        }
        return Some(topic.to_owned());
    }
    let help = match topic::suggest(topic) {
        Some(known) => format!("did you mean `{known}`? {UNKNOWN_TOPIC_HINT}"),
        None => format!("run `invhooks topics` to list the known topics {UNKNOWN_TOPIC_HINT}"),
    };
    ctx.error(path, format!("unknown topic `{}`", show(topic)), Some(help));
    None
}
