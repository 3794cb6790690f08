#!/usr/bin/env bash
# Join this machine to a Wharf master:
#   ./runWorker.sh --master HOST:PORT --token TOKEN [--name NAME] [--runtimes docker,exec|kubernetes]
#                  [--cpu N] [--memory 4Gi] [--gpu N] [--label k=v] [--k8s-namespace NS] ...
# Checks Node >= 20.19 and a Docker engine, installs and builds Wharf, then runs the worker.
# The worker dials out to the master; it needs no open port.
set -euo pipefail
cd "$(dirname "$0")"

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; }
master="" token="" runtimes=""
args=("$@")
while [ $# -gt 0 ]; do
  case "$1" in
    --master) master=${2:-}; shift 2 ;;
    --master=*) master=${1#*=}; shift ;;
    --token) token=${2:-}; shift 2 ;;
    --token=*) token=${1#*=}; shift ;;
    --runtimes) runtimes=${2:-}; shift 2 ;;
    --runtimes=*) runtimes=${1#*=}; shift ;;
    -h|--help) usage; exit 0 ;;
    *) shift ;;
  esac
done
master=${master:-${WHARF_MASTER:-}}
token=${token:-${WHARF_JOIN_TOKEN:-}}
[ -n "$master" ] || { echo "runWorker: --master HOST:PORT (or WHARF_MASTER) is required" >&2; usage >&2; exit 2; }
[ -n "$token" ] || { echo "runWorker: --token TOKEN (or WHARF_JOIN_TOKEN) is required; the master prints it at start" >&2; exit 2; }

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

bash scripts/setup.sh >&2
export WHARF_DATA_DIR=${WHARF_DATA_DIR:-$HOME/.wharf/worker}
exec node worker/dist/cli.js "${args[@]}"
