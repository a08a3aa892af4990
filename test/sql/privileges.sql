-- privileges: a signal writer and a dashboard reader, no role created by obs
\ir test/setup.sql
-- finished(span, us): us, what obs.finish_span(span) returned, is the stored
-- span's duration_us, which is its end_time - start_time to the microsecond
CREATE FUNCTION pg_temp.finished(span obs.span_id, us bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT us = s.duration_us AND s.duration_us = (extract(epoch FROM s.end_time - s.start_time) * 1000000)::bigint
      FROM obs.spans s WHERE s.span_id = span $$;

-- the extension creates no role
SELECT count(*) AS obs_roles FROM pg_roles WHERE rolname LIKE '%obs%' AND rolname NOT LIKE 'regress%';
-- PUBLIC may not execute any write or admin function
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p WHERE p.pronamespace = 'obs'::regnamespace
   AND p.proname = ANY (obs._privilege_functions('writer') || obs._privilege_functions('admin'))
 ORDER BY 1, 2;
-- every name in the lists is a function that exists
SELECT n AS missing FROM unnest(obs._privilege_functions('writer') || obs._privilege_functions('reader')
                                || obs._privilege_functions('admin')) n
 WHERE NOT EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'obs'::regnamespace AND p.proname = n);
-- no SECURITY DEFINER anywhere in obs
SELECT count(*) AS security_definer FROM pg_proc WHERE pronamespace = 'obs'::regnamespace AND prosecdef;

CREATE ROLE regress_obs_writer;
CREATE ROLE regress_obs_reader;
CREATE ROLE regress_obs_nobody;
SELECT obs.grant_writer('regress_obs_writer');
SELECT obs.grant_reader('regress_obs_reader');
SELECT pg_temp.err($$SELECT obs.grant_writer(NULL)$$);
SELECT pg_temp.err($$SELECT obs.grant_writer('regress_no_such_role')$$);

