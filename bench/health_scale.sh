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

. bench/scale_lib.sh
scale_start
runs() {    # runs DB FROM TO: task and flow runs i = FROM .. TO, one a second
    "${PSQL[@]}" -d "$1" -c "
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, updated_at)
SELECT 't' || i, 'task_' || (hashint4(i) & 31), 'fr-' || (i / 10),
       (CASE WHEN i % 17 = 0 THEN 'Failed' WHEN i % 101 = 0 THEN 'Running' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       CASE WHEN i % 101 <> 0 THEN '2024-01-01'::timestamptz + i * interval '1 second'
                                   + (hashint4(i) & 65535) * interval '1 millisecond' END,
       i % 1000, i % 900, now()
  FROM generate_series($2, $3) i" -c "
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, num_tasks, updated_at)
SELECT 'f' || i, 'flow_' || (hashint4(i) & 15),
       (CASE WHEN i % 13 = 0 THEN 'Failed' WHEN i % 101 = 0 THEN 'Running' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       CASE WHEN i % 101 <> 0 THEN '2024-01-01'::timestamptz + i * interval '1 second'
                                   + (hashint4(i) & 262143) * interval '1 millisecond' END,
       10, now()
  FROM generate_series($2, $3) i"
}
load() {    # load DB ROWS
    scale_create_db "$1" "SELECT obs.enable_rollups()"
    scale_chunks "$1" "$2" runs
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
scale_time "$REPEAT"
if [ "$DIRECT" = 1 ]; then
    scale_once "task_performance un-rolled (direct aggregate)" "
    SELECT r.task_name || '', count(*),
           avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           sum(r.inputs_processed), sum(r.outputs_produced),
           count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed'))
      FROM obs.task_runs r GROUP BY r.task_name || ''"
fi

echo
echo "best of $REPEAT (un-rolled: one run), $SMALL vs $LARGE task runs and flow runs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
scale_print "$SMALL" "$LARGE"
