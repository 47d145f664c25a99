//! `invhooks doctor` (docs/commands/doctor.md): per merchant the key, DNS, TLS and one GET;
//! with `--write`, a round trip on a throwaway, which an interrupt ends and still deletes.

use std::time::Duration;

use tokio::time::Instant;

use super::fetch::{keyed, process_env, read_help, Keyed};
use super::interrupts;
use super::{api_key, Context, Helped};
use crate::api::Method;
use crate::cli::{DoctorArgs, TextOrJson};
use crate::doctor::list;
use crate::doctor::write::{self, Ours};
use crate::doctor::{self, Check, Merchant};
use crate::exit::Exit;
use crate::secret::mask_url;
use crate::stop::Stop;

/// How long `--write` waits for GET to show a change.
const LIMIT: Duration = Duration::from_secs(120);

pub async fn run(ctx: &Context, args: DoctorArgs) -> anyhow::Result<Exit> {
    let throwaway = match (args.write, &args.topic, &args.callback_url) {
        (true, Some(topic), Some(url)) => {
            // Checked as `validate` would.
            super::trigger::known_topic(topic)?;
            if let Some((problem, help)) = crate::manifest::callback_url_problem(url, false) {
                let shown = crate::escape::show(&mask_url(url));
                return Err(Helped::msg(format!("`--callback-url` `{shown}` {problem}"), help));
            }
            Some(Ours::new(rand::random(), topic, url))
        }
        _ => None,
    };
    let merchants = keyed(ctx, &args.keyed, "doctor")?;
    // The first interrupt ends the round trip (its cleanup still runs); a second exits.
    let stop = Stop::default();
    let _watch = match &throwaway {
        None => None,
        Some(Ours { name, .. }) => {
            let again = format!(
                "interrupted again: exiting now; if `{name}` is still listed, delete it in the Inveterate admin (Webhooks)"
            );
            let watch = interrupts::watch(ctx, &stop, &again)?;
            watch.notice("interrupted: deleting the throwaway subscription, then the report. Interrupt again to exit at once");
            Some(watch)
        }
    };
    let mut report = Vec::with_capacity(merchants.len());
    for k in merchants {
        report.push(merchant(ctx, k, throwaway.as_ref(), &stop).await?);
    }
    ctx.out(&match args.format {
        TextOrJson::Text => doctor::text(&report),
        TextOrJson::Json => doctor::json(&report),
    });
    Ok(Exit::Error.when(report.iter().any(Merchant::failed)))
}

/// One merchant's checks.
async fn merchant(
    ctx: &Context,
    k: Keyed,
    throwaway: Option<&Ours>,
    stop: &Stop,
) -> anyhow::Result<Merchant> {
    let mut report = Merchant {
        merchant: k.label,
        ..Merchant::default()
    };
    let key = match api_key(&k.key_env, &k.who) {
        Ok(key) => key,
        Err(e) => {
            report.checks.push(Check::fail("key", e.to_string(), e.help));
            return Ok(report);
        }
    };
    let checks = &mut report.checks;
    checks.push(Check::ok("key", format!("`{}` is set", k.key_env)));
    let client = ctx.client(&key)?;
    let started = Instant::now();
    let got = client.once(Method::GET, None, None).await;
    let (elapsed, base, insecure) = (started.elapsed(), &ctx.base_url, ctx.insecure_sandbox);
    let proxy = ["HTTPS_PROXY", "https_proxy"].into_iter().find_map(process_env);
    let failed = got.as_ref().err().map(|e| (e, read_help(e, &k.key_env)));
    checks.extend(list::connection(base, insecure, proxy, failed));
    if let Ok((status, headers, body)) = &got {
        let answer = (*status, headers, body.as_slice());
        checks.extend(list::read(answer, elapsed, &k.key_env, &mut report.measured));
    }
    if let (false, Some(ours)) = (report.failed(), throwaway.cloned()) {
        let (label, name) = (&report.merchant, &ours.name);
        ctx.status(&format!("merchant `{label}`: round trip on `{name}`"));
        let trip = write::round_trip(&client, ours, LIMIT, stop, &mut report.measured).await;
        report.checks.extend(trip);
    }
    Ok(report)
}
