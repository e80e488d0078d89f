#!/usr/bin/env bash
# The import benchmark, side by side in one run: Engajar's import of a generated
# 1,000,000-row layout file on SQLite and PostgreSQL, beside the physical floor (the
# file loaded into one bare table) and the schema's own floor (the same rows written
# into Engajar's tables by set-based SQL). Needs sqlite3, psql and a PostgreSQL server
# (PG_URL, default postgres://postgres@127.0.0.1:5432/postgres); the web rows (name search
# under load, the HTTP form on PostgreSQL) need curl and wrk (`serve.sh`).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-1000000}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_ROOT=${PG_URL%/*}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo build --release --example layout_bench
cargo build --release
B=target/release/engajar
target/release/examples/layout_bench generate "$ROWS" "$WORK/publico.csv"
measure() { /usr/bin/time -f "%e s, %M KB peak" "$@"; }

echo "== engajar import, SQLite"
$B --database-url "sqlite://$WORK/bench.db" segment add Bench >/dev/null
RUST_LOG=info measure $B --database-url "sqlite://$WORK/bench.db" import "$WORK/publico.csv" \
    --description Bench --segment Bench --basis consentimento --json | head -c 300; echo
bash examples/bench/serve.sh "sqlite://$WORK/bench.db" SQLite
echo "== sqlite3 .import into a bare table (physical floor)"
measure sqlite3 "$WORK/floor.db" -cmd ".mode csv" -cmd ".separator ;" ".import $WORK/publico.csv bare"
echo "== the same rows into Engajar's tables by SQL (schema floor, after the .import)"
cat migrations/sqlite/*/up.sql | sqlite3 "$WORK/floor.db"
measure sqlite3 "$WORK/floor.db" < examples/bench/model_floor_sqlite.sql

for db in engajar_bench engajar_floor; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
done
echo "== engajar import, PostgreSQL"
$B --database-url "$PG_ROOT/engajar_bench" segment add Bench >/dev/null
RUST_LOG=info measure $B --database-url "$PG_ROOT/engajar_bench" import "$WORK/publico.csv" \
    --description Bench --segment Bench --basis consentimento --json | head -c 300; echo
bash examples/bench/serve.sh "$PG_ROOT/engajar_bench" PostgreSQL
echo "== engajar import through the HTTP form, PostgreSQL (upload kept in the database)"
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS engajar_form" -c "CREATE DATABASE engajar_form"
$B --database-url "$PG_ROOT/engajar_form" segment add Bench >/dev/null
SEARCH=0 FORM_FILE="$WORK/publico.csv" bash examples/bench/serve.sh "$PG_ROOT/engajar_form" PostgreSQL
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS engajar_form"
echo "== psql \\copy into a bare table (physical floor)"
psql "$PG_ROOT/engajar_floor" -qc "CREATE TABLE bare (a text, b text, c text, d text, e text, f text, g text, h text, i text, j text, k text, l text, m text)"
measure psql "$PG_ROOT/engajar_floor" -c "\\copy bare from '$WORK/publico.csv' with (format csv, delimiter ';', header true)"
echo "== the same rows into Engajar's tables by SQL (schema floor, after the \\copy)"
cat migrations/postgres/*/up.sql | psql "$PG_ROOT/engajar_floor" -q
measure psql "$PG_ROOT/engajar_floor" -f examples/bench/model_floor_postgres.sql
for db in engajar_bench engajar_floor; do
    psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $db"
done
