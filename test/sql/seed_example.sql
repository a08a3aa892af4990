-- the seed's "Example: Complete Observability Setup", translated to SQL,
-- with a deliberate failure path; checks the exact health figures
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS obs CASCADE;
CREATE EXTENSION obs;
RESET client_min_messages;
SET timezone = 'UTC';
SET obs.service_name = 'finance-pipeline';

-- transform(): the work; a negative record is bad data
CREATE FUNCTION pg_temp.transform(data int[]) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE i int;
BEGIN
    FOR i IN 1 .. cardinality(data) LOOP
        IF data[i] < 0 THEN
            RAISE EXCEPTION 'negative record %', data[i]
                USING ERRCODE = '22023',
                      DETAIL = format('Record %s of %s is %s.', i, cardinality(data), data[i]),
                      HINT = 'Drop negative values upstream.';
        END IF;
    END LOOP;
    RETURN ARRAY(SELECT x * 10 FROM unnest(data) x);
END $$;

-- process_data(): @trace_execution(service=PIPELINE) and
-- @monitor_performance(metric_prefix='pipeline') by hand.  On failure it
-- logs the error with everything PostgreSQL knows, closes its span as
-- 'error' and returns NULL: re-raising would roll back those rows too,
-- because obs writes are transactional.
CREATE FUNCTION pg_temp.process_data(data int[]) RETURNS int[] LANGUAGE plpgsql AS $$
DECLARE
    span obs.span_id;
    started timestamptz := clock_timestamp();
    result int[];
    v_state text; v_message text; v_detail text; v_hint text; v_context text;
BEGIN
    span := obs.start_span('process_data', 'PIPELINE', jsonb_build_object('records', cardinality(data)));
    PERFORM obs.info('Starting data processing', jsonb_build_object('records', cardinality(data)),
                     logger => 'data_pipeline');
    BEGIN
        result := pg_temp.transform(data);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
                                v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT,
                                v_context = PG_EXCEPTION_CONTEXT;
        PERFORM obs.error('Processing failed', jsonb_build_object('records', cardinality(data)),
                          logger => 'data_pipeline', sqlstate => v_state, error_message => v_message,
                          error_detail => v_detail, error_hint => v_hint, error_context => v_context);
        PERFORM obs.finish_span(span, 'error', v_message);
        PERFORM obs.record_metric('pipeline.process_data',
                                  extract(epoch FROM clock_timestamp() - started) * 1000);
        RETURN NULL;
    END;
    PERFORM obs.info('Data processing complete',
                     jsonb_build_object('input_records', cardinality(data), 'output_records', cardinality(result)),
                     logger => 'data_pipeline');
    PERFORM obs.record_metric('pipeline.process_data', extract(epoch FROM clock_timestamp() - started) * 1000);
    PERFORM obs.finish_span(span, 'success');
    RETURN result;
END $$;

-- one flow run: fetch, process, record the flow as Completed or Failed.
-- Times are given so that the health figures are exact.
CREATE FUNCTION pg_temp.data_pipeline(run_id text, data int[], flow_start timestamptz, flow_end timestamptz)
RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    flow_span obs.span_id;
    fetch_span obs.span_id;
    processed int[];
    status text;
BEGIN
    flow_span := obs.start_span('data_pipeline', 'PIPELINE', jsonb_build_object('flow_run_id', run_id));
    fetch_span := obs.start_span('fetch_data', 'DATA_FETCH', '{"source": "SEC"}');
    PERFORM obs.finish_span(fetch_span, 'success');
    PERFORM obs.record_task_execution('fetch_data', run_id, flow_start, flow_start + interval '2 seconds',
                                      'Completed', cardinality(data), cardinality(data));
    processed := pg_temp.process_data(data);
    status := CASE WHEN processed IS NULL THEN 'Failed' ELSE 'Completed' END;
    PERFORM obs.record_task_execution('process_data', run_id, flow_start + interval '2 seconds', flow_end,
                                      status, cardinality(data), cardinality(processed));
    PERFORM obs.record_flow_execution('data_pipeline', run_id, flow_start, flow_end, status, 2,
                                      CASE WHEN processed IS NULL THEN 'process_data failed' END);
    PERFORM obs.record_metric('pipeline_duration_ms', extract(epoch FROM flow_end - flow_start) * 1000,
                              '{"flow": "data_pipeline"}', ts => flow_end);
    PERFORM obs.finish_span(flow_span, CASE WHEN processed IS NULL THEN 'error' ELSE 'ok' END,
                            CASE WHEN processed IS NULL THEN 'process_data failed' END);
    RETURN status;
