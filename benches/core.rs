//! Benchmarks of the pure core at 100, 10,000 and 100,000 subscriptions
//! (and the realistic sizes of `manifest_load_300` and a fleet of 1,000 files):
//! manifest load + validate (`manifest::load_str`), the diff
//! (`plan::diff`), and each plan renderer; and the GET body parse
//! (`api::envelope::parse_list`) at 300 and 10,000. Beside the load and the
//! parse, each parser alone on the same input (`*_parser_floor`).
//! `cargo bench --bench core`; see BENCHMARKS.md for the figures and
//! scripts/bench.sh for the end-to-end numbers.
//!
//! The data has the shapes scripts/bench_data.py generates (keep the two in
//! step): one merchant, one topic per entry up to 50,000 subscriptions (a
//! manifest file is at most 8 MiB), so 100,000 are 50,000 entries of two
//! topics. The live side has as many subscriptions, 10% of the plan
//! differing: 4% updates, 3% creates, 3% deletes.

use std::hint::black_box;
use std::path::PathBuf;
use std::sync::OnceLock;

use divan::Bencher;
use invhooks::model::{LiveSubscription, MerchantManifest};
use invhooks::plan::{self, Plan};
use invhooks::render::{json, markdown, text};

fn main() {
    divan::main();
}

/// Subscriptions per case.
const SIZES: [usize; 3] = [100, 10_000, 100_000];
/// Entries per manifest that keep it well under the 8 MiB file limit.
const ENTRIES: usize = 50_000;
/// Share of subscriptions the plan changes, in percent.
const DIFFER_PERCENT: usize = 10;

const TOPICS: [&str; 15] = [
    "customer.joined.paid_tier",
    "customer.joined.free_tier",
    "customer.joined.free_trial",
    "customer.joined.lifetime_tier",
    "customer.changed_tier",
    "customer.updated",
    "customer.ordered",
    "customer.payment_succeeded",
    "customer.payment_failed",
    "customer_billing.attempt.failed",
    "customer.payment_methods.updated",
    "customer.credits.updated",
    "customer.credits.expired",
    "customer.cancelled",
    "customer.pending_cancellation",
];

/// (merchants, topics per entry) for `count` subscriptions.
fn shape(count: usize) -> (usize, usize) {
    let wide = TOPICS.len();
    if count <= ENTRIES {
        (1, 1)
    } else if count <= ENTRIES * wide {
        (1, count.div_ceil(ENTRIES))
    } else {
        (count.div_ceil(ENTRIES * wide), wide)
    }
}

/// One manifest entry: name, topics, callback URL.
struct Entry {
    name: String,
    topics: Vec<&'static str>,
    url: String,
}

fn entries(count: usize, per_entry: usize) -> Vec<Entry> {
    (0..count.div_ceil(per_entry))
        .map(|e| {
            let n = per_entry.min(count - e * per_entry);
            Entry {
                name: format!("hook-{e:06}"),
                topics: (0..n).map(|j| TOPICS[(e + j) % TOPICS.len()]).collect(),
                url: format!("https://hooks.example.com/inveterate/{e:06}"),
            }
        })
        .collect()
}

fn manifest_text(merchant: usize, entries: &[Entry]) -> String {
    let mut out =
        format!("version: 1\nmerchant: bench-{merchant}\napiKeyEnv: BENCH_KEY_{merchant}\nsubscriptions:\n");
    for entry in entries {
        out.push_str(&format!("  - name: {}\n", entry.name));
        match entry.topics.as_slice() {
            [topic] => out.push_str(&format!("    topic: {topic}\n")),
            topics => out.push_str(&format!("    topics: [{}]\n", topics.join(", "))),
        }
        out.push_str(&format!("    callbackUrl: {}\n", entry.url));
    }
    out
}

