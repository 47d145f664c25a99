# shellcheck shell=bash
# The fleet section of scripts/bench.sh (issue 12), sourced by it: many small
# stores behind one sandbox with --latency 50, one API key each (the shape is
# in scripts/bench_data.py `fleet`). Figures, each beside a reference of the
# same run:
#
#   (F1) one `apply -f DIR` of STORES x 3 changes beside `xargs -P16` running
#        one `apply -f FILE` per store file;
#   (F2) `plan` of 10, 100 and 1,000 stores beside the floor
#        ceil(stores / 64 reads in flight) x latency;
#   (F3) `plan` of 100 and 1,000 stores with SSL_CERT_FILE set to a real CA
#        bundle beside unset (plain http on loopback: the bundle is only read
#        and parsed, which is the cost measured);
#   (F4) peak RSS of `plan` of the largest fleet with the bundle set;
#   (W1) one `apply -f DIR --waves 100%` of STORES x 3 changes beside the
#        plain `apply -f DIR` (the only section of `--waves`).
#
# Deterministic checks fail the run: every apply run (both commands, every
# run) made exactly GET 2N, POST N, PUT N, DELETE N and converged (exit 0,
# then `drift` in sync); `plan` makes exactly one GET per store.

FLEET_LATENCY=50
FLEET_INFLIGHT=64 # plan's and drift's bound on reads at once (README "Agencies and fleets")
if [[ $QUICK == 1 ]]; then
  FLEET_APPLY=20 FLEET_PLANS=(10 100) FLEET_RUNS_APPLY=2 FLEET_RUNS_PLAN=3
else
  FLEET_APPLY=100 FLEET_PLANS=(10 100 1000) FLEET_RUNS_APPLY=5 FLEET_RUNS_PLAN=10
fi
FLEET_LARGE=${FLEET_PLANS[-1]}

# A real PEM bundle for SSL_CERT_FILE: the system's, else a generated CA.
CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
if [[ ! -s $CA_BUNDLE ]]; then
  CA_BUNDLE="$WORK/ca.pem"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bench-ca \
    -keyout "$WORK/ca.key" -out "$CA_BUNDLE" 2>/dev/null
fi
CA_CERTS=$(grep -c 'BEGIN CERTIFICATE' "$CA_BUNDLE")
# Whatever the caller's environment holds, (F1) and (F2) run without a
# bundle; (F3) and (F4) set it explicitly.
unset SSL_CERT_FILE

# fleet_data N: $WORK/f$N (manifests), $WORK/f$N.state.json and the keys.
fleet_data() {
  [[ -d "$WORK/f$1" ]] || python3 "$DATA" fleet "$1" "$WORK/f$1" --state "$WORK/f$1.state.json"
  keys_for "$1"
}
# check_apply_stats N JSON: one apply of N stores x 3 changes, nothing else.
check_apply_stats() {
  python3 - "$1" "$2" <<'EOF' || fail "a fleet apply of $1 stores made other requests: $2"
import json, sys
n, r = int(sys.argv[1]), json.loads(sys.argv[2])["requests"]
sys.exit(0 if (r["GET"], r["POST"], r["PUT"], r["DELETE"], r["total"]) == (2 * n, n, n, n, 5 * n) else 1)
EOF
}

# apply_beside NAME LABEL1 CMD1 LABEL2 CMD2: hyperfine of two commands that
# apply the fleet of FLEET_APPLY stores, each run on a fresh sandbox at $port
# ($url; set by the caller), every run's requests checked, then `drift`;
# sets BESIDE_BUSY and the medians BESIDE_1 and BESIDE_2.
apply_beside() {
  local name=$1 n=$FLEET_APPLY runs=0 line
  export CHECK_STATS="$WORK/$name.stats"
  : >"$CHECK_STATS"
  BESIDE_BUSY=$(wait_quiet)
  STARTED+=("$name")
  "${HF[@]}" --runs "$FLEET_RUNS_APPLY" --export-json "$OUT/$name-$n.json" \
    --prepare "bash $SELF __restart $name $port $WORK/f$n.state.json --latency $FLEET_LATENCY" \
    -n "$2" "$3" -n "$4" "$5" >&2
  stats "$port" >>"$CHECK_STATS" && echo >>"$CHECK_STATS"
  unset CHECK_STATS
  while read -r line; do
    [[ -n $line ]] || continue
    runs=$((runs + 1))
    check_apply_stats "$n" "$line"
  done <"$WORK/$name.stats"
  [[ $runs == $((2 * FLEET_RUNS_APPLY)) ]] || fail "$name: $runs sandbox counts for $((2 * FLEET_RUNS_APPLY)) runs"
  "$BIN" drift -f "$WORK/f$n" --base-url "$url" >/dev/null || fail "$name of $n stores did not converge (drift exit $?)"
  stop "$name"
  BESIDE_1=$(median "$OUT/$name-$n.json" 0)
  BESIDE_2=$(median "$OUT/$name-$n.json" 1)
}

