-- test/upgrade_data.sql: rows in every obs table, written through the API
-- of the oldest release (0.1.0), for test/suites/upgrade.sh.
SELECT obs.info('upgrade ' || i, context => jsonb_build_object('i', i), logger => 'up')
  FROM generate_series(1, 50) i;
SELECT obs.error('failed', error_message => 'boom', logger => 'up');
SELECT obs.finish_span(obs.start_span('op ' || i, tags => jsonb_build_object('i', i)))
  FROM generate_series(1, 20) i;
SELECT obs.record_metric('up.m' || (i % 3), i, jsonb_build_object('k', i % 2), 'gauge',
                         '2026-11-30 12:00:00+00'::timestamptz + i * interval '1 second')
  FROM generate_series(1, 60) i;
SELECT obs.record_flow_execution('flow', 'fr' || i, '2026-11-30 10:00+00', '2026-11-30 10:05+00',
                                 CASE WHEN i % 4 = 0 THEN 'Failed' ELSE 'Completed' END, 2)
  FROM generate_series(1, 8) i;
SELECT obs.record_task_execution('task', 'fr' || i, '2026-11-30 10:00+00', '2026-11-30 10:01+00',
                                 'Completed', 10, 9)
  FROM generate_series(1, 8) i;
SELECT obs.add_alert_rule('up_rule', 'up.m1', 10, 'greater', '10 years');
SELECT count(*) >= 0 FROM obs.evaluate_alert_rules('2026-11-30 12:05:00+00');
SELECT count(*) >= 0 FROM obs.check_alert_conditions('up.m2', 50, 'greater', '10 years');
INSERT INTO obs.dead_letters (signal, record, reason) VALUES ('log', '{"x": 1}', 'upgrade test');
