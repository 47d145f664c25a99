//! The manifest as written: serde + schemars types that are the single
//! source of truth for field names, value types and the JSON Schema that
//! `invhooks schema` prints.
//!
//! Every field is an `Option` so that one field can be deserialized on its
//! own (see `validate`); which fields are required is checked by the
//! validator and declared to the schema with `#[schemars(required)]`.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde_json::json;

use crate::topic::Topic;

/// The environment variable holding the API key when `apiKeyEnv` is not set.
pub(crate) const DEFAULT_API_KEY_ENV: &str = "INVETERATE_API_KEY";

/// Declares the webhook subscriptions one Inveterate merchant should have.
/// `invhooks plan` compares them with the live subscriptions and `invhooks
/// apply` makes the live side match.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(
    title = "invhooks manifest",
    extend("dependentSchemas" = {"merchants": {"not": {"anyOf": [{"required": ["merchant"]}, {"required": ["apiKeyEnv"]}]}}})
)]
pub(crate) struct RawManifest {
    /// Manifest format version; always `1`.
    #[schemars(required, schema_with = "version_schema")]
    pub version: Option<u32>,
    /// Label shown in output for this merchant. Default: the file's name
    /// without extension. Two manifests must not use the same label.
    #[schemars(length(min = 1))]
    pub merchant: Option<String>,
    /// Name of the environment variable that holds this merchant's
    /// Inveterate API key. Default: `INVETERATE_API_KEY`.
    #[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*$"), extend("default" = DEFAULT_API_KEY_ENV))]
    pub api_key_env: Option<String>,
    /// A canary: `apply --waves` rolls it out first. In a fleet file, set
    /// it on the entries of `merchants` instead. Default: `false`.
    #[schemars(extend("default" = false))]
    pub canary: Option<bool>,
    /// Several merchants in one file (a fleet), instead of `merchant` /
    /// `apiKeyEnv`: every one gets the `subscriptions`, `ignore` rules and
    /// switches of the file. At most 10,000 entries.
    // Entries are read one by one (`fleet`); this field gives the schema its shape.
    #[allow(dead_code)]
    #[schemars(length(min = 1, max = 10000))]
    pub merchants: Option<Vec<RawFleetEntry>>,
    /// Delete live subscriptions that the manifest does not declare (and no
    /// `ignore` rule covers). With `false` they are reported as unmanaged
    /// and left alone. Default: `true`.
    #[schemars(extend("default" = true))]
    pub prune: Option<bool>,
    /// Allow plain `http://` callback URLs to hosts other than loopback
    /// (events then travel unencrypted). Default: `false`.
    #[schemars(extend("default" = false))]
    pub allow_http: Option<bool>,
    /// Accept topics invhooks does not know yet (ones Inveterate added
    /// later). Default: `false`: unknown topics are rejected as typos.
    #[schemars(extend("default" = false))]
    pub allow_unknown_topics: Option<bool>,
    /// Live subscriptions invhooks never touches, never deletes: for hooks
    /// owned by other tools. A subscription the manifest declares must not
    /// match a rule.
    // Entries are deserialized one by one (`validate::entries`), so that a bad
    // entry does not hide the next; this field gives the schema its shape.
    #[allow(dead_code)]
    pub ignore: Option<Vec<RawIgnoreRule>>,
    /// The subscriptions this merchant should have. A subscription is
    /// identified by its (`topic`, `name`) pair, which must be unique.
    #[allow(dead_code)]
    pub subscriptions: Option<Vec<RawSubscription>>,
}

/// One merchant of a fleet file.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "FleetMerchant")]
pub(crate) struct RawFleetEntry {
    /// Label shown in output for this merchant; required in a fleet, and
    /// unique across every manifest loaded together.
    #[schemars(required, length(min = 1))]
    pub merchant: Option<String>,
    /// Name of the environment variable that holds this merchant's API key.
    /// Default: `INVETERATE_API_KEY`.
    #[schemars(pattern(r"^[A-Za-z_][A-Za-z0-9_]*$"), extend("default" = DEFAULT_API_KEY_ENV))]
    pub api_key_env: Option<String>,
    /// A canary: `apply --waves` rolls it out first. Default: `false`.
    #[schemars(extend("default" = false))]
    pub canary: Option<bool>,
    /// Values for `${VAR}` in this merchant's subscriptions, looked up
    /// before the environment. Each value is literal text (never expanded
    /// itself); a variable holding an API key cannot be defined here.
    #[allow(dead_code)]
    #[schemars(schema_with = "vars_schema")]
    pub vars: Option<std::collections::BTreeMap<String, String>>,
}

