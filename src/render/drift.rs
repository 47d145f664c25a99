//! The drift report: a plan seen as what changed by hand, grouped by kind
//! (changed callback URLs, missing, unmanaged, duplicates), in text, JSON
//! and Markdown. Pure, secrets masked.

use std::fmt::Write;

use serde::Serialize;

use super::json::FORMAT_VERSION;
use super::text::change_line;
use crate::plan::{Action, Change, MerchantPlan, Plan};
use crate::secret::mask_url;

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

    fn title(self) -> &'static str {
        match self {
            Kind::ChangedUrl => "changed callback URLs",
            Kind::Missing => "missing subscriptions",
            Kind::Unmanaged => "unmanaged subscriptions",
            Kind::Duplicate => "duplicate subscriptions",
        }
    }

    fn of(change: &Change) -> Kind {
        match change.action {
            Action::Update => Kind::ChangedUrl,
            Action::Create => Kind::Missing,
            Action::Delete if change.duplicate => Kind::Duplicate,
            Action::Delete => Kind::Unmanaged,
        }
    }
}

/// One drifted subscription.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
struct Item {
    kind: Kind,
    topic: String,
    name: String,
    id: Option<String>,
    live_callback_url: Option<String>,
    manifest_callback_url: Option<String>,
}

fn items(m: &MerchantPlan) -> Vec<Item> {
    let mut items: Vec<Item> = m
        .changes
        .iter()
        .map(|c| Item {
            kind: Kind::of(c),
            topic: c.topic.clone(),
            name: c.name.clone(),
            id: c.id.clone(),
            live_callback_url: c.before.as_ref().map(|f| mask_url(&f.callback_url)),
            manifest_callback_url: c.after.as_ref().map(|f| mask_url(&f.callback_url)),
        })
        .collect();
    items.extend(m.unmanaged.iter().map(|s| Item {
        kind: Kind::Unmanaged,
        topic: s.topic.clone(),
        name: s.name.clone(),
        id: Some(s.id.clone()),
        live_callback_url: Some(mask_url(&s.callback_url)),
        manifest_callback_url: None,
    }));
    items
}

fn counts(plan: &Plan) -> [usize; 4] {
    let mut counts = [0; 4];
    for m in &plan.merchants {
        for item in items(m) {
            counts[Kind::ALL.iter().position(|k| *k == item.kind).unwrap_or(0)] += 1;
        }
    }
    counts
}

/// Whether the plan shows drift: anything `apply` would change. Unmanaged
/// subscriptions kept by `prune: false` are listed but are not drift.
pub fn has_drift(plan: &Plan) -> bool {
    plan.has_changes()
}

fn summary(plan: &Plan) -> String {
    if !has_drift(plan) {
        return "No drift. Live subscriptions match the manifest.".to_owned();
    }
    let [changed, missing, unmanaged, duplicate] = counts(plan);
    format!("Drift: {changed} changed, {missing} missing, {unmanaged} unmanaged, {duplicate} duplicate.")
}

/// Text drift report.
pub fn text(plan: &Plan, color: bool) -> String {
    let mut out = String::new();
    for m in plan
        .merchants
        .iter()
        .filter(|m| !m.changes.is_empty() || !m.unmanaged.is_empty())
    {
        let _ = writeln!(out, "merchant {}", m.merchant);
        for kind in Kind::ALL {
            let changes: Vec<&Change> = m.changes.iter().filter(|c| Kind::of(c) == kind).collect();
            let kept = if kind == Kind::Unmanaged {
                m.unmanaged.len()
            } else {
                0
            };
            if changes.is_empty() && kept == 0 {
                continue;
            }
            let _ = writeln!(out, "  {} ({}):", kind.title(), changes.len() + kept);
            for c in changes {
                let _ = writeln!(out, "    {}", change_line(c, color));
            }
            if kind == Kind::Unmanaged {
                for s in &m.unmanaged {
                    let _ = writeln!(
                        out,
                        "    ? {} {} [{}]  {} (kept: prune is off)",
                        s.topic,
                        s.name,
                        s.id,
                        mask_url(&s.callback_url)
                    );
                }
            }
        }
        out.push('\n');
    }
    out.push_str(&summary(plan));
    out.push('\n');
    out
}

/// JSON drift report.
pub fn json(plan: &Plan) -> String {
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        drift: bool,
        merchants: Vec<Merchant<'a>>,
    }
    #[derive(Serialize)]
    struct Merchant<'a> {
        merchant: &'a str,
        items: Vec<Item>,
    }
    let doc = Doc {
        format_version: FORMAT_VERSION,
        drift: has_drift(plan),
        merchants: plan
            .merchants
            .iter()
            .map(|m| Merchant {
                merchant: &m.merchant,
                items: items(m),
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

/// Markdown drift report (for an issue body or a step summary).
pub fn markdown(plan: &Plan) -> String {
    let mut out = format!("### invhooks drift\n\n**{}**\n\n", summary(plan));
    for m in &plan.merchants {
        let items = items(m);
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "#### {}\n\n| kind | topic | name | id | live URL | manifest URL |\n|---|---|---|---|---|---|",
            m.merchant
        );
        for kind in Kind::ALL {
            for i in items.iter().filter(|i| i.kind == kind) {
                let _ = writeln!(
                    out,
                    "| {} | `{}` | `{}` | {} | {} | {} |",
                    kind.title(),
                    i.topic.replace('|', "\\|"),
                    i.name.replace('|', "\\|"),
                    i.id.as_deref().unwrap_or(""),
                    i.live_callback_url
                        .as_deref()
                        .map(|u| format!("`{}`", u.replace('|', "\\|")))
                        .unwrap_or_default(),
                    i.manifest_callback_url
                        .as_deref()
                        .map(|u| format!("`{}`", u.replace('|', "\\|")))
                        .unwrap_or_default(),
                );
            }
        }
        out.push('\n');
    }
    out
}
