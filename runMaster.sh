#!/usr/bin/env bash
# Start a Wharf master from environment variables and flags (see --help):
#   WHARF_DATA_DIR=/var/lib/wharf WHARF_HOST=0.0.0.0 ./runMaster.sh
# Installs and builds on first use, and later only what changed since the last build (nothing
# changed: it starts at once; WHARF_SKIP_SETUP=1 skips the check). Workers reach it over TLS:
# the banner prints the join lines with the CA hash (and the admin password and join token on
# the start that generated them).
# A lost worker's tasks are re-queued once it must have stopped them (its --stop-after + grace;
# WHARF_HEARTBEAT_TTL by default); WHARF_MAX_STOP_AFTER caps the bound a worker may declare.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${WHARF_SKIP_SETUP:-}" != 1 ]; then bash scripts/setup.sh >&2; fi
exec node master/dist/cli.js "$@"
