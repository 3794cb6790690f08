#!/bin/sh
# Wharf one-line join. A Wharf master serves this script at GET /join.sh with the values below
# filled in; the master prints the line that runs it (and the dashboard's Workers page shows it):
#
#   curl -fsSL --pinnedpubkey 'sha256//<key pin>' -k https://MASTER:8080/join.sh | sh -s -- --token T --ca-hash sha256:…
#
# It needs Node.js >= 20.19 and curl, and nothing else: no clone, no npm install, no build. It
# downloads the worker (one file) from the same master, checks its sha256 against the one below,
# and runs it in the foreground, or with --install-service installs it as a systemd service.
# Everything is in one function called on the last line, so a download cut short runs nothing.
set -eu

# ---- filled in by the master that served this script ----
WHARF_URL=@WHARF_URL@
WHARF_GRPC_ADDRESS=@WHARF_GRPC_ADDRESS@
WHARF_CA_HASH=@WHARF_CA_HASH@
WHARF_PIN=@WHARF_PIN@
BUNDLE_SHA256=@BUNDLE_SHA256@
BUNDLE_VERSION=@BUNDLE_VERSION@
# ----

say() { printf 'wharf join: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 1
}

usage() {
  cat >&2 <<EOF
usage: curl -fsSL … $WHARF_URL/join.sh | sh -s -- [options]
  --token TOKEN | --token-file FILE   the join token (or WHARF_JOIN_TOKEN); needed only to join,
                                      the worker then keeps a certificate in its data dir
  --ca-hash sha256:HEX                the master's CA hash from its join line (default: $WHARF_CA_HASH;
                                      a different one is refused)
  --name NAME  --runtimes docker,exec  --label k=v (repeats)
  --master HOST:PORT[,HOST:PORT...]   the gRPC address to dial (default: $WHARF_GRPC_ADDRESS); with
                                      several masters, all of them: the worker finds the leader
  --data-dir DIR                      the worker's data dir (default: ~/.wharf/worker; with
                                      --install-service /var/lib/wharf/worker)
  --install-service                   install and start a systemd service (as root), so the worker
                                      survives reboots
  any other option goes to the worker: --cpu 4 --memory 8Gi --stop-after 2m … (docs/OPERATIONS.md)
Needs Node.js >= 20.19 and curl. The worker file goes to \$WHARF_HOME/bin (default ~/.wharf/bin;
with --install-service /opt/wharf/bin).
EOF
}

# a value for ExecStart= in a systemd unit: one argument, quoted when needed, with systemd's
# specifier (%) and variable ($) characters escaped
systemd_arg() {
  case $1 in
    '' | *[!A-Za-z0-9_./:=,@+-]*)
      printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/%/%%/g' -e 's/\$/$$/g')" ;;
    *) printf '%s' "$1" ;;
  esac
}

# a value for a systemd EnvironmentFile= line: double-quoted, with \ and " escaped
env_value() {
  printf '"%s"' "$(printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')"
}

# GET $1 into the file $2 from the master: pinned to its server key over HTTPS
fetch() {
  if [ -n "$WHARF_PIN" ]; then
    curl -fsSL --pinnedpubkey "$WHARF_PIN" -k -o "$2" "$1"
  else
    curl -fsSL -o "$2" "$1"
  fi
}

