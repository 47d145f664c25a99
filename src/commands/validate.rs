//! `invhooks validate`: the manifest checks, offline (`--format json`: docs/plan-json.md
//! "Validate report"); `invhooks topics`: the topics a manifest may name.

use super::fetch::{load, validated};
use super::Context;
use crate::cli::{TextOrJson, ValidateArgs};
use crate::exit::Exit;
use crate::render::json::{object, pretty, FORMAT_VERSION};
use crate::topic::TOPICS;

pub fn run(ctx: &Context, args: &ValidateArgs) -> anyhow::Result<Exit> {
    let files = &args.manifests.files;
    if args.format == TextOrJson::Json {
        return Ok(json(ctx, validated(ctx, files, false)));
    }
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    for m in load(ctx, files, false)? {
        let (file, label, prune) = (m.file.display(), &m.label, if m.prune { "on" } else { "off" });
        let (subs, rules) = (m.subscriptions.len(), m.ignore.len());
        let (s, r) = (plural(subs), plural(rules));
        ctx.out(&format!(
            "ok: {file} (merchant `{label}`): {subs} subscription{s}, {rules} ignore rule{r}, prune {prune}\n"
        ));
    }
    Ok(Exit::Success)
}

/// The JSON report on stdout (annotations too on GitHub Actions); exit 1 on a problem.
fn json(
    ctx: &Context,
    result: Result<Vec<crate::model::MerchantManifest>, crate::manifest::Diagnostics>,
) -> Exit {
    let (manifests, problems) = match &result {
        Ok(manifests) => (manifests.as_slice(), &[][..]),
        Err(d) => {
            ctx.annotations(|w, cwd| crate::render::github::diagnostics(&d.0, w, cwd));
            (&[][..], d.0.as_slice())
        }
    };
    let merchants = manifests.iter().map(|m| m.label.as_str());
    ctx.out(&pretty(&object! {
        format_version: FORMAT_VERSION,
        ok: result.is_ok(),
        merchants: merchants.collect::<Vec<_>>(),
        problems: problems,
    }));
    Exit::Error.when(result.is_err())
}

/// Runs `topics`: every documented topic with what fires it.
pub fn topics(ctx: &Context, format: TextOrJson) -> Exit {
    let entries = TOPICS.iter().copied();
    let width = TOPICS.iter().map(|(topic, _)| topic.len()).max().unwrap_or(0);
    ctx.out(&match format {
        TextOrJson::Text => entries.map(|(t, d)| format!("{t:width$}  {d}\n")).collect(),
        TextOrJson::Json => {
            // `description` first, as `serde_json::json!` (sorted keys) wrote it.
            let topics = entries.map(|(t, d)| object! { description: d, topic: t });
            pretty(&object! { format_version: FORMAT_VERSION, topics: topics.collect::<Vec<_>>() })
        }
    });
    Exit::Success
}
