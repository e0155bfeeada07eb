#!/usr/bin/env bash
# A real browser for the web console's tests: Debian's chromium and its WebDriver (chromium-driver), driven headless
# by Selenium. Idempotent: installs only what is missing. Needs root on Debian 12. Nothing is downloaded from
# elsewhere: the tests give Selenium the driver's path (and SE_OFFLINE), so Selenium Manager never fetches a browser.
#
#   deploy/test-infra/chromium.sh     # prints CHROMIUM=... and CHROMEDRIVER=... when ready
#
# Environment: ATELIER_TEST_INFRA_DIR (state, default /var/tmp/atelier-test-infra).
set -euo pipefail

STATE=${ATELIER_TEST_INFRA_DIR:-/var/tmp/atelier-test-infra}
CHROMIUM=/usr/bin/chromium
CHROMEDRIVER=/usr/bin/chromedriver

log() { echo "chromium.sh: $*" >&2; }

mkdir -p "$STATE"
exec 9>"$STATE/chromium.lock"
flock 9   # one install at a time (parallel test JVMs, .ci/run)

need=()
[ -x "$CHROMIUM" ] || need+=(chromium)
[ -x "$CHROMEDRIVER" ] || need+=(chromium-driver)
# Fonts for readable screenshots (Debian's chromium pulls a minimal set; DejaVu covers the console's text).
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

browser=$("$CHROMIUM" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -1)
driver=$("$CHROMEDRIVER" --version 2>/dev/null | grep -oE '[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+' | head -1)
if [ -z "$browser" ] || [ "$browser" != "$driver" ]; then
  log "chromium ($browser) and chromium-driver ($driver) differ: install both from the same Debian release"
  exit 1
fi
echo "CHROMIUM=$CHROMIUM"
echo "CHROMEDRIVER=$CHROMEDRIVER"
echo "CHROMIUM_VERSION=$browser"
