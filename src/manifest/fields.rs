//! The manifest as written, each field defined once ([`record!`]): how the
//! YAML is read, what `export` writes, the JSON Schema `invhooks schema`
//! prints (doc comments, `schemars` attributes) and the names messages use.

use schemars::{Schema, SchemaGenerator};
use serde::de::{MapAccess, SeqAccess};
use serde::{Serialize, Serializer};
use serde_json::json;

use super::yaml::{record, At, FieldName, Found, Read, Value};
use crate::topic::TOPICS;

/// The environment variable holding the API key when `apiKeyEnv` is not set.
pub const DEFAULT_API_KEY_ENV: &str = "INVETERATE_API_KEY";
/// What a variable's name may be (`apiKeyEnv`, `vars`, `${VAR}`).
const VAR_NAME: &str = r"^[A-Za-z_][A-Za-z0-9_]*$";
/// Most `vars` of one fleet merchant.
pub(super) const MAX_VARS: usize = 1_000;
/// Most `merchants` entries in one file.
pub(super) const MAX_MERCHANTS: usize = 10_000;
/// Most merchants × subscription entries in one fleet file: each merchant's
/// values are checked on their own, so this bounds a hostile file's cost.
pub(super) const MAX_CHECKS: usize = 1_000_000;
pub(super) const MAX_NAME_CHARS: usize = 255;
pub(super) const MAX_URL_CHARS: usize = 2048;

record! {
    /// Declares the webhook subscriptions one Inveterate merchant should have;
    /// `invhooks plan` compares them with the live ones, `invhooks apply` makes them match.
    #[schemars(
        title = "invhooks manifest",
        extend("dependentSchemas" = {"merchants": {"not": {"anyOf": [{"required": ["merchant"]}, {"required": ["apiKeyEnv"]}]}}})
    )]
    pub(crate) struct Manifest("manifest") {
        /// Manifest format version; always `1`.
        #[schemars(required, extend("const" = 1))]
        version("version"): usize,
        /// Label shown in output for this merchant (unique). Default: the file's stem.
        #[schemars(length(min = 1))]
        merchant("merchant"): String,
        /// The environment variable holding this merchant's API key. Default: `INVETERATE_API_KEY`.
        #[schemars(pattern(VAR_NAME), extend("default" = DEFAULT_API_KEY_ENV))]
        api_key_env("apiKeyEnv"): String,
        /// A canary: `apply --waves` rolls it out first (in a fleet, set on each entry). Default: `false`.
        #[schemars(extend("default" = false))]
        canary("canary"): bool,
        /// Several merchants (a fleet) instead of `merchant`/`apiKeyEnv`, each with the
        /// file's `subscriptions`, `ignore` rules and switches. At most 10,000.
        #[schemars(length(min = 1, max = MAX_MERCHANTS))]
        merchants("merchants"): Vec<At<FleetMerchant>>,
        /// Delete live subscriptions neither declared nor ignored; `false` reports them
        /// as unmanaged and leaves them. Default: `true`.
        #[schemars(extend("default" = true))]
        prune("prune"): bool,
        /// Allow plain `http://` callbacks to non-loopback hosts (unencrypted). Default: `false`.
        #[schemars(extend("default" = false))]
        allow_http("allowHttp"): bool,
        /// Accept topics invhooks does not know yet. Default: `false` (rejected as typos).
        #[schemars(extend("default" = false))]
        allow_unknown_topics("allowUnknownTopics"): bool,
        /// Live subscriptions invhooks never touches (hooks of other tools); no declared
        /// subscription may match one.
        ignore("ignore"): Vec<At<WrittenIgnoreRule>>,
        /// The subscriptions this merchant should have, each (`topic`, `name`) once.
        subscriptions("subscriptions"): Vec<At<Subscription>>,
    }
}

record! {
    /// One merchant of a fleet file.
    #[schemars(rename = "FleetMerchant")]
    pub(crate) struct FleetMerchant("merchant entry") {
        /// Label shown in output for this merchant: required, and unique.
        #[schemars(required, length(min = 1))]
        merchant("merchant"): String,
        /// The environment variable holding this merchant's API key. Default: `INVETERATE_API_KEY`.
        #[schemars(pattern(VAR_NAME), extend("default" = DEFAULT_API_KEY_ENV))]
        api_key_env("apiKeyEnv"): String,
        /// A canary: `apply --waves` rolls it out first. Default: `false`.
        #[schemars(extend("default" = false))]
        canary("canary"): bool,
        /// Values for `${VAR}` in this merchant's subscriptions, before the environment;
        /// literal text, never a variable holding an API key.
        #[schemars(schema_with = "vars_schema")]
        vars("vars"): Vars,
    }
}

