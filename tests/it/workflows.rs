//! The CI examples users copy (`examples/github-actions/*.yml`,
//! `examples/gitlab-ci.yml`): each parses as YAML, and every `invhooks …`
//! command in its scripts is run, in order, against the sandbox (with `-f`
//! pointed at a test manifest), so a renamed or mistyped flag fails here.
//! What the workflows rely on (the comment marker, the JSON keys jq reads,
//! the fingerprints in the Markdown) is checked against real output.

use std::collections::HashMap;
use std::path::Path;

use serde_json::Value;

use crate::support::*;

/// What clap prints for a usage error (which exits 1, like any error).
const USAGE_ERRORS: [&str; 5] = [
    "error: unexpected argument",
    "error: invalid value",
    "error: unrecognized subcommand",
    "error: the argument",
    "Usage:",
];

fn example(path: &str) -> Value {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(path);
    let text = std::fs::read_to_string(&file).unwrap();
    let mut doc: Value =
        serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path} is not valid YAML: {e}"));
    // A JSON object sorts its keys; keep the file's order of the top
    // level (GitLab's jobs) beside it.
    let Keys(order) = serde_saphyr::from_str(&text).unwrap();
    doc["__order"] = order.into();
    doc
}

/// A mapping's keys in file order.
struct Keys(Vec<String>);

impl<'de> serde::Deserialize<'de> for Keys {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Vec::new();
                while let Some(key) = map.next_key()? {
                    map.next_value::<serde::de::IgnoredAny>()?;
                    keys.push(key);
                }
                Ok(Keys(keys))
            }
        }
        deserializer.deserialize_map(Visit)
    }
}

