//! The settings every command shares, resolved once from the global
//! arguments and the environment, and the one place commands write to the
//! terminal from: stdout for data, stderr for status and warnings, each line
//! redacted of every API key read so far.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::{base_url, Helped};
use crate::api::{self, ApiKey, Client, ClientOptions, Http};
use crate::cli::{Cli, ColorChoice};
use crate::plan::Thresholds;
use crate::policy::{self, Policy};
use crate::render::github;
use crate::stop::Stop;

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
    /// Colour of the `error:` and `warning:` labels on stderr.
    pub stderr_color: bool,
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
    /// The policy (`--policy`, `INVHOOKS_POLICY`), read and checked once.
    pub policy: Option<Policy>,
    /// The run's one cancellation token (an interrupt), shared by every
    /// clone, every client and `apply`.
    pub stop: Stop,
    /// The one HTTP pool, shared by every merchant and every clone.
    http: std::sync::Arc<std::sync::OnceLock<Http>>,
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
        let warning = base.warning();
        let stderr_tty = std::io::stderr().is_terminal();
        let ctx = Self {
            insecure_sandbox: base.insecure.is_some(),
            base_url: base.url,
            timeout: Duration::from_secs(u64::from(g.timeout)),
            verbosity: g.verbose,
            quiet: g.quiet,
            color: colour(g.color, std::io::stdout().is_terminal(), &env),
            stderr_color: colour(g.color, stderr_tty, &env),
            interactive: std::io::stdin().is_terminal(),
            ca_cert: g
                .ca_cert
                .clone()
                .or_else(|| std::env::var_os(crate::cli::CA_CERT_ENV).map(PathBuf::from))
                .filter(|p| !p.as_os_str().is_empty()),
            stderr_tty,
            policy: policy_file(cli).map(read_policy).transpose()?,
            stop: Stop::default(),
            http: std::sync::Arc::default(),
        };
        if let Some(warning) = warning {
            ctx.warn(&warning);
        }
        Ok(ctx)
    }

    /// Writes `text` to `sink`, with every API key read so far replaced by
    /// `***` (a key shorter than 12 characters only as a whole token).
    /// Every byte invhooks writes goes through here: stdout, stderr,
    /// progress lines, the step summary, annotations, plan and export files.
    /// The last line of defence, not the first: renderers mask values
    /// before they lay them out ([`crate::secret::Masked`]); this catches a
    /// key that reached some other text (a message, a bug).
    /// Lines on stdout, stderr and above a progress bar are also
    /// [`github::defuse`]d: only [`Context::workflow_commands`] starts a
    /// line with `::`.
    pub fn emit(&self, sink: Sink<'_>, text: &str) -> std::io::Result<()> {
        let text = api::redact_known(text);
        let text = match sink {
            Sink::Stdout | Sink::Stderr | Sink::Bar(_) => github::defuse(&text),
            Sink::Append(_) | Sink::Private(_) | Sink::PrivateNew(_) => text.as_str().into(),
        };
        match sink {
            Sink::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(text.as_bytes())?;
                stdout.flush()
            }
            Sink::Stderr => {
                let text = super::error::paint_labels(&text, self.stderr_color);
                std::io::stderr().lock().write_all(text.as_bytes())
            }
            Sink::Bar(bar) => {
                bar.println(text.trim_end_matches('\n'));
                Ok(())
            }
            Sink::Append(path) => std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?
                .write_all(text.as_bytes()),
            Sink::Private(path) => write_private(path, text.as_bytes(), true),
            Sink::PrivateNew(path) => write_private(path, text.as_bytes(), false),
        }
    }

    /// Writes workflow commands (`::error …`) to stderr, even with `-q`:
    /// the one writer of lines the runner executes, and it takes only
    /// [`github::Commands`], whose data is escaped.
    pub fn workflow_commands(&self, commands: &github::Commands) {
        let text = api::redact_known(commands.as_str());
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
    }

    /// Every API key this process has read so far, for the renderers to
    /// mask values with (SPEC "Safety by construction"). Read after the
    /// keys are: a renderer is called once the live lists are in.
    pub fn keys(&self) -> std::sync::Arc<crate::secret::Keys> {
        api::known_keys()
    }

    /// The safety thresholds: the policy's, else the built-in ones.
    pub fn thresholds(&self) -> Thresholds {
        self.policy.as_ref().map(|p| p.thresholds).unwrap_or_default()
    }

    /// Writes data to stdout.
    pub fn out(&self, text: &str) {
        let _ = self.emit(Sink::Stdout, text);
    }

    /// Writes a progress or status line to stderr, unless `-q`.
    pub fn status(&self, line: &str) {
        if !self.quiet {
            let _ = self.emit(Sink::Stderr, &format!("{line}\n"));
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
        let _ = self.emit(Sink::Stderr, &format!("warning: {line}\n"));
    }

    /// Writes a refusal (exit 3) to stderr: its first line as `error:`,
    /// the others indented beneath it.
    pub fn refuse(&self, lines: &[String]) {
        let mut text = String::new();
        for (i, line) in lines.iter().enumerate() {
            text.push_str(if i == 0 { "error: " } else { "  " });
            text.push_str(line);
            text.push('\n');
        }
        let _ = self.emit(Sink::Stderr, &text);
    }

    /// A client for `key` on the run's one [`Http`] pool, logging to stderr
    /// at the chosen verbosity.
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        self.http()?.client(key)
    }

    /// The run's one HTTP pool, built on first use: the CA bundle is read
    /// once however many merchants there are.
    fn http(&self) -> anyhow::Result<&Http> {
        if let Some(http) = self.http.get() {
            return Ok(http);
        }
        let options = ClientOptions {
            timeout: self.timeout,
            verbosity: self.verbosity,
            log: std::sync::Arc::new(|line: &str| {
                let line = api::redact_known(&format!("  {line}\n"));
                let line = github::defuse(&line);
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }),
            extra_roots: match &self.ca_cert {
                Some(path) => load_ca_certs(path)?,
                None => Vec::new(),
            },
            insecure_http: self.insecure_sandbox,
            stop: self.stop.clone(),
            ..ClientOptions::default()
        };
        let http = Http::new(&self.base_url, options)?;
        Ok(self.http.get_or_init(|| http))
    }
}

