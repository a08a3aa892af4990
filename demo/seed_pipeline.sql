-- demo/seed_pipeline.sql: the seed's "Complete Observability Setup" pipeline
-- in PL/pgSQL, shared by the demo (demo/seed_example.sql) and the
-- regression test (test/sql/seed_example.sql).  It defines, in pg_temp:
--   transform(int[])        the work; a negative record raises 22023
--   process_data(int[])     @trace_execution + @monitor_performance by hand
--   data_pipeline(run_id, data, flow_start, flow_end)  one flow run

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
