//! The settings every command shares, resolved once, and [`Context::emit`], the one writer
//! of every byte invhooks outputs, redacted of every API key read so far.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_rustls::rustls::pki_types::{pem::PemObject as _, CertificateDer};
use url::Url;

use super::Helped;
use crate::api::{self, ApiKey, BaseUrl, Client, ClientOptions, Http, LogSink, ALLOW_INSECURE_ENV};
use crate::cli::{Cli, ColorChoice};
use crate::manifest::Diagnostics;
use crate::plan::Thresholds;
use crate::policy::{self, Policy};
use crate::render::github;
use crate::stop::Stop;

/// Settings resolved from arguments and environment, shared by commands.
#[derive(Debug, Clone)]
pub struct Context {
    /// Checked: https, or http on loopback (or off it: `insecure_sandbox`, [`ALLOW_INSECURE_ENV`]).
    pub base_url: Url,
    pub insecure_sandbox: bool,
    pub timeout: Duration,
    pub verbosity: u8,
    pub quiet: bool,
    /// Colour on stdout; `stderr_color` for the `error:`/`warning:` labels.
    pub color: bool,
    pub stderr_color: bool,
    /// `--ca-cert`, `SSL_CERT_FILE`: read on first use ([`Context::ca_roots`]).
    ca_cert: Option<PathBuf>,
    /// The policy, or its file's problems: read through [`Context::policy`].
    policy: Result<Option<Policy>, Diagnostics>,
    /// The run's one cancellation token, shared by every clone, client and `apply`.
    pub stop: Stop,
    /// Built on first use, shared by every clone.
    http: Arc<OnceLock<Http>>,
    roots: Arc<OnceLock<Vec<CertificateDer<'static>>>>,
}

impl Context {
    pub fn new(cli: &Cli) -> anyhow::Result<Self> {
        let g = &cli.global;
        let env = |name: &str| std::env::var(name).ok();
        // An offline command never talks to the API: a base URL meant for other jobs must not fail it.
        let raw = match cli.command.is_offline() {
            true => api::DEFAULT_BASE_URL.to_owned(),
            false => BaseUrl::raw(g.base_url.as_deref(), env("INVETERATE_BASE_URL").as_deref()),
        };
        let base = BaseUrl::parse(&raw, env(ALLOW_INSECURE_ENV).as_deref());
        let base = base.map_err(|e| Helped::msg(e.to_string(), e.help()))?;
        let policy = cli.command.manifests().and_then(|m| m.policy.as_deref());
        let warning = base.warning();
        let ctx = Self {
            insecure_sandbox: base.insecure.is_some(),
            base_url: base.url,
            timeout: Duration::from_secs(u64::from(g.timeout)),
            verbosity: g.verbose,
            quiet: g.quiet,
            color: colour(g.color, std::io::stdout().is_terminal(), &env),
            stderr_color: colour(g.color, std::io::stderr().is_terminal(), &env),
            ca_cert: (g.ca_cert.clone())
                .or_else(|| std::env::var_os("SSL_CERT_FILE").map(PathBuf::from))
                .filter(|p| !p.as_os_str().is_empty()),
            policy: (policy.filter(|p| !p.as_os_str().is_empty()))
                .map(read_policy)
                .transpose()?
                .transpose(),
            stop: Stop::default(),
            http: Arc::default(),
            roots: Arc::default(),
        };
        if let Some(warning) = warning {
            ctx.warn(&warning);
        }
        Ok(ctx)
    }

    /// Writes `text` with every API key read so far as `***` (the last line of defence);
    /// terminal lines also [`github::defuse`]d: only annotations start with `::`.
    pub fn emit(&self, sink: Sink<'_>, text: &str) -> std::io::Result<()> {
        let text = api::redact_known(text);
        match sink {
            Sink::Stdout => {
                let mut stdout = std::io::stdout().lock();
                stdout.write_all(github::defuse(&text).as_bytes())?;
                stdout.flush()
            }
            Sink::Stderr => {
                let text = super::error::paint_labels(&github::defuse(&text), self.stderr_color);
                std::io::stderr().lock().write_all(text.as_bytes())
            }
            Sink::Append(path) => {
                (std::fs::OpenOptions::new().create(true).append(true).open(path)?).write_all(text.as_bytes())
            }
            // A 0600 temporary file renamed into place: an existing file is checked at the rename.
            Sink::Private(path, replace) => {
                let dir = (path.parent()).filter(|d| !d.as_os_str().is_empty());
                let mut file = tempfile::NamedTempFile::new_in(dir.unwrap_or(Path::new(".")))?;
                file.write_all(text.as_bytes())?;
                file.as_file().sync_all()?;
                let persisted = if replace {
                    file.persist(path)
                } else {
                    file.persist_noclobber(path)
                };
                persisted.map(drop).map_err(|e| e.error)
            }
        }
    }

    /// Every API key read so far, for the renderers to mask values with.
    pub fn keys(&self) -> Arc<crate::secret::Keys> {
        api::known_keys()
    }

    /// The policy (`--policy`), or its file's problems, which `fetch::validated` and
    /// `saved::load` report before anything else.
    pub fn policy(&self) -> Result<Option<&Policy>, Diagnostics> {
        self.policy.as_ref().map(Option::as_ref).map_err(Clone::clone)
    }

    /// The safety thresholds: the policy's, else the built-in ones.
    pub fn thresholds(&self) -> Thresholds {
        debug_assert!(
            self.policy.is_ok(),
            "a policy file's problems are reported before planning"
        );
        let policy = self.policy().ok().flatten();
        policy.map(|p| p.thresholds).unwrap_or_default()
    }

    pub fn out(&self, text: &str) {
        let _ = self.emit(Sink::Stdout, text);
    }

