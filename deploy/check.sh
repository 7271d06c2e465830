#!/usr/bin/env bash
# Starts the cluster of deploy/cluster.sh with N instances (default 2),
# drives it with deploy/drive.py, and stops it however that ends. CI runs it
# with the debug build.
#
#   MERIDIAN_BIN=target/debug/meridian bash deploy/check.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meridian-target}"
export MERIDIAN_BIN="${MERIDIAN_BIN:-$CARGO_TARGET_DIR/release/meridian}"
if ! command -v nginx >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null ||
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
fi
PASSWORD="cluster admin passphrase of the drive"
trap 'bash deploy/cluster.sh stop' EXIT
bash deploy/cluster.sh start "$N"
echo "$PASSWORD" | DATABASE_URL=postgres://postgres@127.0.0.1:54381/meridian \
    "$MERIDIAN_BIN" create-admin --email admin@cluster.example --name "Cluster Admin" >/dev/null
python3 deploy/drive.py "$N" admin@cluster.example "$PASSWORD"
