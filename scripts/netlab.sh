#!/usr/bin/env bash
# netlab.sh: the kvstore lab (conf/lab-*.json) on one Linux machine, without virtual machines
# (SPEC.md section 12; the handout is docs/lab.md). Each node runs the real jar in a network
# namespace of its own with the lab's address; a `client` namespace plays the lab host; the
# bridge that joins them lives in a namespace of its own, joined by veth pairs. Nothing is added
# to the machine's own namespace (no interface, address, route or rule), so no packet of the lab
# can leave the machine, and the machine itself cannot reach the lab except through `exec`.
# Faults are silent nftables drops inside the nodes' namespaces: a timeout, never a refusal.
#
# Run as root. Usage: scripts/netlab.sh help
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STATE=${NETLAB_DIR:-/tmp/kvstore-netlab}
PREFIX=${NETLAB_PREFIX:-kvlab-}
JAR=${NETLAB_JAR:-$ROOT/target/kvstore.jar}
CONF=${NETLAB_CONF:-$ROOT/conf}
JAVA_OPTS=${NETLAB_JAVA_OPTS:--Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1}
READY_TIMEOUT=${NETLAB_READY_TIMEOUT:-180}
CLUSTER_PORT=5701
MARK=.kvstore-netlab    # marks a state directory as ours: nothing else is ever removed
TABLE=kvlab             # our nftables table in each node's namespace

usage() {
  cat <<EOF
usage: scripts/netlab.sh COMMAND [ARGS]   (as root; the lab of conf/lab-*.json in namespaces)

  up [N]                 a leader and N followers (default 3), each in its own namespace with its
                         lab address (leader $LEADER_ADDR, followers .11, .12, ...), plus a client
                         namespace ($CLIENT_ADDR, where the lab host would be); waits until the
                         leader is ready (/api/health), at most NETLAB_READY_TIMEOUT s
  up --cluster [N]       the same in clustered mode (SPEC.md section 7): leader, a standby leader
                         'leader2' on the next free address, N followers, Hazelcast on port
                         $CLUSTER_PORT of the lab addresses; followers find the leaders through
                         the cluster (their conf without "leader")
  cut A B                drop every packet between A and B, both ways, silently
  uncut A B              remove that cut
  isolate A [--except B,C]
                         cut A from every other node, the client included (unless excepted:
                         'isolate leader --except client' leaves the clients their leader)
  partition A,B C,D      cut every node of one side from every node of the other (nodes in
                         neither side keep every link)
  heal                   remove every cut
  exec NODE CMD...       run CMD inside NODE's namespace, e.g.
                         scripts/netlab.sh exec client curl -s http://$LEADER_ADDR:16200/api/status
  stop NODE [--kill]     stop a node's process (SIGTERM, or SIGKILL with --kill)
  start NODE             start a stopped node again, on the same data directory
  logs NODE              print a node's output (stdout and stderr)
  status                 namespaces, addresses, cuts, processes (pid, alive)
  down                   stop every process this script started and remove every namespace it
                         created (also what a failed 'up' left)
  help                   this text

Nodes: leader, leader2 (with --cluster), f1 .. fN, client. Namespaces are named
${PREFIX}NODE (and ${PREFIX}br for the bridge); what was created is recorded in the state
directory, and nothing else is ever touched.

Environment:
  NETLAB_DIR            state directory: records, node logs, data (default /tmp/kvstore-netlab)
  NETLAB_PREFIX         namespace name prefix (default kvlab-)
  NETLAB_JAR            the jar (default target/kvstore.jar, built if missing)
  NETLAB_JAVA_OPTS      JVM options for the nodes (default: $JAVA_OPTS)
  NETLAB_READY_TIMEOUT  seconds 'up' waits for the cluster to be ready (default 180)
EOF
}

die() { echo "netlab: $*" >&2; exit 1; }
log() { echo "netlab: $*" >&2; }

# --- Addresses, from the lab's conf files ---

