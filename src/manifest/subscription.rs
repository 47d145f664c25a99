//! Checks of one `subscriptions` entry: `name` and `callbackUrl` expanded
//! and checked, `topic` / `topics` checked and expanded to one
//! subscription per topic, `renamedFrom` (a string or a list of old
//! names, each expanded and checked like a name: README "Renames"; the
//! checks across entries are [`validate`](super::validate)'s).
//!
//! Messages never carry a variable's value: names and URLs are shown as
//! written in the manifest, URLs as they are read, masked (or not at all).

use std::collections::HashSet;

use url::Host;

use super::context::Ctx;
use super::expand::{expand, ExpandError};
use super::fields::{OneOrMany, Subscription};
use super::look_alike::{look_alike, HIDDEN_HELP};
use super::record::Got;
use super::yaml::{line as line_of, At, Found};
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

/// Checks one `subscriptions` entry (at `line`); returns one subscription
/// per valid topic when its name and URL are valid.
pub(super) fn subscription(
    ctx: &mut Ctx<'_>,
    line: usize,
    entry: &Subscription,
    options: Options,
) -> Vec<Declared> {
    let suggested = ctx.unknown(entry);
    let missing = |field: &str, present: bool| !present && !suggested.contains(&field);
    if missing("name", entry.name.is_some()) {
        let help = "add `name: …`; with the topic it identifies the subscription";
        ctx.error(
            line,
            "subscription has no `name`".to_owned(),
            Some(help.to_owned()),
        );
    }
    if missing("callbackUrl", entry.callback_url.is_some()) {
        let help = "add the URL Inveterate delivers events to, e.g. `callbackUrl: https://hooks.example.com/inveterate`";
        ctx.error(
            line,
            "subscription has no `callbackUrl`".to_owned(),
            Some(help.to_owned()),
        );
    }
    let no_topic = missing("topic", entry.topic.is_some()) && missing("topics", entry.topics.is_some());
    let name = name(ctx, &entry.name);
    let url = callback_url(ctx, &entry.callback_url, options);
    let topics = topics(ctx, line, entry, no_topic, options);
    let renamed_from = renamed_from(ctx, &entry.renamed_from);
    let masking = match ctx.get("maskPathSecrets", &entry.mask_path_secrets) {
        Got::Ok(false) => Masking::from(false),
        _ => Masking::Full,
    };
    let (Some((written_name, name)), Some(url), Some(renamed_from)) = (name, url, renamed_from) else {
        return Vec::new();
    };
    let location = ctx.location(line);
    let renamed_line = entry.renamed_from.as_ref().map_or(line, |at| at.line);
    let mut declared = Vec::with_capacity(topics.len());
    for topic in topics {
        // Each subscription holds its own copies: counted as the text
        // after expansion ([`MAX_BYTES`](super::yaml::MAX_BYTES)).
        if !ctx.spend(line, name.len() + url.len() + topic.len()) {
            break;
        }
        declared.push(Declared {
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
        });
    }
    declared
}

/// A text field that must not be empty: its value, or `None` (reported
/// when empty or of the wrong kind; absent is the caller's to report).
fn text<'v>(ctx: &mut Ctx<'_>, name: &str, field: &'v Option<At<String>>, help: &str) -> Option<&'v str> {
    let value = match ctx.get(name, field) {
        Got::Ok(value) => value.as_str(),
        Got::Empty => "",
        Got::Absent | Got::Bad => return None,
    };
    if value.trim().is_empty() {
        ctx.error(
            line_of(field),
            format!("`{name}` is empty"),
            Some(help.to_owned()),
        );
        return None;
    }
    Some(value)
}

/// The name as written and as expanded.
fn name(ctx: &mut Ctx<'_>, field: &Option<At<String>>) -> Option<(String, String)> {
    let written = text(
        ctx,
        "name",
        field,
        "give the subscription a name, e.g. `name: crm-sync`",
    )?;
    let line = line_of(field);
    let expanded = expanded(ctx, line, "name", written, MAX_NAME_CHARS)?;
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
            ctx.error(line, message, Some(help));
            None
        }
        None => Some((written.to_owned(), expanded)),
    }
}

