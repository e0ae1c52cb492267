#!/usr/bin/env bash
# A follower killed and restarted, with the leader and two followers as separate processes
# (the seed's lab by hand): java -jar target/kvstore.jar leader P 2 2, and two followers.
# It starts them itself on free ports (never 16200-16203, so an embedded default may keep
# running), kills one follower with kill -9, shows writes refused and reads still served,
# restarts it, and stops everything with SIGTERM (each must exit 0). Data goes to a temporary
# directory that is removed at the end.
#
#   KVSTORE_JAR  the jar (default: target/kvstore.jar next to this script's folder)
set -euo pipefail
. "$(dirname "$0")/lib.sh"

JAR=${KVSTORE_JAR:-$(cd "$(dirname "$0")/.." && pwd)/target/kvstore.jar}
[ -f "$JAR" ] || { echo "no $JAR: build it with mvn -B -q -DskipTests package"; exit 1; }
WORK=$(mktemp -d)
declare -A PIDS=()

cleanup() {
  local name
  for name in "${!PIDS[@]}"; do
    { kill -9 "${PIDS[$name]}" && wait "${PIDS[$name]}"; } 2>/dev/null || true
  done
  rm -rf "$WORK" "$DEMO_BODY"
}
trap cleanup EXIT

in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
free_port() {
  local p
  while true; do
    p=$((20000 + RANDOM % 12000))
    in_use "$p" || { echo "$p"; return; }
  done
}

# start NAME ARGS...: one java -jar process, its output in $WORK/NAME.out
start() {
  local name=$1
  shift
  printf '$ java -jar target/kvstore.jar %s &\n' "$*"
  (cd "$WORK" && exec java -jar "$JAR" "$@" >"$WORK/$name.out" 2>&1 </dev/null) &
  PIDS[$name]=$!
}

# stop NAME: SIGTERM, and the process must exit 0
stop() {
  local name=$1 pid=${PIDS[$1]} code=0
  printf '$ kill -TERM %s   # %s\n' "$pid" "$name"
  kill -TERM "$pid"
  wait "$pid" || code=$?
  unset "PIDS[$name]"
  [ "$code" = 0 ] || { printf 'FAILED: %s exited %s\n' "$name" "$code"; cat "$WORK/$name.out"; exit 1; }
  printf '%s exited 0\n' "$name"
}

lp=$(free_port); f1=$(free_port); f2=$(free_port)
while [ "$f1" = "$lp" ]; do f1=$(free_port); done
while [ "$f2" = "$lp" ] || [ "$f2" = "$f1" ]; do f2=$(free_port); done
LEADER=http://127.0.0.1:$lp

say "A leader for 2 followers with redundancy 2: every key lives on both followers"
start leader leader "$lp" 2 2
wait_for "the leader to listen" 60 curl -sf "$LEADER/api/status"
call 503 "not ready" GET "$LEADER/api/health"
call 500 "error: follower_capacity not yet full" GET "$LEADER/" key=k1

say "Two followers register with it"
start follower1 follower "$f1" "$lp"
start follower2 follower "$f2" "$lp"
wait_for "the leader to be ready" 60 curl -sf "$LEADER/api/health"
call 200 ok GET "$LEADER/api/health"
for i in 1 2 3; do call 201 "value $i" PUT "$LEADER/" "key=k$i" "val=value $i"; done

say "kill -9 follower 2: within a few seconds the leader sees it down"
printf '$ kill -9 %s   # follower2\n' "${PIDS[follower2]}"
kill -9 "${PIDS[follower2]}"
wait "${PIDS[follower2]}" 2>/dev/null || true
unset "PIDS[follower2]"
follower2_down() { curl -sS "$LEADER/api/status" | grep -q "\"port\":$f2,\"up\":false"; }
wait_for "the leader to mark follower 2 down" 30 follower2_down
call 200 "~\"port\":$f2,\"up\":false" GET "$LEADER/api/status"

say "Writes need every replica, so they are refused (2PC aborts); reads use the live replica"
call 500 "error: unable to process request" PUT "$LEADER/" key=k1 val=changed
call 200 "value 1" GET "$LEADER/" key=k1
expect_metric "$LEADER" 'kvstore_requests_total{status="500",type="put"}' 1.0
expect_metric "$LEADER" kvstore_followers_up 1.0

say "Restart follower 2 on the same data directory: it replays its log and registers again"
start follower2 follower "$f2" "$lp"
write_works() { [ "$(curl -sS -G -o /dev/null -w '%{http_code}' -X PUT --data-urlencode key=k1 --data-urlencode 'val=value 1b' "$LEADER/")" = 201 ]; }
wait_for "writes to work again" 60 write_works
call 201 "value 2b" PUT "$LEADER/" key=k2 val="value 2b"
call 200 "value 1b" GET "$LEADER/" key=k1
call 200 "value 2b" GET "$LEADER/" key=k2
call 200 "value 3" GET "http://127.0.0.1:$f2/" key=k3

say "Stop everything with SIGTERM"
stop follower1
stop follower2
stop leader

printf '\nkill-restart: every answer was the expected one\n'
