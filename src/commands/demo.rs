//! `invhooks demo`: an in-process sandbox seeded with live subscriptions
//! that drifted from `examples/webhooks.yaml`; plan, apply, plan again.
//! No key, no network, no setup.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::Context;
use crate::api::ApiKey;
use crate::apply::waves::Rollout;
use crate::apply::Remote as _;
use crate::apply::{self, ApplyOptions, RunReport};
use crate::exit::Exit;
use crate::manifest;
use crate::model::MerchantManifest;
use crate::plan::{diff_all_with, Plan};
use crate::render::{report, text};
use crate::sandbox::{Ids, Sandbox, SandboxConfig};

/// The example manifest, built in (also what `init` writes).
pub const EXAMPLE: &str = include_str!("../../examples/webhooks.yaml");
/// Its name in the demo's commands: `invhooks init` writes it there.
const EXAMPLE_PATH: &str = "webhooks.yaml";
const DEMO_KEY: &str = "demo-key";

pub async fn run(ctx: &Context) -> anyhow::Result<Exit> {
    // Variables take their `${VAR:-default}` defaults: the demo reads no environment.
    let manifest = manifest::load_str(Path::new(EXAMPLE_PATH), EXAMPLE, &|_| None)
        .map_err(|d| anyhow::anyhow!("the built-in example manifest is invalid:\n{d}"))?;
    // Readable ids: the demo is read by people.
    let config = SandboxConfig {
        api_keys: vec![DEMO_KEY.into()],
        ids: Ids::Sequential,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), config).await?;
    seed_drift(&sandbox, &manifest);

    let mut ctx = ctx.clone();
    ctx.base_url = crate::api::BaseUrl::parse(&sandbox.base_url(), None)?.url;
    let ctx = &ctx;
    let plan = |live: &[_]| diff_all_with([(&manifest, live)], &ctx.thresholds());
    let render = |plan: &Plan| text::render(plan, ctx.color, &ctx.keys());
    let client = ctx.client(&ApiKey::new(DEMO_KEY.into()))?;
    ctx.out(&format!(
        "A sandbox is serving the Inveterate API on {}.\n\
         Its live subscriptions have drifted from the example manifest (built in: examples/webhooks.yaml,\n\
         which `invhooks init` writes as {EXAMPLE_PATH}): a changed URL, a missing subscription,\n\
         one added by hand, a duplicate, and a Zapier hook the manifest ignores.\n\n",
        sandbox.base_url()
    ));
    let live = client.list().await?;
    ctx.out("$ invhooks plan\n");
    let first = plan(&live);
    ctx.out(&render(&first));

    ctx.out("\n$ invhooks apply --auto-approve\n");
    let options = ApplyOptions {
        wait: Duration::from_secs(10),
        ..ApplyOptions::default()
    };
    let mut reports = Vec::new();
    for merchant in first.merchants.iter().filter(|m| !m.changes.is_empty()) {
        reports.push(apply::apply(&client, &manifest, merchant, &live, options, &ctx.stop, &|_| {}).await);
    }
    let run = RunReport::new(reports, Vec::new(), Rollout::whole(vec![manifest.label.clone()]));
    ctx.out(&report::render(&run, ctx.color, &ctx.keys()));

    ctx.out("\n$ invhooks plan\n");
    let again = plan(&client.list().await?);
    ctx.out(&render(&again));
    ctx.out(NEXT);
    sandbox.shutdown().await?;
    Ok(Exit::Error.when(again.has_changes()))
}

/// The same steps in a directory of your own, against a sandbox of your own.
const NEXT: &str = "
Next, the same in a directory of your own:
  invhooks init --ci none     # writes webhooks.yaml (this example) and invhooks-policy.yaml
  invhooks sandbox            # in a second terminal: a sandbox on 127.0.0.1:8787 (key `sandbox-key`)
  export INVETERATE_BASE_URL=http://127.0.0.1:8787/v2.0 INVETERATE_API_KEY=sandbox-key
  invhooks plan               # then `invhooks apply`, edit webhooks.yaml, `invhooks drift`
";

/// Live state that differs from `manifest` in every way a plan shows: one
/// missing, one moved, one twice, one added by hand, one ignored.
fn seed_drift(sandbox: &Sandbox, manifest: &MerchantManifest) {
    let subs = &manifest.subscriptions;
    let moved = subs
        .get(1)
        .map(|s| s.callback_url.replace("https://", "https://old-"));
    let mut live: Vec<(&str, &str, &str)> = (subs.iter().skip(1))
        .map(|s| (s.topic.as_str(), s.name.as_str(), s.callback_url.as_str()))
        .collect();
    if let (Some(first), Some(moved)) = (live.first_mut(), &moved) {
        first.2 = moved;
    }
    if let Some(&twice) = live.get(1) {
        live.insert(2, twice);
    }
    live.push((
        "customer.updated",
        "legacy-erp",
        "https://erp.acme.example/old-hook",
    ));
    live.push((
        "customer.ordered",
        "zapier-orders",
        "https://hooks.zapier.com/hooks/catch/1/abc",
    ));
    sandbox.seed(DEMO_KEY, &live);
}
