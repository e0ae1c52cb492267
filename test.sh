#!/usr/bin/env bash
# The one test command (README, "Test"): installs what the tests need on a fresh Debian machine,
# then runs every test. This is exactly what CI runs (.ci/run).
#   1. mvn verify: unit and in-JVM tests, the fat jar, then the process-level tests (it/).
#   2. The curl demos in scripts/ against the embedded default started from that jar on its
#      default ports (16200-16203) in a temporary directory, stopped with SIGTERM afterwards.
#   3. vagrant validate --ignore-provider on the lab's Vagrantfile.
# Arguments go to mvn (e.g. ./test.sh -o). Output stays short; a failing demo prints its log.
set -euo pipefail
cd "$(dirname "$0")"

need() { ! command -v "$1" >/dev/null 2>&1; }
apt_install() {
  if [ "$(id -u)" = 0 ]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq || true
    DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"
  else
    sudo apt-get -o DPkg::Lock::Timeout=600 update -qq || true
    sudo DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$@"
  fi
}

missing=()
# The browser tests (src/test/java/kvstore/it/WebClientIT.java) drive Debian's Chromium.
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
need java && missing+=(openjdk-17-jdk-headless)
need mvn && missing+=(maven)
need curl && missing+=(curl)
need vagrant && missing+=(vagrant) # Debian's, without libvirt and qemu (notes/LAB.md)
# The partition tier (PartitionIT, scripts/netlab.sh): network namespaces and silent drops.
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
command -v nft >/dev/null 2>&1 || [ -x /usr/sbin/nft ] || missing+=(nftables)
[ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}" >/dev/null

# 1. Unit tests, in-JVM cluster tests, then the fat jar and the process-level tests against it.
mvn -B -ntp verify "$@"

# 2. The demos against the embedded default.
JAR="$PWD/target/kvstore.jar"
RUN=$(mktemp -d)
EMBEDDED_PID=""
finish() {
  if [ -n "$EMBEDDED_PID" ]; then { kill -9 "$EMBEDDED_PID" && wait "$EMBEDDED_PID"; } 2>/dev/null || true; fi
  rm -rf "$RUN"
}
trap finish EXIT

for port in 16200 16201 16202 16203; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "test.sh: port $port is in use; the demos need the embedded default's ports 16200-16203 free" >&2
    exit 1
  fi
done
(cd "$RUN" && exec java -jar "$JAR" >"$RUN/embedded.out" 2>&1 </dev/null) &
EMBEDDED_PID=$!
deadline=$((SECONDS + 90))
until curl -sf http://127.0.0.1:16200/api/health >/dev/null 2>&1; do
  if [ $SECONDS -ge $deadline ] || ! kill -0 "$EMBEDDED_PID" 2>/dev/null; then
    echo "test.sh: the embedded default did not become ready:" >&2
    cat "$RUN/embedded.out" >&2
    exit 1
  fi
  sleep 0.5
done

passed=0
failed=0
for demo in scripts/put-get-delete.sh scripts/errors.sh scripts/manual-2pc.sh scripts/kill-restart.sh; do
  log="$RUN/$(basename "$demo" .sh).log"
  if KVSTORE_JAR="$JAR" "$demo" >"$log" 2>&1; then
    passed=$((passed + 1))
    echo "demo $demo: ok"
  else
    failed=$((failed + 1))
    echo "demo $demo: FAILED; its output:"
    sed 's/^/    /' "$log"
  fi
done

code=0
kill -TERM "$EMBEDDED_PID"
wait "$EMBEDDED_PID" || code=$?
EMBEDDED_PID=""
if [ "$code" != 0 ]; then
  echo "test.sh: the embedded default exited $code on SIGTERM (expected 0):"
  tail -20 "$RUN/embedded.out"
  failed=$((failed + 1))
fi

# 3. The lab's Vagrantfile (no VirtualBox here: validate is the test).
if vagrant validate --ignore-provider >"$RUN/vagrant.log" 2>&1; then
  passed=$((passed + 1))
  echo "vagrant validate --ignore-provider: ok"
else
  failed=$((failed + 1))
  echo "vagrant validate --ignore-provider: FAILED"
  cat "$RUN/vagrant.log"
fi

echo "demos: $passed passed, $failed failed"
[ "$failed" = 0 ]
