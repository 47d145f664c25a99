//! The drift report: a plan read as what changed by hand, by kind. An item's
//! fingerprint (of its real values) stays while it is unchanged, so an
//! alerting job tells new drift from old.

use std::fmt::Write;

use serde::Serialize;

use super::json::{pretty, Counts, FORMAT_VERSION};
use super::markdown::{code, code_text, row, Doc};
use super::text::{change_line, unmanaged_line};
use super::view::{ChangeView, LiveView};
use crate::escape::escape;
use crate::plan::{Action, Change, Fields, MerchantPlan, Plan, RenameApplied};
use crate::secret::{Keys, Masked};

/// The kinds of drift, in report order (docs/plan-json.md, "Drift report").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
enum DriftKind {
    ChangedUrl,
    Missing,
    Unmanaged,
    Duplicate,
}

impl DriftKind {
    fn of(change: &Change) -> Self {
        match change.action() {
            Action::Update => Self::ChangedUrl,
            Action::Create => Self::Missing,
            Action::Delete if change.is_duplicate() => Self::Duplicate,
            Action::Delete => Self::Unmanaged,
        }
    }

    fn title(self) -> &'static str {
        [
            "changed callback URLs",
            "missing subscriptions",
            "unmanaged subscriptions",
            "duplicate subscriptions",
        ][self as usize]
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    kind: DriftKind,
    topic: Masked<'a>,
    name: Masked<'a>,
    id: Option<Masked<'a>>,
    live_callback_url: Option<Masked<'static>>,
    manifest_callback_url: Option<Masked<'static>>,
    fingerprint: String,
}

/// The drift fingerprint (docs/plan-json.md), over the real values.
fn fingerprint(merchant: &str, kind: DriftKind, real: [Option<&str>; 5]) -> String {
    let [topic, name, id, live, manifest] = real;
    let parts = (
        "invhooks-drift-v1",
        merchant,
        kind,
        topic,
        name,
        id,
        live,
        manifest,
    );
    // A tuple of strings and options always serialises.
    let json = serde_json::to_string(&parts).unwrap_or_default();
    crate::digest::sha256(json.as_bytes()).trim_start_matches("sha256:")[..16].to_owned()
}

/// A merchant's drift items: its changes, then its unmanaged subscriptions.
fn items<'a>(m: &'a MerchantPlan, keys: &Keys) -> Vec<Item<'a>> {
    let url = |f: Option<&'a Fields>| f.map(|f| f.callback_url.as_str());
    let changes = m.changes.iter().map(|c| {
        let (kind, v) = (DriftKind::of(c), ChangeView::of(c, keys));
        let real = [
            Some(c.topic()),
            Some(c.name()),
            c.id(),
            url(c.before()),
            url(c.after()),
        ];
        Item {
            kind,
            topic: v.topic,
            name: v.name,
            id: v.id,
            live_callback_url: v.before.map(|f| f.callback_url),
            manifest_callback_url: v.after.map(|f| f.callback_url),
            fingerprint: fingerprint(&m.merchant, kind, real),
        }
    });
    let unmanaged = m.unmanaged.iter().map(|s| {
        let (kind, v) = (DriftKind::Unmanaged, LiveView::of(s, keys));
        let real = [
            Some(&*s.topic),
            Some(&s.name),
            Some(&s.id),
            Some(&s.callback_url),
            None,
        ];
        Item {
            kind,
            topic: v.topic,
            name: v.name,
            id: Some(v.id),
            live_callback_url: Some(v.url),
            manifest_callback_url: None,
            fingerprint: fingerprint(&m.merchant, kind, real),
        }
    });
    changes.chain(unmanaged).collect()
}

/// The JSON `summary`: items of each kind, in [`DriftKind`] order, then
/// the subscriptions in sync or matched by `ignore:`.
fn counts<'a>(merchants: impl IntoIterator<Item = &'a MerchantPlan>) -> Counts<6> {
    let mut n = [0; 6];
    for m in merchants {
        m.changes.iter().for_each(|c| n[DriftKind::of(c) as usize] += 1);
        n[DriftKind::Unmanaged as usize] += m.unmanaged.len();
        n[4] += m.summary.unchanged;
        n[5] += m.summary.ignored;
    }
    Counts("changed_url missing unmanaged duplicate unchanged ignored", n)
}

/// The summary sentence. Drift is anything `apply` would change; unmanaged
/// subscriptions kept by `prune: false` are listed but are not drift.
fn summary(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No drift. Live subscriptions match the manifest.".to_owned();
    }
    let [changed, missing, unmanaged, duplicate, ..] = counts(&plan.merchants).1;
    format!("Drift: {changed} changed, {missing} missing, {unmanaged} unmanaged, {duplicate} duplicate.")
}