conf_str() { sed -n "s/.*\"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -1; }
conf_num() { sed -n "s/.*\"$2\": *\([0-9][0-9]*\).*/\1/p" "$1" | head -1; }

LEADER_CONF=$CONF/lab-leader.json
[ -f "$LEADER_CONF" ] || die "no $LEADER_CONF"
LEADER_ADDR=$(conf_str "$LEADER_CONF" advertise)
LEADER_PORT=$(conf_num "$LEADER_CONF" port)
SECRET=$(conf_str "$LEADER_CONF" secret)
NET=${LEADER_ADDR%.*}
CLIENT_ADDR=$NET.1      # VirtualBox's host address on the host-only network: where curl runs in the Vagrant lab

# follower_conf I: conf/lab-follower-I.json, or follower 1's for the followers beyond the lab's files
follower_conf() { if [ -f "$CONF/lab-follower-$1.json" ]; then echo "$CONF/lab-follower-$1.json"; else echo "$CONF/lab-follower-1.json"; fi; }

# follower_addr I: its conf's address, or the next after the last follower that has a conf file
follower_addr() {
  local i=$1 f=$CONF/lab-follower-$1.json
  if [ -f "$f" ]; then conf_str "$f" advertise; return; fi
  local last=1
  while [ -f "$CONF/lab-follower-$((last + 1)).json" ]; do last=$((last + 1)); done
  local a
  a=$(conf_str "$CONF/lab-follower-$last.json" advertise)
  echo "${a%.*}.$(( ${a##*.} + i - last ))"
}

# --- The state directory: what this script created ---

NODES_FILE=$STATE/nodes          # name ns addr role port (one line per node, client included)
NS_FILE=$STATE/namespaces        # every namespace created, in order
PIDS_FILE=$STATE/pids            # name pid starttime (processes started, newest last)
CUTS_FILE=$STATE/cuts            # A B (one line per cut, A < B)
MODE_FILE=$STATE/mode            # plain or cluster

need_root() { [ "$(id -u)" = 0 ] || die "run as root (network namespaces need it)"; }
need_tools() {
  command -v ip >/dev/null || die "ip (iproute2) not found: apt-get install iproute2"
  command -v nft >/dev/null || die "nft not found: apt-get install --no-install-recommends nftables"
}

init_state() {
  if [ -d "$STATE" ] && [ ! -e "$STATE/$MARK" ] && [ -n "$(ls -A "$STATE")" ]; then
    die "$STATE exists, is not empty and is not a netlab state directory; set NETLAB_DIR"
  fi
  mkdir -p "$STATE"
  touch "$STATE/$MARK"
}

is_up() { [ -s "$NS_FILE" ] || [ -s "$PIDS_FILE" ]; }

node_field() { # node_field NAME COLUMN
  [ -f "$NODES_FILE" ] || die "the lab is not up (no $NODES_FILE)"
  awk -v n="$1" -v c="$2" '$1 == n { print $c }' "$NODES_FILE"
}
node_ns() { local ns; ns=$(node_field "$1" 2); [ -n "$ns" ] || die "no node '$1' (nodes: $(node_names | tr '\n' ' '))"; echo "$ns"; }
node_addr() { node_field "$1" 3; }
node_names() { awk '{ print $1 }' "$NODES_FILE"; }
server_names() { awk '$4 != "client" { print $1 }' "$NODES_FILE"; }

ns_exists() { ip netns list | awk '{ print $1 }' | grep -qx "$1"; }
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# start time of a pid (field 22 of /proc/PID/stat), so that a reused pid is never signalled
starttime() { awk '{ sub(/^.*\) /, ""); print $20 }' "/proc/$1/stat" 2>/dev/null || true; }
ours_alive() { [ -n "$2" ] && [ "$(starttime "$1")" = "$2" ]; } # ours_alive PID STARTTIME

# --- Namespaces and the bridge ---

add_ns() {
  local ns=$1
  ns_exists "$ns" && die "namespace $ns exists already and is not ours (another lab? 'ip netns list'); set NETLAB_PREFIX"
  ip netns add "$ns"
  echo "$ns" >>"$NS_FILE"
  in_ns "$ns" ip link set lo up
  # No IPv6 chatter (router solicitations, DAD) on the lab's links.
  in_ns "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1 >/dev/null 2>&1 || true
}

# add_node NAME ADDR ROLE PORT: its namespace, a veth pair made inside the bridge's namespace
# (one end moved straight into the node's: neither end ever exists in the root namespace), its
# address, and an empty nftables table for the cuts.
add_node() {
  local name=$1 addr=$2 role=$3 port=$4 ns=$PREFIX$1 br=${PREFIX}br
  add_ns "$ns"
  ip -n "$br" link add "vb-$name" type veth peer name eth0 netns "$ns"
  ip -n "$br" link set "vb-$name" master br0 up
  ip -n "$ns" addr add "$addr/24" dev eth0
  ip -n "$ns" link set eth0 up
  in_ns "$ns" nft -f - <<EOF
table inet $TABLE {
  chain in { type filter hook input priority 0; policy accept; }
  chain out { type filter hook output priority 0; policy accept; }
}
EOF
  echo "$name $ns $addr $role $port" >>"$NODES_FILE"
}

# --- Processes ---

# start_node NAME: the jar in the node's namespace, output in STATE/run/NAME/out and err
start_node() {
  local name=$1 ns role addr port conf dir args=()
  ns=$(node_ns "$name"); addr=$(node_addr "$name"); role=$(node_field "$name" 4); port=$(node_field "$name" 5)
  dir=$STATE/run/$name
  mkdir -p "$dir/data"
  case "$name" in
    leader|leader2) conf=$LEADER_CONF; args=(--followers "$(followers_count)") ;;
    f*) conf=$(follower_conf "${name#f}") ;;
  esac
  if [ "$(cat "$MODE_FILE")" = cluster ]; then
    if [ "$role" = follower ]; then # the lab's conf without "leader": found through the cluster
      mkdir -p "$STATE/conf"
      sed '/^ *"leader": *"/d' "$conf" >"$STATE/conf/$name.json"
      conf=$STATE/conf/$name.json
    fi
    args+=(--cluster --cluster-port "$CLUSTER_PORT" --cluster-members "$(cat "$STATE/members")")
  fi
  # shellcheck disable=SC2086 # JAVA_OPTS is a list of options
  (cd "$dir" && exec ip netns exec "$ns" java $JAVA_OPTS -jar "$JAR" "$role" --conf "$conf" \
    --advertise "$addr" --port "$port" --data-dir "$dir/data" "${args[@]}" >"$dir/out" 2>"$dir/err" </dev/null) &
  local pid=$!
  local st=""
  for _ in 1 2 3 4 5 6 7 8 9 10; do st=$(starttime "$pid"); [ -n "$st" ] && break; sleep 0.05; done
  echo "$name $pid $st" >>"$PIDS_FILE"
}

