//! One `subscriptions` entry, one subscription per topic. Messages never carry
//! a variable's value: names are shown as written, URLs as read, masked, or not at all.
//! Names and labels are compared byte for byte, so a name that only looks like
//! another (`crm `, a no-break space, `café` not in NFC) is refused ([`name_problem`]).

use std::collections::HashSet;

use icu_normalizer::ComposingNormalizerBorrowed;

use super::context::{Ctx, Got};
use super::expand::{expand, ExpandError};
use super::fields::{OneOrMany, Subscription, MAX_NAME_CHARS, MAX_URL_CHARS};
use super::yaml::{line as line_of, At};
use crate::callback_url::CallbackUrl;
use crate::escape::{code_point, hidden_char, is_unsafe, show};
use crate::model::{Allows, DesiredSubscription};
use crate::secret::{Keys, Masked, Masking};
use crate::topic;

/// Checks one entry (at `line`): one subscription per valid topic when its name and URL are valid.
pub(super) fn check(
    ctx: &mut Ctx<'_>,
    line: usize,
    entry: &Subscription,
    allows: Allows,
) -> Vec<DesiredSubscription> {
    let suggested = ctx.unknown(entry);
    let missing = |field: &str, present: bool| !present && !suggested.contains(&field);
    if missing("name", entry.name.is_some()) {
        let help = "add `name: …`; with the topic it identifies the subscription";
        ctx.error(line, "subscription has no `name`", help);
    }
    if missing("callbackUrl", entry.callback_url.is_some()) {
        let help = format!("add {URL_HELP}");
        ctx.error(line, "subscription has no `callbackUrl`", help);
    }
    let no_topic = missing("topic", entry.topic.is_some()) && missing("topics", entry.topics.is_some());
    let name = name(ctx, &entry.name);
    let url = callback_url(ctx, &entry.callback_url, allows.http);
    if no_topic {
        let help =
            "add `topic: customer.cancelled`, or `topics: [...]` for several; `invhooks topics` lists them";
        ctx.error(line, "subscription has no `topic` or `topics`", help);
    }
    let topics = topics(ctx, entry, allows);
    let renamed_from = renamed_from(ctx, &entry.renamed_from);
    let masking = match ctx.get("maskPathSecrets", &entry.mask_path_secrets) {
        Got::Ok(false) => Masking::KeepPath,
        _ => Masking::Full,
    };
    let (Some(name), Some(callback_url), Some(renamed_from)) = (name, url, renamed_from) else {
        return Vec::new();
    };
    let location = ctx.location(line);
    // Each subscription holds its own copies, counted after expansion.
    let topics = topics
        .into_iter()
        .take_while(|topic| ctx.spend(line, name.len() + callback_url.len() + topic.len()));
    topics
        .map(|topic| DesiredSubscription {
            topic,
            name: name.clone(),
            callback_url: callback_url.clone(),
            renamed_from: renamed_from.clone(),
            masking,
            location: location.clone(),
        })
        .collect()
}

const URL_HELP: &str =
    "the URL Inveterate delivers events to, e.g. `callbackUrl: https://hooks.example.com/inveterate`";

/// A text field that must not be empty (absent is the caller's to report).
fn text<'v>(ctx: &mut Ctx<'_>, name: &str, field: &'v Option<At<String>>, help: &str) -> Option<&'v str> {
    match ctx.text(name, field)? {
        value if value.trim().is_empty() => ctx.fail(line_of(field), format!("`{name}` is empty"), help),
        value => Some(value),
    }
}

fn name(ctx: &mut Ctx<'_>, field: &Option<At<String>>) -> Option<String> {
    let help = "give the subscription a name, e.g. `name: crm-sync`";
    let written = text(ctx, "name", field, help)?;
    let line = line_of(field);
    let expanded = expanded(ctx, line, "name", written, MAX_NAME_CHARS)?;
    if expanded.trim().is_empty() {
        let help = "set the variables it uses, or give a default with ${VAR:-default}";
        return ctx.fail(line, "`name` is empty after expanding variables", help);
    }
    match name_problem("name", &expanded, MAX_NAME_CHARS) {
        Some((message, help)) => ctx.fail(line, message, &help),
        None => Some(expanded),
    }
}

