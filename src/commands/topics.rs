//! `invhooks topics` and `invhooks schema`: what a manifest may say.

use super::Context;
use crate::exit::Exit;
use crate::manifest;
use crate::topic::Topic;

/// Runs `topics`: every documented topic with what fires it.
pub fn topics(ctx: &Context) -> Exit {
    let width = Topic::ALL.iter().map(|t| t.as_str().len()).max().unwrap_or(0);
    let text: String = Topic::ALL
        .iter()
        .map(|t| format!("{:width$}  {}\n", t.as_str(), t.description()))
        .collect();
    ctx.out(&text);
    Exit::Success
}

/// Runs `schema`: the manifest's JSON Schema.
pub fn schema(ctx: &Context) -> anyhow::Result<Exit> {
    let schema = serde_json::to_string_pretty(&manifest::schema())?;
    ctx.out(&format!("{schema}\n"));
    Ok(Exit::Success)
}
