#!/usr/bin/env bash
# The benchmark (README, "Benchmarks"): kvstore against etcd and a trivial Vert.x server, side by
# side, in one run on this machine. 64 connections (wrk -t2 -c64), 10,000 preloaded keys,
# 16-byte values, three mixes: GET only, PUT only (durable), 90% GET / 10% PUT. Prints requests
# per second, p50 and p99 latency and errors (any non-2xx or socket error) for each, the median
# of --runs runs, and the ratio ours/etcd. Also: PUT with group commit switched off (same build).
#
#   bench/run.sh [--runs 3] [--duration 15] [--warmup 20] [--no-etcd] [--processes] [--tries 3]
#
# It installs wrk and etcd-server (Debian) when missing. Runs in which other processes used
# more than 10% of the CPU are repeated (up to --tries times in all) and flagged if still noisy.
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
WORK=$(mktemp -d /tmp/kvbench.XXXXXX)
JVM="-XX:+UseG1GC -XX:MaxGCPauseMillis=5 -Xms1g -Xmx1g -XX:+AlwaysPreTouch"
KEYS=10000
declare -A RESULT

# measure NAME URL SCRIPT MIX PIDS...: RUNS runs of DURATION seconds, medians into RESULT[NAME]
measure() {
  local name=$1 url=$2 script=$3 mix=$4; shift 4
  local rpss=() p50s=() p99s=() errs=() noisy=0 r tries line
  for ((r = 0; r < RUNS; r++)); do
    for ((tries = 0; tries < TRIES; tries++)); do
      line=$(wrk_run "$url" "$script" "$DURATION" "$mix" "$@")
      set -- "$@"
      read -r rps p50 p99 err other <<< "$line"
      [ "$other" -le 10 ] && break
      echo "  ($name run $r: other processes used ${other}% of the CPU; again)" >&2
    done
    [ "$other" -gt 10 ] && noisy=1
    echo "  $name run $((r + 1)): $rps req/s, p50 $p50 ms, p99 $p99 ms, errors $err, other CPU ${other}%" >&2
    rpss+=("$rps"); p50s+=("$p50"); p99s+=("$p99"); errs+=("$err")
  done
  RESULT[$name]="$(median "${rpss[@]}") $(median "${p50s[@]}") $(median "${p99s[@]}") $(median "${errs[@]}") $noisy"
}

start_kvstore() { # start_kvstore DIR [extra args...]: sets KV_URL and KV_PIDS
  local dir=$1; shift
  local base; base=$(free_range 4)
  KV_URL="http://127.0.0.1:$base"
  if [ $MODE = embedded ]; then
    java $JVM -jar target/kvstore.jar --port "$base" --data-dir "$dir" "$@" > "$dir.log" 2>&1 < /dev/null &
    KV_PIDS=($!)
  else
    mkdir -p "$dir"
    java $JVM -jar target/kvstore.jar leader "$base" 3 2 --data-dir "$dir/leader" "$@" > "$dir.leader.log" 2>&1 &
    KV_PIDS=($!)
    for i in 1 2 3; do
      java $JVM -jar target/kvstore.jar follower $((base + i)) "$base" --data-dir "$dir/f$i" "$@" > "$dir.f$i.log" 2>&1 &
      KV_PIDS+=($!)
    done
  fi
  PIDS+=("${KV_PIDS[@]}")
  wait_http "$KV_URL/api/health" 120
}

stop_pids() { for p in "$@"; do kill "$p" 2>/dev/null || true; done; for p in "$@"; do wait "$p" 2>/dev/null || true; done; }

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), $(. /etc/os-release; echo "$PRETTY_NAME"), $(java -version 2>&1 | head -1)"
echo "kvstore mode: $MODE; JVM flags: $JVM"

# 1. The ceilings: a trivial Vert.x server answering 200, and a Vert.x server relaying each
# request over one WebClient keep-alive hop to it (what a GET through our leader resembles).
CP=$(free_port); RP=$(free_port)
java -cp target/kvstore.jar bench/Ceiling.java "$CP" > "$WORK/ceiling.log" 2>&1 &
CEIL=$!; PIDS+=($CEIL)
wait_http "http://127.0.0.1:$CP/" 60
wrk -t2 -c64 -d5s -s bench/lua/ceiling.lua "http://127.0.0.1:$CP/" > /dev/null 2>&1 || true
echo "ceiling (trivial Vert.x server):" >&2
measure ceiling "http://127.0.0.1:$CP/" bench/lua/ceiling.lua get $CEIL
java -cp target/kvstore.jar bench/Relay.java "$RP" "$CP" > "$WORK/relay.log" 2>&1 &
RELAY=$!; PIDS+=($RELAY)
wait_http "http://127.0.0.1:$RP/" 60
wrk -t2 -c64 -d5s -s bench/lua/ceiling.lua "http://127.0.0.1:$RP/" > /dev/null 2>&1 || true
echo "relay ceiling (one WebClient hop):" >&2
measure relay "http://127.0.0.1:$RP/" bench/lua/ceiling.lua get $RELAY $CEIL
stop_pids $RELAY $CEIL

