#!/usr/bin/env bash
# Meridian's benchmark: fills a database at programme scale, serves it, and
# drives each scenario with wrk at 64 connections while pgbench runs the SQL
# the endpoint runs, for the ratio. Prints one table.
#
#   bash bench/run.sh [scale] [seconds]      (defaults: 1 and 15)
#
# Needs the PostgreSQL 15 server binaries and wrk (Debian: apt-get install
# postgresql wrk). Everything runs on this machine, on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
SCALE="${1:-1}"
SECONDS_EACH="${2:-15}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/meridian-target}"
BIN="$CARGO_TARGET_DIR/release/meridian"
PORT=18080
PGPORT=54359
DATA=.meridian/bench-postgres
PASSWORD="bench passphrase of the load run"

command -v wrk >/dev/null || { echo "wrk is missing (apt-get install wrk)"; exit 1; }
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
cargo build --release --bin meridian -q

export MERIDIAN__DATABASE__LOCAL_DIR="$DATA"
export MERIDIAN__DATABASE__LOCAL_PORT="$PGPORT"
# Eight connections (four per server thread) serve this 2-core machine best:
# more backends only queue for the same cores, and tail latency grows.
POOL=8
export MERIDIAN__DATABASE__POOL_SIZE=$POOL
export MERIDIAN__SERVER__PORT="$PORT"
export MERIDIAN__SERVER__WORKERS=2
export MERIDIAN__WORKER__ENABLED=false
export MERIDIAN__AUTH__IP_LIMIT_PER_MINUTE=100000000
export MERIDIAN__AUTH__JWT_SECRET="benchmark-secret-of-more-than-32-bytes"
export MERIDIAN__LOG__FILTER=warn
DB="postgres://postgres@127.0.0.1:$PGPORT/meridian"
psql_() { psql -X -q -t -A "$DB" -c "$1"; }

# A fresh database at the asked scale.
"$BIN" migrate >/dev/null
psql -X -q "postgres://postgres@127.0.0.1:$PGPORT/postgres" \
  -c "DROP DATABASE IF EXISTS meridian WITH (FORCE)" -c "CREATE DATABASE meridian" >/dev/null
echo "seeding at scale $SCALE ..."
"$BIN" seed-bench --scale "$SCALE" | tail -n 1
# Settle the load's aftermath (visibility maps, a checkpoint) before measuring.
psql_ "VACUUM ANALYZE"
psql_ "CHECKPOINT"
echo "$PASSWORD" | "$BIN" create-admin --email bench-admin@bench.example --name "Bench Admin" >/dev/null
# A partner of the first institution, with the admin's password hash.
psql_ "INSERT INTO users (id, email, full_name, role, institution_id, password_hash)
       SELECT md5('bench-partner')::uuid, 'bench-partner@bench.example', 'Bench Partner', 'partner',
              md5('i1')::uuid, password_hash FROM users WHERE email = 'bench-admin@bench.example'"
