//! `invhooks topics`: the topics a manifest may name.

use serde::Serialize;

use super::Context;
use crate::cli::TextOrJson;
use crate::exit::Exit;
use crate::render::json::{pretty, FORMAT_VERSION};
use crate::topic::Topic;

/// Runs `topics`: every documented topic with what fires it.
pub fn topics(ctx: &Context, format: TextOrJson) -> Exit {
    #[derive(Serialize)]
    struct Entry {
        topic: &'static str,
        description: &'static str,
    }
    let entries = Topic::ALL.iter().map(|t| Entry {
        topic: t.as_str(),
        description: t.description(),
    });
    let width = Topic::ALL.iter().map(|t| t.as_str().len()).max().unwrap_or(0);
    ctx.out(&match format {
        TextOrJson::Text => entries
            .map(|e| format!("{:width$}  {}\n", e.topic, e.description))
            .collect(),
        TextOrJson::Json => {
            let topics: Vec<Entry> = entries.collect();
            pretty(&serde_json::json!({ "format_version": FORMAT_VERSION, "topics": topics }))
        }
    });
    Exit::Success
}
