-- test/dashboard/seed.sql: a day of pipeline data ending now, for the HTML
-- dashboard test (test/suites/dashboard.sh) and its README screenshot.
-- Flow, task, service, endpoint and logger names and log messages include
-- XSS payloads that must reach the page escaped.  Deterministic apart from
-- now(): the values come from hashes of the row number.
SET obs.write_path = 'transactional';
CREATE TEMPORARY TABLE xss (k text PRIMARY KEY, v text);
INSERT INTO xss VALUES ('script', '<script>document.title=''pwned''</script>'),
                       ('img', '"><img src=x onerror="document.title=''pwned''">');

-- u(i, salt): a number in [0, 1) from a hash
CREATE FUNCTION pg_temp.u(i integer, salt integer) RETURNS double precision
LANGUAGE sql IMMUTABLE AS $$ SELECT ((hashint8(i::bigint * 7919 + salt) & 1048575)::double precision / 1048576) $$;

-- 240 flow runs over the last 24 hours
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at)
SELECT 'fr-' || i,
       (ARRAY['etl_daily', 'ingest_orders', 'report_build', 'customer_sync',
              (SELECT v FROM xss WHERE k = 'img')])[1 + i % 5],
       (CASE WHEN pg_temp.u(i, 1) < 0.78 THEN 'Completed' WHEN pg_temp.u(i, 1) < 0.88 THEN 'Failed'
             WHEN pg_temp.u(i, 1) < 0.92 THEN 'Crashed' WHEN pg_temp.u(i, 1) < 0.96 THEN 'Cancelled'
             ELSE 'Running' END)::obs.run_state,
       now() - interval '24 hours' + i * interval '6 minutes',
       CASE WHEN pg_temp.u(i, 1) < 0.96 THEN now() - interval '24 hours' + i * interval '6 minutes'
                                              + (30 + 300 * pg_temp.u(i, 2)) * interval '1 second' END,
       now()
  FROM generate_series(0, 239) i;

-- 1200 task runs: transform and load are slow (bottlenecks), validate fast
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time,
                           inputs_processed, outputs_produced, updated_at)
SELECT 'tr-' || i, t.name, 'fr-' || i / 5,
       (CASE WHEN pg_temp.u(i, 3) < 0.93 THEN 'Completed' ELSE 'Failed' END)::obs.run_state,
       now() - interval '24 hours' + i * interval '72 seconds',
       now() - interval '24 hours' + i * interval '72 seconds' + t.secs * (0.6 + 0.8 * pg_temp.u(i, 4)) * interval '1 second',
       (t.rows * (0.5 + pg_temp.u(i, 5)))::bigint, (t.rows * 0.9 * (0.5 + pg_temp.u(i, 5)))::bigint, now()
  FROM generate_series(0, 1199) i
  JOIN (VALUES (0, 'extract', 12, 50000), (1, 'transform', 48, 120000), (2, 'load', 36, 90000),
               (3, 'validate', 3, 40000), (4, (SELECT v FROM xss WHERE k = 'script'), 20, 10000))
       t(n, name, secs, rows) ON t.n = i % 5;

-- 6000 spans over the day for six services; errors rise in one afternoon hour
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                       start_time, end_time, duration_us, status, error)
SELECT md5('t' || i / 3)::obs.trace_id, substr(md5('s' || i), 1, 16)::obs.span_id, NULL, 'op',
       s.kind::obs.service_type, s.name,
       now() - interval '24 hours' + i * interval '14.4 seconds',
       now() - interval '24 hours' + i * interval '14.4 seconds' + d.us * interval '1 microsecond',
       d.us,
       (CASE WHEN pg_temp.u(i, 7) < s.err * CASE WHEN i BETWEEN 3600 AND 3850 THEN 6 ELSE 1 END
             THEN 'error' ELSE 'ok' END)::obs.span_status,
       CASE WHEN pg_temp.u(i, 7) < s.err THEN (SELECT v FROM xss WHERE k = 'script') END
  FROM generate_series(0, 5999) i
  JOIN (VALUES (0, 'api-gateway', 'API', 40, 0.01), (1, 'orders-db', 'DATABASE', 15, 0.004),
               (2, 'etl-worker', 'PIPELINE', 900, 0.03), (3, 'scheduler', 'SCHEDULER', 80, 0.002),
               (4, (SELECT v FROM xss WHERE k = 'script'), 'API', 250, 0.07),
               (5, (SELECT v FROM xss WHERE k = 'img'), 'CUSTOM', 600, 0.12))
       s(n, name, kind, ms, err) ON s.n = i % 6
 CROSS JOIN LATERAL (SELECT (s.ms * 1000 * exp(1.2 * (pg_temp.u(i, 8) + pg_temp.u(i, 9) - 1)))::bigint AS us) d;