check_node() {
  node_bin=${WHARF_NODE:-$(command -v node 2>/dev/null || true)}
  how='install it from https://nodejs.org/en/download (Linux binaries, or your package manager: on Debian and Ubuntu the NodeSource packages, https://github.com/nodesource/distributions, since Debian 12 ships Node 18), or with nvm: nvm install 22; then run this line again (WHARF_NODE=/path/to/node picks one that is not on PATH)'
  [ -n "$node_bin" ] || fail "Node.js >= 20.19 is needed and was not found: $how"
  node_version=$("$node_bin" -p 'process.versions.node' 2>/dev/null) || fail "$node_bin does not run: $how"
  major=${node_version%%.*}
  rest=${node_version#*.}
  minor=${rest%%.*}
  if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; }; then
    fail "Node.js >= 20.19 is needed, $node_bin is $node_version: $how"
  fi
  case $node_bin in
    /*) ;;
    *) node_bin=$(cd "$(dirname "$node_bin")" && pwd)/$(basename "$node_bin") ;;
  esac
}

main() {
  token=${WHARF_JOIN_TOKEN:-}
  token_file=''
  ca_hash=''
  master=$WHARF_GRPC_ADDRESS
  data_dir=''
  install_service=0
  # options this script reads are taken out; the rest rotate to the end and go to the worker
  n=$#
  while [ "$n" -gt 0 ]; do
    arg=$1
    shift
    n=$((n - 1))
    case $arg in
      --token | --token-file | --ca-hash | --master | --data-dir)
        [ "$n" -gt 0 ] || fail "$arg needs a value"
        value=$1
        shift
        n=$((n - 1))
        ;;
      --token=* | --token-file=* | --ca-hash=* | --master=* | --data-dir=*)
        value=${arg#*=}
        arg=${arg%%=*}
        ;;
    esac
    case $arg in
      --token) token=$value ;;
      --token-file) token_file=$value ;;
      --ca-hash) ca_hash=$value ;;
      --master) master=$value ;;
      --data-dir) data_dir=$value ;;
      --install-service) install_service=1 ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        case $arg in
          *'
'*) fail "an option holds a line break: $arg" ;;
        esac
        set -- "$@" "$arg"
        ;;
    esac
  done

  if [ -n "$ca_hash" ] && [ "$ca_hash" != "$WHARF_CA_HASH" ]; then
    fail "the master that served this script has the CA $WHARF_CA_HASH, but --ca-hash pins $ca_hash: this is not the master the join line was made for (or it has a new CA). Nothing was installed."
  fi
  [ -n "$BUNDLE_SHA256" ] || fail "the master at $WHARF_URL has no worker bundle to serve: build it on the master (make build, or npm run build) and run this line again"
  check_node

  if [ "$install_service" = 1 ]; then
    home=${WHARF_HOME:-/opt/wharf}
    data_dir=${data_dir:-${WHARF_DATA_DIR:-/var/lib/wharf/worker}}
  else
    [ -n "${HOME:-}" ] || [ -n "${WHARF_HOME:-}" ] || fail "HOME is not set: set WHARF_HOME to where the worker file should go"
    home=${WHARF_HOME:-$HOME/.wharf}
    data_dir=${data_dir:-${WHARF_DATA_DIR:-$HOME/.wharf/worker}}
  fi
  case $data_dir in
    /*) ;;
    *) data_dir=$(pwd)/$data_dir ;;
  esac

  if [ -n "$token_file" ]; then
    [ -r "$token_file" ] || fail "--token-file $token_file cannot be read"
    token=$(tr -d ' \t\r\n' <"$token_file")
  fi
  if [ -n "$token" ]; then
    case $token in
      *[!A-Za-z0-9._-]*) fail "the join token holds characters a join token never has (expected <id>.<secret>)" ;;
    esac
  elif [ ! -s "$data_dir/tls/worker.crt" ]; then
    fail "give the join token: --token TOKEN, --token-file FILE or WHARF_JOIN_TOKEN (the master prints its join line at start; admins make tokens on the Workers page)"
  fi

  # the worker, checked against the sha256 this script announces before it is kept or run
  mkdir -p "$home/bin"
  bundle=$home/bin/wharf-worker.mjs
  partial=$home/bin/.wharf-worker.mjs.$$
  trap 'rm -f "$partial"' EXIT
  say "downloading the worker $BUNDLE_VERSION from $WHARF_URL"
  fetch "$WHARF_URL/join/wharf-worker.mjs" "$partial" || fail "could not download $WHARF_URL/join/wharf-worker.mjs (curl's message is above)"
  got=$("$node_bin" -e 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))' "$partial")
  if [ "$got" != "$BUNDLE_SHA256" ]; then
    fail "REFUSED: the worker file downloaded has sha256 $got, but the master announced $BUNDLE_SHA256. It was changed on the way (or the master was rebuilt just now: then run the line again). It was not run and not kept."
  fi
  chmod 755 "$partial"
  mv -f "$partial" "$bundle"
  trap - EXIT
  say "worker file checked (sha256 $BUNDLE_SHA256): $bundle"

  if [ "$install_service" = 1 ]; then
    install_service "$@"
    return
  fi
  # the worker makes its data dir itself (mode 0700)
  export WHARF_DATA_DIR="$data_dir"
  if [ -n "$token" ]; then export WHARF_JOIN_TOKEN="$token"; fi
  say "starting the worker (data dir $data_dir; Ctrl-C stops it; --install-service keeps it running as a service)"
  # the token goes by the environment, never on the worker's command line; stdin may be this
  # script's pipe, which the worker does not read
  exec "$node_bin" "$bundle" --master "$master" --ca-hash "$WHARF_CA_HASH" "$@" </dev/null
}

install_service() {
  unit_dir=${WHARF_SYSTEMD_DIR:-/etc/systemd/system}
  etc_dir=${WHARF_ETC_DIR:-/etc/wharf}
  if [ "$(id -u)" != 0 ] && [ -z "${WHARF_SYSTEMD_DIR:-}" ]; then
    fail "--install-service writes a systemd unit and runs the worker as root: run the line with sudo (… | sudo sh -s -- …)"
  fi
  mkdir -p "$unit_dir" "$etc_dir" "$data_dir"
  chmod 700 "$data_dir"
  env_file=$etc_dir/wharf-worker.env
  unit=$unit_dir/wharf-worker.service
  # the token, readable by root only; the worker needs it once (to join), then its certificate
  (
    umask 077
    {
      echo '# Wharf worker settings (written by join.sh). The join token is needed only until the'
      echo '# worker has joined; then its certificate in the data dir is its identity.'
      echo "WHARF_DATA_DIR=$(env_value "$data_dir")"
      if [ -n "$token" ]; then echo "WHARF_JOIN_TOKEN=$(env_value "$token")"; fi
    } >"$env_file.tmp"
  )
  chmod 600 "$env_file.tmp"
  mv -f "$env_file.tmp" "$env_file"
  exec_start="$(systemd_arg "$node_bin") $(systemd_arg "$bundle") --master $(systemd_arg "$master") --ca-hash $(systemd_arg "$WHARF_CA_HASH")"
  for arg in "$@"; do exec_start="$exec_start $(systemd_arg "$arg")"; done
  cat >"$unit.tmp" <<EOF
# Written by Wharf's join.sh (served by $WHARF_URL).
[Unit]
Description=Wharf worker (master $master)
Documentation=$WHARF_URL/join.sh
Wants=network-online.target
After=network-online.target docker.service

[Service]
Type=simple
EnvironmentFile=$env_file
ExecStart=$exec_start
Restart=always
RestartSec=5
# SIGTERM to the worker only: it stops its tasks itself, each within its grace
KillMode=mixed
TimeoutStopSec=120

[Install]
WantedBy=multi-user.target
EOF
  mv -f "$unit.tmp" "$unit"
  say "wrote $unit and $env_file (0600)"
  if [ -z "${WHARF_SYSTEMD_DIR:-}" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable wharf-worker.service
    # restart: a service already running (this line run again to upgrade) picks up the new file
    systemctl restart wharf-worker.service
    say "the worker runs as the systemd service wharf-worker (systemctl status wharf-worker; journalctl -u wharf-worker -f)"
  elif [ -z "${WHARF_SYSTEMD_DIR:-}" ]; then
    say "systemd is not running on this machine, so the service was not started: start it with systemctl enable --now wharf-worker once systemd runs, or run the worker in the foreground (this line without --install-service)"
  else
    say "WHARF_SYSTEMD_DIR is set: the unit was written there and not enabled"
  fi
}

main "$@"
