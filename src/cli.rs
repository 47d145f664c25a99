//! Command-line types (clap derive) and nothing else: [`crate::commands`] runs them.
//! Doc comments on arguments and commands are their `--help`.

use std::net::SocketAddr;
use std::path::PathBuf;

pub use clap::ColorChoice;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::apply::waves::{Sizes, WaveGate};
use crate::sandbox::Ids;

/// Keep Inveterate webhook subscriptions exactly as a YAML manifest declares them.
///
/// `plan` shows what would change, `apply` makes it so, `drift` reports
/// hand-made changes. Start with `invhooks demo`.
#[derive(Debug, Parser)]
#[command(name = "invhooks", version = crate::VERSION, propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the Inveterate API (https, or http on loopback) [env: INVETERATE_BASE_URL]
    // Read from the environment by `commands`, not by clap: clap counts an
    // env-provided value as given and prints it in every usage line.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,
    /// When to colour output (`auto`: on a terminal, unless `NO_COLOR` is set or `TERM` is `dumb`)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
    /// Log requests (-v) and bodies (-vv) to stderr; keys and secrets never
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Print only results and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Seconds one request may take (1 to 3600)
    #[arg(long, global = true, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u16).range(1..=3600))]
    pub timeout: u16,
    /// Also trust this PEM file's CA certificates; verification stays on [env: SSL_CERT_FILE]
    #[arg(long, global = true, value_name = "FILE")]
    pub ca_cert: Option<PathBuf>,
}

