#!/usr/bin/env bash
# Transactions and compare-and-set against etcd, side by side in one run (issue 16; SPEC.md
# section 11). What it measures:
#  1. Transaction throughput: write-only transactions of 2 and of 8 keys (16-byte values),
#     wrk -t2 -c64 (bench/lua/txn.lua). kvstore: POST /txn with a "then" of puts, the keys taken
#     from different primaries so that every transaction spans all 3 followers (one two-phase
#     commit across them). etcd 3.4, 3 members: POST /v3/kv/txn with an empty compare and the
#     same number of request_put in "success" (one Raft entry).
#  2. CAS increments per second (bench/Drive.java cas): each client loops read -> conditional
#     write of value+1 -> on a conflict read again. kvstore: GET (X-KV-Version), then
#     PUT ?ifVersion=V (201 or 412). etcd: range (mod_revision), then a txn comparing
#     mod_revision and putting value+1 (succeeded true or false). Two shapes: 8 clients on one
#     counter (contended: most attempts conflict) and 64 clients on 64 counters (one each). At
#     the end the counters must add up to the increments acknowledged (printed as check=ok).
# Each figure is the median of --runs runs of --duration seconds, after a warm-up; runs in
# which other processes used more than 10% of the CPU are repeated (up to --tries times in all)
# and flagged if still noisy.
#
#   bench/txn.sh [--runs 3] [--duration 15] [--warmup 20] [--no-etcd] [--processes] [--tries 3]
#
# kvstore runs as the embedded default (leader + 3 followers in one JVM, redundancy 2), or with
# --processes as 4 processes; same JVM flags as bench/run.sh. Takes about 12 minutes with the
# defaults. Installs wrk and etcd-server (Debian) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
trap 'cleanup; rm -rf "${WORK:-/nonexistent}"' EXIT

RUNS=3 DURATION=15 WARMUP=20 ETCD=1 MODE=embedded TRIES=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) RUNS=$2; shift ;;
    --duration) DURATION=$2; shift ;;
    --warmup) WARMUP=$2; shift ;;
    --no-etcd) ETCD=0 ;;
    --processes) MODE=processes ;;
    --tries) TRIES=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

need_pkg wrk wrk
need_pkg curl curl
[ $ETCD = 1 ] && need_pkg etcd etcd-server
[ -f target/kvstore.jar ] || mvn -B -q -DskipTests package
WORK=$(mktemp -d /tmp/kvtxn.XXXXXX)
JVM="-XX:+UseG1GC -XX:MaxGCPauseMillis=5 -Xms1g -Xmx1g -XX:+AlwaysPreTouch"
declare -A RESULT

start_kvstore() { # start_kvstore DIR: sets KV_URL and KV_PIDS
  local dir=$1 base; base=$(free_range 4)
  KV_URL="http://127.0.0.1:$base"
  if [ $MODE = embedded ]; then
    java $JVM -jar target/kvstore.jar --port "$base" --data-dir "$dir" > "$dir.log" 2>&1 < /dev/null &
    KV_PIDS=($!)
  else
    mkdir -p "$dir"
    java $JVM -jar target/kvstore.jar leader "$base" 3 2 --data-dir "$dir/leader" > "$dir.leader.log" 2>&1 &
    KV_PIDS=($!)
    for i in 1 2 3; do
      java $JVM -jar target/kvstore.jar follower $((base + i)) "$base" --data-dir "$dir/f$i" > "$dir.f$i.log" 2>&1 &
      KV_PIDS+=($!)
    done
  fi
  PIDS+=("${KV_PIDS[@]}")
  wait_http "$KV_URL/api/health" 180
}

start_etcd() { # sets EURL and ETCD_PIDS
  local i
  declare -a EC EP
  for i in 1 2 3; do EC[$i]=$(free_port); EP[$i]=$(free_port); done
  local cluster="e1=http://127.0.0.1:${EP[1]},e2=http://127.0.0.1:${EP[2]},e3=http://127.0.0.1:${EP[3]}"
  ETCD_PIDS=()
  for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$WORK/etcd$i" \
      --listen-client-urls "http://127.0.0.1:${EC[$i]}" --advertise-client-urls "http://127.0.0.1:${EC[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${EP[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${EP[$i]}" \
      --initial-cluster "$cluster" --initial-cluster-token "bench-$$" --initial-cluster-state new \
      > "$WORK/etcd$i.log" 2>&1 &
    ETCD_PIDS+=($!)
  done
  PIDS+=("${ETCD_PIDS[@]}")
  EURL="http://127.0.0.1:${EC[1]}"
  wait_http "$EURL/health" 60
}

