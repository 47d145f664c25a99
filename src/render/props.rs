//! The masking rule as a property of every renderer (SPEC "Safety by
//! construction"): a random key (8 to 64 characters, base64 with `=`
//! padding, URL-safe; or a short rehearsal key) anywhere in a live or
//! declared callback URL (host, userinfo, path, query name or value, bare
//! query, fragment) and in live names, rendered in every format (text with
//! colour on and off, JSON, Markdown, drift, the apply report), ANSI codes
//! stripped: no 8-character piece of a key of 12 or more characters
//! appears, a shorter key never appears as a whole token, and names
//! without the key appear unchanged (`another` stays `another` under the
//! key `other`).
#![allow(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;

use super::markdown::{apply_summary, GITHUB_COMMENT_LIMIT};
use super::{drift, json, markdown, report, text};
use crate::apply::{ChangeReport, MerchantReport, Outcome, Rewrite, RunReport, Verification};
use crate::fixtures::{create, delete, fields, live};
use crate::plan::{Change, MerchantPlan, Plan, Summary};
use crate::secret::{Keys, Masking};

/// Where a key goes in a callback URL.
const SLOTS: [&str; 8] = [
    "https://{k}.hooks.example/in",
    "https://user:{k}@hooks.example/in",
    "https://hooks.example/t/{k}/in",
    "https://hooks.example/in?{k}=1",
    "https://hooks.example/in?sig={k}",
    "https://hooks.example/in?{k}",
    "https://hooks.example/in#{k}",
    // Inside a longer run: only for keys of 12 or more characters.
    "https://hooks.example/t/ab{k}cd/in",
];

/// A key: base64 with padding, URL-safe, or short (a letter-digit mix no
/// word of the reports is).
fn keys() -> impl Strategy<Value = String> {
    prop_oneof![
        ("[A-Za-z0-9+/]{6,62}", 0usize..=2)
            .prop_map(|(s, pad)| format!("{s}{}", "=".repeat(pad)))
            .prop_filter("8 or more", |k| k.len() >= 8),
        "[A-Za-z0-9_-]{8,64}",
        "[a-z]{2,5}[0-9][a-z0-9]{0,5}",
    ]
}

/// Whether `text` shows `key`: an 8-character piece of a long key, or a
/// short key as a whole token (ASCII case ignored: hosts are lowercased).
fn shows(text: &str, key: &str) -> Option<String> {
    let (text, key) = (text.to_ascii_lowercase(), key.to_ascii_lowercase());
    if key.len() >= 12 {
        return key
            .as_bytes()
            .windows(8)
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .find(|piece| text.contains(piece.as_str()));
    }
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .find(|token| *token == key)
        .map(str::to_owned)
}

/// `text` without ANSI escape sequences, as a log viewer shows it.
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            chars.by_ref().find(|c| c.is_ascii_alphabetic());
        } else {
            out.push(c);
        }
    }
    out
}

/// A plan and an apply run holding `key` in live and declared URLs, live
/// names, ids and server messages; `plain` names hold no key.
fn world(key: &str, slots: [usize; 4], keep_path: bool, plain: &[String]) -> (Plan, RunReport) {
    let last = if key.len() >= 12 {
        SLOTS.len()
    } else {
        SLOTS.len() - 1
    };
    let url = |slot: usize| SLOTS[slot % last].replace("{k}", key);
    let mut update = Change::Update {
        id: "wh_1".into(),
        before: fields("customer.updated", &format!("crm-{key}-x"), &url(slots[0])),
        after: fields("customer.updated", &plain[0], &url(slots[1])),
    };
    if let Change::Update { after, .. } = &mut update {
        after.masking = if keep_path {
            Masking::KeepPath
        } else {
            Masking::Full
        };
    }
    let changes = vec![
        update,
        create("customer.created", &plain[1], &url(slots[2])),
        delete(
            &format!("wh_{key}"),
            "customer.ordered",
            &plain[2],
            &url(slots[3]),
            false,
        ),
    ];
    let unmanaged = vec![live("wh_9", "customer.cancelled", key, &url(slots[3] + 1))];
    let merchant = MerchantPlan {
        merchant: "acme".into(),
        summary: Summary {
            create: 1,
            update: 1,
            delete: 1,
            unchanged: 0,
            ignored: 0,
            unmanaged: 1,
        },
        changes: changes.clone(),
        unmanaged,
        safety: None,
        renames_applied: vec![],
    };
    let said = format!("400: key {key} is not allowed");
    let outcomes = [
        Outcome::Done,
        Outcome::Failed(said.clone()),
        Outcome::Skipped(said.clone()),
    ];
    let report = |verification| MerchantReport {
        merchant: "acme".into(),
        changes: changes
            .iter()
            .zip(outcomes.clone())
            .map(|(change, outcome)| ChangeReport {
                change: change.clone(),
                outcome,
            })
            .collect(),
        cleaned_up: vec![changes[2].clone()],
        verification,
        interrupted: false,
    };
    let run = RunReport {
        merchants: vec![
            report(Verification::NotConverged {
                remaining: changes.clone(),
                foreign: vec![format!("wh_{key}")],
                rewrites: vec![Rewrite {
                    id: format!("wh_{key}"),
                    field: "callbackUrl",
                    sent: url(slots[1]),
                    stored: url(slots[0]),
                    masking: Masking::KeepPath,
                }],
            }),
            report(Verification::Unknown { reason: said }),
        ],
        refused: vec![],
        rollout: crate::apply::waves::Rollout::whole(vec![merchant.merchant.clone()]),
    };
    (
        Plan {
            merchants: vec![merchant],
        },
        run,
    )
}

