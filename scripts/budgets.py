#!/usr/bin/env python3
"""Measures what the manifest byte budgets promise (README "Big stores",
SPEC "Budgets in bytes"): a manifest whose text after aliases or
`${VAR}`/`vars` expansion would pass 16 MiB is refused with `file:line`
in under a second and under 256 MiB of memory.

Writes the hostile manifests of issue 19 (finding 6) and a few like them,
runs `invhooks validate -f FILE` on each under `/usr/bin/time -v`, and
prints its exit code, wall time, peak RSS and first line of output. Exits 1
when a run is not refused (exit 1 with a `file:line` error), takes 1 s or
more, or peaks at 256 MiB or more. Use a release build: a debug one is
several times slower.

    scripts/budgets.py [BINARY]        default: target/release/invhooks

tests/it/hostile_manifest.rs runs the same shapes through the debug binary
for the messages; this script is for time and memory, which a test on a
shared machine cannot assert honestly.
"""

import os
import re
import subprocess
import sys
import tempfile

MIB = 1 << 20
MAX_SECONDS = 1.0
MAX_RSS_MIB = 256


def aliased(count):
    """A 1 MiB name aliased `count` times (1,500 once took 1.5 GB)."""
    lines = ["version: 1", "subscriptions:"]
    lines.append('  - name: &big "%s"' % ("x" * MIB))
    lines.append("    topic: customer.updated")
    lines.append("    callbackUrl: https://a.example/")
    for i in range(count):
        lines.append("  - name: *big")
        lines.append("    topic: customer.updated")
        lines.append("    callbackUrl: https://a.example/%d" % i)
    return "\n".join(lines) + "\n"


def laughs():
    """Ten levels of ten aliases each: 10^10 values."""
    lines = ["version: 1", "lol0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, 10):
        lines.append("lol%d: &l%d [%s]" % (i, i, ", ".join(["*l%d" % (i - 1)] * 10)))
    return "\n".join(lines) + "\n"


def fleet_one_value():
    """A 1 MiB fleet file: one merchant's 1 MiB `vars` value used 3,000
    times in one URL (3 GiB if expanded before its length is checked)."""
    return (
        "version: 1\nmerchants:\n  - merchant: a\n    apiKeyEnv: KEY_A\n"
        '    vars: { P: "%s" }\n'
        "subscriptions:\n  - name: s\n    topic: customer.updated\n"
        "    callbackUrl: https://a.example/%s\n" % ("p" * MIB, "${P}" * 3_000)
    )


def fleet_many(merchants, entries, value_bytes):
    """`merchants` merchants whose URLs each carry `value_bytes` of their
    `vars`, sharing `entries` subscriptions."""
    var = "v" * value_bytes
    lines = ["version: 1", "merchants:"]
    for m in range(merchants):
        lines.append("  - merchant: m%d" % m)
        lines.append("    apiKeyEnv: KEY_%d" % m)
        lines.append('    vars: { PART: "%s" }' % var)
    lines.append("subscriptions:")
    for i in range(entries):
        lines.append("  - name: s%d" % i)
        lines.append("    topic: customer.updated")
        lines.append("    callbackUrl: https://a.example/${PART}")
    return "\n".join(lines) + "\n"


CASES = [
    ("1 MiB scalar aliased 1,500 times", lambda: aliased(1_500)),
    ("1 MiB scalar aliased 5,000 times", lambda: aliased(5_000)),
    ("billion laughs", laughs),
    ("1 MiB fleet value used 3,000 times in a URL", fleet_one_value),
    ("fleet of 1,000 x 1,000 URLs of 2,000 bytes", lambda: fleet_many(1_000, 1_000, 2_000)),
    ("fleet of 10,000 x 100 URLs of 100 bytes", lambda: fleet_many(10_000, 100, 100)),
]


def run(binary, path):
    """(exit code, seconds, peak RSS in MiB, first line of stderr)."""
    proc = subprocess.run(
        ["/usr/bin/time", "-v", binary, "validate", "-f", path],
        capture_output=True,
        text=True,
        env={"PATH": os.environ.get("PATH", ""), "NO_COLOR": "1"},
    )
    err = proc.stderr
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):(\d+(?:\.\d+)?)", err)
    hours = int(wall.group(1) or 0)
    seconds = hours * 3600 + int(wall.group(2)) * 60 + float(wall.group(3))
    rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", err).group(1))
    first = next((line for line in err.splitlines() if line.startswith("error:")), "")
    return proc.returncode, seconds, rss_kib / 1024, first


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/invhooks"
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        for i, (what, make) in enumerate(CASES):
            path = os.path.join(tmp, "case%d.yaml" % i)
            with open(path, "w") as f:
                f.write(make())
            size = os.path.getsize(path) / MIB
            code, seconds, rss, first = run(binary, path)
            located = re.match(r"error: [^ ]*case%d\.yaml:\d+: " % i, first) is not None
            ok = code == 1 and located and seconds < MAX_SECONDS and rss < MAX_RSS_MIB
            failed |= not ok
            print(
                "%-4s %-45s %5.1f MiB  exit %d  %5.2f s  %6.1f MiB peak\n     %s"
                % ("ok" if ok else "FAIL", what, size, code, seconds, rss, first[:150])
            )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
