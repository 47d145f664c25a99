//! The JSON plan (`docs/plan-json.md`), secrets in URLs masked. The keys are
//! public interface: `format_version` changes when any key changes meaning.

use serde::Serialize;

use super::view::LiveView;
use crate::plan::{Action, Change, Fields, Plan, Summary};
use crate::secret::{Keys, Masked, Masking};

/// Version of the JSON plan's shape.
pub const FORMAT_VERSION: &str = "1";

#[derive(Serialize)]
struct JsonPlan<'a> {
    format_version: &'static str,
    merchants: Vec<JsonMerchant<'a>>,
}

#[derive(Serialize)]
struct JsonMerchant<'a> {
    merchant: &'a str,
    changes: Vec<JsonChange<'a>>,
    summary: Summary,
    unmanaged: Vec<JsonUnmanaged<'a>>,
    warnings: Vec<String>,
}

/// One change as the JSON plan shows it (keys and URL secrets masked).
#[derive(Serialize)]
pub(crate) struct JsonChange<'a> {
    action: Action,
    topic: Masked<'a>,
    name: Masked<'a>,
    id: Option<Masked<'a>>,
    before: Option<JsonFields<'a>>,
    after: Option<JsonFields<'a>>,
    duplicate: bool,
}

/// [`Fields`] as the JSON plan shows them: the switch `maskPathSecrets`
/// is not part of it (its keys stay `topic`, `name`, `callbackUrl`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonFields<'a> {
    topic: Masked<'a>,
    name: Masked<'a>,
    callback_url: Masked<'static>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonUnmanaged<'a> {
    id: Masked<'a>,
    topic: Masked<'a>,
    name: Masked<'a>,
    callback_url: Masked<'static>,
}

/// `fields` masked, the URL as `masking` says.
fn masked<'a>(fields: Option<&'a Fields>, masking: Masking, keys: &Keys) -> Option<JsonFields<'a>> {
    fields.map(|f| JsonFields {
        topic: Masked::text(&f.topic, keys),
        name: Masked::text(&f.name, keys),
        callback_url: Masked::url(&f.callback_url, masking, keys),
    })
}

/// The JSON view of a change, keys and URL secrets masked.
pub(crate) fn change<'a>(c: &'a Change, keys: &Keys) -> JsonChange<'a> {
    JsonChange {
        action: c.action(),
        topic: Masked::text(c.topic(), keys),
        name: Masked::text(c.name(), keys),
        id: c.id().map(|id| Masked::text(id, keys)),
        before: masked(c.before(), c.masking(), keys),
        after: masked(c.after(), c.masking(), keys),
        duplicate: c.is_duplicate(),
    }
}

/// `value` as pretty JSON with a trailing newline: every JSON output's form.
pub fn pretty(value: &impl Serialize) -> String {
    // The documents are plain structs of strings, numbers and options,
    // which always serialise.
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// Renders a plan as pretty JSON with a trailing newline, `keys` and URL
/// secrets masked.
pub fn render(plan: &Plan, keys: &Keys) -> String {
    let doc = JsonPlan {
        format_version: FORMAT_VERSION,
        merchants: plan
            .merchants
            .iter()
            .map(|m| JsonMerchant {
                merchant: &m.merchant,
                changes: m.changes.iter().map(|c| change(c, keys)).collect(),
                summary: m.summary,
                unmanaged: m
                    .unmanaged
                    .iter()
                    .map(|s| {
                        let v = LiveView::of(s, keys);
                        JsonUnmanaged {
                            id: v.id,
                            topic: v.topic,
                            name: v.name,
                            callback_url: v.url,
                        }
                    })
                    .collect(),
                warnings: m.safety.iter().map(|t| t.to_string()).collect(),
            })
            .collect(),
    };
    pretty(&doc)
}
