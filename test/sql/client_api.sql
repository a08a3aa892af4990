-- the calls a client that keeps its own trace context and batches makes:
-- obs.record_span() for spans it timed itself, obs.log() .. obs.critical()
-- with the client's timestamp, trace and span ids, and error type
\ir test/setup.sql
SET obs.write_path = 'transactional';
SET obs.service_name = 'client-tests';

-- a root span and a child, timed by the client; returns duration_us
SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL,
                       'fetch_company_data', 'data_fetch',
                       '2026-01-01 00:00:00+00', '2026-01-01 00:00:01.5+00',
                       'success', NULL, '{"ticker": "AAPL"}', 'finance-pipeline') AS root_us;
SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b7', 'b7ad6b7169203331',
                       'parse', 'TRANSFORM',
                       '2026-01-01 00:00:00.25+00', '2026-01-01 00:00:00.75+00',
                       error => 'bad filing') AS child_us;
-- an instant span (end = start) is fine
SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b8', 'b7ad6b7169203331',
                       'mark', 'CUSTOM', '2026-01-01 00:00:01+00', '2026-01-01 00:00:01+00', 'unset') AS instant_us;
SELECT trace_id, span_id, parent_span_id, operation, service_type, service_name,
       start_time, end_time, duration_us, status, error, tags
  FROM obs.spans ORDER BY start_time, span_id;
-- nothing was pushed on this session's stack
SELECT count(*) AS open_spans FROM obs.open_spans();

-- bad arguments
SELECT pg_temp.err($$SELECT obs.record_span(NULL, 'b7ad6b7169203331', NULL, 'op', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', NULL, NULL, 'op', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, NULL, 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', NULL, now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', NULL, now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', now(), NULL)$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, '', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'nosuch', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', now(), now(), 'finished')$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM',
                                            '2026-01-01 00:00:02+00', '2026-01-01 00:00:01+00')$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', '-infinity', now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', now(), 'infinity')$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM',
                                            now(), '294270-01-01 00:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_span('00000000000000000000000000000000', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', '0000000000000000', 'op', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', 'b7ad6b7169203339', 'op', 'CUSTOM', now(), now())$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203339', NULL, 'op', 'CUSTOM', now(), now(), tags => '[1]')$$);
-- the same (trace_id, span_id, start_time) twice: the primary key refuses it on the transactional path
-- (obs.spans is partitioned by start_time: the key is per partition and includes start_time)
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL, 'again', 'CUSTOM', '2026-01-01 00:00:00+00', '2026-01-01 00:00:02+00')$$);
SELECT count(*) AS spans_after_errors FROM obs.spans;

-- head sampling by trace id, as for obs's own traces: at rate 0 nothing is stored
SET obs.trace_sample_rate = 0;
SELECT obs.record_span('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b9', NULL, 'sampled_out', 'CUSTOM', now(), now()) >= 0 AS returned;
SELECT obs.info('sampled out with its trace', trace_id => '4bf92f3577b34da6a3ce929d0e0e4736', span_id => '00f067aa0ba902b9') IS NULL AS log_dropped;
RESET obs.trace_sample_rate;
SELECT count(*) AS sampled_out_stored FROM obs.spans WHERE trace_id = '4bf92f3577b34da6a3ce929d0e0e4736';

-- logs: the client's time, trace and span, and the exception's type
SELECT obs.info('batched', ts => '2026-01-01 00:00:00.5+00',
                trace_id => '0af7651916cd43dd8448eb211c80319c', span_id => '00f067aa0ba902b7') IS NOT NULL AS stored;
SELECT obs.log('ERROR', 'failed', '{"url": "https://api.example.com"}', NULL, 'pipeline',
               error_message => 'division by zero', error_context => 'Traceback (most recent call last): ...',
               ts => '2026-01-01 00:00:00.6+00', error_type => 'ZeroDivisionError') IS NOT NULL AS stored;
SELECT obs.debug('d', ts => '2026-01-01 00:00:01+00') IS NULL AS dropped_below_threshold;
SELECT obs.warning('w', ts => '2026-01-01 00:00:02+00') IS NOT NULL AS stored;
SELECT obs.error('e', ts => '2026-01-01 00:00:03+00', error_type => 'KeyError') IS NOT NULL AS stored;
SELECT obs.critical('c', ts => '2026-01-01 00:00:04+00') IS NOT NULL AS stored;
SELECT ts, level, logger, message, trace_id, span_id, error FROM obs.logs ORDER BY ts;
-- inside a session span, explicit ids win over the session's stack
SELECT obs.start_span('session_span') AS s \gset
SELECT obs.info('explicit', trace_id => '0af7651916cd43dd8448eb211c80319c', span_id => 'b7ad6b7169203331') IS NOT NULL AS stored;
SELECT obs.info('implicit') IS NOT NULL AS stored;
SELECT message, span_id = 'b7ad6b7169203331' AS explicit_span, span_id = :'s' AS session_span
  FROM obs.logs WHERE message IN ('explicit', 'implicit') ORDER BY message;
SELECT obs.finish_span(:'s') >= 0 AS finished;

-- bad log arguments
SELECT pg_temp.err($$SELECT obs.info('x', ts => 'infinity')$$);
SELECT pg_temp.err($$SELECT obs.log('INFO', 'x', ts => '-infinity')$$);
SELECT pg_temp.err($$SELECT obs.warning('x', ts => '294270-01-01 00:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.info('x', trace_id => '0af7651916cd43dd8448eb211c80319c')$$);
SELECT pg_temp.err($$SELECT obs.error('x', span_id => 'b7ad6b7169203331')$$);
SELECT pg_temp.err($$SELECT obs.info('x', trace_id => '00000000000000000000000000000000', span_id => 'b7ad6b7169203331')$$);
-- checked before the threshold drops a DEBUG record
SELECT pg_temp.err($$SELECT obs.debug('x', ts => 'infinity')$$);

-- privileges: record_span is a writer function, like finish_span
SELECT has_function_privilege('public', 'obs.record_span(obs.trace_id, obs.span_id, obs.span_id, text, text, timestamptz, timestamptz, text, text, jsonb, text)', 'EXECUTE') AS public_may_record;
CREATE ROLE obs_client_writer;
SELECT obs.grant_writer('obs_client_writer');
SELECT p.oid::regprocedure AS writer_function_granted
  FROM pg_proc p
 WHERE p.pronamespace = 'obs'::regnamespace AND p.proname IN ('record_span', 'log', 'info')
   AND has_function_privilege('obs_client_writer', p.oid, 'EXECUTE')
 ORDER BY 1::text;
SELECT obs.revoke_writer('obs_client_writer');
DROP ROLE obs_client_writer;