fn callback_url(ctx: &mut Ctx<'_>, field: &Option<At<String>>, allow_http: bool) -> Option<String> {
    let written = text(ctx, "callbackUrl", field, &format!("give {URL_HELP}"))?;
    let line = line_of(field);
    let url = expanded(ctx, line, "callbackUrl", written, MAX_URL_CHARS)?;
    let Some((problem, help)) = callback_url_problem(&url, allow_http) else {
        return Some(url);
    };
    // Quoted as it is read (masked), or not at all: never a second reading of the text.
    let quotable = !written.chars().any(|c| is_unsafe(c) || c.is_whitespace());
    let read = CallbackUrl::read(written).filter(|_| quotable);
    let quote = read.map(|u| format!(" `{}`", Masked::url(u.as_str(), Masking::Full, &Keys::none())));
    let via = (url != written).then_some(" (after expanding variables)");
    let (quote, via) = (quote.unwrap_or_default(), via.unwrap_or_default());
    let message = format!("callback URL{quote}{via} {problem}");
    ctx.fail(line, message, &help)
}

/// What is wrong with an expanded callback URL, and how to fix it (`doctor` checks
/// live URLs with it). Never quotes the URL: it may come from the environment.
pub fn callback_url_problem(url: &str, allow_http: bool) -> Option<(String, String)> {
    if url.chars().count() > MAX_URL_CHARS {
        let problem = format!("is longer than {MAX_URL_CHARS} characters");
        return Some((problem, "use a shorter URL".to_owned()));
    }
    if let Some(c) = hidden_char(url) {
        let point = code_point(c);
        let problem = format!("contains the invisible or text-direction character {point}");
        return Some((problem, HIDDEN_HELP.to_owned()));
    }
    let parsed = match CallbackUrl::parse(url) {
        Ok(parsed) => parsed,
        Err((problem, help)) => return Some((problem, help.to_owned())),
    };
    let url = parsed.url();
    if url.scheme() != "http" || crate::callback_url::is_loopback(url) || allow_http {
        return None;
    }
    let help = "use `https://`, or set `allowHttp: true` to allow unencrypted callbacks (`http://` to localhost is always allowed)";
    Some(("uses plain `http`".to_owned(), help.to_owned()))
}

/// Help for an invisible or text-direction character in a value.
const HIDDEN_HELP: &str =
    "remove it: it makes the text display differently from what it is, so a reviewer of the plan could be misled";

/// Why `text` is no usable name, and how to fix it; whether it is empty is the caller's to say.
pub(super) fn name_problem(field: &str, text: &str, max_chars: usize) -> Option<(String, String)> {
    const SAME: &str = "names are compared byte for byte";
    let problem = |message: &str, help: &str| Some((format!("`{field}` {message}"), help.to_owned()));
    if text.chars().any(char::is_control) {
        problem("contains a control character", "remove it")
    } else if let Some(c) = hidden_char(text) {
        let point = code_point(c);
        let message = format!("contains the invisible or text-direction character {point}");
        problem(&message, HIDDEN_HELP)
    } else if text.chars().count() > max_chars {
        let message = format!("is longer than {max_chars} characters");
        problem(&message, "use a shorter name")
    } else if text.trim() != text {
        let help = format!("remove it: {SAME}, so `crm ` and `crm` would be two different names");
        problem("starts or ends with whitespace", &help)
    } else if let Some(c) = text.chars().find(|&c| c.is_whitespace() && c != ' ') {
        let help =
            format!("use a plain space (U+0020): {SAME}, so it would differ from the name it looks like");
        let point = code_point(c);
        problem(&format!("contains the space-like character {point}"), &help)
    } else if !ComposingNormalizerBorrowed::new_nfc().is_normalized(text) {
        let help = format!("retype its accented letters as single characters (`é` as U+00E9, not `e` + U+0301): {SAME}, so the two forms would be two different names");
        problem("is not in Unicode normal form C (NFC)", &help)
    } else {
        None
    }
}

