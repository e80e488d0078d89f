#!/usr/bin/env bash
# Through the web app, on a database the import benchmark filled: name search under
# load (wrk -c16 with a logged-in session: a word every contact shares, and a word nobody
# has, plus one request of each alone), and optionally (FORM_FILE) an import through the
# HTTP form, timed from the POST to "Concluída". Usage: serve.sh DATABASE_URL [LABEL].
# Needs curl and wrk; uses the release build in target/release.
set -euo pipefail
cd "$(dirname "$0")/../.."
URL=$1
LABEL=${2:-$URL}
B=target/release/engajar
PORT=${PORT:-18080}
SPOOL=$(mktemp -d)
JAR=$(mktemp)
LOG=$(mktemp)
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$SPOOL" "$JAR" "$LOG"' EXIT

echo 'bench-password-123' | $B --database-url "$URL" user add --email bench@engajar.test --name Bench --role staff \
    >/dev/null 2>&1 || true
ENGAJAR_SPOOL_DIR=$SPOOL ENGAJAR_BIND=127.0.0.1:$PORT $B --database-url "$URL" serve \
    --bind 127.0.0.1:$PORT >"$LOG" 2>&1 &
SERVER=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null && break
    sleep 0.1
done
token() { curl -s -b "$JAR" -c "$JAR" "http://127.0.0.1:$PORT$1" | grep -o 'name="csrf_token" value="[^"]*"' | head -1 | sed 's/.*value="//; s/"$//'; }
CSRF=$(token /login)
curl -s -b "$JAR" -c "$JAR" -o /dev/null -X POST "http://127.0.0.1:$PORT/login" \
    --data-urlencode "csrf_token=$CSRF" --data-urlencode "email=bench@engajar.test" \
    --data-urlencode "password=bench-password-123"
COOKIE=$(awk '$6 == "engajar_session" { print $7 }' "$JAR")
[ -n "$COOKIE" ] || { echo "login failed"; exit 1; }

for q in $([ "${SEARCH:-1}" = 1 ] && echo cliente zzqxwy); do
    one=$(curl -s -o /dev/null -w '%{time_total}' -H "Cookie: engajar_session=$COOKIE" \
        "http://127.0.0.1:$PORT/contatos?q=$q")
    echo "== $LABEL: name search q=$q (one request: $(awk "BEGIN { printf \"%.1f\", $one * 1000 }") ms)"
    wrk -t2 -c16 -d10s --latency -H "Cookie: engajar_session=$COOKIE" \
        "http://127.0.0.1:$PORT/contatos?q=$q" | grep -E "Requests/sec|50%|99%|Non-2xx|Socket"
done

if [ -n "${FORM_FILE:-}" ]; then
    SEGMENT=$(curl -s -b "$JAR" "http://127.0.0.1:$PORT/engajar/publicos/importar" \
        | grep -o '<option value="[0-9][0-9]*"' | head -1 | grep -o '[0-9][0-9]*')
    CSRF=$(token /engajar/publicos/importar)
    start=$(date +%s.%N)
    page=$(curl -s -b "$JAR" -o /dev/null -w '%{redirect_url}' \
        -F "csrf_token=$CSRF" -F "descricao=Pelo formulario" -F "segmento=$SEGMENT" \
        -F "autorizacao=consentimento" -F "acao=importar" -F "arquivo=@$FORM_FILE" \
        "http://127.0.0.1:$PORT/engajar/publicos/importar")
    posted=$(date +%s.%N)
    [ -n "$page" ] || { echo "the form did not accept the file"; exit 1; }
    until curl -s -b "$JAR" "$page" | grep -q 'id="status">Concluída'; do sleep 0.2; done
    done_at=$(date +%s.%N)
    echo "== $LABEL: import through the form: upload $(awk "BEGIN { printf \"%.1f\", $posted - $start }") s, POST to Concluída $(awk "BEGIN { printf \"%.1f\", $done_at - $start }") s"
    grep "import phases" "$LOG" | tail -1 | sed 's/.*import phases/   phases/'
fi
