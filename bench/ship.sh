#!/usr/bin/env bash
# bench/ship.sh: shipping throughput on this machine, against a local
# receiver that only counts (bench/ship-counter.mjs).  Not a test: it
# prints figures and asserts nothing.
#
# 1. Rows shipped per second, with ingest running at the same time (pgbench
#    calling obs.info() at BENCH_CLIENTS clients): a backlog of
#    BENCH_BACKLOG rows is stored, a sink is added with start => 'all', and
#    rows shipped are counted over BENCH_SECONDS (or until the backlog is
#    gone).  Sinks: Elasticsearch _bulk of obs.logs, OTLP/HTTP protobuf and
#    OTLP/HTTP JSON of obs.spans, OTLP/HTTP protobuf of obs.logs.  Beside
#    each figure: the CPU the ship worker used (the shipper is one process:
#    reading the rows, encoding, HTTP), in % of one core and us per row.
# 2. The ingest rate with sinks on against sinks off: pgbench obs.info()
#    runs, off and on interleaved BENCH_ROUNDS times (off on off on ...), so
#    that load from other processes falls on both sides; "on" is an
#    Elasticsearch sink and an OTLP protobuf sink of logs (flush_interval
#    BENCH_FLUSH, by default the default, 1 second) shipping what the
#    run writes; beside each round the CPU of the shipper and of the
#    receiver (which shares the 2 cores with ingest here, and would not in
#    production).  Prints the ratio of the means and the median of the
#    rounds' ratios (on a shared machine, load from others moves between
#    rounds; the median is the steadier figure).
#   BENCH_SECONDS=10 BENCH_BATCH=1000 BENCH_BACKLOG=400000 bash bench/ship.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
BATCH=${BENCH_BATCH:-1000}
CLIENTS=${BENCH_CLIENTS:-1}
BACKLOG=${BENCH_BACKLOG:-400000}
ROUNDS=${BENCH_ROUNDS:-5}
FLUSH=${BENCH_FLUSH:-1 second}   # flush_interval of the sinks of part 2 (the default)

obs_install_deps
obs_take_install_lock
obs_build_install
W=$(mktemp -d /tmp/obs-bench-ship.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
node bench/ship-counter.mjs "$PORT" &
RECV=$!
INGEST=
trap '[ -n "$INGEST" ] && kill $INGEST 2>/dev/null; kill $RECV 2>/dev/null; obs_cluster_stop; rm -rf "$W"' EXIT
obs_cluster_start "shared_preload_libraries = 'obs'
synchronous_commit = off
shared_buffers = '512MB'
max_wal_size = '4GB'
obs.write_path = 'transactional'"
exec 9>&-    # the cluster is up: let others install again

q() { psql -X -At -d postgres -c "$1"; }
q "CREATE EXTENSION obs" >/dev/null
cat >"$W/log.sql" <<'SQL'
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', 'bench');
SQL
rate() {   # obs.info() calls per second over $1 seconds
    pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$1" -f "$W/log.sql" postgres 2>/dev/null |
        awk '/^tps/ {print int($3)}'
}
cpu_ticks() {   # utime + stime of a pid, in clock ticks
    if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; else echo 0; fi
}
worker_pid() {
    local pid=
    for _ in $(seq 1 100); do
        pid=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'obs ship worker' AND datname = current_database()")
        [ -n "$pid" ] && break
        sleep 0.1
    done
    echo "$pid"
}
shipped() { q "SELECT COALESCE(sum(rows_shipped), 0) FROM obs.sink_cursors WHERE sink = '$1'"; }
HZ=$(getconf CLK_TCK)
OTLP="http://127.0.0.1:$PORT"

backlog() {   # $1: logs or spans
    q "TRUNCATE obs.logs, obs.spans" >/dev/null
    if [ "$1" = logs ]; then
        q "INSERT INTO obs.logs (ts, level, logger, message, context, tags, backend_pid)
           SELECT now(), 'INFO', 'bench', 'User data loaded ' || i, '{\"user_id\": 123, \"records\": 1000}',
                  '{\"environment\": \"production\"}', 1 FROM generate_series(1, $BACKLOG) i" >/dev/null
    else
        q "INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                                  start_time, end_time, duration_us, status, tags)
           SELECT obs.new_trace_id(), obs.new_span_id(), obs.new_span_id(), 'load batch ' || (i % 100), 'DATABASE',
                  'bench', now(), now() + interval '5 ms', 5000, 'ok', '{\"rows\": 1000, \"table\": \"users\"}'
             FROM generate_series(1, $BACKLOG) i" >/dev/null
    fi
    q "CHECKPOINT" >/dev/null
}

# 1. throughput: $1 label, $2 setup call (name => 'bench', start => 'all')
ship_run() {
    local label=$1 setup=$2 pid c0 c1 t0 t1 s0 s1 now
    q "SELECT obs.drop_sink(name) FROM obs.sinks" >/dev/null
    pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T $((SECONDS_PER_RUN + 30)) -f "$W/log.sql" postgres >/dev/null 2>&1 &
    INGEST=$!
    sleep 1
    q "$setup" >/dev/null
    pid=$(worker_pid)
    sleep 1    # past the worker's start
    c0=$(cpu_ticks "$pid"); s0=$(shipped bench); t0=$(date +%s.%N)
    for _ in $(seq 1 $((SECONDS_PER_RUN * 10))); do
        sleep 0.1
        now=$(shipped bench)
        [ "$now" -ge "$BACKLOG" ] && break
    done
    c1=$(cpu_ticks "$pid"); s1=$(shipped bench); t1=$(date +%s.%N)
    [ "$s0" -gt $((BACKLOG / 2)) ] && echo "($label: half the backlog was gone before the count began: raise BENCH_BACKLOG)"
    kill $INGEST 2>/dev/null; wait $INGEST 2>/dev/null || true
    INGEST=
    q "SELECT obs.drop_sink('bench')" >/dev/null
    awk -v l="$label" -v s=$((s1 - s0)) -v t0="$t0" -v t1="$t1" -v c0="$c0" -v c1="$c1" -v hz="$HZ" 'BEGIN {
        secs = t1 - t0; cpu = (c1 - c0) / hz; per_row = 0
        if (s > 0) per_row = 1e6 * cpu / s
        printf "%-36s %8d rows/s   shipper CPU %3.0f%% of a core, %5.1f us/row   (%d rows in %.1f s)\n",
               l, s / secs, 100 * cpu / secs, per_row, s, secs }'
}

