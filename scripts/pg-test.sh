#!/bin/bash
# A throwaway PostgreSQL 15 for tests and benchmarks.
#
#   scripts/pg-test.sh start DIR   initdb, start, create database `boxoffice`;
#                                  prints the connection URI on stdout
#   scripts/pg-test.sh stop DIR    stop the server and remove DIR
#
# The server listens only on a Unix socket (no TCP), with trust
# authentication; the superuser role is `boxoffice` and owns the database, so
# any local OS user (root included) connects with the printed URI:
#   postgresql:///boxoffice?host=<socket dir>&port=5432&user=boxoffice
#
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# system user `boxoffice-test` (created with useradd on first use) and the
# server commands run through runuser. When that user cannot reach DIR (e.g.
# it sits in a mode-0700 mktemp directory) or DIR's path is too long for a
# socket, the cluster lives in a fresh /tmp/boxoffice-pg.XXXXXX instead and
# DIR only records where; `stop DIR` removes both.
#
# `start` on a DIR whose cluster is up and answering just prints the URI
# again; a DIR left by a crashed run (it carries our marker file) is stopped
# and wiped first. A DIR that is not empty and lacks the marker is never
# touched. Every wait gives up after 30 s.
set -u

PG_BIN=/usr/lib/postgresql/15/bin
TEST_USER=boxoffice-test
ROLE=boxoffice
PORT=5432
TIMEOUT=30
MARKER=.boxoffice-pg-test

die() {
    echo "pg-test: $*" >&2
    exit 1
}

# Settings from the caller's environment (PGPORT, PGHOST, PGDATA...) would
# steer the server and clients away from this cluster.
for v in $(compgen -e | grep '^PG'); do unset "$v"; done

[ -x "$PG_BIN/pg_ctl" ] || die "PostgreSQL 15 not found in $PG_BIN (scripts/deps.sh test installs it)"

if [ "$(id -u)" = 0 ]; then AS_ROOT=1; else AS_ROOT=0; fi

# Runs a command as the cluster's owner, from / so that an unreadable
# working directory (root's home) does not bother the server tools.
as_owner() {
    if [ "$AS_ROOT" = 1 ]; then
        if command -v runuser >/dev/null; then
            (cd / && runuser -u "$TEST_USER" -- "$@")
        else
            (cd / && su -s /bin/sh "$TEST_USER" -c "$(printf '%q ' "$@")")
        fi
    else
        (cd / && "$@")
    fi
}

ensure_test_user() {
    id -u "$TEST_USER" >/dev/null 2>&1 && return 0
    command -v useradd >/dev/null || die "useradd is missing; cannot create $TEST_USER"
    # A concurrent start may have created it meanwhile: check again on failure.
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$TEST_USER" 2>/dev/null ||
        id -u "$TEST_USER" >/dev/null 2>&1 || die "cannot create system user $TEST_USER"
}

uri_for() { echo "postgresql:///boxoffice?host=$1&port=$PORT&user=$ROLE"; }

# Where DIR's cluster lives: DIR itself, or the directory recorded in DIR/home.
home_of() {
    local dir=$1
    if [ -f "$dir/home" ]; then cat "$dir/home"; else echo "$dir"; fi
}

is_up() {
    local home=$1
    [ -f "$home/data/postmaster.pid" ] &&
        "$PG_BIN/pg_isready" -q -h "$home" -p "$PORT" -U "$ROLE" -d boxoffice -t 2 >/dev/null 2>&1 &&
        "$PG_BIN/psql" -X -qAt -h "$home" -p "$PORT" -U "$ROLE" -d boxoffice -c 'SELECT 1' >/dev/null 2>&1
}

# Stops whatever server runs in $1/data: politely, then by force.
stop_server() {
    local home=$1
    local pidfile="$home/data/postmaster.pid"
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(head -1 "$pidfile" 2>/dev/null)
    as_owner "$PG_BIN/pg_ctl" stop -D "$home/data" -m fast -w -t "$TIMEOUT" >/dev/null 2>&1
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = postgres ]; then
        kill -KILL "$pid" 2>/dev/null
        for _ in $(seq 1 $((TIMEOUT * 10))); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    return 0
}

