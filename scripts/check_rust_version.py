#!/usr/bin/env python3
"""Checks that Cargo.toml's `rust-version` is true to Cargo.lock.

Reads `cargo metadata --format-version 1 --locked` on stdin. Every package
in the resolve (dependencies of every kind, for every target) that declares
a `rust_version` must need at most ours, and ours must equal the highest of
them: lower would promise a toolchain the locked dependencies refuse,
higher would refuse toolchains that work.
"""
import json
import sys


def parse(version):
    parts = [int(p) for p in version.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main():
    meta = json.load(sys.stdin)
    in_resolve = {node["id"] for node in meta["resolve"]["nodes"]}
    root_id = meta["resolve"]["root"]
    root = next(p for p in meta["packages"] if p["id"] == root_id)
    ours = root.get("rust_version")
    if not ours:
        sys.exit(f"error: `{root['name']}` has no rust-version in Cargo.toml; set it to the highest a locked dependency needs")
    needs = [
        (parse(p["rust_version"]), p["rust_version"], f"{p['name']} {p['version']}")
        for p in meta["packages"]
        if p["id"] in in_resolve and p["id"] != root_id and p.get("rust_version")
    ]
    top = max(needs)
    highest = [who for v, _, who in needs if v == top[0]]
    if parse(ours) < top[0]:
        sys.exit(f"error: rust-version is {ours} but {', '.join(highest)} needs {top[1]}; set `rust-version = \"{top[1]}\"` in Cargo.toml (and the README)")
    if parse(ours) > top[0]:
        sys.exit(f"error: rust-version is {ours} but no locked dependency needs more than {top[1]} ({', '.join(highest)}); lower it to {top[1]}")
    print(f"rust-version {ours}: the highest any locked dependency needs ({', '.join(highest)})")


if __name__ == "__main__":
    main()
