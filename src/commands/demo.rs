//! `invhooks demo`: an in-process sandbox seeded with live subscriptions
//! that drifted from `examples/webhooks.yaml`; plan, apply, plan again.
//! No key, no network, no setup.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::apply::Calls;
use super::fetch::plan_targets;
use super::{Context, Target};
use crate::api::ApiKey;
use crate::apply::waves::Rollout;
use crate::apply::{ApplyOptions, Remote as _};
use crate::exit::Exit;
use crate::manifest;
use crate::model::MerchantManifest;
use crate::render::{report, text};
use crate::sandbox::{Sandbox, SandboxConfig};

/// The example manifest, built in so the demo runs from anywhere (and
/// what `init` writes as `webhooks.yaml`).
pub const EXAMPLE: &str = include_str!("../../examples/webhooks.yaml");
/// Its name in the demo's commands: `invhooks init` writes it there.
const EXAMPLE_PATH: &str = "webhooks.yaml";
const DEMO_KEY: &str = "demo-key";

/// Runs `demo`.
pub async fn run(ctx: &Context) -> anyhow::Result<Exit> {
    // Variables take their `${VAR:-default}` defaults: the demo reads no environment.
    let manifest = manifest::load_str(Path::new(EXAMPLE_PATH), EXAMPLE, &|_| None)
        .map_err(|d| anyhow::anyhow!("the built-in example manifest is invalid:\n{d}"))?;
    let listen = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let config = SandboxConfig {
        api_keys: vec![DEMO_KEY.into()],
        // Readable ids: the demo is read by people.
        ids: crate::sandbox::Ids::Sequential,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(listen, config).await?;
    seed_drift(&sandbox, &manifest);

    let mut ctx = ctx.clone();
    // The report after apply lists every change: no progress lines before it.
    ctx.quiet = true;
    ctx.base_url = crate::api::BaseUrl::parse(&sandbox.base_url(), None)?.url;
    let key = ApiKey::new(DEMO_KEY.into());
    let client = ctx.client(&key)?;
    ctx.out(&format!(
        "A sandbox is serving the Inveterate API on {}.\n\
         Its live subscriptions have drifted from the example manifest (built in: examples/webhooks.yaml,\n\
         which `invhooks init` writes as {EXAMPLE_PATH}): a changed URL, a missing subscription,\n\
         one added by hand, a duplicate, and a Zapier hook the manifest ignores.\n\n",
        sandbox.base_url()
    ));

    let mut target = Target {
        live: client.list().await?,
        manifest,
        client,
        key,
    };
    ctx.out("$ invhooks plan\n");
    let plan = plan_targets(&ctx, std::slice::from_ref(&target));
    ctx.out(&text::render(&plan, ctx.color, &ctx.keys()));

    ctx.out("\n$ invhooks apply --auto-approve\n");
    let options = ApplyOptions {
        wait: Duration::from_secs(10),
        ..ApplyOptions::default()
    };
    let labels = vec![target.manifest.label.clone()];
    let calls = Calls {
        ctx: &ctx,
        targets: std::slice::from_ref(&target),
        plan: &plan,
        options,
        merchants: 1,
        stop: &ctx.stop,
    };
    let reports = calls.execute(&labels, "merchants").await;
    let run = crate::apply::RunReport::new(reports, Vec::new(), Rollout::whole(labels));
    ctx.out(&report::render(&run, ctx.color, &ctx.keys()));

    ctx.out("\n$ invhooks plan\n");
    target.live = target.client.list().await?;
    let again = plan_targets(&ctx, std::slice::from_ref(&target));
    ctx.out(&text::render(&again, ctx.color, &ctx.keys()));
    ctx.out(NEXT);
    sandbox.shutdown().await?;
    Ok(if again.has_changes() {
        Exit::Error
    } else {
        Exit::Success
    })
}

/// The same steps in a directory of your own, against a sandbox of your own.
const NEXT: &str = "
Next, the same in a directory of your own:
  invhooks init --ci none     # writes webhooks.yaml (this example) and invhooks-policy.yaml
  invhooks sandbox            # in a second terminal: a sandbox on 127.0.0.1:8787 (key `sandbox-key`)
  export INVETERATE_BASE_URL=http://127.0.0.1:8787/v2.0 INVETERATE_API_KEY=sandbox-key
  invhooks plan               # then `invhooks apply`, edit webhooks.yaml, `invhooks drift`
";

/// Seeds live state that differs from `manifest` in every way a plan shows.
fn seed_drift(sandbox: &Sandbox, manifest: &MerchantManifest) {
    let subs = &manifest.subscriptions;
    let mut live: Vec<(String, String, String)> = Vec::new();
    for (i, s) in subs.iter().enumerate() {
        match i {
            0 => {} // missing: apply creates it
            1 => live.push((
                s.topic.clone(),
                s.name.clone(),
                s.callback_url.replace("https://", "https://old-"),
            )),
            _ => live.push((s.topic.clone(), s.name.clone(), s.callback_url.clone())),
        }
        if i == 2 {
            live.push((s.topic.clone(), s.name.clone(), s.callback_url.clone()));
            // duplicate
        }
    }
    live.push((
        "customer.updated".into(),
        "legacy-erp".into(),
        "https://erp.acme.example/old-hook".into(),
    ));
    live.push((
        "customer.ordered".into(),
        "zapier-orders".into(),
        "https://hooks.zapier.com/hooks/catch/1/abc".into(),
    ));
    let refs: Vec<(&str, &str, &str)> = live
        .iter()
        .map(|(t, n, u)| (t.as_str(), n.as_str(), u.as_str()))
        .collect();
    sandbox.seed(DEMO_KEY, &refs);
}
