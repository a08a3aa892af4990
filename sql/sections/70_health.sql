/* ------------------------------------------------------------------------
 * Section: pipeline health (SQL)
 * ------------------------------------------------------------------------ */

/*
 * Success rate is Prefect's: Completed / (Completed + Failed + Crashed),
 * NULL when no run has reached one of those states.  Cancelled runs count
 * neither way; runs in a non-terminal state (Scheduled, Pending, Running,
 * Paused, Cancelling) are counted as running.  Durations are over finished
 * runs (Completed, Failed, Crashed) that have an end_time.  Time ranges
 * filter on start_time in [since, until); NULL leaves that side open.
 * The one-row functions and the per-name views compute the same columns;
 * keep each pair in step.
 */

CREATE FUNCTION @extschema@.get_flow_health(
    flow_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT get_flow_health.flow_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed'),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Cancelled'),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.start_time)
      FROM @extschema@.flow_runs r
     WHERE (get_flow_health.flow_name IS NULL OR r.flow_name = get_flow_health.flow_name)
       AND (get_flow_health.since IS NULL OR r.start_time >= get_flow_health.since)
       AND (get_flow_health.until IS NULL OR r.start_time < get_flow_health.until)
$$;
COMMENT ON FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) IS
$$one row of health figures for flow flow_name (all flows when NULL) over runs started in [since, until).
success_rate = Completed / (Completed + Failed + Crashed), NULL when that is 0; success_count = Completed; failure_count = Failed + Crashed; cancelled_count = Cancelled; running_count = Scheduled, Pending, Running, Paused or Cancelling.
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; last_run_at is the latest start_time.$$;

CREATE VIEW @extschema@.flow_health WITH (security_invoker = true) AS
    SELECT r.flow_name,
           pg_catalog.count(*) AS total_runs,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed') AS success_count,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')) AS failure_count,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Cancelled') AS cancelled_count,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Scheduled', 'Pending', 'Running', 'Paused', 'Cancelling')) AS running_count,
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0) AS success_rate,
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS avg_duration_seconds,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p50_duration_seconds,
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p95_duration_seconds,
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
           pg_catalog.max(r.start_time) AS last_run_at
      FROM @extschema@.flow_runs r
     GROUP BY r.flow_name;
COMMENT ON VIEW @extschema@.flow_health IS
    'obs.get_flow_health() per flow_name over all runs: success rate Completed / (Completed + Failed + Crashed), counts, durations';

CREATE FUNCTION @extschema@.get_task_performance(
    task_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, total_runs bigint, avg_duration_seconds double precision,
              p50_duration_seconds double precision, p95_duration_seconds double precision,
              max_duration_seconds double precision, total_inputs bigint, total_outputs bigint,
              throughput double precision, failure_count bigint)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT get_task_performance.task_name,
           pg_catalog.count(*),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint,
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed'))
      FROM @extschema@.task_runs r
     WHERE (get_task_performance.task_name IS NULL OR r.task_name = get_task_performance.task_name)
       AND (get_task_performance.since IS NULL OR r.start_time >= get_task_performance.since)
       AND (get_task_performance.until IS NULL OR r.start_time < get_task_performance.until)
$$;
COMMENT ON FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) IS
$$one row of performance figures for task task_name (all tasks when NULL) over runs started in [since, until).
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; throughput = sum(inputs_processed) / sum(duration_seconds) in records per second over those runs that have both; failure_count = Failed + Crashed.$$;

CREATE VIEW @extschema@.task_performance WITH (security_invoker = true) AS
    SELECT r.task_name,
           pg_catalog.count(*) AS total_runs,
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS avg_duration_seconds,
           pg_catalog.percentile_cont(0.5) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p50_duration_seconds,
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY r.duration_seconds)
               FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS p95_duration_seconds,
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')) AS max_duration_seconds,
           pg_catalog.sum(r.inputs_processed)::bigint AS total_inputs,
           pg_catalog.sum(r.outputs_produced)::bigint AS total_outputs,
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0) AS throughput,
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')) AS failure_count
      FROM @extschema@.task_runs r
     GROUP BY r.task_name;
COMMENT ON VIEW @extschema@.task_performance IS
    'obs.get_task_performance() per task_name over all runs: durations, p50/p95, inputs, outputs, throughput (records/s), failures';

CREATE FUNCTION @extschema@.get_task_summary(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, runs bigint, failures bigint, success_rate double precision,
              duration_seconds double precision, max_duration_seconds double precision,
              throughput double precision, inputs_processed bigint, outputs_produced bigint)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.task_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint
      FROM @extschema@.task_runs r
     WHERE (get_task_summary.since IS NULL OR r.start_time >= get_task_summary.since)
       AND (get_task_summary.until IS NULL OR r.start_time < get_task_summary.until)
     GROUP BY r.task_name
$$;
COMMENT ON FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) IS
$$one row per task_name over runs started in [since, until): runs, failures (Failed + Crashed), success_rate (Prefect's), duration_seconds (average) and max_duration_seconds over finished runs, throughput (records/s), inputs_processed, outputs_produced.
Slowest tasks: ORDER BY duration_seconds DESC LIMIT 5; highest throughput: ORDER BY throughput DESC NULLS LAST LIMIT 5; bottlenecks: WHERE duration_seconds > 30.$$;

-- plain SQL (not a call of the function), so that SELECT on the view is
-- all a reader needs; keep the aggregates in step with get_task_summary()
CREATE VIEW @extschema@.task_summary (task_name, runs, failures, success_rate, duration_seconds, max_duration_seconds, throughput, inputs_processed, outputs_produced) WITH (security_invoker = true) AS
    SELECT r.task_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
           pg_catalog.avg(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.max(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')),
           pg_catalog.sum(r.inputs_processed) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                        AND r.duration_seconds IS NOT NULL)::double precision
               / NULLIF(pg_catalog.sum(r.duration_seconds) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')
                                                                   AND r.inputs_processed IS NOT NULL), 0),
           pg_catalog.sum(r.inputs_processed)::bigint,
           pg_catalog.sum(r.outputs_produced)::bigint
      FROM @extschema@.task_runs r
     GROUP BY r.task_name;
COMMENT ON VIEW @extschema@.task_summary IS
    'obs.get_task_summary() over all runs: one row per task with runs, failures, success_rate, duration_seconds, throughput';

