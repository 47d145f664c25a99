//! Sinks escape what invhooks did not write (SPEC "Safety by
//! construction"), through the real binary: hostile live names from the
//! sandbox and a hostile merchant label, in the Markdown of a pull-request
//! comment and step summary, and on a GitHub Actions runner's output.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

use crate::support::*;

/// A label that validates and reads, at a line start, as a command.
const LABEL: &str = "::notice title=invhooks::No changes needed - safe to merge";
/// A live name that closes a double-backtick code span, then Markdown.
const NAME: &str = "a`` **bold** @org/team <img src=x> [l](https://evil.example) ``b";

fn world() -> World {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: \"{LABEL}\"\nsubscriptions:\n{}",
            entry("crm", "customer.ordered", "https://hooks.acme.dev/in")
        )),
    );
    world.seed(&[
        ("customer.cancelled", NAME, "https://hooks.acme.dev/x"),
        (
            "customer.updated",
            "x|y\n::warning::pwned\n| a | b |",
            "https://hooks.acme.dev/y",
        ),
    ]);
    world
}

/// What a reader of the Markdown sees besides our own text: HTML, links,
/// images, and text outside code that holds a value's characters.
fn injected(md: &str) -> Vec<String> {
    let ours = [
        "<!-- invhooks plan -->",
        "<!-- invhooks drift -->",
        "<!-- invhooks apply -->",
        "</details>",
    ];
    let mut in_block = false;
    Parser::new_ext(md, Options::ENABLE_TABLES)
        .filter_map(|event| match event {
            Event::Start(Tag::CodeBlock(_)) => {
                in_block = true;
                None
            }
            Event::End(TagEnd::CodeBlock) => {
                in_block = false;
                None
            }
            Event::Text(_) if in_block => None,
            Event::Html(h) | Event::InlineHtml(h) => {
                let h = h.trim();
                let summary = h.starts_with("<details><summary><code>")
                    && !h["<details><summary><code>".len()..].contains("<img");
                // The apply summary's own fold of stores by status.
                let status = ["<details><summary>", "<details open><summary>"].iter().any(|p| {
                    h.strip_prefix(p)
                        .and_then(|r| r.strip_suffix("</summary>"))
                        .is_some_and(|inner| !inner.contains(['<', '`', '@', '[']))
                });
                (!ours.contains(&h) && !summary && !status).then(|| format!("html {h}"))
            }
            Event::Start(Tag::Link { .. } | Tag::Image { .. }) => Some("a link".to_owned()),
            Event::Text(t) if t.contains(['@', '*']) || t.contains("::") => Some(format!("text {t}")),
            _ => None,
        })
        .collect()
}

#[test]
fn live_names_cannot_inject_markdown_into_a_comment_or_summary() {
    let world = world();
    for args in [
        &["plan", "--format", "markdown"][..],
        &["drift", "--format", "markdown"],
    ] {
        let run = world.run(args);
        assert!(run.code == 0 || run.code == 2, "{run}");
        assert_eq!(
            injected(&run.stdout),
            Vec::<String>::new(),
            "{args:?}:\n{}",
            run.stdout
        );
        assert!(
            run.stdout.contains("```a`` **bold** @org/team <img src=x>"),
            "{}",
            run.stdout
        );
    }
    let summary = world.path("summary.md");
    let run = world.run_env(
        &["apply", "--auto-approve"],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(run.code, 0, "{run}");
    let md = std::fs::read_to_string(&summary).unwrap();
    assert_eq!(injected(&md), Vec::<String>::new(), "{md}");
    for line in md.lines().filter(|l| l.starts_with('|')) {
        assert!(!line.contains("| a | b |"), "a value added table cells: {line}");
    }
}

#[test]
fn no_value_starts_a_workflow_command_on_a_runner() {
    let world = world();
    let ci = [("GITHUB_ACTIONS", "true")];
    let mut shown = String::new();
    // One call at a time, so the progress lines come in plan order.
    let apply = ["apply", "--auto-approve", "--parallelism", "1"];
    for args in [&["plan"][..], &["drift"], &apply, &["drift"]] {
        let run = world.run_env(args, &ci);
        for line in run.stdout.lines().chain(run.stderr.lines()) {
            let start = line.trim_start();
            assert!(
                !start.starts_with("::") && !start.starts_with("##["),
                "{args:?} printed a workflow command: {line}\n{run}"
            );
        }
        shown.push_str(&format!("$ {}\n{run}\n", args.join(" ")));
    }
    assert!(
        shown.contains(r"\u{3a}:notice title=invhooks::No changes needed - safe to merge: done"),
        "{shown}"
    );
    snapshot!(world, shown);
}

#[test]
fn our_annotations_still_start_their_lines() {
    let world = World::new();
    world.write(
        "webhooks.yaml",
        &manifest(&format!(
            "merchant: \"{LABEL}\"\nsubscriptions:\n{}",
            entry("crm", "customer.ordred", "https://hooks.acme.dev/in")
        )),
    );
    let run = world.run_env(&["validate"], &[("GITHUB_ACTIONS", "true")]);
    assert_eq!(run.code, 1, "{run}");
    let commands: Vec<&str> = run.stderr.lines().filter(|l| l.starts_with("::")).collect();
    assert_eq!(commands.len(), 1, "{run}");
    assert!(
        commands[0].starts_with("::error file=webhooks.yaml,line=4,title=invhooks%3A invalid manifest::"),
        "{run}"
    );
}
