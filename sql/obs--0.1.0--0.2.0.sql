/*
 * obs 0.1.0 -> 0.2.0
 *
 * Every schema change of 0.2.0, in the order of sql/sections/.  The upgrade
 * test (test/suites/upgrade.sh) checks that a 0.1.0 database upgraded with
 * this script has exactly the objects of a fresh 0.2.0 install.
 */

\echo Use "ALTER EXTENSION obs UPDATE TO '0.2.0'" to load this file. \quit

/* ---- security and backups: issue 7 items 1, 4, 5, 7, 8 ---- */

/* item 1: pg_dump dumps the rows of every table and the position of every sequence */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.logs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.logs_log_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.spans', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.spans_span_seq_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_series', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_series_series_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.metric_points', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alerts', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alerts_alert_id_seq', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.alert_rules', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.flow_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.task_runs', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.dead_letters', '');
SELECT pg_catalog.pg_extension_config_dump('@extschema@.dead_letters_dead_letter_id_seq', '');

/* item 4: a replica identity for the one table without a key */
ALTER TABLE @extschema@.metric_points REPLICA IDENTITY FULL;

/* item 5: every SQL and PL/pgSQL function resolves names in pg_catalog only */
ALTER FUNCTION @extschema@._alert_args(text, double precision, text, interval, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._store_alerts(text, double precision, text, interval, jsonb, timestamptz, text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.add_alert_rule(text, text, double precision, text, interval, jsonb) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.drop_alert_rule(text) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.evaluate_alert_rules(timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.acknowledge_alert(bigint) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz) SET search_path = pg_catalog, pg_temp;
ALTER FUNCTION @extschema@._privilege_functions(text) SET search_path = pg_catalog, pg_temp;
CREATE OR REPLACE FUNCTION @extschema@.log_json(l @extschema@.logs)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.json_build_object(
               'timestamp', pg_catalog.to_char(l.ts AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
               'level', l.level,
               'logger', l.logger,
               'message', l.message,
               'context', l.context,
               'tags', l.tags,
               'trace_id', l.trace_id::text,
               'span_id', l.span_id::text,
               'error', l.error,
               'log_id', l.log_id)::text;
END;
CREATE OR REPLACE FUNCTION @extschema@._jaeger_tag(key text, value jsonb)
RETURNS jsonb
LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.jsonb_build_object(
               'key', _jaeger_tag.key,
               'type', CASE pg_catalog.jsonb_typeof(_jaeger_tag.value)
                           WHEN 'boolean' THEN 'bool'
                           WHEN 'number' THEN
                               CASE WHEN (_jaeger_tag.value)::numeric = pg_catalog.trunc((_jaeger_tag.value)::numeric)
                                         AND pg_catalog.abs((_jaeger_tag.value)::numeric) < 9223372036854775807
                                    THEN 'int64' ELSE 'float64' END
                           ELSE 'string' END,
               'value', CASE WHEN pg_catalog.jsonb_typeof(_jaeger_tag.value) IN ('boolean', 'number', 'string')
                             THEN _jaeger_tag.value
                             ELSE pg_catalog.to_jsonb((_jaeger_tag.value)::text) END);
END;

/* item 4: purge also trims dead letters and acknowledged alerts */
CREATE OR REPLACE FUNCTION @extschema@.purge(older_than interval)
RETURNS TABLE(table_name text, deleted bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_count bigint;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'older_than must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 < '0'::interval THEN
        RAISE EXCEPTION 'older_than must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $1);
    END IF;
    v_cutoff := pg_catalog.now() - $1;

    DELETE FROM @extschema@.logs t WHERE t.ts < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'logs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.spans t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'spans'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.metric_points t WHERE t.ts < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'metric_points'; deleted := v_count; RETURN NEXT;

    /* an alert nobody acknowledged stays, however old: purge never closes one */
    DELETE FROM @extschema@.alerts t
     WHERE t.observed_at < v_cutoff AND t.acknowledged_at IS NOT NULL;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'alerts'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.task_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'task_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.flow_runs t WHERE t.start_time < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'flow_runs'; deleted := v_count; RETURN NEXT;

    DELETE FROM @extschema@.dead_letters t WHERE t.received_at < v_cutoff;
    GET DIAGNOSTICS v_count = ROW_COUNT;
    table_name := 'dead_letters'; deleted := v_count; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.purge(interval) IS
$$retention: delete logs (ts), spans (start_time), metric_points (ts), acknowledged alerts (observed_at), task_runs and flow_runs (start_time) and dead_letters (received_at) older than now() - older_than; metric_series, alert_rules and unacknowledged alerts are kept.  Returns the rows deleted per table.
pg_cron: SELECT cron.schedule('obs-retention', '17 3 * * *', 'SELECT obs.purge(''30 days'')');
Errors: 22004 for NULL, 22023 for a negative interval.$$;

/* item 7: RLS on the tables holds through the views */
ALTER VIEW @extschema@.metrics SET (security_invoker = true);
ALTER VIEW @extschema@.ingest_stats SET (security_invoker = true);
ALTER VIEW @extschema@.active_alerts SET (security_invoker = true);
ALTER VIEW @extschema@.flow_health SET (security_invoker = true);
ALTER VIEW @extschema@.task_performance SET (security_invoker = true);
ALTER VIEW @extschema@.task_summary SET (security_invoker = true);
ALTER VIEW @extschema@.error_rate_by_service SET (security_invoker = true);
ALTER VIEW @extschema@.throughput_per_minute SET (security_invoker = true);
ALTER VIEW @extschema@.log_volume_per_minute SET (security_invoker = true);
ALTER VIEW @extschema@.service_performance SET (security_invoker = true);
ALTER VIEW @extschema@.logs_json SET (security_invoker = true);

/* item 8: ingest_stats for readers only; other databases for pg_monitor */
REVOKE EXECUTE ON FUNCTION @extschema@.ingest_stats() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.ingest_stats() IS
    'counters of the buffered write path since the server (re)initialised shared memory: this database''s, and every database''s for members of pg_monitor';
/* ---- dashboards: issue 7 items 18, 26; health figures once ---- */

/*
 * Health figures defined once (views select from their function), every
 * dashboard function with a [since, until) range that is an index condition,
 * log_volume(), throughput() and service_performance() range functions,
 * jaeger_json() by id through the primary key.  Functions that gain an
 * argument (until) are dropped and created again; the views keep their
 * columns and are replaced in place.
 */
DROP FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz);
DROP FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz);
DROP FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz);

/* until earlier than since is an error; returns true so that it can be a qual */
CREATE OR REPLACE FUNCTION @extschema@._check_range(since timestamptz, until timestamptz)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $2 < $1 THEN
        RAISE EXCEPTION 'until must not be earlier than since'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The range given was [%s, %s).', $1, $2);
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._check_range(timestamptz, timestamptz) IS
    'internal: raises 22023 when until is earlier than since (NULL on either side is an open end), else true';

CREATE OR REPLACE FUNCTION @extschema@._flow_health(
    flow_name text, since timestamptz, until timestamptz, per_flow boolean)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _flow_health.per_flow THEN r.flow_name || '' END,
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
     WHERE (_flow_health.flow_name IS NULL OR r.flow_name = _flow_health.flow_name)
       AND r.start_time >= COALESCE(_flow_health.since, '-infinity'::timestamptz)
       AND r.start_time < COALESCE(_flow_health.until, 'infinity'::timestamptz)
     GROUP BY CASE WHEN _flow_health.per_flow THEN r.flow_name || '' END;
END;
COMMENT ON FUNCTION @extschema@._flow_health(text, timestamptz, timestamptz, boolean) IS
    'internal: the flow health figures over runs of flow_name (all when NULL) started in [since, until), one row per flow name when per_flow, else one row (none when no run matches)';

CREATE OR REPLACE FUNCTION @extschema@.get_flow_health(
    flow_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(flow_name text, total_runs bigint, success_count bigint, failure_count bigint,
              cancelled_count bigint, running_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              last_run_at timestamptz)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT get_flow_health.flow_name,
           COALESCE(h.total_runs, 0), COALESCE(h.success_count, 0), COALESCE(h.failure_count, 0),
           COALESCE(h.cancelled_count, 0), COALESCE(h.running_count, 0), h.success_rate,
           h.avg_duration_seconds, h.p50_duration_seconds, h.p95_duration_seconds,
           h.max_duration_seconds, h.last_run_at
      FROM (VALUES (1)) one(x)
      LEFT JOIN @extschema@._flow_health(get_flow_health.flow_name, get_flow_health.since,
                                         get_flow_health.until, false) h ON true
     WHERE @extschema@._check_range(get_flow_health.since, get_flow_health.until);
END;
COMMENT ON FUNCTION @extschema@.get_flow_health(text, timestamptz, timestamptz) IS
$$one row of health figures for flow flow_name (all flows when NULL) over runs started in [since, until).
success_rate = Completed / (Completed + Failed + Crashed), NULL when that is 0; success_count = Completed; failure_count = Failed + Crashed; cancelled_count = Cancelled; running_count = Scheduled, Pending, Running, Paused or Cancelling.
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; last_run_at is the latest start_time.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.flow_health WITH (security_invoker = true) AS
    SELECT h.flow_name, h.total_runs, h.success_count, h.failure_count, h.cancelled_count,
           h.running_count, h.success_rate, h.avg_duration_seconds, h.p50_duration_seconds,
           h.p95_duration_seconds, h.max_duration_seconds, h.last_run_at
      FROM @extschema@._flow_health(NULL, NULL, NULL, true) h;
COMMENT ON VIEW @extschema@.flow_health IS
    'obs.get_flow_health() per flow_name over all runs: success rate Completed / (Completed + Failed + Crashed), counts, durations';

/* the task figures of get_task_performance() and get_task_summary() */
CREATE OR REPLACE FUNCTION @extschema@._task_figures(
    task_name text, since timestamptz, until timestamptz, per_task boolean)
RETURNS TABLE(task_name text, total_runs bigint, failure_count bigint, success_rate double precision,
              avg_duration_seconds double precision, p50_duration_seconds double precision,
              p95_duration_seconds double precision, max_duration_seconds double precision,
              total_inputs bigint, total_outputs bigint, throughput double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _task_figures.per_task THEN r.task_name || '' END,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE r.status IN ('Failed', 'Crashed')),
           pg_catalog.count(*) FILTER (WHERE r.status = 'Completed')::double precision
               / NULLIF(pg_catalog.count(*) FILTER (WHERE r.status IN ('Completed', 'Failed', 'Crashed')), 0),
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
                                                                   AND r.inputs_processed IS NOT NULL), 0)
      FROM @extschema@.task_runs r
     WHERE (_task_figures.task_name IS NULL OR r.task_name = _task_figures.task_name)
       AND r.start_time >= COALESCE(_task_figures.since, '-infinity'::timestamptz)
       AND r.start_time < COALESCE(_task_figures.until, 'infinity'::timestamptz)
     GROUP BY CASE WHEN _task_figures.per_task THEN r.task_name || '' END;
