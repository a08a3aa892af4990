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
/* ---- buffered ingest: issue 7 item 25 (obs.ingest_stats.lost_at_crash_max) ---- */
/*
 * The result type of obs.ingest_stats() gains a column: the view and the
 * function are dropped and created again, and the privileges granted on
 * them (obs.grant_reader(), or by hand) are granted again.
 */
DO $ingest_stats$
DECLARE
    grants text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %s TO %s', a.privilege_type, o.target,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END),
               '; ')
      INTO grants
      FROM (SELECT 'TABLE @extschema@.ingest_stats' AS target, c.relacl AS acl, c.relowner AS owner
              FROM pg_catalog.pg_class c WHERE c.oid = '@extschema@.ingest_stats'::pg_catalog.regclass
            UNION ALL
            SELECT 'FUNCTION @extschema@.ingest_stats()', p.proacl, p.proowner
              FROM pg_catalog.pg_proc p WHERE p.oid = '@extschema@.ingest_stats()'::pg_catalog.regprocedure) o,
           LATERAL pg_catalog.aclexplode(o.acl) a
     WHERE a.grantee <> o.owner;

    DROP VIEW @extschema@.ingest_stats;
    DROP FUNCTION @extschema@.ingest_stats();
    CREATE FUNCTION @extschema@.ingest_stats(
        OUT database text, OUT signal text, OUT accepted bigint, OUT stored bigint,
        OUT dropped_full bigint, OUT dropped_other bigint, OUT dead_lettered bigint,
        OUT pending bigint, OUT sampled_out bigint, OUT pending_bytes bigint,
        OUT buffer_size bigint, OUT batches bigint, OUT retries bigint,
        OUT last_flush_at timestamptz, OUT worker_pid integer, OUT lost_at_crash_max bigint)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'obs_ingest_stats' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
    COMMENT ON FUNCTION @extschema@.ingest_stats() IS
        'counters of the buffered write path since the server (re)initialised shared memory: this database''s, and every database''s for members of pg_monitor; lost_at_crash_max bounds what the crash before lost';
    REVOKE EXECUTE ON FUNCTION @extschema@.ingest_stats() FROM PUBLIC;
    CREATE VIEW @extschema@.ingest_stats WITH (security_invoker = true) AS SELECT * FROM @extschema@.ingest_stats();
    COMMENT ON VIEW @extschema@.ingest_stats IS
        'per database and signal: accepted = stored + dropped_full + dropped_other + dead_lettered + pending; sampled_out is apart';

    IF grants IS NOT NULL THEN
        EXECUTE grants;
    END IF;
END
$ingest_stats$;
/* ---- alerts: issue 7 items 14-17 ---- */
/*
 * Alerts are keyed per checker (rule_name, NULL for ad-hoc checks) and per
 * sample (identical samples numbered by sample_no); rules keep an
 * evaluation watermark and their last error; every alert function pins
 * search_path.  The old key is a subset of the new one, so existing alerts
 * keep fitting it; they become sample 1 of their group.
 */
ALTER TABLE @extschema@.alerts ADD COLUMN sample_no integer NOT NULL DEFAULT 1;
ALTER TABLE @extschema@.alerts DROP CONSTRAINT alerts_series_id_observed_at_comparison_threshold_key;
ALTER TABLE @extschema@.alerts ADD CONSTRAINT alerts_sample_key
    UNIQUE NULLS NOT DISTINCT (rule_name, series_id, observed_at, value, sample_no, comparison, threshold);
COMMENT ON TABLE @extschema@.alerts IS
    'threshold breaches stored by obs.check_alert_conditions() (rule_name NULL) and obs.evaluate_alert_rules(); one row per breaching sample, rule, comparison and threshold';
ALTER TABLE @extschema@.alert_rules
    ADD COLUMN lateness interval NOT NULL DEFAULT '10 minutes' CHECK (lateness >= '0'),
    ADD COLUMN last_evaluated_at timestamptz,
    ADD COLUMN last_window tstzrange,
    ADD COLUMN last_xmin xid8,
    ADD COLUMN last_error text,
    ADD COLUMN last_error_at timestamptz;