-- request latency samples per endpoint (one endpoint tag is a payload) and an error_rate series
INSERT INTO obs.metric_series (name, kind, tags)
SELECT 'request_latency_ms', 'gauge', jsonb_build_object('endpoint', e)
  FROM unnest(ARRAY['/orders', '/customers', (SELECT v FROM xss WHERE k = 'script')]) e;
INSERT INTO obs.metric_series (name, kind, tags) VALUES ('error_rate', 'gauge', '{"service": "api-gateway"}');
INSERT INTO obs.metric_points (series_id, ts, value)
SELECT s.series_id, now() - interval '24 hours' + i * interval '20 seconds',
       -- mostly 40-400 ms, slower in the evening, a tail to 5 s
       GREATEST(1, 120 * exp(1.6 * (pg_temp.u(i + s.series_id * 100000, 10) - 0.5))
                   * (1 + 0.8 * sin(i / 4320.0 * 2 * pi()))
                   * CASE WHEN pg_temp.u(i + s.series_id * 100000, 11) < 0.03 THEN 12 ELSE 1 END)
  FROM obs.metric_series s, generate_series(0, 4319) i
 WHERE s.name = 'request_latency_ms';
INSERT INTO obs.metric_points (series_id, ts, value)
SELECT s.series_id, now() - interval '24 hours' + i * interval '10 minutes',
       0.012 + 0.02 * pg_temp.u(i, 12) + CASE WHEN i BETWEEN 84 AND 90 THEN 0.06 ELSE 0 END
  FROM obs.metric_series s, generate_series(0, 143) i
 WHERE s.name = 'error_rate';

-- an alert rule on the error rate and one on slow requests to the payload endpoint
SELECT (obs.add_alert_rule('error_rate_high', 'error_rate', 0.05, '>', '1 day')).rule_name;
SELECT (obs.add_alert_rule((SELECT v FROM xss WHERE k = 'img'), 'request_latency_ms', 4000, '>', '1 day',
                          jsonb_build_object('endpoint', (SELECT v FROM xss WHERE k = 'script')))).rule_name IS NOT NULL AS rule;
SELECT count(*) > 0 AS alerts FROM obs.evaluate_alert_rules();

-- logs: a steady flow of INFO and WARNING, some errors, two with payloads
INSERT INTO obs.logs (ts, level, logger, message, error, backend_pid)
SELECT now() - interval '24 hours' + i * interval '30 seconds',
       (CASE WHEN pg_temp.u(i, 13) < 0.8 THEN 'INFO' WHEN pg_temp.u(i, 13) < 0.95 THEN 'WARNING'
             WHEN pg_temp.u(i, 13) < 0.995 THEN 'ERROR' ELSE 'CRITICAL' END)::obs.log_level,
       (ARRAY['etl.extract', 'etl.load', 'api'])[1 + i % 3], 'processed batch ' || i, NULL, 1
  FROM generate_series(0, 2879) i;
INSERT INTO obs.logs (ts, level, logger, message, error, backend_pid)
VALUES (now() - interval '10 minutes', 'ERROR', (SELECT v FROM xss WHERE k = 'img'),
        'upstream said ' || (SELECT v FROM xss WHERE k = 'script'), '{"type": "<script>x</script>"}', 1),
       (now() - interval '5 minutes', 'CRITICAL', 'api',
        'bad input ' || (SELECT v FROM xss WHERE k = 'img'), NULL, 1);
ANALYZE obs.flow_runs, obs.task_runs, obs.spans, obs.metric_series, obs.metric_points, obs.logs, obs.alerts;
