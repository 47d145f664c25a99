//! The built-in sandbox: `invhooks sandbox` serves it until the first SIGINT or
//! SIGTERM (the one signal watch, `interrupts`); `invhooks demo` drives one.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use super::{Context, Helped};
use crate::api::ApiKey;
use crate::apply::waves::Rollout;
use crate::apply::Remote as _;
use crate::apply::{self, ApplyOptions, RunReport};
use crate::cli::SandboxArgs;
use crate::exit::Exit;
use crate::manifest;
use crate::model::MerchantManifest;
use crate::plan::{diff_all, Plan};
use crate::render::{report, text};
use crate::sandbox::{Ids, Sandbox, SandboxConfig};

pub async fn run(ctx: &Context, args: SandboxArgs) -> anyhow::Result<Exit> {
    let config = SandboxConfig {
        api_keys: args.api_keys.clone(),
        state_file: args.state.clone(),
        faults: args.faults.clone(),
        deliveries: crate::sandbox::DeliveryConfig::default(),
        ids: args.ids,
    };
    let sandbox = Sandbox::start(args.listen, config).await.map_err(|e| {
        let help = "another process (another sandbox?) listens there: pass `--listen 127.0.0.1:0` for a free port (the address is printed), or stop the other one";
        match e.root_cause().downcast_ref::<std::io::Error>().map(std::io::Error::kind) {
            Some(std::io::ErrorKind::AddrInUse) => Helped::wrap(e, help),
            _ => e,
        }
    })?;
    let ids = match args.ids {
        Ids::Random => "random (--ids sequential for wh_000001, …)",
        Ids::Sequential => "sequential",
    };
    let again = "interrupted again: stopping now, without waiting for requests in flight";
    let _watch = super::interrupts::watch(ctx, &ctx.stop, again)?;
    let (addr, keys) = (sandbox.addr(), args.api_keys.len());
    ctx.status(&format!(
        "sandbox: serving the webhook-subscriptions API on {addr} for {keys} merchant key(s); Ctrl-C stops it\n  \
         faults: {}\n  \
         ids: {ids}\n  \
         export INVETERATE_BASE_URL={}",
        args.faults,
        reach(addr),
    ));
    ctx.stop.wait().await;
    sandbox.shutdown().await?;
    Ok(Exit::Success)
}

/// The base URL a client here uses: loopback for every interface (`0.0.0.0`, `::`); off
/// loopback, how other containers reach it (plain http needs an opt-in).
fn reach(addr: SocketAddr) -> String {
    let ip = match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let url = format!("http://{}/v2.0", SocketAddr::new(ip, addr.port()));
    if addr.ip().is_loopback() {
        return url;
    }
    format!(
        "{url}\n  other containers use this host's name, e.g. `http://sandbox:{}/v2.0`, with `{}=sandbox` \
         (plain http off loopback is refused without it; never use a real key there)",
        addr.port(),
        crate::api::ALLOW_INSECURE_ENV
    )
}

/// The example manifest, built in (also what `init` writes).
pub const EXAMPLE: &str = include_str!("../../examples/webhooks.yaml");
/// Its name in the demo's commands: `invhooks init` writes it there.
const EXAMPLE_PATH: &str = "webhooks.yaml";
const DEMO_KEY: &str = "demo-key";

