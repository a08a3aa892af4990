-- search_path hijack: a schema first on a superuser's search_path holds
-- operators and functions that shadow pg_catalog's.  No obs function may
-- run them: every SQL and PL/pgSQL function pins its search_path or has a
-- BEGIN ATOMIC body.  Each planted object counts its calls in a sequence
-- (not rolled back) and raises, so a call caught by an exception handler
-- is seen too.
\ir test/setup.sql
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_hostile_path_regress && mkdir -p /tmp/obs_hostile_path_regress';
CREATE SCHEMA hostile;
CREATE SEQUENCE hostile.calls;
CREATE FUNCTION hostile.hit(what text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_catalog.nextval('hostile.calls');
    RAISE EXCEPTION 'hostile code ran: %', what;
END $$;
-- operators: same signature as pg_catalog's (win when hostile is first on
-- the path), or an exact match where pg_catalog's is polymorphic (win
-- wherever hostile is on the path)
DO $$
DECLARE
    r record;
    i integer := 0;
BEGIN
    FOR r IN SELECT * FROM (VALUES
        ('=', 'text', 'text', 'boolean'), ('<>', 'text', 'text', 'boolean'), ('||', 'text', 'text', 'text'),
        ('~~', 'text', 'text', 'boolean'),
        ('=', 'integer', 'integer', 'boolean'), ('=', 'bigint', 'bigint', 'boolean'),
        ('||', 'bigint[]', 'bigint[]', 'bigint[]'), ('||', 'bigint[]', 'bigint', 'bigint[]'),
        ('=', 'double precision', 'double precision', 'boolean'),
        ('>', 'double precision', 'double precision', 'boolean'),
        ('<', 'double precision', 'double precision', 'boolean'),
        ('>=', 'double precision', 'double precision', 'boolean'),
        ('<=', 'double precision', 'double precision', 'boolean'),
        ('/', 'double precision', 'double precision', 'double precision'),
        ('*', 'double precision', 'double precision', 'double precision'),
        ('-', 'double precision', 'double precision', 'double precision'),
        ('=', 'numeric', 'numeric', 'boolean'), ('>', 'numeric', 'numeric', 'boolean'),
        ('<', 'numeric', 'numeric', 'boolean'), ('-', 'numeric', 'numeric', 'numeric'),
        ('*', 'numeric', 'numeric', 'numeric'),
        ('>', 'timestamptz', 'timestamptz', 'boolean'), ('>=', 'timestamptz', 'timestamptz', 'boolean'),
        ('<', 'timestamptz', 'timestamptz', 'boolean'), ('<=', 'timestamptz', 'timestamptz', 'boolean'),
        ('=', 'timestamptz', 'timestamptz', 'boolean'),
        ('-', 'timestamptz', 'interval', 'timestamptz'), ('+', 'timestamptz', 'interval', 'timestamptz'),
        ('-', 'timestamptz', 'timestamptz', 'interval'),
        ('<', 'interval', 'interval', 'boolean'), ('<=', 'interval', 'interval', 'boolean'),
        ('<>', 'interval', 'interval', 'boolean'),
        ('@>', 'jsonb', 'jsonb', 'boolean'), ('?', 'jsonb', 'text', 'boolean'),
        ('->>', 'jsonb', 'text', 'text'), ('->', 'jsonb', 'text', 'jsonb'),
        ('=', 'jsonb', 'jsonb', 'boolean'),
        ('=', 'obs.span_status', 'obs.span_status', 'boolean'),
        ('<>', 'obs.span_status', 'obs.span_status', 'boolean'),
        ('=', 'obs.run_state', 'obs.run_state', 'boolean'),
        ('=', 'obs.log_level', 'obs.log_level', 'boolean'),
        ('=', 'obs.trace_id', 'obs.trace_id', 'boolean'),
        ('=', 'obs.span_id', 'obs.span_id', 'boolean')) v(op, l, rt, res)
    LOOP
        i := i + 1;
        EXECUTE format('CREATE FUNCTION hostile.op%s(%s, %s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM hostile.hit(%L); RETURN NULL; END $f$',
                       i, r.l, r.rt, r.res, format('%s(%s,%s)', r.op, r.l, r.rt));
        EXECUTE format('CREATE OPERATOR hostile.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = hostile.op%s)',
                       r.op, r.l, r.rt, i);
    END LOOP;
    -- functions that shadow pg_catalog's
    FOR r IN SELECT * FROM (VALUES
        ('now', '', 'timestamptz'), ('clock_timestamp', '', 'timestamptz'),
        ('lower', 'text', 'text'), ('upper', 'text', 'text'), ('btrim', 'text', 'text'),
        ('abs', 'double precision', 'double precision'), ('abs', 'numeric', 'numeric'),
        ('trunc', 'numeric', 'numeric'), ('jsonb_typeof', 'jsonb', 'text'), ('to_jsonb', 'text', 'jsonb'),
        ('date_trunc', 'text, timestamptz', 'timestamptz'), ('date_part', 'text, interval', 'double precision'),
        ('format', 'text, text', 'text'), ('format', 'text, interval', 'text'),
        ('count', 'text', 'bigint'), ('cardinality', 'double precision[]', 'integer'),
        ('width_bucket', 'double precision, double precision[]', 'integer'),
        ('date_bin', 'interval, timestamptz, timestamptz', 'timestamptz'),
        ('jsonb_build_object', 'text, text', 'jsonb'), ('coalesce', 'jsonb, jsonb', 'jsonb')) v(fn, args, res)
    LOOP
        EXECUTE format('CREATE FUNCTION hostile.%I(%s) RETURNS %s LANGUAGE plpgsql AS $f$ BEGIN PERFORM hostile.hit(%L); RETURN NULL; END $f$',
                       r.fn, r.args, r.res, format('%s(%s)', r.fn, r.args));
    END LOOP;