/// One declared subscription, or one per topic with `topics`.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(
    rename = "Subscription",
    extend("oneOf" = [{"required": ["topic"]}, {"required": ["topics"]}])
)]
pub(crate) struct RawSubscription {
    /// Subscription name; with the topic it identifies the subscription.
    /// `${VAR}` and `${VAR:-default}` are replaced from the environment;
    /// `$${` is a literal `${`.
    #[schemars(required, length(min = 1, max = 255))]
    pub name: Option<String>,
    /// The event topic (see `invhooks topics`). Give exactly one of `topic`
    /// and `topics`.
    #[serde(default)]
    #[schemars(schema_with = "topic_schema")]
    pub topic: Option<String>,
    /// Several topics: the entry expands to one subscription per topic, all
    /// with the same name and callback URL. Give exactly one of `topic` and
    /// `topics`.
    #[serde(default)]
    #[schemars(schema_with = "topics_schema")]
    pub topics: Option<Vec<String>>,
    /// Where Inveterate delivers the events: an absolute `https://` URL
    /// (`http://` only for loopback hosts, unless `allowHttp: true`).
    /// `${VAR}` and `${VAR:-default}` are replaced from the environment, so
    /// secrets can stay out of the file.
    #[schemars(required, length(min = 1, max = 2048))]
    pub callback_url: Option<String>,
    /// The name (or names) this subscription had before: a live
    /// subscription with the same topic and an old name is renamed in place
    /// by one update, keeping its id, instead of deleted and created again.
    /// Must not name a subscription the manifest declares; remove it once
    /// the rename is applied everywhere (`invhooks drift` says so).
    #[serde(default)]
    #[schemars(schema_with = "renamed_from_schema")]
    pub renamed_from: Option<OneOrMany>,
    /// Mask path segments of `callbackUrl` that look like secrets (provider
    /// tokens, UUIDs, long random runs) in plans, drift and apply reports.
    /// `false` shows this entry's path as written, for an id reviewers need
    /// to see (a tenant UUID); userinfo, query values and API keys are
    /// masked regardless. Default: `true`.
    #[schemars(extend("default" = true))]
    pub mask_path_secrets: Option<bool>,
}

/// A string, or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum OneOrMany {
    /// One value.
    One(String),
    /// Several values.
    Many(Vec<String>),
}

impl OneOrMany {
    /// The values, in the order written.
    pub(crate) fn items(&self) -> &[String] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

/// Matches live subscriptions that invhooks must leave alone. Every field
/// given must match; each is a glob (`*`, `?`, `[abc]`, `{a,b}`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schemars(rename = "IgnoreRule", extend("minProperties" = 1))]
pub(crate) struct RawIgnoreRule {
    /// Glob on the subscription name, e.g. `zapier-*`.
    #[schemars(length(min = 1))]
    pub name: Option<String>,
    /// Glob on the topic, e.g. `customer.joined.*`.
    #[schemars(length(min = 1))]
    pub topic: Option<String>,
    /// Glob on the callback URL, e.g. `https://hooks.zapier.com/*`.
    #[schemars(length(min = 1))]
    pub callback_url: Option<String>,
}

fn version_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({ "type": "integer", "const": 1 })
}

fn vars_schema(_: &mut SchemaGenerator) -> Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": { "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$" },
        "additionalProperties": { "type": "string" },
        "maxProperties": MAX_VARS,
    })
}

/// Most `vars` of one fleet merchant.
pub(crate) const MAX_VARS: usize = 1_000;

