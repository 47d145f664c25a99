//! The executor's rules, run against the fake remote with tokio's paused
//! clock: no HTTP, no real sleeping, the same result every run.
#![allow(clippy::unwrap_used, reason = "tests")]

use std::collections::HashSet;
use std::time::Duration;

use super::fake::{Fake, Fault};
use super::*;
use crate::api::Method;
use crate::fixtures::{desired, live, manifest};
use crate::plan::diff;

const T: &str = "customer.updated";

fn options() -> ApplyOptions {
    ApplyOptions {
        parallelism: 2,
        wait: Duration::from_secs(30),
        poll: Duration::from_millis(500),
    }
}

/// Plans `desired` against the fake's state and applies it.
async fn run(fake: &Fake, m: &MerchantManifest, options: ApplyOptions) -> MerchantReport {
    let initial = fake.state();
    let plan = diff(m, &initial);
    apply(fake, m, &plan, &initial, options, &Stop::default(), &|_| {}).await
}

/// One create, one update, one delete.
fn mixed() -> (Fake, MerchantManifest) {
    let fake = Fake::new(&[
        live("wh_1", T, "crm", "https://old/"),
        live("wh_2", T, "gone", "https://gone/"),
    ]);
    let m = manifest(vec![
        desired(T, "crm", "https://new/"),
        desired(T, "erp", "https://erp/"),
    ]);
    (fake, m)
}

#[tokio::test(start_paused = true)]
async fn creates_then_updates_then_deletes() {
    let (fake, m) = mixed();
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded(), "{report:?}");
    let writes: Vec<Method> = fake
        .calls()
        .into_iter()
        .map(|c| c.method)
        .filter(|m| *m != Method::GET)
        .collect();
    assert_eq!(writes, [Method::POST, Method::PUT, Method::DELETE]);
}

#[tokio::test(start_paused = true)]
async fn no_delete_after_a_failed_create() {
    let (fake, m) = mixed();
    fake.script(Method::POST, &[Fault::Before(400)]);
    let report = run(&fake, &m, options()).await;
    assert_eq!(fake.count(Method::DELETE), 0);
    let outcomes: Vec<&str> = report.changes.iter().map(|c| c.outcome.as_str()).collect();
    // Plan order: topic, name — crm (update), erp (create), gone (delete).
    assert_eq!(outcomes, ["done", "failed", "skipped"]);
    assert!(!report.succeeded());
    assert!(
        fake.state().iter().any(|s| s.name == "gone"),
        "the old subscription still receives events"
    );
}

