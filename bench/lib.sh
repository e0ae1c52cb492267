# Shared helpers for the benchmark scripts (sourced, not run).

PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
}

need_pkg() { # need_pkg COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 ..." >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get -o DPkg::Lock::Timeout=600 update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$2" >/dev/null
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

free_port() { # a free port in 20000-49999 that no earlier call returned
  local p
  while true; do
    p=$(( 20000 + RANDOM % 30000 ))
    case " ${USED_PORTS:-} " in *" $p "*) continue ;; esac
    port_free "$p" && { USED_PORTS="${USED_PORTS:-} $p"; echo "$p"; return; }
  done
}

free_range() { # N consecutive free ports; prints the first
  local n=$1 p ok k
  while true; do
    p=$(( 20000 + RANDOM % 30000 )); ok=1
    for ((k = 0; k < n; k++)); do port_free $((p + k)) || { ok=0; break; }; done
    [ $ok = 1 ] && { for ((k = 0; k < n; k++)); do USED_PORTS="${USED_PORTS:-} $((p + k))"; done; echo "$p"; return; }
  done
}

wait_http() { # wait_http URL SECONDS: until it answers 200
  local url=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2; return 1
}

wait_listening() { # wait_listening URL SECONDS: until it answers anything at all
  local url=$1 secs=$2 i
  for ((i = 0; i < secs * 10; i++)); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url" 2>/dev/null)" != 000 ] && return 0
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2; return 1
}

# CPU accounting, to drop runs disturbed by other processes.
# Prints "total notprocess": all ticks, and ticks no process is charged for (idle, iowait, irq,
# softirq, steal; loopback networking runs in softirq).
cpu_total_idle() { awk '/^cpu / {t=0; for (i=2;i<=9;i++) t+=$i; print t, $5+$6+$7+$8+$9}' /proc/stat; }
proc_ticks() { local s=0 p; for p in "$@"; do [ -r /proc/$p/stat ] && s=$((s + $(awk '{print $14+$15+$16+$17}' /proc/$p/stat))); done; echo $s; }
descendants() { local p=$1; echo "$p"; for c in $(pgrep -P "$p" 2>/dev/null); do descendants "$c"; done; }

to_ms() { # 1.23ms / 456.00us / 1.2s -> milliseconds
  awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); printf "%.2f", v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); printf "%.2f", v } else if (v ~ /s$/) { sub(/s$/,"",v); printf "%.2f", v*1000 } else printf "%s", v }'
}

# wrk_run URL SCRIPT DURATION MIX [server pids...] -> "rps p50ms p99ms errors otherCpu%"
wrk_run() {
  local url=$1 script=$2 dur=$3 mix=$4; shift 4
  local out; out=$(mktemp)
  # The kernel's softirq threads carry our loopback traffic: count them as ours.
  set -- "$@" $(pgrep ksoftirqd)
  read -r t0 i0 < <(cpu_total_idle)
  local s0; s0=$(proc_ticks "$@")
  local c0; c0=$(children_ticks)
  MIX=$mix wrk -t2 -c64 -d"${dur}s" --latency -s "$script" "$url" > "$out" 2>&1 || true
  read -r t1 i1 < <(cpu_total_idle)
  local s1; s1=$(proc_ticks "$@")
  local c1; c1=$(children_ticks)
  local rps p50 p99 non2xx sockerr busy ours other
  rps=$(awk '/Requests\/sec/ {printf "%d", $2}' "$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$out")")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$out"); non2xx=${non2xx:-0}
  sockerr=$(awk '/Socket errors/ {gsub(",",""); print $4+$6+$8+$10}' "$out"); sockerr=${sockerr:-0}
  busy=$(( (t1 - t0) - (i1 - i0) ))
  # "other": busy CPU that neither the servers nor wrk (a child of this shell) account for.
  ours=$(( s1 - s0 + c1 - c0 ))
  other=$(awk -v b="$busy" -v o="$ours" -v t="$((t1 - t0))" 'BEGIN { w = b - o; printf "%d", (t > 0 ? 100 * (w > 0 ? w : 0) / t : 0) }')
  rm -f "$out"
  echo "${rps:-0} ${p50:-0} ${p99:-0} $((non2xx + sockerr)) $other"
}

# CPU ticks used so far by this shell's finished children (wrk), from the "times" builtin.
children_ticks() {
  local hz; hz=$(getconf CLK_TCK)
  times | tail -1 | awk -v hz="$hz" '{ split($1, u, /[ms]/); split($2, s, /[ms]/); printf "%d", (u[1]*60 + u[2] + s[1]*60 + s[2]) * hz }'
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# counted_run OUT PIDS -- COMMAND...: runs COMMAND (a child of this shell, e.g. a load generator)
# with its output in OUT, and sets OTHER to the share of the CPU (%) that neither PIDS (the
# servers, and the kernel's softirq threads) nor COMMAND used meanwhile: other processes' load.
counted_run() {
  local out=$1; shift
  local pids=()
  while [ "$1" != "--" ]; do pids+=("$1"); shift; done
  shift
  pids+=($(pgrep ksoftirqd))
  local t0 i0 t1 i1 s0 s1 c0 c1
  read -r t0 i0 < <(cpu_total_idle); s0=$(proc_ticks "${pids[@]}"); c0=$(children_ticks)
  "$@" > "$out" 2>&1 || true
  read -r t1 i1 < <(cpu_total_idle); s1=$(proc_ticks "${pids[@]}"); c1=$(children_ticks)
  OTHER=$(awk -v b="$(( (t1 - t0) - (i1 - i0) ))" -v o="$(( s1 - s0 + c1 - c0 ))" -v t="$((t1 - t0))" \
    'BEGIN { w = b - o; printf "%d", (t > 0 ? 100 * (w > 0 ? w : 0) / t : 0) }')
}

# field NAME FILE: the value of NAME=... on the last RESULT line of FILE
field() { grep '^RESULT' "$2" | tail -1 | tr ' ' '\n' | awk -F= -v k="$1" '$1 == k {print $2}'; }

# quiet_wait SECONDS: wait (up to SECONDS) until the 1-minute load average is under the core count
quiet_wait() { # (QUIET_WAIT=0 in the environment skips the wait)
  local i
  for ((i = 0; i < $1; i += 10)); do
    awk -v n="$(nproc)" '{ exit !($1 < n) }' /proc/loadavg && return 0
    [ $i = 0 ] && echo "  (waiting for a quieter machine: load average $(cut -d' ' -f1 /proc/loadavg))" >&2
    sleep 10
  done
  echo "  (still busy after $1 s: load average $(cut -d' ' -f1 /proc/loadavg); going on, figures flagged)" >&2
}