/// Whether to colour a stream: `--color always`/`never`, else only a
/// terminal, and not when `NO_COLOR` is set or `TERM` is `dumb`.
pub fn colour(choice: ColorChoice, terminal: bool, env: &dyn Fn(&str) -> Option<String>) -> bool {
    let set = |name: &str| env(name).filter(|v| !v.is_empty());
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && set("NO_COLOR").is_none() && set("TERM").as_deref() != Some("dumb"),
    }
}

/// Where [`Context::emit`] writes.
#[derive(Debug, Clone, Copy)]
pub enum Sink<'a> {
    /// Data: plans, reports, exports without `-o`.
    Stdout,
    /// Status, warnings, logs, annotations.
    Stderr,
    /// A line above a terminal progress bar.
    Bar(&'a indicatif::ProgressBar),
    /// The end of a file (`$GITHUB_STEP_SUMMARY`).
    Append(&'a Path),
    /// A whole file, private (mode 0600), replaced atomically: saved plans
    /// and `export --force`.
    Private(&'a Path),
    /// [`Sink::Private`], but never over an existing file (an
    /// `AlreadyExists` error instead): `export -o` without `--force`.
    PrivateNew(&'a Path),
}

/// Writes `bytes` to `path` through a temporary file in the same directory
/// (created with mode 0600 on Unix), renamed into place; without
/// `replace`, never over an existing file (checked at the rename).
fn write_private(path: &Path, bytes: &[u8], replace: bool) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut file = tempfile::Builder::new()
        .prefix(".invhooks-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    file.write_all(bytes)?;
    file.as_file().sync_all()?;
    match replace {
        true => file.persist(path).map_err(|e| e.error)?,
        false => file.persist_noclobber(path).map_err(|e| e.error)?,
    };
    Ok(())
}

/// The `--policy` of the commands that take one.
fn policy_file(cli: &Cli) -> Option<&std::path::Path> {
    let manifests = cli.command.manifests()?;
    manifests.policy.as_deref().filter(|p| !p.as_os_str().is_empty())
}

/// Reads and checks the policy file (at most 8 MiB, room for tens of
/// thousands of host globs); its problems are reported like a manifest's,
/// with `file:line`.
fn read_policy(path: &std::path::Path) -> anyhow::Result<Policy> {
    use std::io::Read as _;
    const MAX_BYTES: u64 = 8 * 1024 * 1024;
    let shown = path.display();
    let mut text = String::new();
    let read = std::fs::File::open(path).and_then(|f| f.take(MAX_BYTES + 1).read_to_string(&mut text));
    if let Err(e) = read {
        return Err(Helped::wrap(
            anyhow::Error::new(e).context(format!("cannot read policy file `{shown}`")),
            "pass the policy with --policy FILE or INVHOOKS_POLICY (a YAML file with `version: 1`)",
        ));
    }
    anyhow::ensure!(
        text.len() as u64 <= MAX_BYTES,
        "policy file `{shown}` is larger than 8 MiB"
    );
    policy::parse(path, &text)
        .map_err(|d| anyhow::anyhow!("{d}\nthe policy file has problems; nothing was sent to the API"))
}

/// The help for a CA file that cannot be used.
const CA_HELP: &str = "pass a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----` blocks) with --ca-cert FILE or SSL_CERT_FILE";

impl Context {
    /// The extra CA certificates (`--ca-cert`, `SSL_CERT_FILE`) as DER, for
    /// TLS outside the API client (`check`'s probes).
    pub fn ca_roots_der(
        &self,
    ) -> anyhow::Result<Vec<tokio_rustls::rustls::pki_types::CertificateDer<'static>>> {
        use tokio_rustls::rustls::pki_types::pem::PemObject as _;
        let Some(path) = &self.ca_cert else {
            return Ok(Vec::new());
        };
        let certs = read_ca_pem(path).and_then(|pem| {
            tokio_rustls::rustls::pki_types::CertificateDer::pem_slice_iter(&pem)
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| anyhow::anyhow!("{e}"))
        });
        certs.map_err(|e| {
            Helped::wrap(
                e.context(format!("cannot use CA certificates from `{}`", path.display())),
                CA_HELP,
            )
        })
    }
}

/// Reads a PEM file of CA certificates (at most 16 MiB, at least one
/// certificate block).
fn read_ca_pem(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use std::io::Read as _;
    const MAX_BYTES: u64 = 16 * 1024 * 1024;
    let mut pem = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_BYTES + 1)
        .read_to_end(&mut pem)?;
    anyhow::ensure!(pem.len() as u64 <= MAX_BYTES, "larger than 16 MiB");
    anyhow::ensure!(
        pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----"),
        "no PEM certificate in it"
    );
    Ok(pem)
}