END
$$;
SELECT count(*) AS hostile_operators FROM pg_operator WHERE oprnamespace = 'hostile'::regnamespace;

-- runs q, returns ok or the error; itself uses no operator or function
-- that the hostile schema shadows
CREATE FUNCTION pg_temp.run(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLERRM;
END $$;
CREATE ROLE regress_obs_hostile;

-- the trap works: unpinned code on this path runs the hostile objects
SET search_path = hostile, pg_catalog, public;
SELECT pg_temp.run($$SELECT 'a'::text = 'b'::text$$) AS unpinned_text_eq;
SELECT pg_temp.run($$SELECT now()$$) AS unpinned_now;
SELECT pg_temp.run($$SELECT ARRAY[1::bigint] || 2::bigint$$) AS unpinned_array_append;
RESET search_path;
SELECT pg_catalog.setval('hostile.calls', 1, false);

-- every obs function, as superuser, with the hostile schema first
BEGIN;
SET LOCAL track_functions = 'all';
SET LOCAL search_path = hostile, pg_catalog, public;
SELECT v.call, pg_temp.run(v.q) AS result FROM (VALUES
    ('enable_rollups', $$SELECT obs.enable_rollups()$$),
    ('set_traceparent', $$SELECT obs.set_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')$$),
    ('parse_traceparent', $$SELECT * FROM obs.parse_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')$$),
    ('new ids', $$SELECT obs.new_trace_id(), obs.new_span_id()$$),
    ('trace_sampled', $$SELECT obs.trace_sampled('4bf92f3577b34da6a3ce929d0e0e4736', 0.5)$$),
    ('start_span', $$SELECT obs.start_span('outer', 'PIPELINE', '{"rows": 10, "ok": true}', 'etl')$$),
    ('start_span', $$SELECT obs.start_span('inner', 'DATABASE', '{"table": "t"}', 'db')$$),
    ('current_*', $$SELECT obs.current_span_id(), obs.current_trace_id(), obs.current_traceparent()$$),
    ('open_spans', $$SELECT * FROM obs.open_spans()$$),
    ('log', $$SELECT obs.log('info', 'hello', '{"k": 1}', '{"env": "test"}', 'hostile')$$),
    ('debug .. critical', $$SELECT obs.debug('d'), obs.info('i'), obs.warning('w'), obs.error('e', sqlstate => '22012'), obs.critical('c')$$),
    ('finish_span', $$SELECT obs.finish_span(obs.current_span_id(), 'error', 'boom')$$),
    ('finish_span', $$SELECT obs.finish_span(obs.current_span_id())$$),
    ('start_span', $$SELECT obs.start_span('dropped')$$),
    ('reset_spans', $$SELECT obs.reset_spans()$$),
    ('record_span', $$SELECT obs.record_span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b8', '00f067aa0ba902b7', 'client_timed', 'TRANSFORM', '2024-01-01 10:00+00', '2024-01-01 10:00:01+00', 'ok', NULL, '{"rows": 1}', 'client')$$),
    ('log with client context', $$SELECT obs.info('from a client', ts => '2024-01-01 10:00:00.5+00', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736', span_id => '00f067aa0ba902b8', error_type => 'ValueError')$$),
    ('record_metric', $$SELECT obs.record_metric('request_latency_ms', 1500, '{"endpoint": "/a"}', ts => '2024-01-01 12:00:00+00')$$),
    ('record_metric', $$SELECT obs.record_metric('request_latency_ms', 40, '{"endpoint": "/a"}', ts => '2024-01-01 12:00:10+00')$$),
    ('record_metric', $$SELECT obs.record_metric('rows', 3, kind => 'counter')$$),
    ('record_flow_execution', $$SELECT obs.record_flow_execution('flow', 'run-1', '2024-01-01 10:00+00')$$),
    ('record_flow_execution', $$SELECT obs.record_flow_execution('flow', 'run-1', '2024-01-01 10:00+00', '2024-01-01 10:05+00', 'Failed', 2, 'boom')$$),
    ('record_task_execution', $$SELECT obs.record_task_execution('task', 'run-1', '2024-01-01 10:00+00', '2024-01-01 10:01+00', 'Completed', 10, 9)$$),
    ('record_task_execution', $$SELECT obs.record_task_execution('task', 'run-1', '2024-01-01 10:00+00', '2024-01-01 10:02+00', 'Failed', 10, 9)$$),
    ('flush', $$SELECT obs.flush()$$),
    ('ingest_stats', $$SELECT * FROM obs.ingest_stats()$$),
    ('check_alert_conditions', $$SELECT * FROM obs.check_alert_conditions('request_latency_ms', 1000, '>', '1 hour', '{"endpoint": "/a"}', '2024-01-01 12:01:00+00')$$),
    ('add_alert_rule', $$SELECT obs.add_alert_rule('slow', 'request_latency_ms', 1200, 'greater_or_equal', '1 hour', '{"endpoint": "/a"}')$$),
    ('add_alert_rule', $$SELECT obs.add_alert_rule('fast', 'request_latency_ms', 50, 'less', '1 hour')$$),
    ('evaluate_alert_rules', $$SELECT * FROM obs.evaluate_alert_rules('2024-01-01 12:01:00+00')$$),
    ('_alert_rule_changed', $$UPDATE obs.alert_rules SET threshold = 1100 WHERE rule_name OPERATOR(pg_catalog.=) 'slow'$$),
    ('acknowledge_alert', $$SELECT obs.acknowledge_alert(a.alert_id) FROM obs.alerts a ORDER BY a.alert_id LIMIT 1$$),
    ('drop_alert_rule', $$SELECT obs.drop_alert_rule('fast')$$),
    ('get_flow_health', $$SELECT * FROM obs.get_flow_health('flow', '2024-01-01', '2024-01-02')$$),
    ('get_flow_health', $$SELECT * FROM obs.get_flow_health()$$),
    ('get_task_performance', $$SELECT * FROM obs.get_task_performance('task', '2024-01-01', '2024-01-02')$$),
    ('get_task_summary', $$SELECT * FROM obs.get_task_summary('2024-01-01', '2024-01-02')$$),
    ('high_latency_by_endpoint', $$SELECT * FROM obs.high_latency_by_endpoint(1000, 'request_latency_ms', '2024-01-01')$$),
    ('latency_heatmap', $$SELECT * FROM obs.latency_heatmap('request_latency_ms', '1 minute', '{10,100,1000}', '2024-01-01')$$),
    ('log_json', $$SELECT obs.log_json(l) FROM obs.logs l$$),
    ('jaeger_json', $$SELECT obs.jaeger_json(ARRAY['4bf92f3577b34da6a3ce929d0e0e4736']::obs.trace_id[], '2000-01-01')$$),
    ('jaeger_json', $$SELECT obs.jaeger_json()$$),
    ('views', $$SELECT (SELECT count(*) FROM obs.metrics), (SELECT count(*) FROM obs.ingest_stats),
                       (SELECT count(*) FROM obs.active_alerts), (SELECT count(*) FROM obs.flow_health),
                       (SELECT count(*) FROM obs.task_performance), (SELECT count(*) FROM obs.task_summary),
                       (SELECT count(*) FROM obs.error_rate_by_service), (SELECT count(*) FROM obs.throughput_per_minute),
                       (SELECT count(*) FROM obs.log_volume_per_minute), (SELECT count(*) FROM obs.service_performance),
                       (SELECT count(*) FROM obs.logs_json)$$),
    ('save_*_to_parquet', $$SELECT obs.save_metrics_to_parquet('/tmp/obs_hostile_path_regress'), obs.save_to_parquet('/tmp/obs_hostile_path_regress'),
                                   obs.save_logs_to_parquet('/tmp/obs_hostile_path_regress'), obs.save_spans_to_parquet('/tmp/obs_hostile_path_regress')$$),
    ('COPY parquet', $$COPY (SELECT * FROM obs.metrics) TO '/tmp/obs_hostile_path_regress/m.parquet' (FORMAT parquet)$$),
    ('COPY parquet', $$COPY obs.metric_points TO '/tmp/obs_hostile_path_regress/mp.parquet' (FORMAT parquet)$$),
    ('COPY FROM parquet', $$COPY obs.metric_points FROM '/tmp/obs_hostile_path_regress/mp.parquet' (FORMAT parquet)$$),
    ('restore_archive', $$SELECT obs.restore_archive('/tmp/obs_hostile_path_regress/mp.parquet', 'obs.metric_points') >= 0$$),
    ('grant_writer', $$SELECT obs.grant_writer('regress_obs_hostile')$$),
    ('grant_reader', $$SELECT obs.grant_reader('regress_obs_hostile')$$),
    ('revoke_writer', $$SELECT obs.revoke_writer('regress_obs_hostile')$$),
    ('revoke_reader', $$SELECT obs.revoke_reader('regress_obs_hostile')$$),
    ('_privilege_functions', $$SELECT obs._privilege_functions('reader')$$),
    ('dashboard_html', $$SELECT length(obs.dashboard_html('2024-01-01', '2024-01-02', NULL, 'request_latency_ms')) > 0$$),
    ('dashboard_html', $$SELECT length(obs.dashboard_html(NULL, NULL)) > 0$$),
    ('otlp_payload', $$SELECT obs.otlp_payload('traces', '[]'::jsonb) IS NOT NULL$$),
    ('cloudwatch_payloads', $$SELECT * FROM obs.cloudwatch_payloads('[]'::jsonb, 'g', 's')$$),
    ('setup_logging_to_elk', $$SELECT obs.setup_logging_to_elk('127.0.0.1', 9200, name => 'hostile_es')$$),
    ('setup_alert_webhook', $$SELECT obs.setup_alert_webhook('http://127.0.0.1:9/hook', name => 'hostile_hook')$$),
    ('setup_otlp_export', $$SELECT obs.setup_otlp_export('http://127.0.0.1:9', '{traces,logs}', name => 'hostile_otlp')$$),
    ('setup_*_cloudwatch', $$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'eu-west-1', 'http://127.0.0.1:9/', name => 'hostile_cw')$$),
    ('drop_sink', $$SELECT obs.drop_sink('hostile_otlp') AND obs.drop_sink('hostile_cw')$$),
    ('pause_sink', $$SELECT obs.pause_sink('hostile_es')$$),
    ('resume_sink', $$SELECT obs.resume_sink('hostile_es')$$),
    ('_ship_batch', $$SELECT * FROM obs._ship_batch('hostile_es', 'logs', 10)$$),
    ('_ship_row_json', $$SELECT obs._ship_row_json(l) IS NOT NULL FROM obs.logs l LIMIT 1$$),
    ('_ship_ack', $$SELECT obs._ship_ack('hostile_es', 'logs', 0, NULL, NULL, 0, true, 0)$$),
    ('_ship_failed', $$SELECT obs._ship_failed('hostile_es', 'logs', 'refused', true)$$),
    ('_ship_dead_letter', $$SELECT obs._ship_dead_letter('hostile_es', 'logs', 400, 'refused', 'payload', '{1}')$$),
    ('sink_stats', $$SELECT * FROM obs.sink_stats$$),
    ('export_jaeger', $$SELECT obs.export_jaeger('/tmp/obs_regress_hostile_jaeger') IS NOT NULL$$),
    ('drop_sink', $$SELECT obs.drop_sink('hostile_hook')$$),
    ('drop_sink', $$SELECT obs.drop_sink('hostile_es')$$),
    ('set_partitioning', $$SELECT obs.set_partitioning('spans', '12 hours', 1)$$),
    ('set_archive', $$SELECT obs.set_archive('logs', '/tmp/obs_hostile_path_regress/lake', '0')$$),
    ('set_retention', $$SELECT obs.set_retention('logs', '1 day'), obs.set_retention('alerts', '1 day')$$),
    ('run_maintenance', $$SELECT count(*) FROM obs.run_maintenance('2024-01-01 12:00+00')$$),
    ('run_maintenance', $$SELECT count(*) FROM obs.run_maintenance('2024-01-04 12:00+00')$$),
    ('clear_retention', $$SELECT obs.clear_retention('logs')$$),
    ('clear_archive', $$SELECT obs.clear_archive('logs')$$),
    ('partition_stats', $$SELECT count(*) FROM obs.partition_stats$$),
    ('rebuild_rollups', $$SELECT obs.rebuild_rollups()$$),
    ('disable_rollups', $$SELECT obs.disable_rollups()$$),
    ('refresh_rollups', $$SELECT count(*) FROM obs.refresh_rollups(true)$$),
    ('signal rollups read', $$SELECT (SELECT count(*) FROM obs.error_rate_by_service), (SELECT count(*) FROM obs.throughput_per_minute),
                       (SELECT count(*) FROM obs.log_volume_per_minute)$$),
    ('purge', $$SELECT * FROM obs.purge('1 day')$$)) v(call, q);
RESET search_path;
-- the obs functions with a string body not run above (none; the types'
-- support functions are C, and BEGIN ATOMIC bodies are bound when created
-- and inlined, so they are neither at risk nor counted)
SELECT p.proname AS not_run FROM pg_proc p
 WHERE p.pronamespace = 'obs'::regnamespace
   AND p.prosqlbody IS NULL
   AND NOT EXISTS (SELECT 1 FROM pg_stat_xact_user_functions f WHERE f.funcid = p.oid)
   AND p.proname !~ '^(trace_id|span_id)_(in|out|recv|send|cmp|eq|ne|lt|le|gt|ge|hash)$'
 ORDER BY 1;
COMMIT;
-- the hostile objects never ran
SELECT last_value, is_called FROM hostile.calls;

DROP ROLE regress_obs_hostile;
SET client_min_messages = warning;
DROP SCHEMA hostile CASCADE;
RESET client_min_messages;
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_hostile_path_regress';
