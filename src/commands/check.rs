//! `invhooks check` (docs/commands/check.md): probe every distinct callback URL,
//! no key, no API request; `plan --check-callbacks` and wave gates reuse [`probe_all`].

use futures_util::StreamExt as _;

use super::{load, Context};
use crate::check::probe::Prober;
use crate::check::{self, render, Callback, CallbackReport, Delivery};
use crate::cli::{CheckArgs, Format};
use crate::delivery::{self, Event};
use crate::exit::Exit;
use crate::render::markdown::GITHUB_COMMENT_LIMIT;

/// Callback URLs probed at once.
const CONCURRENCY: usize = 16;

pub async fn run(ctx: &Context, args: CheckArgs) -> anyhow::Result<Exit> {
    let (merchants, shard) = (&args.select.merchants, args.select.shard);
    let manifests = super::fetch::selected(ctx, load(ctx, &args.manifests.files, false)?, merchants, shard)?;
    let outcomes = probe_all(&prober(ctx)?, check::callbacks(&manifests), args.send_test_event).await;
    ctx.out(&match args.format {
        Format::Text => render::text(&outcomes),
        Format::Json => render::json(&outcomes),
        Format::Markdown => render::markdown(&outcomes, "invhooks check", GITHUB_COMMENT_LIMIT),
    });
    Ok(Exit::Error.when(!outcomes.iter().all(CallbackReport::ok)))
}

/// A prober with the run's timeout and extra CA certificates.
pub(super) fn prober(ctx: &Context) -> anyhow::Result<Prober> {
    Prober::new(ctx.ca_roots()?.to_vec(), ctx.timeout)
}

/// Probes every callback; with `send`, one test event per subscription of each reachable URL.
pub(super) async fn probe_all(prober: &Prober, callbacks: Vec<Callback>, send: bool) -> Vec<CallbackReport> {
    futures_util::stream::iter(callbacks)
        .map(|callback| async move {
            let (result, latency) = prober.probe(&callback.url).await;
            let mut deliveries = Vec::new();
            if send && result.is_ok() {
                for user in &callback.users {
                    let body = test_event(&user.merchant, &user.topic);
                    let (user, result) = (user.clone(), prober.post(&callback.url, body.as_bytes()).await);
                    deliveries.push(Delivery { user, result });
                }
            }
            CallbackReport {
                callback,
                result,
                latency,
                deliveries,
            }
        })
        .buffered(CONCURRENCY)
        .collect()
        .await
}

/// A synthetic delivery for `topic`, marked `metadata.test: true`.
fn test_event(merchant: &str, topic: &str) -> String {
    let id = format!("evt_test_{:016x}", rand::random::<u64>());
    let shop = (merchant.replace(|c: char| !c.is_ascii_alphanumeric(), "-")).to_ascii_lowercase();
    let (shop_domain, at) = (&format!("{shop}.myshopify.com"), &delivery::now());
    delivery::test_body(&Event {
        topic,
        id: &id,
        shop_domain,
        at,
    })
    .to_string()
}
