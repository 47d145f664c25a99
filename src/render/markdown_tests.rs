#![allow(clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::apply::waves::{GateFailure, Rollout, Sizes, Wave, WaveGate};
use crate::apply::{ChangeReport, MerchantReport, Refusal};
use crate::fixtures::{create, delete, desired, manifest, update};
use crate::model::LiveSubscription;
use crate::plan::{Action, SafetyTrip, Summary};
use crate::render::drift;

fn merchant(label: &str, changes: Vec<Change>, unmanaged: Vec<LiveSubscription>) -> MerchantPlan {
    let count = |a: Action| changes.iter().filter(|c| c.action() == a).count();
    MerchantPlan {
        merchant: label.into(),
        summary: Summary {
            create: count(Action::Create),
            update: count(Action::Update),
            delete: count(Action::Delete),
            unchanged: 3,
            ignored: 1,
            unmanaged: unmanaged.len(),
        },
        changes,
        unmanaged,
        safety: None,
        renames_applied: vec![],
    }
}

fn small() -> Plan {
    let mut acme = merchant(
        "acme",
        vec![
            create(
                "customer.cancelled",
                "crm",
                "https://crm.example/hook?token=s3cr3t",
            ),
            update(
                "wh_000002",
                "customer.updated",
                "erp",
                "https://erp.example/v1",
                "https://erp.example/v2",
            ),
            update(
                "wh_000003",
                "customer.ordered",
                "pipe|name",
                "https://x.example/?k=old",
                "https://x.example/?k=new",
            ),
            delete(
                "wh_000004",
                "customer.ordered",
                "warehouse",
                "https://w.example/",
                true,
            ),
            delete(
                "wh_000005",
                "customer.updated",
                "legacy",
                "https://old.example/",
                false,
            ),
        ],
        vec![],
    );
    acme.safety = Some(SafetyTrip::MassChange {
        changed: 4,
        in_scope: 10,
        max_percent: 30,
    });
    let beta = merchant(
        "beta",
        vec![],
        vec![LiveSubscription {
            id: "wh_000009".into(),
            topic: "customer.updated".into(),
            name: "manual".into(),
            callback_url: "https://manual.example/".into(),
        }],
    );
    Plan {
        merchants: vec![acme, beta],
    }
}

fn huge(changes: usize) -> Plan {
    let list = (0..changes)
        .map(|i| match i % 3 {
            0 => create(
                "customer.updated",
                &format!("hook-{i:05}"),
                &format!("https://h.example/{i}?sig=abc"),
            ),
            1 => update(
                &format!("wh_{i:06}"),
                "customer.ordered",
                &format!("hook-{i:05}"),
                &format!("https://old.example/{i}"),
                &format!("https://new.example/{i}"),
            ),
            _ => delete(
                &format!("wh_{i:06}"),
                "customer.cancelled",
                &format!("hook-{i:05}"),
                &format!("https://gone.example/{i}"),
                false,
            ),
        })
        .collect();
    let mut m = merchant("acme-eu", list, vec![]);
    m.safety = Some(SafetyTrip::MassChange {
        changed: changes * 2 / 3,
        in_scope: changes,
        max_percent: 30,
    });
    Plan {
        merchants: vec![
            m,
            merchant(
                "beta",
                vec![create("customer.updated", "b", "https://b.example/")],
                vec![],
            ),
        ],
    }
}

/// The first `n` lines and the last `m`, for snapshots of huge documents.
fn ends(text: &str, n: usize, m: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines.len().saturating_sub(m);
    format!(
        "{}\n[… {} lines …]\n{}",
        lines[..n].join("\n"),
        tail - n,
        lines[tail..].join("\n")
    )
}

#[test]
fn small_plan_summary_then_tables_then_details() {
    let md = render(&small(), "invhooks plan", GITHUB_COMMENT_LIMIT, &Keys::none());
    assert!(!md.contains("s3cr3t"));
    insta::assert_snapshot!(md);
}