#[tokio::test(start_paused = true)]
async fn an_unknown_outcome_that_happened_is_done_and_not_sent_again() {
    let fake = Fake::new(&[]);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    fake.script(Method::POST, &[Fault::After(500)]);
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(fake.count(Method::POST), 1);
    assert_eq!(fake.state().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn an_unknown_outcome_that_did_not_happen_is_sent_again() {
    let fake = Fake::new(&[live("wh_1", T, "crm", "https://a/")]);
    let m = manifest(vec![]);
    let mut forced = options();
    forced.parallelism = 1;
    // A 502 before the write on a DELETE: not retried blindly, resolved.
    fake.script(Method::DELETE, &[Fault::Before(502)]);
    let report = run(&fake, &m, forced).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(fake.count(Method::DELETE), 2);
    assert!(fake.state().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_connection_after_a_delete_is_resolved_as_done() {
    let fake = Fake::new(&[live("wh_1", T, "crm", "https://a/")]);
    fake.script(Method::DELETE, &[Fault::DropAfter]);
    let report = run(&fake, &manifest(vec![]), options()).await;
    assert_eq!(report.changes[0].outcome, Outcome::Done);
    assert_eq!(fake.count(Method::DELETE), 1);
}

/// A create whose outcome is unknown, then lists that cannot be trusted
/// (a repeated id, a cut page): they answer nothing, so the list is read
/// again; found, the create is done and not sent again. (Before, the first
/// untrusted list failed the change, and a re-run made a second copy of a
/// create not yet visible.)
#[tokio::test(start_paused = true)]
async fn an_untrusted_list_while_resolving_is_read_again() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(1);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    fake.script(Method::POST, &[Fault::After(500)]);
    fake.script(Method::GET, &[Fault::Untrusted, Fault::Untrusted]);
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(fake.count(Method::POST), 1);
    assert_eq!(fake.state().len(), 1);

    // An update (checked in one read) waits for a trusted read too.
    let fake = Fake::new(&[live("wh_1", T, "crm", "https://old/")]);
    fake.script(Method::PUT, &[Fault::DropAfter]);
    fake.script(Method::GET, &[Fault::Untrusted]);
    let report = run(&fake, &m, options()).await;
    assert_eq!(report.changes[0].outcome, Outcome::Done, "{report:?}");
    assert_eq!(fake.count(Method::PUT), 1);

    // Untrusted until `wait` has passed: failed, never sent again.
    let fake = Fake::new(&[]);
    fake.script(Method::POST, &[Fault::After(500)]);
    fake.script(Method::GET, &[Fault::Untrusted; 200]);
    let mut short = options();
    short.wait = Duration::from_secs(2);
    let report = run(&fake, &m, short).await;
    let reason = report.changes[0].outcome.reason().unwrap_or_default();
    assert!(
        reason.contains("could not be checked") && reason.contains("1 of 2"),
        "{reason}"
    );
    assert_eq!(fake.count(Method::POST), 1);
}

/// An untrusted list during verification ends no wait: read again until
/// live matches (before, the run stopped at once, `not verified`).
#[tokio::test(start_paused = true)]
async fn verification_reads_again_after_an_untrusted_list() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(1);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    fake.script(Method::GET, &[Fault::Untrusted, Fault::Before(500)]);
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded(), "{report:?}");
    assert!(fake.count(Method::GET) >= 3);

    // Still untrusted at the deadline: not verified, with the reason.
    let fake = Fake::new(&[]);
    fake.script(Method::GET, &[Fault::Untrusted; 200]);
    let mut short = options();
    short.wait = Duration::from_secs(2);
    let report = run(&fake, &m, short).await;
    let Verification::Unknown { reason } = &report.verification else {
        panic!("expected unknown: {report:?}");
    };
    assert!(reason.contains("1 of 2"), "{reason}");
}

/// Interrupted before the first call: every change is `not started`,
/// the deletes too (before, they read `skipped` because "a create or
/// update failed", when none had); no request at all, verification
/// included.
#[tokio::test(start_paused = true)]
async fn an_interrupt_leaves_deletes_not_started_not_skipped() {
    let (fake, m) = mixed();
    let initial = fake.state();
    let plan = diff(&m, &initial);
    let stop = Stop::default();
    stop.request();
    let report = apply(&fake, &m, &plan, &initial, options(), &stop, &|_| {}).await;
    let outcomes: Vec<&str> = report.changes.iter().map(|c| c.outcome.as_str()).collect();
    assert_eq!(outcomes, ["not started"; 3]);
    assert!(report.interrupted && !report.succeeded());
    assert_eq!(fake.calls().len(), 0, "no request after the stop");
    assert_eq!(fake.state(), initial);
    assert!(matches!(report.verification, Verification::Unknown { .. }));
}

/// Interrupted after a create, not yet visible: no request starts after
/// the stop, verification included, so the report comes at once (before,
/// it read until the create showed, up to `--wait`). A re-run right away
/// creates it again and removes its own copy once the older one shows.
#[tokio::test(start_paused = true)]
async fn an_interrupted_run_reports_at_once_and_a_re_run_keeps_one_copy() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(2);
    let m = manifest(vec![
        desired(T, "crm", "https://a/"),
        desired(T, "erp", "https://b/"),
    ]);
    let plan = diff(&m, &[]);
    let stop = Stop::default();
    let mut one = options();
    one.parallelism = 1;
    let started = tokio::time::Instant::now();
    let report = apply(&fake, &m, &plan, &[], one, &stop, &|_| stop.request()).await;
    let outcomes: Vec<&str> = report.changes.iter().map(|c| c.outcome.as_str()).collect();
    assert_eq!(outcomes, ["done", "not started"]);
    assert!(report.interrupted);
    assert_eq!(started.elapsed(), Duration::ZERO, "no wait after the stop");
    assert_eq!(fake.calls().len(), 1, "the one POST, nothing after the stop");

    let live = fake.list().await.unwrap();
    let again = diff(&m, &live);
    assert_eq!(again.changes.len(), 2, "the create is not visible yet");
    let report = apply(&fake, &m, &again, &live, options(), &Stop::default(), &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.cleaned_up.len(), 1, "{report:?}");
    assert_eq!(fake.state().len(), 2);
}

