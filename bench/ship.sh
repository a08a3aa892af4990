#!/usr/bin/env bash
# bench/ship.sh: log records per second shipped to Elasticsearch's _bulk
# (a local receiver that only counts, bench/ship-counter.mjs), with ingest
# running at the same time, and the ingest rate with the sink on against
# the sink off.  Prints the figures and the CPU the ship worker used; not
# a test, it asserts nothing.
#   BENCH_SECONDS=10 BENCH_BATCH=1000 bash bench/ship.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}
BATCH=${BENCH_BATCH:-1000}
CLIENTS=${BENCH_CLIENTS:-1}

obs_install_deps
obs_take_install_lock
obs_build_install
W=$(mktemp -d /tmp/obs-bench-ship.XXXXXX)
PORT=$((20000 + RANDOM % 20000))
node bench/ship-counter.mjs "$PORT" &
RECV=$!
trap 'kill $RECV 2>/dev/null; obs_cluster_stop; rm -rf "$W"' EXIT
obs_cluster_start "shared_preload_libraries = 'obs'
synchronous_commit = off
shared_buffers = '512MB'
max_wal_size = '4GB'
obs.write_path = 'transactional'"
exec 9>&-    # the cluster is up: let others install again

psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "CREATE EXTENSION obs"
cat >"$W/log.sql" <<'SQL'
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', 'bench');
SQL
rate() {
    pgbench -n -c "$CLIENTS" -j "$CLIENTS" -T "$SECONDS_PER_RUN" -f "$W/log.sql" postgres 2>/dev/null |
        awk '/^tps/ {print int($3)}'
}
cpu_ticks() {   # utime + stime of a pid, in clock ticks
    if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; else echo 0; fi
}
q() { psql -X -At -d postgres -c "$1"; }

rate >/dev/null    # warm-up
q "CHECKPOINT" >/dev/null
off=$(rate)

q "SELECT obs.setup_logging_to_elk('127.0.0.1', $PORT, batch_size => $BATCH, flush_interval => '50ms', name => 'bench')" >/dev/null
for _ in $(seq 1 100); do
    pid=$(q "SELECT pid FROM pg_stat_activity WHERE backend_type = 'obs ship worker'")
    [ -n "$pid" ] && break
    sleep 0.1
done
q "CHECKPOINT" >/dev/null
c0=$(cpu_ticks "$pid")
t0=$(date +%s.%N)
on=$(rate)
# drain what ingest left behind, at most 10 minutes
for _ in $(seq 1 6000); do
    [ "$(q "SELECT lag_rows FROM obs.sink_stats WHERE sink = 'bench'")" = 0 ] && break
    sleep 0.1
done
t1=$(date +%s.%N)
c1=$(cpu_ticks "$pid")
shipped=$(q "SELECT rows_shipped FROM obs.sink_stats WHERE sink = 'bench'")
# ingest with the sink paused again, so that "off" is measured on as large a table
q "SELECT obs.pause_sink('bench')" >/dev/null
q "CHECKPOINT" >/dev/null
off2=$(rate)
counted=$(curl -s "http://127.0.0.1:$PORT/count")
hz=$(getconf CLK_TCK)

awk -v off="$(( (off + off2) / 2 ))" -v on="$on" -v shipped="$shipped" -v counted="$counted" -v t0="$t0" -v t1="$t1" \
    -v c0="$c0" -v c1="$c1" -v hz="$hz" -v batch="$BATCH" -v clients="$CLIENTS" 'BEGIN {
    secs = t1 - t0; cpu = (c1 - c0) / hz
    printf "ingest, obs.info() at %d client(s): %d calls/s sink off (mean of a run before and after), %d calls/s sink on: ratio %.2f\n", clients, off, on, on / off
    printf "shipped through ES _bulk (batch %d): %d rows in %.1f s (ingest + drain) = %d rows/s; receiver counted %d\n",
           batch, shipped, secs, shipped / secs, counted
    printf "ship worker CPU: %.1f s over %.1f s (%.0f%% of a core), %.1f us per row\n", cpu, secs, 100 * cpu / secs,
           (shipped > 0) ? 1e6 * cpu / shipped : 0
}'
