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

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "max_wal_size = '8GB'
shared_buffers = '256MB'
work_mem = '64MB'"
exec 9>&-    # the cluster is up: let others install again

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
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
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $1"
    "${PSQL[@]}" -d "$1" -c "CREATE EXTENSION obs" -c "
CREATE FUNCTION bench_ms(q text) RETURNS double precision LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    EXECUTE 'SELECT count(*) FROM (' || q || ') q WHERE q::text IS NOT NULL';
    RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;"
    local from=1 to
    while [ "$from" -le "$2" ]; do
        to=$((from + 999999)); [ "$to" -le "$2" ] || to=$2
        rows "$1" "$from" "$to"
        from=$((to + 1))
    done
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
declare -A best
for ((r = 1; r <= REPEAT; r++)); do
    for q in "${QUERIES[@]}"; do
        name=${q%%|*}; sql=${q#*|}
        for db in bench_small bench_large; do
            q1=${sql//@day/${since_day[$db]}}; q1=${q1//@week/${since_week[$db]}}; q1=${q1//@log/${since_log[$db]}}
            ms=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$$q1\$q\$)")
            key="$name@$db"
            if [ -z "${best[$key]:-}" ] || awk -v a="$ms" -v b="${best[$key]}" 'BEGIN {exit !(a < b)}'; then
                best[$key]=$ms
            fi
        done
    done
done
name="error_rate_by_service direct (0.1.0)"
QUERIES+=("$name|")
for db in bench_small bench_large; do
    best["$name@$db"]=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$
    SELECT s.service_name, s.service_type, count(*), count(*) FILTER (WHERE s.status = 'error')
      FROM obs.spans s WHERE s.start_time < 'infinity' GROUP BY 1, 2 \$q\$)")
done
name="tick of the $TAIL-row tail (spans and logs)"
QUERIES+=("$name|")
for db in bench_small bench_large; do
    best["$name@$db"]=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$ SELECT * FROM obs.refresh_rollups() \$q\$)")
done

echo
echo "best of $REPEAT (direct and tick: one run), $SMALL vs $LARGE spans and logs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-48s %12s %12s %8s\n' query "ms ($SMALL)" "ms ($LARGE)" ratio
for q in "${QUERIES[@]}"; do
    name=${q%%|*}
    s=${best["$name@bench_small"]}; l=${best["$name@bench_large"]}
    printf '%-48s %12.1f %12.1f %7.2fx\n' "$name" "$s" "$l" "$(awk -v s="$s" -v l="$l" 'BEGIN {print l / s}')"
done