/// A stop ends every wait of the run at once and starts no request:
/// resolving a create (looked for until `wait`), and verification.
#[tokio::test(start_paused = true)]
async fn a_stop_ends_resolution_and_verification_waits_at_once() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(20);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    fake.script(Method::POST, &[Fault::After(500)]);
    let plan = diff(&m, &[]);
    let stop = Stop::default();
    let started = tokio::time::Instant::now();
    let (report, ()) = tokio::join!(apply(&fake, &m, &plan, &[], options(), &stop, &|_| {}), async {
        tokio::time::sleep(Duration::from_secs(3)).await;
        stop.request();
    });
    assert_eq!(started.elapsed(), Duration::from_secs(3), "ended at the stop");
    let reason = report.changes[0].outcome.reason().unwrap_or_default();
    assert!(
        reason.contains("interrupted before the outcome could be checked"),
        "{reason}"
    );
    let reads = fake.count(Method::GET);
    assert!(
        fake.calls().iter().all(|c| c.at <= Duration::from_secs(3)),
        "no request after the stop: {:?}",
        fake.calls()
    );
    assert!(reads >= 1);

    // Verification waiting for a create to show, stopped.
    let fake = {
        let mut fake = Fake::new(&[]);
        fake.visibility = Duration::from_secs(20);
        fake
    };
    let stop = Stop::default();
    let started = tokio::time::Instant::now();
    let (report, ()) = tokio::join!(apply(&fake, &m, &plan, &[], options(), &stop, &|_| {}), async {
        tokio::time::sleep(Duration::from_secs(2)).await;
        stop.request();
    });
    assert_eq!(started.elapsed(), Duration::from_secs(2));
    assert!(report.changes[0].outcome.is_done());
    assert!(
        matches!(report.verification, Verification::NotConverged { .. }),
        "what the last read showed: {report:?}"
    );
    assert!(fake.calls().iter().all(|c| c.at <= Duration::from_secs(2)));
}

#[tokio::test(start_paused = true)]
async fn verification_waits_for_eventual_consistency() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(3);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let started = tokio::time::Instant::now();
    let report = run(&fake, &m, options()).await;
    assert!(
        matches!(report.verification, Verification::Converged),
        "{report:?}"
    );
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(fake.count(Method::POST), 1);
}

/// An earlier (interrupted) run's create, not yet visible when the plan
/// was made: this run creates the key again. Verification waits for its
/// own copy to show instead of converging on the older one, and removes
/// its own as the duplicate (before, it said `converged` and left two).
#[tokio::test(start_paused = true)]
async fn verification_waits_for_its_own_creates_and_removes_its_duplicate() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(1);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let older = fake.create(&(&m.subscriptions[0]).into()).await.unwrap().unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    let live = fake.list().await.unwrap();
    let plan = diff(&m, &live);
    assert_eq!(plan.changes.len(), 1, "the earlier copy is not visible yet");
    let report = apply(&fake, &m, &plan, &live, options(), &Stop::default(), &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.cleaned_up.len(), 1, "{report:?}");
    let left = fake.state();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0].id, older, "the older copy is kept");
    assert!(
        *left[0].id > *report.cleaned_up[0].id().unwrap(),
        "whatever the ids: the removed copy sorts first"
    );
}

/// A killed run (SIGKILL: it could not wait) left creates not yet
/// visible; the re-run plans them again. Whatever the ids, the re-run
/// removes its own copies and keeps the killed run's, and leaves exactly
/// one of each (before, verification kept "the lowest id", often its own,
/// and the killed run's copy stayed beside it).
#[tokio::test(start_paused = true)]
async fn a_killed_runs_invisible_creates_are_kept_and_the_re_runs_removed() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(2);
    let names: Vec<String> = (0..8).map(|i| format!("n{i}")).collect();
    let m = manifest(names.iter().map(|n| desired(T, n, "https://a/")).collect());
    let mut killed = Vec::new();
    for n in &names[..5] {
        let new = (&desired(T, n, "https://a/")).into();
        killed.push(fake.create(&new).await.unwrap().unwrap());
    }
    let live = fake.list().await.unwrap();
    let plan = diff(&m, &live);
    assert_eq!(
        plan.changes.len(),
        8,
        "the killed run's creates are not visible yet"
    );
    let report = apply(&fake, &m, &plan, &live, options(), &Stop::default(), &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.cleaned_up.len(), 5, "{report:?}");
    let left = fake.state();
    assert_eq!(left.len(), 8, "{left:?}");
    for id in &killed {
        assert!(left.iter().any(|s| &s.id == id), "the killed run's {id} is kept");
    }
}