fn vars(map: Option<&Value>) -> HashMap<String, String> {
    map.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), scalar(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

pub(crate) fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Every `run:` script of a GitHub workflow, in order (a job after the
/// jobs it `needs`), with its `env`.
pub(crate) fn github_scripts(doc: &Value) -> Vec<(String, HashMap<String, String>)> {
    let mut out = Vec::new();
    let top = vars(doc.get("env"));
    let jobs = doc["jobs"].as_object().unwrap();
    let needs = |job: &Value| -> Vec<String> {
        match &job["needs"] {
            Value::String(one) => vec![one.clone()],
            Value::Array(many) => many.iter().filter_map(|n| Some(n.as_str()?.to_owned())).collect(),
            _ => Vec::new(),
        }
    };
    let mut order: Vec<&String> = Vec::new();
    while order.len() < jobs.len() {
        let ready = jobs
            .iter()
            .find(|(name, job)| {
                // A job left out of `doc` (one job of a workflow) needs nothing here.
                !order.contains(name)
                    && needs(job)
                        .iter()
                        .all(|n| order.contains(&n) || !jobs.contains_key(n))
            })
            .expect("jobs' `needs` form no cycle");
        order.push(ready.0);
    }
    for job in order.into_iter().map(|name| &jobs[name]) {
        let mut job_env = top.clone();
        job_env.extend(vars(job.get("env")));
        for step in job["steps"].as_array().unwrap() {
            let mut env = job_env.clone();
            env.extend(vars(step.get("env")));
            if let Some(run) = step.get("run").and_then(Value::as_str) {
                out.push((run.to_owned(), env));
            } else if let Some(script) = action_invocation(step) {
                out.push((script, env));
            }
        }
    }
    out
}

/// A step that uses the invhooks action (`OWNER/invhooks@REF`, or `./` in
/// this repository), as the shell command the action runs:
/// `invhooks COMMAND ARGS` (with `${{ env.X }}` as `$X`).
fn action_invocation(step: &Value) -> Option<String> {
    let uses = step.get("uses")?.as_str()?;
    if !(uses.contains("/invhooks@") || uses == "./") {
        return None;
    }
    let with = &step["with"];
    let line = format!(
        "invhooks {} {}",
        with["command"].as_str()?,
        with["args"].as_str().unwrap_or_default()
    );
    Some(line.replace("${{ env.", "${").replace(" }}", "}"))
}

/// Every script line of a GitLab CI file, in stage order, with its variables.
fn gitlab_scripts(doc: &Value) -> Vec<(String, HashMap<String, String>)> {
    let top = vars(doc.get("variables"));
    let stages: Vec<&str> = doc["stages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    let mut jobs: Vec<(usize, &Value)> = doc["__order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| &doc[name.as_str().unwrap()])
        .filter(|job| job.get("script").is_some() || job.get("before_script").is_some())
        .map(|job| {
            let stage = job.get("stage").and_then(Value::as_str);
            (
                stage
                    .and_then(|s| stages.iter().position(|x| *x == s))
                    .unwrap_or(0),
                job,
            )
        })
        .collect();
    jobs.sort_by_key(|(stage, _)| *stage);
    let mut out = Vec::new();
    for (_, job) in jobs {
        let mut env = top.clone();
        env.extend(vars(job.get("variables")));
        for key in ["before_script", "script", "after_script"] {
            for line in job.get(key).and_then(Value::as_array).into_iter().flatten() {
                out.push((line.as_str().unwrap().to_owned(), env.clone()));
            }
        }
    }
    out
}

/// The simple commands of a shell script, as words: quote-aware, variables
/// expanded from `env` (an unknown one becomes `<unset NAME>`), comments
/// and redirections dropped; `;`, `&`, `|`, `(`, `)`, `$(`, backticks and
/// newlines end a command. Enough shell for the examples, not a shell.
fn commands(script: &str, env: &HashMap<String, String>) -> Vec<Vec<String>> {
    let chars: Vec<char> = script.chars().collect();
    let mut commands = Vec::new();
    let mut command: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut skip_next = false;
    let (mut i, mut single, mut double) = (0, false, false);
    let end_word = |word: &mut Option<String>, command: &mut Vec<String>, skip: &mut bool| {
        if let Some(w) = word.take() {
            if std::mem::take(skip) {
                return;
            }
            command.push(w);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        if single {
            if c == '\'' {
                single = false;
            } else {
                word.get_or_insert_with(String::new).push(c);
            }
            i += 1;
            continue;
        }
        match c {
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 1,
            '\\' => {
                if let Some(&next) = chars.get(i + 1) {
                    word.get_or_insert_with(String::new).push(next);
                }
                i += 1;
            }
            '\'' if !double => {
                single = true;
                word.get_or_insert_with(String::new);
            }
            '"' => {
                double = !double;
                word.get_or_insert_with(String::new);
            }
            '$' if chars.get(i + 1) == Some(&'(') && !double => {
                end_word(&mut word, &mut command, &mut skip_next);
                commands.push(std::mem::take(&mut command));
                i += 1;
            }
            '$' => {
                let (name, next) = if chars.get(i + 1) == Some(&'{') {
                    let end = (i + 2..chars.len()).find(|&j| chars[j] == '}').unwrap();
                    (chars[i + 2..end].iter().collect::<String>(), end + 1)
                } else {
                    let end = (i + 1..chars.len())
                        .find(|&j| {
                            !(chars[j].is_ascii_alphanumeric()
                                || chars[j] == '_'
                                || (j == i + 1 && chars[j] == '?'))
                        })
                        .unwrap_or(chars.len());
                    (chars[i + 1..end].iter().collect::<String>(), end)
                };
                let value = match env.get(&name) {
                    Some(v) => v.clone(),
                    None if name.is_empty() => "$".to_owned(),
                    None => format!("<unset {name}>"),
                };
                word.get_or_insert_with(String::new).push_str(&value);
                i = next;
                continue;
            }
            _ if double => word.get_or_insert_with(String::new).push(c),
            '#' if word.is_none() => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
                continue;
            }
            ' ' | '\t' => end_word(&mut word, &mut command, &mut skip_next),
            '>' | '<' => {
                if word
                    .as_deref()
                    .is_some_and(|w| w.chars().all(|c| c.is_ascii_digit()))
                {
                    word = None;
                }
                end_word(&mut word, &mut command, &mut skip_next);
                while matches!(chars.get(i + 1), Some('>') | Some('&')) {
                    i += 1;
                }
                skip_next = chars.get(i + 1) != Some(&'(');
            }
            '\n' | ';' | '&' | '|' | '(' | ')' | '`' => {
                end_word(&mut word, &mut command, &mut skip_next);
                commands.push(std::mem::take(&mut command));
            }
            _ => word.get_or_insert_with(String::new).push(c),
        }
        i += 1;
    }
    end_word(&mut word, &mut command, &mut skip_next);
    commands.push(command);
    commands.retain(|c| !c.is_empty());
    commands
}

/// The `invhooks` invocations among `commands`: the arguments after the
/// program name, when `invhooks` is in command position.
pub(crate) fn invocations(scripts: &[(String, HashMap<String, String>)]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    for (script, env) in scripts {
        for command in commands(script, env) {
            let mut words = command.iter().skip_while(|w| {
                ["if", "then", "else", "do", "while", "until", "!", "time", "exec"].contains(&w.as_str())
                    || (w.contains('=')
                        && w.split('=')
                            .next()
                            .is_some_and(|n| n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')))
            });
            if words.next().map(String::as_str) == Some("invhooks") {
                found.push(words.cloned().collect());
            }
        }
    }
    found
}

const MANIFEST: &str = "merchant: acme
subscriptions:
  - {name: a, topic: customer.updated, callbackUrl: \"https://a.example/new?sig=s3cr3t\"}
  - {name: b, topic: customer.ordered, callbackUrl: \"https://b.example/\"}
";

/// The policy every example passes (`--policy`), as the test writes it.
const POLICY: &str = "version: 1\nallowedCallbackHosts: [\"*.example\"]\n";

/// The commands that take `--policy`: each example passes it to every one.
const WITH_POLICY: [&str; 5] = ["validate", "plan", "apply", "drift", "check"];

/// Runs each invocation in a world with drift, `-f` pointed at the test
/// manifest and `--policy` at a test policy; returns each run with its
/// subcommand.
pub(crate) fn exercise(invocations: &[Vec<String>], github: bool) -> (World, Vec<(String, Ran)>) {
    let world = World::new();
    world.write("test-manifest.yaml", &manifest(MANIFEST));
    world.write("test-policy.yaml", POLICY);
    world.seed(&[
        ("customer.updated", "a", "https://a.example/old"),
        ("customer.cancelled", "stray", "https://stray.example/"),
    ]);
    let summary = world.path("step-summary.md");
    let mut runs = Vec::new();
    for args in invocations {
        let mut args = args.clone();
        assert!(
            !WITH_POLICY.contains(&args[0].as_str()) || args.contains(&"--policy".to_owned()),
            "`invhooks {}` without --policy (docs/ci/index.md: the policy, guarded by CODEOWNERS)",
            args.join(" ")
        );
        for i in 1..args.len() {
            match args[i - 1].as_str() {
                "-f" | "--file" => args[i] = "test-manifest.yaml".to_owned(),
                "--policy" => args[i] = "test-policy.yaml".to_owned(),
                _ => {}
            }
        }
        assert!(
            !args.iter().any(|a| a.contains("<unset")),
            "unresolved variable in `invhooks {}`",
            args.join(" ")
        );
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        std::fs::write(&summary, "").unwrap();
        let mut env = vec![("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())];
        if github {
            env.push(("GITHUB_ACTIONS", "true"));
        }
        let run = world.run_env(&refs, &env);
        for marker in USAGE_ERRORS {
            assert!(
                !run.stderr.contains(marker),
                "`invhooks {}` is a usage error:\n{run}",
                args.join(" ")
            );
        }
        assert!(
            [0, 2].contains(&run.code),
            "`invhooks {}` failed against the sandbox:\n{run}",
            args.join(" ")
        );
        let summary_text = std::fs::read_to_string(&summary).unwrap();
        runs.push((
            args[0].clone(),
            Ran {
                code: run.code,
                stdout: run.stdout,
                summary: summary_text,
            },
        ));
    }
    (world, runs)
}

/// One invocation's exit code, stdout and what it appended to the step summary.
pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) summary: String,
}

pub(crate) fn subcommands(runs: &[(String, Ran)]) -> Vec<&str> {
    runs.iter().map(|(c, _)| c.as_str()).collect()
}

#[test]
fn the_shell_reader_finds_invocations_in_command_position() {
    let env = HashMap::from([("M".to_owned(), "m.yaml".to_owned())]);
    let script = "set +e\nX=1 invhooks plan -f \"$M\" --out p.json > plan.md 2>&1 || test $? -eq 2\n\
                  cargo install --git x invhooks\nnumber=$(invhooks drift --format json | jq .)\n\
                  echo 'invhooks apply' # invhooks validate\ninvhooks apply \\\n  --auto-approve";
    let found = invocations(&[(script.to_owned(), env)]);
    assert_eq!(
        found,
        [
            vec!["plan", "-f", "m.yaml", "--out", "p.json"],
            vec!["drift", "--format", "json"],
            vec!["apply", "--auto-approve"],
        ]
    );
}

#[test]
fn plan_workflow_validates_plans_and_keeps_one_comment() {
    let doc = example("github-actions/plan.yml");
    assert!(doc["on"]["pull_request"].is_object());
    let found = invocations(&github_scripts(&doc));
    let (_, runs) = exercise(&found, true);
    assert_eq!(subcommands(&runs), ["validate", "plan"]);
    let (_, plan) = &runs[1];
    assert_eq!(plan.code, 2, "--detailed-exitcode with changes");
    // The comment is the action's `markdown` output (the step summary); the
    // comment step finds its previous comment by the marker it starts with.
    let steps = doc["jobs"]["plan"]["steps"].as_array().unwrap();
    let comment = steps.iter().find(|s| s["with"]["script"].is_string()).unwrap();
    let script = comment["with"]["script"].as_str().unwrap();
    let marker = plan.summary.lines().next().unwrap();
    assert_eq!(marker, "<!-- invhooks plan -->");
    assert!(script.contains(&format!("'{marker}'")), "{script}");
    assert!(plan.summary.len() <= 65_536);
    assert_eq!(comment["env"]["MARKDOWN"], "${{ steps.plan.outputs.markdown }}");
    // No comment attempt where the token cannot write (forks, Dependabot),
    // and a failed comment does not fail the job.
    let guard = comment["if"].as_str().unwrap();
    assert!(
        guard.contains("github.event.pull_request.head.repo.full_name == github.repository"),
        "{guard}"
    );
    assert!(guard.contains("dependabot[bot]"), "{guard}");
    assert_eq!(comment["continue-on-error"], true);
}

#[test]
fn apply_workflow_applies_the_saved_plan_one_run_at_a_time() {
    let doc = example("github-actions/apply.yml");
    assert_eq!(doc["on"]["push"]["branches"][0], "main");
    assert_eq!(doc["concurrency"]["cancel-in-progress"], false);
    assert!(doc["concurrency"]["group"].is_string());
    // The key can be an environment secret: every job that reads it runs
    // in an environment restricted to main; only apply waits for approval
    // (docs/ci/index.md: one approval, not two).
    for (name, job) in doc["jobs"].as_object().unwrap() {
        if serde_json::to_string(job).unwrap().contains("secrets.") {
            assert!(job["environment"].as_str().is_some(), "job {name:?}");
        }
    }
    assert_eq!(doc["jobs"]["plan"]["environment"], "production-plan");
    assert_eq!(doc["jobs"]["apply"]["environment"], "production");
    // The saved plan does not outlive the apply.
    let apply_steps = serde_json::to_string(&doc["jobs"]["apply"]).unwrap();
    assert!(apply_steps.contains("deleteArtifact"), "{apply_steps}");
    assert_eq!(doc["jobs"]["apply"]["permissions"]["actions"], "write");
    let found = invocations(&github_scripts(&doc));
    assert!(
        found.iter().any(|a| a.contains(&"--auto-approve".to_owned())),
        "{found:?}"
    );
    let (world, runs) = exercise(&found, true);
    assert_eq!(subcommands(&runs), ["plan", "apply"]);
    assert_eq!(runs[0].1.code, 2);
    assert_eq!(runs[1].1.code, 0, "the saved plan applies");
    assert!(
        runs[1].1.summary.contains("<!-- invhooks apply -->"),
        "step summary written"
    );
    assert_eq!(world.live().len(), 2);
}

#[test]
fn drift_workflow_reports_fingerprints_the_issue_step_can_compare() {
    let doc = example("github-actions/drift.yml");
    assert!(doc["on"]["schedule"][0]["cron"].is_string());
    let found = invocations(&github_scripts(&doc));
    let (_, runs) = exercise(&found, true);
    assert_eq!(subcommands(&runs), ["drift"]);
    let (_, drift) = &runs[0];
    assert_eq!(drift.code, 2);
    // jq reads `.merchants[].items[].fingerprint`; the issue body (the step
    // summary) shows each one in backticks, which the workflow greps for.
    let json: serde_json::Value = serde_json::from_str(&drift.stdout).unwrap();
    let items = json["merchants"][0]["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    for item in items {
        let fp = item["fingerprint"].as_str().unwrap();
        assert!(
            fp.len() == 16 && fp.chars().all(|c| c.is_ascii_hexdigit()),
            "{fp}"
        );
        assert!(
            drift.summary.contains(&format!("`{fp}`")),
            "summary lacks {fp}:\n{}",
            drift.summary
        );
    }
    assert!(drift.summary.starts_with("<!-- invhooks drift -->"));
    // Known fingerprints are not read back from the (size-capped) issue.
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/github-actions/drift.yml"),
    )
    .unwrap();
    assert!(
        !text.contains("gh issue view"),
        "fingerprints read from the issue body"
    );
    assert!(text.contains("actions/cache/save@") && text.contains("actions/cache/restore@"));
}

#[test]
fn gitlab_example_runs_validate_plan_apply_and_drift() {
    let doc = example("gitlab-ci.yml");
    assert_eq!(doc["apply"]["resource_group"], "invhooks-production");
    let found = invocations(&gitlab_scripts(&doc));
    let (world, runs) = exercise(&found, false);
    assert_eq!(subcommands(&runs), ["validate", "plan", "plan", "apply", "drift"]);
    let note = &runs[1].1;
    assert_eq!(note.code, 2, "merge-request plan");
    assert!(
        note.stdout.starts_with("<!-- invhooks plan -->"),
        "the MR note is Markdown"
    );
    assert_eq!(runs[3].1.code, 0, "the saved plan applies");
    assert_eq!(runs[4].1.code, 0, "no drift after the apply");
    // Merge requests plan with their own, unprotected key; the manual apply
    // does not block the pipeline; drift (2) is a warning, an error (1) fails.
    assert_eq!(
        doc["plan:mr"]["variables"]["INVETERATE_API_KEY"],
        "$INVETERATE_PLAN_API_KEY"
    );
    let note = doc["plan:mr"]["script"][2].as_str().unwrap();
    assert!(
        note.contains("/merge_requests/$CI_MERGE_REQUEST_IID/notes"),
        "{note}"
    );
    assert!(
        note.contains("--request PUT") && note.contains("--request POST"),
        "{note}"
    );
    assert_eq!(doc["apply"]["rules"][0]["when"], "manual");
    assert_eq!(doc["apply"]["rules"][0]["allow_failure"], true);
    assert_eq!(doc["drift"]["allow_failure"]["exit_codes"][0], 2);
    assert_eq!(world.live().len(), 2);
}

/// The GitLab merge-request note is one note, edited on later pipelines:
/// the job's note script, run twice by bash (curl, jq) against a stub of
/// GitLab's notes API, posts once and then edits its own note, leaving a
/// note someone else wrote with the same marker alone.
#[cfg(unix)]
#[test]
fn gitlab_keeps_one_merge_request_note_up_to_date() {
    use std::sync::{Arc, Mutex};

    use crate::netkit::{json, Stub};

    let doc = example("gitlab-ci.yml");
    let script = doc["plan:mr"]["script"][2].as_str().unwrap().to_owned();
    const NOTES: &str = "/api/v4/projects/42/merge_requests/5/notes";
    // (id, author, body); the token's user is 7.
    let notes = Arc::new(Mutex::new(vec![
        (1, 8, "<!-- invhooks plan -->\nquoted by a person".to_owned()),
        (2, 7, "an unrelated note of the bot".to_owned()),
    ]));
    let state = Arc::clone(&notes);
    let stub = Stub::start(move |req| {
        assert_eq!(req.header("private-token"), Some("note-token"), "{}", req.head);
        let body = || {
            url::form_urlencoded::parse(&req.body)
                .find(|(k, _)| k == "body")
                .map(|(_, v)| v.into_owned())
                .unwrap()
        };
        let mut notes = state.lock().unwrap();
        match (req.method(), req.path()) {
            ("GET", "/api/v4/user") => json("200 OK", r#"{"id": 7}"#),
            ("GET", p) if p.starts_with(&format!("{NOTES}?")) => {
                let list: Vec<serde_json::Value> = notes
                    .iter()
                    .rev()
                    .map(|(id, author, body)| serde_json::json!({"id": id, "author": {"id": author}, "body": body}))
                    .collect();
                json("200 OK", serde_json::to_string(&list).unwrap())
            }
            ("POST", NOTES) => {
                notes.push((100, 7, body()));
                json("201 Created", r#"{"id": 100}"#)
            }
            ("PUT", p) if p.starts_with(&format!("{NOTES}/")) => {
                let id: u64 = p.rsplit('/').next().unwrap().parse().unwrap();
                let note = notes.iter_mut().find(|n| n.0 == id).unwrap();
                note.2 = body();
                json("200 OK", format!(r#"{{"id": {id}}}"#))
            }
            _ => json("404 Not Found", "{}"),
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let run = |plan: &str| {
        std::fs::write(dir.path().join("plan.md"), plan).unwrap();
        let out = std::process::Command::new("bash")
            .args(["-c", &script])
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("INVHOOKS_NOTE_TOKEN", "note-token")
            .env("CI_API_V4_URL", format!("http://{}/api/v4", stub.addr()))
            .env("CI_PROJECT_ID", "42")
            .env("CI_MERGE_REQUEST_IID", "5")
            .current_dir(dir.path())
            .output()
            .unwrap();
        let run = Run::checked(out);
        assert_eq!(run.code, 0, "{run}");
        assert!(!run.stdout.contains("could not post"), "{run}");
    };
    run("<!-- invhooks plan -->\nfirst & plan");
    run("<!-- invhooks plan -->\nsecond plan");
    let notes = notes.lock().unwrap();
    let ours: Vec<_> = notes
        .iter()
        .filter(|(_, author, body)| *author == 7 && body.starts_with("<!-- invhooks plan -->"))
        .collect();
    assert_eq!(ours.len(), 1, "{notes:?}");
    assert_eq!(ours[0].2, "<!-- invhooks plan -->\nsecond plan");
    assert_eq!(notes[0].2, "<!-- invhooks plan -->\nquoted by a person");
    let methods: Vec<String> = stub
        .requests()
        .iter()
        .filter(|r| r.path().starts_with(NOTES))
        .map(|r| r.method().to_owned())
        .collect();
    assert_eq!(methods, ["GET", "POST", "GET", "PUT"]);
}
