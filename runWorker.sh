#!/usr/bin/env bash
# Join this machine to a Wharf master (the master prints this line at start):
#   ./runWorker.sh --master HOST:PORT --token-file FILE --ca-hash sha256:HEX [--name NAME]
#                  [--runtimes docker,exec|kubernetes] [--cpu N] [--memory 4Gi] [--label k=v]
#                  [--stop-after 15s] [--cancel-grace-seconds 10] ...
# Several masters: --master h1:50051,h2:50051,h3:50051 (or a DNS name with an address per master):
# the worker goes to the leader, and follows it when another master takes over.
# --stop-after: cut off from the master this long, the worker stops its tasks on its own (default:
# the master's heartbeat TTL; the master must allow it: WHARF_MAX_STOP_AFTER).
# The join token (--token-file FILE, or WHARF_JOIN_TOKEN) and the CA hash are needed only the
# first time: the worker then keeps a certificate in its data dir and authenticates with it.
# --token TOKEN works too, but any user can read it in `ps` while this script starts.
# Checks Node >= 20.19 and a Docker engine, installs and builds what changed since the last build
# (never the dashboard; WHARF_SKIP_SETUP=1 skips the check), then runs the worker. It dials out;
# it needs no open port. No clone at all: the master's one-line join (curl … /join.sh | sh).
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; }
master="" token="" token_file="" runtimes=""
# what the worker gets: everything but --token, whose value goes in its environment instead
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --master) master=${2:-}; args+=("$1" "${2:-}"); shift 2 ;;
    --master=*) master=${1#*=}; args+=("$1"); shift ;;
    --token) token=${2:-}; shift 2 ;;
    --token=*) token=${1#*=}; shift ;;
    --token-file) token_file=${2:-}; args+=("$1" "${2:-}"); shift 2 ;;
    --token-file=*) token_file=${1#*=}; args+=("$1"); shift ;;
    --runtimes) runtimes=${2:-}; args+=("$1" "${2:-}"); shift 2 ;;
    --runtimes=*) runtimes=${1#*=}; args+=("$1"); shift ;;
    -h|--help) usage; exit 0 ;;
    *) args+=("$1"); shift ;;
  esac
done
master=${master:-${WHARF_MASTER:-}}
export WHARF_DATA_DIR=${WHARF_DATA_DIR:-$HOME/.wharf/worker}
[ -n "$master" ] || { echo "runWorker: --master HOST:PORT (or WHARF_MASTER) is required" >&2; usage >&2; exit 2; }
if [ -n "$token" ]; then
  echo "runWorker: warning: --token puts the join token where every user of this machine can read it (ps); use --token-file FILE or WHARF_JOIN_TOKEN" >&2
  export WHARF_JOIN_TOKEN=$token
fi
token_file=${token_file:-${WHARF_JOIN_TOKEN_FILE:-}}
if [ ! -s "$WHARF_DATA_DIR/tls/worker.crt" ] && [ -z "${WHARF_JOIN_TOKEN:-}" ] && [ -z "$token_file" ]; then
  echo "runWorker: this worker has not joined yet: give the join token with --token-file FILE (or WHARF_JOIN_TOKEN); the master prints its join line at start" >&2
  exit 2
fi

if ! command -v node >/dev/null 2>&1; then
  echo "runWorker: Node.js >= 20.19 is required (https://nodejs.org or your package manager)" >&2; exit 1
fi
runtimes=${runtimes:-${WHARF_RUNTIMES:-docker}}
if [[ ",$runtimes," == *",docker,"* ]]; then
  if ! docker info >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then bash scripts/docker-up.sh || true; fi
    if ! docker info >/dev/null 2>&1; then
      echo "runWorker: no Docker engine answers on this machine (docker info failed)." >&2
      echo "runWorker: start Docker, or run host processes instead with --runtimes exec." >&2
      exit 1
    fi
  fi
fi

if [ "${WHARF_SKIP_SETUP:-}" != 1 ]; then bash scripts/setup.sh --worker >&2; fi
exec node worker/dist/cli.js "${args[@]}"