stop_pids() { for p in "$@"; do kill "$p" 2>/dev/null || true; done; for p in "$@"; do wait "$p" 2>/dev/null || true; done; }

# measure_txn NAME SYSTEM URL KEYS PIDS...: RUNS wrk runs of write-only transactions of KEYS keys
measure_txn() {
  local name=$1 system=$2 url=$3 n=$4; shift 4
  local rpss=() p50s=() p99s=() errs=() noisy=0 r tries line rps p50 p99 err other
  SYSTEM=$system TXN_KEYS=$n KEYFILE="$WORK/groups.txt" wrk -t2 -c64 -d10s -s bench/lua/txn.lua "$url" > /dev/null 2>&1 || true
  for ((r = 0; r < RUNS; r++)); do
    for ((tries = 0; tries < TRIES; tries++)); do
      line=$(SYSTEM=$system TXN_KEYS=$n KEYFILE="$WORK/groups.txt" wrk_run "$url" bench/lua/txn.lua "$DURATION" -  "$@")
      read -r rps p50 p99 err other <<< "$line"
      [ "$other" -le 10 ] && break
      echo "  ($name run $((r + 1)): other processes used ${other}% of the CPU; again)" >&2
    done
    [ "$other" -gt 10 ] && noisy=1
    echo "  $name run $((r + 1)): $rps txn/s, p50 $p50 ms, p99 $p99 ms, errors $err, other CPU ${other}%" >&2
    rpss+=("$rps"); p50s+=("$p50"); p99s+=("$p99"); errs+=("$err")
  done
  RESULT[$name]="$(median "${rpss[@]}") $(median "${p50s[@]}") $(median "${p99s[@]}") $(median "${errs[@]}") $noisy"
}

# measure_cas NAME SYSTEM URL CLIENTS COUNTERS PIDS...: RUNS runs of bench/Drive.java cas
measure_cas() {
  local name=$1 system=$2 url=$3 clients=$4 counters=$5; shift 5
  local rpss=() p50s=() p99s=() errs=() confs=() noisy=0 r tries out="$WORK/cas.out" check
  for ((r = 0; r < RUNS; r++)); do
    for ((tries = 0; tries < TRIES; tries++)); do
      counted_run "$out" "$@" -- env WARMUP=5 java -cp target/kvstore.jar bench/Drive.java cas "$system" "$url" "$clients" "$counters" "$DURATION"
      [ "$OTHER" -le 10 ] && break
      echo "  ($name run $((r + 1)): other processes used ${OTHER}% of the CPU; again)" >&2
    done
    [ "$OTHER" -gt 10 ] && noisy=1
    check=$(field check "$out")
    [ "$check" = ok ] || { echo "  $name run $((r + 1)) failed or did not add up:" >&2; grep -v '^\s*at ' "$out" | tail -5 >&2; }
    echo "  $name run $((r + 1)): $(field incs_per_s "$out") increments/s, $(field conflicts_per_s "$out") conflicts/s, p50 $(field p50_ms "$out") ms, p99 $(field p99_ms "$out") ms, errors $(field errors "$out"), check $check, other CPU ${OTHER}%" >&2
    rpss+=("$(field incs_per_s "$out")"); p50s+=("$(field p50_ms "$out")"); p99s+=("$(field p99_ms "$out")")
    errs+=("$(field errors "$out")"); confs+=("$(field conflicts_per_s "$out")")
  done
  RESULT[$name]="$(median "${rpss[@]}") $(median "${p50s[@]}") $(median "${p99s[@]}") $(median "${errs[@]}") $noisy $(median "${confs[@]}")"
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), $(. /etc/os-release; echo "$PRETTY_NAME"), $(java -version 2>&1 | head -1)"
echo "kvstore mode: $MODE; JVM flags: $JVM; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
quiet_wait "${QUIET_WAIT:-300}"