# Stops and removes DIR (and the /tmp home it points to). Refuses a non-empty
# directory that is not ours.
wipe() {
    local dir=$1
    [ -e "$dir" ] || return 0
    [ -d "$dir" ] || die "$dir exists and is not a directory"
    if [ ! -f "$dir/$MARKER" ] && [ -n "$(ls -A "$dir")" ]; then
        die "$dir is not empty and was not made by pg-test.sh; refusing to remove it"
    fi
    local home
    home=$(home_of "$dir")
    stop_server "$home"
    case "$home" in
        "$dir") ;;
        /tmp/boxoffice-pg.*) rm -rf -- "$home" ;;
    esac
    rm -rf -- "$dir"
}

start() {
    local dir=$1
    if [ -f "$dir/$MARKER" ]; then
        local home
        home=$(home_of "$dir")
        if is_up "$home"; then
            uri_for "$home"
            return 0
        fi
    fi
    wipe "$dir"
    mkdir -p "$dir" || die "cannot create $dir"
    touch "$dir/$MARKER"

    local home=$dir
    # The socket path (sun_path) holds 107 bytes; keep clear of it and of
    # characters that would need quoting in the config file or the URI.
    local relocate=0
    [ ${#dir} -gt 80 ] && relocate=1
    [[ "$dir" =~ ^[A-Za-z0-9/._-]+$ ]] || relocate=1
    if [ "$AS_ROOT" = 1 ]; then
        ensure_test_user
        if [ "$relocate" = 0 ]; then
            chown "$TEST_USER:" "$dir" 2>/dev/null
            as_owner test -w "$dir" -a -x "$dir" 2>/dev/null || relocate=1
        fi
    fi
    if [ "$relocate" = 1 ]; then
        home=$(mktemp -d /tmp/boxoffice-pg.XXXXXX) || die "cannot create a directory in /tmp"
        echo "$home" >"$dir/home"
        [ "$AS_ROOT" = 1 ] && chown "$TEST_USER:" "$home"
    fi
    chmod 755 "$home"

    if ! as_owner timeout "$TIMEOUT" "$PG_BIN/initdb" -D "$home/data" -U "$ROLE" -A trust -E UTF8 --locale=C \
        --no-sync --no-instructions >"$home/initdb.log" 2>&1; then
        cat "$home/initdb.log" >&2
        die "initdb failed"
    fi
    cat >>"$home/data/postgresql.conf" <<EOF

# pg-test.sh: a local, socket-only, durable test server
listen_addresses = ''
unix_socket_directories = '$home'
port = $PORT
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 128MB
EOF
    if ! as_owner "$PG_BIN/pg_ctl" start -D "$home/data" -l "$home/postgres.log" -w -t "$TIMEOUT" >/dev/null 2>&1; then
        tail -20 "$home/postgres.log" >&2
        die "postgres did not start"
    fi
    local ready=0
    for _ in $(seq 1 $((TIMEOUT * 10))); do
        if "$PG_BIN/pg_isready" -q -h "$home" -p "$PORT" -U "$ROLE" -d postgres -t 1 >/dev/null 2>&1; then
            ready=1
            break
        fi
        sleep 0.1
    done
    if [ "$ready" = 0 ]; then
        tail -20 "$home/postgres.log" >&2
        die "postgres not ready after ${TIMEOUT}s"
    fi
    if ! timeout "$TIMEOUT" "$PG_BIN/createdb" -h "$home" -p "$PORT" -U "$ROLE" -O "$ROLE" boxoffice >&2; then
        die "createdb failed"
    fi
    uri_for "$home"
}

[ $# -eq 2 ] || die "usage: $0 start|stop DIR"
DIR=$(realpath -m -- "$2") || die "bad directory $2"
case "$DIR" in
    / | /tmp | /root | /home | /usr | /var | /etc) die "refusing to use $DIR" ;;
esac
case "$1" in
    start) start "$DIR" ;;
    stop) wipe "$DIR" ;;
    *) die "usage: $0 start|stop DIR" ;;
esac