#[test]
fn no_changes_is_one_line_and_the_counts() {
    let plan = Plan {
        merchants: vec![merchant("acme", vec![], vec![])],
    };
    insta::assert_snapshot!(render(
        &plan,
        "invhooks plan",
        GITHUB_COMMENT_LIMIT,
        &Keys::none()
    ));
}

#[test]
fn a_3000_change_plan_fits_githubs_limit_and_keeps_its_summary() {
    let plan = huge(3_000);
    let md = render(&plan, "invhooks plan", GITHUB_COMMENT_LIMIT, &Keys::none());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{} bytes", md.len());
    assert!(md.chars().count() <= GITHUB_COMMENT_LIMIT);
    assert!(md.starts_with(
        "<!-- invhooks plan -->\n### invhooks plan\n\n**Plan: 1001 to create, 1000 to update, 1000 to delete"
    ));
    assert!(md.contains("| `acme-eu` | 1000 | 1000 | 1000 | 3 | 1 | 0 |"));
    assert!(md.contains("| `beta` | 1 | 0 | 0 | 3 | 1 | 0 |"));
    assert!(md.contains("> [!WARNING]\n> **`acme-eu`**: the plan updates or deletes 2000 of 3000"));
    let shown = md
        .lines()
        .filter(|l| l.starts_with("| ➕") || l.starts_with("| 🔄") || l.starts_with("| ➖"))
        .count();
    let left_out = 3_001 - shown;
    assert!(
        md.contains(&format!(
            "show {shown} of 3001 changes: {left_out} row(s) were left out"
        )),
        "{}",
        ends(&md, 30, 5)
    );
    assert!(md.trim_end().ends_with(&format!(
        "_{left_out} more changes not shown. Run `invhooks plan` for the full list._"
    )));
    insta::assert_snapshot!(ends(&md, 24, 4));
}

#[test]
fn every_limit_is_respected() {
    let plan = huge(500);
    for limit in [2_000, 5_000, 20_000, 65_536] {
        let md = render(&plan, "invhooks plan", limit, &Keys::none());
        assert!(md.len() <= limit, "{limit}: {}", md.len());
        assert!(md.contains("**Plan: 168 to create"), "{limit}");
    }
}

#[test]
fn thousands_of_merchants_cut_the_counts_rows_not_the_total() {
    let merchants = (0..5_000)
        .map(|i| {
            merchant(
                &format!("merchant-{i:04}"),
                vec![create("customer.updated", "a", "https://a/")],
                vec![],
            )
        })
        .collect();
    let md = render(
        &Plan { merchants },
        "invhooks plan",
        GITHUB_COMMENT_LIMIT,
        &Keys::none(),
    );
    assert!(md.len() <= GITHUB_COMMENT_LIMIT);
    assert!(md.contains("**Plan: 5000 to create, 0 to update, 0 to delete, 15000 unchanged, 5000 ignored.**"));
    assert!(md.contains("more merchant(s) not listed_ |"));
}

#[test]
fn the_drift_report_fits_too() {
    let plan = huge(3_000);
    let md = drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &Keys::none());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    assert!(md.contains("**Drift: 1000 changed, 1001 missing, 1000 unmanaged, 0 duplicate.**"));
    assert!(md.contains("drift items: "), "{}", ends(&md, 20, 3));
}

#[test]
fn apply_summary_shows_outcomes() {
    let plan = small();
    let acme = &plan.merchants[0];
    let reports = vec![MerchantReport {
        merchant: "acme".into(),
        changes: acme
            .changes
            .iter()
            .enumerate()
            .map(|(i, c)| ChangeReport {
                change: c.clone(),
                outcome: match i {
                    0 => Outcome::Failed("400 Bad Request: topic | unknown".into()),
                    3 | 4 => Outcome::Skipped("not attempted".into()),
                    _ => Outcome::Done,
                },
            })
            .collect(),
        cleaned_up: vec![],
        interrupted: false,
        verification: crate::apply::Verification::Unknown {
            reason: "not checked".into(),
        },
    }];
    let labels = plan.merchants.iter().map(|m| m.merchant.clone()).collect();
    let run = RunReport::new(reports, Vec::new(), Rollout::whole(labels));
    insta::assert_snapshot!(apply_summary(
        &plan,
        Ok(&run),
        GITHUB_COMMENT_LIMIT,
        &Keys::none()
    ));
}

