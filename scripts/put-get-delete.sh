#!/usr/bin/env bash
# The seed's client flow on the leader: put, get, delete, and keys and values with spaces,
# symbols and non-ASCII text. Run it against the embedded default (java -jar target/kvstore.jar)
# or set LEADER=http://HOST:PORT.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

say "PUT: 201 once both replicas fsynced the prepare and the leader fsynced the decision"
call 201 "world" PUT "$LEADER/" key=hello val=world

say "GET: 200 and the value, read from a replica"
call 200 world GET "$LEADER/" key=hello

say "Which followers hold it (the seed's consistent hashing)"
call 200 '~"replicas"' GET "$LEADER/api/placement" key=hello

say "Spaces, symbols and UTF-8 travel URL-encoded"
call 201 "grüße, 100% € + more" PUT "$LEADER/" "key=a key & its ?=+ symbols" "val=grüße, 100% € + more"
call 200 "grüße, 100% € + more" GET "$LEADER/" "key=a key & its ?=+ symbols"

say "Overwrite, then DELETE: 201"
call 201 "again" PUT "$LEADER/" key=hello val=again
call 200 again GET "$LEADER/" key=hello
call 201 "hello" DELETE "$LEADER/" key=hello
call 201 "a key & its ?=+ symbols" DELETE "$LEADER/" "key=a key & its ?=+ symbols"

say "Gone: 500 error: no key, for GET and for a second DELETE"
call 500 "error: no key" GET "$LEADER/" key=hello
call 500 "error: no key" DELETE "$LEADER/" key=hello

printf '\nput-get-delete: every answer was the expected one\n'