/// The live list of one merchant: subscription i is an update, a create
/// (missing live, with a stale live-only one to delete) or unchanged, by
/// `i % 100`.
fn live(entries: &[Entry], next_id: &mut usize) -> Vec<LiveSubscription> {
    let updates = DIFFER_PERCENT * 4 / 10;
    let creates = DIFFER_PERCENT * 3 / 10;
    let mut out = Vec::new();
    let mut i = 0;
    for entry in entries {
        for topic in &entry.topics {
            let slot = i % 100;
            let (name, url) = if slot < updates {
                (entry.name.clone(), entry.url.replace("/inveterate/", "/old/"))
            } else if slot < updates + creates {
                (
                    format!("stale-{i:06}"),
                    format!("https://hooks.example.com/stale/{i:06}"),
                )
            } else {
                (entry.name.clone(), entry.url.clone())
            };
            out.push(LiveSubscription {
                id: format!("wh_{:06}", *next_id),
                topic: (*topic).to_owned(),
                name,
                callback_url: url,
            });
            *next_id += 1;
            i += 1;
        }
    }
    out
}

/// Everything one size needs, built once.
struct Case {
    /// Manifest files: path (for locations) and text.
    texts: Vec<(PathBuf, String)>,
    manifests: Vec<MerchantManifest>,
    live: Vec<Vec<LiveSubscription>>,
    plan: Plan,
}

fn load(texts: &[(PathBuf, String)]) -> Vec<MerchantManifest> {
    texts
        .iter()
        .map(
            |(path, text)| match invhooks::manifest::load_str(path, text, &|_| None) {
                Ok(manifest) => manifest,
                Err(diagnostics) => panic!("the generated manifest is invalid:\n{diagnostics}"),
            },
        )
        .collect()
}

fn diff(manifests: &[MerchantManifest], live: &[Vec<LiveSubscription>]) -> Plan {
    Plan {
        merchants: manifests
            .iter()
            .zip(live)
            .map(|(m, l)| plan::diff(m, l))
            .collect(),
    }
}

fn case(count: usize) -> &'static Case {
    static CASES: [OnceLock<Case>; SIZES.len()] = [const { OnceLock::new() }; SIZES.len()];
    let Some(slot) = SIZES.iter().position(|&n| n == count) else {
        panic!("no case for {count} subscriptions");
    };
    CASES[slot].get_or_init(|| {
        let (merchants, per_entry) = shape(count);
        let mut texts = Vec::new();
        let mut live_lists = Vec::new();
        let mut next_id = 1;
        for m in 0..merchants {
            let share = count / merchants + usize::from(m < count % merchants);
            let entries = entries(share, per_entry);
            let merchant = m + 1;
            texts.push((
                PathBuf::from(format!("bench-{merchant}.yaml")),
                manifest_text(merchant, &entries),
            ));
            live_lists.push(live(&entries, &mut next_id));
        }
        let manifests = load(&texts);
        let plan = diff(&manifests, &live_lists);
        let declared: usize = manifests.iter().map(|m| m.subscriptions.len()).sum();
        assert_eq!(declared, count, "the manifests declare every subscription");
        let changes: usize = plan.merchants.iter().map(|m| m.changes.len()).sum();
        assert_eq!(changes, count * DIFFER_PERCENT / 100, "10% of the plan differs");
        Case {
            texts,
            manifests,
            live: live_lists,
            plan,
        }
    })
}

/// `manifest::load_str` of every manifest file (YAML parse, line index,
/// validation).
#[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
fn manifest_load(bencher: Bencher, count: usize) {
    let case = case(count);
    bencher.bench(|| load(black_box(&case.texts)));
}

/// Reference beside `manifest_load`: the YAML parser alone on the same
/// texts (serde-saphyr into `IgnoredAny`: no types, lines, tags or checks),
/// the floor any loader on this parser pays.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
fn manifest_load_parser_floor(bencher: Bencher, count: usize) {
    let case = case(count);
    bencher.bench(|| {
        for (_, text) in black_box(&case.texts) {
            black_box(serde_saphyr::from_str::<serde::de::IgnoredAny>(text).is_ok());
        }
    });
}

/// Realistic manifest sizes, whatever the fast path of reading a mapping
/// (BENCHMARKS.md, "Reading a mapping"): one manifest of 300
/// subscriptions, through `manifest::load_str`.
#[divan::bench(sample_count = 100, max_time = 5)]
fn manifest_load_300(bencher: Bencher) {
    let texts = vec![(PathBuf::from("bench-1.yaml"), manifest_text(1, &entries(300, 1)))];
    bencher.bench(|| load(black_box(&texts)));
}

