#!/usr/bin/env bash
# Install dependencies (npm ci, from the lock file) when they are missing or older than the
# lock, then build every workspace. Safe to run again: it skips what is already done.
set -euo pipefail
cd "$(dirname "$0")/.."

need_major=20; need_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= ${need_major}.${need_minor} is required and was not found" >&2; exit 1
fi
IFS=. read -r major minor _ <<<"$(node -p 'process.versions.node')"
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
  echo "setup: Node.js >= ${need_major}.${need_minor} is required, found $(node -v)" >&2; exit 1
fi

stamp=node_modules/.wharf-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing dependencies (npm ci; better-sqlite3 may compile from source, ~2 min)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

echo "setup: building" >&2
npm run --silent build
echo "setup: building the dashboard (ui/dist)" >&2
npm run --silent build -w @wharf/ui
