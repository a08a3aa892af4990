-- alerts: obs.check_alert_conditions(), rules, acknowledgement
\ir test/setup.sql
-- the figures an alert check returns, without ids
CREATE FUNCTION pg_temp.chk(metric text, threshold float8, cmp text, tags jsonb DEFAULT NULL,
                            lookback interval DEFAULT '10 minutes',
                            as_of timestamptz DEFAULT '2024-01-01 12:05:00+00')
RETURNS TABLE(tags jsonb, value float8, comparison text, severity obs.alert_severity,
              observed_at timestamptz, is_new boolean)
LANGUAGE sql AS $$
    SELECT c.tags, c.value, c.comparison, c.severity, c.observed_at, c.is_new
      FROM obs.check_alert_conditions(metric, threshold, cmp, lookback, chk.tags, as_of) c
$$;
SET timezone = 'UTC';

-- latency samples at 12:00:01 .. 12:00:07 (the seed's "Alert Types")
SELECT obs.record_metric('request_latency_ms', v, '{"endpoint": "/data", "method": "GET"}',
                         ts => '2024-01-01 12:00:00+00'::timestamptz + i * interval '1 second')
  FROM unnest('{450, 500, 549.999, 550, 550.001, 650, 1200}'::float8[]) WITH ORDINALITY u(v, i);
SELECT obs.record_metric('request_latency_ms', 900, '{"endpoint": "/health", "method": "GET"}',
                         ts => '2024-01-01 12:00:08+00');

-- greater: strictly above; exactly 10% beyond the threshold is a warning,
-- anything beyond that is high
SELECT * FROM pg_temp.chk('request_latency_ms', 500, 'greater') ORDER BY observed_at;
-- the same window again: every breach comes back, none is stored twice
SELECT * FROM pg_temp.chk('request_latency_ms', 500, 'greater') ORDER BY observed_at;
SELECT count(*) AS stored FROM obs.alerts;
-- each new alert was logged once by obs.warning() as logger obs.alerts
SELECT level, logger, message, context - 'alert_id' - 'observed_at' AS context, tags
  FROM obs.logs ORDER BY log_id;
-- ... and the returned alert_id is the stored row
SELECT bool_and(a.value = c.value AND a.observed_at = c.observed_at) AS ids_match
  FROM obs.check_alert_conditions('request_latency_ms', 500, 'greater', '10 minutes', NULL,
                                  '2024-01-01 12:05:00+00') c
  JOIN obs.alerts a USING (alert_id);

-- symbols are accepted and stored as the word; >= includes the threshold
SELECT * FROM pg_temp.chk('request_latency_ms', 550, '>=', '{"endpoint": "/data"}') ORDER BY observed_at;
SELECT * FROM pg_temp.chk('request_latency_ms', 550, ' GREATER_OR_EQUAL ', '{"endpoint": "/data"}') ORDER BY observed_at;
SELECT DISTINCT comparison FROM obs.alerts ORDER BY 1;

-- tags filter: only series whose tags contain the given ones
SELECT * FROM pg_temp.chk('request_latency_ms', 800, '>', '{"endpoint": "/health"}');
SELECT * FROM pg_temp.chk('request_latency_ms', 800, '>', '{"method": "GET"}') ORDER BY observed_at;
SELECT * FROM pg_temp.chk('request_latency_ms', 800, '>', '{"method": "POST"}');

-- throughput (less) and error rate (greater), as in the seed
SELECT obs.record_metric('records_per_second', 800, ts => '2024-01-01 12:01:00+00');
SELECT obs.record_metric('records_per_second', 900, ts => '2024-01-01 12:02:00+00');
SELECT obs.record_metric('records_per_second', 1000, ts => '2024-01-01 12:03:00+00');
SELECT * FROM pg_temp.chk('records_per_second', 1000, 'less') ORDER BY observed_at;
SELECT * FROM pg_temp.chk('records_per_second', 1000, '<=') ORDER BY observed_at;
SELECT obs.record_metric('error_rate', 0.05, ts => '2024-01-01 12:04:00+00');
SELECT obs.record_metric('error_rate', 0.011, ts => '2024-01-01 12:04:30+00');
SELECT * FROM pg_temp.chk('error_rate', 0.01, 'greater') ORDER BY observed_at;

-- the 10% edge is exact in decimal: 1.1 vs 1 is 10% (float8 arithmetic
-- would say 0.10000000000000009), 1.1000000001 is beyond
SELECT obs.record_metric('edge', 1.1, ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('edge', 1.1000000001, ts => '2024-01-01 12:00:01+00');
SELECT obs.record_metric('edge', 0.9, ts => '2024-01-01 12:00:02+00');
SELECT obs.record_metric('edge', 0.8999999999, ts => '2024-01-01 12:00:03+00');
SELECT value, severity FROM pg_temp.chk('edge', 1, '>') ORDER BY observed_at;
SELECT value, severity FROM pg_temp.chk('edge', 1, '<') ORDER BY observed_at;
-- negative thresholds use |threshold|
SELECT obs.record_metric('temperature', -11, ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('temperature', -11.5, ts => '2024-01-01 12:00:01+00');
SELECT value, severity FROM pg_temp.chk('temperature', -10, '<') ORDER BY observed_at;

-- threshold 0: every strict breach is high; an equal value (>=) is within 10%
SELECT obs.record_metric('dlq_size', 0, ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('dlq_size', 1, ts => '2024-01-01 12:00:01+00');
SELECT obs.record_metric('dlq_size', 0.000001, ts => '2024-01-01 12:00:02+00');
SELECT value, severity FROM pg_temp.chk('dlq_size', 0, '>') ORDER BY observed_at;
SELECT value, severity FROM pg_temp.chk('dlq_size', 0, '>=') ORDER BY observed_at;

-- the window is (as_of - lookback, as_of]: a sample at as_of counts,
-- one at as_of - lookback does not
SELECT obs.record_metric('queue_depth', 10, ts => '2024-01-01 11:00:00+00');
SELECT obs.record_metric('queue_depth', 20, ts => '2024-01-01 11:05:00+00');
SELECT obs.record_metric('queue_depth', 30, ts => '2024-01-01 11:10:00+00');
SELECT value FROM pg_temp.chk('queue_depth', 5, '>', NULL, '5 minutes', '2024-01-01 11:05:00+00');
SELECT value FROM pg_temp.chk('queue_depth', 5, '>', NULL, '5 minutes', '2024-01-01 11:10:00+00');
SELECT value FROM pg_temp.chk('queue_depth', 5, '>', NULL, '0', '2024-01-01 11:10:00+00');
-- as_of defaults to now(): these samples are long past
SELECT count(*) AS recent FROM obs.check_alert_conditions('queue_depth', 5);
-- an unknown metric is no breach, not an error
SELECT count(*) AS breaches FROM obs.check_alert_conditions('no_such_metric', 1);

-- bad input
\set SHOW_CONTEXT never
SELECT * FROM obs.check_alert_conditions('request_latency_ms', 500, 'between');
\set SHOW_CONTEXT errors
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, 'between')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, '=')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, NULL)$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions(NULL, 1)$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', NULL)$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 'NaN')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 'Infinity')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', '-Infinity')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, 'greater', NULL)$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, 'greater', '-5 minutes')$$);
SELECT pg_temp.err($$SELECT obs.check_alert_conditions('m', 1, 'greater', '5 minutes', '["a"]')$$);
SELECT count(*) AS alerts_after_errors FROM obs.alerts;