# 2. kvstore, group commit on (the default).
start_kvstore "$WORK/ours"
java bench/Load.java kvstore "$KV_URL" $KEYS >&2
echo "kvstore: warming up for ${WARMUP}s" >&2
MIX=mix wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/kvstore.lua "$KV_URL" > /dev/null 2>&1 || true
for mix in get put mix; do
  MIX=$mix wrk -t2 -c64 -d10s -s bench/lua/kvstore.lua "$KV_URL" > /dev/null 2>&1 || true # this mix's own warm-up
  echo "kvstore $mix:" >&2
  measure "ours-$mix" "$KV_URL" bench/lua/kvstore.lua $mix "${KV_PIDS[@]}"
done
stop_pids "${KV_PIDS[@]}"

# 3. kvstore with group commit off: one fsync per log record.
start_kvstore "$WORK/nogroup" --no-group-commit
MIX=put wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/kvstore.lua "$KV_URL" > /dev/null 2>&1 || true
echo "kvstore put, group commit off:" >&2
measure "nogroup-put" "$KV_URL" bench/lua/kvstore.lua put "${KV_PIDS[@]}"
stop_pids "${KV_PIDS[@]}"

# 4. etcd: 3 members on loopback with their defaults (fsync on), load sent to one member.
if [ $ETCD = 1 ]; then
  declare -a EC EP
  for i in 1 2 3; do EC[$i]=$(free_port); EP[$i]=$(free_port); done
  CLUSTER="e1=http://127.0.0.1:${EP[1]},e2=http://127.0.0.1:${EP[2]},e3=http://127.0.0.1:${EP[3]}"
  ETCD_PIDS=()
  for i in 1 2 3; do
    etcd --name "e$i" --data-dir "$WORK/etcd$i" \
      --listen-client-urls "http://127.0.0.1:${EC[$i]}" --advertise-client-urls "http://127.0.0.1:${EC[$i]}" \
      --listen-peer-urls "http://127.0.0.1:${EP[$i]}" --initial-advertise-peer-urls "http://127.0.0.1:${EP[$i]}" \
      --initial-cluster "$CLUSTER" --initial-cluster-token "bench-$$" --initial-cluster-state new \
      > "$WORK/etcd$i.log" 2>&1 &
    ETCD_PIDS+=($!)
  done
  PIDS+=("${ETCD_PIDS[@]}")
  EURL="http://127.0.0.1:${EC[1]}"
  wait_http "$EURL/health" 60
  java bench/Load.java etcd "$EURL" $KEYS >&2
  echo "etcd: warming up for ${WARMUP}s" >&2
  MIX=mix wrk -t2 -c64 -d"${WARMUP}s" -s bench/lua/etcd.lua "$EURL" > /dev/null 2>&1 || true
  for mix in get put mix; do
    MIX=$mix wrk -t2 -c64 -d10s -s bench/lua/etcd.lua "$EURL" > /dev/null 2>&1 || true # this mix's own warm-up
    echo "etcd $mix:" >&2
    measure "etcd-$mix" "$EURL" bench/lua/etcd.lua $mix "${ETCD_PIDS[@]}"
  done
  stop_pids "${ETCD_PIDS[@]}"
fi

# Report.
row() { # row LABEL NAME
  local v=${RESULT[$2]:-}
  [ -z "$v" ] && { printf '%-34s %s\n' "$1" "(not run)"; return; }
  read -r rps p50 p99 err noisy <<< "$v"
  printf '%-34s %9s %9s %9s %7s%s\n' "$1" "$rps" "$p50" "$p99" "$err" "$([ "$noisy" = 1 ] && echo '  (noisy)')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
rps_of() { echo "${RESULT[$1]:-0}" | awk '{print $1}'; }
echo
printf '%-34s %9s %9s %9s %7s\n' "medians of $RUNS x ${DURATION}s, 64 conns" "req/s" "p50 ms" "p99 ms" "errors"
row "kvstore GET" ours-get
row "kvstore PUT (durable, redundancy 2)" ours-put
row "kvstore 90% GET / 10% PUT" ours-mix
row "kvstore PUT, group commit off" nogroup-put
row "etcd 3.4 x3 GET (linearizable)" etcd-get
row "etcd 3.4 x3 PUT" etcd-put
row "etcd 3.4 x3 90% GET / 10% PUT" etcd-mix
row "ceiling: trivial Vert.x 200" ceiling
row "ceiling: Vert.x relay, one hop" relay
echo
echo "ours/etcd: GET $(ratio "$(rps_of ours-get)" "$(rps_of etcd-get)"), PUT $(ratio "$(rps_of ours-put)" "$(rps_of etcd-put)"), 90/10 $(ratio "$(rps_of ours-mix)" "$(rps_of etcd-mix)")"
echo "group commit on/off (PUT): $(ratio "$(rps_of ours-put)" "$(rps_of nogroup-put)")"
echo "GET as a share of the relay ceiling: $(ratio "$(rps_of ours-get)" "$(rps_of relay)"); of the trivial server: $(ratio "$(rps_of ours-get)" "$(rps_of ceiling)")"
