-- test/grafana/seed.sql: 120k rows in each of obs's big tables, one a second
-- from 2024-01-01 00:00 UTC (33 hours), for test/grafana/run.py: every
-- Grafana query must return rows and read these tables through an index.
-- A service and a flow name hold a quote, as Grafana's quoting must cope.
SET timezone = 'UTC';
INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
SELECT '2024-01-01'::timestamptz + i * interval '1 second',
       (ARRAY['INFO', 'INFO', 'WARNING', 'ERROR', 'INFO', 'CRITICAL', 'INFO'])[1 + i % 7]::obs.log_level,
       'etl', 'message ' || i, 1
  FROM generate_series(1, 120000) i;
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                       start_time, end_time, duration_us, status)
SELECT md5((i / 4)::text)::obs.trace_id, substr(md5(i::text), 1, 16)::obs.span_id, NULL, 'op', 'API',
       (ARRAY['api-gateway', 'orders-db', 'etl-worker', 'scheduler', 'o''brien-svc'])[1 + i % 5],
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + (i % 700) * interval '1 ms', (i % 700) * 1000,
       (CASE WHEN i % 23 = 0 THEN 'error' ELSE 'ok' END)::obs.span_status
  FROM generate_series(1, 120000) i;
INSERT INTO obs.metric_series (name, kind, tags)
SELECT 'request_latency_ms', 'gauge', jsonb_build_object('endpoint', '/e' || e) FROM generate_series(1, 4) e;
INSERT INTO obs.metric_series (name, kind, tags) VALUES ('error_rate', 'gauge', '{"service": "api-gateway"}');
INSERT INTO obs.metric_points (series_id, ts, value)
SELECT s.series_id, '2024-01-01'::timestamptz + i * interval '4 seconds', (i * 37 + s.series_id * 11) % 6000
  FROM generate_series(1, 30000) i, obs.metric_series s WHERE s.name = 'request_latency_ms';
INSERT INTO obs.metric_points (series_id, ts, value)
SELECT s.series_id, '2024-01-01'::timestamptz + i * interval '10 seconds', 0.01 + (i % 13) / 200.0
  FROM generate_series(1, 12000) i, obs.metric_series s WHERE s.name = 'error_rate';
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at)
SELECT 'fr-' || i, (ARRAY['etl_daily', 'ingest_orders', 'report_build', 'o''hare_sync'])[1 + i % 4],
       (ARRAY['Completed', 'Completed', 'Completed', 'Failed', 'Completed', 'Crashed', 'Cancelled', 'Running'])[1 + i % 8]::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + (i % 50) * interval '1 second', now()
  FROM generate_series(1, 120000) i;
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, updated_at)
SELECT 'tr-' || i, 'task_' || i % 9, 'fr-' || i / 3,
       (CASE WHEN i % 9 = 0 THEN 'Failed' ELSE 'Completed' END)::obs.run_state,
       '2024-01-01'::timestamptz + i * interval '1 second',
       '2024-01-01'::timestamptz + i * interval '1 second' + (i % 9) * 8 * interval '1 second',
       i % 1000, i % 900, now()
  FROM generate_series(1, 120000) i;
-- 120k alerts, one in ten unacknowledged
INSERT INTO obs.alerts (metric_name, series_id, tags, observed_at, value, threshold, comparison, severity,
                        rule_name, acknowledged_at)
SELECT 'error_rate', s.series_id, s.tags, '2024-01-01'::timestamptz + i * interval '1 second', 0.07, 0.05,
       'greater', (CASE WHEN i % 3 = 0 THEN 'warning' ELSE 'high' END)::obs.alert_severity, 'error_rate_high',
       CASE WHEN i % 10 <> 0 THEN '2024-01-03'::timestamptz END
  FROM generate_series(1, 120000) i, obs.metric_series s WHERE s.name = 'error_rate';
INSERT INTO obs.alert_rules (rule_name, metric_name, threshold, comparison, lookback)
VALUES ('error_rate_high', 'error_rate', 0.05, 'greater', '5 minutes');
INSERT INTO obs.dead_letters (received_at, signal, record, reason)
SELECT '2024-01-01'::timestamptz + i * interval '1 second', 'log', jsonb_build_object('i', i), 'test'
  FROM generate_series(1, 120000) i;
-- a shipping sink, for the sink health panel (it ships once obs is preloaded)
SELECT obs.setup_logging_to_elk('127.0.0.1', 9200, signals => '{logs,spans}', name => 'grafana-es');
ANALYZE obs.logs, obs.spans, obs.metric_series, obs.metric_points, obs.flow_runs, obs.task_runs,
        obs.alerts, obs.alert_rules, obs.dead_letters;