-- rules for pg_cron
SELECT rule_name, metric_name, threshold, comparison, lookback, tags, enabled
  FROM obs.add_alert_rule('slow_data', 'request_latency_ms', 1000, '>', '1 hour', '{"endpoint": "/data"}');
SELECT rule_name, comparison FROM obs.add_alert_rule('slow_throughput', 'records_per_second', 1000, 'less', '1 hour');
SELECT rule_name, comparison FROM obs.add_alert_rule('error_budget', 'error_rate', 0.02, 'GREATER', '1 hour');
SELECT rule_name, comparison, lookback FROM obs.add_alert_rule('any_latency', 'request_latency_ms', 100);
UPDATE obs.alert_rules SET enabled = false WHERE rule_name = 'any_latency';
SELECT pg_temp.err($$SELECT obs.add_alert_rule('slow_data', 'x', 1)$$);
SELECT pg_temp.err($$SELECT obs.add_alert_rule(NULL, 'x', 1)$$);
SELECT pg_temp.err($$SELECT obs.add_alert_rule('r', 'x', 1, '!=')$$);
SELECT pg_temp.err($$SELECT obs.add_alert_rule('r', 'x', 'NaN')$$);
SELECT pg_temp.err($$SELECT obs.add_alert_rule('r', 'x', 1, '>', '-1 hour')$$);
SELECT rule_name FROM obs.alert_rules ORDER BY 1;
-- evaluation stores the new breaches with the rule name and returns them
SELECT rule_name, metric_name, value, threshold, comparison, severity, observed_at
  FROM obs.evaluate_alert_rules('2024-01-01 12:30:00+00');
-- a second run in the same window finds nothing new
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2024-01-01 12:30:00+00');
-- slow_throughput's breaches (800 and 900 below 1000) were already stored
-- by the manual check above: they are neither stored again nor returned
SELECT rule_name, value, threshold, comparison FROM obs.alerts
 WHERE metric_name = 'records_per_second' ORDER BY comparison, observed_at;
SELECT pg_temp.err($$SELECT obs.drop_alert_rule('nope')$$);
SELECT obs.drop_alert_rule('any_latency');
SELECT rule_name FROM obs.alert_rules ORDER BY 1;

-- acknowledgement
SELECT count(*) AS active FROM obs.active_alerts;
SELECT alert_id AS first_high FROM obs.alerts WHERE severity = 'high' ORDER BY alert_id LIMIT 1 \gset
SELECT obs.acknowledge_alert(:first_high) AS acknowledged;
SELECT obs.acknowledge_alert(:first_high) AS acknowledged_again;
SELECT count(*) AS active, bool_and(alert_id <> :first_high) AS gone FROM obs.active_alerts;
SELECT pg_temp.err($$SELECT obs.acknowledge_alert(-1)$$);
SELECT pg_temp.err($$SELECT obs.acknowledge_alert(NULL)$$);
-- newest observation first
SELECT observed_at, metric_name, value FROM obs.active_alerts LIMIT 3;

-- recording and checking in one transaction: the sample is in the window
BEGIN;
SELECT obs.record_metric('same_xact_latency', 900);
SELECT metric_name, value, severity, is_new FROM obs.check_alert_conditions('same_xact_latency', 500);
COMMIT;
