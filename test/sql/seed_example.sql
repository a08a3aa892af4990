-- the seed's "Example: Complete Observability Setup", translated to SQL,
-- with a deliberate failure path; checks the exact health figures
\ir test/setup.sql
SET timezone = 'UTC';
SET obs.service_name = 'finance-pipeline';

\ir demo/seed_pipeline.sql

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