COMMENT ON COLUMN @extschema@.alert_rules.lateness IS
    'how far before its window a sample stored since the previous evaluation is still checked (see README, "Lookback against schedule")';
COMMENT ON COLUMN @extschema@.alert_rules.last_evaluated_at IS
    'when the rule was last evaluated without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_window IS
    'the window (as_of - lookback, as_of] of the last evaluation without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_xmin IS
    'xmin of the snapshot of the last evaluation without error: samples stored by older transactions were visible to it';
COMMENT ON COLUMN @extschema@.alert_rules.last_error IS
    'SQLSTATE and message of the last evaluation if it failed, NULL after one without error';
COMMENT ON COLUMN @extschema@.alert_rules.last_error_at IS
    'when the last evaluation failed, NULL after one without error';

CREATE OR REPLACE FUNCTION @extschema@._alert_args(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb)
RETURNS text LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
BEGIN
    IF p_metric_name IS NULL THEN
        RAISE EXCEPTION 'metric_name must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_threshold IS NULL THEN
        RAISE EXCEPTION 'threshold must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_threshold IN ('NaN'::double precision, 'Infinity'::double precision,
                       '-Infinity'::double precision) THEN
        RAISE EXCEPTION 'threshold must be a finite number'
            USING ERRCODE = '22003',
                  DETAIL = pg_catalog.format('The threshold given was %s.', p_threshold);
    END IF;
    IF p_comparison IS NULL THEN
        RAISE EXCEPTION 'comparison must not be null' USING ERRCODE = '22004';
    END IF;
    v_comparison := CASE pg_catalog.lower(pg_catalog.btrim(p_comparison))
        WHEN 'greater' THEN 'greater'
        WHEN '>' THEN 'greater'
        WHEN 'less' THEN 'less'
        WHEN '<' THEN 'less'
        WHEN 'greater_or_equal' THEN 'greater_or_equal'
        WHEN '>=' THEN 'greater_or_equal'
        WHEN 'less_or_equal' THEN 'less_or_equal'
        WHEN '<=' THEN 'less_or_equal'
    END;
    IF v_comparison IS NULL THEN
        RAISE EXCEPTION 'invalid comparison "%"', p_comparison
            USING ERRCODE = '22023',
                  HINT = 'Valid comparisons are greater, less, greater_or_equal and less_or_equal, or >, <, >= and <=.';
    END IF;
    IF p_lookback IS NULL THEN
        RAISE EXCEPTION 'lookback must not be null' USING ERRCODE = '22004';
    END IF;
    IF p_lookback < '0'::interval THEN
        RAISE EXCEPTION 'lookback must not be negative'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The lookback given was %s.', p_lookback);
    END IF;
    IF p_tags IS NOT NULL AND pg_catalog.jsonb_typeof(p_tags) <> 'object' THEN
        RAISE EXCEPTION 'tags must be a JSON object'
            USING ERRCODE = '22023',
                  DETAIL = 'obs stores tags as key/value pairs, e.g. ''{"env": "production"}''.';
    END IF;
    RETURN v_comparison;
END
$$;
COMMENT ON FUNCTION @extschema@._alert_args(text, double precision, text, interval, jsonb) IS
    'internal: validate alert arguments and return the canonical comparison word';

CREATE FUNCTION @extschema@._xid_precedes(x xid, horizon xid8)
RETURNS boolean LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
    SELECT horizon IS NOT NULL
       AND (x::text::bigint < 3
            OR ((x::text::bigint - (horizon::text::bigint % 4294967296) + 4294967296)
                % 4294967296) >= 2147483648);
END;
COMMENT ON FUNCTION @extschema@._xid_precedes(xid, xid8) IS
    'internal: whether transaction x (a row''s xmin) precedes the full transaction id horizon';

