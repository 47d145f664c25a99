//! The drift report: a plan seen as what changed by hand, grouped by kind
//! (changed callback URLs, missing, unmanaged, duplicates), in text, JSON
//! and Markdown. Pure, secrets masked.
//!
//! Every drift item carries a [`fingerprint`]: 16 hex digits of SHA-256 over
//! the merchant, kind, topic, name, id and both callback URLs (real values,
//! hashed, never shown). The same drift gives the same fingerprint on every
//! run, so an alerting job can tell new drift from drift it already
//! reported; any change to the item (another URL, a new id) gives a new one.

use std::fmt::Write;

use serde::Serialize;

use super::json::{pretty, FORMAT_VERSION};
use super::markdown::{code, code_text, Doc, GITHUB_COMMENT_LIMIT};
use super::text::{change_line, unmanaged_line};
use super::view::LiveView;
use crate::plan::{Action, Change, MerchantPlan, Plan};
use crate::secret::{Keys, Masked};

/// The kinds of drift, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Declared and live, but the live callback URL differs.
    ChangedUrl,
    /// Declared but not live.
    Missing,
    /// Live but not declared (deleted by apply when `prune`, else kept).
    Unmanaged,
    /// Extra live copies of a declared subscription.
    Duplicate,
}

impl Kind {
    const ALL: [Kind; 4] = [Kind::ChangedUrl, Kind::Missing, Kind::Unmanaged, Kind::Duplicate];

    /// The name used in JSON and in fingerprints.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::ChangedUrl => "changed_url",
            Kind::Missing => "missing",
            Kind::Unmanaged => "unmanaged",
            Kind::Duplicate => "duplicate",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Kind::ChangedUrl => "changed callback URLs",
            Kind::Missing => "missing subscriptions",
            Kind::Unmanaged => "unmanaged subscriptions",
            Kind::Duplicate => "duplicate subscriptions",
        }
    }

    fn of(change: &Change) -> Kind {
        match change.action() {
            Action::Update => Kind::ChangedUrl,
            Action::Create => Kind::Missing,
            Action::Delete if change.is_duplicate() => Kind::Duplicate,
            Action::Delete => Kind::Unmanaged,
        }
    }
}

/// One drifted subscription (keys and URL secrets masked).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Item<'a> {
    kind: Kind,
    topic: Masked<'a>,
    name: Masked<'a>,
    id: Option<Masked<'a>>,
    live_callback_url: Option<Masked<'static>>,
    manifest_callback_url: Option<Masked<'static>>,
    fingerprint: String,
}

/// The stable identity of one drift item: the first 16 hex digits of
/// SHA-256 over a JSON array of a version tag, the merchant label, the kind
/// ([`Kind::as_str`]), topic, name, id (or null), and the live and manifest
/// callback URLs (real values, or null).
pub fn fingerprint(
    merchant: &str,
    kind: Kind,
    topic: &str,
    name: &str,
    id: Option<&str>,
    live_url: Option<&str>,
    manifest_url: Option<&str>,
) -> String {
    let parts = (
        "invhooks-drift-v1",
        merchant,
        kind.as_str(),
        topic,
        name,
        id,
        live_url,
        manifest_url,
    );
    // A tuple of strings and options always serialises.
    let json = serde_json::to_string(&parts).unwrap_or_default();
    let digest = crate::digest::sha256(json.as_bytes());
    digest.trim_start_matches("sha256:")[..16].to_owned()
}

fn items<'a>(m: &'a MerchantPlan, keys: &Keys) -> Vec<Item<'a>> {
    let mut items: Vec<Item> = m
        .changes
        .iter()
        .map(|c| {
            let live = c.before().map(|f| f.callback_url.as_str());
            let wanted = c.after().map(|f| f.callback_url.as_str());
            let kind = Kind::of(c);
            let mask = |url: &str| Masked::url(url, c.masking(), keys);
            Item {
                kind,
                topic: Masked::text(c.topic(), keys),
                name: Masked::text(c.name(), keys),
                id: c.id().map(|id| Masked::text(id, keys)),
                live_callback_url: live.map(mask),
                manifest_callback_url: wanted.map(mask),
                fingerprint: fingerprint(&m.merchant, kind, c.topic(), c.name(), c.id(), live, wanted),
            }
        })
        .collect();
    items.extend(m.unmanaged.iter().map(|s| {
        let v = LiveView::of(s, keys);
        Item {
            kind: Kind::Unmanaged,
            topic: v.topic,
            name: v.name,
            id: Some(v.id),
            live_callback_url: Some(v.url),
            manifest_callback_url: None,
            fingerprint: fingerprint(
                &m.merchant,
                Kind::Unmanaged,
                &s.topic,
                &s.name,
                Some(&s.id),
                Some(&s.callback_url),
                None,
            ),
        }
    }));
    items
}

