#!/usr/bin/env python3
"""Generates the data of scripts/bench.sh: manifests and a sandbox state
file (the `--state FILE` format documented in src/sandbox/mod.rs),
deterministic for given arguments. benches/core.rs builds the same shapes
in Rust; keep the two in step.

Shape of COUNT subscriptions (see `shape`): one merchant, one topic per
entry, as long as the manifest stays well under the loader's 8 MiB file
limit (about 100 bytes an entry); beyond 50,000, `topics:` lists of
ceil(COUNT / 50,000) topics (100,000 is 50,000 entries of two topics, about
7 MiB), and beyond 750,000 (15 topics an entry) several merchants, one
manifest file and one API key each:

    COUNT <= 50,000     1 merchant, one topic per entry
    COUNT <= 750,000    1 merchant, ceil(COUNT / 50,000) topics per entry
    larger              ceil(COUNT / 750,000) merchants, 15 topics per entry

Each merchant's manifest declares its share of the subscriptions: entry e
is named `hook-NNNNNN` with callback URL `.../inveterate/NNNNNN`. The live
state differs for `--differ` of them, spread evenly (by subscription number
mod 100): 40% of the changes are updates (another URL live), 30% creates
(missing live) and 30% deletes (for each missing one a live-only
`stale-NNNNNN` exists). So `--differ 0.10` gives a live list as long as the
manifest and a plan of 10% changes: 4% updates, 3% creates, 3% deletes
(below apply's 30% safety threshold).

A fleet of STORES (`fleet`) is one small manifest per merchant, the shape
of benches/core.rs `manifest_load_fleet_1000_files`: 10 subscriptions, one
topic per entry, in DIR/bench-0001.yaml ... (merchant `bench-M`, key env
BENCH_KEY_M). Its state file has 10 live subscriptions per merchant and a
plan of 3 changes each: `hook-000000` live with another URL (an update),
`hook-000001` missing (a create) and a live-only `stale-000001` (a delete):
20% of the live list updated or deleted, under apply's 30% threshold.

    bench_data.py shape COUNT                     prints "MERCHANTS TOPICS_PER_ENTRY"
    bench_data.py manifests COUNT DIR             writes DIR/bench-1.yaml ... (key env BENCH_KEY_1 ...)
    bench_data.py state COUNT FILE [--differ F]   merchants of keys bench-key-1 ... (by merchant id, see merchant_id)
    bench_data.py fleet STORES DIR --state FILE   the manifests of STORES merchants and their state file
"""

import argparse
import hashlib
import json
import os

TOPICS = [
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
]
# Entries per manifest that keep it well under the 8 MiB file limit.
ENTRIES = 50_000
# Subscriptions of each merchant of a fleet.
FLEET_SUBSCRIPTIONS = 10


