#!/usr/bin/env bash
# Start a Wharf master from environment variables and flags (see --help):
#   WHARF_DATA_DIR=/var/lib/wharf WHARF_HOST=0.0.0.0 ./runMaster.sh
# Installs and builds on first use. Workers reach it over TLS: the banner prints the join line
# with the CA hash (and the admin password and join token on the start that generated them).
# A lost worker's tasks are re-queued once it must have stopped them (its --stop-after + grace;
# WHARF_HEARTBEAT_TTL by default); WHARF_MAX_STOP_AFTER caps the bound a worker may declare.
set -euo pipefail
cd "$(dirname "$0")"
bash scripts/setup.sh >&2
exec node master/dist/cli.js "$@"
