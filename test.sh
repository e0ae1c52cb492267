#!/usr/bin/env bash
# The one test command (README, "Test"): installs what the tests need on a fresh Debian machine,
# then runs every test. This is exactly what CI runs (.ci/run).
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
[ ${#missing[@]} -gt 0 ] && apt_install "${missing[@]}"

# Unit tests, in-JVM cluster tests, then the fat jar and the process-level tests against it.
mvn -B -ntp verify "$@"