followers_count() { awk '$4 == "follower"' "$NODES_FILE" | wc -l; }

# The newest record of a node's process: "pid starttime", or nothing.
node_pid() { awk -v n="$1" '$1 == n { p = $2 " " $3 } END { if (p) print p }' "$PIDS_FILE" 2>/dev/null; }

# stop_pids SIGNAL GRACE "name pid st"...: signal each live one, wait up to GRACE s, then SIGKILL
stop_pids() {
  local sig=$1 grace=$2; shift 2
  local entry name pid st live=()
  for entry in "$@"; do
    read -r name pid st <<<"$entry"
    if ours_alive "$pid" "$st"; then kill "-$sig" "$pid" 2>/dev/null || true; live+=("$entry"); fi
  done
  local deadline=$((SECONDS + grace))
  while [ ${#live[@]} -gt 0 ]; do
    local still=()
    for entry in "${live[@]}"; do read -r name pid st <<<"$entry"; ours_alive "$pid" "$st" && still+=("$entry"); done
    live=("${still[@]+"${still[@]}"}")
    [ ${#live[@]} -eq 0 ] && break
    if [ $SECONDS -ge $deadline ]; then
      for entry in "${live[@]}"; do
        read -r name pid st <<<"$entry"
        log "$name (pid $pid) still running after ${grace}s: SIGKILL"
        ours_alive "$pid" "$st" && kill -KILL "$pid" 2>/dev/null || true
      done
      deadline=$((SECONDS + 10)); grace=10
    fi
    sleep 0.1
  done
}

# --- Cuts: nftables rules in each node's namespace, rebuilt from the cuts file ---

apply_rules() { # apply_rules NODE: its chains hold exactly a drop per peer it is cut from
  local name=$1 ns peer script
  ns=$(node_ns "$name")
  script="flush chain inet $TABLE in
flush chain inet $TABLE out"
  for peer in $(awk -v n="$name" '$1 == n { print $2 } $2 == n { print $1 }' "$CUTS_FILE" 2>/dev/null); do
    local a; a=$(node_addr "$peer")
    script="$script
add rule inet $TABLE in ip saddr $a drop comment \"cut $peer\"
add rule inet $TABLE out ip daddr $a drop comment \"cut $peer\""
  done
  in_ns "$ns" nft -f - <<<"$script"
}

apply_all() { # apply_all NODE...: the rules of several nodes at once (a heal lands everywhere within a few ms)
  local name pids=() failed=0
  for name in "$@"; do apply_rules "$name" & pids+=($!); done
  for name in "${pids[@]}"; do wait "$name" || failed=1; done
  [ $failed = 0 ] || die "applying the rules failed"
}

add_cut() { # add_cut A B (idempotent)
  local a=$1 b=$2
  [ "$a" != "$b" ] || die "cannot cut $a from itself"
  node_ns "$a" >/dev/null; node_ns "$b" >/dev/null
  [ "$a" \< "$b" ] || { local t=$a; a=$b; b=$t; }
  touch "$CUTS_FILE"
  grep -qx "$a $b" "$CUTS_FILE" || echo "$a $b" >>"$CUTS_FILE"
}

# --- Commands ---

cmd_up() {
  local cluster=0 n=3
  while [ $# -gt 0 ]; do
    case "$1" in
      --cluster) cluster=1 ;;
      [0-9]*) n=$1 ;;
      *) usage >&2; exit 2 ;;
    esac
    shift
  done
  [ "$n" -ge 1 ] && [ "$n" -le 40 ] || die "N must be 1 to 40"
  need_root; need_tools
  init_state
  is_up && die "a lab is up already (scripts/netlab.sh status; 'down' first)"
  if [ ! -f "$JAR" ]; then
    log "building $JAR"
    (cd "$ROOT" && { mvn -B -q -o -DskipTests package || mvn -B -q -DskipTests package; }) >&2
  fi
  rm -rf "$STATE/run" "$STATE/conf"
  : >"$NODES_FILE"; : >"$NS_FILE"; : >"$PIDS_FILE"; : >"$CUTS_FILE"
  if [ $cluster = 1 ]; then echo cluster >"$MODE_FILE"; else echo plain >"$MODE_FILE"; fi
  # From here on, a failure (or Ctrl-C) takes down whatever was made.
  trap 'code=$?; log "up failed; cleaning up"; cmd_down >&2 || true; exit $code' EXIT
  trap 'exit 130' INT TERM

  add_ns "${PREFIX}br"
  ip -n "${PREFIX}br" link add br0 type bridge
  ip -n "${PREFIX}br" link set br0 up
  local fport; fport=$(conf_num "$(follower_conf 1)" port)
  add_node client "$CLIENT_ADDR" client 0
  add_node leader "$LEADER_ADDR" leader "$LEADER_PORT"
  local i members="$LEADER_ADDR:$CLUSTER_PORT"
  for i in $(seq 1 "$n"); do
    add_node "f$i" "$(follower_addr "$i")" follower "$fport"
    members="$members,$(follower_addr "$i"):$CLUSTER_PORT"
  done
  if [ $cluster = 1 ]; then
    local a2; a2=$(follower_addr $((n + 1)))
    add_node leader2 "$a2" leader "$LEADER_PORT"
    members="$members,$a2:$CLUSTER_PORT"
    echo "$members" >"$STATE/members"
  fi

  # The first leader up takes office: start it alone and wait, then the standby, then the followers.
  # In clustered mode each node joins Hazelcast before the next starts (joins that overlap on a
  # busy 2-core machine were seen to stall until Hazelcast gave up after 120 s).
  start_node leader
  if [ $cluster = 1 ]; then
    wait_for "the leader in office" in_office leader
    start_node leader2
    wait_for "leader2 in the cluster" listening leader2
  fi
  for i in $(seq 1 "$n"); do
    start_node "f$i"
    if [ $cluster = 1 ]; then wait_for "f$i in the cluster" listening "f$i"; fi
  done
  wait_for "the leader ready (/api/health 200)" healthy leader
  if [ $cluster = 1 ]; then wait_for "leader2 standing by, knowing all $n followers" standing_by leader2 "$n"; fi
  trap - EXIT INT TERM
  cmd_status
  echo
  echo "ready: scripts/netlab.sh exec client curl -s http://$LEADER_ADDR:$LEADER_PORT/api/status"
}

# wait_for WHAT CHECK ARGS...: polls CHECK until it succeeds; fails if a node died or on timeout
wait_for() {
  local what=$1; shift
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@"; do
    local name pid st
    while read -r name pid st; do
      ours_alive "$pid" "$st" || { tail -n 20 "$STATE/run/$name/out" "$STATE/run/$name/err" >&2 || true; die "$name (pid $pid) exited while waiting for $what"; }
    done <"$PIDS_FILE"
    [ $SECONDS -lt $deadline ] || die "timed out after ${READY_TIMEOUT}s waiting for $what"
    sleep 0.5
  done
  log "$what"
}

listening() { grep -q 'listening on' "$STATE/run/$1/out" 2>/dev/null; }
client_curl() { in_ns "${PREFIX}client" curl -s --max-time 2 "$@"; }
healthy() { [ "$(client_curl -o /dev/null -w '%{http_code}' "http://$(node_addr "$1"):$LEADER_PORT/api/health")" = 200 ]; }
in_office() { client_curl "http://$(node_addr "$1"):$LEADER_PORT/api/status" | grep -q '"standby" *: *false'; }
standing_by() {
  local s; s=$(client_curl "http://$(node_addr "$1"):$LEADER_PORT/api/status") || return 1
  grep -q '"standby" *: *true' <<<"$s" && grep -q "\"registered\" *: *$2[,}]" <<<"$s"
}

cmd_cut() {
  [ $# = 2 ] || { usage >&2; exit 2; }
  need_root
  add_cut "$1" "$2"
  apply_all "$1" "$2"
  log "cut $1 | $2"
}

cmd_uncut() {
  [ $# = 2 ] || { usage >&2; exit 2; }
  need_root
  local a=$1 b=$2
  [ "$a" \< "$b" ] || { local t=$a; a=$b; b=$t; }
  touch "$CUTS_FILE"
  grep -vx "$a $b" "$CUTS_FILE" >"$CUTS_FILE.new" || true
  mv "$CUTS_FILE.new" "$CUTS_FILE"
  apply_all "$a" "$b"
  log "uncut $1 | $2"
}

cmd_isolate() {
  [ $# -ge 1 ] || { usage >&2; exit 2; }
  need_root
  local a=$1 except=""
  shift
  node_ns "$a" >/dev/null
  if [ $# -gt 0 ]; then
    [ "$1" = --except ] && [ $# = 2 ] || { usage >&2; exit 2; }
    except=",$2,"
  fi
  local peer cut=()
  for peer in $(node_names); do
    [ "$peer" = "$a" ] && continue
    [[ "$except" == *",$peer,"* ]] && continue
    add_cut "$a" "$peer"; cut+=("$peer")
  done
  apply_all "$a" "${cut[@]}"
  log "isolated $a from: ${cut[*]}"
}

cmd_partition() { # partition A,B C,D: every node of one side cut from every node of the other
  [ $# = 2 ] || { usage >&2; exit 2; }
  need_root
  local a b touched=()
  for a in ${1//,/ }; do
    for b in ${2//,/ }; do add_cut "$a" "$b"; done
    touched+=("$a")
  done
  for b in ${2//,/ }; do touched+=("$b"); done
  apply_all "${touched[@]}"
  log "partitioned $1 | $2"
}

cmd_heal() {
  need_root
  : >"$CUTS_FILE"
  # shellcheck disable=SC2046 # node names are single words
  apply_all $(node_names)
  log "healed: no cuts"
}

cmd_exec() {
  [ $# -ge 2 ] || { usage >&2; exit 2; }
  need_root
  local ns; ns=$(node_ns "$1"); shift
  exec ip netns exec "$ns" "$@"
}

cmd_stop() {
  [ $# -ge 1 ] || { usage >&2; exit 2; }
  need_root
  local name=$1 sig=TERM
  [ "${2:-}" = --kill ] && sig=KILL
  node_ns "$name" >/dev/null
  local p; p=$(node_pid "$name")
  [ -n "$p" ] && ours_alive $p || die "$name is not running"
  stop_pids "$sig" 40 "$name $p"
  log "stopped $name (SIG$sig)"
}

cmd_start() {
  [ $# = 1 ] || { usage >&2; exit 2; }
  need_root
  local name=$1
  [ "$(node_field "$name" 4)" != client ] || die "the client runs no node"
  node_ns "$name" >/dev/null
  local p; p=$(node_pid "$name")
  if [ -n "$p" ] && ours_alive $p; then die "$name is running"; fi
  start_node "$name"
  log "started $name (pid $(node_pid "$name" | cut -d' ' -f1)); its output: scripts/netlab.sh logs $name"
}

cmd_logs() {
  [ $# = 1 ] || { usage >&2; exit 2; }
  local f=$STATE/run/$1
  [ -d "$f" ] || die "no output for '$1' in $STATE/run"
  cat "$f/out"; cat "$f/err" >&2
}

cmd_status() {
  if [ ! -s "$NS_FILE" ] && [ ! -s "$PIDS_FILE" ]; then echo "netlab: down (state: $STATE)"; return 0; fi
  echo "netlab: $(cat "$MODE_FILE" 2>/dev/null || echo '?') lab, state in $STATE"
  echo "namespaces:"
  local ns
  while read -r ns; do
    if ns_exists "$ns"; then echo "  $ns"; else echo "  $ns (gone)"; fi
  done <"$NS_FILE"
  printf '%-8s %-16s %-20s %-9s %-8s %s\n' NODE NAMESPACE ADDRESS ROLE PID STATE
  local name addr role port pid st
  while read -r name ns addr role port; do
    local p; p=$(node_pid "$name")
    pid=-; st=-
    if [ -n "$p" ]; then
      pid=${p%% *}
      if ours_alive $p; then st=alive; else st=exited; fi
    fi
    local shown=$addr:$port
    [ "$role" = client ] && shown=$addr
    printf '%-8s %-16s %-20s %-9s %-8s %s\n' "$name" "$ns" "$shown" "$role" "$pid" "$st"
  done <"$NODES_FILE"
  if [ -s "$CUTS_FILE" ]; then
    echo "cuts (silent drops, both ways):"
    sed 's/^/  /; s/ \([^ ]*\)$/ | \1/' "$CUTS_FILE"
  else
    echo "cuts: none"
  fi
  [ -n "$SECRET" ] && echo "secret (X-KV-Secret, for followers): $SECRET"
  echo "logs: $STATE/run/NODE/{out,err}"
}

cmd_down() {
  need_root
  [ -d "$STATE" ] || { echo "netlab: nothing to take down ($STATE does not exist)"; return 0; }
  local entries=() line
  if [ -f "$PIDS_FILE" ]; then while read -r line; do [ -n "$line" ] && entries+=("$line"); done <"$PIDS_FILE"; fi
  [ ${#entries[@]} -gt 0 ] && stop_pids TERM 30 "${entries[@]}"
  : >"$PIDS_FILE"
  if [ -f "$NS_FILE" ]; then
    local nss=() ns
    while read -r ns; do [ -n "$ns" ] && nss=("$ns" "${nss[@]+"${nss[@]}"}"); done <"$NS_FILE"
    for ns in "${nss[@]+"${nss[@]}"}"; do
      ns_exists "$ns" || continue
      # Anything still inside a namespace of ours (an 'exec' left running) would keep it alive cut off.
      local left; left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
      if [ -n "${left// /}" ]; then
        log "processes left in $ns: $left- stopping them"
        local p others=()
        for p in $left; do others+=("left $p $(starttime "$p")"); done
        stop_pids TERM 10 "${others[@]}"
      fi
      ip netns del "$ns"
    done
  fi
  : >"$NS_FILE"; : >"$CUTS_FILE"
  echo "netlab: down (node logs kept in $STATE/run)"
}

case "${1:-help}" in
  up) shift; cmd_up "$@" ;;
  cut) shift; cmd_cut "$@" ;;
  uncut) shift; cmd_uncut "$@" ;;
  isolate) shift; cmd_isolate "$@" ;;
  partition) shift; cmd_partition "$@" ;;
  heal) shift; cmd_heal ;;
  exec) shift; cmd_exec "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  start) shift; cmd_start "$@" ;;
  logs) shift; cmd_logs "$@" ;;
  status) cmd_status ;;
  down) cmd_down ;;
  help|-h|--help) usage ;;
  *) usage >&2; exit 2 ;;
esac
