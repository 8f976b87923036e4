#!/usr/bin/env bash
# A throw-away PostgreSQL for the archive's tests and benchmarks, from Debian's
# postgresql package (installed with apt-get when missing).
#
#   hack/postgres.sh start DIR    initdb into DIR (first time), start on a free
#                                 127.0.0.1 port, print the URL of the database
#   hack/postgres.sh stop DIR     stop it, keeping the data (start resumes it on
#                                 the same port)
#   hack/postgres.sh destroy DIR  stop it and delete DIR
#
# PostgreSQL refuses to run as root, so as root the server runs as `nobody`.
# Password authentication is on (scram-sha-256), so a wrong password fails as
# it would against a real server.
set -euo pipefail

log() { echo "postgres.sh: $*" >&2; }
die() { log "$*"; exit 1; }

bindir() {
  local dir
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$dir/initdb" && -x "$dir/pg_ctl" ]] && { echo "$dir"; return 0; }
  done
  return 1
}

install_postgres() {
  bindir >/dev/null && return 0
  [[ $(id -u) -eq 0 ]] || die "PostgreSQL is not installed and installing it needs root: apt-get install postgresql"
  log "installing Debian's postgresql package"
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y --no-install-recommends postgresql >&2; then
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
  fi
  bindir >/dev/null || die "postgresql installed, but no initdb under /usr/lib/postgresql/*/bin"
}

# as_owner runs a command as the user that owns the data directory.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

free_port() {
  local port
  for _ in $(seq 1 50); do
    port=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# The cluster lives in a directory of its own under the temporary directory,
# owned by the user the server runs as (DIR and its parents may not be
# reachable for that user); DIR keeps the port, the password and where the
# cluster is.
init_cluster() {
  local dir=$1 bin=$2 cluster
  mkdir -p "$dir"
  [[ -z $(ls -A "$dir") ]] || die "$dir is neither empty nor a database made by this script"
  chmod 700 "$dir"
  cluster=$(mktemp -d "${TMPDIR:-/tmp}/postgres.XXXXXX")
  head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
  cp "$dir/password" "$cluster/pwfile"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R nobody "$cluster"
  fi
  if ! as_owner "$bin/initdb" --pgdata="$cluster/data" --username=archive --pwfile="$cluster/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    rm -rf "$cluster" "${dir:?}"/*
    die "initdb failed"
  fi
  rm -f "$cluster/pwfile"
  free_port >"$dir/port"
  echo "$cluster" >"$dir/cluster"
}

start() {
  local dir=$1 bin
  install_postgres
  bin=$(bindir)
  [[ -f "$dir/cluster" ]] || init_cluster "$dir" "$bin"
  local port password cluster
  port=$(cat "$dir/port")
  password=$(cat "$dir/password")
  cluster=$(cat "$dir/cluster")
  if ! as_owner "$bin/pg_ctl" status --pgdata="$cluster/data" >/dev/null 2>&1; then
    # fsync off: this database lives for one test run; durability across a
    # power cut is not what the tests are about.
    as_owner "$bin/pg_ctl" start --pgdata="$cluster/data" --wait --timeout=60 --log="$cluster/server.log" \
      -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$cluster -c fsync=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
      { tail -n 20 "$cluster/server.log" >&2; die "PostgreSQL did not start (port $port)"; }
  fi
  echo "postgres://archive:$password@127.0.0.1:$port/postgres?sslmode=disable"
}

stop() {
  local dir=$1 bin cluster
  [[ -f "$dir/cluster" ]] || return 0
  cluster=$(cat "$dir/cluster")
  bin=$(bindir) || return 0
  if as_owner "$bin/pg_ctl" status --pgdata="$cluster/data" >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" stop --pgdata="$cluster/data" --wait --mode=fast >/dev/null
  fi
}

[[ $# -eq 2 ]] || die "usage: $0 start|stop|destroy DIR"
dir=$2
case $1 in
  start) start "$dir" ;;
  stop) stop "$dir" ;;
  destroy)
    stop "$dir"
    [[ -f "$dir/cluster" ]] && rm -rf "$(cat "$dir/cluster")"
    rm -rf "$dir"
    ;;
  *) die "usage: $0 start|stop|destroy DIR" ;;
esac
