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

for _ in $(seq 1 100); do
  [ -s "$data/join-token" ] && curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null 2>&1 && break
  sleep 0.2
done
if ! curl -fsS "http://127.0.0.1:$http_port/health" >/dev/null 2>&1; then
  echo "run: the master did not come up on port $http_port" >&2; exit 1
fi
token=${WHARF_JOIN_TOKEN:-$(cat "$data/join-token")}

WHARF_DATA_DIR=$worker_data node worker/dist/cli.js --master "127.0.0.1:$grpc_port" --token "$token" \
  --name "local-$(hostname)" --runtimes "$runtimes" &
pids+=($!)

echo ""
echo "  Wharf is running. Dashboard/API: http://localhost:$http_port  (Ctrl-C stops master and worker)"
echo "  Admin login: ${WHARF_ADMIN_EMAIL:-admin@wharf.local} / $(cat "$data/admin-password" 2>/dev/null || echo "\$WHARF_ADMIN_PASSWORD")"
echo "  Join token:  $token"
echo "  Join another machine: ./runWorker.sh --master <this-host>:$grpc_port --token $token"
echo "  (the master listens on localhost only; start it with WHARF_HOST=0.0.0.0 to accept remote workers)"
echo ""
wait -n "${pids[@]}"
