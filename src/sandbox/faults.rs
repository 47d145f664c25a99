//! Which faults the sandbox injects: [`Faults`], plain data, all off by
//! default, checked by [`Faults::validate`], shown as the CLI flags that
//! set them, and the clap parsers of its values. Its running form, where
//! each request's fate is decided, is `injector`.

use std::fmt;
use std::time::Duration;

use anyhow::ensure;

/// Which faults the sandbox injects, and how often. The default injects
/// none: the sandbox then behaves like a healthy API.
///
/// Probabilities are in `[0, 1]`; [`Sandbox::start`](super::Sandbox::start)
/// refuses anything else. When several faults are drawn for one request,
/// the first of error, drop, partial failure wins.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    /// Seed of every fate: with the same seed, a request sent the same way
    /// (key, method, body, how many times before) gets the same faults,
    /// however requests interleave.
    pub seed: u64,
    /// How long every request to the resource waits before it is handled
    /// (rate-limited requests excepted).
    pub latency: Duration,
    /// Probability that a request is answered 500 before any write: nothing
    /// happened. Any method.
    pub error_rate: f64,
    /// Probability that a successful POST, PUT or DELETE is answered 500
    /// after the write: the change happened.
    pub partial_failure_rate: f64,
    /// Probability that the connection is closed without any response; half
    /// of the drops come before the write (nothing happened), half after it
    /// (the change happened).
    pub drop_rate: f64,
    /// Requests per second the server admits (a token bucket holding
    /// `max(1, rate)` tokens); the others get 429 with `Retry-After`.
    /// `None`: no limit.
    pub rate_limit: Option<f64>,
    /// How long a subscription created by POST stays out of GET's list.
    pub visibility_delay: Duration,
    /// Probability that a successful GET answers a list that lies, as a
    /// paginating or proxied API might: half the time one entry is listed
    /// twice (as overlapping pages give), half the time only a first page
    /// comes, with a pagination hint saying there is more. An empty list is
    /// answered honestly: there is nothing to lie about.
    pub lying_list_rate: f64,
}

impl Faults {
    /// Checks the probabilities and the rate.
    pub fn validate(&self) -> anyhow::Result<()> {
        for (name, p) in [
            ("error rate", self.error_rate),
            ("partial-failure rate", self.partial_failure_rate),
            ("drop rate", self.drop_rate),
            ("lying-list rate", self.lying_list_rate),
        ] {
            ensure!(
                (0.0..=1.0).contains(&p),
                "the sandbox's {name} must be a probability between 0 and 1, got {p}"
            );
        }
        if let Some(rate) = self.rate_limit {
            ensure!(
                rate.is_finite() && rate > 0.0,
                "the sandbox's rate limit must be a number of requests per second greater than 0, got {rate}"
            );
        }
        Ok(())
    }

    /// Whether any fault is enabled.
    pub fn is_active(&self) -> bool {
        *self
            != Faults {
                seed: self.seed,
                ..Faults::default()
            }
    }
}

impl fmt::Display for Faults {
    /// The enabled faults as the CLI spells them, e.g. `--error-rate 0.1
    /// --rate-limit 50 (seed 7)`; `none` when there are none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.is_active() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if !self.latency.is_zero() {
            parts.push(format!("--latency {}", self.latency.as_millis()));
        }
        for (flag, p) in [
            ("--error-rate", self.error_rate),
            ("--partial-failure-rate", self.partial_failure_rate),
            ("--drop-rate", self.drop_rate),
            ("--lying-list-rate", self.lying_list_rate),
        ] {
            if p > 0.0 {
                parts.push(format!("{flag} {p}"));
            }
        }
        if let Some(rate) = self.rate_limit {
            parts.push(format!("--rate-limit {rate}"));
        }
        if !self.visibility_delay.is_zero() {
            parts.push(format!(
                "--visibility-delay {}",
                self.visibility_delay.as_millis()
            ));
        }
        write!(f, "{} (seed {})", parts.join(" "), self.seed)
    }
}

/// Clap value parser for a probability: a number in `[0, 1]`.
pub fn parse_probability(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err("expected a probability between 0 and 1, e.g. 0.1".to_owned()),
    }
}

/// Clap value parser for a rate limit: requests per second, greater than 0.
pub fn parse_rate_limit(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err("expected a number of requests per second greater than 0, e.g. 50".to_owned()),
    }
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
            assert!(faults(0.0, bad, 0.0).validate().is_err());
            assert!(faults(0.0, 0.0, bad).validate().is_err());
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
            assert!(
                parse_rate_limit(bad).unwrap_err().contains("greater than 0"),
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
    }
}
