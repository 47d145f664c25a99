//! The drift report: a plan read as what changed by hand, by kind. An item's
//! fingerprint (of its real values) stays while it is unchanged, so an
//! alerting job tells new drift from old.

use std::fmt::Write;

use serde::Serialize;

use super::json::{object, pretty, Counts, FORMAT_VERSION};
use super::markdown::{code, code_text, row, Doc};
use super::text::{change_line, unmanaged_line};
use super::view::ChangeView;
use crate::digest::sha256_json;
use crate::escape::escape;
use crate::plan::{Action, Change, MerchantPlan, Plan};
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
struct Item {
    kind: DriftKind,
    topic: String,
    name: String,
    id: Option<String>,
    live_callback_url: Option<String>,
    manifest_callback_url: Option<String>,
    fingerprint: String,
}

/// A merchant's drift items: its changes, then its unmanaged subscriptions,
/// each read as the delete `prune: true` would make.
fn items(m: &MerchantPlan, keys: &Keys) -> Vec<Item> {
    let unmanaged: Vec<Change> = m.unmanaged.iter().map(|s| Change::delete(s, false)).collect();
    let item = |c: &Change| {
        let (kind, v) = (DriftKind::of(c), ChangeView::of(c, keys));
        // The drift fingerprint (docs/plan-json.md), over the real values.
        let real = (
            "invhooks-drift-v1",
            &m.merchant,
            kind,
            c.topic(),
            c.name(),
            c.id(),
            c.before().map(|f| f.callback_url.as_str()),
            c.after().map(|f| f.callback_url.as_str()),
        );
        Item {
            kind,
            topic: v.topic.into_string(),
            name: v.name.into_string(),
            id: v.id.map(Masked::into_string),
            live_callback_url: v.before.map(|f| f.callback_url.into_string()),
            manifest_callback_url: v.after.map(|f| f.callback_url.into_string()),
            fingerprint: sha256_json(&real)["sha256:".len()..][..16].to_owned(),
        }
    };
    m.changes.iter().chain(&unmanaged).map(item).collect()
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
            let (merchant, topic, from, name, at) = (&m.merchant, &r.topic, &r.from, &r.name, &r.location);
            format!("note: merchant {merchant}: rename of `{topic} {from}` to `{name}` applied, `renamedFrom: {from}` can go ({at})")
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
    let merchants = plan.merchants.iter().map(|m| {
        object! {
            merchant: &m.merchant,
            items: items(m, keys),
            summary: counts([m]),
            // `renamesApplied` only when there are some.
            #[serde(flatten)]
            renames: (!m.renames_applied.is_empty()).then(|| object! { renamesApplied: &m.renames_applied }),
        }
    });
    pretty(&object! {
        format_version: FORMAT_VERSION,
        drift: plan.has_changes(),
        summary: counts(&plan.merchants),
        merchants: merchants.collect::<Vec<_>>(),
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
