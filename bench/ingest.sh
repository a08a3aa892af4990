#!/usr/bin/env bash
# bench/ingest.sh: per-call rates of obs.log(), obs.record_metric() and a
# start_span+finish_span pair against a bare single-row INSERT into an
# equivalent plain table (same columns, same indexes), measured with
# pgbench in the same run, at 1 and 2 clients, synchronous_commit = off.
# Prints calls/s and the ratio obs / bare.  Not a test: it asserts nothing.
#   BENCH_SECONDS=10 bash bench/ingest.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SECONDS_PER_RUN=${BENCH_SECONDS:-10}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "synchronous_commit = off
shared_buffers = '512MB'
max_wal_size = '4GB'"
exec 9>&-    # the cluster is up: let others install again

W=$(mktemp -d /tmp/obs-bench.XXXXXX)
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<'SQL'
CREATE EXTENSION obs;
-- plain tables shaped like obs's, with the same indexes
CREATE TABLE bare_logs (LIKE obs.logs INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
CREATE TABLE bare_points (LIKE obs.metric_points INCLUDING INDEXES);
CREATE TABLE bare_spans (LIKE obs.spans INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES);
SQL

cat >"$W/bare_log.sql" <<'SQL'
INSERT INTO bare_logs (ts, level, logger, message, context, tags, backend_pid) VALUES (clock_timestamp(), 'INFO', 'bench', 'User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', pg_backend_pid());
SQL
cat >"$W/obs_log.sql" <<'SQL'
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}', '{"environment": "production"}', 'bench');
SQL
cat >"$W/bare_metric.sql" <<'SQL'
INSERT INTO bare_points (series_id, ts, value) VALUES (1, clock_timestamp(), 123.5);
SQL
cat >"$W/obs_metric.sql" <<'SQL'
SELECT obs.record_metric('api_latency_ms', 123.5, '{"endpoint": "/data", "method": "GET"}');
SQL
cat >"$W/bare_span.sql" <<'SQL'
INSERT INTO bare_spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time, duration_us, status) VALUES (obs.new_trace_id(), obs.new_span_id(), 'fetch_company_data', 'DATA_FETCH', 'bench', clock_timestamp(), clock_timestamp(), 0, 'ok');
SQL
cat >"$W/obs_span.sql" <<'SQL'
SELECT obs.finish_span(obs.start_span('fetch_company_data', 'DATA_FETCH'));
SQL

# tps of one script at $2 clients
rate() {
    pgbench -n -c "$2" -j "$2" -T "$SECONDS_PER_RUN" -f "$W/$1.sql" postgres 2>/dev/null |
        awk '/^tps/ {print int($3)}'
}

printf '%-28s %8s %12s %12s %7s\n' "signal" clients "obs calls/s" "bare ins/s" ratio
for c in 1 2; do
    for sig in log metric span; do
        psql -X -q -d postgres -c "CHECKPOINT" >/dev/null
        b=$(rate "bare_$sig" "$c")
        o=$(rate "obs_$sig" "$c")
        case $sig in
            log) name="obs.info()";;
            metric) name="obs.record_metric()";;
            span) name="start_span+finish_span";;
        esac
        printf '%-28s %8s %12s %12s %7s\n' "$name" "$c" "$o" "$b" "$(awk -v o="$o" -v b="$b" 'BEGIN {printf "%.2fx", o / b}')"
    done
done
rm -rf "$W"