-- the writer writes every signal ...
SET ROLE regress_obs_writer;
SELECT obs.info('from the writer', '{"k": 1}') IS NOT NULL AS logged;
SELECT obs.error('writer error', sqlstate => '22012', error_message => 'division by zero') IS NOT NULL AS logged;
SELECT obs.record_metric('request_latency_ms', 650, '{"endpoint": "/data"}', ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('request_latency_ms', 700, '{"endpoint": "/data"}', ts => '2024-01-01 12:00:01+00');
SELECT obs.start_span('writer_span', 'PIPELINE') AS writer_span \gset
SELECT obs.current_span_id() = :'writer_span' AS started;
SELECT obs.finish_span(:'writer_span') AS writer_span_us \gset
SELECT obs.record_flow_execution('f', 'run-1', '2024-01-01 10:00+00', '2024-01-01 10:01+00', 'Completed');
SELECT obs.record_task_execution('t', 'run-1', '2024-01-01 10:00+00', '2024-01-01 10:00:30+00', 'Completed', 10, 10);
-- ... but reads nothing and administers nothing
SELECT pg_temp.err($$SELECT count(*) FROM obs.logs$$);
SELECT pg_temp.err($$SELECT count(*) FROM obs.flow_health$$);
SELECT pg_temp.err($$SELECT * FROM obs.get_flow_health()$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('request_latency_ms', 500, as_of => '2024-01-01 12:01:00+00')$$);
SELECT pg_temp.err($$SELECT obs.purge('1 day')$$);
-- the buffered path's counters and worker pids are for readers only
SELECT pg_temp.err($$SELECT count(*) FROM obs.ingest_stats()$$);
SELECT pg_temp.err($$SELECT count(*) FROM obs.ingest_stats$$);
SELECT pg_temp.err($$SELECT obs.grant_reader('regress_obs_writer')$$);
SELECT pg_temp.err($$INSERT INTO obs.logs (ts, level, logger, message, backend_pid) VALUES (now(), 'INFO', 'x', 'y', 1)$$);
RESET ROLE;
-- the writer's span is stored, with the duration finish_span returned
SELECT pg_temp.finished(:'writer_span', :writer_span_us) AS writer_span_stored;

-- the owner runs the alert check (e.g. from pg_cron)
SELECT count(*) AS alerts FROM obs.check_alert_conditions('request_latency_ms', 500, as_of => '2024-01-01 12:01:00+00');

-- the reader reads every table, view and read function ...
SET ROLE regress_obs_reader;
SELECT level, message FROM obs.logs WHERE logger <> 'obs.alerts' ORDER BY log_id;
SELECT total_runs, success_rate FROM obs.flow_health;
SELECT total_runs, success_rate FROM obs.get_flow_health();
SELECT task_name, throughput FROM obs.task_summary;
SELECT total_runs FROM obs.get_task_performance();
SELECT * FROM obs.high_latency_by_endpoint(600);
SELECT count(*) AS cells FROM obs.latency_heatmap();
SELECT count(*) AS alerts FROM obs.active_alerts;
SELECT operation FROM obs.spans;
SELECT jsonb_array_length(obs.jaeger_json()->'data') AS traces;
SELECT count(*) AS lines FROM obs.logs_json;
SELECT count(*) FROM obs.metrics;
SELECT count(*) AS rings FROM obs.ingest_stats;
SELECT count(*) AS rings FROM obs.ingest_stats();
-- ... and writes nothing (42501)
SELECT pg_temp.err($$SELECT obs.log('info', 'from the reader')$$);
SELECT pg_temp.err($$SELECT obs.info('from the reader')$$);
SELECT pg_temp.err($$SELECT obs.record_metric('x', 1)$$);
SELECT pg_temp.err($$SELECT obs.start_span('reader_span')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', now())$$);
SELECT pg_temp.err($$SELECT obs.acknowledge_alert(1)$$);
SELECT pg_temp.err($$DELETE FROM obs.logs$$);
RESET ROLE;

-- a role with no grant cannot even reach the schema
SET ROLE regress_obs_nobody;
SELECT pg_temp.err($$SELECT obs.info('x')$$);
SELECT pg_temp.err($$SELECT count(*) FROM obs.logs$$);
RESET ROLE;

-- what the helpers granted, exactly
SELECT has_schema_privilege(r, 'obs', 'USAGE') AS usage,
       has_table_privilege(r, 'obs.logs', 'SELECT') AS select_logs,
       has_table_privilege(r, 'obs.task_summary', 'SELECT') AS select_view,
       has_function_privilege(r, 'obs.info(text,jsonb,jsonb,text,text,text,text,text,text,timestamptz,obs.trace_id,obs.span_id,text)', 'EXECUTE') AS exec_info,
       has_function_privilege(r, 'obs.purge(interval)', 'EXECUTE') AS exec_purge
  FROM unnest(ARRAY['regress_obs_writer', 'regress_obs_reader', 'regress_obs_nobody']) r ORDER BY r;

-- a role that is both keeps the schema until its last grant goes
SELECT obs.grant_reader('regress_obs_writer');
SELECT obs.revoke_writer('regress_obs_writer');
SELECT has_schema_privilege('regress_obs_writer', 'obs', 'USAGE') AS usage,
       has_table_privilege('regress_obs_writer', 'obs.logs', 'SELECT') AS select_logs,
       has_function_privilege('regress_obs_writer', 'obs.log(text,text,jsonb,jsonb,text,text,text,text,text,text,timestamptz,obs.trace_id,obs.span_id,text)', 'EXECUTE') AS exec_log;
SELECT obs.revoke_reader('regress_obs_writer');
SELECT obs.revoke_reader('regress_obs_reader');
SELECT has_schema_privilege(r, 'obs', 'USAGE') AS usage,
       has_table_privilege(r, 'obs.logs', 'SELECT') AS select_logs
  FROM unnest(ARRAY['regress_obs_writer', 'regress_obs_reader']) r ORDER BY r;
SET ROLE regress_obs_writer;
SELECT pg_temp.err($$SELECT obs.info('revoked')$$);
RESET ROLE;

DROP ROLE regress_obs_writer;
DROP ROLE regress_obs_reader;
DROP ROLE regress_obs_nobody;

-- every obs function PUBLIC may execute, listed explicitly: a new write
-- function that forgot its REVOKE shows up here
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS obs CASCADE;
CREATE EXTENSION obs;
RESET client_min_messages;
SELECT p.proname
  FROM pg_proc p
 WHERE p.pronamespace = 'obs'::regnamespace
   AND has_function_privilege('public', p.oid, 'EXECUTE')
   AND p.proname !~ '^(trace_id|span_id)_(in|out|recv|send|cmp|eq|ne|lt|le|gt|ge|hash)$'
 GROUP BY p.proname ORDER BY p.proname;
