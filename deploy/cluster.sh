#!/usr/bin/env bash
# Meridian as a ministry would run it, on one machine and on loopback: a
# PostgreSQL primary and a streaming replica, N instances of Meridian, and
# nginx in front of them.
#
#   bash deploy/cluster.sh start [N]    starts everything (default N = 2)
#   bash deploy/cluster.sh kill I       SIGKILLs instance I (1..N)
#   bash deploy/cluster.sh revive I     starts instance I again
#   bash deploy/cluster.sh stop         stops everything
#
# nginx listens on 127.0.0.1:18200, instance I on 18200 + I. Emails go to
# files under $CLUSTER_DIR/mail. MERIDIAN_BIN picks the binary (default:
# the release build). Needs nginx and the PostgreSQL server binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meridian-target}"
BIN="${MERIDIAN_BIN:-$CARGO_TARGET_DIR/release/meridian}"
RUN="${CLUSTER_DIR:-/var/tmp/meridian-cluster}"
PRIMARY=54381
REPLICA=54382
NGINX=18200
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# What every instance shares: the database, the replica, the signing key,
# the proxy it trusts.
export DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY/meridian"
export MERIDIAN__DATABASE__REPLICA_URL="postgres://postgres@127.0.0.1:$REPLICA/meridian"
export MERIDIAN__DATABASE__POOL_SIZE=8
export MERIDIAN__DATABASE__MIGRATE_ON_START=false
export MERIDIAN__SERVER__WORKERS=2
export MERIDIAN__SERVER__TRUSTED_PROXIES=127.0.0.1
export MERIDIAN__AUTH__JWT_SECRET="${CLUSTER_JWT_SECRET:-cluster run key $(hostname) $RUN}"
export MERIDIAN__EMAIL__TRANSPORT=file
export MERIDIAN__EMAIL__FILE_DIR="$RUN/mail"
export MERIDIAN__WORKER__POLL_INTERVAL_MS=200
# An email claimed by an instance that dies is retried after this lease.
export MERIDIAN__WORKER__LEASE_SECS=5
export MERIDIAN__EMAIL__SMTP_TIMEOUT_SECS=4
export MERIDIAN__LOG__FILTER=warn

instance() {
    local i=$1
    MERIDIAN__SERVER__PORT=$((NGINX + i)) nohup "$BIN" serve >>"$RUN/instance-$i.log" 2>&1 &
    echo $! >"$RUN/instance-$i.pid"
    for _ in $(seq 1 100); do
        curl -sf "http://127.0.0.1:$((NGINX + i))/readyz" >/dev/null && return 0
        sleep 0.1
    done
    echo "instance $i did not start; see $RUN/instance-$i.log" >&2
    return 1
}

stop_all() {
    [ -f "$RUN/nginx.pid" ] && nginx -p "$RUN" -c "$RUN/nginx.conf" -s stop 2>/dev/null || true
    for pid in "$RUN"/instance-*.pid; do
        [ -f "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
        rm -f "$pid"
    done
    for db in replica primary; do
        [ -d "$RUN/$db/data" ] && as_postgres "$PG_BIN/pg_ctl" stop -m fast -D "$RUN/$db/data" >/dev/null 2>&1 || true
    done
}

case "${1:-}" in
start)
    N="${2:-2}"
    stop_all
    rm -rf "$RUN"
    mkdir -p "$RUN/mail" "$RUN/primary" "$RUN/replica"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$RUN/primary" "$RUN/replica"
    # The primary: Meridian's own private cluster, migrated.
    MERIDIAN__DATABASE__LOCAL_DIR="$RUN/primary" MERIDIAN__DATABASE__LOCAL_PORT=$PRIMARY DATABASE_URL= \
        "$BIN" migrate >/dev/null
    # The replica: a base backup that follows the primary.
    as_postgres "$PG_BIN/pg_basebackup" -h 127.0.0.1 -p $PRIMARY -U postgres -X stream -R \
        --checkpoint=fast --no-sync -D "$RUN/replica/data"
    as_postgres "$PG_BIN/pg_ctl" start -w -D "$RUN/replica/data" -l "$RUN/replica/postgres.log" \
        -o "-p $REPLICA -c listen_addresses=127.0.0.1 -k $RUN/replica" >/dev/null
    for i in $(seq 1 "$N"); do instance "$i"; done
    {
        echo "pid $RUN/nginx.pid; error_log $RUN/nginx-error.log; worker_processes 1;"
        echo "events { worker_connections 1024; }"
        echo "http { access_log off; upstream meridian {"
        for i in $(seq 1 "$N"); do echo "  server 127.0.0.1:$((NGINX + i)) max_fails=1 fail_timeout=2s;"; done
        echo "  keepalive 64; }"
        echo "  server { listen 127.0.0.1:$NGINX; client_body_temp_path $RUN/body; proxy_temp_path $RUN/proxy;"
        echo "    location / { proxy_pass http://meridian; proxy_http_version 1.1;"
        echo "      proxy_set_header Connection \"\"; proxy_set_header Host \$host;"
        echo "      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
        echo "      proxy_next_upstream error timeout; } } }"
    } >"$RUN/nginx.conf"
    nginx -p "$RUN" -c "$RUN/nginx.conf"
    echo "http://127.0.0.1:$NGINX with $N instances, primary :$PRIMARY, replica :$REPLICA"
    ;;
kill)
    pid=$(cat "$RUN/instance-$2.pid")
    kill -9 "$pid"
    # Back once the kernel has closed its sockets (a zombie holds none), so
    # that a revive finds its port free.
    for _ in $(seq 1 200); do
        [ -e "/proc/$pid" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status" 2>/dev/null || break
        sleep 0.05
    done
    ;;
revive)
    instance "$2"
    ;;
stop)
    stop_all
    ;;
*)
    sed -n '2,13p' "$0"
    exit 2
    ;;
esac
