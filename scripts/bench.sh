#!/usr/bin/env bash
# End-to-end benchmarks of invhooks against its sandbox on loopback (issue 5;
# the figures and how to read them are in BENCHMARKS.md).
#
#   scripts/bench.sh                 full run (about 16 minutes on 2 cores), release build
#   scripts/bench.sh --quick         small sizes, a smoke run (about a minute and a half once built)
#   scripts/bench.sh --fleet         only the fleet section (about 5 minutes; with --quick, under a minute)
#   scripts/bench.sh --waves         only the staged-rollout section (about 1 minute)
#   scripts/bench.sh --single        only the single-store sections (1)-(6), no fleets (about 6 minutes)
#   scripts/bench.sh --check         also exit 1 when a timing target is missed
#   scripts/bench.sh --bin PATH      use this invhooks binary instead of building one
#   scripts/bench.sh --out DIR       where results go (default target/bench/full, …/quick, with --fleet …/full-fleet, …/quick-fleet, with --waves …/full-waves)
#
# Measures: (1) `plan` at 10,000 and 100,000 subscriptions, 10% differing,
# beside `curl` fetching the same lists from the same sandbox; (2) `apply` of
# 1,000 creates with --latency 20 at --parallelism 1, 4 and 16 against the
# ideal (changes / parallelism x latency); (3) `apply` of 500 creates against
# --rate-limit 50 against the ideal 10 s; (4) peak RSS of `plan` at 100,000;
# (5) requests made by `plan` and by a no-op `apply` (from GET /_sandbox/stats);
# (6) `validate` of a 100-entry manifest; and, for fleets of small stores
# (issue 12, scripts/bench_fleet.sh): one `apply -f DIR` of 100 stores beside
# `xargs -P16` of one `apply` per store, `plan` of 10 to 1,000 stores beside
# the latency floor, with SSL_CERT_FILE set beside unset, and its peak RSS;
# and (issue 22) one `apply -f DIR --waves 100%` of 100 stores beside the
# plain `apply -f DIR`.
#
# Deterministic checks always fail the run: exactly one GET per merchant for
# `plan`, exactly one request for a no-op `apply`, every apply converged
# (exit 0) with the manifest's subscriptions live, no failed change, and
# every fleet apply made exactly its 5 requests per store.
#
# Needs bash, python3, curl, hyperfine and GNU time (/usr/bin/time); as root
# with apt-get, missing Debian packages (hyperfine, time, curl) are installed,
# otherwise the script says what to install. Before each timed section it
# waits (up to 60 s; not with --quick) for the machine to be idle (< 20% CPU busy over a
# second, from /proc/stat) and records how busy it was.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SELF="$ROOT/scripts/bench.sh"
DATA="$ROOT/scripts/bench_data.py"

# Internal: (re)start a sandbox for hyperfine's --prepare. Arguments:
# NAME PORT STATE_SOURCE [sandbox flags...]; WORK, BIN and KEYS come from the
# environment.
if [[ "${1:-}" == "__restart" ]]; then
  shift
  name=$1 port=$2 source=$3
  shift 3
  pidfile="$WORK/$name.pid"
  if [[ -s "$pidfile" ]]; then
    # With CHECK_STATS=FILE, the counts of the run just done are kept first.
    if [[ -n "${CHECK_STATS:-}" ]]; then
      curl -sf "http://127.0.0.1:$port/_sandbox/stats" >>"$CHECK_STATS" && echo >>"$CHECK_STATS"
    fi
    kill "$(cat "$pidfile")" 2>/dev/null || true
    while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.02; done
  fi
  # STATE_SOURCE `-`: no state file, an empty store in memory (nothing
  # written to disk per request, which is the sandbox's cost, not ours).
  state=()
  if [[ "$source" != - ]]; then
    cp "$source" "$WORK/$name.state.json"
    state=(--state "$WORK/$name.state.json")
  fi
  keys=()
  for key in $KEYS; do keys+=(--api-key "$key"); done
  setsid "$BIN" sandbox --listen "127.0.0.1:$port" "${keys[@]}" "${state[@]}" "$@" \
    </dev/null >"$WORK/$name.log" 2>&1 &
  echo $! >"$pidfile"
  for _ in $(seq 200); do
    curl -sf "http://127.0.0.1:$port/_sandbox/stats" >/dev/null 2>&1 && exit 0
    sleep 0.05
  done
  echo "sandbox $name did not start; its log:" >&2
  cat "$WORK/$name.log" >&2
  exit 1