def shape(count):
    """(merchants, topics per entry) for `count` subscriptions."""
    wide = len(TOPICS)
    if count <= ENTRIES:
        return 1, 1
    if count <= ENTRIES * wide:
        return 1, -(-count // ENTRIES)
    return -(-count // (ENTRIES * wide)), wide


def shares(count):
    """Subscriptions per merchant: `count` split as evenly as possible."""
    merchants, _ = shape(count)
    return [count // merchants + (1 if m < count % merchants else 0) for m in range(merchants)]


def entries(count, per_entry):
    """(name, [topics], url) of each entry declaring `count` subscriptions."""
    out = []
    for e in range(-(-count // per_entry)):
        n = min(per_entry, count - e * per_entry)
        topics = [TOPICS[(e + j) % len(TOPICS)] for j in range(n)]
        out.append((f"hook-{e:06d}", topics, f"https://hooks.example.com/inveterate/{e:06d}"))
    return out


def kind(i, differ):
    """'same', 'update' or 'create' for subscription i: of every 100, with
    c = differ * 100 changes, 0.4 c are updates and 0.3 c creates (each with
    a live-only stale subscription to delete)."""
    changed = round(differ * 100)
    updates, creates = round(changed * 0.4), round(changed * 0.3)
    slot = i % 100
    if slot < updates:
        return "update"
    if slot < updates + creates:
        return "create"
    return "same"


def manifest(merchant, count, per_entry):
    lines = [
        "version: 1",
        f"merchant: bench-{merchant}",
        f"apiKeyEnv: BENCH_KEY_{merchant}",
        "subscriptions:",
    ]
    for name, topics, url in entries(count, per_entry):
        lines.append(f"  - name: {name}")
        if len(topics) == 1:
            lines.append(f"    topic: {topics[0]}")
        else:
            lines.append(f"    topics: [{', '.join(topics)}]")
        lines.append(f"    callbackUrl: {url}")
    return "\n".join(lines) + "\n"


def live(count, per_entry, differ):
    """(topic, name, url) of the live subscriptions of one merchant."""
    out = []
    i = 0
    for name, topics, url in entries(count, per_entry):
        for topic in topics:
            k = kind(i, differ)
            if k == "same":
                out.append((topic, name, url))
            elif k == "update":
                out.append((topic, name, url.replace("/inveterate/", "/old/")))
            else:
                out.append((topic, f"stale-{i:06d}", f"https://hooks.example.com/stale/{i:06d}"))
            i += 1
    return out


def merchant_id(key):
    """The sandbox's merchant id of `key` (src/sandbox/keys.rs)."""
    digest = hashlib.sha256(b"invhooks sandbox merchant v1\0" + key.encode()).hexdigest()
    return "m_" + digest[:16]


def state_doc(lists):
    """The state file of merchants 1, 2, ... with these live (topic, name, url) lists."""
    merchants = {}
    next_id = 1
    stamp = "2024-01-01T00:00:00Z"
    for m, subscriptions in enumerate(lists, start=1):
        records = []
        for topic, name, url in subscriptions:
            records.append(
                {
                    "id": f"wh_{next_id:06d}",
                    "topic": topic,
                    "name": name,
                    "callbackUrl": url,
                    "createdAt": stamp,
                    "updatedAt": stamp,
                }
            )
            next_id += 1
        merchants[merchant_id(f"bench-key-{m}")] = records
    doc = {"version": 2, "nextId": next_id, "clock": 0, "merchants": merchants}
    return json.dumps(doc, indent=1) + "\n"


def state(count, differ):
    _, per_entry = shape(count)
    return state_doc([live(share, per_entry, differ) for share in shares(count)])


def fleet_live():
    """One fleet merchant's live list: an update, a create and a delete."""
    out = []
    for e, (name, topics, url) in enumerate(entries(FLEET_SUBSCRIPTIONS, 1)):
        if e == 0:
            out.append((topics[0], name, url.replace("/inveterate/", "/old/")))
        elif e == 1:
            out.append((topics[0], f"stale-{e:06d}", f"https://hooks.example.com/stale/{e:06d}"))
        else:
            out.append((topics[0], name, url))
    return out


def write(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["shape", "manifests", "state", "fleet"])
    parser.add_argument("count", type=int)
    parser.add_argument("out", nargs="?")
    parser.add_argument("--differ", type=float, default=0.0, help="share of changes in the plan (0..1)")
    parser.add_argument("--state", help="fleet: where the state file goes")
    args = parser.parse_args()
    if args.what == "shape":
        print(*shape(args.count))
        return
    if not args.out:
        parser.error("OUT is required")
    if args.what == "manifests":
        os.makedirs(args.out, exist_ok=True)
        _, per_entry = shape(args.count)
        for m, share in enumerate(shares(args.count), start=1):
            write(os.path.join(args.out, f"bench-{m}.yaml"), manifest(m, share, per_entry))
    elif args.what == "fleet":
        if not args.state:
            parser.error("fleet needs --state FILE")
        os.makedirs(args.out, exist_ok=True)
        for m in range(1, args.count + 1):
            write(os.path.join(args.out, f"bench-{m:04d}.yaml"), manifest(m, FLEET_SUBSCRIPTIONS, 1))
        write(args.state, state_doc([fleet_live() for _ in range(args.count)]))
    else:
        write(args.out, state(args.count, args.differ))


if __name__ == "__main__":
    main()
