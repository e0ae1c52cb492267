# shellcheck shell=bash
# Helpers for the curl demos (sourced, not run). Each call prints the request as a curl
# command you can paste, then the answer; the first answer that is not the expected one
# stops the demo with exit 1.
#
#   LEADER    base URL of the leader     (default http://127.0.0.1:16200, the embedded default)
#   FOLLOWER  base URL of one follower   (default http://127.0.0.1:16201)
#   KVSTORE_SECRET, KVSTORE_TOKEN        sent as X-KV-Secret and Authorization: Bearer when set

LEADER=${LEADER:-http://127.0.0.1:16200}
FOLLOWER=${FOLLOWER:-http://127.0.0.1:16201}
DEMO_BODY=$(mktemp)
trap 'rm -f "$DEMO_BODY"' EXIT

say() { printf '\n## %s\n' "$*"; }

quote() { printf "'%s'" "${1//\'/\'\\\'\'}"; }

# shown ARG: ARG quoted, or for a long one its start and its length (the demos send 1025-byte values).
shown() {
  if [ ${#1} -le 100 ]; then quote "$1"; else printf "'%s...'(%d chars)" "${1:0:30}" "${#1}"; fi
}

# call STATUS BODY METHOD URL [key=K] [val=V] [raw curl args...]
#   BODY is the exact expected body, '*' for any, or '~TEXT' for a body that contains TEXT.
#   key=... and val=... go through curl -G --data-urlencode, so spaces and symbols survive.
call() {
  local want_status=$1 want_body=$2 method=$3 url=$4
  shift 4
  local args=(-sS -G -o "$DEMO_BODY" -w '%{http_code}' --max-time 30)
  local shown=(curl)
  [ "$method" = GET ] || { args+=(-X "$method"); shown+=(-X "$method"); }
  shown+=(-G "$(quote "$url")")
  local a
  for a in "$@"; do
    case "$a" in
      key=*|val=*|tx=*|epoch=*|prefix=*) args+=(--data-urlencode "$a"); shown+=(--data-urlencode "$(shown "$a")") ;;
      *) args+=("$a"); shown+=("$(quote "$a")") ;;
    esac
  done
  [ -n "${KVSTORE_SECRET:-}" ] && { args+=(-H "X-KV-Secret: $KVSTORE_SECRET"); shown+=(-H "'X-KV-Secret: ***'"); }
  [ -n "${KVSTORE_TOKEN:-}" ] && { args+=(-H "Authorization: Bearer $KVSTORE_TOKEN"); shown+=(-H "'Authorization: Bearer ***'"); }
  printf '$ %s\n' "${shown[*]}"
  local status
  if ! status=$(curl "${args[@]}" "$url"); then
    printf 'FAILED: no answer from %s\n' "$url"
    exit 1
  fi
  local body
  body=$(cat "$DEMO_BODY")
  if [ -n "$body" ]; then printf '%s %s\n' "$status" "$body"; else printf '%s\n' "$status"; fi
  local ok=1
  [ "$status" = "$want_status" ] || ok=0
  case "$want_body" in
    '*') ;;
    '~'*) [[ "$body" == *"${want_body#\~}"* ]] || ok=0 ;;
    *) [ "$body" = "$want_body" ] || ok=0 ;;
  esac
  if [ $ok = 0 ]; then
    printf 'FAILED: expected %s %s\n' "$want_status" "$want_body"
    exit 1
  fi
}

# metric BASE_URL SERIES: prints one sample of the node's /metrics (0 when absent), e.g.
#   metric "$LEADER" kvstore_tpc_aborts_total
#   metric "$LEADER" 'kvstore_requests_total{status="201",type="put"}'
metric() {
  local hdr=()
  [ -n "${KVSTORE_SECRET:-}" ] && hdr=(-H "X-KV-Secret: $KVSTORE_SECRET")
  local value
  value=$(curl -sS "${hdr[@]}" "$1/metrics" | awk -v s="$2 " 'index($0, s) == 1 { print $NF; exit }')
  printf '%s\n' "${value:-0}"
}

# expect_metric BASE_URL SERIES VALUE: prints the sample and stops the demo if it differs.
expect_metric() {
  local got
  got=$(metric "$1" "$2")
  printf '$ curl -s %s/metrics | grep -F %s\n%s %s\n' "$1" "$(quote "$2")" "$2" "$got"
  if [ "$got" != "$3" ]; then
    printf 'FAILED: expected %s %s\n' "$2" "$3"
    exit 1
  fi
}

# wait_for WHAT SECONDS COMMAND...: polls the command every 0.2 s until it succeeds.
wait_for() {
  local what=$1 seconds=$2
  shift 2
  local deadline=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      printf 'FAILED: timed out after %s s waiting for %s\n' "$seconds" "$what"
      exit 1
    fi
    sleep 0.2
  done
}
