//! One module per subcommand: wiring, not logic. [`run`] resolves the clap
//! arguments into a [`Context`] once and dispatches.

mod apply;
pub mod base_url;
mod ci;
mod completions;
mod demo;
mod drift;
mod export;
mod plan;
mod sandbox;
mod saved;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::api::{self, ApiKey, Client, ClientOptions};
use crate::cli::{Cli, ColorChoice, Command};
use crate::exit::Exit;
use crate::manifest;
use crate::model::{LiveSubscription, MerchantManifest};
use crate::plan::Plan;

pub use self::error::{install_panic_hook, report, Helped};

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
    /// Extra CA certificates (`--ca-cert`, `SSL_CERT_FILE`), read when a
    /// client is made.
    pub ca_cert: Option<PathBuf>,
    /// Whether stderr is a terminal (a progress bar instead of lines).
    pub stderr_tty: bool,
    /// Plain http to a non-loopback sandbox, allowed by
    /// [`base_url::ALLOW_INSECURE_ENV`] (warned on every run).
    pub insecure_sandbox: bool,
}

impl Context {
    /// Resolves the global arguments.
    pub fn new(cli: &Cli) -> anyhow::Result<Self> {
        let g = &cli.global;
        let env = |name: &str| std::env::var(name).ok();
        let raw = match cli.command.is_offline() {
            // Never talks to the API: a base URL meant for other jobs must not fail it.
            true => api::DEFAULT_BASE_URL.to_owned(),
            false => base_url::raw(g.base_url.as_deref(), env(crate::cli::BASE_URL_ENV).as_deref()),
        };
        let base = base_url::resolve(&raw, env(base_url::ALLOW_INSECURE_ENV).as_deref())?;
        if let Some(warning) = base.warning() {
            let _ = writeln!(std::io::stderr().lock(), "warning: {warning}");
        }
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match g.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Ok(Self {
            insecure_sandbox: base.insecure.is_some(),
            base_url: base.url,
            timeout: Duration::from_secs(g.timeout),
            verbosity: g.verbose,
            quiet: g.quiet,
            color,
            interactive: std::io::stdin().is_terminal(),
            ca_cert: g
                .ca_cert
                .clone()
                .or_else(|| std::env::var_os(crate::cli::CA_CERT_ENV).map(PathBuf::from))
                .filter(|p| !p.as_os_str().is_empty()),
            stderr_tty: std::io::stderr().is_terminal(),
        })
    }

    /// Writes data to stdout.
    /// Every write below redacts the API keys read so far: a last line of
    /// defence should a key reach some text (a live subscription holding
    /// it, a bug).
    pub fn out(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let _ = stdout.write_all(api::redact_known(text).as_bytes());
        let _ = stdout.flush();
    }

    /// Writes a progress or status line to stderr, unless `-q`.
    pub fn status(&self, line: &str) {
        if !self.quiet {
            let _ = writeln!(std::io::stderr().lock(), "{}", api::redact_known(line));
        }
    }

    /// A progress bar for `len` changes on a terminal; `None` elsewhere
    /// (progress is then one line per change, or nothing with `-q`).
    pub fn progress_bar(&self, len: usize, label: &str) -> Option<indicatif::ProgressBar> {
        if self.quiet || !self.stderr_tty {
            return None;
        }
        let bar = indicatif::ProgressBar::new(len as u64);
        let style = indicatif::ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}")
            .map(|s| s.progress_chars("=> "));
        if let Ok(style) = style {
            bar.set_style(style);
        }
        bar.set_prefix(label.to_owned());
        Some(bar)
    }

    /// Writes a warning to stderr (even with `-q`).
    pub fn warn(&self, line: &str) {
        let _ = writeln!(std::io::stderr().lock(), "warning: {}", api::redact_known(line));
    }

    /// A client for `key`, logging to stderr at the chosen verbosity.
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        let options = ClientOptions {
            timeout: self.timeout,
            verbosity: self.verbosity,
            log: std::sync::Arc::new(|line: &str| {
                let _ = writeln!(std::io::stderr().lock(), "  {line}");
            }),
            extra_roots: match &self.ca_cert {
                Some(path) => load_ca_certs(path)?,
                None => Vec::new(),
            },
            insecure_http: self.insecure_sandbox,
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
        Command::Completions { shell } => Ok(completions::run(&ctx, shell)),
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

/// Reads a PEM bundle of CA certificates for `--ca-cert` / `SSL_CERT_FILE`.
fn load_ca_certs(path: &std::path::Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    const MAX_BYTES: u64 = 16 * 1024 * 1024;
    let shown = path.display();
    let help = "pass a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----` blocks) with --ca-cert FILE or SSL_CERT_FILE";
    let read = || -> anyhow::Result<Vec<reqwest::Certificate>> {
        use std::io::Read as _;
        let mut pem = Vec::new();
        std::fs::File::open(path)?
            .take(MAX_BYTES + 1)
            .read_to_end(&mut pem)?;
        anyhow::ensure!(pem.len() as u64 <= MAX_BYTES, "larger than 16 MiB");
        anyhow::ensure!(
            pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----"),
            "no PEM certificate in it"
        );
        let certs = reqwest::Certificate::from_pem_bundle(&pem)?;
        // Parsed for real only when a client is built: try each one now,
        // so a bad one is named instead of failing every client.
        for (i, cert) in certs.iter().enumerate() {
            if let Err(e) = reqwest::Client::builder()
                .add_root_certificate(cert.clone())
                .build()
            {
                let cause = std::error::Error::source(&e).map_or_else(|| e.to_string(), |s| s.to_string());
                anyhow::bail!("certificate {} in the file is not usable: {cause}", i + 1);
            }
        }
        Ok(certs)
    };
    read().map_err(|e| {
        Helped::wrap(
            e.context(format!("cannot use CA certificates from `{shown}`")),
            help,
        )
    })
}

/// Reads the process environment, for manifest `${VAR}` expansion.
pub fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Loads and validates manifests; diagnostics become one error (and, on
/// GitHub Actions, annotations too).
pub fn load(ctx: &Context, files: &[PathBuf]) -> anyhow::Result<Vec<MerchantManifest>> {
    manifest::load_paths(files, &process_env)
        .inspect_err(|d| ctx.annotate(d))
        .map_err(|d| match d.0.len() {
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
    let manifests = load(ctx, files)?;
    let mut clients = Vec::with_capacity(manifests.len());
    for m in &manifests {
        let who = format!("merchant `{}` in {}", m.label, m.file.display());
        clients.push(ctx.client(&api_key(&m.api_key_env, &who)?)?);
    }
    let lists = futures_util::future::join_all(clients.iter().map(|c| c.list())).await;
    let mut targets = Vec::with_capacity(manifests.len());
    for ((manifest, client), live) in manifests.into_iter().zip(clients).zip(lists) {
        let live = live.map_err(|e| {
            let help = if matches!(e.failure, api::Failure::Tls(_)) {
                "if a corporate proxy or a private CA signs the server's certificate, pass that CA with --ca-cert FILE (or SSL_CERT_FILE); verification is never turned off".to_owned()
            } else if e.is_auth() {
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
    crate::plan::diff_all(targets.iter().map(|t| (&t.manifest, t.live.as_slice())))
}
