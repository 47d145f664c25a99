//! `invhooks trigger TOPIC` (README "Test your receiver in CI"): asks a
//! sandbox to deliver one event of TOPIC to each selected merchant's
//! subscriptions of that topic (`POST /_sandbox/trigger`), and prints the
//! event id and the subscriptions it goes to. Refused against Inveterate's
//! API before any request: the real API has no such route, and the key
//! must not be sent to it for nothing.
//!
//! Keys: the merchants of `-f` manifests (their `apiKeyEnv`); without `-f`,
//! those of `webhooks.yaml` when it exists, else `INVETERATE_API_KEY`. Only
//! the keys need to be set, not the manifests' other `${VAR}`s.

use anyhow::Context as _;
use serde_json::{json, Value};
use url::Url;

use super::{api_key, Context, Helped};
use crate::api::{is_inveterate, Client};
use crate::cli::TriggerArgs;
use crate::exit::Exit;
use crate::secret::{Masked, Masking};

/// The sandbox's route, at the base URL's origin.
const TRIGGER_PATH: &str = "/_sandbox/trigger";

/// One merchant to trigger for: its client carries its key.
struct Sender {
    label: String,
    key_env: String,
    client: Client,
}

impl Sender {
    /// The sender for the key in `key_env` (see [`api_key`]).
    fn new(ctx: &Context, label: String, key_env: String, who: &str) -> anyhow::Result<Self> {
        let client = ctx.client(&api_key(&key_env, who)?)?;
        Ok(Self {
            label,
            key_env,
            client,
        })
    }
}

/// Runs `trigger`.
pub async fn run(ctx: &Context, args: TriggerArgs) -> anyhow::Result<Exit> {
    let url = trigger_url(&ctx.base_url)?;
    known_topic(&args.topic)?;
    let mut total = 0;
    for sender in senders(ctx, &args)? {
        let (id, targets) = send(&url, &sender, &args.topic).await?;
        total += targets.len();
        let mut text = format!(
            "merchant `{}`: event `{id}` (`{}`) sent to {} subscription(s)\n",
            sender.label,
            args.topic,
            targets.len()
        );
        let keys = ctx.keys();
        for (sub, callback) in &targets {
            let (sub, callback) = (
                Masked::text(sub, &keys),
                Masked::url(callback, Masking::Full, &keys),
            );
            text.push_str(&format!("  {} {callback}\n", crate::escape::escape(&sub)));
        }
        ctx.out(&text);
    }
    if total == 0 {
        return Err(Helped::wrap(
            anyhow::anyhow!("no subscription of topic `{}`; nothing was delivered", args.topic),
            "create one first (`invhooks apply` against the sandbox), then trigger again",
        ));
    }
    ctx.status("deliveries run in the sandbox: `GET /_sandbox/deliveries` lists every attempt");
    Ok(Exit::Success)
}

/// An error for a topic Inveterate does not document (`trigger`, `doctor
/// --topic`), with "did you mean".
pub(super) fn known_topic(topic: &str) -> anyhow::Result<()> {
    if crate::topic::is_known(topic) {
        return Ok(());
    }
    let hint = crate::topic::suggest(topic).map_or_else(
        || "`invhooks topics` lists them".to_owned(),
        |t| format!("did you mean `{t}`?"),
    );
    Err(Helped::wrap(
        anyhow::anyhow!("unknown topic `{}`", crate::escape::show(topic)),
        hint,
    ))
}

/// `<origin>/_sandbox/trigger`, or the refusal for Inveterate's own host.
fn trigger_url(base: &Url) -> anyhow::Result<Url> {
    if is_inveterate(base) {
        return Err(Helped::wrap(
            anyhow::anyhow!("`trigger` talks to the sandbox only; the base URL `{base}` is Inveterate's API"),
            "start `invhooks sandbox` and pass its URL with --base-url or INVETERATE_BASE_URL; nothing was sent",
        ));
    }
    Ok(base.join(TRIGGER_PATH)?)
}

/// The merchants whose keys trigger: see the module documentation.
fn senders(ctx: &Context, args: &TriggerArgs) -> anyhow::Result<Vec<Sender>> {
    super::fetch::keyed(ctx, &args.files, &args.merchants, "trigger")?
        .into_iter()
        .map(|k| Sender::new(ctx, k.label, k.key_env, &k.who))
        .collect()
}

/// POSTs the trigger with `sender`'s key; the event id and the
/// `(subscription id, callback URL)` pairs it goes to.
async fn send(url: &Url, sender: &Sender, topic: &str) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let fail = || {
        format!(
            "merchant `{}`: the sandbox did not trigger `{topic}`",
            sender.label
        )
    };
    let (status, body) = sender
        .client
        .post_once(url.path(), &json!({ "topic": topic }))
        .await
        .with_context(fail)?;
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let message = body["message"].as_str().unwrap_or_default();
    if status.as_u16() == 404 {
        return Err(Helped::wrap(
            anyhow::anyhow!("`{url}` answered 404").context(fail()),
            "is the base URL an `invhooks sandbox`? only the sandbox serves `/_sandbox/trigger`",
        ));
    }
    if !status.is_success() {
        let help = match status.as_u16() {
            400 if message.contains("API key") => {
                format!(
                    "check that `{}` holds a key the sandbox accepts (`--api-key`)",
                    sender.key_env
                )
            }
            _ => "check the topic and the sandbox's output".to_owned(),
        };
        let shown = crate::escape::show(message);
        return Err(Helped::wrap(
            anyhow::anyhow!("{status}: {shown}").context(fail()),
            help,
        ));
    }
    let data = &body["data"];
    let id = data["id"].as_str().unwrap_or_default().to_owned();
    let targets = data["subscriptions"]
        .as_array()
        .map(|subs| {
            subs.iter()
                .map(|s| {
                    let field = |k: &str| s[k].as_str().unwrap_or_default().to_owned();
                    (field("subscriptionId"), field("callbackUrl"))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((id, targets))
}
