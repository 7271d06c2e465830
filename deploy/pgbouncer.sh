#!/usr/bin/env bash
# Meridian behind PgBouncer: session pooling, then transaction pooling.
# Session pooling (as many server connections as Meridian's pool) must
# work, the script fails otherwise; transaction pooling (fewer server
# connections, its point) is tried and its verdict printed: Meridian keeps protocol-level
# prepared statements per connection, which transaction pooling hands to
# other clients unless PgBouncer tracks them (1.21 or later with
# max_prepared_statements).
#
#   bash deploy/pgbouncer.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meridian-target}"
BIN="${MERIDIAN_BIN:-$CARGO_TARGET_DIR/release/meridian}"
RUN="${PGBOUNCER_DIR:-/var/tmp/meridian-pgbouncer}"
PRIMARY=54391
BOUNCER=6439
PORT=18290
PASSWORD="pgbouncer admin passphrase of the check"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
if ! command -v pgbouncer >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq pgbouncer >/dev/null
fi
export MERIDIAN__DATABASE__LOCAL_DIR="$RUN/primary" MERIDIAN__DATABASE__LOCAL_PORT=$PRIMARY
export MERIDIAN__SERVER__PORT=$PORT MERIDIAN__WORKER__ENABLED=false MERIDIAN__LOG__FILTER=error
export MERIDIAN__DATABASE__MIGRATE_ON_START=false MERIDIAN__DATABASE__POOL_SIZE=4
stop() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null || true
    [ -f "$RUN/pgbouncer.pid" ] && kill "$(cat "$RUN/pgbouncer.pid")" 2>/dev/null || true
    sleep 0.5
}
trap 'stop; "$BIN" stop-local-db >/dev/null 2>&1 || true' EXIT
"$BIN" stop-local-db >/dev/null 2>&1 || true
rm -rf "$RUN" && mkdir -p "$RUN/primary"
[ "$(id -u)" = 0 ] && chown postgres:postgres "$RUN"
DATABASE_URL= "$BIN" migrate >/dev/null
echo "$PASSWORD" | DATABASE_URL="postgres://postgres@127.0.0.1:$PRIMARY/meridian" \
    "$BIN" create-admin --email admin@pgbouncer.example --name "PgBouncer Admin" >/dev/null

# Logs in, then creates and reads records from 8 clients at once; prints
# how many of the 160 requests failed.
drive() {
    python3 - "$PORT" "$PASSWORD" "$1" <<'PY'
import concurrent.futures, json, sys, urllib.error, urllib.request
port, password, mode = sys.argv[1], sys.argv[2], sys.argv[3]
def call(method, path, body=None, token=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method,
                                 data=json.dumps(body).encode() if body else None)
    req.add_header("content-type", "application/json")
    if token:
        req.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=20) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, None
    except OSError:
        return 0, None
status, pair = call("POST", "/api/v1/auth/login",
                    {"email": "admin@pgbouncer.example", "password": password})
if status != 200:
    print(160)
    sys.exit()
token = pair["access_token"]
def one(i):
    if i % 4 == 0:
        return call("POST", "/api/v1/institutions", {"name": f"Bouncer University {mode} {i}",
                    "kind": "university", "country_code": "KE"}, token)[0] == 201
    path = ["/api/v1/institutions?limit=5", "/api/v1/stats/overview", "/api/v1/me"][i % 3]
    return call("GET", path, token=token)[0] == 200
with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
    print(sum(1 for ok in pool.map(one, range(160)) if not ok))
PY
}

verdict=""
for mode in session transaction; do
    cat >"$RUN/pgbouncer.ini" <<INI
[databases]
meridian = host=127.0.0.1 port=$PRIMARY dbname=meridian user=postgres
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER
unix_socket_dir =
auth_type = trust
auth_file = $RUN/users.txt
pool_mode = $mode
default_pool_size = $([ "$mode" = session ] && echo 4 || echo 2)
pidfile = $RUN/pgbouncer.pid
logfile = $RUN/pgbouncer.log
INI
    echo '"postgres" ""' >"$RUN/users.txt"
    [ "$(id -u)" = 0 ] && chown -R postgres:postgres "$RUN"
    as_postgres pgbouncer -d "$RUN/pgbouncer.ini"
    sleep 0.5
    DATABASE_URL="postgres://postgres@127.0.0.1:$BOUNCER/meridian?sslmode=disable" "$BIN" serve &
    SERVER=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.1; done
    failed=$(drive "$mode")
    echo "PgBouncer $(pgbouncer --version | head -n 1 | awk '{print $2}'), pool_mode=$mode: $failed of 160 requests failed"
    verdict="$verdict $mode=$failed"
    stop
    SERVER=""
done
case "$verdict" in
*" session=0 "*) ;;
*) echo "session pooling must work"; exit 1 ;;
esac
