#!/usr/bin/env bash
# Requests per second through nginx with 1, 2 and 3 instances on this
# machine: the demo data, GET /api/v1/cohorts?limit=20 with wrk (64
# connections, 10 s each). Needs wrk and the release build.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meridian-target}"
export MERIDIAN_BIN="${MERIDIAN_BIN:-$CARGO_TARGET_DIR/release/meridian}"
PASSWORD="cluster admin passphrase of the drive"
DB=postgres://postgres@127.0.0.1:54381/meridian
trap 'bash deploy/cluster.sh stop' EXIT
echo "| instances | req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|"
for n in 1 2 3; do
    bash deploy/cluster.sh start "$n" >/dev/null
    DATABASE_URL=$DB "$MERIDIAN_BIN" seed-demo >/dev/null
    echo "$PASSWORD" | DATABASE_URL=$DB "$MERIDIAN_BIN" create-admin --email admin@cluster.example \
        --name "Cluster Admin" >/dev/null
    token=$(curl -sf http://127.0.0.1:18200/api/v1/auth/login -H 'content-type: application/json' \
        -d "{\"email\":\"admin@cluster.example\",\"password\":\"$PASSWORD\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
    out=$(wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $token" \
        "http://127.0.0.1:18200/api/v1/cohorts?limit=20")
    echo "$out" | awk -v n="$n" '/Requests\/sec/ {r = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2}
        /Non-2xx/ {e += $NF} /Socket errors/ {gsub(",", ""); e += $4 + $6 + $8 + $10}
        END {printf "| %s | %.0f | %s | %s | %d |\n", n, r, p50, p99, e}'
done