/// A rollout of `n` stores (`store-0000`, …) in waves `1,10%,100%` whose
/// second wave's `check` gate failed for `store-0001`, with `store-0002`
/// refused: the third wave was not started.
fn rollout(n: usize) -> (Plan, RunReport) {
    let labels: Vec<String> = (0..n).map(|i| format!("store-{i:04}")).collect();
    let desired = vec![desired("customer.updated", "crm", "https://a.example/")];
    let manifests: Vec<_> = (labels.iter())
        .map(|l| crate::model::MerchantManifest {
            label: l.clone(),
            ..manifest(desired.clone())
        })
        .collect();
    let plan = crate::plan::diff_all(manifests.iter().map(|m| (m, [].as_slice())), &Default::default());
    let (mut waves, sized) = Sizes::parse("1,10%,100%").unwrap().split(labels);
    let report = |m: &crate::plan::MerchantPlan| MerchantReport {
        merchant: m.merchant.clone(),
        changes: (m.changes.iter())
            .map(|c| ChangeReport {
                change: c.clone(),
                outcome: Outcome::Done,
            })
            .collect(),
        cleaned_up: vec![],
        interrupted: false,
        verification: crate::apply::Verification::Converged,
    };
    let started = 1 + waves[1].len();
    let reports = plan.merchants[..started]
        .iter()
        .filter(|m| m.merchant != "store-0002")
        .map(report)
        .collect();
    let failure = GateFailure {
        merchant: "store-0001".into(),
        url: Some("https://a.example/".into()),
        reason: "TCP: connection refused".into(),
    };
    let mut status = [
        WaveStatus::Passed,
        WaveStatus::Failed(vec![failure]),
        WaveStatus::NotStarted,
    ]
    .into_iter();
    let rollout = Rollout {
        gate: WaveGate::Check,
        waves: waves
            .drain(..)
            .map(|merchants| Wave {
                merchants,
                status: status.next().unwrap(),
            })
            .collect(),
        sized,
        interrupted: false,
    };
    let refused = vec![Refusal {
        merchant: "store-0002".into(),
        reason: "the plan deletes 4 of 10".into(),
    }];
    (plan, RunReport::new(reports, refused, rollout))
}

/// The apply report's JSON keys, in their documented order (docs/plan-json.md).
#[test]
fn apply_json_of_a_rollout() {
    let (plan, mut run) = rollout(3);
    run.merchants[0].verification = crate::apply::Verification::NotConverged {
        remaining: plan.merchants[0].changes.clone(),
        foreign: vec!["wh_9".into()],
        rewrites: vec![crate::apply::Rewrite {
            id: "wh_1".into(),
            field: "name",
            sent: "crm".into(),
            stored: "CRM".into(),
            masking: crate::secret::Masking::Full,
        }],
    };
    run.merchants[1].changes[0].outcome = Outcome::Failed("500 Internal Server Error".into());
    insta::assert_snapshot!(crate::render::report::json(&run, &Keys::none()));
}

#[test]
fn apply_summary_of_a_rollout_shows_the_waves_and_every_store_by_status() {
    let (plan, run) = rollout(20);
    insta::assert_snapshot!(apply_summary(
        &plan,
        Ok(&run),
        GITHUB_COMMENT_LIMIT,
        &Keys::none()
    ));
}