/// `${VAR}` expansion of `field`, at most `max_chars`. Never the API key (by
/// reference, even unset, or value): `plan` would print it.
fn expanded(ctx: &mut Ctx<'_>, line: usize, field: &str, written: &str, max_chars: usize) -> Option<String> {
    // Four bytes a character at most: longer is refused before it is built.
    let expanded = match written.contains('$') {
        true => expand(written, ctx.env, max_chars.saturating_mul(4)),
        false => Ok(written.to_owned()),
    };
    // Every variable set and the key's marked: finds a reference exactly as
    // expansion reads it (defaults and `$${`).
    const MARK: &str = "\u{0}key\u{0}";
    let probe = |name: &str| Some(if name == ctx.key_env { MARK } else { "" }.to_owned());
    let references =
        written.contains('$') && expand(written, &probe, usize::MAX).is_ok_and(|v| v.contains(MARK));
    let contains = matches!((&ctx.key, &expanded), (Some(k), Ok(v)) if v.contains(k.as_str()));
    if references || contains {
        let key_env = &ctx.key_env;
        let message = if references {
            format!("`{field}` uses `${{{key_env}}}`, the variable holding this merchant's API key")
        } else {
            format!("`{field}` would contain this merchant's API key (the value of `{key_env}`)")
        };
        let help = "the API key must never leave the API request header: it would be printed in the plan and sent as part of the subscription; use another variable";
        ctx.error(line, message, help);
    }
    let errors = match expanded {
        Ok(value) => return (!references && !contains).then_some(value),
        Err(errors) => errors,
    };
    let merchant = ctx.merchant.as_deref().map(show);
    for error in errors {
        let (message, help) = match (error, &merchant) {
            (ExpandError::Unset(var), None) => (
                format!("variable `{var}` is not set"),
                format!("export {var}=… or write ${{{var}:-default}}"),
            ),
            (ExpandError::Unset(var), Some(merchant)) => (
                format!("merchant `{merchant}`: `${{{var}}}` is not set (not in its `vars`, not in the environment)"),
                format!("add `{var}` to the `vars` of `{merchant}`, or export {var}=…"),
            ),
            (ExpandError::Invalid(reference), _) => (
                format!("invalid variable reference `{}` in `{field}`", show(&reference)),
                "write `${NAME}` or `${NAME:-default}` (NAME: letters, digits and `_`, not starting with a digit), or `$${` for a literal `${`".to_owned(),
            ),
            (ExpandError::Unterminated, _) => (
                format!("unterminated `${{` in `{field}`"),
                "close the reference with `}`, or write `$${` for a literal `${`".to_owned(),
            ),
            (ExpandError::TooLong, _) => (
                format!("`{field}` is longer than {max_chars} characters after expanding variables"),
                "use shorter values for the variables it uses".to_owned(),
            ),
        };
        ctx.error(line, message, help);
    }
    None
}

fn topics(ctx: &mut Ctx<'_>, entry: &Subscription, allows: Allows) -> Vec<String> {
    if let (Some(_), Some(topics)) = (&entry.topic, &entry.topics) {
        let help = "use `topic` for one topic or `topics` for several, not both";
        ctx.error(topics.line, "subscription has both `topic` and `topics`", help);
        return Vec::new();
    }
    let help = "write a topic such as `customer.cancelled`; `invhooks topics` lists them";
    if let Some(topic) = text(ctx, "topic", &entry.topic, help) {
        return Vec::from_iter(checked_topic(ctx, line_of(&entry.topic), topic, allows));
    }
    let Some(At { line, value }) = &entry.topics else {
        return Vec::new();
    };
    match value {
        Ok(list) => topic_list(ctx, *line, list, allows),
        Err(found) => {
            let message = format!("`topics` must be a list of strings, found {}", found.kind());
            let help = "write `topics: [customer.cancelled, customer.pending_cancellation]`, or `topic:` for one topic";
            ctx.fail(*line, message, help).unwrap_or_default()
        }
    }
}