/// The callback URL, expanded and checked.
fn callback_url(ctx: &mut Ctx<'_>, field: &Option<At<String>>, options: Options) -> Option<String> {
    let help = "give the URL Inveterate delivers events to, e.g. `callbackUrl: https://hooks.example.com/inveterate`";
    let written = text(ctx, "callbackUrl", field, help)?;
    let line = line_of(field);
    let url = expanded(ctx, line, "callbackUrl", written, MAX_URL_CHARS)?;
    match url_problem(&url, options) {
        None => Some(url),
        Some((problem, help)) => {
            // Quoted as it is read (masked), or not at all: never a second
            // reading of the text (SPEC "Safety by construction").
            let quote = CallbackUrl::read(written)
                .filter(|_| !written.chars().any(|c| is_unsafe(c) || c.is_whitespace()))
                .map(|u| format!(" `{}`", u.masked(Masking::Full, &Keys::none())))
                .unwrap_or_default();
            let via = if url == written {
                ""
            } else {
                " (after expanding variables)"
            };
            ctx.error(line, format!("callback URL{quote}{via} {problem}"), Some(help));
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

/// `${VAR}` expansion of `field` (at `line`), at most `max_chars`
/// characters long, reporting each problem.
fn expanded(ctx: &mut Ctx<'_>, line: usize, field: &str, written: &str, max_chars: usize) -> Option<String> {
    if !written.contains('$') {
        // Nothing to expand (most values): the text is the value.
        return without_key(ctx, line, field, written, Some(written.to_owned()));
    }
    // Four bytes a character at most: longer is refused before it is built.
    let errors = match expand(written, ctx.env, max_chars.saturating_mul(4)) {
        Ok(value) => return without_key(ctx, line, field, written, Some(value)),
        Err(errors) => {
            without_key(ctx, line, field, written, None);
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
            ExpandError::TooLong => (
                format!("`{field}` is longer than {max_chars} characters after expanding variables"),
                "use shorter values for the variables it uses".to_owned(),
            ),
        };
        ctx.error(line, message, Some(help));
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
    line: usize,
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
        expand(written, &probe, usize::MAX).is_ok_and(|v| v.contains(MARK))
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
    ctx.error(line, message, Some(help.to_owned()));
    None
}

/// The entry's topics (`topic` or `topics`), each checked; only valid ones
/// are returned. `missing`: neither is given (nor suggested for a
/// misspelt key).
fn topics(
    ctx: &mut Ctx<'_>,
    line: usize,
    entry: &Subscription,
    missing: bool,
    options: Options,
) -> Vec<String> {
    if let (Some(_), Some(topics)) = (&entry.topic, &entry.topics) {
        let help = "use `topic` for one topic or `topics` for several, not both";
        let message = "subscription has both `topic` and `topics`".to_owned();
        ctx.error(topics.line, message, Some(help.to_owned()));
        return Vec::new();
    }
    if missing {
        let help =
            "add `topic: customer.cancelled`, or `topics: [...]` for several; `invhooks topics` lists them";
        let message = "subscription has no `topic` or `topics`".to_owned();
        ctx.error(line, message, Some(help.to_owned()));
    }
    let help = "write a topic such as `customer.cancelled`; `invhooks topics` lists them";
    if let Some(topic) = text(ctx, "topic", &entry.topic, help) {
        return checked_topic(ctx, line_of(&entry.topic), topic, options)
            .into_iter()
            .collect();
    }
    let Some(At { line, value }) = &entry.topics else {
        return Vec::new();
    };
    match value {
        Ok(list) => topic_list(ctx, *line, list, options),
        Err(found) => {
            let message = format!("`topics` must be a list of strings, found {}", found.kind());
            let help = "write `topics: [customer.cancelled, customer.pending_cancellation]`, or `topic:` for one topic";
            ctx.error(*line, message, Some(help.to_owned()));
            Vec::new()
        }
    }
}

/// The valid topics of a `topics:` list (at `line`); empty, repeated and
/// invalid items are reported.
fn topic_list(ctx: &mut Ctx<'_>, line: usize, list: &[At<String>], options: Options) -> Vec<String> {
    if list.is_empty() {
        let help = "list at least one topic, e.g. `topics: [customer.cancelled]`";
        ctx.error(line, "`topics` is empty".to_owned(), Some(help.to_owned()));
    }
    let mut valid = Vec::new();
    let mut seen = HashSet::new();
    for (i, item) in list.iter().enumerate() {
        let (message, help) = match &item.value {
            Ok(topic) if topic.is_empty() || !seen.insert(topic.as_str()) => match topic.is_empty() {
                true => (
                    format!("item {} of `topics` is empty", i + 1),
                    "write a topic or remove the item",
                ),
                false => (
                    format!("duplicate topic `{}` in `topics`", show(topic)),
                    "list each topic once",
                ),
            },
            Ok(topic) => {
                valid.extend(checked_topic(ctx, item.line, topic, options));
                continue;
            }
            Err(Found::Empty) => (
                format!("item {} of `topics` is empty", i + 1),
                "write a topic or remove the item",
            ),
            Err(found) => (
                format!(
                    "item {} of `topics` must be a string, found {}",
                    i + 1,
                    found.kind()
                ),
                "write a topic such as `customer.cancelled`",
            ),
        };
        ctx.error(item.line, message, Some(help.to_owned()));
    }
    valid
}

/// `Some(topic)` when it is known, or well-formed and unknown topics are
/// allowed.
fn checked_topic(ctx: &mut Ctx<'_>, line: usize, topic: &str, options: Options) -> Option<String> {
    if topic::is_known(topic) {
        return Some(topic.to_owned());
    }
    if options.allow_unknown_topics {
        if topic.chars().any(|c| c.is_whitespace() || c.is_control()) || hidden_char(topic).is_some() {
            let message = format!(
                "topic `{}` contains whitespace or a control character",
                show(topic)
            );
            let help = "topics look like `customer.cancelled`".to_owned();
            ctx.error(line, message, Some(help));
            return None;
        }
        return Some(topic.to_owned());
    }
    let help = match topic::suggest(topic) {
        Some(known) => format!("did you mean `{known}`? {UNKNOWN_TOPIC_HINT}"),
        None => format!("run `invhooks topics` to list the known topics {UNKNOWN_TOPIC_HINT}"),
    };
    ctx.error(line, format!("unknown topic `{}`", show(topic)), Some(help));
    None
}

/// The old names of `renamedFrom` (a string or a list), each expanded and
/// checked like a name; `None` when one is invalid.
fn renamed_from(ctx: &mut Ctx<'_>, field: &Option<At<OneOrMany>>) -> Option<Vec<String>> {
    let written = match ctx.get("renamedFrom", field) {
        Got::Absent => return Some(Vec::new()),
        Got::Bad => return None,
        Got::Empty => &OneOrMany::Many(Vec::new()),
        Got::Ok(written) => written,
    };
    let line = line_of(field);
    let items: Vec<(usize, Result<&str, &Found>)> = match written {
        OneOrMany::One(name) => vec![(line, Ok(name.as_str()))],
        OneOrMany::Many(list) => list.iter().map(|at| (at.line, at.value.as_deref())).collect(),
    };
    if items.is_empty() {
        let help = "list the old names, e.g. `renamedFrom: [crm]`, or remove the field";
        ctx.error(line, "`renamedFrom` is empty".to_owned(), Some(help.to_owned()));
        return None;
    }
    let mut names = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, (at, item)) in items.into_iter().enumerate() {
        let written = match item {
            Ok(written) => written,
            Err(Found::Empty) => "",
            Err(found) => {
                let message = format!(
                    "item {} of `renamedFrom` must be a string, found {}",
                    i + 1,
                    found.kind()
                );
                let help = "write the name the live subscription has now";
                ctx.error(at, message, Some(help.to_owned()));
                valid = false;
                continue;
            }
        };
        match old_name(ctx, at, written) {
            Some(old) if names.contains(&old) => {
                let message = format!("`renamedFrom` lists `{}` twice", show(written));
                ctx.error(at, message, Some("list each old name once".to_owned()));
                valid = false;
            }
            Some(old) => names.push(old),
            None => valid = false,
        }
    }
    valid.then_some(names)
}

/// One old name of `renamedFrom` (at `line`), expanded and checked.
fn old_name(ctx: &mut Ctx<'_>, line: usize, written: &str) -> Option<String> {
    if written.trim().is_empty() {
        let help = "write the name the live subscription has now, or remove it";
        let message = "an old name in `renamedFrom` is empty".to_owned();
        ctx.error(line, message, Some(help.to_owned()));
        return None;
    }
    let expanded = expanded(ctx, line, "renamedFrom", written, MAX_NAME_CHARS)?;
    let problem = if expanded.trim().is_empty() {
        Some("is empty after expanding variables")
    } else if expanded.chars().any(char::is_control) || hidden_char(&expanded).is_some() {
        Some("contains a control, invisible or text-direction character")
    } else if expanded.chars().count() > MAX_NAME_CHARS {
        Some("is longer than 255 characters")
    } else {
        None
    };
    match problem {
        Some(problem) => {
            let message = format!("old name `{}` in `renamedFrom` {problem}", show(written));
            let help = "write the name the live subscription has now, exactly";
            ctx.error(line, message, Some(help.to_owned()));
            None
        }
        None => Some(expanded),
    }
}