DROP FUNCTION @extschema@._store_alerts(text, double precision, text, interval, jsonb, timestamptz, text);
CREATE FUNCTION @extschema@._store_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_tags jsonb, p_rule_name text, p_since timestamptz, p_until timestamptz,
    p_lateness interval, p_last_window tstzrange, p_last_xmin xid8)
RETURNS bigint[]
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_scan_since timestamptz := p_since;
    v_last_xmin xid8 := p_last_xmin;
    v_last_lo timestamptz;
    v_last_hi timestamptz;
    v_new bigint[] := '{}';
    v_symbol text;
    r record;
BEGIN
    /* a watermark from the future comes from another cluster (a restored
       dump): then this is like a first evaluation */
    IF p_last_xmin > pg_catalog.pg_snapshot_xmax(pg_catalog.pg_current_snapshot()) THEN
        v_last_xmin := NULL;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_lateness IS NOT NULL THEN
        v_scan_since := p_since - p_lateness;
    END IF;
    IF v_last_xmin IS NOT NULL AND p_last_window IS NOT NULL
       AND NOT pg_catalog.isempty(p_last_window) THEN
        v_last_lo := pg_catalog.lower(p_last_window);
        v_last_hi := pg_catalog.upper(p_last_window);
    END IF;
    v_symbol := CASE p_comparison WHEN 'greater' THEN '>' WHEN 'less' THEN '<'
                                  WHEN 'greater_or_equal' THEN '>=' ELSE '<=' END;

    FOR r IN
        INSERT INTO @extschema@.alerts AS a
               (metric_name, series_id, tags, observed_at, value, threshold,
                comparison, severity, rule_name, sample_no)
        SELECT b.name, b.series_id, b.tags, b.ts, b.value, p_threshold,
               p_comparison,
               CASE WHEN pg_catalog.abs(b.value::numeric - p_threshold::numeric)
                         > 0.1 * pg_catalog.abs(p_threshold::numeric)
                    THEN 'high' ELSE 'warning' END::@extschema@.alert_severity,
               p_rule_name, b.sample_no
          FROM (SELECT c.*,
                       pg_catalog.row_number() OVER w AS sample_no,
                       pg_catalog.bool_or(c.candidate) OVER w AS group_candidate
                  FROM (SELECT s.series_id, s.name, s.tags, p.ts, p.value,
                               NOT (k.seen AND p.ts > v_last_lo AND p.ts <= v_last_hi) IS TRUE
                               AND (p.ts > p_since OR NOT k.seen
                                    OR COALESCE(p.ts > v_last_hi, false)) AS candidate
                          FROM @extschema@.metric_series s
                          JOIN @extschema@.metric_points p ON p.series_id = s.series_id
                         CROSS JOIN LATERAL (
                               SELECT @extschema@._xid_precedes(p.xmin, v_last_xmin) AS seen) k
                         WHERE s.name = p_metric_name
                           AND (p_tags IS NULL OR s.tags @> p_tags)
                           AND p.ts > v_scan_since AND p.ts <= p_until
                           AND CASE p_comparison
                                   WHEN 'greater' THEN p.value > p_threshold
                                   WHEN 'less' THEN p.value < p_threshold
                                   WHEN 'greater_or_equal' THEN p.value >= p_threshold
                                   ELSE p.value <= p_threshold
                               END) c
                WINDOW w AS (PARTITION BY c.series_id, c.ts, c.value)) b
         WHERE b.group_candidate
         ORDER BY b.series_id, b.ts, b.value, b.sample_no
        ON CONFLICT ON CONSTRAINT alerts_sample_key DO NOTHING
        RETURNING a.alert_id, a.metric_name, a.tags, a.value, a.severity, a.observed_at
    LOOP
        v_new := v_new || r.alert_id;
        PERFORM @extschema@.warning(
            pg_catalog.format('alert: %s %s %s (value %s, %s)',
                              r.metric_name, v_symbol, p_threshold, r.value, r.severity),
            pg_catalog.jsonb_build_object(
                'alert_id', r.alert_id, 'metric_name', r.metric_name,
                'value', r.value, 'threshold', p_threshold,
                'comparison', p_comparison, 'severity', r.severity,
                'observed_at', r.observed_at, 'rule_name', p_rule_name),
            r.tags,
            'obs.alerts');
    END LOOP;
    RETURN v_new;
