#!/usr/bin/env bash
# Make sure a Docker engine answers on this machine.
# 1. If `docker info` already works, do nothing.
# 2. Otherwise install docker.io (and busybox-static for the test image) with apt when root,
#    remove a stale pid file left by a dockerd that was killed uncleanly, start dockerd
#    (overlay2, falling back to vfs) and wait until it answers.
# Exits 0 when an engine answers, 1 with a clear message when none can be started.
set -u
log=${WHARF_DOCKERD_LOG:-/tmp/wharf-dockerd.log}

engine_ok() { docker info >/dev/null 2>&1; }

if engine_ok; then exit 0; fi

if ! command -v dockerd >/dev/null 2>&1 || { ! command -v busybox >/dev/null 2>&1 && [ ! -x /bin/busybox ]; }; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "docker-up: installing docker.io and busybox-static with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >/dev/null 2>&1 || true
    apt-get install -y -qq docker.io busybox-static >/dev/null 2>&1 || {
      echo "docker-up: apt-get install docker.io failed; install Docker yourself" >&2; exit 1; }
  fi
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "docker-up: no Docker engine and no dockerd to start (not root, or no apt): install Docker" >&2
  exit 1
fi
if [ "$(id -u)" != 0 ]; then
  echo "docker-up: a Docker engine is not answering and starting dockerd needs root" >&2
  exit 1
fi

# A dockerd killed uncleanly leaves its pid file behind, and the next start refuses.
if ! pgrep -x dockerd >/dev/null 2>&1; then
  rm -f /var/run/docker.pid /run/docker.pid
  # containerd started by a previous dockerd may also have left its pid/socket
  rm -f /var/run/docker/containerd/containerd.pid 2>/dev/null || true
fi

start_dockerd() {
  echo "docker-up: starting dockerd $* (log: $log)" >&2
  nohup dockerd "$@" >"$log" 2>&1 &
  for _ in $(seq 1 60); do
    engine_ok && return 0
    pgrep -x dockerd >/dev/null 2>&1 || return 1
    sleep 0.5
  done
  return 1
}

if ! pgrep -x dockerd >/dev/null 2>&1; then
  start_dockerd || { pkill -x dockerd 2>/dev/null; sleep 1; rm -f /var/run/docker.pid; start_dockerd --storage-driver=vfs; }
else
  for _ in $(seq 1 60); do engine_ok && break; sleep 0.5; done
fi

if engine_ok; then exit 0; fi
echo "docker-up: dockerd did not come up; last lines of $log:" >&2
tail -n 20 "$log" >&2 2>/dev/null
exit 1