record! {
    /// One declared subscription, or one per topic with `topics`.
    #[schemars(
        rename = "Subscription",
        extend("oneOf" = [{"required": ["topic"]}, {"required": ["topics"]}])
    )]
    pub(crate) struct Subscription("subscription") {
        /// Subscription name; with the topic it identifies the subscription. `${VAR}` and
        /// `${VAR:-default}` come from the environment; `$${` is a literal `${`.
        #[schemars(required, length(min = 1, max = MAX_NAME_CHARS))]
        name("name"): String,
        /// The event topic (see `invhooks topics`); exactly one of `topic` and `topics`.
        #[serde(default)]
        #[schemars(schema_with = "topic_schema")]
        topic("topic"): String,
        /// Several topics: one subscription per topic, with the same name and callback
        /// URL; exactly one of `topic` and `topics`.
        #[serde(default)]
        #[schemars(schema_with = "topics_schema")]
        topics("topics"): Vec<At<String>>,
        /// Where Inveterate delivers the events: an absolute `https://` URL (`http://` only
        /// to loopback, unless `allowHttp`); `${VAR}`s keep secrets out of the file.
        #[schemars(required, length(min = 1, max = MAX_URL_CHARS))]
        callback_url("callbackUrl"): String,
        /// The name (or names) it had before: a live subscription on the topic with an
        /// old name is renamed in place, keeping its id (docs/renames.md).
        #[serde(default)]
        #[schemars(schema_with = "renamed_from_schema")]
        renamed_from("renamedFrom"): OneOrMany,
        /// Mask path segments of `callbackUrl` that look like secrets in reports; `false`
        /// shows the path as written (userinfo, query values, keys stay masked). Default: `true`.
        #[schemars(extend("default" = true))]
        mask_path_secrets("maskPathSecrets"): bool,
    }
}

record! {
    /// Live subscriptions invhooks leaves alone: every field given must match its glob.
    #[schemars(rename = "IgnoreRule", extend("minProperties" = 1))]
    pub(crate) struct WrittenIgnoreRule("ignore rule") {
        /// Glob on the subscription name, e.g. `zapier-*`.
        #[schemars(length(min = 1))]
        name("name"): String,
        /// Glob on the topic, e.g. `customer.joined.*`.
        #[schemars(length(min = 1))]
        topic("topic"): String,
        /// Glob on the callback URL, e.g. `https://hooks.zapier.com/*`.
        #[schemars(length(min = 1))]
        callback_url("callbackUrl"): String,
    }
}

/// `renamedFrom:`: one old name, or a list of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    One(String),
    Many(Vec<At<String>>),
}

impl Read for OneOrMany {
    const EXPECTED: &'static str = "a string or a list of strings";
    fn text(text: &str) -> Option<Self> {
        Some(OneOrMany::One(text.to_owned()))
    }
    fn list<'de, A: SeqAccess<'de>>(seq: A) -> Result<Option<Self>, A::Error> {
        Ok(Vec::list(seq)?.map(OneOrMany::Many))
    }
}

/// A fleet merchant's `vars:`: each name and value at the name's line.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Vars(pub(crate) Vec<(At<FieldName>, Result<String, Found>)>);

impl Serialize for Vars {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let pairs = self
            .0
            .iter()
            .filter_map(|(name, value)| Some((&name.ok()?.0, value.as_ref().ok()?)));
        serializer.collect_map(pairs)
    }
}

impl Read for Vars {
    const EXPECTED: &'static str = "a mapping of names to values";
    fn mapping<'de, A: MapAccess<'de>>(mut map: A) -> Result<Option<Self>, A::Error> {
        let mut vars = Vec::new();
        while let Some(name) = map.next_key::<At<FieldName>>()? {
            let Value(value) = map.next_value::<Value<String>>()?;
            vars.push((name, value));
        }
        Ok(Some(Vars(vars)))
    }
}

fn vars_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "object", "propertyNames": { "pattern": VAR_NAME },
        "additionalProperties": { "type": "string" }, "maxProperties": MAX_VARS })
}

fn topic_schema(_: &mut SchemaGenerator) -> Schema {
    let known = TOPICS
        .iter()
        .map(|(name, why)| json!({ "const": name, "description": why }));
    let unknown = "a topic invhooks does not know yet; needs `allowUnknownTopics: true`";
    let choices: Vec<_> = known
        .chain([json!({ "pattern": r"^[^\s]+$", "description": unknown })])
        .collect();
    schemars::json_schema!({ "type": "string", "minLength": 1, "anyOf": choices })
}

fn renamed_from_schema(_: &mut SchemaGenerator) -> Schema {
    let name = json!({ "type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS });
    schemars::json_schema!({ "type": ["string", "array"], "minLength": 1, "maxLength": MAX_NAME_CHARS,
        "items": name, "minItems": 1, "uniqueItems": true })
}

fn topics_schema(generator: &mut SchemaGenerator) -> Schema {
    let item = topic_schema(generator);
    schemars::json_schema!({ "type": "array", "items": item, "minItems": 1, "uniqueItems": true })
}
