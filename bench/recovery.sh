#!/usr/bin/env bash
# Recovery and memory benchmark (README, "Benchmarks"):
#  1. A follower with 1,000,000 keys of 100-byte values (a snapshot and a short log tail, the
#     state compaction leaves): time from start until it serves a read again, and its heap
#     after a full GC.
#  2. A follower with 10,000,000 log records of history on 100,000 keys (no snapshot): the
#     first restart replays the whole history, then compacts it; the second restart reads the
#     snapshot only, so restart time follows the data size, not the history length.
# Data directories are written directly with the log codec (bench/GenData.java).
#   bench/recovery.sh [--keys 1000000] [--records 10000000]
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
trap 'cleanup; rm -rf "${WORK:-/nonexistent}"' EXIT
KEYS=1000000 RECORDS=10000000
while [ $# -gt 0 ]; do
  case "$1" in --keys) KEYS=$2; shift ;; --records) RECORDS=$2; shift ;; *) echo "unknown option $1" >&2; exit 2 ;; esac
  shift
done
need_pkg curl curl
[ -f target/kvstore.jar ] || mvn -B -q -DskipTests package
WORK=$(mktemp -d /tmp/kvrecovery.XXXXXX)
JVM="-Xmx1g -XX:+UseG1GC"

now_ms() { date +%s%3N; }

# serve DIR KEY: starts a follower on DIR (no leader needed to read); sets FPID, and MS to the
# milliseconds until KEY reads back
serve() {
  local dir=$1 key=$2 port t0 t1
  port=$(free_port)
  t0=$(now_ms)
  java $JVM -jar target/kvstore.jar follower "$port" "$(free_port)" --data-dir "$dir" > "$dir.log" 2>&1 &
  FPID=$!; PIDS+=($FPID)
  until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/?key=$key" 2>/dev/null)" = 200 ]; do
    kill -0 $FPID 2>/dev/null || { echo "the follower died:"; cat "$dir.log"; exit 1; }
    sleep 0.02
  done
  t1=$(now_ms)
  MS=$((t1 - t0))
}

heap_after_gc_mb() { # full GC, then used heap in MB
  jcmd "$1" GC.run > /dev/null
  jcmd "$1" GC.heap_info | awk '/used/ { for (i=1;i<=NF;i++) if ($i=="used") { v=$(i+1); sub(/K,?$/,"",v); printf "%d", v/1024; exit } }'
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'), JVM flags: $JVM"

java -cp target/kvstore.jar bench/GenData.java snapshot "$WORK/big" "$KEYS" 100 50000
echo "data directory: $(du -sh "$WORK/big" | cut -f1)"
serve "$WORK/big" "k$((KEYS - 1))"
echo "$KEYS keys: serving again $MS ms after start (target: under 5000 ms)"
grep -E "recovered" "$WORK/big.log" | sed 's/^/  log: /'
echo "$KEYS keys: heap after a full GC: $(heap_after_gc_mb $FPID) MB (target: under 1024 MB); RSS $(( $(awk '/VmRSS/ {print $2}' /proc/$FPID/status) / 1024 )) MB"
kill $FPID; wait $FPID 2>/dev/null || true

java -cp target/kvstore.jar bench/GenData.java history "$WORK/hist" "$RECORDS" 100000 100
echo "history directory: $(du -sh "$WORK/hist" | cut -f1), $(ls "$WORK/hist" | wc -l) files"
serve "$WORK/hist" "k99999"
echo "$RECORDS records of history: first restart serves after $MS ms (replays everything)"
grep -E "recovered|replayed so far" "$WORK/hist.log" | sed 's/^/  log: /'
until grep -q "compacted" "$WORK/hist.log"; do kill -0 $FPID || exit 1; sleep 0.2; done
grep -E "compacted" "$WORK/hist.log" | sed 's/^/  log: /'
echo "after compaction: $(du -sh "$WORK/hist" | cut -f1), $(ls "$WORK/hist" | wc -l) files"
kill $FPID; wait $FPID 2>/dev/null || true
serve "$WORK/hist" "k99999"
echo "$RECORDS records of history: second restart serves after $MS ms (snapshot of 100,000 keys)"
grep -E "recovered" "$WORK/hist.log" | tail -1 | sed 's/^/  log: /'
kill $FPID; wait $FPID 2>/dev/null || true