# 1. kvstore
start_kvstore "$WORK/ours"
java -cp target/kvstore.jar bench/Drive.java groups "$KV_URL" 10000 > "$WORK/groups.txt"
echo "kvstore: keys by primary: $(awk '{print $2}' "$WORK/groups.txt" | sort | uniq -c | awk '{printf "%s:%s ", $2, $1}')" >&2
echo "kvstore: warming up for ${WARMUP}s" >&2
SYSTEM=kvstore TXN_KEYS=2 KEYFILE="$WORK/groups.txt" wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/txn.lua "$KV_URL" > /dev/null 2>&1 || true
for n in 2 8; do
  echo "kvstore ${n}-key transactions:" >&2
  measure_txn "ours-txn$n" kvstore "$KV_URL" $n "${KV_PIDS[@]}"
done
echo "kvstore CAS, 8 clients on 1 counter:" >&2
measure_cas ours-cas1 kvstore "$KV_URL" 8 1 "${KV_PIDS[@]}"
echo "kvstore CAS, 64 clients on 64 counters:" >&2
measure_cas ours-cas64 kvstore "$KV_URL" 64 64 "${KV_PIDS[@]}"
if grep -q "slow log write" "$WORK"/ours*.log 2>/dev/null; then
  echo "kvstore: $(cat "$WORK"/ours*.log | grep -c 'slow log write') slow log writes (disk stalls) during its runs" >&2
fi
stop_pids "${KV_PIDS[@]}"

# 2. etcd: 3 members on loopback with their defaults (fsync on), load sent to one member.
if [ $ETCD = 1 ]; then
  quiet_wait "${QUIET_WAIT:-120}"
  start_etcd
  echo "etcd: warming up for ${WARMUP}s" >&2
  SYSTEM=etcd TXN_KEYS=2 KEYFILE="$WORK/groups.txt" wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/txn.lua "$EURL" > /dev/null 2>&1 || true
  for n in 2 8; do
    echo "etcd ${n}-key transactions:" >&2
    measure_txn "etcd-txn$n" etcd "$EURL" $n "${ETCD_PIDS[@]}"
  done
  echo "etcd CAS, 8 clients on 1 counter:" >&2
  measure_cas etcd-cas1 etcd "$EURL" 8 1 "${ETCD_PIDS[@]}"
  echo "etcd CAS, 64 clients on 64 counters:" >&2
  measure_cas etcd-cas64 etcd "$EURL" 64 64 "${ETCD_PIDS[@]}"
  stop_pids "${ETCD_PIDS[@]}"
fi

# Report.
row() { # row LABEL NAME
  local v=${RESULT[$2]:-}
  [ -z "$v" ] && { printf '%-44s %s\n' "$1" "(not run)"; return; }
  read -r rps p50 p99 err noisy conf <<< "$v"
  printf '%-44s %9s %9s %9s %7s %9s%s\n' "$1" "$rps" "$p50" "$p99" "$err" "${conf:--}" "$([ "$noisy" = 1 ] && echo '  (noisy)')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rps_of() { echo "${RESULT[$1]:-0}" | awk '{print $1}'; }
echo
printf '%-44s %9s %9s %9s %7s %9s\n' "medians of $RUNS x ${DURATION}s" "per s" "p50 ms" "p99 ms" "errors" "conflicts/s"
row "kvstore 2-key txn (64 conns)" ours-txn2
row "kvstore 8-key txn (64 conns)" ours-txn8
row "kvstore CAS increments, 8 clients, 1 key" ours-cas1
row "kvstore CAS increments, 64 clients, 64 keys" ours-cas64
row "etcd 3.4 x3 2-key txn (64 conns)" etcd-txn2
row "etcd 3.4 x3 8-key txn (64 conns)" etcd-txn8
row "etcd 3.4 x3 CAS increments, 8 clients, 1 key" etcd-cas1
row "etcd 3.4 x3 CAS increments, 64 clients, 64 keys" etcd-cas64
echo
echo "ours/etcd: 2-key txn $(ratio "$(rps_of ours-txn2)" "$(rps_of etcd-txn2)") (goal: 1.5 or more), 8-key txn $(ratio "$(rps_of ours-txn8)" "$(rps_of etcd-txn8)"), CAS 1 key $(ratio "$(rps_of ours-cas1)" "$(rps_of etcd-cas1)"), CAS 64 keys $(ratio "$(rps_of ours-cas64)" "$(rps_of etcd-cas64)")"
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
