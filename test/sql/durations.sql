-- A span or run from 4713 BC to the year 294000: both times are in obs's
-- range, but end_time - start_time overflows 64-bit microseconds.  It was
-- stored with a negative duration (-9020272348909551616 us) and skewed
-- every health figure; now it is refused (22008).
\ir test/setup.sql
SELECT pg_temp.err($$SELECT obs.record_span('00000000000000000000000000000001', '0000000000000003', NULL,
    'op', 'CUSTOM', '4713-01-01 00:00+00 BC', '294000-12-31 00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r1', '4713-01-01 00:00+00 BC', '294000-12-31 00:00+00', 'Completed')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r1', '4713-01-01 00:00+00 BC', '294000-12-31 00:00+00', 'Completed')$$);
SELECT (SELECT count(*) FROM obs.spans) AS spans, (SELECT count(*) FROM obs.flow_runs) AS flows,
       (SELECT count(*) FROM obs.task_runs) AS tasks;
-- 290,000 years fit, and the duration is kept exactly
SELECT obs.record_span('00000000000000000000000000000001', '0000000000000005', NULL,
    'op', 'CUSTOM', '4713-01-01 00:00+00 BC', '4713-01-01 00:00+00 BC'::timestamptz + interval '290000 years');
SELECT duration_us > 0 AS positive, duration_us = (extract(epoch FROM end_time) - extract(epoch FROM start_time)) * 1000000 AS exact
  FROM obs.spans;
SELECT obs.record_flow_execution('f', 'r2', '2026-01-01 00:00+00', '2026-01-01 00:01+00', 'Completed');
SELECT flow_run_id, duration_seconds FROM obs.flow_runs;
