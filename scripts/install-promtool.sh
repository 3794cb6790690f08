#!/usr/bin/env bash
# Make sure `promtool` (Prometheus' checker, used by test/metrics-prometheus.test.ts to run
# `promtool check metrics` on GET /metrics, and by test/monitoring.test.ts to check and unit-test
# the alert rules in deploy/monitoring/) is on this machine.
# 1. If promtool is already on PATH (or /usr/bin/promtool exists), print its path.
# 2. Otherwise, as root with apt, install Debian's `prometheus` package (it ships promtool).
# Prints the promtool path on stdout and exits 0, or exits 1 with a message that says why.
set -u

find_promtool() {
  if command -v promtool >/dev/null 2>&1; then command -v promtool; return 0; fi
  if [ -x /usr/bin/promtool ]; then echo /usr/bin/promtool; return 0; fi
  return 1
}

if find_promtool; then exit 0; fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-promtool: promtool is missing and cannot be installed here (needs root and apt-get): install the Debian package 'prometheus' or put promtool on PATH" >&2
  exit 1
fi

echo "install-promtool: installing the Debian package 'prometheus' (for promtool) with apt-get" >&2
export DEBIAN_FRONTEND=noninteractive
# several engineers or test runs may install at once: take a lock (apt has its own, but fails fast)
exec 9>/tmp/wharf-apt.lock
flock 9
if find_promtool >/dev/null; then find_promtool; exit 0; fi
# --no-install-recommends: only what promtool needs.
if apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends prometheus >/tmp/wharf-promtool-apt.log 2>&1 \
  || { apt-get update -qq -o DPkg::Lock::Timeout=600 >>/tmp/wharf-promtool-apt.log 2>&1 && apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends prometheus >>/tmp/wharf-promtool-apt.log 2>&1; }; then
  if find_promtool; then exit 0; fi
fi
echo "install-promtool: apt-get install prometheus failed (is the package mirror reachable?); last lines of /tmp/wharf-promtool-apt.log:" >&2
tail -n 15 /tmp/wharf-promtool-apt.log >&2 2>/dev/null
exit 1
