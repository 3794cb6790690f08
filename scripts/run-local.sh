#!/usr/bin/env bash
# `make run`: a master (localhost only, embedded store in .wharf/) and one local worker.
# Uses Docker when an engine answers (starting one through scripts/docker-up.sh where it can);
# otherwise says so and starts the worker with the exec runtime only.
set -uo pipefail
cd "$(dirname "$0")/.."
data=${WHARF_DATA_DIR:-$PWD/.wharf/master}
worker_data=${WHARF_WORKER_DATA_DIR:-$PWD/.wharf/worker}
http_port=${WHARF_HTTP_PORT:-8080}
grpc_port=${WHARF_GRPC_PORT:-50051}
mkdir -p "$data" "$worker_data"

runtimes=docker
if bash scripts/docker-up.sh; then
  bash scripts/build-test-image.sh || echo "run: could not build wharf/busybox; tasks need an image present locally" >&2
else
  echo "" >&2
  echo "run: NO DOCKER ENGINE: the local worker offers only the exec runtime (tasks run as host processes; admins only)." >&2
  echo "run: install and start Docker (scripts/docker-up.sh does it as root on Debian) to run container tasks." >&2
  runtimes=exec
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null
}
trap cleanup EXIT INT TERM

WHARF_DATA_DIR=$data WHARF_HTTP_PORT=$http_port WHARF_GRPC_PORT=$grpc_port \
  node master/dist/cli.js "$@" &
pids+=($!)

# the API answers on http:// (loopback default) or https:// (WHARF_TLS=on) with the master's CA
api=""
for _ in $(seq 1 150); do
  if [ -s "$data/tls/ca.crt" ]; then
    for base in "http://127.0.0.1:$http_port" "https://127.0.0.1:$http_port"; do
      if curl -fsS --cacert "$data/tls/ca.crt" "$base/health" >/dev/null 2>&1; then api=$base; break 2; fi
    done
  fi
  sleep 0.2
done
[ -n "$api" ] || { echo "run: the master did not come up on port $http_port" >&2; exit 1; }
# the CA hash workers pin (the header of GET /api/cluster/ca.crt, the same as the join line's)
ca_hash=$(curl -fsS --cacert "$data/tls/ca.crt" -D - -o /dev/null "$api/api/cluster/ca.crt" | tr -d '\r' | sed -n 's/^[Xx]-[Ww]harf-[Cc]a-[Hh]ash: //p')

# the local worker reads the join token from a file (never on a command line) the first time;
# later starts use the certificate it keeps in its data dir
if [ -n "${WHARF_JOIN_TOKEN:-}" ]; then token_args=(); else token_args=(--token-file "$data/join-token"); fi
WHARF_DATA_DIR=$worker_data node worker/dist/cli.js --master "127.0.0.1:$grpc_port" "${token_args[@]}" --ca-hash "$ca_hash" \
  --name "local-$(hostname)" --runtimes "$runtimes" &
pids+=($!)

echo ""
echo "  Wharf is running. Dashboard/API: ${api/127.0.0.1/localhost}  (Ctrl-C stops master and worker)"
echo "  (the admin password and the join token are printed above only when they were made on this start)"
echo "  Join another machine: ./runWorker.sh --master <this-host>:$grpc_port --token-file <copy of $data/join-token> --ca-hash $ca_hash"
echo "  or with no clone: the master's \"Or with no clone\" line above (curl … /join.sh | sh -s -- …)"
echo "  (the master listens on localhost only; start it with WHARF_HOST=0.0.0.0 to accept remote workers)"
echo ""
wait -n "${pids[@]}"
