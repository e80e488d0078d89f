#!/usr/bin/env bash
# The campaign benchmark, side by side in one run: a 1,000,000-recipient run's ledger
# written by Engajar (`engajar campaign create`, which starts the run: reads every
# recipient, checks Não Perturbe, renders and de-duplicates, writes the ledger) beside the
# floor (the same rows rendered by SQL in one INSERT … SELECT into the same table), on
# SQLite and PostgreSQL; then sending to a local SMTP sink that accepts everything
# (aiosmtpd's Sink handler) beside the sink's own throughput with a trivial client
# (Python's smtplib on as many connections). Needs sqlite3, psql, python3-aiosmtpd and
# a PostgreSQL server (PG_URL, default postgres://postgres@127.0.0.1:5432/postgres).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${ROWS:-1000000}
SEND=${SEND:-30000}
CONNECTIONS=${CONNECTIONS:-16}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_ROOT=${PG_URL%/*}
SMTP_PORT=${SMTP_PORT:-2599}
WORK=$(mktemp -d)
cleanup() {
    [ -n "${SERVER:-}" ] && kill "$SERVER" 2>/dev/null
    [ -n "${SINK:-}" ] && kill "$SINK" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
cargo build --release
B=target/release/engajar
measure() { /usr/bin/time -f "%e s, %M KB peak" "$@"; }

python3 - "$ROWS" > "$WORK/publico.csv" <<'PY'
import sys
first = ["MARIA", "JOÃO", "ANA", "FRANCISCA", "JOSÉ", "ANTÔNIO", "LUIZ", "PAULO"]
last = ["DA SILVA", "DOS SANTOS", "DE SOUZA E LIMA", "OLIVEIRA", "PEREIRA", "D'ÁVILA"]
print("TIPO_DE_REGISTRO;VALOR_DO_REGISTRO;MENSAGEM;NOME_CLIENTE;CPFCNPJ;CODCLIENTE;TAG;CORINGA1;CORINGA2;CORINGA3;CORINGA4;CORINGA5;PRIORIDADE")
for i in range(int(sys.argv[1])):
    name = f"{first[i % 8]} {last[i % 6]}" if i % 50 else ""
    c1 = f"Av. Central, {i % 900}" if i % 7 else ""
    print(f"EMAIL;cliente{i}@exemplo{i % 97}.com.br;;{name};;C-{i};Loja {i % 40};{c1};;;;;")
PY
SUBJECT='Oferta para @PrimeiroNome'
BODY='Olá, @PrimeiroNome! Teremos neste sábado uma promoção especial em um endereço perto de você: @Coringa1. Dúvidas: contato@loja.com.br'
create() {
    RUST_LOG=warn measure $B --database-url "$1" campaign create --name Bench --channel email \
        --audience 1 --subject "$SUBJECT" --body "$BODY" --fallback 'Coringa1=a loja mais perto' --json
}

echo "== SQLite: import $ROWS recipients (setup, not measured here)"
SQ="sqlite://$WORK/bench.db"
$B --database-url "$SQ" segment add Bench >/dev/null
RUST_LOG=warn $B --database-url "$SQ" import "$WORK/publico.csv" --description Bench --segment Bench \
    --basis consentimento --json | head -c 200; echo
echo "== SQLite: engajar campaign create (writes the run's ledger)"
create "$SQ"
echo "== SQLite: the same rows rendered by SQL, INSERT … SELECT (floor)"
sqlite3 "$WORK/bench.db" "INSERT INTO campaign_runs (campaign_id, scheduled_for, status) VALUES (1, 0, 'done')"
measure sqlite3 "$WORK/bench.db" <<'SQL'
INSERT INTO campaign_messages (run_id, contact_id, channel_value, line, subject, body, status, created_at, updated_at)
SELECT (SELECT MAX(id) FROM campaign_runs), m.contact_id, m.channel_value, m.line,
       'Oferta para ' || substr(c.name, 1, instr(c.name || ' ', ' ') - 1),
       'Olá, ' || substr(c.name, 1, instr(c.name || ' ', ' ') - 1) || '! Teremos neste sábado uma promoção especial em um endereço perto de você: ' || COALESCE(m.coringa1, 'a loja mais perto') || '. Dúvidas: contato@loja.com.br',
       'pending', 0, 0
FROM audience_members m JOIN contacts c ON c.id = m.contact_id
WHERE m.audience_id = 1 AND m.channel_kind = 'EMAIL' AND c.name IS NOT NULL;
SQL

psql "$PG_URL" -qc "DROP DATABASE IF EXISTS engajar_campaign_bench" -c "CREATE DATABASE engajar_campaign_bench"
PG="$PG_ROOT/engajar_campaign_bench"
echo "== PostgreSQL: import $ROWS recipients (setup, not measured here)"
$B --database-url "$PG" segment add Bench >/dev/null
RUST_LOG=warn $B --database-url "$PG" import "$WORK/publico.csv" --description Bench --segment Bench \
    --basis consentimento --json | head -c 200; echo
echo "== PostgreSQL: engajar campaign create (writes the run's ledger)"
create "$PG"
echo "== PostgreSQL: the same rows rendered by SQL, INSERT … SELECT (floor)"
psql "$PG" -qc "INSERT INTO campaign_runs (campaign_id, scheduled_for, status) VALUES (1, 0, 'done')"
measure psql "$PG" -q <<'SQL'
INSERT INTO campaign_messages (run_id, contact_id, channel_value, line, subject, body, status, created_at, updated_at)
SELECT (SELECT MAX(id) FROM campaign_runs), m.contact_id, m.channel_value, m.line,
       'Oferta para ' || initcap(split_part(c.name, ' ', 1)),
       'Olá, ' || initcap(split_part(c.name, ' ', 1)) || '! Teremos neste sábado uma promoção especial em um endereço perto de você: ' || COALESCE(m.coringa1, 'a loja mais perto') || '. Dúvidas: contato@loja.com.br',
       'pending', 0, 0
FROM audience_members m JOIN contacts c ON c.id = m.contact_id
WHERE m.audience_id = 1 AND m.channel_kind = 'EMAIL' AND c.name IS NOT NULL;
SQL
psql "$PG" -qc "DELETE FROM campaign_messages WHERE run_id <> 1" -c "DELETE FROM campaign_runs WHERE id <> 1"

echo "== SMTP sink (aiosmtpd Sink) with a trivial client: smtplib, $CONNECTIONS connections, $SEND messages"
/usr/bin/python3 -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Sink &
SINK=$!
sleep 1
/usr/bin/python3 - "$SMTP_PORT" "$SEND" "$CONNECTIONS" <<'PY'
import smtplib, sys, threading, time
port, total, conns = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
msg = "Subject: Oferta\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + "Olá! " * 30
def work(n):
    s = smtplib.SMTP("127.0.0.1", port)
    for i in range(n):
        s.sendmail("a@loja.com.br", [f"c{i}@exemplo.com.br"], msg.encode())
    s.quit()
start = time.time()
threads = [threading.Thread(target=work, args=(total // conns,)) for _ in range(conns)]
[t.start() for t in threads]; [t.join() for t in threads]
took = time.time() - start
print(f"{total} messages in {took:.1f} s: {total / took:.0f} messages/s")
PY

echo "== engajar sending the run to the same sink: $CONNECTIONS connections, first $SEND messages"
psql "$PG" -qc "INSERT INTO settings (key, value, updated_at) VALUES ('email_per_second', '100000', 0), ('email_connections', '$CONNECTIONS', 0)"
ENGAJAR_SMTP_URL="smtp://127.0.0.1:$SMTP_PORT?tls=none&from=ofertas@loja.com.br" ENGAJAR_BIND=127.0.0.1:18181 \
    RUST_LOG=warn $B --database-url "$PG" serve --bind 127.0.0.1:18181 >"$WORK/server.log" 2>&1 &
SERVER=$!
start=$(date +%s.%N)
while true; do
    sent=$(psql "$PG" -Atc "SELECT COUNT(*) FROM campaign_messages WHERE status = 'sent'")
    [ "$sent" -ge "$SEND" ] && break
    sleep 0.5
done
end=$(date +%s.%N)
python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]} messages in {s:.1f} s: {int(sys.argv[3])/s:.0f} messages/s')" "$start" "$end" "$sent"
echo "server peak memory: $(grep VmHWM /proc/$SERVER/status)"
kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
psql "$PG_URL" -qc "DROP DATABASE IF EXISTS engajar_campaign_bench"