fn topic_schema(_: &mut SchemaGenerator) -> Schema {
    let mut choices: Vec<serde_json::Value> = Topic::ALL
        .iter()
        .map(|t| json!({ "const": t.as_str(), "description": t.description() }))
        .collect();
    choices.push(json!({
        "pattern": r"^[^\s]+$",
        "description": "a topic invhooks does not know yet; needs `allowUnknownTopics: true`"
    }));
    schemars::json_schema!({ "type": "string", "minLength": 1, "anyOf": choices })
}

fn renamed_from_schema(_: &mut SchemaGenerator) -> Schema {
    let name = json!({ "type": "string", "minLength": 1, "maxLength": 255 });
    schemars::json_schema!({
        "type": ["string", "array"],
        "minLength": 1,
        "maxLength": 255,
        "items": name,
        "minItems": 1,
        "uniqueItems": true,
    })
}

fn topics_schema(generator: &mut SchemaGenerator) -> Schema {
    let item = topic_schema(generator);
    schemars::json_schema!({
        "type": "array",
        "items": item,
        "minItems": 1,
        "uniqueItems": true,
    })
}

/// What a field's value must be, for "must be …, found …" messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The manifest version number.
    Version,
    /// `true` or `false`.
    Bool,
    /// A string.
    Str,
    /// A list of strings.
    StrList,
    /// A string or a list of strings.
    StrOrList,
    /// A list of mappings (entries checked one by one).
    List,
    /// A mapping (entries checked one by one).
    Map,
}

impl Kind {
    /// How messages describe the expected value.
    pub(crate) fn expected(self) -> &'static str {
        match self {
            Kind::Version => "the number `1`",
            Kind::Bool => "`true` or `false`",
            Kind::Str => "a string",
            Kind::StrList => "a list of strings",
            Kind::StrOrList => "a string or a list of strings",
            Kind::List => "a list",
            Kind::Map => "a mapping of names to values",
        }
    }

    /// The JSON Schema `type` of the field, to keep these lists honest.
    #[cfg(test)]
    pub(crate) fn schema_type(self) -> &'static str {
        match self {
            Kind::Version => "integer",
            Kind::Bool => "boolean",
            Kind::Str | Kind::StrOrList => "string",
            Kind::StrList | Kind::List => "array",
            Kind::Map => "object",
        }
    }
}

/// A known field: its YAML name and what its value must be.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    /// The key as written in YAML (camelCase).
    pub name: &'static str,
    /// The expected value.
    pub kind: Kind,
}

const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

/// The fields of [`RawManifest`], in schema order.
pub(crate) const MANIFEST_FIELDS: &[Field] = &[
    field("version", Kind::Version),
    field("merchant", Kind::Str),
    field("apiKeyEnv", Kind::Str),
    field("canary", Kind::Bool),
    field("merchants", Kind::List),
    field("prune", Kind::Bool),
    field("allowHttp", Kind::Bool),
    field("allowUnknownTopics", Kind::Bool),
    field("ignore", Kind::List),
    field("subscriptions", Kind::List),
];

/// The fields of [`RawFleetEntry`].
pub(crate) const FLEET_FIELDS: &[Field] = &[
    field("merchant", Kind::Str),
    field("apiKeyEnv", Kind::Str),
    field("canary", Kind::Bool),
    field("vars", Kind::Map),
];

/// The fields of [`RawSubscription`].
pub(crate) const SUBSCRIPTION_FIELDS: &[Field] = &[
    field("name", Kind::Str),
    field("topic", Kind::Str),
    field("topics", Kind::StrList),
    field("callbackUrl", Kind::Str),
    field("renamedFrom", Kind::StrOrList),
    field("maskPathSecrets", Kind::Bool),
];

/// The fields of [`RawIgnoreRule`].
pub(crate) const IGNORE_FIELDS: &[Field] = &[
    field("name", Kind::Str),
    field("topic", Kind::Str),
    field("callbackUrl", Kind::Str),
];

/// The manifest's JSON Schema (draft 2020-12).
pub(crate) fn schema() -> serde_json::Value {
    schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RawManifest>()
        .to_value()
}