/// The valid topics of a `topics:` list (at `line`); the others are reported.
fn topic_list(ctx: &mut Ctx<'_>, line: usize, list: &[At<String>], allows: Allows) -> Vec<String> {
    if list.is_empty() {
        let help = "list at least one topic, e.g. `topics: [customer.cancelled]`";
        ctx.error(line, "`topics` is empty", help);
    }
    let (mut valid, mut seen) = (Vec::new(), HashSet::new());
    for (line, topic) in ctx.items("topics", list, "write a topic such as `customer.cancelled`") {
        let (message, help) = match topic.as_str() {
            "" => (
                "an item of `topics` is empty".to_owned(),
                "write a topic or remove the item",
            ),
            topic if !seen.insert(topic) => {
                let message = format!("duplicate topic `{}` in `topics`", show(topic));
                (message, "list each topic once")
            }
            topic => {
                valid.extend(checked_topic(ctx, line, topic, allows));
                continue;
            }
        };
        ctx.error(line, message, help);
    }
    valid
}

/// `Some(topic)` when it is known, or well-formed and unknown topics are allowed.
fn checked_topic(ctx: &mut Ctx<'_>, line: usize, topic: &str, allows: Allows) -> Option<String> {
    let odd = || topic.chars().any(|c| c.is_whitespace() || c.is_control()) || hidden_char(topic).is_some();
    if topic::is_known(topic) || (allows.unknown_topics && !odd()) {
        return Some(topic.to_owned());
    }
    let shown = show(topic);
    if allows.unknown_topics {
        let message = format!("topic `{shown}` contains whitespace or a control character");
        return ctx.fail(line, message, "topics look like `customer.cancelled`");
    }
    let added = "(set `allowUnknownTopics: true` if Inveterate added this topic)";
    let help = match topic::suggest(topic) {
        Some(known) => format!("did you mean `{known}`? {added}"),
        None => format!("run `invhooks topics` to list the known topics {added}"),
    };
    ctx.fail(line, format!("unknown topic `{shown}`"), &help)
}

/// The old names of `renamedFrom`, each expanded and checked; `None` when one is invalid.
fn renamed_from(ctx: &mut Ctx<'_>, field: &Option<At<OneOrMany>>) -> Option<Vec<String>> {
    let help = "write the name the live subscription has now";
    let (items, count) = match ctx.get("renamedFrom", field) {
        Got::Absent => return Some(Vec::new()),
        Got::Bad => return None,
        Got::Empty => (Vec::new(), 0),
        Got::Ok(OneOrMany::One(name)) => (vec![(line_of(field), name)], 1),
        Got::Ok(OneOrMany::Many(list)) => (ctx.items("renamedFrom", list, help), list.len()),
    };
    if count == 0 {
        let help = "list the old names, e.g. `renamedFrom: [crm]`, or remove the field";
        return ctx.fail(line_of(field), "`renamedFrom` is empty", help);
    }
    let mut names = Vec::with_capacity(count);
    for (line, written) in items {
        match old_name(ctx, line, written) {
            Some(old) if names.contains(&old) => {
                let message = format!("`renamedFrom` lists `{}` twice", show(written));
                ctx.error(line, message, "list each old name once");
            }
            Some(old) => names.push(old),
            None => {}
        }
    }
    (names.len() == count).then_some(names)
}

/// One old name of `renamedFrom` (at `line`), expanded and checked.
fn old_name(ctx: &mut Ctx<'_>, line: usize, written: &str) -> Option<String> {
    if written.trim().is_empty() {
        let help = "write the name the live subscription has now, or remove it";
        return ctx.fail(line, "an old name in `renamedFrom` is empty", help);
    }
    let expanded = expanded(ctx, line, "renamedFrom", written, MAX_NAME_CHARS)?;
    let problem = if expanded.trim().is_empty() {
        "is empty after expanding variables".to_owned()
    } else if expanded.chars().any(char::is_control) || hidden_char(&expanded).is_some() {
        "contains a control, invisible or text-direction character".to_owned()
    } else if expanded.chars().count() > MAX_NAME_CHARS {
        format!("is longer than {MAX_NAME_CHARS} characters")
    } else {
        return Some(expanded);
    };
    let message = format!("old name `{}` in `renamedFrom` {problem}", show(written));
    let help = "write the name the live subscription has now, exactly";
    ctx.fail(line, message, help)
}
