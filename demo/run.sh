#!/usr/bin/env bash
# obs demo: on a fresh Debian 12 machine, as root.  Installs the packages,
# builds and installs obs, starts a throwaway cluster as postgres (obs
# preloaded, so its ship workers run), runs the seed guide's example in SQL
# (demo/seed_example.sql) and prints the flow health, task summary, alerts,
# JSON log lines, span tree and the Parquet files it saved.  Then it ships:
# logs to a local Elasticsearch-style receiver (test/ship/es-receiver.mjs)
# and spans to a local OTLP/HTTP receiver (test/ship/otlp-receiver.mjs),
# both on 127.0.0.1, and prints what each received and obs.sink_stats;
# then stops the receivers and removes the cluster.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh

echo "== obs demo: installing packages (if missing)"
obs_install_deps
echo "== building and installing obs"
obs_take_install_lock
obs_build_install
echo "== starting a throwaway PostgreSQL 15 cluster (obs preloaded)"
shipdir=$(mktemp -d /tmp/obs-demo-ship.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    obs_cluster_stop
    rm -rf "$shipdir"
}
trap cleanup EXIT
# transactional: the example reads back what it just wrote (the buffered
# path, the default once obs is preloaded, stores rows at the next flush)
obs_cluster_start "shared_preload_libraries = 'pg_cron, obs'
obs.write_path = 'transactional'"
echo "== running demo/seed_example.sql"
echo
outdir="$OBS_CLUSTER_DIR/db"       # the seed's db/ directory, written by the server
psql -X -q -v ON_ERROR_STOP=1 -v outdir="$outdir" -f demo/seed_example.sql
echo
echo "== shipping: logs to an Elasticsearch-style receiver, spans to an OTLP receiver"
if [ ! -d test/ship/node_modules/@elastic/elasticsearch ] || [ ! -d test/ship/node_modules/@opentelemetry/otlp-transformer ]; then
    echo "   (npm ci in test/ship: the receivers use @opentelemetry/otlp-transformer and @elastic/elasticsearch)"
    (cd test/ship && timeout 300 npm ci --no-audit --no-fund --loglevel=error)
fi
es_port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
node test/ship/es-receiver.mjs "$es_port" "$shipdir/es.log" >"$shipdir/es.out" 2>&1 &
pids+=($!)
node test/ship/otlp-receiver.mjs 0 >"$shipdir/otlp.out" 2>"$shipdir/otlp.err" &
pids+=($!)
otlp_port=
for _ in $(seq 1 100); do
    otlp_port=$(head -n 1 "$shipdir/otlp.out" 2>/dev/null || true)
    [ -n "$otlp_port" ] && grep -q listening "$shipdir/es.log" 2>/dev/null && break
    sleep 0.1
done
[ -n "$otlp_port" ] || { echo "the OTLP receiver did not start: $(cat "$shipdir/otlp.err")"; exit 1; }
echo "   ES-style receiver on 127.0.0.1:$es_port, OTLP receiver on 127.0.0.1:$otlp_port"
# start => 'all': the rows the example already wrote are shipped too
psql -X -q -v ON_ERROR_STOP=1 <<SQL
SELECT obs.setup_logging_to_elk('127.0.0.1', $es_port, 'obs-logs-%Y.%m.%d', flush_interval => '200ms',
                                start => 'all', name => 'demo_es') AS elk_sink,
       obs.setup_otlp_export('http://127.0.0.1:$otlp_port', '{traces}', service_name => 'finance-pipeline',
                             flush_interval => '200ms', start => 'all', name => 'demo_otlp') AS otlp_sink;
SQL
nlogs=$(psql -X -At -c "SELECT count(*) FROM obs.logs")
nspans=$(psql -X -At -c "SELECT count(*) FROM obs.spans")
shipped=f
for _ in $(seq 1 300); do     # at most 30 s
    shipped=$(psql -X -At -c "SELECT coalesce(sum(rows_shipped) FILTER (WHERE signal = 'logs'), 0) >= $nlogs
                                     AND coalesce(sum(rows_shipped) FILTER (WHERE signal = 'spans'), 0) >= $nspans
                                FROM obs.sink_stats")
    [ "$shipped" = t ] && break
    sleep 0.1
done
[ "$shipped" = t ] || echo "   (not everything was shipped within 30 s; see obs.sink_stats below)"
echo
echo "-- the ES-style receiver got $(grep -c '"doc"' "$shipdir/es.log" || true) documents (obs.logs has $nlogs rows); one of them:"
grep '"doc"' "$shipdir/es.log" | head -n 1 | node -e 'let s = ""; process.stdin.on("data", (c) => s += c).on("end", () => {
    const e = JSON.parse(s); console.log(JSON.stringify({ _index: e.index, _id: e.id, ...e.doc }, null, 2)); })'
echo
echo "-- the OTLP receiver got these spans over OTLP/HTTP (obs.spans has $nspans rows):"
curl -s -m 5 "http://127.0.0.1:$otlp_port/_received" | node -e 'let s = ""; process.stdin.on("data", (c) => s += c).on("end", () => {
    const r = JSON.parse(s);
    console.log(`${r.spans.length} spans:`);
    for (const x of r.spans) console.log(`  trace ${x.traceId} span ${x.spanId} parent ${x.parentSpanId || "-"}  ${x.service}: ${x.name}`);
    console.log("one of them, as the receiver decoded it:"); console.log(JSON.stringify(r.spans[0], null, 2)); })'
echo
psql -X -q -v ON_ERROR_STOP=1 -c "SELECT sink, kind, signal, rows_shipped, batches_shipped, retries, dead_letters, lag_rows
                                    FROM obs.sink_stats ORDER BY sink, signal"
echo "== demo finished; the receivers are being stopped, the throwaway cluster stopped and removed"
