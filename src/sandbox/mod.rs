//! A local, Inveterate-compatible server of the webhook-subscriptions API (docs/sandbox.md); here
//! what it starts with: [`SandboxConfig`], and [`Faults`], also the `sandbox` command's fault flags.

mod deliver;
mod faults;
mod server;
mod store;
mod wire;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

pub use faults::{Counters, InjectedStats, RequestStats};
pub use server::Sandbox;

/// Locks `mutex`; a panic elsewhere never makes it unusable.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[derive(Clone, Default)]
pub struct SandboxConfig {
    /// Distinct and non-empty; each is a merchant.
    pub api_keys: Vec<String>,
    pub state_file: Option<PathBuf>,
    pub faults: Faults,
    pub deliveries: DeliveryConfig,
    pub ids: Ids,
}

impl fmt::Debug for SandboxConfig {
    /// Never the keys.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.api_keys.len();
        write!(f, "SandboxConfig {{ api_keys: [{n} hidden], .. }}")
    }
}

/// `--ids`: random ones (from the seed) fail a client that relies on ids sorting by creation time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Ids {
    #[default]
    Random,
    // `wh_000001`, …: for demos and snapshots.
    Sequential,
}

/// By default: retries after 0.5, 1 and 2 s; 5 s per attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    /// Attempts per subscription, the first included (at least 1).
    pub attempts: u32,
    /// Before the first retry; it doubles before each further one.
    pub backoff: Duration,
    pub timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            attempts: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Which faults the sandbox injects (docs/sandbox.md), none by default; the field docs are the `--help`.
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
#[command(next_help_heading = "Fault injection")]
pub struct Faults {
    /// Seed of the random generator of faults and ids (0 to 2^64-1): same seed, same faults and ids
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub seed: u64,
    /// Delay every API request by MS milliseconds (0 to 600000)
    #[arg(long, default_value = "0", value_name = "MS", value_parser = millis())]
    pub latency: Duration,
    /// Probability (0 to 1) of a 500 before any write: nothing happened
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse("error-rate"))]
    pub error_rate: f64,
    /// Probability (0 to 1) of a 500 after a POST/PUT/DELETE was carried out
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse("partial-failure-rate"))]
    pub partial_failure_rate: f64,
    /// Probability (0 to 1) of dropping the connection instead of answering, half after the write
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse("drop-rate"))]
    pub drop_rate: f64,
    /// Probability (0 to 1) that a GET lists an id twice or only a first page with a pagination hint
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse("lying-list-rate"))]
    pub lying_list_rate: f64,
    /// Admit at most RPS requests per second (any number above 0; burst max(1, RPS)); others get 429 with Retry-After
    #[arg(long, value_name = "RPS", value_parser = parse("rate-limit"))]
    pub rate_limit: Option<f64>,
    /// A created subscription appears in GET only MS milliseconds later (0 to 600000)
    #[arg(long, default_value = "0", value_name = "MS", value_parser = millis())]
    pub visibility_delay: Duration,
}

fn millis() -> impl clap::builder::TypedValueParser<Value = Duration> {
    use clap::builder::TypedValueParser as _;
    let ms = clap::value_parser!(u32).range(0..=600_000);
    ms.map(|ms| Duration::from_millis(u64::from(ms)))
}

/// The one rule of a fault flag's value, the parsers' and [`Faults::validate`]'s.
fn check(flag: &str, value: f64) -> Result<f64, &'static str> {
    match flag {
        "rate-limit" if value.is_finite() && value > 0.0 => Ok(value),
        "rate-limit" => Err("a number of requests per second greater than 0, e.g. 50"),
        "latency" | "visibility-delay" => Ok(value),
        _ if (0.0..=1.0).contains(&value) => Ok(value),
        _ => Err("a probability between 0 and 1, e.g. 0.1"),
    }
}

fn parse(flag: &'static str) -> impl Fn(&str) -> Result<f64, String> + Clone {
    let expected = |rule| format!("expected {rule}");
    move |text| check(flag, text.trim().parse().unwrap_or(f64::NAN)).map_err(expected)
}

impl Faults {
    /// Every fault flag and its value (a delay in milliseconds), in the order of `--help`.
    fn flags(&self) -> [(&'static str, Option<f64>); 7] {
        let ms = |d: Duration| Some(d.as_millis() as f64);
        [
            ("latency", ms(self.latency)),
            ("error-rate", Some(self.error_rate)),
            ("partial-failure-rate", Some(self.partial_failure_rate)),
            ("drop-rate", Some(self.drop_rate)),
            ("lying-list-rate", Some(self.lying_list_rate)),
            ("rate-limit", self.rate_limit),
            ("visibility-delay", ms(self.visibility_delay)),
        ]
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        let bad = |(flag, v): (&'static str, _)| Some((flag, v?, check(flag, v?).err()?));
        if let Some((flag, value, rule)) = self.flags().into_iter().find_map(bad) {
            bail!("invalid value `{value}` for `--{flag}`: expected {rule}");
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        let on = |&(_, v): &(_, Option<f64>)| v.is_some_and(|v| v != 0.0);
        self.flags().iter().any(on)
    }
}

impl fmt::Display for Faults {
    /// As the CLI spells them (`--error-rate 0.1 (seed 7)`), or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_active() {
            return f.write_str("none");
        }
        for (flag, value) in self.flags() {
            if let Some(value) = value.filter(|v| *v > 0.0) {
                write!(f, "--{flag} {value} ")?;
            }
        }
        write!(f, "(seed {})", self.seed)
    }
}

#[cfg(test)]
mod tests;