COHORT=$(psql_ "SELECT id FROM cohorts WHERE status = 'running' ORDER BY id LIMIT 1")
OPEN=$(psql_ "UPDATE cohorts SET status = 'open', nominations_open_at = now() - interval '1 day',
              nominations_close_at = now() + interval '30 days', capacity = 1000000
              WHERE id = (SELECT id FROM cohorts WHERE status = 'open' ORDER BY id LIMIT 1) RETURNING id")
psql_ "SELECT '$OPEN' || ' ' || id FROM trainees
       WHERE id NOT IN (SELECT trainee_id FROM enrollments WHERE cohort_id = '$OPEN') ORDER BY id LIMIT 40000" > bench/nominate.txt
# A hundred more open cohorts without quotas: nominations spread over them,
# and acceptances of 600 nominations in each (made here in SQL, as the
# seeding makes them: the acceptances are what is measured).
psql_ "CREATE TABLE bench_spread AS SELECT id FROM cohorts
       WHERE status IN ('open', 'closed') AND id <> '$OPEN' ORDER BY id LIMIT 100"
psql_ "UPDATE cohorts SET status = 'open', nominations_open_at = now() - interval '1 day',
       nominations_close_at = now() + interval '30 days', capacity = 1000000, max_per_institution = NULL
       WHERE id IN (SELECT id FROM bench_spread)"
psql_ "INSERT INTO enrollments (id, cohort_id, trainee_id, institution_id, nominated_by)
       SELECT gen_random_uuid(), c.id, t.id, t.institution_id,
              (SELECT id FROM users WHERE email = 'bench-admin@bench.example')
       FROM bench_spread c CROSS JOIN LATERAL (
         SELECT id, institution_id FROM trainees t WHERE NOT EXISTS
           (SELECT 1 FROM enrollments e WHERE e.cohort_id = c.id AND e.trainee_id = t.id)
         ORDER BY md5(c.id::text || t.id::text) LIMIT 1200) t"
# What each write scenario is given, over HTTP and (another share of the
# same kind, so that no row is written twice) to pgbench: `bench_pool`
# holds pgbench's, taken in order through a sequence per scenario.
psql_ "CREATE TABLE bench_pool (scenario text, n int, a uuid, b uuid, PRIMARY KEY (scenario, n))"
psql_ "CREATE TABLE bench_accepts AS SELECT cohort_id, id, row_number() OVER (ORDER BY md5(id::text)) AS n
       FROM enrollments WHERE cohort_id IN (SELECT id FROM bench_spread) AND status = 'nominated'"
psql_ "SELECT cohort_id || ' ' || id FROM bench_accepts WHERE n <= 48000 ORDER BY n" > bench/accepts.txt
psql_ "INSERT INTO bench_pool SELECT 'accept', n - 48000, cohort_id, id FROM bench_accepts WHERE n > 48000"
psql_ "CREATE TABLE bench_pairs AS SELECT c.id AS cohort_id, t.id AS trainee_id,
         row_number() OVER (PARTITION BY c.id ORDER BY md5(c.id::text || t.id::text)) AS k
       FROM bench_spread c CROSS JOIN LATERAL (
         SELECT id FROM trainees t WHERE NOT EXISTS
           (SELECT 1 FROM enrollments e WHERE e.cohort_id = c.id AND e.trainee_id = t.id)
         ORDER BY md5(c.id::text || t.id::text) LIMIT 2000) t"
psql_ "SELECT cohort_id || ' ' || trainee_id FROM bench_pairs WHERE k <= 1000
       ORDER BY md5(cohort_id::text || trainee_id::text)" > bench/spread.txt
psql_ "INSERT INTO bench_pool SELECT 'nominate_spread', row_number() OVER (ORDER BY md5(cohort_id::text || trainee_id::text)),
       cohort_id, trainee_id FROM bench_pairs WHERE k > 1000"
psql_ "INSERT INTO bench_pool SELECT 'nominate', row_number() OVER (ORDER BY id), '$OPEN', id FROM (
         SELECT id FROM trainees WHERE id NOT IN (SELECT trainee_id FROM enrollments WHERE cohort_id = '$OPEN')
         ORDER BY id OFFSET 40000) t"
psql_ "CREATE SEQUENCE bench_nominate; CREATE SEQUENCE bench_nominate_spread; CREATE SEQUENCE bench_accept"
# Fold the tally deltas those rows made, as the server's job would.
psql_ "SELECT meridian_fold_tallies()" >/dev/null
psql_ "VACUUM ANALYZE enrollments, tallies, tally_deltas"