if [[ $WAVES_ONLY == 0 ]]; then
# --- (F1) apply of N stores x 3 changes beside xargs -P16 ---------------------------
report "## fleet: apply of $FLEET_APPLY stores x 3 changes (1 create, 1 update, 1 delete), --latency $FLEET_LATENCY"
report
n=$FLEET_APPLY
fleet_data "$n"
port=$(free_port)
url="http://127.0.0.1:$port/v2.0"
find "$WORK/f$n" -name '*.yaml' | sort >"$WORK/f$n.files"
apply_beside fleet-apply \
  "xargs -P16 apply -f FILE" "xargs -a $WORK/f$n.files -P 16 -I {} $BIN -q apply -f {} --auto-approve --base-url $url" \
  "apply -f DIR" "$BIN -q apply -f $WORK/f$n --auto-approve --base-url $url"
FLEET_XARGS=$BESIDE_1 FLEET_DIR=$BESIDE_2 busy=$BESIDE_BUSY
report "| command | median | ratio | requests per run (every run) | busy before |"
report "|---|---:|---:|---:|---:|"
report "| \`xargs -P16\`: one \`apply -f FILE\` per store | $(calc "$FLEET_XARGS") s | 1 | $((5 * n)) | ${busy}% |"
report "| one \`apply -f DIR\` | $(calc "$FLEET_DIR") s | $(calc "$FLEET_DIR/$FLEET_XARGS") | $((5 * n)) | |"
report

# --- (F2) plan beside the floor; (F3) SSL_CERT_FILE set / unset; (F4) RSS -----------------
report "## fleet: plan at --latency $FLEET_LATENCY beside the floor; SSL_CERT_FILE set ($CA_CERTS certificates) beside unset"
report
report "| stores | floor | plan median (unset) | plan / floor | plan median (set) | set / unset | GETs by plan | busy before |"
report "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${FLEET_PLANS[@]}"; do
  fleet_data "$n"
  port=$(free_port)
  url="http://127.0.0.1:$port/v2.0"
  start "fleetplan$n" "$port" "$WORK/f$n.state.json" --latency "$FLEET_LATENCY"
  plan=("$BIN" plan -f "$WORK/f$n" --base-url "$url")
  before=$(stats "$port")
  "${plan[@]}" >/dev/null
  after=$(stats "$port")
  gets=$(stat_delta "$before" "$after" GET)
  total=$(stat_delta "$before" "$after" total)
  [[ "$gets" == "$n" && "$total" == "$n" ]] || fail "plan of $n stores made $total requests ($gets GET)"
  cmds=(-n "plan $n unset" "env -u SSL_CERT_FILE ${plan[*]}")
  [[ $n -ge 100 ]] && cmds+=(-n "plan $n set" "env SSL_CERT_FILE=$CA_BUNDLE ${plan[*]}")
  busy=$(wait_quiet)
  "${HF[@]}" --warmup 1 --runs "$FLEET_RUNS_PLAN" --export-json "$OUT/fleet-plan-$n.json" "${cmds[@]}" >&2
  unset_s=$(median "$OUT/fleet-plan-$n.json" 0)
  floor=$(calc "-(-$n // $FLEET_INFLIGHT) * $FLEET_LATENCY / 1000")
  set_cell="–" ratio_cell="–"
  if [[ $n -ge 100 ]]; then
    set_s=$(median "$OUT/fleet-plan-$n.json" 1)
    set_cell="$(calc "$set_s*1000") ms" ratio_cell=$(calc "$set_s/$unset_s")
    eval "FLEET_SSL_$n=$ratio_cell"
  fi
  report "| $n | $(calc "$floor*1000") ms | $(calc "$unset_s*1000") ms | $(calc "$unset_s/$floor") | $set_cell | $ratio_cell | $gets | ${busy}% |"
  eval "FLEET_PLAN_$n=$unset_s"
  if [[ $n == "$FLEET_LARGE" ]]; then
    rss=()
    for _ in 1 2 3; do
      rss+=("$(SSL_CERT_FILE=$CA_BUNDLE /usr/bin/time -f %M "${plan[@]}" 2>&1 >/dev/null | tail -1)")
    done
    FLEET_RSS_KB=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n 2p)
  fi
  stop "fleetplan$n"