#[test]
fn a_thousand_stores_fit_in_the_step_summary_each_named() {
    let (plan, run) = rollout(1_000);
    let md = apply_summary(&plan, Ok(&run), GITHUB_COMMENT_LIMIT, &Keys::none());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    for i in 0..1_000 {
        assert!(md.contains(&format!("`store-{i:04}`")), "store-{i:04} is missing");
    }
    assert!(md.contains("Stores: 1000: 99 applied, 0 converged, 1 refused, 0 failed, 900 not started."));
    assert!(md.contains(
        "<details open><summary>⛔ refused: 1</summary>\n\n- `store-0002`: `the plan deletes 4 of 10`\n"
    ));
    assert!(md.contains(
        "- ❌ wave 2 of 3 (99 store(s), gate `check`): failed\n  - merchant `store-0001`: `https://a.example/`: `TCP: connection refused`\n"
    ));
    // Ten thousand: the lists are folded to a count, the summary stays.
    let (plan, run) = rollout(10_000);
    let md = apply_summary(&plan, Ok(&run), GITHUB_COMMENT_LIMIT, &Keys::none());
    assert!(md.len() <= GITHUB_COMMENT_LIMIT, "{}", md.len());
    assert!(md.contains(" more not listed: the job log has every store_"));
    assert!(md.contains("Stores: 10000: 999 applied, 0 converged, 1 refused, 0 failed, 9000 not started."));
}

#[test]
fn apply_summary_of_a_refusal_lists_the_reasons() {
    let reasons = [
        "merchant `acme`: too much".to_owned(),
        "second | reason".to_owned(),
    ];
    insta::assert_snapshot!(apply_summary(
        &small(),
        Err(&reasons),
        GITHUB_COMMENT_LIMIT,
        &Keys::none()
    ));
}

#[test]
fn fences_outgrow_backticks() {
    // A diff block's fence outgrows the backticks inside it.
    let block = |name: &str| {
        details(
            &merchant("m", vec![create("t", name, "https://a/")], vec![]),
            &Keys::none(),
        )
    };
    assert!(block("a ``` b").contains("\n````diff\n"));
    assert!(block("plain").contains("\n```diff\n"));
    assert_eq!(code("a`b"), "``a`b``");
    assert_eq!(code("``x"), "``` ``x ```", "padded: it starts with a backtick");
    assert_eq!(
        code(" x "),
        "`  x  `",
        "padded: CommonMark strips one space a side"
    );
    assert_eq!(code("a|b"), "`a\\|b`");
    assert_eq!(code("a\\|b"), "`a\\u{5c}\\|b`", "no `\\\\|` that ends the cell");
    assert_eq!(code_text("a|b"), "`a|b`");
    assert_eq!(code("x\n@y"), "`x\\n@y`");
    assert_eq!(code(""), "");
}

/// Hostile values through every Markdown renderer (plan, apply summary,
/// drift), read back by a CommonMark parser with GitHub's tables: each
/// value is exactly one code span (or sits in the diff's code block), no
/// value adds HTML, a link or an image or leaves text outside code where
/// GitHub would link an @-mention, and every table row keeps its columns
/// by GitHub's own rule for `|` (a backslash escapes the next punctuation).
mod hostile {
    use std::collections::HashSet;

    use proptest::prelude::*;
    use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

    use super::*;
    use crate::render::view::{ChangeView, LiveView};

    const PIECES: &[&str] = &[
        "`",
        "``",
        "```",
        "|",
        "\\",
        "\\|",
        "<",
        ">",
        "<img src=x>",
        "</details>",
        "@org/team",
        "[a](b)",
        "![i](x)",
        "**",
        "_",
        "~~",
        "#",
        "# h",
        "- ",
        "1. ",
        "&amp;",
        ":",
        "::notice::x",
        "%",
        "\n",
        "\r",
        "\t",
        "\u{202e}",
        "\u{200b}",
        "\u{85}",
        " ",
        "---",
        "|---|",
        "http://x.example",
        "$x$",
        "{",
        "}",
        "<!--",
        "-->",
    ];