/// Renames already applied: not drift, a reminder that `renamedFrom` can go.
fn rename_notes(plan: &Plan) -> impl Iterator<Item = String> + '_ {
    plan.merchants.iter().flat_map(|m| {
        m.renames_applied.iter().map(move |r| {
            format!(
                "note: merchant {}: rename of `{} {}` to `{}` applied, `renamedFrom: {}` can go ({})",
                m.merchant, r.topic, r.from, r.name, r.from, r.location
            )
        })
    })
}

pub fn text(plan: &Plan, color: bool, keys: &Keys) -> String {
    let mut out = String::new();
    for m in &plan.merchants {
        let lines = (m.changes.iter().map(|c| change_line(c, color, keys)))
            .chain(m.unmanaged.iter().map(|s| unmanaged_line(s, color, keys)));
        let mut items: Vec<(Item, String)> = items(m, keys).into_iter().zip(lines).collect();
        if items.is_empty() {
            continue;
        }
        items.sort_by_key(|(i, _)| i.kind);
        let _ = writeln!(out, "merchant {}", escape(&m.merchant));
        for group in items.chunk_by(|(a, _), (b, _)| a.kind == b.kind) {
            let _ = writeln!(out, "  {} ({}):", group[0].0.kind.title(), group.len());
            for (item, line) in group {
                let _ = writeln!(out, "    {line}  (fingerprint {})", item.fingerprint);
            }
        }
        out.push('\n');
    }
    for note in rename_notes(plan) {
        let _ = writeln!(out, "{}", escape(&note));
    }
    out + &summary(plan) + "\n"
}

pub fn json(plan: &Plan, keys: &Keys) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        drift: bool,
        summary: Counts<6>,
        merchants: Vec<Merchant<'a>>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Merchant<'a> {
        merchant: &'a str,
        items: Vec<Item<'a>>,
        summary: Counts<6>,
        #[serde(skip_serializing_if = "<[_]>::is_empty")]
        renames_applied: &'a [RenameApplied],
    }
    let merchants = (plan.merchants.iter())
        .map(|m| Merchant {
            merchant: &m.merchant,
            items: items(m, keys),
            summary: counts([m]),
            renames_applied: &m.renames_applied,
        })
        .collect();
    pretty(&Doc {
        format_version: FORMAT_VERSION,
        drift: plan.has_changes(),
        summary: counts(&plan.merchants),
        merchants,
    })
}

/// Markdown drift report of at most `limit` bytes.
pub fn markdown(plan: &Plan, limit: usize, keys: &Keys) -> String {
    let mut doc = Doc::new("invhooks drift", limit);
    doc.head(&format!("**{}**\n\n", summary(plan)));
    let notes: Vec<String> = rename_notes(plan)
        .map(|n| format!("- {}\n", code_text(&n)))
        .collect();
    if !notes.is_empty() {
        doc.head_fit(&notes, |n| format!("| _{n} more note(s) not listed_ |\n"));
        doc.head("\n");
    }
    let drifted: Vec<&MerchantPlan> = (plan.merchants.iter())
        .filter(|m| !m.changes.is_empty() || !m.unmanaged.is_empty())
        .collect();
    if !drifted.is_empty() {
        let head =
            "| merchant | changed URL | missing | unmanaged | duplicate |\n|---|---:|---:|---:|---:|\n";
        doc.counts(head, drifted.iter().copied(), |m| counts([m]).1[..4].to_vec());
    }
    if plan.has_changes() {
        doc.head(
            "`invhooks apply` restores what the manifest declares; to keep a hand-made change, \
             put it in the manifest instead. Fingerprints stay the same while a drift item is \
             unchanged.\n\n",
        );
    }
    for m in drifted {
        let header = format!(
            "#### {}\n\n| kind | topic | name | id | live URL | manifest URL | fingerprint |\n|---|---|---|---|---|---|---|\n",
            code_text(&m.merchant)
        );
        let mut items = items(m, keys);
        items.sort_by_key(|i| i.kind);
        let cell = |v: Option<&str>| v.map(code).unwrap_or_default();
        let rows: Vec<String> = (items.iter())
            .map(|i| {
                let (live, manifest) = (&i.live_callback_url, &i.manifest_callback_url);
                let [id, live, manifest] = [i.id.as_deref(), live.as_deref(), manifest.as_deref()].map(cell);
                let (kind, topic, name) = (i.kind.title().to_owned(), code(&i.topic), code(&i.name));
                row(&[kind, topic, name, id, live, manifest, code(&i.fingerprint)])
            })
            .collect();
        doc.table(&header, &rows);
    }
    doc.finish("drift items", "Run `invhooks drift` for the full list.")
}