END
$$;
COMMENT ON FUNCTION @extschema@._store_alerts(text, double precision, text, jsonb, text, timestamptz, timestamptz, interval, tstzrange, xid8) IS
    'internal: store the new breaches of one alert condition and return their ids (see check_alert_conditions and evaluate_alert_rules)';
REVOKE EXECUTE ON FUNCTION @extschema@._store_alerts(text, double precision, text, jsonb, text, timestamptz, timestamptz, interval, tstzrange, xid8) FROM PUBLIC;

CREATE FUNCTION @extschema@._check_alerts(
    p_metric_name text, p_threshold double precision, p_comparison text,
    p_lookback interval, p_tags jsonb, p_as_of timestamptz)
RETURNS TABLE(o_alert_id bigint, o_metric_name text, o_tags jsonb, o_value double precision,
              o_threshold double precision, o_comparison text,
              o_severity @extschema@.alert_severity, o_observed_at timestamptz, o_is_new boolean)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
    v_until timestamptz;
    v_since timestamptz;
    v_new bigint[];
BEGIN
    v_comparison := @extschema@._alert_args(p_metric_name, p_threshold, p_comparison, p_lookback, p_tags);
    v_until := COALESCE(p_as_of, pg_catalog.clock_timestamp());
    v_since := v_until - p_lookback;
    v_new := @extschema@._store_alerts(p_metric_name, p_threshold, v_comparison, p_tags, NULL,
                                       v_since, v_until, NULL, NULL, NULL);
    RETURN QUERY
        SELECT a.alert_id, a.metric_name, a.tags, a.value, a.threshold, a.comparison,
               a.severity, a.observed_at, a.alert_id = ANY (v_new)
          FROM @extschema@.alerts a
          JOIN @extschema@.metric_series s ON s.series_id = a.series_id
         WHERE a.rule_name IS NULL
           AND s.name = p_metric_name
           AND (p_tags IS NULL OR s.tags @> p_tags)
           AND a.observed_at > v_since AND a.observed_at <= v_until
           AND a.comparison = v_comparison
           AND a.threshold = p_threshold
         ORDER BY a.observed_at, a.series_id, a.value, a.sample_no;
END
$$;
COMMENT ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) IS
    'internal: obs.check_alert_conditions() (store and return the breaches of one ad-hoc alert condition)';
REVOKE EXECUTE ON FUNCTION @extschema@._check_alerts(text, double precision, text, interval, jsonb, timestamptz) FROM PUBLIC;

CREATE OR REPLACE FUNCTION @extschema@.check_alert_conditions(
    metric_name text, threshold double precision, comparison text DEFAULT 'greater',
    lookback interval DEFAULT '5 minutes', tags jsonb DEFAULT NULL,
    as_of timestamptz DEFAULT NULL)
RETURNS TABLE(alert_id bigint, metric_name text, tags jsonb, value double precision,
              threshold double precision, comparison text,
              severity @extschema@.alert_severity, observed_at timestamptz, is_new boolean)