    /// A value: pieces, each followed by `Q`, a letter no text of ours
    /// holds, so any part of a value that escaped its code span shows.
    fn value() -> impl Strategy<Value = String> {
        proptest::collection::vec(proptest::sample::select(PIECES), 1..6)
            .prop_map(|p| p.iter().map(|s| format!("{s}Q")).collect())
    }

    fn plan(v: &[String]) -> Plan {
        let mut renamed = update(&v[4], &v[0], &v[1], &v[5], &v[6]);
        if let Change::Update { after, .. } = &mut renamed {
            after.name = v[7].clone();
        }
        let changes = vec![
            create(&v[0], &v[2], &v[3]),
            renamed,
            delete(&v[8], &v[9], &v[10], &v[11], true),
        ];
        let unmanaged = vec![LiveSubscription {
            id: v[12].clone(),
            topic: v[13].clone(),
            name: v[14].clone(),
            callback_url: v[15].clone(),
        }];
        let mut m = merchant(&v[16], changes, unmanaged);
        m.safety = Some(SafetyTrip::MassChange {
            changed: 2,
            in_scope: 3,
            max_percent: 30,
        });
        Plan { merchants: vec![m] }
    }

    /// Every value as a code span shows it: escaped, and in a table cell
    /// a backslash before `|` as `\u{5c}`.
    fn expected(plan: &Plan, reasons: &[String]) -> HashSet<String> {
        let mut all: Vec<String> = reasons.to_vec();
        for m in &plan.merchants {
            all.push(m.merchant.clone());
            for c in &m.changes {
                let view = ChangeView::of(c, &Keys::none());
                all.extend([&view.topic, &view.name].map(|v| v.as_str().to_owned()));
                all.push(view.url().to_owned());
                all.extend(
                    (view.after.iter().map(|a| &a.name))
                        .chain(&view.id)
                        .map(|v| v.as_str().to_owned()),
                );
                all.extend(view.changed_url().map(|(old, _)| old.to_owned()));
            }
            for s in &m.unmanaged {
                let v = LiveView::of(s, &Keys::none());
                all.extend([&v.id, &v.topic, &v.name].map(|x| x.as_str().to_owned()));
                all.push(v.url.as_str().to_owned());
            }
        }
        all.iter()
            .flat_map(|v| {
                let shown = escape(v).into_owned();
                [shown.replace("\\|", "\\u{5c}|"), shown]
            })
            .collect()
    }