/// `invhooks demo`: plan, apply, plan again on an in-process sandbox that drifted from the example.
pub async fn demo(ctx: &Context) -> anyhow::Result<Exit> {
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
    let plan = |live: &[_]| diff_all([(&manifest, live)], &ctx.thresholds());
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

/// Live state with one of each change: missing, moved, twice, added by hand, ignored.
fn seed_drift(sandbox: &Sandbox, manifest: &MerchantManifest) {
    let subs = &manifest.subscriptions;
    let moved = (subs.get(1)).map(|s| s.callback_url.replace("https://", "https://old-"));
    let mut live: Vec<(&str, &str, &str)> = (subs.iter().skip(1))
        .map(|s| (s.topic.as_str(), s.name.as_str(), s.callback_url.as_str()))
        .collect();
    if let (Some(first), Some(moved)) = (live.first_mut(), &moved) {
        first.2 = moved;
    }
    if let Some(&twice) = live.get(1) {
        live.insert(2, twice);
    }
    let (erp, zapier) = (
        "https://erp.acme.example/old-hook",
        "https://hooks.zapier.com/hooks/catch/1/abc",
    );
    live.push(("customer.updated", "legacy-erp", erp));
    live.push(("customer.ordered", "zapier-orders", zapier));
    sandbox.seed(DEMO_KEY, &live);
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};
    use crate::sandbox::Faults;

    fn parse(args: &[&str]) -> Result<SandboxArgs, String> {
        let argv = ["invhooks", "sandbox"].iter().chain(args);
        match Cli::try_parse_from(argv) {
            Ok(Cli {
                command: Command::Sandbox(args),
                ..
            }) => Ok(args),
            Ok(other) => panic!("parsed as another command: {:?}", other.command),
            Err(err) => Err(err.to_string()),
        }
    }

    #[test]
    fn the_printed_base_url_is_one_a_client_can_use() {
        let url = |a: &str| reach(a.parse().unwrap()).lines().next().unwrap().to_owned();
        assert_eq!(url("127.0.0.1:8787"), "http://127.0.0.1:8787/v2.0");
        assert_eq!(url("0.0.0.0:8790"), "http://127.0.0.1:8790/v2.0");
        assert_eq!(url("[::]:8790"), "http://[::1]:8790/v2.0");
        assert_eq!(url("10.1.2.3:80"), "http://10.1.2.3:80/v2.0");
        for printed in ["0.0.0.0:8790", "[::]:1"].map(url) {
            assert!(crate::api::BaseUrl::parse(&printed, None).is_ok(), "{printed}");
        }
        assert_eq!(reach("127.0.0.1:1".parse().unwrap()), "http://127.0.0.1:1/v2.0");
        let note = reach("0.0.0.0:8790".parse().unwrap());
        assert!(
            note.contains("INVHOOKS_ALLOW_INSECURE_SANDBOX=sandbox") && note.contains("sandbox:8790/"),
            "{note}"
        );
    }

    #[test]
    fn no_fault_flags_means_no_faults() {
        let faults = parse(&[]).unwrap().faults;
        assert_eq!(faults, Faults::default());
        assert_eq!(faults.to_string(), "none");
    }

    #[test]
    fn fault_flags_become_faults() {
        let args = parse(&[
            "--seed",
            "7",
            "--latency",
            "20",
            "--error-rate",
            "0.1",
            "--partial-failure-rate",
            "0.2",
            "--drop-rate",
            "0.05",
            "--rate-limit",
            "50",
            "--visibility-delay",
            "300",
            "--lying-list-rate",
            "0.25",
        ])
        .unwrap();
        let expected = Faults {
            seed: 7,
            latency: Duration::from_millis(20),
            error_rate: 0.1,
            partial_failure_rate: 0.2,
            drop_rate: 0.05,
            rate_limit: Some(50.0),
            visibility_delay: Duration::from_millis(300),
            lying_list_rate: 0.25,
        };
        assert_eq!(args.faults, expected);
        assert!(expected.validate().is_ok());
    }

    #[test]
    fn out_of_range_values_are_refused_with_a_clear_message() {
        for (flag, value, needle) in [
            ("--error-rate", "1.5", "probability between 0 and 1"),
            ("--partial-failure-rate", "-0.1", "probability between 0 and 1"),
            ("--drop-rate", "often", "probability between 0 and 1"),
            ("--lying-list-rate", "2", "probability between 0 and 1"),
            ("--rate-limit", "0", "greater than 0"),
            ("--rate-limit", "-5", "greater than 0"),
            ("--latency", "-1", "--latency"),
            ("--visibility-delay", "soon", "--visibility-delay"),
        ] {
            // `--flag=value`, so that a negative number reads as a value.
            let err = parse(&[&format!("{flag}={value}")]).unwrap_err();
            assert!(err.contains(needle), "{flag} {value}: {err}");
            assert!(err.contains(flag), "{flag} {value}: {err}");
        }
    }
}