/// The network options, hidden: an offline command accepts them without listing them.
fn hidden_network_options() -> Vec<clap::Arg> {
    GlobalArgs::augment_args(clap::Command::new("global"))
        .get_arguments()
        .filter(|a| ["base_url", "timeout", "ca_cert"].contains(&a.get_id().as_str()))
        .map(|a| a.clone().hide(true))
        .collect()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Show what apply would change (one GET per merchant, no writes)
    #[command(after_help = PLAN_EXIT_CODES)]
    Plan(PlanArgs),
    /// Make the live subscriptions match the manifest
    #[command(after_help = APPLY_EXIT_CODES)]
    Apply(ApplyArgs),
    /// Report differences between live and the manifest (exit 0 in sync, 2 drift)
    #[command(after_help = DRIFT_EXIT_CODES)]
    Drift(DriftArgs),
    /// Check manifest files offline: syntax, fields, topics, variables, URLs
    #[command(args(hidden_network_options()))]
    Validate(ValidateArgs),
    /// Probe every desired callback URL: DNS, TCP, TLS, HTTP (no key, no API request)
    Check(CheckArgs),
    /// Render a saved plan (`plan --out`) as text, JSON or Markdown: no key, no request
    Show(ShowArgs),
    /// Write live subscriptions as a manifest (one merchant) or a fleet file (--store)
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Ask a sandbox to deliver one TOPIC event to its subscribers (the sandbox only)
    Trigger(TriggerArgs),
    /// Check that a store's API behaves as invhooks assumes (--write: a round trip on a throwaway subscription)
    Doctor(DoctorArgs),
    /// List the webhook topics Inveterate documents
    #[command(args(hidden_network_options()))]
    Topics {
        /// Output format
        #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
        format: TextOrJson,
    },
    /// Print the manifest's JSON Schema (for editor completion and validation)
    #[command(args(hidden_network_options()))]
    Schema,
    /// Run a local Inveterate-compatible API server for tests and CI rehearsals
    #[command(args(hidden_network_options()), next_line_help = true)]
    Sandbox(SandboxArgs),
    /// Run plan and apply end to end against a built-in sandbox: no key, no network
    #[command(args(hidden_network_options()))]
    Demo,
    /// Scaffold a repository: webhooks.yaml, CI workflows and a policy template
    Init(InitArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on stdout
    #[command(args(hidden_network_options()))]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

impl Command {
    /// Never talks to the Inveterate API: its base URL is not checked.
    pub fn is_offline(&self) -> bool {
        use Command::*;
        matches!(
            self,
            Validate(_) | Topics { .. } | Schema | Sandbox(_) | Demo | Completions { .. }
        ) || matches!(self, Init(a) if !a.from_live)
    }

    /// The manifests (and `--policy`) of the commands that take them.
    pub fn manifests(&self) -> Option<&ManifestArgs> {
        use Command::*;
        match self {
            Plan(PlanArgs { manifests, .. }) | Apply(ApplyArgs { manifests, .. }) => Some(manifests),
            Drift(DriftArgs { manifests, .. }) | Check(CheckArgs { manifests, .. }) => Some(manifests),
            Validate(ValidateArgs { manifests, .. }) => Some(manifests),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct ManifestArgs {
    /// Manifest file or directory of *.yaml/*.yml files (repeatable)
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    #[arg(default_value = "webhooks.yaml")]
    pub files: Vec<PathBuf>,
    /// Policy file outside the manifests: allowed callback hosts, safety thresholds
    #[arg(long, value_name = "FILE", env = "INVHOOKS_POLICY", hide_env_values = true)]
    pub policy: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    /// Output format (json: every problem as data, on stdout)
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
}

/// `--format` of `plan`, `drift`, `check`, `show` and `apply`'s report (docs/commands/plan.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

/// `--format` of the commands without a Markdown form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextOrJson {
    Text,
    Json,
}

/// `--merchant` and `--shard` (docs/fleets.md "Agencies and fleets").
#[derive(Debug, Args, Default)]
pub struct SelectArgs {
    /// Only merchants whose label matches GLOB (repeatable)
    #[arg(long = "merchant", value_name = "GLOB")]
    pub merchants: Vec<String>,
    /// Only the K-th of N disjoint shards of merchants, by a stable hash of the label (a CI matrix)
    #[arg(long, value_name = "K/N", value_parser = crate::select::Shard::parse)]
    pub shard: Option<crate::select::Shard>,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Exit 2 when there are changes, 0 when there are none
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Also save the full plan to FILE for `apply --plan` (real URL values, mode 0600: keep it private)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Do not append a Markdown summary to $GITHUB_STEP_SUMMARY
    #[arg(long)]
    pub no_step_summary: bool,
    /// Also probe the callback URLs the plan creates or changes, as `check` does; warnings only
    #[arg(long)]
    pub check_callbacks: bool,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Apply without asking for confirmation (required without a terminal)
    #[arg(long)]
    pub auto_approve: bool,
    /// Apply even when a safety threshold trips (mass update/delete, empty manifest)
    #[arg(long)]
    pub force: bool,
    /// Requests in flight per phase (1 to 64)
    #[arg(long, default_value_t = 4, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub parallelism: u16,
    /// Merchants applied at once, each with up to --parallelism requests in flight (1 to 256)
    #[arg(long, default_value_t = 16, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub merchant_parallelism: u16,
    /// Seconds to wait for live to match the manifest after the calls (0 to 3600)
    #[arg(long, default_value_t = 30, value_name = "SECONDS", value_parser = clap::value_parser!(u16).range(0..=3600))]
    pub wait: u16,
    /// Skip merchants a safety threshold refuses and apply the others (exit 3 if any was refused)
    #[arg(long)]
    pub keep_going: bool,
    /// Apply in waves, canaries first: cumulative counts or percentages of the selected merchants
    #[arg(long, value_name = "SIZES", value_parser = Sizes::parse, help_heading = "Staged rollouts")]
    pub waves: Option<Sizes>,
    /// What must hold after a wave before the next starts (docs/guides/rollouts.md)
    #[arg(long, value_enum, default_value_t, value_name = "GATE")]
    #[arg(help_heading = "Staged rollouts")]
    pub wave_gate: WaveGate,
    /// Seconds to wait between waves (a bake time; an interrupt ends it)
    #[arg(long, default_value_t = 0, value_name = "SECONDS", requires = "waves", help_heading = "Staged rollouts",
          value_parser = clap::value_parser!(u64).range(0..=86_400))]
    pub wave_pause: u64,
    /// Apply this saved plan (from `plan --out`) exactly; refused if live changed since (no -f)
    #[arg(long, value_name = "FILE", conflicts_with_all = ["files", "merchants", "shard"])]
    pub plan: Option<PathBuf>,
    /// Do not append a Markdown summary to $GITHUB_STEP_SUMMARY
    #[arg(long)]
    pub no_step_summary: bool,
    /// Format of the final report on stdout (the plan then goes to stderr for json)
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Do not append a Markdown summary to $GITHUB_STEP_SUMMARY
    #[arg(long)]
    pub no_step_summary: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub manifests: ManifestArgs,
    #[command(flatten)]
    pub select: SelectArgs,
    /// Also POST one synthetic event per subscription, marked `"test": true` in its metadata
    #[arg(long)]
    pub send_test_event: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct TriggerArgs {
    /// The event's topic, e.g. `customer.cancelled` (`invhooks topics` lists them)
    #[arg(value_name = "TOPIC")]
    pub topic: String,
    #[command(flatten)]
    pub keyed: KeyedArgs,
}

/// The merchants whose keys `trigger` and `doctor` use.
#[derive(Debug, Args)]
pub struct KeyedArgs {
    /// Manifests whose merchants' keys (`apiKeyEnv`) to use (repeatable); default `webhooks.yaml` if it exists, else the key in `INVETERATE_API_KEY`
    #[arg(short = 'f', long = "file", value_name = "PATH")]
    pub files: Vec<PathBuf>,
    /// Only merchants whose label matches GLOB (repeatable)
    #[arg(long = "merchant", value_name = "GLOB")]
    pub merchants: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    #[command(flatten)]
    pub keyed: KeyedArgs,
    /// Output format
    #[arg(long, value_enum, default_value_t = TextOrJson::Text)]
    pub format: TextOrJson,
    /// Also create, rename and delete a throwaway subscription `invhooks-doctor-<random>` (use a test store)
    #[arg(long, requires_all = ["topic", "callback_url"])]
    pub write: bool,
    /// The throwaway's topic (with --write)
    #[arg(long, value_name = "T", requires = "write")]
    pub topic: Option<String>,
    /// The throwaway's callback URL (with --write): one you own, as events in its few seconds go there
    #[arg(long, value_name = "URL", requires = "write")]
    pub callback_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The saved plan, as written by `plan --out`
    #[arg(value_name = "PLAN.json")]
    pub plan: PathBuf,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// Under `plan --help` (docs/commands/index.md "Exit codes").
const PLAN_EXIT_CODES: &str = "Exit codes:
  0  success; with --detailed-exitcode: no changes
  1  error: nothing was changed (usage errors too)
  2  with --detailed-exitcode: changes present";

const APPLY_EXIT_CODES: &str = "Exit codes:
  0  live matches the manifest (applied, or nothing to do; with --waves, for every store started)
  1  error, failure, failed wave gate or interrupt: nothing was applied, or the report says
     exactly what was
  3  refused by a safety rule (threshold, stale saved plan, plan saved for another key, no
     terminal without --auto-approve): nothing was changed; with --keep-going, some merchant
     was refused and the others were applied";

const DRIFT_EXIT_CODES: &str = "Exit codes:
  0  live matches the manifest
  1  error
  2  drift: live differs from the manifest";

const EXPORT_EXAMPLES: &str = "Examples:
  invhooks export --merchant acme-eu -o webhooks.yaml
  invhooks export --store store-a=KEY_STORE_A --store store-b=KEY_STORE_B -o fleet.yaml

With --store, the stores must have the same subscriptions (docs/fleets.md \"Export a fleet\").";

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Merchant label written into the manifest (one store)
    #[arg(long, value_name = "LABEL", conflicts_with = "stores")]
    pub merchant: Option<String>,
    /// Environment variable holding the merchant's API key (one store)
    #[arg(long, value_name = "NAME", conflicts_with = "stores")]
    #[arg(default_value = crate::manifest::DEFAULT_API_KEY_ENV)]
    pub api_key_env: String,
    /// A store of a fleet file: its label and the variable holding its key (repeat for each store)
    #[arg(long = "store", value_name = "LABEL=VAR", value_parser = crate::manifest::StoreArg::parse)]
    pub stores: Vec<crate::manifest::StoreArg>,
    /// Write to FILE (mode 0600) instead of stdout; an existing FILE is kept unless --force
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Replace FILE if it exists
    #[arg(long, requires = "output")]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Directory to scaffold (the repository's root)
    #[arg(long, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// CI files to write: GitHub workflows, a .gitlab-ci.yml, or none
    #[arg(long, value_enum, default_value_t = Ci::Github)]
    pub ci: Ci,
    /// Merchant label written into webhooks.yaml
    #[arg(long, value_name = "LABEL")]
    pub merchant: Option<String>,
    /// Write the live subscriptions of the merchant whose key is in INVETERATE_API_KEY (as `export` does) instead of the example
    #[arg(long)]
    pub from_live: bool,
    /// Replace files that exist (without it, an existing file stops init before anything is written)
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Ci {
    Github,
    Gitlab,
    None,
}

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on
    #[arg(long, default_value = "127.0.0.1:8787", value_name = "ADDR")]
    pub listen: SocketAddr,
    /// An API key the sandbox accepts; each key is one merchant (repeatable)
    #[arg(long = "api-key", value_name = "KEY", default_value = "sandbox-key")]
    pub api_keys: Vec<String>,
    /// Persist subscriptions in this JSON file (written atomically)
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Subscription ids: UUID-shaped in no order (`random`, from --seed) or `wh_000001`, … (`sequential`)
    #[arg(long, value_enum, default_value_t, value_name = "KIND")]
    pub ids: Ids,
    #[command(flatten)]
    pub faults: crate::sandbox::Faults,
}
