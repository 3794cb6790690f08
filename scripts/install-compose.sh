#!/usr/bin/env bash
# Make a Docker Compose command available and print it (`docker compose` or `docker-compose`).
# 1. If the Compose v2 plugin (`docker compose`) or the standalone `docker-compose` works, use it.
# 2. Otherwise, as root with apt, install Debian's `docker-compose` package (1.29 on bookworm,
#    which reads the Compose Specification files database/docker-compose.yml is written in).
# Exits 0 and prints the command on stdout, or 1 with a message saying what to install.
set -u

if docker compose version >/dev/null 2>&1; then echo "docker compose"; exit 0; fi
if command -v docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then echo "docker-compose"; exit 0; fi

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "install-compose: installing docker-compose with apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null 2>&1 || true
  if apt-get install -y -qq docker-compose >/dev/null 2>&1 && docker-compose version >/dev/null 2>&1; then
    echo "docker-compose"; exit 0
  fi
  echo "install-compose: apt-get install docker-compose failed" >&2
fi
echo "install-compose: no Docker Compose here; install the Compose plugin (docker compose) or docker-compose" >&2
exit 1