/// A fleet: 1,000 merchants, one small file each (10 subscriptions),
/// through `manifest::load_paths` on a directory (reading included).
#[divan::bench(sample_count = 20, max_time = 10)]
fn manifest_load_fleet_1000_files(bencher: Bencher) {
    let dir = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(error) => panic!("cannot create a temporary directory: {error}"),
    };
    for merchant in 1..=1_000 {
        let path = dir.path().join(format!("bench-{merchant:04}.yaml"));
        if let Err(error) = std::fs::write(&path, manifest_text(merchant, &entries(10, 1))) {
            panic!("cannot write {}: {error}", path.display());
        }
    }
    let paths = vec![dir.path().to_path_buf()];
    bencher.bench(
        || match invhooks::manifest::load_paths(black_box(&paths), &|_| None) {
            Ok(manifests) => manifests.len(),
            Err(diagnostics) => panic!("the generated fleet is invalid:\n{diagnostics}"),
        },
    );
}

/// `plan::diff` of every merchant.
#[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
fn plan_diff(bencher: Bencher, count: usize) {
    let case = case(count);
    bencher.bench(|| diff(black_box(&case.manifests), black_box(&case.live)));
}

mod render {
    use super::*;

    /// `render::text::render` (no colour).
    #[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
    fn text(bencher: Bencher, count: usize) {
        let plan = &case(count).plan;
        let keys = invhooks::secret::Keys::new(["bench-key-0123456789"]);
        bencher.bench(|| text::render(black_box(plan), false, &keys));
    }

    /// `render::json::render`.
    #[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
    fn json(bencher: Bencher, count: usize) {
        let plan = &case(count).plan;
        let keys = invhooks::secret::Keys::new(["bench-key-0123456789"]);
        bencher.bench(|| json::render(black_box(plan), &keys));
    }

    /// `render::markdown::render` at GitHub's comment limit.
    #[divan::bench(args = SIZES, sample_count = 30, max_time = 5)]
    fn markdown(bencher: Bencher, count: usize) {
        let plan = &case(count).plan;
        let keys = invhooks::secret::Keys::new(["bench-key-0123456789"]);
        bencher.bench(|| {
            markdown::render(
                black_box(plan),
                "invhooks plan",
                markdown::GITHUB_COMMENT_LIMIT,
                &keys,
            )
        });
    }
}

/// Live list sizes for the envelope benchmarks: one realistic merchant, one
/// large one.
const LIST_SIZES: [usize; 2] = [300, 10_000];

/// A GET body as the sandbox sends it: `{"message", "data": {"subscriptions": [...]}}`.
fn list_body(count: usize) -> Vec<u8> {
    let entries = entries(count, 1);
    let live = live(&entries, &mut 1);
    let items: Vec<serde_json::Value> = live
        .iter()
        .map(|s| {
            serde_json::json!({
                "id": s.id, "topic": s.topic, "name": s.name, "callbackUrl": s.callback_url,
                "merchantId": "m_bench", "createdAt": "2025-06-01T12:00:00.000Z", "updatedAt": "2025-06-01T12:00:00.000Z",
            })
        })
        .collect();
    let body =
        serde_json::json!({"message": "webhook subscriptions retrieved", "data": {"subscriptions": items}});
    serde_json::to_vec(&body).unwrap_or_default()
}

mod envelope {
    use super::*;
    use invhooks::api::envelope;

    /// `api::envelope::parse_list`.
    #[divan::bench(args = LIST_SIZES, sample_count = 100, max_time = 5)]
    fn parse_list(bencher: Bencher, count: usize) {
        let body = list_body(count);
        bencher.bench(|| envelope::parse_list(black_box(&body)));
    }

    /// Reference beside `parse_list`: the JSON parser alone on the same
    /// body (serde_json into `IgnoredAny`).
    #[divan::bench(args = LIST_SIZES, sample_count = 100, max_time = 5)]
    fn parse_list_parser_floor(bencher: Bencher, count: usize) {
        let body = list_body(count);
        bencher.bench(|| serde_json::from_slice::<serde::de::IgnoredAny>(black_box(&body)).is_ok());
    }
}
