#!/usr/bin/env bash
# bench/health_scale.sh: the health views at two sizes of history, in one
# run (issue 10, item 5).  Two databases get BENCH_SMALL and BENCH_LARGE
# task runs and as many flow runs (one a second from 2024-01-01, so the
# large one holds 10x the history), loaded with INSERT ... SELECT in chunks
# of 1M rows: the triggers fill the rollups as they would on any write.
# Then obs.flow_health, obs.task_summary and obs.task_performance (all
# history), and two windowed calls (the last 24 hours: the same number of
# runs in both databases), are timed in turn in the small and the large
# database (A B A B ...), so that load from other jobs hits both sides.
# Prints the best of BENCH_REPEAT runs of each and the ratio large / small.
# With BENCH_DIRECT=1 (the default) it also times, once per database, the
# un-rolled task_performance (the direct aggregate with its percentile
# sorts over every run) for comparison.  Not a test: it asserts nothing.
#   BENCH_SMALL=1000000 BENCH_LARGE=10000000 BENCH_REPEAT=5 bash bench/health_scale.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
SMALL=${BENCH_SMALL:-1000000}
LARGE=${BENCH_LARGE:-10000000}
REPEAT=${BENCH_REPEAT:-5}
DIRECT=${BENCH_DIRECT:-1}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "max_wal_size = '8GB'
shared_buffers = '256MB'
work_mem = '64MB'"
exec 9>&-    # the cluster is up: let others install again

PSQL=(psql -X -q -At -v ON_ERROR_STOP=1)
load() {    # load DB ROWS
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $1"
    "${PSQL[@]}" -d "$1" -c "CREATE EXTENSION obs" -c "SELECT obs.enable_rollups()" -c "
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
        "${PSQL[@]}" -d "$1" -c "
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, updated_at)
SELECT 't' || i, 'task_' || (hashint4(i) & 31), 'fr-' || (i / 10),
       (CASE WHEN i % 17 = 0 THEN 'Failed' WHEN i % 101 = 0 THEN 'Running' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       CASE WHEN i % 101 <> 0 THEN '2024-01-01'::timestamptz + i * interval '1 second'
                                   + (hashint4(i) & 65535) * interval '1 millisecond' END,
       i % 1000, i % 900, now()
  FROM generate_series($from, $to) i" -c "
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, num_tasks, updated_at)
SELECT 'f' || i, 'flow_' || (hashint4(i) & 15),
       (CASE WHEN i % 13 = 0 THEN 'Failed' WHEN i % 101 = 0 THEN 'Running' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       CASE WHEN i % 101 <> 0 THEN '2024-01-01'::timestamptz + i * interval '1 second'
                                   + (hashint4(i) & 262143) * interval '1 millisecond' END,
       10, now()
  FROM generate_series($from, $to) i"
        from=$((to + 1))
    done
    "${PSQL[@]}" -d "$1" -c "VACUUM ANALYZE"
}

t0=$(date +%s)
load bench_small "$SMALL"
t1=$(date +%s)
load bench_large "$LARGE"
t2=$(date +%s)
echo "loaded $SMALL runs in $((t1 - t0)) s, $LARGE runs in $((t2 - t1)) s (task and flow runs each, rollups kept by the triggers)"
for db in bench_small bench_large; do
    echo "$db: $("${PSQL[@]}" -d "$db" -c "SELECT format('%s task rollup rows, %s flow rollup rows, %s sketch rows; task_runs %s, rollups %s',
        (SELECT count(*) FROM obs.task_run_rollup), (SELECT count(*) FROM obs.flow_run_rollup),
        (SELECT count(*) FROM obs.task_run_sketch) + (SELECT count(*) FROM obs.flow_run_sketch),
        pg_size_pretty(pg_total_relation_size('obs.task_runs')),
        pg_size_pretty(pg_total_relation_size('obs.task_run_rollup') + pg_total_relation_size('obs.flow_run_rollup')
                       + pg_total_relation_size('obs.task_run_sketch') + pg_total_relation_size('obs.flow_run_sketch')))")"
done

# the windows end at the last run of each database: the same number of runs
QUERIES=(
    "flow_health|SELECT * FROM obs.flow_health"
    "task_summary|SELECT * FROM obs.task_summary"
    "task_performance|SELECT * FROM obs.task_performance"
    "get_task_performance(last 24 h)|SELECT * FROM obs.get_task_performance(NULL, (SELECT max(start_time) FROM obs.task_runs) - interval '1 day', NULL)"
    "get_flow_health(last 24 h)|SELECT * FROM obs.get_flow_health(NULL, (SELECT max(start_time) FROM obs.flow_runs) - interval '1 day', NULL)"
)
declare -A best
for ((r = 1; r <= REPEAT; r++)); do
    for q in "${QUERIES[@]}"; do
        name=${q%%|*}; sql=${q#*|}
        for db in bench_small bench_large; do
            ms=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$$sql\$q\$)")
            key="$name@$db"
            if [ -z "${best[$key]:-}" ] || awk -v a="$ms" -v b="${best[$key]}" 'BEGIN {exit !(a < b)}'; then
                best[$key]=$ms
            fi
        done
    done
done
if [ "$DIRECT" = 1 ]; then
    name="task_performance un-rolled (direct aggregate)"
    QUERIES+=("$name|")
    for db in bench_small bench_large; do
        best["$name@$db"]=$("${PSQL[@]}" -d "$db" -c "SELECT bench_ms(\$q\$
    SELECT r.task_name || '', count(*),
           avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           sum(r.inputs_processed), sum(r.outputs_produced),
           count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed'))
      FROM obs.task_runs r GROUP BY r.task_name || '' \$q\$)")
    done
fi

echo
echo "best of $REPEAT (un-rolled: one run), $SMALL vs $LARGE task runs and flow runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-48s %12s %12s %8s\n' query "ms ($SMALL)" "ms ($LARGE)" ratio
for q in "${QUERIES[@]}"; do
    name=${q%%|*}
    s=${best["$name@bench_small"]}; l=${best["$name@bench_large"]}
    printf '%-48s %12.1f %12.1f %7.2fx\n' "$name" "$s" "$l" "$(awk -v s="$s" -v l="$l" 'BEGIN {print l / s}')"
done
