//! The fault flags' one rule per value, and how they are shown.

use std::time::Duration;

use crate::sandbox::Faults;

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
            err.to_string()
                .contains("for `--error-rate`: expected a probability"),
            "{err}"
        );
        let err = faults(0.0, 0.0, bad).validate().unwrap_err();
        assert!(err.to_string().contains("`--partial-failure-rate`"), "{err}");
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
    let (parse_probability, parse_rate_limit) = (
        super::super::parse("drop-rate"),
        super::super::parse("rate-limit"),
    );
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