/// Chaos seed 472 (`chaos_interrupts`): a create whose outcome was
/// unknown is resolved by finding a new copy with its values, which may be
/// an interrupted run's older copy; this run's own shows later. Every new
/// copy with those values counts as this run's: one stays, whatever the
/// ids. A copy live before the run never counts.
#[test]
fn a_create_found_by_its_values_owns_every_new_identical_copy() {
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let wanted = match &diff(&m, &[]).changes[0] {
        Change::Create { after } => after.clone(),
        other => panic!("{other:?}"),
    };
    let before = [live("old", T, "crm", "https://a/")];
    for (claimed, late) in [("a1", "z9"), ("z1", "a9")] {
        let mut ids = verify::KnownIds::default();
        ids.created.insert(claimed.to_owned());
        ids.by_values.push(&wanted);
        let listed = [
            live(claimed, T, "crm", "https://a/"),
            live(late, T, "crm", "https://a/"),
        ];
        assert_eq!(ids.surplus(&m, &listed).len(), 1, "one of the two stays");
        let mut ids = verify::KnownIds {
            initial: HashSet::from(["old"]),
            ..Default::default()
        };
        ids.created.insert(claimed.to_owned());
        ids.by_values.push(&wanted);
        let listed = [before[0].clone(), live(claimed, T, "crm", "https://a/")];
        let surplus: Vec<_> = ids.surplus(&m, &listed).iter().map(|s| s.id.clone()).collect();
        assert_eq!(
            surplus,
            [claimed.to_owned()],
            "the copy there before is never this run's"
        );
    }
}

/// Which copies are this run's surplus: decided by whose they are, for
/// ids in either order. Two of its own and another writer's with other
/// values: one of its own goes. Another copy with the declared values:
/// all of its own go. Never another's.
#[test]
fn the_surplus_is_chosen_by_owner_never_by_id_order() {
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    for (mine, theirs) in [(["a1", "a2"], "z9"), (["z1", "z2"], "a9")] {
        let ids = verify::KnownIds {
            initial: std::collections::HashSet::new(),
            created: mine.iter().map(|id| (*id).to_owned()).collect(),
            unclaimed: Vec::new(),
            sent: std::collections::HashMap::new(),
            by_values: Vec::new(),
        };
        let surplus = |their_url: &str| -> Vec<String> {
            let mut listed: Vec<LiveSubscription> =
                mine.iter().map(|id| live(id, T, "crm", "https://a/")).collect();
            listed.push(live(theirs, T, "crm", their_url));
            ids.surplus(&m, &listed).iter().map(|s| s.id.clone()).collect()
        };
        let one = surplus("https://theirs/");
        assert_eq!(one.len(), 1, "{one:?}");
        assert!(mine.contains(&one[0].as_str()), "{one:?}");
        let mut all = surplus("https://a/");
        all.sort();
        assert_eq!(all, mine, "another copy with the declared values stays");
    }
}

#[tokio::test(start_paused = true)]
async fn verification_that_runs_out_of_time_says_what_remains() {
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(60);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let mut short = options();
    short.wait = Duration::from_secs(2);
    let report = run(&fake, &m, short).await;
    let Verification::NotConverged { remaining, .. } = &report.verification else {
        panic!("expected not converged: {report:?}");
    };
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].name(), "crm");
    assert!(!report.succeeded());
}

