//! Which URLs `check` probes, how answers are judged, how results read.

use std::time::Duration;

use super::*;
use crate::fixtures::{desired, live};
use crate::model::MerchantManifest;

fn manifest(label: &str, subscriptions: Vec<crate::model::DesiredSubscription>) -> MerchantManifest {
    MerchantManifest {
        label: label.into(),
        ..crate::fixtures::manifest(subscriptions)
    }
}

#[test]
fn only_answers_below_500_other_than_404_and_410_are_reachable() {
    for ok in [200, 204, 301, 400, 401, 403, 405, 499] {
        assert_eq!(judge(ok), Ok(ok));
    }
    for bad in [404, 410, 500, 502, 503] {
        let failure = judge(bad).expect_err("unreachable");
        assert_eq!(
            (failure.to_string(), failure.step()),
            (format!("HTTP {bad}"), Step::Http)
        );
    }
}

#[test]
fn each_url_is_probed_once_for_all_its_users() {
    let mut a = manifest("a", vec![desired("customer.cancelled", "crm", "https://h/1")]);
    a.subscriptions
        .push(desired("customer.updated", "crm", "https://h/1"));
    let b = manifest("b", vec![desired("customer.cancelled", "crm", "https://h/2")]);
    let got = callbacks(&[b, a]);
    let urls: Vec<_> = got.iter().map(|c| c.url.as_str()).collect();
    assert_eq!(urls, ["https://h/1", "https://h/2"]);
    assert_eq!(got[0].users.len(), 2);
}

#[test]
fn a_plan_probes_the_urls_it_would_start_delivering_to() {
    let m = manifest(
        "a",
        vec![
            desired("customer.cancelled", "new", "https://h/new"),
            desired("customer.updated", "moved", "https://h/moved"),
            desired("customer.ordered", "same", "https://h/same"),
        ],
    );
    let lives = [
        live("1", "customer.updated", "moved", "https://h/old"),
        live("2", "customer.ordered", "same", "https://h/same"),
        live("3", "customer.ordered", "gone", "https://h/gone"),
    ];
    let plan = crate::plan::diff_all([(&m, &lives[..])], &Default::default());
    let urls: Vec<_> = planned_callbacks(&plan).into_iter().map(|c| c.url).collect();
    assert_eq!(urls, ["https://h/moved", "https://h/new"]);
}

fn outcome(url: &str, result: Result<u16, StepFailure>) -> CallbackReport {
    let m = manifest("acme", vec![desired("customer.cancelled", "crm", url)]);
    CallbackReport {
        callback: callbacks(&[m]).remove(0),
        result,
        latency: Duration::from_millis(12),
        deliveries: Vec::new(),
    }
}

#[test]
fn text_names_the_failing_step_and_masks_secrets() {
    let outcomes = [
        outcome("https://h/ok?token=s3cr3t", Ok(405)),
        outcome(
            "http://127.0.0.1:9/x",
            Err(StepFailure::At(Step::Tcp, "connection refused".into())),
        ),
    ];
    let text = render::text(&outcomes);
    assert!(!text.contains("s3cr3t"), "{text}");
    assert!(
        text.contains("ok   https://h/ok?token=***  HTTP 405  12 ms"),
        "{text}"
    );
    assert!(
        text.contains("FAIL http://127.0.0.1:9/x  TCP: connection refused  12 ms"),
        "{text}"
    );
    assert!(
        text.contains("used by acme customer.cancelled crm (webhooks.yaml:1)"),
        "{text}"
    );
    assert!(text.ends_with("Check: 1 reachable, 1 unreachable.\n"), "{text}");
}

#[test]
fn a_failing_url_lists_its_first_five_users_then_how_many_more() {
    let refused = StepFailure::At(Step::Tcp, "connection refused".into());
    let mut o = outcome("https://h/down", Err(refused));
    let user = o.callback.users[0].clone();
    o.callback.users = (0..7)
        .map(|i| User {
            name: format!("hook-{i}"),
            ..user.clone()
        })
        .collect();
    let text = render::text(&[o]);
    assert!(
        text.contains("used by acme customer.cancelled hook-4 (webhooks.yaml:1)"),
        "{text}"
    );
    assert!(!text.contains("hook-5"), "{text}");
    assert!(text.contains("\n       … and 2 more\n"), "{text}");
}

#[test]
fn a_rejected_test_event_fails_the_url() {
    let mut o = outcome("https://h/ok", Ok(405));
    o.deliveries.push(Delivery {
        user: o.callback.users[0].clone(),
        result: Ok(400),
    });
    assert!(!o.ok());
    o.deliveries[0].result = Ok(202);
    assert!(o.ok());
}

#[test]
fn markdown_fits_its_limit_failures_first() {
    let outcomes: Vec<_> = (0..2_000)
        .map(|i| match i % 2 {
            0 => outcome(&format!("https://h/{i:04}"), Ok(405)),
            _ => outcome(
                &format!("https://h/{i:04}"),
                Err(StepFailure::At(Step::Tcp, "connection refused".into())),
            ),
        })
        .collect();
    let md = render::markdown(&outcomes, "invhooks check", 20_000);
    assert!(md.len() <= 20_000, "{}", md.len());
    assert!(md.starts_with(
        "<!-- invhooks check -->\n### invhooks check\n\n**Check: 1000 reachable, 1000 unreachable.**\n\n> [!NOTE]\n"
    ));
    assert!(
        md.contains("| ❌ | `https://h/0001` |") && !md.contains("| ✅ |"),
        "failures first"
    );
    assert!(md.contains("callback URLs not shown. Run `invhooks check` for the full list."));
    let warnings = render::markdown_warnings(&outcomes, 10_000);
    assert!(warnings.len() <= 10_000, "{}", warnings.len());
    assert!(warnings.contains("> 1000 of 2000 callback URLs this plan delivers to did not answer"));
    assert_eq!(render::markdown_warnings(&outcomes[..1], 10_000), "");
}