END $$;

SELECT pg_temp.data_pipeline('run-001', '{1,2,3}', '2024-01-01 06:00:00+00', '2024-01-01 06:00:30+00');
SELECT pg_temp.data_pipeline('run-002', '{4,-1,6}', '2024-01-01 07:00:00+00', '2024-01-01 07:01:30+00');
SELECT pg_temp.data_pipeline('run-003', '{7,8}', '2024-01-01 08:00:00+00', '2024-01-01 08:00:45+00');

-- flow health: 2 Completed, 1 Failed
SELECT * FROM obs.get_flow_health('data_pipeline');
SELECT flow_run_id, status, duration_seconds, error FROM obs.flow_runs ORDER BY flow_run_id;
SELECT * FROM obs.task_summary ORDER BY task_name;

-- the logs: the failure kept SQLSTATE, message, detail, hint and context
SELECT level, logger, message, context FROM obs.logs ORDER BY log_id;
SELECT error->>'sqlstate' AS sqlstate, error->>'message' AS message, error->>'detail' AS detail,
       error->>'hint' AS hint,
       error->>'context' LIKE 'PL/pgSQL function pg_temp_%.transform(integer[]) line % at RAISE%' AS has_context
  FROM obs.logs WHERE level = 'ERROR';
-- every log was written inside process_data's span
SELECT bool_and(s.operation = 'process_data') AS in_process_data_span
  FROM obs.logs l JOIN obs.spans s ON s.trace_id = l.trace_id AND s.span_id = l.span_id;
SELECT line::json->>'level' AS level, line::json->'error'->>'sqlstate' AS sqlstate
  FROM obs.logs_json ORDER BY log_id;

-- the span tree: per run a root, with fetch_data and process_data as children
SELECT c.tags->>'flow_run_id' AS run, c.operation, c.service_type, c.service_name, c.status, c.error,
       p.operation AS parent
  FROM obs.spans c LEFT JOIN obs.spans p ON p.trace_id = c.trace_id AND p.span_id = c.parent_span_id
 ORDER BY c.span_seq;
SELECT count(DISTINCT trace_id) AS traces, bool_and(duration_us >= 0) AS durations_ok FROM obs.spans;
SELECT count(*) AS jaeger_traces FROM jsonb_array_elements(obs.jaeger_json()->'data');
SELECT * FROM obs.error_rate_by_service ORDER BY service_type;

-- @monitor_performance's metric: one sample per call
SELECT name, count(*) AS samples, bool_and(value >= 0) AS durations_ok
  FROM obs.metrics WHERE name = 'pipeline.process_data' GROUP BY name;

-- alert: flows slower than 60 s (the failed run took 90 s: 50% over, high)
SELECT metric_name, tags, value, threshold, comparison, severity, observed_at, is_new
  FROM obs.check_alert_conditions('pipeline_duration_ms', 60000, 'greater', '1 day',
                                  '{"flow": "data_pipeline"}', '2024-01-01 12:00:00+00');
SELECT level, logger, message FROM obs.logs WHERE logger = 'obs.alerts';
-- against 42 s: the 45 s run is within 10% (warning), the 90 s one beyond (high)
SELECT value, severity
  FROM obs.check_alert_conditions('pipeline_duration_ms', 42000, 'greater', '1 day', NULL, '2024-01-01 12:00:00+00')
 ORDER BY observed_at;