#[tokio::test(start_paused = true)]
async fn duplicates_in_the_initial_list_are_the_plans_not_verifications() {
    // The plan deletes the extra copy; verification cleans up nothing.
    let fake = Fake::new(&[
        live("wh_1", T, "crm", "https://a/"),
        live("wh_2", T, "crm", "https://a/"),
    ]);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded());
    assert!(report.cleaned_up.is_empty());
    assert_eq!(fake.state().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn parallelism_bounds_the_calls_in_flight() {
    let mut fake = Fake::new(&[]);
    fake.latency = Duration::from_millis(100);
    let m = manifest(
        (0..10)
            .map(|i| desired(T, &format!("n{i}"), "https://a/"))
            .collect(),
    );
    let mut three = options();
    three.parallelism = 3;
    let report = run(&fake, &m, three).await;
    assert!(report.succeeded());
    assert_eq!(fake.max_in_flight(), 3);
}

#[tokio::test(start_paused = true)]
async fn a_slow_create_with_an_unknown_outcome_is_not_sent_again() {
    // 500 after the write, and the create shows in the list only 3 s later:
    // looking for it until --wait passes finds it; no second POST.
    let mut fake = Fake::new(&[]);
    fake.visibility = Duration::from_secs(3);
    fake.script(Method::POST, &[Fault::After(500)]);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let report = run(&fake, &m, options()).await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(fake.count(Method::POST), 1);
    assert_eq!(fake.state().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_that_did_not_happen_is_sent_again_once_wait_has_passed() {
    let fake = Fake::new(&[]);
    fake.script(Method::POST, &[Fault::Before(500)]);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let mut short = options();
    short.wait = Duration::from_secs(5);
    let report = run(&fake, &m, short).await;
    assert!(report.succeeded(), "{report:?}");
    let posts: Vec<Duration> = fake
        .calls()
        .iter()
        .filter(|c| c.method == Method::POST)
        .map(|c| c.at)
        .collect();
    assert_eq!(posts.len(), 2);
    assert!(posts[1] - posts[0] >= Duration::from_secs(5), "{posts:?}");
}

/// Applies "crm → https://a/" while another writer, 5 ms in (before our
/// POST lands), creates "crm → `their_url`"; returns the report and their id.
async fn race_another_writer(their_url: &str) -> (Fake, MerchantReport, String) {
    let mut fake = Fake::new(&[]);
    fake.latency = Duration::from_millis(10);
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    let initial = fake.state();
    let plan = diff(&m, &initial);
    let stop = Stop::default();
    let (report, theirs) = tokio::join!(
        apply(&fake, &m, &plan, &initial, options(), &stop, &|_| {}),
        async {
            tokio::time::sleep(Duration::from_millis(5)).await;
            fake.other_writer(|model| model.create(T, "crm", their_url).id)
        }
    );
    (fake, report, theirs)
}

#[tokio::test(start_paused = true)]
async fn another_writers_different_copy_is_reported_not_deleted() {
    let (fake, report, theirs) = race_another_writer("https://theirs/").await;
    let Verification::NotConverged { foreign, .. } = &report.verification else {
        panic!("expected another writer to be reported: {report:?}");
    };
    assert_eq!(foreign, std::slice::from_ref(&theirs));
    assert!(report.cleaned_up.is_empty());
    assert!(
        fake.state().iter().any(|s| s.id == theirs),
        "their copy is not deleted"
    );
    assert!(!report.succeeded());
}

#[tokio::test(start_paused = true)]
async fn another_writers_identical_copy_is_kept_and_ours_removed() {
    // Their copy is older (the plan keeps the lowest id of equal copies):
    // the run removes its own extra copy, never theirs.
    let (fake, report, theirs) = race_another_writer("https://a/").await;
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.cleaned_up.len(), 1);
    assert_ne!(report.cleaned_up[0].id(), Some(theirs.as_str()));
    let state = fake.state();
    assert_eq!(state.len(), 1);
    assert_eq!(state[0].id, theirs);
}

#[tokio::test(start_paused = true)]
async fn two_concurrent_applies_never_delete_each_others_subscriptions() {
    let mut fake = Fake::new(&[]);
    fake.latency = Duration::from_millis(20);
    let names: Vec<String> = (0..20).map(|i| format!("n{i:02}")).collect();
    let wants = |url: &str| manifest(names.iter().map(|n| desired(T, n, url)).collect());
    let (a, b) = (wants("https://a/"), wants("https://b/"));
    let initial = fake.state();
    let (plan_a, plan_b) = (diff(&a, &initial), diff(&b, &initial));
    let stop = Stop::default();
    let (ra, rb) = tokio::join!(
        apply(&fake, &a, &plan_a, &initial, options(), &stop, &|_| {}),
        apply(&fake, &b, &plan_b, &initial, options(), &stop, &|_| {})
    );
    assert_eq!(fake.state().len(), 40, "nothing lost");
    for report in [&ra, &rb] {
        assert!(report.cleaned_up.is_empty(), "{report:?}");
        let Verification::NotConverged { foreign, .. } = &report.verification else {
            panic!("expected the other run to be reported: {report:?}");
        };
        assert_eq!(foreign.len(), 20);
    }
    assert_eq!(fake.count(Method::DELETE), 0);
}

#[tokio::test(start_paused = true)]
async fn a_server_that_rewrites_values_is_named_instead_of_waited_for() {
    let mut fake = Fake::new(&[]);
    fake.normalise_name = |n| n.to_lowercase();
    let m = manifest(vec![desired(T, "CRM", "https://a/")]);
    let started = tokio::time::Instant::now();
    let report = run(&fake, &m, options()).await;
    let Verification::NotConverged { rewrites, .. } = &report.verification else {
        panic!("expected the rewrite to be reported: {report:?}");
    };
    assert_eq!(rewrites.len(), 1, "{rewrites:?}");
    assert_eq!(
        (rewrites[0].sent.as_str(), rewrites[0].stored.as_str()),
        ("CRM", "crm")
    );
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "no waiting for what will not change"
    );
    assert!(report.cleaned_up.is_empty());
    assert_eq!(fake.state().len(), 1, "the stored copy is not deleted");
}

/// A POST answered 502, 503 or 504 by a proxy that did forward it is an
/// unknown outcome: read before anything is resent, so one copy (before,
/// a 503 was retried blindly: two copies). One that did not happen is
/// sent again once `wait` has passed.
#[tokio::test(start_paused = true)]
async fn a_post_answered_502_503_or_504_is_read_for_before_a_resend() {
    let m = manifest(vec![desired(T, "crm", "https://a/")]);
    for status in [502, 503, 504] {
        let fake = Fake::new(&[]);
        fake.script(Method::POST, &[Fault::After(status)]);
        let report = run(&fake, &m, options()).await;
        assert!(report.succeeded(), "{status}: {report:?}");
        assert_eq!(fake.count(Method::POST), 1, "{status}");
        assert_eq!(fake.state().len(), 1, "{status}");

        let fake = Fake::new(&[]);
        fake.script(Method::POST, &[Fault::Before(status)]);
        let report = run(&fake, &m, options()).await;
        assert!(report.succeeded(), "{status}: {report:?}");
        assert_eq!(fake.count(Method::POST), 2, "{status}");
        assert_eq!(fake.state().len(), 1, "{status}");
    }
}

/// A DELETE that races another deleter: the API answers 400 "no
/// subscription with id"; a fresh read no longer lists it, so it is done
/// (already gone) and the run succeeds (before: failed, exit 1, and a
/// report saying both "converged" and "re-run to converge"). A 400 for an
/// id still listed stays failed, and is not sent again.
#[tokio::test(start_paused = true)]
async fn a_delete_of_an_id_already_gone_is_done() {
    let fake = Fake::new(&[live("wh_1", T, "old", "https://a/")]);
    let initial = fake.state();
    let m = manifest(vec![]);
    let plan = diff(&m, &initial);
    fake.other_writer(|model| model.delete("wh_1"));
    let report = apply(&fake, &m, &plan, &initial, options(), &Stop::default(), &|_| {}).await;
    assert!(report.succeeded(), "{report:?}");
    let outcome = &report.changes[0].outcome;
    assert!(
        matches!(outcome, Outcome::AlreadyGone(_)) && outcome.as_str() == "done",
        "{outcome:?}"
    );
    assert!(
        outcome.reason().unwrap().starts_with("already gone: "),
        "{outcome:?}"
    );

    for status in [400, 404] {
        let fake = Fake::new(&[live("wh_1", T, "old", "https://a/")]);
        fake.script(Method::DELETE, &[Fault::Before(status)]);
        let report = run(&fake, &m, options()).await;
        let reason = report.changes[0].outcome.reason().unwrap_or_default();
        assert!(reason.contains("a fresh read still lists it"), "{report:?}");
        assert_eq!(fake.count(Method::DELETE), 1);
        assert!(!report.succeeded());
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever the options (a wait of up to 2^64 s, any parallelism), a
    /// run never panics: every deadline saturates (issue 19, finding 9).
    #[test]
    fn any_options_are_safe(
        wait in proptest::prelude::any::<u64>(),
        nanos in 0u32..1_000_000_000,
        parallelism in proptest::prelude::any::<usize>(),
        poll in 1u64..100_000,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .unwrap();
        let report = runtime.block_on(async {
            let (mut fake, m) = mixed();
            fake.visibility = Duration::from_millis(poll);
            let options = ApplyOptions {
                parallelism,
                wait: Duration::new(wait, nanos),
                poll: Duration::from_millis(poll),
            };
            run(&fake, &m, options).await
        });
        proptest::prop_assert!(report.changes.iter().all(|c| c.outcome.is_done()), "{report:?}");
    }
}
