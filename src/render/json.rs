//! The JSON plan (`docs/plan-json.md`), secrets in URLs masked. The keys are
//! public interface: `format_version` changes when any key changes meaning.

use serde::Serialize;

use crate::plan::{Action, Change, Fields, Plan, Summary};
use crate::secret::{mask_url, mask_url_with, Masking};

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

/// One change as the JSON plan shows it (URLs masked).
#[derive(Serialize)]
pub(crate) struct JsonChange<'a> {
    action: Action,
    topic: &'a str,
    name: &'a str,
    id: Option<&'a str>,
    before: Option<Fields>,
    after: Option<Fields>,
    duplicate: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonUnmanaged<'a> {
    id: &'a str,
    topic: &'a str,
    name: &'a str,
    callback_url: String,
}

/// `fields` with the URL masked as `masking` says. The switch itself is
/// not part of the JSON plan (its keys stay `topic`, `name`, `callbackUrl`).
fn masked(fields: Option<&Fields>, masking: Masking) -> Option<Fields> {
    fields.map(|f| Fields {
        callback_url: mask_url_with(&f.callback_url, masking),
        masking: Masking::Full,
        ..f.clone()
    })
}

/// The JSON view of a change, URLs masked.
pub(crate) fn change(c: &Change) -> JsonChange<'_> {
    JsonChange {
        action: c.action(),
        topic: c.topic(),
        name: c.name(),
        id: c.id(),
        before: masked(c.before(), c.masking()),
        after: masked(c.after(), c.masking()),
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

/// Renders a plan as pretty JSON with a trailing newline.
pub fn render(plan: &Plan) -> String {
    let doc = JsonPlan {
        format_version: FORMAT_VERSION,
        merchants: plan
            .merchants
            .iter()
            .map(|m| JsonMerchant {
                merchant: &m.merchant,
                changes: m.changes.iter().map(change).collect(),
                summary: m.summary,
                unmanaged: m
                    .unmanaged
                    .iter()
                    .map(|s| JsonUnmanaged {
                        id: &s.id,
                        topic: &s.topic,
                        name: &s.name,
                        callback_url: mask_url(&s.callback_url),
                    })
                    .collect(),
                warnings: m.safety.iter().map(|t| t.to_string()).collect(),
            })
            .collect(),
    };
    pretty(&doc)
}