END;
COMMENT ON FUNCTION @extschema@._task_figures(text, timestamptz, timestamptz, boolean) IS
    'internal: the task figures over runs of task_name (all when NULL) started in [since, until), one row per task name when per_task, else one row (none when no run matches)';

CREATE OR REPLACE FUNCTION @extschema@.get_task_performance(
    task_name text DEFAULT NULL, since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, total_runs bigint, avg_duration_seconds double precision,
              p50_duration_seconds double precision, p95_duration_seconds double precision,
              max_duration_seconds double precision, total_inputs bigint, total_outputs bigint,
              throughput double precision, failure_count bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT get_task_performance.task_name,
           COALESCE(f.total_runs, 0), f.avg_duration_seconds, f.p50_duration_seconds,
           f.p95_duration_seconds, f.max_duration_seconds, f.total_inputs, f.total_outputs,
           f.throughput, COALESCE(f.failure_count, 0)
      FROM (VALUES (1)) one(x)
      LEFT JOIN @extschema@._task_figures(get_task_performance.task_name, get_task_performance.since,
                                          get_task_performance.until, false) f ON true
     WHERE @extschema@._check_range(get_task_performance.since, get_task_performance.until);
END;
COMMENT ON FUNCTION @extschema@.get_task_performance(text, timestamptz, timestamptz) IS
$$one row of performance figures for task task_name (all tasks when NULL) over runs started in [since, until).
Durations (seconds) are over Completed, Failed and Crashed runs with an end_time; throughput = sum(inputs_processed) / sum(duration_seconds) in records per second over those runs that have both; failure_count = Failed + Crashed.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.task_performance WITH (security_invoker = true) AS
    SELECT f.task_name, f.total_runs, f.avg_duration_seconds, f.p50_duration_seconds,
           f.p95_duration_seconds, f.max_duration_seconds, f.total_inputs, f.total_outputs,
           f.throughput, f.failure_count
      FROM @extschema@._task_figures(NULL, NULL, NULL, true) f;
COMMENT ON VIEW @extschema@.task_performance IS
    'obs.get_task_performance() per task_name over all runs: durations, p50/p95, inputs, outputs, throughput (records/s), failures';

CREATE OR REPLACE FUNCTION @extschema@.get_task_summary(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(task_name text, runs bigint, failures bigint, success_rate double precision,
              duration_seconds double precision, max_duration_seconds double precision,
              throughput double precision, inputs_processed bigint, outputs_produced bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT f.task_name, f.total_runs, f.failure_count, f.success_rate, f.avg_duration_seconds,
           f.max_duration_seconds, f.throughput, f.total_inputs, f.total_outputs
      FROM @extschema@._task_figures(NULL, get_task_summary.since, get_task_summary.until, true) f
     WHERE @extschema@._check_range(get_task_summary.since, get_task_summary.until);
END;
COMMENT ON FUNCTION @extschema@.get_task_summary(timestamptz, timestamptz) IS
$$one row per task_name over runs started in [since, until): runs, failures (Failed + Crashed), success_rate (Prefect's), duration_seconds (average) and max_duration_seconds over finished runs, throughput (records/s), inputs_processed, outputs_produced.
Slowest tasks: ORDER BY duration_seconds DESC LIMIT 5; highest throughput: ORDER BY throughput DESC NULLS LAST LIMIT 5; bottlenecks: WHERE duration_seconds > 30.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.task_summary WITH (security_invoker = true) AS
    SELECT s.task_name, s.runs, s.failures, s.success_rate, s.duration_seconds,
           s.max_duration_seconds, s.throughput, s.inputs_processed, s.outputs_produced
      FROM @extschema@.get_task_summary(NULL, NULL) s;
COMMENT ON VIEW @extschema@.task_summary IS
    'obs.get_task_summary() over all runs: one row per task with runs, failures, success_rate, duration_seconds, throughput';

/* bucket must be a positive interval without months or years; true when it is */
CREATE OR REPLACE FUNCTION @extschema@._check_bucket(bucket interval)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'bucket must not be null' USING ERRCODE = '22004';
    END IF;
    IF $1 <= '0'::interval OR pg_catalog.date_part('month', $1) <> 0
       OR pg_catalog.date_part('year', $1) <> 0 THEN
        RAISE EXCEPTION 'bucket must be a positive interval without months or years'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bucket given was %s.', $1);
    END IF;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@._check_bucket(interval) IS
    'internal: raises 22004 for a NULL bucket and 22023 for one that is not positive or has months or years, else true';

CREATE OR REPLACE FUNCTION @extschema@.high_latency_by_endpoint(
    threshold_ms double precision DEFAULT 1000,
    metric_name text DEFAULT 'request_latency_ms',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(endpoint text, requests bigint, avg_latency_ms double precision,
              max_latency_ms double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.tags ->> 'endpoint',
           pg_catalog.count(*),
           pg_catalog.avg(p.value),
           pg_catalog.max(p.value)
      FROM @extschema@.metric_series s
      JOIN @extschema@.metric_points p ON p.series_id = s.series_id
     WHERE @extschema@._check_range(high_latency_by_endpoint.since, high_latency_by_endpoint.until)
       AND s.name = high_latency_by_endpoint.metric_name
       AND s.tags ? 'endpoint'
       AND p.value > high_latency_by_endpoint.threshold_ms
       AND p.ts >= COALESCE(high_latency_by_endpoint.since, '-infinity'::timestamptz)
       AND p.ts < COALESCE(high_latency_by_endpoint.until, 'infinity'::timestamptz)
     GROUP BY 1
     ORDER BY 2 DESC, 1;
END;
COMMENT ON FUNCTION @extschema@.high_latency_by_endpoint(double precision, text, timestamptz, timestamptz) IS
$$the seed's "high latency requests" query: samples of metric_name above threshold_ms taken in [since, until), counted per "endpoint" tag, most first.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

/* spans per service over [since, until): the figures of two views */
CREATE OR REPLACE FUNCTION @extschema@.service_performance(since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL)
RETURNS TABLE(service_name text, service_type @extschema@.service_type, spans bigint,
              avg_ms double precision, p95_ms double precision, max_ms double precision,
              errors bigint, error_rate double precision)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT s.service_name, s.service_type,
           pg_catalog.count(*),
           pg_catalog.avg(s.duration_us::double precision / 1000.0),
           pg_catalog.percentile_cont(0.95) WITHIN GROUP (ORDER BY s.duration_us::double precision / 1000.0),
           pg_catalog.max(s.duration_us)::double precision / 1000.0,
           pg_catalog.count(*) FILTER (WHERE s.status = 'error'),
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')::double precision
               / pg_catalog.count(*)
      FROM @extschema@.spans s
     WHERE @extschema@._check_range(service_performance.since, service_performance.until)
       AND s.start_time >= COALESCE(service_performance.since, '-infinity'::timestamptz)
       AND s.start_time < COALESCE(service_performance.until, 'infinity'::timestamptz)
     GROUP BY s.service_name, s.service_type;
END;
COMMENT ON FUNCTION @extschema@.service_performance(timestamptz, timestamptz) IS
$$the Kibana "service performance" panel over spans started in [since, until): spans per service name and type with average, p95 and maximum duration in milliseconds, error spans and the error ratio (0-1).
NULL since or until leaves that side open; errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.error_rate_by_service WITH (security_invoker = true) AS
    SELECT p.service_name, p.service_type, p.spans, p.errors, p.error_rate
      FROM @extschema@.service_performance(NULL, NULL) p;
COMMENT ON VIEW @extschema@.error_rate_by_service IS
    'the seed''s "error rate by service" query: finished spans, error spans and their ratio (0-1) per service; obs.service_performance(since, until) over a range';

CREATE OR REPLACE FUNCTION @extschema@.throughput(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, service_name text, spans bigint, errors bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(throughput.bucket, s.start_time, '2000-01-01 00:00:00+00'::timestamptz),
           s.service_name,
           pg_catalog.count(*),
           pg_catalog.count(*) FILTER (WHERE s.status = 'error')
      FROM @extschema@.spans s
     WHERE @extschema@._check_bucket(throughput.bucket)
       AND @extschema@._check_range(throughput.since, throughput.until)
       AND s.start_time >= COALESCE(throughput.since, '-infinity'::timestamptz)
       AND s.start_time < COALESCE(throughput.until, 'infinity'::timestamptz)
     GROUP BY 1, 2;
END;
COMMENT ON FUNCTION @extschema@.throughput(timestamptz, timestamptz, interval) IS
$$the seed's "throughput trend": spans started in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and service, with their errors.
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE VIEW @extschema@.throughput_per_minute WITH (security_invoker = true) AS
    SELECT t.time_bucket AS minute, t.service_name, t.spans, t.errors
      FROM @extschema@.throughput(NULL, NULL, '1 minute') t;
COMMENT ON VIEW @extschema@.throughput_per_minute IS
    'the seed''s "throughput trend" query: spans started per minute and service, with their errors (the Kibana error-rate trend); obs.throughput(since, until) over a range';

CREATE OR REPLACE FUNCTION @extschema@.log_volume(
    since timestamptz DEFAULT NULL, until timestamptz DEFAULT NULL, bucket interval DEFAULT '1 minute')
RETURNS TABLE(time_bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT pg_catalog.date_bin(log_volume.bucket, l.ts, '2000-01-01 00:00:00+00'::timestamptz),
           l.level,
           pg_catalog.count(*)
      FROM @extschema@.logs l
     WHERE @extschema@._check_bucket(log_volume.bucket)
       AND @extschema@._check_range(log_volume.since, log_volume.until)
       AND l.ts >= COALESCE(log_volume.since, '-infinity'::timestamptz)
       AND l.ts < COALESCE(log_volume.until, 'infinity'::timestamptz)
     GROUP BY 1, 2;
END;
COMMENT ON FUNCTION @extschema@.log_volume(timestamptz, timestamptz, interval) IS
$$log records with ts in [since, until) per time bucket (date_bin from 2000-01-01 UTC) and level (the CloudWatch "stats count() by bin(1m)" over logs).
NULL since or until leaves that side open; errors: 22023 when until is earlier than since, 22004 for a NULL bucket, 22023 for a bucket that is not positive or has months or years.$$;

CREATE OR REPLACE VIEW @extschema@.log_volume_per_minute WITH (security_invoker = true) AS
    SELECT v.time_bucket AS minute, v.level, v.records
      FROM @extschema@.log_volume(NULL, NULL, '1 minute') v;
COMMENT ON VIEW @extschema@.log_volume_per_minute IS
    'log records per minute and level (the CloudWatch "stats count() by bin(1m)" over logs); obs.log_volume(since, until) over a range';

/* the heatmap's cells; latency_heatmap() checks the arguments first */
CREATE OR REPLACE FUNCTION @extschema@._latency_heatmap(
    metric_name text, bucket interval, bounds double precision[], since timestamptz, until timestamptz)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT h.tb, CASE WHEN h.wb > 0 THEN _latency_heatmap.bounds[h.wb] END,
           _latency_heatmap.bounds[h.wb + 1], pg_catalog.count(*)
      FROM (SELECT pg_catalog.date_bin(_latency_heatmap.bucket, p.ts, '2000-01-01 00:00:00+00'::timestamptz) AS tb,
                   pg_catalog.width_bucket(p.value, _latency_heatmap.bounds) AS wb
              FROM @extschema@.metric_series s
              JOIN @extschema@.metric_points p ON p.series_id = s.series_id
             WHERE s.name = _latency_heatmap.metric_name
               AND p.ts >= COALESCE(_latency_heatmap.since, '-infinity'::timestamptz)
               AND p.ts < COALESCE(_latency_heatmap.until, 'infinity'::timestamptz)) h
     GROUP BY h.tb, h.wb
     ORDER BY h.tb, h.wb;
END;
COMMENT ON FUNCTION @extschema@._latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
    'internal: the cells of obs.latency_heatmap(), whose arguments it has checked';

CREATE OR REPLACE FUNCTION @extschema@.latency_heatmap(
    metric_name text DEFAULT 'request_latency_ms',
    bucket interval DEFAULT '1 minute',
    bounds double precision[] DEFAULT '{10,50,100,250,500,1000,2500,5000}',
    since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS TABLE(time_bucket timestamptz, lower_ms double precision, upper_ms double precision,
              requests bigint)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    PERFORM @extschema@._check_bucket($2);
    IF $3 IS NULL THEN
        RAISE EXCEPTION 'bounds must not be null' USING ERRCODE = '22004';
    END IF;
    IF pg_catalog.cardinality($3) = 0 OR pg_catalog.array_ndims($3) <> 1
       OR EXISTS (SELECT 1 FROM pg_catalog.unnest($3) WITH ORDINALITY u(b, i)
                   WHERE u.b IS NULL OR u.b IN ('NaN', 'Infinity', '-Infinity')
                      OR (u.i > 1 AND u.b <= ($3)[u.i - 1])) THEN
        RAISE EXCEPTION 'bounds must be finite numbers in strictly ascending order'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The bounds given were %s.', $3);
    END IF;
    PERFORM @extschema@._check_range($4, $5);
    RETURN QUERY SELECT * FROM @extschema@._latency_heatmap($1, $2, $3, $4, $5);
END
$$;
COMMENT ON FUNCTION @extschema@.latency_heatmap(text, interval, double precision[], timestamptz, timestamptz) IS
$$the Kibana "request latency heatmap": samples of metric_name taken in [since, until), counted per time bucket (date_bin from 2000-01-01 UTC) and value bucket [lower_ms, upper_ms) cut at bounds; lower_ms NULL is below bounds[1], upper_ms NULL is at or above the last bound; only non-empty cells are returned.
NULL since or until leaves that side open.  Errors: 22004 for NULL metric_name, bucket or bounds; 22023 for a bucket that is not positive or has months/years, bounds that are empty, not finite or not strictly ascending, or until earlier than since.$$;

CREATE OR REPLACE VIEW @extschema@.service_performance WITH (security_invoker = true) AS
    SELECT p.service_name, p.service_type, p.spans, p.avg_ms, p.p95_ms, p.max_ms, p.errors, p.error_rate
      FROM @extschema@.service_performance(NULL, NULL) p;
COMMENT ON VIEW @extschema@.service_performance IS
    'the Kibana "service performance" panel: spans per service with average, p95 and maximum duration in milliseconds and the error ratio; obs.service_performance(since, until) over a range';

CREATE FUNCTION @extschema@.jaeger_json(
    trace_ids @extschema@.trace_id[] DEFAULT NULL, since timestamptz DEFAULT NULL,
    until timestamptz DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    WITH traces AS (
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NOT NULL
           AND s.trace_id = ANY (jaeger_json.trace_ids)
           AND (jaeger_json.since IS NULL OR s.start_time >= jaeger_json.since)
           AND (jaeger_json.until IS NULL OR s.start_time < jaeger_json.until)
        UNION
        SELECT s.trace_id
          FROM @extschema@.spans s
         WHERE jaeger_json.trace_ids IS NULL
           AND s.start_time >= COALESCE(jaeger_json.since, '-infinity'::timestamptz)
           AND s.start_time < COALESCE(jaeger_json.until, 'infinity'::timestamptz)
    ), trace_spans AS (
        /* each trace's spans through the primary key (OFFSET 0 keeps the
           lookup per trace rather than a join over the whole table) */
        SELECT s.*,
               pg_catalog.min(s.start_time) OVER (PARTITION BY s.trace_id, s.service_name) AS service_start
          FROM traces t
         CROSS JOIN LATERAL (SELECT x.* FROM @extschema@.spans x
                              WHERE x.trace_id = t.trace_id OFFSET 0) s
    ), spans AS (
        /* processes are numbered p1, p2, ... in the order their service first starts */
        SELECT s.*,
               'p' || pg_catalog.dense_rank() OVER (PARTITION BY s.trace_id
                                                    ORDER BY s.service_start, s.service_name) AS process_id,
               (SELECT pg_catalog.jsonb_agg(t.tag ORDER BY t.ord, t.key)
                  FROM (SELECT 1 AS ord, e.key, @extschema@._jaeger_tag(e.key, e.value) AS tag
                          FROM pg_catalog.jsonb_each(COALESCE(s.tags, '{}'::jsonb)) e
                        UNION ALL
                        SELECT 2, 'service.type',
                               @extschema@._jaeger_tag('service.type', pg_catalog.to_jsonb(s.service_type::text))
                        UNION ALL
                        SELECT 3, 'otel.status_code',
                               @extschema@._jaeger_tag('otel.status_code', pg_catalog.to_jsonb(pg_catalog.upper(s.status::text)))
                         WHERE s.status <> 'unset'
                        UNION ALL
                        SELECT 4, 'otel.status_description',
                               @extschema@._jaeger_tag('otel.status_description', pg_catalog.to_jsonb(s.error))
                         WHERE s.error IS NOT NULL
                        UNION ALL
                        SELECT 5, 'error', @extschema@._jaeger_tag('error', 'true'::jsonb)
                         WHERE s.status = 'error') t) AS jaeger_tags
          FROM trace_spans s
    ), per_trace AS (
        SELECT s.trace_id,
               pg_catalog.min(s.start_time) AS first_start,
               pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                   'traceID', s.trace_id::text,
                   'spanID', s.span_id::text,
                   'operationName', s.operation,
                   'references', CASE WHEN s.parent_span_id IS NULL THEN '[]'::jsonb
                                      ELSE pg_catalog.jsonb_build_array(pg_catalog.jsonb_build_object(
                                               'refType', 'CHILD_OF',
                                               'traceID', s.trace_id::text,
                                               'spanID', s.parent_span_id::text)) END,
                   'startTime', (EXTRACT(epoch FROM s.start_time) * 1000000)::bigint,
                   'duration', s.duration_us,
                   'tags', s.jaeger_tags,
                   'logs', '[]'::jsonb,
                   'processID', s.process_id,
                   'warnings', NULL) ORDER BY s.start_time, s.span_seq) AS spans,
               pg_catalog.jsonb_object_agg(s.process_id, pg_catalog.jsonb_build_object(
                   'serviceName', s.service_name, 'tags', '[]'::jsonb)) AS processes
          FROM spans s
         GROUP BY s.trace_id
    )
    SELECT pg_catalog.jsonb_build_object('data', COALESCE(pg_catalog.jsonb_agg(
               pg_catalog.jsonb_build_object('traceID', t.trace_id::text, 'spans', t.spans,
                                             'processes', t.processes, 'warnings', NULL)
               ORDER BY t.first_start, t.trace_id), '[]'::jsonb))
      FROM per_trace t
     WHERE @extschema@._check_range(jaeger_json.since, jaeger_json.until)
$$;
COMMENT ON FUNCTION @extschema@.jaeger_json(@extschema@.trace_id[], timestamptz, timestamptz) IS
$$the traces trace_ids (all when NULL) that have a span started in [since, until) (NULL leaves that side open), with all their spans, as a Jaeger JSON document ({"data": [trace, ...]}) that the Jaeger UI opens with "JSON File"; one process per service name; span tags are the span's tags plus service.type, otel.status_code (OK/ERROR, absent when unset), otel.status_description (the error text) and error=true for error spans.
Errors: 22023 when until is earlier than since.$$;

CREATE OR REPLACE FUNCTION @extschema@._privilege_functions(role_kind text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE _privilege_functions.role_kind
        /* signal writers: granted by grant_writer(), revoked from PUBLIC */
        WHEN 'writer' THEN ARRAY[
            'log', 'debug', 'info', 'warning', 'error', 'critical',
            'start_span', 'finish_span', 'set_traceparent',
            'record_metric', 'record_flow_execution', 'record_task_execution']
        /* readers: granted by grant_reader() (PUBLIC keeps EXECUTE; SELECT decides) */
        WHEN 'reader' THEN ARRAY[
            'get_flow_health', 'get_task_performance', 'get_task_summary',
            'high_latency_by_endpoint', 'latency_heatmap', 'log_json', 'jaeger_json',
            'current_span_id', 'current_trace_id', 'current_traceparent', 'open_spans',
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled',
            'log_volume', 'throughput', 'service_performance', '_check_range', '_check_bucket',
            '_flow_health', '_task_figures', '_latency_heatmap']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader']
    END
$$;
COMMENT ON FUNCTION @extschema@._privilege_functions(text) IS
    'internal: the names of obs''s functions in each privilege group (writer, reader, admin)';

/* ---- end dashboards ---- */

/* ---- python client API: issue 11 ---- */

/*
 * obs.log() and obs.debug() .. obs.critical() take ts, trace_id, span_id
 * and error_type at the end: a new signature, so DROP + CREATE.  The
 * EXECUTE grants of the old functions (obs.grant_writer() roles, and
 * whatever else was granted) are carried over to the new ones: they are
 * kept in a transaction-local setting before the DROP and granted again
 * after the CREATE.
 */
DO $upgrade$
DECLARE
    acls jsonb;
BEGIN
    SELECT pg_catalog.jsonb_object_agg(p.proname, p.proacl::text[])
      INTO acls
      FROM pg_catalog.pg_proc p
     WHERE p.pronamespace = '@extschema@'::regnamespace
       AND p.proname IN ('log', 'debug', 'info', 'warning', 'error', 'critical', 'finish_span')
       AND p.oid IN (SELECT d.objid FROM pg_catalog.pg_depend d
                      WHERE d.classid = 'pg_catalog.pg_proc'::regclass AND d.deptype = 'e'
                        AND d.refobjid = (SELECT e.oid FROM pg_catalog.pg_extension e WHERE e.extname = 'obs'));
    PERFORM pg_catalog.set_config('obs_upgrade.function_acls', acls::text, true);
END
$upgrade$;

DROP FUNCTION @extschema@.log(text, text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.debug(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.info(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.warning(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.error(text, jsonb, jsonb, text, text, text, text, text, text);
DROP FUNCTION @extschema@.critical(text, jsonb, jsonb, text, text, text, text, text, text);

CREATE FUNCTION @extschema@.log(
    level text, message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.log(text, text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'store a structured log record; returns its log_id, or NULL when the level is below obs.log_min_level (or the record is sampled out); ts, trace_id and span_id let a client that batches and keeps its own trace context give its own time and span';

CREATE FUNCTION @extschema@.debug(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_debug' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.debug(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level DEBUG';

CREATE FUNCTION @extschema@.info(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_info' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.info(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level INFO';

CREATE FUNCTION @extschema@.warning(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_warning' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.warning(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level WARNING';

CREATE FUNCTION @extschema@.error(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_error' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.error(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level ERROR';

CREATE FUNCTION @extschema@.critical(
    message text,
    context jsonb DEFAULT NULL, tags jsonb DEFAULT NULL, logger text DEFAULT NULL,
    sqlstate text DEFAULT NULL, error_message text DEFAULT NULL,
    error_detail text DEFAULT NULL, error_hint text DEFAULT NULL,
    error_context text DEFAULT NULL,
    ts timestamptz DEFAULT NULL, trace_id @extschema@.trace_id DEFAULT NULL,
    span_id @extschema@.span_id DEFAULT NULL, error_type text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_log_critical' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.critical(text, jsonb, jsonb, text, text, text, text, text, text, timestamptz, @extschema@.trace_id, @extschema@.span_id, text) IS
    'obs.log() at level CRITICAL';

CREATE FUNCTION @extschema@.record_span(
    trace_id @extschema@.trace_id, span_id @extschema@.span_id, parent_span_id @extschema@.span_id,
    operation text, service text, start_time timestamptz, end_time timestamptz,
    status text DEFAULT NULL, error text DEFAULT NULL, tags jsonb DEFAULT NULL,
    service_name text DEFAULT NULL)
RETURNS bigint AS 'MODULE_PATHNAME', 'obs_record_span' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.record_span(@extschema@.trace_id, @extschema@.span_id, @extschema@.span_id, text, text, timestamptz, timestamptz, text, text, jsonb, text) IS
$$store a span that a client timed itself (its trace context kept in the client, not in this session); returns its duration in microseconds.
The trace is head-sampled by its id at obs.trace_sample_rate.  Errors: 22004 for a NULL id, operation, service or time; 22023 for end_time before start_time, an unknown service or status, all-zero ids; 22008 for a time that is infinite or past obs's range; 23505 when (trace_id, span_id) is stored already (a dead letter on the buffered path).$$;

CREATE OR REPLACE FUNCTION @extschema@._privilege_functions(role_kind text)
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE _privilege_functions.role_kind
        /* signal writers: granted by grant_writer(), revoked from PUBLIC */
        WHEN 'writer' THEN ARRAY[
            'log', 'debug', 'info', 'warning', 'error', 'critical',
            'start_span', 'finish_span', 'set_traceparent', 'record_span',
            'record_metric', 'record_flow_execution', 'record_task_execution']
        /* readers: granted by grant_reader() (PUBLIC keeps EXECUTE; SELECT decides) */
        WHEN 'reader' THEN ARRAY[
            'get_flow_health', 'get_task_performance', 'get_task_summary',
            'high_latency_by_endpoint', 'latency_heatmap', 'log_json', 'jaeger_json',
            'current_span_id', 'current_trace_id', 'current_traceparent', 'open_spans',
            'parse_traceparent', 'reset_spans', 'flush', 'ingest_stats', 'trace_sampled',
            'log_volume', 'throughput', 'service_performance', '_check_range', '_check_bucket',
            '_flow_health', '_task_figures', '_latency_heatmap']
        /* administration: revoked from PUBLIC, granted to no helper role */
        WHEN 'admin' THEN ARRAY[
            'check_alert_conditions', 'add_alert_rule', 'drop_alert_rule',
            'evaluate_alert_rules', 'acknowledge_alert', 'purge', '_store_alerts',
            'grant_writer', 'grant_reader', 'revoke_writer', 'revoke_reader']
    END
$$;
COMMENT ON FUNCTION @extschema@._privilege_functions(text) IS
    'internal: the names of obs''s functions in each privilege group (writer, reader, admin)';

COMMENT ON FUNCTION @extschema@.grant_writer(regrole) IS
$$let role write signals: USAGE on schema obs and EXECUTE on obs.log, obs.debug .. obs.critical, obs.start_span, obs.finish_span, obs.set_traceparent, obs.record_span, obs.record_metric, obs.record_flow_execution and obs.record_task_execution; no SELECT on anything.
Runs as the caller, who needs the grant option (the extension owner or a superuser).  Re-run after ALTER EXTENSION obs UPDATE.$$;

/*
 * The new functions get the old ones' grants; obs.record_span() those of
 * obs.finish_span() (a role that may finish spans may record them).  A
 * NULL ACL (PostgreSQL's default: PUBLIC may execute) stays the default.
 */
DO $upgrade$
DECLARE
    acls jsonb := pg_catalog.current_setting('obs_upgrade.function_acls')::jsonb;
    f record;
    a record;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure AS fn, p.proowner,
               CASE p.proname WHEN 'record_span' THEN 'finish_span' ELSE p.proname END AS old_name
          FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = '@extschema@'::regnamespace
           AND p.proname IN ('log', 'debug', 'info', 'warning', 'error', 'critical', 'record_span')
         ORDER BY p.oid
    LOOP
        CONTINUE WHEN acls -> f.old_name IS NULL OR acls -> f.old_name = 'null'::jsonb;
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f.fn);
        FOR a IN
            SELECT x.grantee, x.is_grantable
              FROM pg_catalog.aclexplode(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(acls -> f.old_name))::aclitem[]) x
             WHERE x.privilege_type = 'EXECUTE' AND x.grantee <> f.proowner
             ORDER BY x.grantee
        LOOP
            EXECUTE pg_catalog.format('GRANT EXECUTE ON FUNCTION %s TO %s%s', f.fn,
                CASE a.grantee WHEN 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END,
                CASE WHEN a.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
        END LOOP;
    END LOOP;
END
$upgrade$;

/* ---- end python client API ---- */
