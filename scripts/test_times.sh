#!/usr/bin/env bash
# Times every end-to-end test (tests/it) on its own, one at a time, and
# prints the slowest first: wall seconds, CPU seconds (user + system, the
# binaries it ran included) and the name. A test whose wall time is far
# above its CPU time is waiting (a timeout, a delay, a backoff); one whose
# CPU time is high is work. Figures depend on the load: note `uptime`.
#
#   scripts/test_times.sh            every test (builds the test binary first)
#   scripts/test_times.sh FILTER     only tests whose name contains FILTER
set -euo pipefail
cd "$(dirname "$0")/.."

bin="$(cargo test --locked --test it --no-run --message-format json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "it" and m.get("executable"):
        print(m["executable"])')"
uptime >&2
times="$(mktemp)"
trap 'rm -f "$times"' EXIT
"$bin" --list "$@" 2>/dev/null | sed -n 's/: test$//p' | while read -r name; do
  /usr/bin/time -f "%e %U %S" -o "$times" "$bin" --exact "$name" --test-threads=1 -q >/dev/null 2>&1 ||
    echo "failed: $name" >&2
  awk -v n="$name" '{ printf "%7.2f %7.2f  %s\n", $1, $2 + $3, n }' "$times"
done | sort -rn
uptime >&2