/// Every format of the plan and of the run, ANSI stripped.
fn every_format(plan: &Plan, run: &RunReport, keys: &Keys) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for color in [false, true] {
        out.push(("text", text::render(plan, color, keys)));
        out.push(("drift text", drift::text(plan, color, keys)));
        out.push(("apply report", report::render(run, color, keys)));
    }
    out.push(("json", json::render(plan, keys)));
    out.push((
        "markdown",
        markdown::render(plan, "invhooks plan", GITHUB_COMMENT_LIMIT, keys),
    ));
    out.push(("drift json", drift::json(plan, keys)));
    out.push((
        "drift markdown",
        drift::markdown(plan, GITHUB_COMMENT_LIMIT, keys),
    ));
    out.push(("apply json", report::json(run, keys)));
    let applied = apply_summary(plan, Ok(run), GITHUB_COMMENT_LIMIT, keys);
    out.push(("apply markdown", applied));
    out.into_iter()
        .map(|(name, text)| (name, strip_ansi(&text)))
        .collect()
}

proptest! {
    // 256 cases (proptest's default); `PROPTEST_CASES` for a long run.
    #[test]
    fn no_format_shows_a_key_and_none_mangles_other_text(
        key in keys(),
        slots in proptest::array::uniform4(0usize..8),
        keep_path in any::<bool>(),
        words in proptest::collection::vec("[a-z]{1,10}", 3),
    ) {
        let lower = key.to_ascii_lowercase();
        let mut plain: Vec<String> = words
            .into_iter()
            .map(|w| if w.contains(&lower) { format!("n{}", w.len()) } else { w })
            .collect();
        // A short key inside a longer run of letters and digits is no
        // token: left alone.
        let alnum_ends = lower.starts_with(|c: char| c.is_ascii_alphanumeric())
            && lower.ends_with(|c: char| c.is_ascii_alphanumeric());
        if key.len() < 12 && alnum_ends {
            plain[1] = format!("x{lower}y");
        }
        let (plan, run) = world(&key, slots, keep_path, &plain);
        let keys = Keys::new([key.as_str()]);
        for (format, text) in every_format(&plan, &run, &keys) {
            prop_assert!(shows(&text, &key).is_none(), "{format} shows {:?} of {key}:\n{text}", shows(&text, &key));
            // The names every format shows: a create's and a delete's.
            for name in &plain[1..] {
                prop_assert!(text.contains(name.as_str()), "{format} mangled `{name}` (key {key}):\n{text}");
            }
        }
    }
}

#[test]
fn the_property_sees_a_leak() {
    let key = "k3ySecretValue0123456789";
    let plain = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
    let (plan, run) = world(key, [0, 1, 2, 3], true, &plain);
    let leaked = every_format(&plan, &run, &Keys::none());
    assert!(
        leaked.iter().all(|(_, text)| shows(text, key).is_some()),
        "{leaked:?}"
    );
    assert_eq!(shows("a *** b", "other"), None);
    assert_eq!(shows("x other y", "other").as_deref(), Some("other"));
    assert_eq!(strip_ansi("\u{1b}[1m\u{1b}[31mk3y\u{1b}[0mS"), "k3yS");
}