done
report
report "Peak RSS of \`plan\` of $FLEET_LARGE stores with SSL_CERT_FILE set (median of 3, /usr/bin/time): $((FLEET_RSS_KB / 1024)) MiB"
report

# --- fleet targets (printed with the others by scripts/bench.sh) ------------------------
large_name=FLEET_PLAN_$FLEET_LARGE
large_plan=${!large_name}
# The target's floor is the continuous stores / 64 x latency (0.78 s at 1,000).
large_floor=$(calc "$FLEET_LARGE / $FLEET_INFLIGHT * $FLEET_LATENCY / 1000")
target "fleet apply -f DIR of $FLEET_APPLY stores <= 1.0x xargs -P16 (aim 0.8x)" \
  "$(le "$FLEET_DIR" "$FLEET_XARGS")" "$(calc "$FLEET_DIR/$FLEET_XARGS")x"
target "plan of $FLEET_LARGE stores <= 1.3x floor ($(calc "$large_floor") s)" \
  "$(le "$large_plan" "$(calc "1.3*$large_floor")")" "$(calc "$large_plan/$large_floor")x"
for n in "${FLEET_PLANS[@]}"; do
  [[ $n -ge 100 ]] || continue
  r_name=FLEET_SSL_$n
  r=${!r_name}
  target "plan of $n stores, SSL_CERT_FILE set <= 1.3x unset" "$(le "$r" 1.3)" "${r}x"
done
target "plan of $FLEET_LARGE stores, SSL_CERT_FILE set <= 80 MiB peak RSS" \
  "$(le "$FLEET_RSS_KB" 81920)" "$((FLEET_RSS_KB / 1024)) MiB"
fi

# --- (W1) apply --waves 100% beside apply, N stores x 3 changes -----------------------
report "## fleet: apply --waves 100% beside apply, $FLEET_APPLY stores x 3 changes, --latency $FLEET_LATENCY"
report
n=$FLEET_APPLY
fleet_data "$n"
port=$(free_port)
url="http://127.0.0.1:$port/v2.0"
apply_beside waves-apply \
  "apply -f DIR" "$BIN -q apply -f $WORK/f$n --auto-approve --base-url $url" \
  "apply -f DIR --waves 100%" "$BIN -q apply -f $WORK/f$n --auto-approve --waves 100% --base-url $url"
WAVES_PLAIN=$BESIDE_1 WAVES_ALL=$BESIDE_2 busy=$BESIDE_BUSY
report "| command | median | ratio | requests per run (every run) | busy before |"
report "|---|---:|---:|---:|---:|"
report "| \`apply -f DIR\` | $(calc "$WAVES_PLAIN") s | 1 | $((5 * n)) | ${busy}% |"
report "| \`apply -f DIR --waves 100%\` | $(calc "$WAVES_ALL") s | $(calc "$WAVES_ALL/$WAVES_PLAIN") | $((5 * n)) | |"
report
target "apply --waves 100% of $FLEET_APPLY stores <= 1.05x apply" \
  "$(le "$WAVES_ALL" "$(calc "1.05*$WAVES_PLAIN")")" "$(calc "$WAVES_ALL/$WAVES_PLAIN")x"
