-- buffered ingest settings, flush and sampling without preloading
-- (pg_regress runs without shared_preload_libraries: the transactional path)
\ir test/setup.sql
-- finished(span, us): us, what obs.finish_span(span) returned, is the stored
-- span's duration_us, which is its end_time - start_time to the microsecond
CREATE FUNCTION pg_temp.finished(span obs.span_id, us bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT us = s.duration_us AND s.duration_us = (extract(epoch FROM s.end_time - s.start_time) * 1000000)::bigint
      FROM obs.spans s WHERE s.span_id = span $$;
-- elapsed(us, t0): us is a duration that fits in the time since t0
CREATE FUNCTION pg_temp.elapsed(us bigint, t0 timestamptz) RETURNS boolean LANGUAGE sql AS $$
    SELECT us BETWEEN 0 AND (extract(epoch FROM clock_timestamp() - t0) * 1000000)::bigint $$;

-- without preloading the only write path is transactional
SHOW obs.write_path;
SELECT pg_temp.err($$SET obs.write_path = 'buffered'$$);
SELECT pg_temp.err($$SET obs.write_path = 'sideways'$$);
BEGIN;
SET LOCAL obs.write_path = 'transactional';
SHOW obs.write_path;
COMMIT;
-- instrumentation needs preloading too
SELECT pg_temp.err($$SET obs.instrument_functions = 'public.process_data'$$);
SET obs.instrument_functions = '';
-- other settings
SELECT pg_temp.err($$SET obs.buffer_full_action = 'explode'$$);
SELECT pg_temp.err($$SET obs.trace_sample_rate = 1.5$$);
SELECT pg_temp.err($$SET obs.log_sample_rate = -0.1$$);
SELECT pg_temp.err($$SET obs.flush_interval = 100$$);
SELECT pg_temp.err($$SHOW obs.buffer_size$$);

-- flush: no buffer in this database, so true at once
SELECT obs.flush() AS flushed, obs.flush('0 seconds') AS flushed_now;
SELECT pg_temp.err($$SELECT obs.flush('-1 second')$$);
SELECT count(*) AS no_rings FROM obs.ingest_stats;

-- head sampling is a pure function of the trace id's low 8 bytes
SELECT rate,
       obs.trace_sampled('4bf92f3577b34da60000000000000000', rate) AS low_zero,
       obs.trace_sampled('4bf92f3577b34da67fffffffffffffff', rate) AS low_just_below_half,
       obs.trace_sampled('4bf92f3577b34da68000000000000000', rate) AS low_half,
       obs.trace_sampled('4bf92f3577b34da6ffffffffffffffff', rate) AS low_max
  FROM unnest(ARRAY[0, 0.25, 0.5, 0.75, 1]::float8[]) AS rate ORDER BY rate;
-- the high 8 bytes do not matter
SELECT obs.trace_sampled('ffffffffffffffff1000000000000000', 0.1) AS a,
       obs.trace_sampled('00000000000000011000000000000000', 0.1) AS b;
SELECT pg_temp.err($$SELECT obs.trace_sampled('4bf92f3577b34da60000000000000000', 2)$$);
-- about the right fraction of random ids
SELECT count(*) FILTER (WHERE obs.trace_sampled(obs.new_trace_id(), 0.3)) BETWEEN 2500 AND 3500 AS near_30_percent
  FROM generate_series(1, 10000);

-- rate 0: a new trace is unsampled (flags 00); its spans and logs are not stored
SET obs.trace_sample_rate = 0;
SELECT clock_timestamp() AS t0 \gset
SELECT obs.start_span('unsampled_root') AS r \gset
SELECT right(obs.current_traceparent(), 3) AS flags;
SELECT obs.start_span('unsampled_child') AS c \gset
SELECT right(obs.current_traceparent(), 3) AS child_flags;
SELECT obs.info('inside an unsampled trace') IS NULL AS log_not_stored;
-- finish_span still returns the (real) duration of an unsampled span
SELECT pg_temp.elapsed(obs.finish_span(:'c'), :'t0') AS finished, pg_temp.elapsed(obs.finish_span(:'r'), :'t0') AS finished;
SELECT count(*) AS still_open FROM obs.open_spans();
SELECT count(*) AS stored_spans FROM obs.spans WHERE operation LIKE 'unsampled%';
SELECT count(*) AS stored_logs FROM obs.logs WHERE message = 'inside an unsampled trace';
-- an external traceparent's sampled flag is honoured once sampling is on
SET obs.trace_sample_rate = 0.5;
SELECT obs.set_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
SELECT obs.start_span('ext_sampled') AS es \gset
SELECT pg_temp.finished(:'es', obs.finish_span(:'es'));
SELECT obs.set_traceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00');
SELECT clock_timestamp() AS t0 \gset
SELECT pg_temp.elapsed(obs.finish_span(obs.start_span('ext_unsampled')), :'t0');
SELECT obs.info('inside an unsampled external trace') IS NULL AS log_not_stored;
SELECT obs.set_traceparent(NULL);
SELECT operation FROM obs.spans WHERE operation LIKE 'ext%' ORDER BY operation;
-- at rate 1 (the default) sampling is off: every span is stored
RESET obs.trace_sample_rate;
SELECT obs.start_span('default_rate') AS d \gset
SELECT right(obs.current_traceparent(), 3) AS flags;
SELECT pg_temp.finished(:'d', obs.finish_span(:'d'));
SELECT count(*) AS stored FROM obs.spans WHERE operation = 'default_rate';

-- logs outside traces and metrics: independent random sampling
SET obs.log_sample_rate = 0;
SELECT obs.info('never stored') IS NULL AS sampled_out;
SET obs.log_sample_rate = 1;
SELECT obs.info('always stored') IS NOT NULL AS stored;
SET obs.metric_sample_rate = 0;
SELECT obs.record_metric('sampled_metric', 1);
RESET obs.metric_sample_rate;
SELECT obs.record_metric('sampled_metric', 2);
SELECT value FROM obs.metrics WHERE name = 'sampled_metric';
RESET obs.log_sample_rate;

-- dead letters: the table exists, empty
SELECT count(*) AS dead_letters FROM obs.dead_letters;
