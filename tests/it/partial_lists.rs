//! A live list that may be partial is refused before anything is written:
//! pagination hints that say there is more, and repeated ids (as
//! overlapping pages give). Planning from such a list would create what
//! the missing pages hold, or delete a copy of a subscription it keeps.
//! Each case runs `plan` and `apply` through the binary against a stub
//! that records every request, and checks that no write arrived.

use crate::netkit::{json, Stub};
use crate::support::*;

/// The subscription the manifest declares and the list holds.
const CRM: &str =
    r#"{"id":"wh_1","topic":"customer.updated","name":"crm","callbackUrl":"https://crm.example/"}"#;

/// A manifest declaring `crm` (live) and `erp` (on "the next page").
fn world() -> World {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(
            "subscriptions:\n  \
             - {name: crm, topic: customer.updated, callbackUrl: \"https://crm.example/\"}\n  \
             - {name: erp, topic: customer.ordered, callbackUrl: \"https://erp.example/\"}\n",
        ),
    );
    world
}

/// `plan` and `apply` against a stub answering `list` to every GET both
/// exit 1 with a message containing `says`, and the stub saw only GETs.
fn refused(list: String, says: &str) {
    let stub = Stub::start(move |request| match request.method() {
        "GET" => json("200 OK", &list),
        _ => json("201 Created", r#"{"message":"done","data":{}}"#),
    });
    let world = world();
    let base = stub.base_url();
    for args in [
        vec!["plan", "--base-url", &base],
        vec!["apply", "--auto-approve", "--base-url", &base],
    ] {
        let run = world.run(&args);
        assert_eq!(run.code, 1, "{run}");
        assert!(run.stderr.contains(says), "{run}");
        assert!(run.stderr.contains("could not read live subscriptions"), "{run}");
        assert!(run.stderr.contains("help: nothing was changed"), "{run}");
        assert!(run.stdout.is_empty(), "no plan is shown:\n{run}");
    }
    let requests = stub.requests();
    let writes: Vec<&str> = requests
        .iter()
        .map(|r| r.method())
        .filter(|m| *m != "GET")
        .collect();
    assert!(writes.is_empty(), "writes reached the server: {writes:?}");
    assert_eq!(requests.len(), 2, "one GET per run");
}

#[test]
fn a_total_larger_than_the_list_is_refused() {
    refused(
        format!(r#"{{"message":"ok","data":{{"subscriptions":[{CRM}],"total":2}}}}"#),
        "the API returned 1 of 2 subscriptions (`data.total`: 2) and invhooks does not page",
    );
}

#[test]
fn a_next_page_is_refused() {
    refused(
        format!(r#"{{"message":"ok","data":[{CRM}],"nextPage":2}}"#),
        "the API returned 1 subscription and a next page (`nextPage`: 2)",
    );
}

#[test]
fn has_more_is_refused() {
    refused(
        format!(r#"{{"message":"ok","data":{{"items":[{CRM}],"hasMore":true}}}}"#),
        "says there are more (`data.hasMore`: true)",
    );
}

#[test]
fn a_last_evaluated_key_is_refused() {
    refused(
        format!(
            r#"{{"message":"ok","data":{{"Items":[{CRM}],"Count":1,"LastEvaluatedKey":{{"id":"wh_1"}}}}}}"#
        ),
        "(`data.LastEvaluatedKey`: {\"id\":\"wh_1\"})",
    );
}

#[test]
fn a_repeated_id_is_refused() {
    // Without the check, the plan keeps one copy of `crm` and deletes the
    // other: the same id, so apply would delete the subscription it keeps.
    refused(
        format!(r#"{{"message":"ok","data":[{CRM},{CRM}]}}"#),
        "the API listed id `wh_1` more than once",
    );
}

#[test]
fn hints_that_say_the_list_is_whole_are_accepted() {
    let list = format!(
        r#"{{"message":"ok","data":{{"Items":[{CRM}],"Count":1,"LastEvaluatedKey":null,"hasMore":false,"next":null}},"nextToken":""}}"#
    );
    let stub = Stub::start(move |_| json("200 OK", &list));
    let run = world().run(&["plan", "--base-url", &stub.base_url()]);
    assert_eq!(run.code, 0, "{run}");
    assert!(run.stdout.contains("Plan: 1 to create"), "{run}");
}