/// The drift report's counts (JSON `summary`): items of each kind, and
/// the subscriptions in sync (`unchanged`) or matched by `ignore:`.
#[derive(Debug, Clone, Copy, Default, Serialize)]
struct Counts {
    changed_url: usize,
    missing: usize,
    unmanaged: usize,
    duplicate: usize,
    unchanged: usize,
    ignored: usize,
}

impl Counts {
    fn of(m: &MerchantPlan, items: &[Item<'_>]) -> Counts {
        let n = |kind: Kind| items.iter().filter(|i| i.kind == kind).count();
        Counts {
            changed_url: n(Kind::ChangedUrl),
            missing: n(Kind::Missing),
            unmanaged: n(Kind::Unmanaged),
            duplicate: n(Kind::Duplicate),
            unchanged: m.summary.unchanged,
            ignored: m.summary.ignored,
        }
    }

    fn add(self, o: Counts) -> Counts {
        Counts {
            changed_url: self.changed_url + o.changed_url,
            missing: self.missing + o.missing,
            unmanaged: self.unmanaged + o.unmanaged,
            duplicate: self.duplicate + o.duplicate,
            unchanged: self.unchanged + o.unchanged,
            ignored: self.ignored + o.ignored,
        }
    }
}

fn counts(plan: &Plan) -> Counts {
    plan.merchants
        .iter()
        .map(|m| Counts::of(m, &items(m, &Keys::none())))
        .fold(Counts::default(), Counts::add)
}

/// The summary sentence. Drift is anything `apply` would change; unmanaged
/// subscriptions kept by `prune: false` are listed but are not drift.
fn summary(plan: &Plan) -> String {
    if !plan.has_changes() {
        return "No drift. Live subscriptions match the manifest.".to_owned();
    }
    let c = counts(plan);
    format!(
        "Drift: {} changed, {} missing, {} unmanaged, {} duplicate.",
        c.changed_url, c.missing, c.unmanaged, c.duplicate
    )
}

/// The notes on renames already applied, one line each (README "Renames"):
/// not drift, a reminder that `renamedFrom` can go.
fn rename_notes(plan: &Plan) -> Vec<String> {
    plan.merchants
        .iter()
        .flat_map(|m| {
            m.renames_applied.iter().map(move |r| {
                format!(
                    "note: merchant {}: rename of `{} {}` to `{}` applied, `renamedFrom: {}` can go ({})",
                    m.merchant, r.key.topic, r.from, r.key.name, r.from, r.location
                )
            })
        })
        .collect()
}

/// Text drift report, `keys` and URL secrets masked.
pub fn text(plan: &Plan, color: bool, keys: &Keys) -> String {
    let mut out = String::new();
    for m in plan
        .merchants
        .iter()
        .filter(|m| !m.changes.is_empty() || !m.unmanaged.is_empty())
    {
        let _ = writeln!(out, "merchant {}", crate::escape::escape(&m.merchant));
        let items = items(m, keys);
        let mut lines: Vec<(Kind, String, &str)> = m
            .changes
            .iter()
            .zip(&items)
            .map(|(c, i)| (i.kind, change_line(c, color, keys), i.fingerprint.as_str()))
            .collect();
        lines.extend(
            m.unmanaged
                .iter()
                .zip(&items[m.changes.len()..])
                .map(|(s, i)| (i.kind, unmanaged_line(s, color, keys), i.fingerprint.as_str())),
        );
        for kind in Kind::ALL {
            let of_kind: Vec<_> = lines.iter().filter(|(k, _, _)| *k == kind).collect();
            if of_kind.is_empty() {
                continue;
            }
            let _ = writeln!(out, "  {} ({}):", kind.title(), of_kind.len());
            for (_, line, fp) in of_kind {
                let _ = writeln!(out, "    {line}  (fingerprint {fp})");
            }
        }
        out.push('\n');
    }
    for note in rename_notes(plan) {
        let _ = writeln!(out, "{}", crate::escape::escape(&note));
    }
    out.push_str(&summary(plan));
    out.push('\n');
    out
}

/// JSON drift report, `keys` and URL secrets masked.
pub fn json(plan: &Plan, keys: &Keys) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        drift: bool,
        summary: Counts,
        merchants: Vec<Merchant<'a>>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Merchant<'a> {
        merchant: &'a str,
        items: Vec<Item<'a>>,
        summary: Counts,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        renames_applied: Vec<Rename<'a>>,
    }
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Rename<'a> {
        topic: &'a str,
        name: &'a str,
        renamed_from: &'a str,
        line: usize,
    }
    let doc = Doc {
        format_version: FORMAT_VERSION,
        drift: plan.has_changes(),
        summary: counts(plan),
        merchants: plan
            .merchants
            .iter()
            .map(|m| (m, items(m, keys)))
            .map(|(m, items)| Merchant {
                merchant: &m.merchant,
                summary: Counts::of(m, &items),
                items,
                renames_applied: m
                    .renames_applied
                    .iter()
                    .map(|r| Rename {
                        topic: &r.key.topic,
                        name: &r.key.name,
                        renamed_from: &r.from,
                        line: r.location.line,
                    })
                    .collect(),
            })
            .collect(),
    };
    pretty(&doc)
}