"$BIN" serve & SERVER=$!
trap 'kill $SERVER 2>/dev/null || true; rm -rf "${SQL:-}"' EXIT
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break; sleep 0.2; done
login() {
  curl -sf "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$1\",\"password\":\"$PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}
ADMIN=$(login bench-admin@bench.example)
PARTNER=$(login bench-partner@bench.example)

# Each scenario: name, token, path, and a pgbench script of every statement
# the endpoint sends, in order, the bearer's standing check included, with
# the endpoint's own SQL text (values inline). pgbench prepares them, as the
# server does, over as many connections as the server has (at 64 clients
# PostgreSQL does less on two cores, which would flatter the ratio).
SQL=$(mktemp -d)
ADMIN_ID=$(psql_ "SELECT id FROM users WHERE email = 'bench-admin@bench.example'")
PARTNER_ID=$(psql_ "SELECT id FROM users WHERE email = 'bench-partner@bench.example'")
standing() {
  echo "SELECT role, disabled, token_version, institution_id, trainee_id, EXISTS (SELECT * FROM refresh_tokens WHERE family_id = gen_random_uuid() AND revoked_at IS NOT NULL) FROM users WHERE id = '$1' LIMIT 1;"
}
SEATS="cohorts.seats_taken::bigint, cohorts.waitlist_length::bigint"
# The tallies of some dimensions over one scope, as src/stats/mod.rs reads them.
tallies() {
  echo "SELECT scope_id AS scope_id, dim, key, status, sum(n)::bigint AS n FROM (SELECT scope_id, dim, key, status, n FROM tallies WHERE scope_id = '$1' AND dim = ANY('{$2}') UNION ALL SELECT scope_id, dim, key, status, n FROM tally_deltas WHERE scope_id = '$1' AND dim = ANY('{$2}')) t GROUP BY 1, 2, 3, 4 HAVING sum(n) <> 0"
}
NIL=00000000-0000-0000-0000-000000000000
{ standing "$ADMIN_ID"; echo "SELECT cohorts.*, $SEATS FROM cohorts WHERE id = '$COHORT' LIMIT 1;"; } > "$SQL/cohort.sql"
{ standing "$ADMIN_ID"; echo "SELECT cohorts.*, $SEATS FROM cohorts ORDER BY created_at ASC, id ASC LIMIT 51;"; } > "$SQL/cohorts.sql"
{ standing "$(psql_ "SELECT md5('bench-partner')::uuid")"
  echo "SELECT * FROM trainees WHERE institution_id = md5('i1')::uuid ORDER BY created_at ASC, id ASC LIMIT 51;"; } > "$SQL/trainees.sql"
{ standing "$ADMIN_ID"
  echo "SELECT dim, key, NULL::text AS label, status, n FROM ($(tallies "$NIL" "all,certified,cohorts,trainees,institutions,programs,ventures,venture_jobs,venture_funding_cents,exchanges")) t;"; } > "$SQL/overview.sql"
{ standing "$ADMIN_ID"
  echo "SELECT t.dim, t.key AS key, NULL::text AS label, t.status, sum(t.n)::bigint AS n FROM ($(tallies "$NIL" nationality)) t GROUP BY 1, 2, 3, 4 ORDER BY 2;"; } > "$SQL/by_country.sql"
{ standing "$ADMIN_ID"; echo "SELECT * FROM users WHERE id = '$ADMIN_ID' LIMIT 1;"; } > "$SQL/me.sql"
# A partner's new trainee, in one transaction: the e-mail checked free, the
# row, its audit record, the webhook subscriptions that may hear of it.
{ standing "$PARTNER_ID"; echo '\set n random(1, 9000000000000000000)'
  echo "BEGIN;"
  echo "SELECT id, institution_id FROM trainees WHERE email = 'pgbench-' || :client_id || '-' || :n || '@bench.example' LIMIT 1;"
  echo "INSERT INTO trainees (id, institution_id, given_name, family_name, email, nationality, gender, locale) VALUES (gen_random_uuid(), md5('i1')::uuid, 'Ama', 'Mensah', 'pgbench-' || :client_id || '-' || :n || '@bench.example', 'GH', 'female', 'en') RETURNING *;"
  echo "INSERT INTO audit_events (id, actor_id, action, entity_type, entity_id, changes, request_id) VALUES (gen_random_uuid(), '$PARTNER_ID', 'create', 'trainee', gen_random_uuid(), '{}', 'bench');"
  echo "SELECT id, institution_id FROM webhook_subscriptions WHERE active = true AND events && ARRAY['trainee.created', '*'];"
  echo "COMMIT;"; } > "$SQL/create_trainee.sql"
{ standing "$ADMIN_ID"; echo "SELECT capacity AS n FROM cohorts WHERE id = '$COHORT';"
  echo "SELECT dim, key, NULL::text AS label, status, n FROM ($(tallies "$COHORT" "all,nationality,gender,attendance")) t;"; } > "$SQL/cohort_stats.sql"

# A nomination and an acceptance, as src/enrollments/repo.rs sends them:
# the pool's next pair (one read more than the server does), then the
# trainee, the cohort (shared, or locked with its seats taken), the row, its
# history, audit record, email and the webhook read (a nomination sends its
# history, audit record and email at once; a move its history and audit
# record at once, then the email).
# The email of a move to $1: its payload read and the row queued in one statement.
email() {
  echo "INSERT INTO notifications (id, template, recipient, locale, payload, dedupe_key) SELECT gen_random_uuid(), 'enrollment_$1', t.email, t.locale, jsonb_build_object('given_name', t.given_name, 'cohort_title', c.title, 'program_title', p.title, 'institution_name', i.name, 'starts_on', c.starts_on, 'ends_on', c.ends_on) || '{}', 'enrollment_$1:' || e.id FROM enrollments e JOIN trainees t ON t.id = e.trainee_id JOIN cohorts c ON c.id = e.cohort_id JOIN programs p ON p.id = c.program_id JOIN institutions i ON i.id = e.institution_id WHERE e.id = :id ON CONFLICT DO NOTHING;"
}
moved() { # $1 from, $2 to
  echo "INSERT INTO transitions (id, entity_type, entity_id, from_status, to_status, by_user, note) VALUES (gen_random_uuid(), 'enrollment', :id, '$1', '$2', '$ADMIN_ID', NULL);"
  echo "INSERT INTO audit_events (id, actor_id, action, entity_type, entity_id, changes, request_id) VALUES (gen_random_uuid(), '$ADMIN_ID', 'enrollment.transition', 'enrollment', :id, '{\"note\": null, \"status\": {\"to\": \"$2\", \"from\": \"$1\"}}', 'bench');"
  email "$2"
  echo "SELECT id, institution_id FROM webhook_subscriptions WHERE active = true AND events && ARRAY['enrollment.$2', '*'];"
}
for scenario in nominate nominate_spread; do
  { standing "$ADMIN_ID"; echo "BEGIN;"
    echo "SELECT a AS cohort_id, b AS trainee_id FROM bench_pool WHERE scenario = '$scenario' AND n = (SELECT nextval('bench_$scenario'))"; echo '\gset'
    echo "SELECT institution_id FROM trainees WHERE id = :trainee_id LIMIT 1"; echo '\gset'
    echo "SELECT * FROM cohorts WHERE id = :cohort_id LIMIT 1 FOR SHARE;"
    echo "INSERT INTO enrollments (id, cohort_id, trainee_id, institution_id, motivation, nominated_by) VALUES (gen_random_uuid(), :cohort_id, :trainee_id, :institution_id, NULL, '$ADMIN_ID') RETURNING *"; echo '\gset'
    moved new nominated; echo "COMMIT;"; } > "$SQL/$scenario.sql"
done
{ standing "$ADMIN_ID"; echo "BEGIN;"
  echo "SELECT a AS cohort_id, b AS id FROM bench_pool WHERE scenario = 'accept' AND n = (SELECT nextval('bench_accept'))"; echo '\gset'
  echo "SELECT *, seats_taken FROM cohorts WHERE id IN (SELECT cohort_id FROM enrollments WHERE id = :id) LIMIT 1 FOR UPDATE;"
  echo "SELECT * FROM enrollments WHERE id = :id LIMIT 1 FOR UPDATE;"
  echo "UPDATE enrollments SET status = 'accepted', decided_at = now(), note = NULL WHERE id = :id RETURNING *;"
  moved nominated accepted; echo "COMMIT;"; } > "$SQL/accept.sql"

pgbench_tps() {
  [ -z "$1" ] && { echo "-"; return; }
  local out
  if out=$("$PG_BIN/pgbench" -n -M prepared --random-seed=rand -c "$POOL" -j 2 -T "$SECONDS_EACH" \
             -f "$SQL/$1.sql" "$DB" 2>"$SQL/pgbench.err"); then
    echo "$out" | awk '/^tps/ {printf "%.0f", $3; exit}'
  else
    echo "pgbench $1 failed: $(grep -m1 error "$SQL/pgbench.err")" >&2
    echo "-"
  fi
}

printf "| scenario | req/s | p50 | p99 | errors | pgbench tps | ratio | server RSS after |\n|---|---|---|---|---|---|---|---|\n"
run() {
  local name="$1" token="$2" path="$3" sql="$4" mode="${5:-}" arg="${6:-}"
  local out
  if [ -n "$mode" ]; then
    out=$(wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $token" \
          -H 'Content-Type: application/json' -s bench/writes.lua "http://127.0.0.1:$PORT$path" -- "$mode" "$arg")
  else
    out=$(wrk -t2 -c64 -d"${SECONDS_EACH}s" --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$PORT$path")
  fi
  local rps p50 p99 errors
  rps=$(echo "$out" | awk '/Requests\/sec/ {printf "%.0f", $2}')
  p50=$(echo "$out" | awk '$1 == "50%" {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  errors=$(echo "$out" | awk '/Non-2xx/ {n += $NF} /Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} END {print n + 0}')
  local tps ratio="-"
  tps=$(pgbench_tps "$sql")
  [ "$tps" != "-" ] && [ -n "$tps" ] && ratio=$(python3 -c "print(f'{$rps / $tps:.2f}')")
  local rss
  rss=$(awk '/VmRSS/ {printf "%.0f MB", $2 / 1024}' "/proc/$SERVER/status")
  printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n" "$name" "$rps" "$p50" "$p99" "$errors" "$tps" "$ratio" "$rss"
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$name" "$rps" "$p50" "$p99" "$errors" "$tps" "$ratio" >>"$SQL/rows.tsv"
}
run "GET /cohorts/{id}" "$ADMIN" "/api/v1/cohorts/$COHORT" cohort
run "GET /cohorts?limit=50" "$ADMIN" "/api/v1/cohorts?limit=50" cohorts
run "partner GET /trainees?limit=50" "$PARTNER" "/api/v1/trainees?limit=50" trainees
run "GET /stats/overview" "$ADMIN" "/api/v1/stats/overview" overview
run "GET /stats/enrollments?group_by=country" "$ADMIN" "/api/v1/stats/enrollments?group_by=country" by_country
run "GET /stats/cohorts/{id}" "$ADMIN" "/api/v1/stats/cohorts/$COHORT" cohort_stats
# The knowledge statistics count once, then answer from what they counted
# until the data change: the first count is timed on its own.
KNOWLEDGE_LINE="First count of GET /stats/knowledge: $(for q in "" "?group_by=kind"; do
  curl -s -o /dev/null -w "%{time_total} s " -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/v1/stats/knowledge$q"
done)(flows, kinds)"
run "GET /stats/knowledge (kept counts)" "$ADMIN" "/api/v1/stats/knowledge" ""
run "GET /stats/knowledge?group_by=kind (kept counts)" "$ADMIN" "/api/v1/stats/knowledge?group_by=kind" ""
# A whole list as CSV: every enrollment, streamed.
read -r first total bytes < <(curl -s -o "$SQL/export.csv" -w '%{time_starttransfer} %{time_total} %{size_download}\n' \
  -H "Authorization: Bearer $ADMIN" -H 'Accept: text/csv' "http://127.0.0.1:$PORT/api/v1/enrollments")
rows=$(($(wc -l < "$SQL/export.csv") - 1))
rm -f "$SQL/export.csv"
EXPORT_LINE=$(python3 -c "print(f'CSV export of GET /enrollments: {$rows:,} rows, {$bytes / 1e6:.0f} MB, first byte after {$first * 1000:.0f} ms, all in {$total:.1f} s ({$rows / $total:,.0f} rows/s), server RSS after it {$(awk '/VmRSS/ {print $2}' "/proc/$SERVER/status") / 1024:.0f} MB')")
run "GET /me" "$ADMIN" "/api/v1/me" me
run "partner POST /trainees" "$PARTNER" "/api/v1/trainees" create_trainee trainee \
  "$(psql_ "SELECT institution_id FROM users WHERE id = '$PARTNER_ID'")"
run "POST nominate" "$ADMIN" "/api/v1/cohorts/$OPEN/enrollments" nominate nominate bench/nominate.txt
run "POST nominate, 100 cohorts" "$ADMIN" "/api/v1/cohorts" nominate_spread nominate bench/spread.txt
run "POST accept, 100 cohorts" "$ADMIN" "/api/v1/enrollments" accept accept bench/accepts.txt

# A burst of 500 concurrent logins, each at its own unknown address (each
# pays for a hash), while another client reads a cohort: hashing is bounded
# (one core is left to the rest) and holds no database connection, so the
# reader's tail latency stays low. Past 2 s of waiting a login gets 503.
wrk -t1 -c500 -d8s --timeout 10s -s bench/burst.lua "http://127.0.0.1:$PORT/api/v1/auth/login" \
  > "$SQL/burst.txt" 2>&1 & BURST=$!
sleep 1
reader=$(wrk -t1 -c8 -d5s --latency -H "Authorization: Bearer $ADMIN" "http://127.0.0.1:$PORT/api/v1/cohorts/$COHORT")
wait $BURST
BURST_LINE="Login burst (500 connections, 8 s): $(awk '/Requests\/sec/ {printf "%.0f answers/s", $2}' "$SQL/burst.txt"), \
$(grep '^answers:' "$SQL/burst.txt"); a reader meanwhile: \
$(echo "$reader" | awk '/Requests\/sec/ {r = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {printf "%.0f req/s, p50 %s, p99 %s", r, p50, p99}')"

echo
echo "$KNOWLEDGE_LINE"
echo "$EXPORT_LINE"
echo "$BURST_LINE"
PEAK=$(awk '/VmHWM/ {printf "%.0f", $2 / 1024}' "/proc/$SERVER/status")
echo "server peak RSS: $PEAK MB"

# The table as JSON in target/bench.json, beside the previous run's figures.
mkdir -p target
python3 - "$SQL/rows.tsv" "$PEAK" target/bench.json <<'PY'
import json, os, sys
rows_file, peak, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
def number(v):
    try:
        return float(v)
    except ValueError:
        return None
rows = []
for line in open(rows_file):
    name, rps, p50, p99, errors, tps, ratio = line.rstrip("\n").split("\t")
    rows.append({"scenario": name, "req_per_s": number(rps), "p50": p50, "p99": p99,
                 "errors": int(errors or 0), "pgbench_tps": number(tps), "ratio": number(ratio),
                 "peak_rss_mb": peak})
before = {}
if os.path.exists(out):
    try:
        before = {r["scenario"]: r for r in json.load(open(out))["scenarios"]}
    except (ValueError, KeyError):
        before = {}
if before:
    print("\n| scenario | req/s before | req/s now | p99 before | p99 now |\n|---|---|---|---|---|")
    for r in rows:
        b = before.get(r["scenario"], {})
        print(f"| {r['scenario']} | {b.get('req_per_s', '-')} | {r['req_per_s']} | {b.get('p99', '-')} | {r['p99']} |")
json.dump({"scenarios": rows}, open(out, "w"), indent=1)
print(f"\nwritten to {out}")
PY
