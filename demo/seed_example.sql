-- obs demo: the seed guide's Quick Start and "Complete Observability Setup",
-- in SQL.  Run by demo/run.sh; safe to run again (it starts from a fresh
-- extension).  Times are relative to now() so the dashboards look current.
\set ON_ERROR_STOP on
\pset footer off
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS obs CASCADE;
CREATE EXTENSION obs;
RESET client_min_messages;
SET obs.service_name = 'finance-pipeline';

\echo
\echo '== Quick Start: structured logging'
-- logger.info('Data fetch started'); logger.info('User data loaded', context=, tags=)
SELECT obs.info('Data fetch started', logger => 'my_application') AS log_id;
SELECT obs.info('User data loaded', '{"user_id": 123, "records": 1000}',
                '{"environment": "production"}', logger => 'my_application') AS log_id;

\echo '== Quick Start: distributed tracing'
-- span = tracer.start_span('fetch_company_data', service=DATA_FETCH, tags=); finish_span(span, 'success')
SELECT obs.start_span('fetch_company_data', 'DATA_FETCH', '{"ticker": "AAPL", "source": "SEC"}') AS span \gset
SELECT obs.current_traceparent() AS traceparent_for_outgoing_calls;
SELECT obs.finish_span(:'span', 'success') AS duration_us;

\echo '== Quick Start: performance monitoring and alerts'
-- monitor.record_metric('api_latency_ms', t, tags=); check_alert_conditions('api_latency_ms', 500, 'greater')
SELECT obs.record_metric('api_latency_ms', v, jsonb_build_object('endpoint', e, 'method', 'GET'),
                         ts => now() - s * interval '1 second')
  FROM (VALUES ('/data', 320, 50), ('/data', 540, 40), ('/data', 650, 30),
               ('/search', 1400, 20), ('/search', 90, 10)) v(e, v, s);
SELECT metric_name, tags->>'endpoint' AS endpoint, value, threshold, severity, is_new
  FROM obs.check_alert_conditions('api_latency_ms', 500, 'greater');

-- ------------------------------------------------------------------------
-- Complete Observability Setup
-- ------------------------------------------------------------------------
-- the pipeline: transform(), process_data() and data_pipeline()
\ir seed_pipeline.sql

\echo
\echo '== Complete Observability Setup: three flow runs, the second fails'
SELECT run_id, pg_temp.data_pipeline(run_id, data, now() - ago, now() - ago + took) AS status
  FROM (VALUES ('run-001', '{1,2,3}'::int[], interval '3 hours', interval '30 seconds'),
               ('run-002', '{4,-1,6}'::int[], interval '2 hours', interval '90 seconds'),
               ('run-003', '{7,8}'::int[], interval '1 hour', interval '45 seconds')) v(run_id, data, ago, took)
 ORDER BY run_id;

\echo '== Flow health (success rate = Completed / (Completed + Failed + Crashed))'
SELECT flow_name, total_runs, success_count, failure_count, round(success_rate::numeric, 3) AS success_rate,
       avg_duration_seconds, p95_duration_seconds, max_duration_seconds
  FROM obs.flow_health ORDER BY flow_name;

\echo '== Task summary: slowest first'
SELECT task_name, runs, failures, round(success_rate::numeric, 3) AS success_rate,
       duration_seconds, round(throughput::numeric, 3) AS records_per_s
  FROM obs.task_summary ORDER BY duration_seconds DESC;
\echo '== Bottlenecks (average over 30 s)'
SELECT task_name, duration_seconds FROM obs.task_summary WHERE duration_seconds > 30;

\echo '== Alerts: flows slower than 60 s, and a rule for pg_cron'
SELECT metric_name, value, threshold, comparison, severity, is_new
  FROM obs.check_alert_conditions('pipeline_duration_ms', 60000, 'greater', '1 day');
SELECT rule_name FROM obs.add_alert_rule('slow_search', 'api_latency_ms', 1000, '>', '1 hour', '{"endpoint": "/search"}');
SELECT rule_name, metric_name, value, severity FROM obs.evaluate_alert_rules();
\echo '   (schedule it with: SELECT cron.schedule(''obs-alerts'', ''* * * * *'', ''SELECT obs.evaluate_alert_rules()'');)'
SELECT alert_id, metric_name, tags, value, threshold, comparison, severity, rule_name FROM obs.active_alerts;

\echo '== The error log, as PostgreSQL knows it'
SELECT error->>'sqlstate' AS sqlstate, error->>'message' AS message, error->>'detail' AS detail,
       error->>'hint' AS hint, error->>'context' AS context
  FROM obs.logs WHERE level = 'ERROR';

\echo '== Log lines for CloudWatch / ELK (one JSON object per line)'
\pset format unaligned
\pset tuples_only on
SELECT line FROM obs.logs_json ORDER BY log_id;
\pset tuples_only off
\pset format aligned

\echo '== The span tree of the failed run'
WITH RECURSIVE t AS (
    SELECT s.*, 0 AS depth, ARRAY[s.span_seq] AS path
      FROM obs.spans s WHERE s.parent_span_id IS NULL AND s.tags->>'flow_run_id' = 'run-002'
    UNION ALL
    SELECT c.*, t.depth + 1, t.path || c.span_seq
      FROM obs.spans c JOIN t ON c.trace_id = t.trace_id AND c.parent_span_id = t.span_id
)
SELECT repeat('    ', depth) || operation AS span, service_type, status, error,
       round(duration_us / 1000.0, 3) AS ms, trace_id, span_id
  FROM t ORDER BY path;

\echo '== Error rate by service, service performance'
SELECT * FROM obs.error_rate_by_service ORDER BY service_name, service_type;
SELECT service_name, service_type, spans, round(avg_ms::numeric, 3) AS avg_ms,
       round(p95_ms::numeric, 3) AS p95_ms, errors FROM obs.service_performance ORDER BY 1, 2;

\echo '== High-latency requests by endpoint (> 500 ms) and the latency heatmap'
SELECT * FROM obs.high_latency_by_endpoint(500, 'api_latency_ms');
SELECT * FROM obs.latency_heatmap('api_latency_ms', '1 minute', '{100,500,1000}');

\echo '== Jaeger JSON of the failed run (open it in the Jaeger UI with "JSON File")'
\pset format unaligned
\pset tuples_only on
SELECT jsonb_pretty(obs.jaeger_json(ARRAY(SELECT trace_id FROM obs.spans WHERE tags->>'flow_run_id' = 'run-002')));
\pset tuples_only off
\pset format aligned

\echo
\echo '== Save everything (the seed: save_metrics_to_parquet, save_to_parquet; spans too)'
SELECT p AS written, (pg_stat_file(p)).size AS bytes
  FROM obs.save_metrics_to_parquet(:'outdir' || '/observability') AS p
UNION ALL
SELECT p, (pg_stat_file(p)).size FROM obs.save_to_parquet(:'outdir' || '/prefect_dashboards') AS p
UNION ALL
SELECT p, (pg_stat_file(p)).size FROM obs.save_spans_to_parquet(:'outdir' || '/tracing') AS p;
\echo 'Read them back with any Parquet reader, e.g. DuckDB:'
\echo '  SELECT * FROM read_parquet(''<dir>/prefect_dashboards/flow_executions_*.parquet'');'