/// Markdown drift report of at most `limit` bytes (for an issue body or a
/// step summary): the summary and counts per merchant first, then one table
/// per merchant, cut to fit, never the summary.
pub fn markdown(plan: &Plan, limit: usize, keys: &Keys) -> String {
    let mut doc = Doc::new("invhooks drift", limit);
    doc.head(&format!("**{}**\n\n", summary(plan)));
    let notes: Vec<String> = rename_notes(plan)
        .iter()
        .map(|n| format!("- {}\n", code_text(n)))
        .collect();
    if !notes.is_empty() {
        doc.head_rows(&notes, "note(s)");
        doc.head("\n");
    }
    let per_merchant: Vec<(&MerchantPlan, Vec<Item>)> = plan
        .merchants
        .iter()
        .map(|m| (m, items(m, keys)))
        .filter(|(_, items)| !items.is_empty())
        .collect();
    if !per_merchant.is_empty() {
        doc.head("| merchant | changed URL | missing | unmanaged | duplicate |\n|---|---:|---:|---:|---:|\n");
        let rows: Vec<String> = per_merchant
            .iter()
            .map(|(m, items)| {
                let c = Counts::of(m, items);
                format!(
                    "| {} | {} | {} | {} | {} |\n",
                    code(&m.merchant),
                    c.changed_url,
                    c.missing,
                    c.unmanaged,
                    c.duplicate
                )
            })
            .collect();
        doc.head_rows(&rows, "merchant(s)");
        doc.head("\n");
    }
    if plan.has_changes() {
        doc.head(
            "`invhooks apply` restores what the manifest declares; to keep a hand-made change, \
             put it in the manifest instead. Fingerprints stay the same while a drift item is \
             unchanged.\n\n",
        );
    }
    for (m, items) in &per_merchant {
        let header = format!(
            "#### {}\n\n| kind | topic | name | id | live URL | manifest URL | fingerprint |\n|---|---|---|---|---|---|---|\n",
            code_text(&m.merchant)
        );
        let mut rows = Vec::with_capacity(items.len());
        for kind in Kind::ALL {
            for i in items.iter().filter(|i| i.kind == kind) {
                rows.push(format!(
                    "| {} | {} | {} | {} | {} | {} | `{}` |\n",
                    kind.title(),
                    code(&i.topic),
                    code(&i.name),
                    i.id.as_deref().map(code).unwrap_or_default(),
                    i.live_callback_url.as_deref().map(code).unwrap_or_default(),
                    i.manifest_callback_url.as_deref().map(code).unwrap_or_default(),
                    i.fingerprint
                ));
            }
        }
        doc.table(&header, &rows);
    }
    doc.finish("drift items", "Run `invhooks drift` for the full list.")
}

/// [`markdown`] within GitHub's comment limit.
pub fn markdown_for_github(plan: &Plan, keys: &Keys) -> String {
    markdown(plan, GITHUB_COMMENT_LIMIT, keys)
}