fi

QUICK=0 CHECK=0 FLEET_ONLY=0 WAVES_ONLY=0 SINGLE_ONLY=0 BIN="" OUT=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) QUICK=1 ;;
    --check) CHECK=1 ;;
    --fleet) FLEET_ONLY=1 ;;
    --waves) FLEET_ONLY=1 WAVES_ONLY=1 ;;
    --single) SINGLE_ONLY=1 ;;
    --bin) BIN="$2"; shift ;;
    --out) OUT="$2"; shift ;;
    -h|--help) sed -n '2,36p' "$SELF"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

MODE=""
if [[ $WAVES_ONLY == 1 ]]; then MODE=-waves; elif [[ $SINGLE_ONLY == 1 ]]; then MODE=-single; elif [[ $FLEET_ONLY == 1 ]]; then MODE=-fleet; fi
if [[ $QUICK == 1 ]]; then
  PLAN_SIZES=(1000 5000) APPLY_CREATES=100 RATE_CREATES=60 RATE=20 RUNS_PLAN=3 RUNS_APPLY=1 QUIET_WAIT=1
  OUT="${OUT:-$ROOT/target/bench/quick$MODE}"
else
  PLAN_SIZES=(10000 100000) APPLY_CREATES=1000 RATE_CREATES=500 RATE=50 RUNS_PLAN=10 RUNS_APPLY=3 QUIET_WAIT=60
  OUT="${OUT:-$ROOT/target/bench/full$MODE}"
fi
LATENCY=20

