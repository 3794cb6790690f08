#!/usr/bin/env bash
# Copies what a production machine needs to run Wharf's master and workers into DEST: the
# package manifests and the lock file, the built dist/ folders (make build first), wharf.proto
# and the start scripts. No sources, no build tools. On the production machine:
#   cd DEST && npm ci --omit=dev     (then ./runMaster.sh, or ./runWorker.sh …)
# Usage: scripts/copy-runtime.sh DEST
set -euo pipefail
cd "$(dirname "$0")/.."
dest=${1:-}
[ -n "$dest" ] || { echo "usage: scripts/copy-runtime.sh DEST" >&2; exit 2; }
for built in proto/dist/index.js master/dist/cli.js worker/dist/cli.js worker/dist/wharf-worker.mjs worker/dist/join.sh ui/dist/index.html cli/dist/wharf.js; do
  [ -f "$built" ] || { echo "copy-runtime: $built is missing: run make build first" >&2; exit 1; }
done
mkdir -p "$dest"
files=(
  package.json package-lock.json runMaster.sh runWorker.sh
  scripts/setup.sh scripts/build-state.mjs scripts/docker-up.sh
  proto/package.json proto/wharf.proto proto/dist
  master/package.json master/dist
  worker/package.json worker/dist
  ui/package.json ui/dist
  cli/package.json cli/bin cli/dist/wharf.js
)
# tar keeps the relative paths; build caches (.tsbuildinfo) stay behind
tar -cf - --exclude='*.tsbuildinfo' "${files[@]}" | tar -xf - -C "$dest"
echo "copy-runtime: $(cd "$dest" && pwd): now run npm ci --omit=dev there" >&2
