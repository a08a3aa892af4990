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
