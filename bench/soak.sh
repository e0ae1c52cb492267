#!/usr/bin/env bash
# The kill soak (README, "Crash recovery"): the randomized kill test with many cycles.
#   bench/soak.sh [CYCLES=200] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${1:-200}
SEED=${2:-$(date +%s%N)}
[ -f target/kvstore.jar ] || mvn -B -q -DskipTests package
# The test's deadline grows with the cycles: the process tests' default (10 minutes) fits CI's 5.
mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=RandomKillIT \
  -Djunit.jupiter.execution.timeout.default="$((600 + CYCLES * 10)) s" \
  -Dkvstore.soak.cycles="$CYCLES" -Dkvstore.seed="$SEED" | grep -E "RandomKillIT seed|cycle [0-9]+:|writes:|Tests run:|FAIL|holds|disagree"
