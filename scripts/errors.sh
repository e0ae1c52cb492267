#!/usr/bin/env bash
# The seed's error answers, word for word (SPEC.md section 2), from the leader of the embedded
# default (or LEADER=http://HOST:PORT). Nothing here changes any data.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

long=$(printf 'x%.0s' $(seq 1 1025))

say "A key nobody wrote"
call 500 "error: no key" GET "$LEADER/" key=never-written-by-the-demo
call 500 "error: no key" DELETE "$LEADER/" key=never-written-by-the-demo

say "Key length: empty, or longer than 1024 bytes"
call 500 "error: improper key length" PUT "$LEADER/" key= val=v
call 500 "error: improper key length" GET "$LEADER/" "key=$long"

say "Value longer than 1024 bytes"
call 500 "error: value too long" PUT "$LEADER/" key=k "val=$long"

say "Invalid requests: no value, no key, a key given twice, an unknown path or method"
call 500 "error: invalid request" PUT "$LEADER/" key=k
call 500 "error: invalid request" PUT "$LEADER/" val=v
call 500 "error: invalid request" GET "$LEADER/" key=a key=b
call 500 "error: invalid request" GET "$LEADER/no/such/path"
call 500 "error: invalid request" POST "$LEADER/" key=k val=v

say "Registering one follower more than the leader's capacity"
call 500 "error: follower capacity already full" POST "$LEADER/register" key=127.0.0.1 val=1

printf '\nerrors: every answer was the expected one\n'
