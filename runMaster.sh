#!/usr/bin/env bash
# Start a Wharf master from environment variables and flags (see --help):
#   WHARF_DATA_DIR=/var/lib/wharf WHARF_HOST=0.0.0.0 ./runMaster.sh
# Installs and builds on first use, and later only what changed since the last build (nothing
# changed: it starts at once; WHARF_SKIP_SETUP=1 skips the check). Workers reach it over TLS:
# the banner prints the join lines with the CA hash (and the admin password and join token on
# the start that generated them).
# A lost worker's tasks are re-queued once it must have stopped them (its --stop-after + grace;
# WHARF_HEARTBEAT_TTL by default); WHARF_MAX_STOP_AFTER caps the bound a worker may declare.
# Several masters (docs/OPERATIONS.md, "Several masters"): start each against the same store
# (the same WHARF_DATA_DIR on one host, or WHARF_MONGO_URL with the same WHARF_TLS_CA_CERT/KEY,
# WHARF_JWT_SECRET and WHARF_JOIN_TOKEN on several), each with its own ports and
# WHARF_ADVERTISE_ADDRESS. One leads (WHARF_LEASE_TTL 5s, WHARF_LEASE_RENEW 1s); the others are
# standbys that take over within ~6 s. A leader that lost its lease exits with status 75: run
# this under a supervisor that restarts it (systemd Restart=always), and it comes back a standby.
set -euo pipefail
cd "$(dirname "$0")"
if [ "${WHARF_SKIP_SETUP:-}" != 1 ]; then bash scripts/setup.sh >&2; fi
exec node master/dist/cli.js "$@"