echo "== shipping throughput, batch $BATCH, with obs.info() ingest at $CLIENTS client(s) running"
backlog logs
ship_run "ES _bulk, logs" \
    "SELECT obs.setup_logging_to_elk('127.0.0.1', $PORT, batch_size => $BATCH, flush_interval => '50ms', start => 'all', name => 'bench')"
backlog logs
ship_run "OTLP/HTTP protobuf, logs" \
    "SELECT obs.setup_otlp_export('$OTLP', '{logs}', protobuf => true, batch_size => $BATCH, flush_interval => '50ms', start => 'all', name => 'bench')"
backlog spans
ship_run "OTLP/HTTP protobuf, spans" \
    "SELECT obs.setup_otlp_export('$OTLP', '{traces}', protobuf => true, batch_size => $BATCH, flush_interval => '50ms', start => 'all', name => 'bench')"
backlog spans
ship_run "OTLP/HTTP JSON, spans" \
    "SELECT obs.setup_otlp_export('$OTLP', '{traces}', protobuf => false, batch_size => $BATCH, flush_interval => '50ms', start => 'all', name => 'bench')"
backlog spans
ship_run "ES _bulk, spans" \
    "SELECT obs.setup_logging_to_elk('127.0.0.1', $PORT, signals => '{spans}', batch_size => $BATCH, flush_interval => '50ms', start => 'all', name => 'bench')"
q "TRUNCATE obs.logs, obs.spans" >/dev/null
echo "receiver: $(curl -s "http://127.0.0.1:$PORT/stats")"

# 2. ingest with sinks off and on, interleaved
echo "== ingest, obs.info() at $CLIENTS client(s), ${SECONDS_PER_RUN} s per run, sinks off and on (flush_interval $FLUSH) interleaved"
rate 3 >/dev/null    # warm-up
offs=""; ons=""; ratios=""
for r in $(seq 1 "$ROUNDS"); do
    q "SELECT obs.drop_sink(name) FROM obs.sinks" >/dev/null
    sleep 1
    q "CHECKPOINT" >/dev/null
    off=$(rate "$SECONDS_PER_RUN")
    q "SELECT obs.setup_logging_to_elk('127.0.0.1', $PORT, batch_size => $BATCH, flush_interval => '$FLUSH', name => 'es')" >/dev/null
    q "SELECT obs.setup_otlp_export('$OTLP', '{logs}', protobuf => true, batch_size => $BATCH, flush_interval => '$FLUSH', name => 'otlp')" >/dev/null
    pid=$(worker_pid)
    q "CHECKPOINT" >/dev/null
    c0=$(cpu_ticks "$pid"); r0=$(cpu_ticks "$RECV"); t0=$(date +%s.%N)
    on=$(rate "$SECONDS_PER_RUN")
    c1=$(cpu_ticks "$pid"); r1=$(cpu_ticks "$RECV"); t1=$(date +%s.%N)
    lag=$(q "SELECT COALESCE(max(lag_rows), 0) FROM obs.sink_stats")
    cpu=$(awk -v c0="$c0" -v c1="$c1" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", 100 * (c1 - c0) / hz / (t1 - t0) }')
    rcpu=$(awk -v c0="$r0" -v c1="$r1" -v hz="$HZ" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.0f", 100 * (c1 - c0) / hz / (t1 - t0) }')
    echo "round $r: off $off calls/s, on $on calls/s (ratio $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.2f", a / b }')), shipper CPU $cpu% of a core, receiver $rcpu%, lag at the end $lag rows"
    offs="$offs $off"; ons="$ons $on"; ratios="$ratios $(awk -v a="$on" -v b="$off" 'BEGIN { printf "%.3f", a / b }')"
done
q "SELECT obs.drop_sink(name) FROM obs.sinks" >/dev/null
echo "$offs" "|" "$ons" | awk '{
    for (i = 1; $i != "|"; i++) { off += $i; n++ }
    for (i++; i <= NF; i++) on += $i
    printf "ingest with sinks on / off: %.2f (means of %d interleaved runs each: %d vs %d calls/s)\n", on / off, n, on / n, off / n }'
echo "$ratios" | tr ' ' '\n' | grep . | sort -n | awk '{ r[NR] = $1 } END {
    printf "median of the rounds\x27 ratios: %.2f\n", (NR % 2) ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2 }'
