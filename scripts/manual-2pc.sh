#!/usr/bin/env bash
# Two-phase commit by hand on one follower, as in the seed: PUT is phase 1 (a yes vote,
# durably logged), then POST /abort or POST /commit is phase 2. It changes this follower only,
# so afterwards its replicas disagree about the key: that is the lesson (PROTOCOL.md, manual slot).
# Then the same follower votes no in a leader transaction, which aborts, and yes once released.
# FOLLOWER defaults to the embedded default's first follower, http://127.0.0.1:16201; LEADER to its leader.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

key="lesson by hand"

say "Start clean: an ABORT by hand releases whatever an earlier run left in the manual slot (204 either way)"
call 204 "" POST "$FOLLOWER/abort"

say "Phase 1: PUT without tx prepares into the follower's manual slot: 202 commit (a yes vote)"
call 202 commit PUT "$FOLLOWER/" "key=$key" "val=first try"
call 200 '~"manual":{"tx":"manual"' GET "$FOLLOWER/api/status"

say "While it is prepared a second manual prepare votes no"
call 500 "error: unable to process request" PUT "$FOLLOWER/" "key=another key" val=v

say "Phase 2: ABORT. 204, and the value never appears"
call 204 "" POST "$FOLLOWER/abort"
call 200 '~"manual":null' GET "$FOLLOWER/api/status"
before=$(curl -sS -G -o /dev/null -w '%{http_code}' --data-urlencode "key=$key" "$FOLLOWER/")
if [ "$before" = 200 ]; then
  printf '(this follower already has a value for the key from an earlier run)\n'
else
  call 500 "error: no key" GET "$FOLLOWER/" "key=$key"
fi

say "Phase 1 again, then COMMIT: 204, and the follower serves the value"
call 202 commit PUT "$FOLLOWER/" "key=$key" "val=by hand"
call 204 "" POST "$FOLLOWER/commit"
call 200 "by hand" GET "$FOLLOWER/" "key=$key"
call 200 "~$key" GET "$FOLLOWER/api/status"

say "Deciding again is harmless: ABORT with nothing prepared is 204 (presumed abort)"
call 204 "" POST "$FOLLOWER/abort"

# Part two: the same follower votes in the leader's two-phase commit. While its manual slot
# holds a key, the leader's prepare of that key gets a no vote from it, so the whole
# transaction aborts (on every replica); once the slot is released the same write commits.
fport=${FOLLOWER##*:}
fport=${fport%%/*}
shared=""
for i in $(seq 1 200); do
  if curl -sS -G --data-urlencode "key=shared-$i" "$LEADER/api/placement" | grep -q "\"port\":$fport[,}]"; then
    shared="shared-$i"
    break
  fi
done
[ -n "$shared" ] || { echo "FAILED: no key placed on $FOLLOWER"; exit 1; }

say "The follower holds '$shared' by hand; the leader's write of it aborts (this follower votes no)"
aborts=$(metric "$LEADER" kvstore_tpc_aborts_total)
commits=$(metric "$LEADER" kvstore_tpc_commits_total)
call 202 commit PUT "$FOLLOWER/" "key=$shared" "val=held by hand"
call 500 "error: unable to process request" PUT "$LEADER/" "key=$shared" "val=through the leader"
expect_metric "$LEADER" kvstore_tpc_aborts_total "$(awk "BEGIN{printf \"%.1f\", $aborts + 1}")"

say "Release the slot (ABORT by hand); now the leader's write commits on every replica"
call 204 "" POST "$FOLLOWER/abort"
call 201 "through the leader" PUT "$LEADER/" "key=$shared" "val=through the leader"
expect_metric "$LEADER" kvstore_tpc_commits_total "$(awk "BEGIN{printf \"%.1f\", $commits + 1}")"
call 200 "through the leader" GET "$FOLLOWER/" "key=$shared"
call 201 "$shared" DELETE "$LEADER/" "key=$shared"

printf '\nmanual-2pc: every answer was the expected one\n'
