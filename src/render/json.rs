//! The JSON plan (`docs/plan-json.md`): the views of [`super::view`] as they
//! are. Its keys are public interface: `format_version` changes with them.

use serde::Serialize;

use super::view::{ChangeView, LiveView};
use crate::plan::Plan;
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

/// A JSON object made in place, keys in the order written, each said once
/// (`serde_json::json!` would sort them): a struct whose field types are
/// generics named after the keys. Field attributes are serde's.
macro_rules! object {
    ($($(#[$attr:meta])* $key:ident: $value:expr),* $(,)?) => {{
        #[allow(non_camel_case_types, non_snake_case)]
        mod object {
            #[derive(serde::Serialize)]
            pub struct Object<$($key),*> {
                $($(#[$attr])* pub $key: $key,)*
            }
        }
        object::Object { $($key: $value),* }
    }};
}
pub(crate) use object;

pub fn render(plan: &Plan, keys: &Keys) -> String {
    let merchants = (plan.merchants.iter()).map(|m| {
        object! {
            merchant: &m.merchant,
            changes: m.changes.iter().map(|c| ChangeView::of(c, keys)).collect::<Vec<_>>(),
            summary: m.summary,
            unmanaged: m.unmanaged.iter().map(|s| LiveView::of(s, keys)).collect::<Vec<_>>(),
            warnings: m.safety.iter().map(ToString::to_string).collect::<Vec<_>>(),
        }
    });
    pretty(&object! {
        format_version: FORMAT_VERSION,
        merchants: merchants.collect::<Vec<_>>(),
    })
}
