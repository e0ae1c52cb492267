#!/usr/bin/env bash
# The kill soak (README, "Crash recovery"): the randomized kill test with many cycles.
#   bench/soak.sh [CYCLES=200] [SEED]
set -euo pipefail
cd "$(dirname "$0")/.."
CYCLES=${1:-200}
SEED=${2:-$(date +%s%N)}
[ -f target/kvstore.jar ] || mvn -B -q -DskipTests package
mvn -B verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false -Dit.test=RandomKillIT \
  -Dkvstore.soak.cycles="$CYCLES" -Dkvstore.seed="$SEED" | grep -E "RandomKillIT seed|cycle [0-9]+:|writes:|Tests run:|FAIL|holds|disagree"
