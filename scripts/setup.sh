#!/usr/bin/env bash
# Install dependencies (npm ci, from the lock file) when they are missing or older than the
# lock, then build what changed since the last build: the TypeScript workspaces with the CLI and
# worker bundles, and (unless --worker) the dashboard. Nothing changed, nothing is built, so
# runMaster.sh and runWorker.sh start at once (scripts/build-state.mjs keeps the fingerprints).
#   --worker   never build the dashboard (a worker does not serve it)
#   --force    build everything again
# A production install (npm ci --omit=dev over prebuilt dist/ folders, no build tools) is left
# as it is.
set -euo pipefail
cd "$(dirname "$0")/.."

worker_only=0 force=0
for arg in "$@"; do
  case "$arg" in
    --worker) worker_only=1 ;;
    --force) force=1 ;;
    *) echo "setup: unknown option $arg (--worker, --force)" >&2; exit 2 ;;
  esac
done

need_major=20; need_minor=19
if ! command -v node >/dev/null 2>&1; then
  echo "setup: Node.js >= ${need_major}.${need_minor} is required and was not found" >&2; exit 1
fi
# `node --version` answers before Node starts its JavaScript: it costs nothing on every start
IFS=. read -r major minor _ <<<"$(node --version | sed 's/^v//')"
if [ "$major" -lt "$need_major" ] || { [ "$major" -eq "$need_major" ] && [ "$minor" -lt "$need_minor" ]; }; then
  echo "setup: Node.js >= ${need_major}.${need_minor} is required, found $(node -v)" >&2; exit 1
fi

if [ -d node_modules ] && [ ! -e node_modules/typescript ] && [ -f master/dist/cli.js ] && [ -f worker/dist/cli.js ]; then
  echo "setup: a production install (no build tools, prebuilt dist/): nothing to install or build" >&2
  exit 0
fi

stamp=node_modules/.wharf-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  echo "setup: installing dependencies (npm ci; better-sqlite3 may compile from source, ~2 min)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp"
fi

parts=code
[ "$worker_only" = 1 ] || parts="code ui"
# shellcheck disable=SC2086 # two words on purpose
if [ "$force" = 1 ]; then stale=$parts; else stale=$(node scripts/build-state.mjs stale $parts); fi
if [ -z "$stale" ]; then
  echo "setup: up to date (no source changed since the last build)" >&2
  exit 0
fi
for part in $stale; do
  case "$part" in
    code)
      echo "setup: building (TypeScript, the CLI and the worker bundle)" >&2
      npm run --silent build
      ;;
    ui)
      echo "setup: building the dashboard (ui/dist)" >&2
      npm run --silent build -w @wharf/ui
      ;;
  esac
  node scripts/build-state.mjs record "$part"
done