LANGUAGE sql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM @extschema@._check_alerts($1, $2, $3, $4, $5, $6)
$$;
COMMENT ON FUNCTION @extschema@.check_alert_conditions(text, double precision, text, interval, jsonb, timestamptz) IS
$$return every sample of metric metric_name in (as_of - lookback, as_of] (as_of NULL = the current time, clock_timestamp()) that breaches threshold, storing each in obs.alerts once (rule_name NULL: ad-hoc checks share one namespace, apart from the rules').
comparison: greater, less, greater_or_equal, less_or_equal or >, <, >=, <= (case-insensitive; stored as the word).
tags: only series whose tags contain these (@>) count.
severity: high when |value - threshold| > 0.1 * |threshold|, computed on the values cast to numeric (15 significant digits), else warning; so a breach of exactly 10% is warning and any strict breach of a threshold of 0 is high.
is_new: the alert was stored by this call; a re-check of the same window stores nothing twice, and n identical samples (same series, ts and value) give n alerts.  Each new alert is also logged once with obs.warning(..., logger => 'obs.alerts').
Errors: 22004 for NULL metric_name, threshold, comparison or lookback; 22003 for a NaN or infinite threshold; 22023 for an invalid comparison, a negative lookback or tags that are not a JSON object.$$;

CREATE OR REPLACE FUNCTION @extschema@.add_alert_rule(
    rule_name text, metric_name text, threshold double precision,
    comparison text DEFAULT 'greater', lookback interval DEFAULT '5 minutes',
    tags jsonb DEFAULT NULL)
RETURNS @extschema@.alert_rules
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_comparison text;
    v_rule @extschema@.alert_rules;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rule_name must not be null' USING ERRCODE = '22004';
    END IF;
    v_comparison := @extschema@._alert_args($2, $3, $4, $5, $6);
    INSERT INTO @extschema@.alert_rules AS r (rule_name, metric_name, threshold, comparison, lookback, tags)
    VALUES ($1, $2, $3, v_comparison, $5, $6)
    ON CONFLICT DO NOTHING
    RETURNING r.* INTO v_rule;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert rule "%" already exists', $1
            USING ERRCODE = '42710',
                  HINT = 'Remove it first with obs.drop_alert_rule(), or choose another name.';
    END IF;
    RETURN v_rule;
END
$$;
COMMENT ON FUNCTION @extschema@.add_alert_rule(text, text, double precision, text, interval, jsonb) IS
$$store an alert condition for obs.evaluate_alert_rules(); arguments are validated like obs.check_alert_conditions().
Errors: those of check_alert_conditions, 22004 for a NULL rule_name, 42710 when the rule already exists.$$;

CREATE OR REPLACE FUNCTION @extschema@.drop_alert_rule(rule_name text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rule_name must not be null' USING ERRCODE = '22004';
    END IF;
    DELETE FROM @extschema@.alert_rules r WHERE r.rule_name = $1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert rule "%" does not exist', $1 USING ERRCODE = '42704';
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.drop_alert_rule(text) IS
    'remove an alert rule (the alerts it stored stay); errors: 22004 for NULL, 42704 when no such rule exists';

CREATE FUNCTION @extschema@._alert_rule_changed()
RETURNS trigger
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    NEW.last_window := NULL;
    NEW.last_xmin := NULL;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION @extschema@._alert_rule_changed() IS
    'internal: trigger that resets a rule''s evaluation watermark when its condition changes';

CREATE TRIGGER alert_rules_changed
    BEFORE UPDATE OF metric_name, threshold, comparison, tags ON @extschema@.alert_rules
    FOR EACH ROW
    WHEN (OLD.metric_name IS DISTINCT FROM NEW.metric_name
          OR OLD.threshold IS DISTINCT FROM NEW.threshold
          OR OLD.comparison IS DISTINCT FROM NEW.comparison
          OR OLD.tags IS DISTINCT FROM NEW.tags)
    EXECUTE FUNCTION @extschema@._alert_rule_changed();

CREATE OR REPLACE FUNCTION @extschema@.evaluate_alert_rules(as_of timestamptz DEFAULT NULL)
RETURNS SETOF @extschema@.alerts
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_as_of timestamptz := COALESCE($1, pg_catalog.clock_timestamp());
    v_name text;
    v_rule @extschema@.alert_rules;
    v_comparison text;
    v_xmin xid8;
    v_new bigint[];
    v_state text;
    v_message text;
BEGIN
    FOR v_name IN
        SELECT r.rule_name FROM @extschema@.alert_rules r WHERE r.enabled ORDER BY r.rule_name
    LOOP
        BEGIN
            SELECT * INTO v_rule FROM @extschema@.alert_rules r
             WHERE r.rule_name = v_name AND r.enabled FOR UPDATE NOWAIT;
            CONTINUE WHEN NOT FOUND;
            v_comparison := @extschema@._alert_args(v_rule.metric_name, v_rule.threshold,
                                                    v_rule.comparison, v_rule.lookback, v_rule.tags);
            v_xmin := pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot());
            v_new := @extschema@._store_alerts(v_rule.metric_name, v_rule.threshold, v_comparison,
                                               v_rule.tags, v_rule.rule_name,
                                               v_as_of - v_rule.lookback, v_as_of, v_rule.lateness,
                                               v_rule.last_window, v_rule.last_xmin);
            UPDATE @extschema@.alert_rules r
               SET last_evaluated_at = pg_catalog.clock_timestamp(),
                   last_window = pg_catalog.tstzrange(v_as_of - v_rule.lookback, v_as_of, '(]'),
                   last_xmin = v_xmin, last_error = NULL, last_error_at = NULL
             WHERE r.rule_name = v_name;
        EXCEPTION WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT;
            RAISE WARNING 'alert rule "%" failed: %', v_name, v_message
                USING DETAIL = pg_catalog.format('The rule failed with SQLSTATE %s and stored no alert; the other rules were evaluated.', v_state),
                      HINT = 'The error is kept in obs.alert_rules.last_error until the rule is evaluated without error.';
            /* the rule's row may be what failed (locked by another
               transaction): keeping the error must not end the run either */
            BEGIN
                PERFORM FROM @extschema@.alert_rules r
                  WHERE r.rule_name = v_name FOR UPDATE NOWAIT;
                UPDATE @extschema@.alert_rules r
                   SET last_error = v_state || ': ' || v_message,
                       last_error_at = pg_catalog.clock_timestamp()
                 WHERE r.rule_name = v_name;
            EXCEPTION WHEN OTHERS THEN
                NULL;
            END;
            CONTINUE;
        END;
        RETURN QUERY
            SELECT * FROM @extschema@.alerts a
             WHERE a.alert_id = ANY (v_new)
             ORDER BY a.observed_at, a.alert_id;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.evaluate_alert_rules(timestamptz) IS
$$check every enabled rule of obs.alert_rules at as_of (NULL = the current time), store the breaches under the rule's name, and return the alerts stored by this call, by rule name.
A rule checks the samples in its window (as_of - lookback, as_of] that its previous evaluation did not check, and the samples stored since its previous evaluation whose ts is up to lateness before the window (README: "Lookback against schedule").
A rule that fails is skipped with a WARNING and its error kept in last_error; the other rules are evaluated.
Schedule it with pg_cron: SELECT cron.schedule('obs-alerts', '* * * * *', 'SELECT obs.evaluate_alert_rules()');$$;

CREATE OR REPLACE FUNCTION @extschema@.acknowledge_alert(alert_id bigint)
RETURNS boolean
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_acknowledged_at timestamptz;
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'alert_id must not be null' USING ERRCODE = '22004';
    END IF;
    SELECT a.acknowledged_at INTO v_acknowledged_at
      FROM @extschema@.alerts a WHERE a.alert_id = $1 FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'alert % does not exist', $1 USING ERRCODE = '42704';
    END IF;
    IF v_acknowledged_at IS NOT NULL THEN
        RETURN false;
    END IF;
    UPDATE @extschema@.alerts a SET acknowledged_at = pg_catalog.clock_timestamp()
     WHERE a.alert_id = $1;
    RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.acknowledge_alert(bigint) IS
    'mark an alert acknowledged so it leaves obs.active_alerts; true if this call acknowledged it, false if it already was; errors: 22004 for NULL, 42704 when no such alert exists';

ALTER VIEW @extschema@.active_alerts SET (security_invoker = true);
