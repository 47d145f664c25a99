//! `invhooks trigger TOPIC` (docs/sandbox.md "Test your receiver in CI"): a sandbox delivers
//! one event to each selected merchant's subscriptions of TOPIC; never Inveterate's API.

use anyhow::Context as _;
use serde_json::{json, Value};

use super::fetch::{keyed, Keyed};
use super::{api_key, Context, Helped};
use crate::api::Method;
use crate::cli::TriggerArgs;
use crate::exit::Exit;
use crate::secret::{Masked, Masking};

/// The sandbox's route, at the base URL's origin.
const ROUTE: &str = "/_sandbox/trigger";

pub async fn run(ctx: &Context, args: TriggerArgs) -> anyhow::Result<Exit> {
    let base = &ctx.base_url;
    if crate::api::is_inveterate(base) {
        return Err(Helped::msg(
            format!("`trigger` talks to the sandbox only; the base URL `{base}` is Inveterate's API"),
            "start `invhooks sandbox` and pass its URL with --base-url or INVETERATE_BASE_URL; nothing was sent",
        ));
    }
    known_topic(&args.topic)?;
    let senders = (keyed(ctx, &args.keyed, "trigger")?.into_iter())
        .map(|k| Ok((ctx.client(&api_key(&k.key_env, &k.who)?)?, k)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let (topic, keys, mut total) = (&args.topic, ctx.keys(), 0);
    for (client, Keyed { label, key_env, .. }) in &senders {
        let fail = || format!("merchant `{label}`: the sandbox did not trigger `{topic}`");
        let request = json!({ "topic": topic });
        let answer = client.once(Method::POST, Some(ROUTE), Some(&request));
        let (status, _, body) = answer.await.with_context(fail)?;
        let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        if !status.is_success() {
            let message = body["message"].as_str().unwrap_or_default();
            let help = match status.as_u16() {
                404 => format!("is the base URL an `invhooks sandbox`? only the sandbox serves `{ROUTE}`"),
                400 if message.contains("API key") => {
                    format!("check that `{key_env}` holds a key the sandbox accepts (`--api-key`)")
                }
                _ => "check the topic and the sandbox's output".to_owned(),
            };
            let said = anyhow::anyhow!("{status}: {}", crate::escape::show(message));
            return Err(Helped::wrap(said.context(fail()), help));
        }
        let field = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let data = &body["data"];
        let subscriptions = data["subscriptions"].as_array().map_or(&[][..], Vec::as_slice);
        let (id, n) = (field(data, "id"), subscriptions.len());
        total += n;
        let mut text = format!("merchant `{label}`: event `{id}` (`{topic}`) sent to {n} subscription(s)\n");
        for s in subscriptions {
            let sub = crate::escape::escape(&Masked::text(&field(s, "subscriptionId"), &keys)).into_owned();
            let callback = Masked::url(&field(s, "callbackUrl"), Masking::Full, &keys);
            text.push_str(&format!("  {sub} {callback}\n"));
        }
        ctx.out(&text);
    }
    if total == 0 {
        return Err(Helped::msg(
            format!("no subscription of topic `{topic}`; nothing was delivered"),
            "create one first (`invhooks apply` against the sandbox), then trigger again",
        ));
    }
    ctx.status("deliveries run in the sandbox: `GET /_sandbox/deliveries` lists every attempt");
    Ok(Exit::Success)
}

/// An error, with "did you mean", for a topic Inveterate does not document.
pub(super) fn known_topic(topic: &str) -> anyhow::Result<()> {
    if crate::topic::is_known(topic) {
        return Ok(());
    }
    let hint = crate::topic::suggest(topic).map(|t| format!("did you mean `{t}`?"));
    let hint = hint.unwrap_or_else(|| "`invhooks topics` lists them".to_owned());
    Err(Helped::msg(
        format!("unknown topic `{}`", crate::escape::show(topic)),
        hint,
    ))
}
