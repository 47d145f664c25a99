//! The sharded fleet workflows (`examples/github-actions/fleet.yml`,
//! `fleet-apply.yml`): each shard's invocation, as GitHub substitutes the
//! matrix, run against the sandbox; every merchant is handled by exactly
//! one shard, and the last job merges the shards into one step summary.

use std::path::Path;

use serde_json::Value;

use crate::workflows::{exercise, github_scripts, invocations, scalar, subcommands, Ran};

/// The workflow at `path` (under the repository) and its matrix of shards.
fn sharded(path: &str, job: &str) -> (String, Value, Vec<String>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    let text = std::fs::read_to_string(path).unwrap();
    let doc: Value = serde_saphyr::from_str::<serde_json::Value>(&text).unwrap();
    let shards: Vec<String> = doc["jobs"][job]["strategy"]["matrix"]["shard"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| scalar(s).unwrap())
        .collect();
    assert_eq!(
        doc["env"]["SHARDS"].as_str(),
        Some(shards.len().to_string().as_str())
    );
    (text, doc, shards)
}

/// Each shard's one run, as GitHub substitutes `matrix.shard`.
fn each_shard(text: &str, shards: &[String], command: &str) -> Vec<Ran> {
    shards
        .iter()
        .map(|k| {
            let one: Value =
                serde_saphyr::from_str::<serde_json::Value>(&text.replace("${{ matrix.shard }}", k)).unwrap();
            let found = invocations(&github_scripts(&one));
            assert!(
                found.iter().all(|a| a.contains(&"--shard".to_owned())),
                "{found:?}"
            );
            let (_, mut runs) = exercise(&found, true);
            assert_eq!(subcommands(&runs), [command]);
            runs.remove(0).1
        })
        .collect()
}

fn merges_into_the_step_summary(doc: &Value) {
    let merge = serde_json::to_string(&doc["jobs"]["summary"]).unwrap();
    assert!(
        merge.contains("GITHUB_STEP_SUMMARY") && merge.contains("download-artifact"),
        "{merge}"
    );
}

#[test]
fn fleet_workflow_plans_every_merchant_once_over_its_shards() {
    let (text, doc, shards) = sharded("examples/github-actions/fleet.yml", "plan");
    let runs = each_shard(&text, &shards, "plan");
    for plan in &runs {
        assert!(
            plan.stdout.starts_with("<!-- invhooks plan -->"),
            "{}",
            plan.stdout
        );
    }
    let planned = runs.iter().filter(|r| r.code == 2).count();
    assert_eq!(
        planned, 1,
        "the one test merchant, with changes, in exactly one shard"
    );
    merges_into_the_step_summary(&doc);
    // One pull-request comment, found again by the marker the merge writes.
    let summary = &doc["jobs"]["summary"];
    assert_eq!(summary["permissions"]["pull-requests"], "write");
    let steps = crate::support::strings_of(&summary["steps"]);
    let marker = "<!-- invhooks fleet plan -->";
    assert!(steps.contains(&format!("echo \"{marker}\"")), "{steps}");
    assert!(
        steps.contains(&format!("const marker = '{marker}'")) && steps.contains("updateComment"),
        "{steps}"
    );
}

#[test]
fn fleet_apply_workflow_applies_every_merchant_once_over_its_shards() {
    let (text, doc, shards) = sharded("examples/github-actions/fleet-apply.yml", "apply");
    let runs = each_shard(&text, &shards, "apply");
    assert!(runs.iter().all(|r| r.code == 0), "every shard converges");
    let applied: Vec<&Ran> = runs.iter().filter(|r| !r.stdout.is_empty()).collect();
    assert_eq!(applied.len(), 1, "the one test merchant, in exactly one shard");
    let report = &applied[0].stdout;
    assert!(report.starts_with("<!-- invhooks apply -->"), "{report}");
    assert!(
        report.contains("Apply complete: 3 done, 0 failed, 0 skipped."),
        "{report}"
    );
    assert!(
        applied[0].summary.is_empty(),
        "--no-step-summary: the merge job writes it"
    );
    merges_into_the_step_summary(&doc);
}
