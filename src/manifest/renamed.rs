//! `renamedFrom` of one `subscriptions` entry: a string or a list of old
//! names, each expanded and checked like a name (README "Renames"); the
//! checks across entries are in [`checks`](super::checks).

use super::lines::{child, Seg};
use super::raw::{OneOrMany, RawSubscription};
use super::read::{Ctx, Parsed};
use super::subscription::{expanded, MAX_NAME_CHARS};
use crate::escape::{hidden_char, show};

/// The old names of `renamedFrom` (a string or a list), each expanded and
/// checked like a name; `None` when one is invalid.
pub(super) fn renamed_from(
    ctx: &mut Ctx<'_>,
    path: &[Seg],
    entry: &Parsed<RawSubscription>,
) -> Option<Vec<String>> {
    let Some(written) = entry
        .value
        .renamed_from
        .as_ref()
        .filter(|_| entry.usable("renamedFrom"))
    else {
        return Some(Vec::new());
    };
    let field = child(path, Seg::key("renamedFrom"));
    let items = written.items();
    if items.is_empty() {
        let help = "list the old names, e.g. `renamedFrom: [crm]`, or remove the field";
        ctx.error(&field, "`renamedFrom` is empty".to_owned(), Some(help.to_owned()));
        return None;
    }
    let mut names = Vec::with_capacity(items.len());
    let mut valid = true;
    for (i, item) in items.iter().enumerate() {
        let at = match written {
            OneOrMany::One(_) => field.clone(),
            OneOrMany::Many(_) => child(&field, Seg::Index(i)),
        };
        match old_name(ctx, &at, item) {
            Some(old) if names.contains(&old) => {
                let message = format!("`renamedFrom` lists `{}` twice", show(item));
                ctx.error(&at, message, Some("list each old name once".to_owned()));
                valid = false;
            }
            Some(old) => names.push(old),
            None => valid = false,
        }
    }
    valid.then_some(names)
}

/// One old name of `renamedFrom`, expanded and checked.
fn old_name(ctx: &mut Ctx<'_>, path: &[Seg], written: &str) -> Option<String> {
    if written.trim().is_empty() {
        let help = "write the name the live subscription has now, or remove it";
        ctx.error(
            path,
            "an old name in `renamedFrom` is empty".to_owned(),
            Some(help.to_owned()),
        );
        return None;
    }
    let expanded = expanded(ctx, path, "renamedFrom", written)?;
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
            ctx.error(path, message, Some(help.to_owned()));
            None
        }
        None => Some(expanded),
    }
}
