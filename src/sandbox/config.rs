//! What a sandbox starts with: [`SandboxConfig`], and [`Faults`], which are
//! also the `sandbox` command's fault flags.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;

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

/// `--ids`: random ones (from the seed) fail a client that relies on ids
/// sorting by creation time.
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
        let (backoff, timeout) = (Duration::from_millis(500), Duration::from_secs(5));
        DeliveryConfig {
            attempts: 4,
            backoff,
            timeout,
        }
    }
}

/// Which faults the sandbox injects (docs/sandbox.md "Fault injection"),
/// none by default. The field docs are the flags' `--help`.
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
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    pub error_rate: f64,
    /// Probability (0 to 1) of a 500 after a POST/PUT/DELETE was carried out
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    pub partial_failure_rate: f64,
    /// Probability (0 to 1) of dropping the connection instead of answering, half after the write
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    pub drop_rate: f64,
    /// Probability (0 to 1) that a GET lists an id twice or only a first page with a pagination hint
    #[arg(long, default_value_t = 0.0, value_name = "P", value_parser = parse_probability)]
    pub lying_list_rate: f64,
    /// Admit at most RPS requests per second (any number above 0; burst max(1, RPS)); others get 429 with Retry-After
    #[arg(long, value_name = "RPS", value_parser = parse_rate_limit)]
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

const PROBABILITY: &str = "a probability between 0 and 1";
const RATE: &str = "a number of requests per second greater than 0";

fn is_probability(p: f64) -> bool {
    (0.0..=1.0).contains(&p)
}

fn is_rate(rate: f64) -> bool {
    rate.is_finite() && rate > 0.0
}

impl Faults {
    fn rates(&self) -> [(&'static str, f64); 4] {
        [
            ("error-rate", self.error_rate),
            ("partial-failure-rate", self.partial_failure_rate),
            ("drop-rate", self.drop_rate),
            ("lying-list-rate", self.lying_list_rate),
        ]
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        for (flag, p) in self.rates() {
            let name = flag.trim_end_matches("-rate");
            if !is_probability(p) {
                bail!("the sandbox's {name} rate must be {PROBABILITY}, got {p}");
            }
        }
        if let Some(rate) = self.rate_limit.filter(|rate| !is_rate(*rate)) {
            bail!("the sandbox's rate limit must be {RATE}, got {rate}");
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        *self
            != Faults {
                seed: self.seed,
                ..Faults::default()
            }
    }
}

impl fmt::Display for Faults {
    /// As the CLI spells them (`--error-rate 0.1 (seed 7)`), or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_active() {
            return f.write_str("none");
        }
        let ms = |d: Duration| (!d.is_zero()).then(|| d.as_millis().to_string());
        let positive = |p: f64| (p > 0.0).then(|| p.to_string());
        let rates = self.rates().map(|(flag, p)| (flag, positive(p)));
        let flags = [("latency", ms(self.latency))].into_iter().chain(rates).chain([
            ("rate-limit", self.rate_limit.map(|rate| rate.to_string())),
            ("visibility-delay", ms(self.visibility_delay)),
        ]);
        for (flag, value) in flags.filter_map(|(flag, value)| Some((flag, value?))) {
            write!(f, "--{flag} {value} ")?;
        }
        write!(f, "(seed {})", self.seed)
    }
}

fn parse_probability(text: &str) -> Result<f64, String> {
    let p = text.trim().parse().ok().filter(|p| is_probability(*p));
    p.ok_or_else(|| format!("expected {PROBABILITY}, e.g. 0.1"))
}

fn parse_rate_limit(text: &str) -> Result<f64, String> {
    let rate = text.trim().parse().ok().filter(|rate| is_rate(*rate));
    rate.ok_or_else(|| format!("expected {RATE}, e.g. 50"))
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// Faults with seed 42 and the given rates.
    pub(crate) fn faults(error_rate: f64, drop_rate: f64, partial_failure_rate: f64) -> Faults {
        Faults {
            seed: 42,
            error_rate,
            drop_rate,
            partial_failure_rate,
            ..Faults::default()
        }
    }

    #[test]
    fn validation_and_parsers_reject_out_of_range_values() {
        for bad in [-0.1, 1.01, f64::NAN, f64::INFINITY] {
            let err = faults(bad, 0.0, 0.0).validate().unwrap_err();
            assert!(
                err.to_string().contains("error rate must be a probability"),
                "{err}"
            );
            let err = faults(0.0, 0.0, bad).validate().unwrap_err();
            assert!(err.to_string().contains("partial-failure rate must be"), "{err}");
            assert!(faults(0.0, bad, 0.0).validate().is_err());
            let lying = Faults {
                lying_list_rate: bad,
                ..Faults::default()
            };
            assert!(lying.validate().is_err());
        }
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let limited = Faults {
                rate_limit: Some(bad),
                ..Faults::default()
            };
            let err = limited.validate().unwrap_err();
            assert!(err.to_string().contains("greater than 0"), "{err}");
        }
        assert_eq!(parse_probability("0"), Ok(0.0));
        assert_eq!(parse_probability("1"), Ok(1.0));
        assert_eq!(parse_probability(" 0.25"), Ok(0.25));
        for bad in ["1.5", "-0.1", "NaN", "inf", "", "ten"] {
            assert_eq!(
                parse_probability(bad),
                Err("expected a probability between 0 and 1, e.g. 0.1".to_owned()),
                "{bad}"
            );
        }
        assert_eq!(parse_rate_limit("50"), Ok(50.0));
        assert_eq!(parse_rate_limit("0.5"), Ok(0.5));
        for bad in ["0", "-3", "inf", "NaN", "x"] {
            assert_eq!(
                parse_rate_limit(bad),
                Err("expected a number of requests per second greater than 0, e.g. 50".to_owned()),
                "{bad}"
            );
        }
    }

    #[test]
    fn display_lists_enabled_faults_as_flags() {
        let all = Faults {
            seed: 7,
            latency: Duration::from_millis(20),
            error_rate: 0.1,
            partial_failure_rate: 0.1,
            drop_rate: 0.05,
            rate_limit: Some(50.0),
            visibility_delay: Duration::from_millis(300),
            lying_list_rate: 0.2,
        };
        assert_eq!(
            all.to_string(),
            "--latency 20 --error-rate 0.1 --partial-failure-rate 0.1 --drop-rate 0.05 \
             --lying-list-rate 0.2 --rate-limit 50 --visibility-delay 300 (seed 7)"
        );
        let one = Faults {
            error_rate: 0.5,
            ..Faults::default()
        };
        assert_eq!(one.to_string(), "--error-rate 0.5 (seed 0)");
        assert_eq!(
            Faults {
                seed: 9,
                ..Faults::default()
            }
            .to_string(),
            "none"
        );
    }
}
