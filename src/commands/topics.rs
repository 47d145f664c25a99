//! `invhooks topics` and `invhooks schema`: what a manifest may say.

use serde::Serialize;

use super::Context;
use crate::cli::TextOrJson;
use crate::exit::Exit;
use crate::manifest;
use crate::render::json::{pretty, FORMAT_VERSION};
use crate::topic::Topic;

/// Runs `topics`: every documented topic with what fires it.
pub fn topics(ctx: &Context, format: TextOrJson) -> Exit {
    #[derive(Serialize)]
    struct Report {
        format_version: &'static str,
        topics: Vec<Entry>,
    }
    #[derive(Serialize)]
    struct Entry {
        topic: &'static str,
        description: &'static str,
    }
    let width = Topic::ALL.iter().map(|t| t.as_str().len()).max().unwrap_or(0);
    let text: String = match format {
        TextOrJson::Text => Topic::ALL
            .iter()
            .map(|t| format!("{:width$}  {}\n", t.as_str(), t.description()))
            .collect(),
        TextOrJson::Json => pretty(&Report {
            format_version: FORMAT_VERSION,
            topics: Topic::ALL
                .iter()
                .map(|t| Entry {
                    topic: t.as_str(),
                    description: t.description(),
                })
                .collect(),
        }),
    };
    ctx.out(&text);
    Exit::Success
}

/// Runs `schema`: the manifest's JSON Schema.
pub fn schema(ctx: &Context) -> anyhow::Result<Exit> {
    let schema = serde_json::to_string_pretty(&manifest::schema())?;
    ctx.out(&format!("{schema}\n"));
    Ok(Exit::Success)
}
