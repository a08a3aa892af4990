#!/usr/bin/env bash
# bench/signal_rollups.sh: error_rate_by_service, throughput() and
# log_volume() at two sizes of history, in one run (issue 10, item 5).
# Two databases get BENCH_SMALL and BENCH_LARGE spans and as many log
# records (one a second from 2024-01-01, so the large one holds 10x the
# history; INSERT ... SELECT in chunks of 1M rows), then one tick
# (obs.refresh_rollups()) and BENCH_TAIL more rows of each, not ticked: the
# figures read the rollups plus that tail.  Each query is timed in turn in
# the small and the large database (A B A B ...), so that load from other
# jobs hits both sides.  Prints the best of BENCH_REPEAT runs and the ratio
# large / small, and, once per database, the direct aggregate of the whole
# table (what 0.1.0 ran) for comparison.  Also prints the time of a tick
# of BENCH_TAIL rows.  Not a test: it asserts nothing.
#   BENCH_SMALL=1000000 BENCH_LARGE=10000000 BENCH_TAIL=60000 BENCH_REPEAT=5 bash bench/signal_rollups.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SMALL=${BENCH_SMALL:-1000000}
LARGE=${BENCH_LARGE:-10000000}
TAIL=${BENCH_TAIL:-60000}
REPEAT=${BENCH_REPEAT:-5}

. bench/scale_lib.sh
scale_start
rows() {    # rows DB FROM TO: spans and logs i = FROM .. TO, one a second
    "${PSQL[@]}" -d "$1" -c "
INSERT INTO obs.spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time,
                       duration_us, status)
SELECT obs.new_trace_id(), obs.new_span_id(), 'op', 'API', 'svc-' || (hashint4(i) & 7),
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + interval '5 ms', 5000,
       (CASE WHEN hashint4(i) % 23 = 0 THEN 'error' ELSE 'ok' END)::obs.span_status
  FROM generate_series($2, $3) i" -c "
INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
SELECT '2024-01-01'::timestamptz + i * interval '1 second',
       (ARRAY['INFO', 'INFO', 'WARNING', 'ERROR'])[1 + (hashint4(i) & 3)]::obs.log_level, 'bench', 'message ' || i, 1
  FROM generate_series($2, $3) i"
}
load() {    # load DB ROWS
    scale_create_db "$1"
    scale_chunks "$1" "$2" rows
    "${PSQL[@]}" -d "$1" -c "VACUUM ANALYZE" -c "SELECT count(*) FROM obs.refresh_rollups()" >/dev/null
    # the tail: rows written after the last tick
    rows "$1" $(($2 + 1)) $(($2 + TAIL))
    "${PSQL[@]}" -d "$1" -c "VACUUM ANALYZE"
}

t0=$(date +%s)
load bench_small "$SMALL"
t1=$(date +%s)
load bench_large "$LARGE"
t2=$(date +%s)
echo "loaded $SMALL spans and logs in $((t1 - t0)) s, $LARGE in $((t2 - t1)) s, then a tick and a tail of $TAIL rows each"
for db in bench_small bench_large; do
    echo "$db: $("${PSQL[@]}" -d "$db" -c "SELECT format('%s span rollup rows, %s log rollup rows; spans %s, logs %s, rollups %s',
        (SELECT count(*) FROM obs.span_rollup), (SELECT count(*) FROM obs.log_rollup),
        pg_size_pretty(pg_total_relation_size('obs.spans_default')), pg_size_pretty(pg_total_relation_size('obs.logs_default')),
        pg_size_pretty(pg_total_relation_size('obs.span_rollup') + pg_total_relation_size('obs.log_rollup')))")"
done

# the windows end at the last row of each database: the same number of rows.
# Their bounds are constants, as a dashboard sends them (Grafana's
# $__timeFrom()): a bound the planner cannot see (a subquery) is estimated
# at a third of the table, which at 10M rows turns JIT compilation on
last() { "${PSQL[@]}" -d "$1" -c "SELECT date_bin('$3', max($2), '2000-01-01') FROM obs.$4"; }
declare -A since_day since_week since_log
for db in bench_small bench_large; do
    since_day[$db]=$(last "$db" start_time '1 minute' spans)
    since_week[$db]=$(last "$db" start_time '1 hour' spans)
    since_log[$db]=$(last "$db" ts '1 minute' logs)
done
QUERIES=(
    "error_rate_by_service|SELECT * FROM obs.error_rate_by_service"
    "throughput(last 24 h)|SELECT * FROM obs.throughput(timestamptz '@day' - interval '1 day', NULL)"
    "throughput(last 7 d, 1 h buckets)|SELECT * FROM obs.throughput(timestamptz '@week' - interval '7 days', NULL, '1 hour')"
    "log_volume(last 24 h)|SELECT * FROM obs.log_volume(timestamptz '@log' - interval '1 day', NULL)"
)
scale_sql() {
    local q=${2//@day/${since_day[$1]}}
    q=${q//@week/${since_week[$1]}}
    printf '%s' "${q//@log/${since_log[$1]}}"
}
scale_time "$REPEAT"
scale_once "error_rate_by_service direct (0.1.0)" "
    SELECT s.service_name, s.service_type, count(*), count(*) FILTER (WHERE s.status = 'error')
      FROM obs.spans s WHERE s.start_time < 'infinity' GROUP BY 1, 2"
scale_once "tick of the $TAIL-row tail (spans and logs)" "SELECT * FROM obs.refresh_rollups()"

echo
echo "best of $REPEAT (direct and tick: one run), $SMALL vs $LARGE spans and logs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
scale_print "$SMALL" "$LARGE"
