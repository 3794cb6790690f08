#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed at /usr/bin/chromium for the dashboard's browser
# tests (test/ui-e2e.test.ts drives it with playwright-core). Installs it with apt-get when it
# is missing and this is a Debian/Ubuntu machine where we are root (or have sudo); otherwise
# says plainly what to install and exits non-zero.
set -euo pipefail
browser=${WHARF_CHROMIUM:-/usr/bin/chromium}
if [ -x "$browser" ]; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "browser-up: $browser not found and apt-get is not available; install Chromium and set WHARF_CHROMIUM to its path" >&2
  exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "browser-up: $browser not found; run 'apt-get install -y chromium' as root" >&2
    exit 1
  fi
fi
echo "browser-up: installing chromium (apt-get install -y chromium)" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null || true
$sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
if [ ! -x "$browser" ]; then
  echo "browser-up: chromium was installed but $browser does not exist; set WHARF_CHROMIUM" >&2
  exit 1
fi
echo "browser-up: $("$browser" --version 2>/dev/null || echo chromium installed)" >&2
