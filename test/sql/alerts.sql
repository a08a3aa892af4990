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
-- slow_throughput's breaches (800 and 900 below 1000) were also stored by
-- the ad-hoc check above: the rule's alerts are its own, beside those
SELECT rule_name, value, threshold, comparison FROM obs.alerts
 WHERE metric_name = 'records_per_second' ORDER BY comparison, observed_at, rule_name;
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

-- issue 7 item 14: values near the float8 limits do not overflow, and
-- severity is exact there too (computed in numeric)
SELECT obs.record_metric('extreme', 1.7e308, ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('extreme', -1.7e308, ts => '2024-01-01 12:00:01+00');
SELECT obs.record_metric('extreme', 1.7976931348623157e308, ts => '2024-01-01 12:00:02+00');
SELECT value, threshold, severity FROM obs.check_alert_conditions('extreme', -1.7e308, '>', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY observed_at;
SELECT value, threshold, severity FROM obs.check_alert_conditions('extreme', 1.7e308, '<', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY observed_at;
SELECT value, threshold, severity FROM obs.check_alert_conditions('extreme', 1.6e308, '>=', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY observed_at;
SELECT value, threshold, severity FROM obs.check_alert_conditions('extreme', -1.7976931348623157e308, '>', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY observed_at;

-- one failing rule does not abort the run: it is skipped with a WARNING
-- naming it, its SQLSTATE and message, its error is kept, the others run
DELETE FROM obs.alert_rules;
SELECT rule_name FROM obs.add_alert_rule('a_extreme', 'extreme', -1.7e308, '>', '1 hour');
-- accepted, but its window start is out of range when evaluated
SELECT rule_name FROM obs.add_alert_rule('b_ancient', 'extreme', 0, '>', '300000 years');
-- a row edited into an invalid condition
INSERT INTO obs.alert_rules (rule_name, metric_name, threshold, comparison, lookback)
VALUES ('c_edited', 'extreme', 'NaN', 'greater', '1 hour'),
       ('d_extreme', 'extreme', 1.7e308, 'between', '1 hour');
SELECT rule_name FROM obs.add_alert_rule('e_extreme', 'extreme', 1.7e308, '<', '1 hour');
SELECT rule_name, value, threshold, comparison, severity
  FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
SELECT rule_name, last_error, last_error_at IS NOT NULL AS failed,
       last_evaluated_at IS NOT NULL AS evaluated
  FROM obs.alert_rules ORDER BY rule_name;
-- the failures rolled back nothing of the others and stored nothing themselves
SELECT rule_name, count(*) FROM obs.alerts WHERE metric_name = 'extreme' GROUP BY 1 ORDER BY 1;
-- repaired rules run, and their error is cleared
UPDATE obs.alert_rules SET threshold = 1.7e308 WHERE rule_name = 'c_edited';
UPDATE obs.alert_rules SET comparison = 'less' WHERE rule_name = 'd_extreme';
UPDATE obs.alert_rules SET enabled = false WHERE rule_name = 'b_ancient';
SELECT rule_name, value, comparison FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
SELECT rule_name, last_error, last_error_at IS NOT NULL AS failed,
       last_evaluated_at IS NOT NULL AS evaluated
  FROM obs.alert_rules ORDER BY rule_name;

-- issue 7 item 15: rules do not shadow each other or ad-hoc checks
DELETE FROM obs.alert_rules;
SELECT obs.record_metric('shadow_ms', 700, '{"endpoint": "/a"}', ts => '2024-01-01 12:00:00+00');
SELECT obs.record_metric('shadow_ms', 800, '{"endpoint": "/b"}', ts => '2024-01-01 12:00:00+00');
-- an ad-hoc check first ...
SELECT value, is_new FROM obs.check_alert_conditions('shadow_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY value;
-- ... then two rules with the same threshold, one filtered by tags: each
-- stores its own alerts
SELECT rule_name FROM obs.add_alert_rule('shadow_all', 'shadow_ms', 500, '>', '1 hour');
SELECT rule_name FROM obs.add_alert_rule('shadow_a', 'shadow_ms', 500, '>', '1 hour', '{"endpoint": "/a"}');
SELECT rule_name, value, tags FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
-- the ad-hoc check still sees its own, and nothing is new
SELECT value, is_new FROM obs.check_alert_conditions('shadow_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:05:00+00') ORDER BY value;
SELECT coalesce(rule_name, '(ad hoc)') AS checker, value FROM obs.alerts
 WHERE metric_name = 'shadow_ms' ORDER BY 1, 2;

-- every breaching sample is kept: two samples of one series at one instant
-- give two alerts, n identical samples give n alerts (sample_no 1..n)
SELECT obs.record_metric('twin_ms', v, ts => '2024-01-01 12:00:00+00')
  FROM unnest('{600, 900, 900}'::float8[]) v;
SELECT value, severity, is_new FROM obs.check_alert_conditions('twin_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:05:00+00');
SELECT rule_name FROM obs.add_alert_rule('twin', 'twin_ms', 500, '>', '1 hour');
SELECT rule_name, value, sample_no FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
-- re-checks store nothing; a third identical sample gives one more alert
SELECT count(*) AS new_alerts FROM obs.check_alert_conditions('twin_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:05:00+00') WHERE is_new;
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
SELECT obs.record_metric('twin_ms', 900, ts => '2024-01-01 12:00:00+00');
SELECT value, is_new FROM obs.check_alert_conditions('twin_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:05:00+00');
SELECT rule_name, value, sample_no FROM obs.evaluate_alert_rules('2024-01-01 12:05:00+00');
SELECT coalesce(rule_name, '(ad hoc)') AS checker, value, sample_no FROM obs.alerts
 WHERE metric_name = 'twin_ms' ORDER BY 1, 2, 3;

-- issue 7 item 16: lookback against schedule.  A rule with a 1 minute
-- lookback evaluated every minute; a sample taken before an evaluation but
-- stored after it is checked by the next one
DELETE FROM obs.alert_rules;
SELECT rule_name FROM obs.add_alert_rule('late', 'late_ms', 500, '>', '1 minute');
SELECT lateness FROM obs.alert_rules;
SELECT obs.record_metric('late_ms', 600, ts => '2024-01-01 12:00:30+00');
SELECT value, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:01:00+00');
SELECT last_window FROM obs.alert_rules;
-- taken at 12:00:50, before that evaluation; stored after it
SELECT obs.record_metric('late_ms', 700, ts => '2024-01-01 12:00:50+00');
-- the next window is (12:01, 12:02]: the late sample is checked all the same
SELECT value, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:02:00+00');
-- an ad-hoc check sees its window only
SELECT count(*) AS adhoc FROM obs.check_alert_conditions('late_ms', 500, '>', '1 minute', NULL, '2024-01-01 12:02:00+00');
-- up to lateness (10 minutes) before the window: the next evaluation at
-- 12:03 checks late samples in (11:52:00, 12:02:00]
SELECT obs.record_metric('late_ms', 800, ts => '2024-01-01 11:52:01+00');
SELECT obs.record_metric('late_ms', 810, ts => '2024-01-01 11:52:00+00');
SELECT value, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:03:00+00');
-- (the sample left out goes, so that the larger lateness below does not
-- depend on whether other transactions ran during an evaluation)
DELETE FROM obs.metric_points p USING obs.metric_series s
 WHERE s.series_id = p.series_id AND s.name = 'late_ms' AND p.value = 810;
-- a longer schedule than lookback loses nothing either: samples of the gap
-- that arrive after an evaluation are checked by the next
SELECT obs.record_metric('late_ms', 900, ts => '2024-01-01 12:05:00+00');
SELECT value, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:10:00+00');
-- nothing is checked twice
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2024-01-01 12:10:00+00');
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2024-01-01 12:11:00+00');
-- lateness is per rule; a larger one reaches further back
UPDATE obs.alert_rules SET lateness = '1 hour' WHERE rule_name = 'late';
SELECT obs.record_metric('late_ms', 820, ts => '2024-01-01 11:30:00+00');
SELECT value, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:12:00+00');
\set VERBOSITY terse
UPDATE obs.alert_rules SET lateness = '-1 minute';
\set VERBOSITY default
-- a changed condition forgets what was checked: the window is checked afresh
SELECT obs.record_metric('late_ms', 650, ts => '2024-01-01 12:12:30+00');
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2024-01-01 12:13:00+00');
UPDATE obs.alert_rules SET threshold = 600;
SELECT last_window IS NULL AS reset, last_xmin IS NULL AS reset_xmin FROM obs.alert_rules;
SELECT value, threshold, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:13:00+00');
-- a watermark from another cluster (a restored dump: its xid is in the
-- future here) is ignored: the evaluation is like a first one, of the window
DELETE FROM obs.alerts WHERE rule_name = 'late' AND value = 650;
UPDATE obs.alert_rules SET last_xmin = '999999999999';
SELECT value, threshold, observed_at FROM obs.evaluate_alert_rules('2024-01-01 12:13:00+00');

-- issue 7 item 17: a second evaluation over many breaching samples stores
-- nothing (the benchmark bench/alerts.sh times it)
DELETE FROM obs.alert_rules;
SELECT count(obs.record_metric('many_ms', 1000 + i % 7, jsonb_build_object('shard', i % 4),
                               ts => '2024-01-01 12:00:00+00'::timestamptz + (i / 3) * interval '10 ms'))
  FROM generate_series(1, 3000) i;
SELECT rule_name FROM obs.add_alert_rule('many', 'many_ms', 500, '>', '1 hour');
SELECT count(*) AS first_run FROM obs.evaluate_alert_rules('2024-01-01 12:30:00+00');
SELECT count(*) AS second_run FROM obs.evaluate_alert_rules('2024-01-01 12:30:00+00');
SELECT count(*) AS later_run FROM obs.evaluate_alert_rules('2024-01-01 12:31:00+00');
SELECT count(*) AS adhoc_first FROM obs.check_alert_conditions('many_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:30:00+00') WHERE is_new;
SELECT count(*) AS adhoc_second FROM obs.check_alert_conditions('many_ms', 500, '>', '1 hour', NULL, '2024-01-01 12:30:00+00') WHERE is_new;
SELECT coalesce(rule_name, '(ad hoc)') AS checker, count(*) AS alerts
  FROM obs.alerts WHERE metric_name = 'many_ms' GROUP BY 1 ORDER BY 1;