    /// The `|` that end cells, by GitHub's table scanner: a backslash and
    /// the ASCII punctuation after it are one escaped character.
    fn cell_pipes(line: &str) -> usize {
        let (mut n, mut chars) = (0, line.chars());
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    let _ = chars
                        .clone()
                        .next()
                        .filter(char::is_ascii_punctuation)
                        .map(|_| chars.next());
                }
                '|' => n += 1,
                _ => {}
            }
        }
        n
    }

    /// `expected`: the spans values may be shown in (`None`: any span).
    fn check(md: &str, expected: Option<&HashSet<String>>) -> Result<(), TestCaseError> {
        let mut in_block = false;
        for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
            match event {
                Event::Start(Tag::CodeBlock(_)) => in_block = true,
                Event::End(TagEnd::CodeBlock) => in_block = false,
                Event::Start(Tag::Link { .. } | Tag::Image { .. }) => {
                    return Err(TestCaseError::fail(format!("a link or image in:\n{md}")));
                }
                Event::Code(code) if code.contains('Q') => {
                    prop_assert!(
                        expected.is_none_or(|e| e.contains(code.as_ref())),
                        "span `{code}` is no value:\n{md}"
                    );
                }
                Event::Text(text) if !in_block => {
                    prop_assert!(
                        !text.contains(['Q', '@']),
                        "value text `{text}` outside code:\n{md}"
                    );
                }
                Event::Html(html) | Event::InlineHtml(html) => {
                    let ours = regex_lite_strip(&html);
                    prop_assert!(!ours.contains('Q'), "value in HTML `{html}`:\n{md}");
                }
                Event::InlineMath(_) | Event::DisplayMath(_) | Event::FootnoteReference(_) => {
                    return Err(TestCaseError::fail(format!("math or footnote in:\n{md}")));
                }
                _ => {}
            }
        }
        let mut columns = None;
        for line in md.lines() {
            if !line.starts_with('|') {
                columns = None;
                continue;
            }
            let n = cell_pipes(line);
            prop_assert_eq!(
                *columns.get_or_insert(n),
                n,
                "row `{}` breaks its table:\n{}",
                line,
                md
            );
        }
        Ok(())
    }

    /// HTML of ours with the values' `<code>…</code>` contents taken out.
    fn regex_lite_strip(html: &str) -> String {
        let mut out = String::new();
        for (i, part) in html.split("<code>").enumerate() {
            match (i, part.split_once("</code>")) {
                (0, _) | (_, None) => out.push_str(part),
                (_, Some((inner, rest))) => {
                    assert!(!inner.contains('<'), "`<` inside <code>: {html}");
                    out.push_str(rest);
                }
            }
        }
        out
    }

    /// `check`'s Markdown (a table row per URL: result, test events, users).
    fn check_markdown(v: &[String]) -> Result<(), TestCaseError> {
        use crate::check::{Callback, Delivery, Step, StepFailure, User};
        let user = |name: &String| User {
            merchant: v[16].clone(),
            topic: v[13].clone(),
            name: name.clone(),
            location: None,
        };
        let outcome = crate::check::CallbackReport {
            callback: Callback {
                url: v[3].clone(),
                users: vec![user(&v[2]), user(&v[14])],
                masking: crate::secret::Masking::Full,
            },
            result: Err(StepFailure::At(Step::Tcp, v[17].clone())),
            latency: std::time::Duration::from_millis(5),
            deliveries: vec![Delivery {
                user: user(&v[2]),
                result: Err(StepFailure::At(Step::Http, v[10].clone())),
            }],
        };
        let outcomes = [outcome];
        check(
            &crate::check::render::markdown(&outcomes, "invhooks check", GITHUB_COMMENT_LIMIT),
            None,
        )?;
        check(
            &crate::check::render::markdown_warnings(&outcomes, GITHUB_COMMENT_LIMIT),
            None,
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn no_value_changes_the_markdown_around_it(values in proptest::collection::vec(value(), 18)) {
            let plan = plan(&values);
            let m = &plan.merchants[0];
            let report = MerchantReport {
                merchant: m.merchant.clone(),
                changes: m.changes.iter().map(|c| ChangeReport {
                    change: c.clone(),
                    outcome: Outcome::Failed(values[17].clone()),
                }).collect(),
                cleaned_up: vec![],
                interrupted: false,
                verification: crate::apply::Verification::Converged,
            };
            let labels = plan.merchants.iter().map(|m| m.merchant.clone()).collect();
            let run = crate::apply::RunReport::new(vec![report], Vec::new(), crate::apply::waves::Rollout::whole(labels));
            // Reasons invhooks words around a value are shown whole, as one span.
            let mut reasons = vec![values[17].clone()];
            reasons.extend(crate::apply::waves::converge_failures(&run.merchants).into_iter().map(|f| f.reason));
            let expected = expected(&plan, &reasons);
            check(&render(&plan, "invhooks plan", GITHUB_COMMENT_LIMIT, &Keys::none()), Some(&expected))?;
            check(&drift::markdown(&plan, GITHUB_COMMENT_LIMIT, &Keys::none()), Some(&expected))?;
            check(&apply_summary(&plan, Err(&reasons[..1]), GITHUB_COMMENT_LIMIT, &Keys::none()), Some(&expected))?;
            check(&apply_summary(&plan, Ok(&run), GITHUB_COMMENT_LIMIT, &Keys::none()), Some(&expected))?;
            check_markdown(&values)?;
        }
    }
}
