//! The JSON plan (`docs/plan-json.md`): the views of [`super::view`] as they
//! are. Its keys are public interface: `format_version` changes with them.

use serde::Serialize;

use super::view::{ChangeView, LiveView};
use crate::plan::{Plan, Summary};
use crate::secret::Keys;

pub const FORMAT_VERSION: &str = "1";

/// `value` as pretty JSON with a trailing newline: every JSON output's form.
pub fn pretty(value: &impl Serialize) -> String {
    // Plain structs of strings, numbers and options always serialise.
    serde_json::to_string_pretty(value).unwrap_or_default() + "\n"
}

/// Counts under their names (space-separated): a JSON object, keys in order.
#[derive(Debug)]
pub struct Counts<const N: usize>(pub &'static str, pub [usize; N]);

impl<const N: usize> Serialize for Counts<N> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.split(' ').zip(self.1))
    }
}

pub fn render(plan: &Plan, keys: &Keys) -> String {
    #[derive(Serialize)]
    struct Merchant<'a> {
        merchant: &'a str,
        changes: Vec<ChangeView<'a>>,
        summary: Summary,
        unmanaged: Vec<LiveView<'a>>,
        warnings: Vec<String>,
    }
    #[derive(Serialize)]
    struct Doc<'a> {
        format_version: &'static str,
        merchants: Vec<Merchant<'a>>,
    }
    let merchants = (plan.merchants.iter()).map(|m| Merchant {
        merchant: &m.merchant,
        changes: m.changes.iter().map(|c| ChangeView::of(c, keys)).collect(),
        summary: m.summary,
        unmanaged: m.unmanaged.iter().map(|s| LiveView::of(s, keys)).collect(),
        warnings: m.safety.iter().map(ToString::to_string).collect(),
    });
    pretty(&Doc {
        format_version: FORMAT_VERSION,
        merchants: merchants.collect(),
    })
}
