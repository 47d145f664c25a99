#!/usr/bin/env bash
# How long a big callback-host policy costs (BENCHMARKS.md "Policy"):
# `invhooks validate` of a 1,000-entry manifest with `--policy` of N host
# globs (N = 0, i.e. no policy, as the reference; 200; 6,000; 20,000), every
# entry's host allowed (each run must pass). The globs mix the kinds the matcher sorts (a fifth
# each: host names, `*.name`, `h?-{eu,us}.name`, `name.*`, `*name-[ab]*`).
# Offline: no sandbox, no key. Best of 5 wall-clock runs per case.
#
#   scripts/bench_policy.sh [--bin PATH]    default: cargo build --release
set -euo pipefail
cd "$(dirname "$0")/.."
bin=""
[[ "${1:-}" == "--bin" ]] && bin="$2"
if [[ -z "$bin" ]]; then
  cargo build --release --locked --quiet
  bin=target/release/invhooks
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import sys
d = sys.argv[1]
def glob(i):
    return [f"hooks.store{i}.example", f"*.store{i}.example", f"h?-{{eu,us}}.store{i}.example",
            f"store{i}.hooks.*", f"*store{i}-[ab]*"][i % 5]
def host(i):
    return [f"hooks.store{i}.example", f"in.store{i}.example", f"h1-eu.store{i}.example",
            f"store{i}.hooks.dev", f"x.store{i}-b.dev"][i % 5]
for n in (200, 6000, 20000):
    with open(f"{d}/policy-{n}.yaml", "w") as f:
        f.write("version: 1\nallowedCallbackHosts:\n")
        f.writelines(f'  - "{glob(i)}"\n' for i in range(n))
with open(f"{d}/webhooks.yaml", "w") as f:
    f.write("version: 1\nmerchant: acme\nsubscriptions:\n")
    for j in range(1000):
        i = j % 200
        f.write(f'  - {{name: s{j}, topic: customer.updated, callbackUrl: "https://{host(i)}/in"}}\n')
PY
best() {
  local best_ms=999999
  for _ in 1 2 3 4 5; do
    local start end ms
    start=$(date +%s%N)
    "$@" >/dev/null 2>"$dir/stderr" || { cat "$dir/stderr" >&2; exit 1; }
    end=$(date +%s%N)
    ms=$(( (end - start) / 1000000 ))
    (( ms < best_ms )) && best_ms=$ms
  done
  echo "$best_ms"
}
echo "| host globs | validate, 1,000 entries (best of 5) |"
echo "|---:|---:|"
echo "| none (reference) | $(best "$bin" validate -f "$dir/webhooks.yaml") ms |"
for n in 200 6000 20000; do
  echo "| $n | $(best "$bin" validate -f "$dir/webhooks.yaml" --policy "$dir/policy-$n.yaml") ms |"
done
