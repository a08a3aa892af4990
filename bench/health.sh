#!/usr/bin/env bash
# bench/health.sh: obs.task_performance over 1M task runs (issue 7, item 26)
# against two baselines timed in the same run on the same table: the 0.1.0
# view's query text (a GroupAggregate fed by an index scan of every row) and
# a plain count(*) over task_runs.  Prints the best of BENCH_REPEAT runs of
# each and the ratios.  Not a test: it asserts nothing.
#   BENCH_ROWS=1000000 BENCH_REPEAT=3 bash bench/health.sh
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib.sh
ROWS=${BENCH_ROWS:-1000000}
REPEAT=${BENCH_REPEAT:-3}

obs_install_deps
obs_take_install_lock
obs_build_install
trap obs_cluster_stop EXIT
obs_cluster_start "max_wal_size = '4GB'"
exec 9>&-    # the cluster is up: let others install again

psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -v repeat="$REPEAT" -d postgres <<'SQL'
CREATE EXTENSION obs;
-- Prefect-like task runs: 32 task names in random order, ids and tags
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, tags, updated_at)
SELECT md5(i::text), 'task_' || (hashint4(i) & 31), 'fr-' || (i / 10),
       (CASE WHEN i % 17 = 0 THEN 'Failed' WHEN i % 101 = 0 THEN 'Running' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       CASE WHEN i % 101 <> 0 THEN '2024-01-01'::timestamptz + i * interval '1 second' + (i % 97) * interval '1 second' END,
       i % 1000, i % 900,
       jsonb_build_object('flow_run_id', 'fr-' || (i / 10), 'env', 'production', 'worker', 'worker-' || (i % 7)),
       now()
  FROM generate_series(1, :rows) i;
VACUUM ANALYZE obs.task_runs;

CREATE TEMP TABLE timings (name text, ms double precision);
CREATE FUNCTION pg_temp.best_ms(q text, n int) RETURNS double precision LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; best double precision;
BEGIN
    FOR i IN 1 .. n LOOP
        t0 := clock_timestamp();
        EXECUTE 'SELECT count(*) FROM (' || q || ') q WHERE q::text IS NOT NULL';
        best := least(best, extract(epoch FROM clock_timestamp() - t0) * 1000);
    END LOOP;
    RETURN best;
END $$;

INSERT INTO timings VALUES
 ('task_performance (this version)', pg_temp.best_ms('SELECT * FROM obs.task_performance', :repeat)),
 ('task_performance (0.1.0 query)', pg_temp.best_ms($q$
    SELECT r.task_name,
           count(*) AS total_runs,
           avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS avg_duration_seconds,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p50_duration_seconds,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p95_duration_seconds,
           max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
           sum(r.inputs_processed)::bigint AS total_inputs,
           sum(r.outputs_produced)::bigint AS total_outputs,
           sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                            AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                       AND r.inputs_processed IS NOT NULL), 0) AS throughput,
           count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')) AS failure_count
      FROM obs.task_runs r
     GROUP BY r.task_name $q$, :repeat)),
 ('count(*) over task_runs', pg_temp.best_ms('SELECT count(*) FROM obs.task_runs', :repeat));

\echo
SELECT format('%s task runs, best of %s', :rows, :repeat) AS bench;
SELECT name, round(ms::numeric, 1) AS ms,
       round((ms / (SELECT ms FROM timings WHERE name = 'task_performance (this version)'))::numeric, 2)
           AS ratio_to_this_version
  FROM timings ORDER BY ms;
SQL
