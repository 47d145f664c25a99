//! One module per subcommand: wiring, not logic. [`run`] resolves the clap
//! arguments into a [`Context`] once and dispatches.

mod apply;
mod demo;
mod drift;
mod export;
mod plan;
mod sandbox;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use url::Url;

use crate::api::{self, ApiKey, Client, ClientOptions};
use crate::cli::{Cli, ColorChoice, Command};
use crate::exit::Exit;
use crate::manifest;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::Plan;

pub use self::error::{report, Helped};

mod error;

/// Settings resolved from arguments and environment, shared by commands.
#[derive(Debug, Clone)]
pub struct Context {
    /// API base URL, checked (https, or http on loopback).
    pub base_url: Url,
    /// Timeout of one request.
    pub timeout: Duration,
    /// `-v` count.
    pub verbosity: u8,
    /// `-q`.
    pub quiet: bool,
    /// Colour on stdout.
    pub color: bool,
    /// Whether stdin is a terminal (apply's confirmation).
    pub interactive: bool,
    /// Whether to show live progress on stderr (a terminal, not `-q`).
    pub progress: bool,
}

impl Context {
    /// Resolves the global arguments.
    pub fn new(cli: &Cli) -> anyhow::Result<Self> {
        let g = &cli.global;
        let raw = g
            .base_url
            .as_deref()
            .filter(|s| !s.is_empty())
            .unwrap_or(api::DEFAULT_BASE_URL);
        let base_url = api::parse_base_url(raw).context("check --base-url or INVETERATE_BASE_URL")?;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Ok(Self {
            base_url,
            timeout: Duration::from_secs(g.timeout),
            verbosity: g.verbose,
            quiet: g.quiet,
            color,
            interactive: std::io::stdin().is_terminal(),
            progress: !g.quiet && std::io::stderr().is_terminal(),
        })
    }

    /// Writes data to stdout.
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(text.as_bytes());
        let _ = stdout.flush();
    }

    /// Writes a progress or status line to stderr, unless `-q`.
    pub fn status(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{line}");
        }
    }

    /// Writes a warning to stderr (even with `-q`).
    pub fn warn(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "warning: {line}");
    }

    /// A client for `key`, logging to stderr at the chosen verbosity.
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        let options = ClientOptions {
            timeout: self.timeout,
            verbosity: self.verbosity,
            log: std::sync::Arc::new(|line: &str| {
                let _ = writeln!(std::io::stderr().lock(), "  {line}");
            }),
            ..ClientOptions::default()
        };
        Client::new(&self.base_url, key, options)
    }
}

/// Runs the parsed command line; errors are reported by the caller.
pub async fn run(cli: Cli) -> anyhow::Result<Exit> {
    let ctx = Context::new(&cli)?;
    match cli.command {
        Command::Plan(args) => plan::run(&ctx, args).await,
        Command::Apply(args) => apply::run(&ctx, args).await,
        Command::Drift(args) => drift::run(&ctx, args).await,
        Command::Validate(args) => validate::run(&ctx, &args.files),
        Command::Export(args) => export::run(&ctx, args).await,
        Command::Topics => Ok(topics(&ctx)),
        Command::Schema => {
            let schema = serde_json::to_string_pretty(&manifest::schema())?;
            ctx.out(&format!("{schema}\n"));
            Ok(Exit::Success)
        }
        Command::Sandbox(args) => sandbox::run(&ctx, args).await,
        Command::Demo => demo::run(&ctx).await,
    }
}

fn topics(ctx: &Context) -> Exit {
    let width = crate::topic::Topic::ALL
        .iter()
        .map(|t| t.as_str().len())
        .max()
        .unwrap_or(0);
    let text: String = crate::topic::Topic::ALL
        .iter()
        .map(|t| format!("{:width$}  {}\n", t.as_str(), t.description()))
        .collect();
    ctx.out(&text);
    Exit::Success
}

/// Reads the process environment, for manifest `${VAR}` expansion.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and validates manifests; diagnostics become one error.
pub fn load(files: &[PathBuf]) -> anyhow::Result<Vec<MerchantManifest>> {
    manifest::load_paths(files, &process_env).map_err(|d| match d.0.len() {
        1 => anyhow::anyhow!("{d}"),
        n => anyhow::anyhow!("{d}\n{n} problems found in the manifest; nothing was sent to the API"),
    })
}

/// One merchant ready to plan: its manifest, client and live state.
#[derive(Debug)]
pub struct Target {
    /// The merchant's manifest.
    pub manifest: MerchantManifest,
    /// A client holding the merchant's key.
    pub client: Client,
    /// Live subscriptions, read with one GET.
    pub live: Vec<LiveSubscription>,
}

/// Reads each merchant's key from its environment variable.
pub fn api_key(env_name: &str, who: &str) -> anyhow::Result<ApiKey> {
    match std::env::var(env_name) {
        Ok(key) if !key.trim().is_empty() => Ok(ApiKey::new(key.trim().to_owned())),
        _ => Err(Helped::wrap(
            anyhow::anyhow!("environment variable `{env_name}` is not set or empty ({who})"),
            format!("export {env_name}=<private API key from Inveterate Admin → Settings>; keys are never accepted as flags"),
        )),
    }
}

/// Loads manifests, then reads every merchant's live list (one GET each,
/// concurrently).
pub async fn fetch(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<Target>> {
    let manifests = load(files)?;
    let mut clients = Vec::with_capacity(manifests.len());
    for m in &manifests {
        let who = format!("merchant `{}` in {}", m.label, m.file.display());
        clients.push(ctx.client(&api_key(&m.api_key_env, &who)?)?);
    }
    let lists = futures_util::future::join_all(clients.iter().map(|c| c.list())).await;
    let mut targets = Vec::with_capacity(manifests.len());
    for ((manifest, client), live) in manifests.into_iter().zip(clients).zip(lists) {
        let live = live.map_err(|e| {
            let help = if e.is_auth() {
                format!(
                    "check that `{}` holds this merchant's private API key",
                    manifest.api_key_env
                )
            } else {
                "check the network, --base-url and --timeout, then re-run".to_owned()
            };
            Helped::wrap(
                anyhow::Error::new(e).context(format!(
                    "merchant `{}`: could not read live subscriptions",
                    manifest.label
                )),
                help,
            )
        })?;
        targets.push(Target {
            manifest,
            client,
            live,
        });
    }
    Ok(targets)
}

/// Plans every target.
pub fn plan_targets(targets: &[Target]) -> Plan {
    let mut merchants: Vec<_> = targets
        .iter()
        .map(|t| crate::plan::diff(&t.manifest, &t.live))
        .collect();
    merchants.sort_by(|a, b| a.merchant.cmp(&b.merchant));
    Plan { merchants }
}