# --- tools -------------------------------------------------------------------
need=()
command -v hyperfine >/dev/null || need+=(hyperfine)
[[ -x /usr/bin/time ]] || need+=(time)
command -v curl >/dev/null || need+=(curl)
if [[ ${#need[@]} -gt 0 ]]; then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "installing ${need[*]} (Debian packages)" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "missing: ${need[*]}; install them, e.g. sudo apt-get install ${need[*]}" >&2
    exit 2
  fi
fi
command -v python3 >/dev/null || { echo "missing: python3" >&2; exit 2; }

# --- binary and work directory ------------------------------------------------
WORK="$(mktemp -d "${TMPDIR:-/tmp}/invhooks-bench.XXXXXX")"
export WORK
STARTED=()
cleanup() {
  for name in "${STARTED[@]}"; do
    if [[ -s "$WORK/$name.pid" ]]; then kill "$(cat "$WORK/$name.pid")" 2>/dev/null || true; fi
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

if [[ -z "$BIN" ]]; then
  echo "building: cargo build --release --locked" >&2
  (cd "$ROOT" && cargo build --release --locked --quiet)
  BIN="$ROOT/target/release/invhooks"
fi
# A copy, so that a rebuild in the tree during the run changes nothing.
cp "$BIN" "$WORK/invhooks"
BIN="$WORK/invhooks"
export BIN
mkdir -p "$OUT"
rm -f "$OUT"/*.json "$OUT"/results.md

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Waits for an idle machine; prints the busy percentage measured last.
wait_quiet() {
  QUIET_WAIT=$QUIET_WAIT python3 - <<'EOF'
import os, time
def sample():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v), idle
deadline = time.time() + float(os.environ["QUIET_WAIT"])
busy = 100.0
while time.time() < deadline:
    t0, i0 = sample(); time.sleep(1); t1, i1 = sample()
    busy = 100.0 * (1 - (i1 - i0) / max(1, t1 - t0))
    if busy < 20:
        break
print(f"{busy:.0f}")
EOF
}

# start NAME PORT STATE_SOURCE [flags]: a sandbox in the background.
start() {
  STARTED+=("$1")
  bash "$SELF" __restart "$@"
}
stop() {
  if [[ -s "$WORK/$1.pid" ]]; then
    local pid
    pid="$(cat "$WORK/$1.pid")"
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.02; done
    rm -f "$WORK/$1.pid"
  fi
}
stats() { curl -sf "http://127.0.0.1:$1/_sandbox/stats"; }
# stat_delta BEFORE AFTER FIELD: the difference of requests.FIELD.
stat_delta() {
  python3 -c 'import json,sys; a=json.loads(sys.argv[1]); b=json.loads(sys.argv[2]); f=sys.argv[3]; print(b["requests"][f]-a["requests"][f])' "$1" "$2" "$3"
}
# median FILE INDEX: the median of a hyperfine export, in seconds.
median() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][int(sys.argv[2])]["median"])' "$1" "$2"; }
keys_for() { # KEYS and BENCH_KEY_i for N merchants
  KEYS=""
  for m in $(seq "$1"); do KEYS+=" bench-key-$m"; export "BENCH_KEY_$m=bench-key-$m"; done
  export KEYS
}
fail() { echo "FAILED: $*" >&2; FAILURES+=("$*"); }
FAILURES=() MISSES=()
RESULTS="$OUT/results.md"
report() { echo "$*" | tee -a "$RESULTS"; }
TARGETS=()
target() { # target NAME OK(0/1) DETAIL: a row of the targets table, printed at the end
  if [[ "$2" == 1 ]]; then TARGETS+=("| $1 | met | $3 |"); else TARGETS+=("| $1 | **missed** | $3 |"); MISSES+=("$1"); fi
}
le() { python3 -c 'import sys; print(int(float(sys.argv[1]) <= float(sys.argv[2])))' "$1" "$2"; }
calc() { python3 -c "print(round($1, 3))"; }

HF=(hyperfine --shell=none --style basic)

{
  echo "# invhooks end-to-end benchmark ($([[ $QUICK == 1 ]] && echo quick || echo full))"
  echo
  echo "- date: $(date -u +%Y-%m-%dT%H:%M:%SZ); binary: $("$BIN" --version)"
  echo "- machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, $(free -g | awk '/^Mem:/{print $2}') GiB RAM"
  echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
} | tee "$RESULTS"

if [[ $FLEET_ONLY == 0 ]]; then
  # --- (1) plan beside curl, (4) peak RSS, (5) requests of plan ---------------------
  report "## plan (10% differing) beside curl of the same lists"
  report
  report "| subscriptions | merchants | curl median | plan median | plan / curl | GETs by plan | busy before |"
  report "|---:|---:|---:|---:|---:|---:|---:|"
  for n in "${PLAN_SIZES[@]}"; do
    read -r merchants _ < <(python3 "$DATA" shape "$n")
    python3 "$DATA" manifests "$n" "$WORK/m$n"
    python3 "$DATA" state "$n" "$WORK/s$n.json" --differ 0.10
    keys_for "$merchants"
    port=$(free_port)
    start "plan$n" "$port" "$WORK/s$n.json"
    url="http://127.0.0.1:$port/v2.0/admin/webhook-subscriptions"
    # One curl fetching every merchant's list, concurrently as plan does.
    curl_cmd="curl -sf"
    [[ $merchants -gt 1 ]] && curl_cmd+=" --parallel --parallel-immediate --no-progress-meter"
    for m in $(seq "$merchants"); do
      [[ $m -gt 1 ]] && curl_cmd+=" --next -sf"
      curl_cmd+=" -H X-Inveterate-Api-Key:bench-key-$m -o /dev/null $url"
    done
    plan_cmd="$BIN plan -f $WORK/m$n --base-url http://127.0.0.1:$port/v2.0"
    before=$(stats "$port")
    "$BIN" plan -f "$WORK/m$n" --base-url "http://127.0.0.1:$port/v2.0" >/dev/null
    after=$(stats "$port")
    gets=$(stat_delta "$before" "$after" GET)
    total=$(stat_delta "$before" "$after" total)
    [[ "$gets" == "$merchants" && "$total" == "$merchants" ]] || fail "plan at $n made $total requests ($gets GET) for $merchants merchant(s)"
    busy=$(wait_quiet)
    "${HF[@]}" --warmup 2 --runs "$RUNS_PLAN" --export-json "$OUT/plan-$n.json" \
      -n "curl $n" "$curl_cmd" -n "plan $n" "$plan_cmd" >&2
    c=$(median "$OUT/plan-$n.json" 0)
    p=$(median "$OUT/plan-$n.json" 1)
    report "| $n | $merchants | $(calc "$c*1000") ms | $(calc "$p*1000") ms | $(calc "$p/$c") | $gets | ${busy}% |"
    eval "PLAN_CURL_$n=$c PLAN_MEDIAN_$n=$p"
    if [[ "$n" == "${PLAN_SIZES[-1]}" ]]; then
      rss=()
      for _ in 1 2 3; do
        rss+=("$(/usr/bin/time -f %M "$BIN" plan -f "$WORK/m$n" --base-url "http://127.0.0.1:$port/v2.0" 2>&1 >/dev/null | tail -1)")
      done
      RSS_KB=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 2p)
    fi
    stop "plan$n"
  done
  small=${PLAN_SIZES[0]} large=${PLAN_SIZES[-1]}
  report
  report "Peak RSS of \`plan\` at $large subscriptions (median of 3, /usr/bin/time): $((RSS_KB / 1024)) MiB"
  report

  # --- (2) apply creates at --latency 20 ----------------------------------------------
  report "## apply of $APPLY_CREATES creates, --latency $LATENCY"
  report
  report "| parallelism | median | ideal | median / ideal | busy before |"
  report "|---:|---:|---:|---:|---:|"
  python3 "$DATA" manifests "$APPLY_CREATES" "$WORK/a$APPLY_CREATES"
  keys_for 1
  port=$(free_port)
  for par in 1 4 16; do
    runs=$RUNS_APPLY
    [[ $par == 16 && $QUICK == 0 ]] && runs=5
    busy=$(wait_quiet)
    STARTED+=(apply)
    "${HF[@]}" --runs "$runs" --export-json "$OUT/apply-p$par.json" \
      --prepare "bash $SELF __restart apply $port - --latency $LATENCY" \
      -n "apply p$par" "$BIN -q apply -f $WORK/a$APPLY_CREATES --auto-approve --parallelism $par --base-url http://127.0.0.1:$port/v2.0" >&2
    live=$(curl -sf -H "X-Inveterate-Api-Key: bench-key-1" "http://127.0.0.1:$port/v2.0/admin/webhook-subscriptions" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["subscriptions"]))')
    [[ "$live" == "$APPLY_CREATES" ]] || fail "apply at parallelism $par left $live live subscriptions, not $APPLY_CREATES"
    m=$(median "$OUT/apply-p$par.json" 0)
    ideal=$(calc "$APPLY_CREATES/$par*$LATENCY/1000")
    report "| $par | $(calc "$m") s | $ideal s | $(calc "$m/$ideal") | ${busy}% |"
    eval "APPLY_$par=$m"
  done
  # (5) a no-op apply: live matches the manifest now.
  before=$(stats "$port")
  "$BIN" -q apply -f "$WORK/a$APPLY_CREATES" --auto-approve --base-url "http://127.0.0.1:$port/v2.0" >/dev/null
  after=$(stats "$port")
  NOOP_TOTAL=$(stat_delta "$before" "$after" total)
  [[ "$NOOP_TOTAL" == 1 ]] || fail "a no-op apply made $NOOP_TOTAL requests"
  stop apply
  report
  report "Speed-up of parallelism 16 over 1: $(calc "$APPLY_1/$APPLY_16")x. Requests of a no-op \`apply\`: $NOOP_TOTAL."
  report

  # --- (3) apply against --rate-limit ---------------------------------------------------
  report "## apply of $RATE_CREATES creates against --rate-limit $RATE"
  report
  report "| parallelism | median | ideal (creates / rate) | share of allowed throughput | bucket-aware floor | 429s answered (last run) | busy before |"
  report "|---:|---:|---:|---:|---:|---:|---:|"
  python3 "$DATA" manifests "$RATE_CREATES" "$WORK/r$RATE_CREATES"
  port=$(free_port)
  ideal=$(calc "$RATE_CREATES/$RATE")
  # The sandbox's bucket starts full (RATE tokens) and every request takes
  # one: the creates, plan's GET and verification's GET.
  floor=$(calc "max(0, $RATE_CREATES + 2 - $RATE) / $RATE")
  for par in 4 16; do
    busy=$(wait_quiet)
    STARTED+=(rate)
    "${HF[@]}" --runs "$RUNS_APPLY" --export-json "$OUT/rate-p$par.json" \
      --prepare "bash $SELF __restart rate $port - --rate-limit $RATE" \
      -n "rate p$par" "$BIN -q apply -f $WORK/r$RATE_CREATES --auto-approve --parallelism $par --base-url http://127.0.0.1:$port/v2.0" >&2
    limited=$(stats "$port" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"]["injected"]["rate_limited"])')
    live=$(curl -sf -H "X-Inveterate-Api-Key: bench-key-1" "http://127.0.0.1:$port/v2.0/admin/webhook-subscriptions" |
      python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["subscriptions"]))')
    [[ "$live" == "$RATE_CREATES" ]] || fail "rate-limited apply at parallelism $par left $live live subscriptions, not $RATE_CREATES"
    m=$(median "$OUT/rate-p$par.json" 0)
    report "| $par | $(calc "$m") s | $ideal s | $(calc "$ideal/$m*100")% | $floor s | $limited | ${busy}% |"
    eval "RATE_$par=$m"
  done
  stop rate
  report

  # --- (6) validate of 100 entries --------------------------------------------------------
  python3 "$DATA" manifests 100 "$WORK/v100"
  busy=$(wait_quiet)
  "${HF[@]}" --warmup 5 --runs 50 --export-json "$OUT/validate-100.json" -n "validate 100" "$BIN validate -f $WORK/v100" >&2
  VALIDATE=$(median "$OUT/validate-100.json" 0)
  report "## validate of a 100-entry manifest"
  report
  report "Median process wall time: $(calc "$VALIDATE*1000") ms (busy before: ${busy}%)."
  report

  # Targets of the single-store figures (the table is printed at the end).
  c_name=PLAN_CURL_$small p_name=PLAN_MEDIAN_$small big_name=PLAN_MEDIAN_$large
  c=${!c_name} p=${!p_name} big=${!big_name}
  target "plan at $small <= 2.5x curl (issue 20)" "$(le "$p" "$(calc "2.5*$c")")" "$(calc "$p/$c")x"
  target "plan at $large < 3 s" "$(le "$big" 3)" "$(calc "$big") s"
  target "plan at $large < 300 MB peak RSS" "$(le "$RSS_KB" 292968)" "$((RSS_KB / 1024)) MiB"
  for par in 1 4 16; do
    m_name=APPLY_$par
    ideal_p=$(calc "$APPLY_CREATES/$par*$LATENCY/1000")
    target "apply of $APPLY_CREATES creates, p$par <= 1.2x ideal (issue 20)" "$(le "${!m_name}" "$(calc "1.2*$ideal_p")")" "$(calc "${!m_name}/$ideal_p")x"
  done
  target "apply p1 / p16 ~ 16x (>= 80% of 16)" "$(le 12.8 "$(calc "$APPLY_1/$APPLY_16")")" "$(calc "$APPLY_1/$APPLY_16")x"
  worst_rate=$(python3 -c "print(max($RATE_4, $RATE_16))")
  target "rate-limited apply >= 85% of allowed throughput, 0 failed" "$(le "$(calc "0.85*$worst_rate")" "$ideal")" "$(calc "$ideal/$worst_rate*100")% (slowest parallelism)"
  target "validate of 100 entries < 10 ms" "$(le "$VALIDATE" 0.010)" "$(calc "$VALIDATE*1000") ms"
fi

# --- fleets (issue 12) ----------------------------------------------------------------
# shellcheck source=scripts/bench_fleet.sh
[[ $SINGLE_ONLY == 1 ]] || source "$ROOT/scripts/bench_fleet.sh"

# --- targets ------------------------------------------------------------------------------
target "plan makes 1 GET per merchant, a no-op apply 1 request, a fleet apply 5 per store" \
  "$([[ ${#FAILURES[@]} == 0 ]] && echo 1 || echo 0)" "see the tables above"
report "## targets"
report
[[ $QUICK == 1 ]] && report "(quick run: smaller sizes than the targets name; the figures are a smoke check, not the targets)" && report
report "| target | result | figure |"
report "|---|---|---|"
for row in "${TARGETS[@]}"; do report "$row"; done
report
report "Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg). Raw hyperfine exports: $OUT/*.json"

if [[ ${#FAILURES[@]} -gt 0 ]]; then
  echo "bench: ${#FAILURES[@]} check(s) failed: ${FAILURES[*]}" >&2
  exit 1
fi
if [[ $CHECK == 1 && ${#MISSES[@]} -gt 0 ]]; then
  echo "bench: targets missed: ${MISSES[*]}" >&2
  exit 1
fi
echo "bench: results in $RESULTS" >&2
