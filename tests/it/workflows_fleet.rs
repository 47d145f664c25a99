//! The sharded fleet workflows (`examples/github-actions/fleet.yml`,
//! `fleet-apply.yml`): each shard's invocation, as GitHub substitutes the
//! matrix, run against the sandbox; every merchant is handled by exactly
//! one shard, and the last job merges the shards into one step summary.
//! `fleet-apply.yml` first rolls out the canaries in a job of their own,
//! behind the approval environment, then each shard in waves.

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

/// Each shard's one run (the job `job` alone), as GitHub substitutes
/// `matrix.shard`.
fn each_shard(text: &str, job: &str, shards: &[String], command: &str) -> Vec<Ran> {
    shards
        .iter()
        .map(|k| {
            let found = invocations(&github_scripts(&only_job(
                &text.replace("${{ matrix.shard }}", k),
                job,
            )));
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

/// The workflow `text` with only its job `job` (and the top-level env).
fn only_job(text: &str, job: &str) -> Value {
    let mut doc: Value = serde_saphyr::from_str::<serde_json::Value>(text).unwrap();
    let kept = doc["jobs"][job].clone();
    doc["jobs"] = serde_json::json!({ job: kept });
    doc
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
    let runs = each_shard(&text, "plan", &shards, "plan");
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
fn fleet_apply_workflow_rolls_out_canaries_behind_approval_then_every_merchant_once_in_waves() {
    let (text, doc, shards) = sharded("examples/github-actions/fleet-apply.yml", "apply");
    let (canary, apply) = (&doc["jobs"]["canary"], &doc["jobs"]["apply"]);
    assert_eq!(
        canary["environment"], "production",
        "the canaries wait for the approval"
    );
    assert_eq!(apply["needs"], "canary", "the fleet waits for the canaries");
    assert_eq!(doc["env"]["WAVE_GATE"], "check");
    // The test manifest's callbacks (a.example) resolve nowhere here: the
    // gates run in tests/it/waves.rs; here every wave converges.
    let text = text.replace("WAVE_GATE: check", "WAVE_GATE: converge");

    let found = invocations(&github_scripts(&only_job(&text, "canary")));
    assert_eq!(found.len(), 1, "{found:?}");
    let waves = found[0].iter().position(|a| a == "--waves").unwrap();
    assert_eq!(found[0][waves + 1], doc["env"]["CANARIES"].as_str().unwrap());
    assert!(!found[0].contains(&"--shard".to_owned()), "{found:?}");
    let (_, runs) = exercise(&found, true);
    let canaries = &runs[0].1;
    assert_eq!(canaries.code, 0, "{}", canaries.stdout);
    assert!(
        canaries.stdout.starts_with("<!-- invhooks apply -->"),
        "{}",
        canaries.stdout
    );
    assert!(
        canaries
            .stdout
            .contains("<details><summary>✅ applied: 1</summary>"),
        "{}",
        canaries.stdout
    );

    let runs = each_shard(&text, "apply", &shards, "apply");
    assert!(runs.iter().all(|r| r.code == 0), "every shard converges");
    let applied: Vec<&Ran> = runs.iter().filter(|r| !r.stdout.is_empty()).collect();
    assert_eq!(applied.len(), 1, "the one test merchant, in exactly one shard");
    let report = &applied[0].stdout;
    assert!(report.starts_with("<!-- invhooks apply -->"), "{report}");
    assert!(
        report.contains("Apply complete: 3 done, 0 failed, 0 skipped."),
        "{report}"
    );
    for flag in ["--waves", "--wave-gate", "--wave-pause"] {
        let args = crate::support::strings_of(&apply["steps"]);
        assert!(args.contains(flag), "{flag}");
    }
    assert!(
        applied[0].summary.is_empty(),
        "--no-step-summary: the merge job writes it"
    );
    merges_into_the_step_summary(&doc);
    let merge = crate::support::strings_of(&doc["jobs"]["summary"]);
    assert!(
        merge.contains("invhooks-apply-canary") && merge.contains("invhooks-apply-*"),
        "{merge}"
    );
}