    /// Writes a status line to stderr, unless `-q`.
    pub fn status(&self, line: &str) {
        if !self.quiet {
            let _ = self.emit(Sink::Stderr, &format!("{line}\n"));
        }
    }

    /// Writes a warning to stderr (even with `-q`).
    pub fn warn(&self, line: &str) {
        let _ = self.emit(Sink::Stderr, &format!("warning: {line}\n"));
    }

    /// Writes a refusal (exit 3): the first line as `error:`, the others indented.
    pub fn refuse(&self, lines: &[String]) {
        let text: String = (lines.iter().enumerate())
            .map(|(i, line)| format!("{}{line}\n", if i == 0 { "error: " } else { "  " }))
            .collect();
        let _ = self.emit(Sink::Stderr, &text);
    }

    /// A client for `key` on the run's one [`Http`] pool.
    pub fn client(&self, key: &ApiKey) -> anyhow::Result<Client> {
        if let Some(http) = self.http.get() {
            return http.client(key);
        }
        let options = ClientOptions {
            timeout: self.timeout,
            verbosity: self.verbosity,
            log: LogSink(Arc::new(|line: &str| {
                let line = api::redact_known(&format!("  {line}\n"));
                let _ = std::io::stderr().write_all(github::defuse(&line).as_bytes());
            })),
            extra_roots: (self.ca_roots()?.iter())
                .map(|der| reqwest::Certificate::from_der(der))
                .collect::<Result<_, _>>()?,
            insecure_http: self.insecure_sandbox,
            stop: self.stop.clone(),
            ..ClientOptions::default()
        };
        let http = Http::new(&self.base_url, options)?;
        self.http.get_or_init(|| http).client(key)
    }

    /// The extra CA certificates, checked once: a bad one is named here, not in every connection.
    pub fn ca_roots(&self) -> anyhow::Result<&[CertificateDer<'static>]> {
        if let Some(roots) = self.roots.get() {
            return Ok(roots);
        }
        let roots = match &self.ca_cert {
            None => Vec::new(),
            Some(path) => read_ca_roots(path).map_err(|e| {
                let help = "pass a PEM file of CA certificates (`-----BEGIN CERTIFICATE-----` blocks) with --ca-cert FILE or SSL_CERT_FILE";
                Helped::wrap(e.context(format!("cannot use CA certificates from `{}`", path.display())), help)
            })?,
        };
        Ok(self.roots.get_or_init(|| roots))
    }

    /// Appends `markdown` to `$GITHUB_STEP_SUMMARY`, unless `disabled`
    /// (`--no-step-summary`) or unset; a failure is a warning, never a failed command.
    pub fn step_summary(&self, disabled: bool, markdown: impl FnOnce() -> String) {
        let path = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty() && !disabled);
        let Some(path) = path.map(PathBuf::from) else {
            return;
        };
        let text = markdown();
        let newline = if text.ends_with('\n') { "" } else { "\n" };
        if let Err(e) = self.emit(Sink::Append(&path), &format!("{text}{newline}")) {
            self.warn(&format!(
                "could not append the summary to `$GITHUB_STEP_SUMMARY` (`{}`): {e}; pass `--no-step-summary` to skip it",
                path.display()
            ));
        }
    }

    /// On GitHub Actions, the annotations `make` builds on stderr, even with `-q`: the one
    /// writer of lines the runner executes, taking only escaped [`github::Commands`].
    pub(super) fn annotations(&self, make: impl FnOnce(Option<&Path>, Option<&Path>) -> github::Commands) {
        if std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true") {
            let workspace = std::env::var_os("GITHUB_WORKSPACE").filter(|w| !w.is_empty());
            let cwd = std::env::current_dir().ok();
            let commands = make(workspace.as_deref().map(Path::new), cwd.as_deref());
            let _ = std::io::stderr().write_all(crate::api::redact_known(commands.as_str()).as_bytes());
        }
    }
}

/// Whether to colour a stream: `--color`, else a terminal without `NO_COLOR` or `TERM=dumb`.
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
    /// Status, warnings, logs.
    Stderr,
    /// The end of a file (`$GITHUB_STEP_SUMMARY`).
    Append(&'a Path),
    /// A whole private file (0600), atomically; over an existing one only when `true`.
    Private(&'a Path, bool),
}

/// The whole of `path` as text, at most `max` bytes.
pub(super) fn read_text(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(crate::manifest::read_capped(path, max)?)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

/// Reads the policy file (at most 8 MiB: tens of thousands of host globs), then checks it.
fn read_policy(path: &Path) -> anyhow::Result<Result<Policy, Diagnostics>> {
    let text = read_text(path, 8 << 20).map_err(|e| {
        let what = format!("cannot read policy file `{}`", path.display());
        let help = "pass the policy with --policy FILE or INVHOOKS_POLICY (a YAML file with `version: 1`)";
        Helped::wrap(anyhow::Error::new(e).context(what), help)
    })?;
    Ok(policy::parse(path, &text))
}

/// The certificates of a PEM file (at most 16 MiB, at least one), checked as rustls uses them.
fn read_ca_roots(path: &Path) -> anyhow::Result<Vec<CertificateDer<'static>>> {
    let pem = crate::manifest::read_capped(path, 16 << 20)?;
    let roots: Vec<_> = CertificateDer::pem_slice_iter(&pem).collect::<Result<_, _>>()?;
    anyhow::ensure!(!roots.is_empty(), "no PEM certificate in it");
    let mut store = tokio_rustls::rustls::RootCertStore::empty();
    for (number, root) in (1..).zip(&roots) {
        (store.add(root.clone()))
            .map_err(|e| anyhow::anyhow!("certificate {number} in the file is not usable: {e}"))?;
    }
    Ok(roots)
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