/// Reads a PEM bundle of CA certificates for `--ca-cert` / `SSL_CERT_FILE`.
fn load_ca_certs(path: &std::path::Path) -> anyhow::Result<Vec<reqwest::Certificate>> {
    let shown = path.display();
    let read = || -> anyhow::Result<Vec<reqwest::Certificate>> {
        let pem = read_ca_pem(path)?;
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
            CA_HELP,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{colour, ColorChoice};

    #[test]
    fn colour_follows_the_flag_then_no_color_term_and_the_terminal() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                vars.iter()
                    .find(|(k, _)| *k == name)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        let auto = |terminal, vars| colour(ColorChoice::Auto, terminal, &env(vars));
        assert!(auto(true, &[("TERM", "xterm-256color")]));
        assert!(auto(true, &[("NO_COLOR", "")]), "an empty NO_COLOR is unset");
        assert!(!auto(false, &[]), "not a terminal");
        assert!(!auto(true, &[("TERM", "dumb")]));
        assert!(!auto(true, &[("NO_COLOR", "1")]));
        assert!(colour(
            ColorChoice::Always,
            false,
            &env(&[("TERM", "dumb"), ("NO_COLOR", "1")])
        ));
        assert!(!colour(ColorChoice::Never, true, &env(&[])));
    }
}
