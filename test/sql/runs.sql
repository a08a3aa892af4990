-- pipeline runs: obs.record_flow_execution() and obs.record_task_execution()
\ir test/setup.sql

-- the seed's calls
SELECT obs.record_flow_execution(
    flow_name => 'scrape_sec_filings', flow_run_id => 'run-123abc',
    start_time => '2026-11-01 10:00:00+00', end_time => '2026-11-01 10:05:00+00',
    status => 'Completed', num_tasks => 5);
SELECT obs.record_task_execution(
    task_name => 'fetch_company_data', flow_run_id => 'run-123abc',
    start_time => '2026-11-01 10:00:01+00', end_time => '2026-11-01 10:04:58+00',
    status => 'Completed', inputs_processed => 1000, outputs_produced => 950);
SELECT flow_run_id, flow_name, status, num_tasks, duration_seconds, error FROM obs.flow_runs;
SELECT task_run_id, task_name, flow_run_id, status, inputs_processed, outputs_produced, duration_seconds
  FROM obs.task_runs;

-- a run recorded as Running, then Completed, is one row with the latest state
SELECT obs.record_flow_execution('nightly_load', 'run-2', '2026-11-02 00:00:00+00', NULL, 'running', 3);
SELECT status, end_time IS NULL AS open, num_tasks FROM obs.flow_runs WHERE flow_run_id = 'run-2';
SELECT obs.record_flow_execution('nightly_load', 'run-2', '2026-11-02 00:00:00+00', '2026-11-02 00:10:00+00', 'COMPLETED');
SELECT status, duration_seconds, num_tasks AS kept_num_tasks FROM obs.flow_runs WHERE flow_run_id = 'run-2';
-- failure keeps the error; a later success clears it
SELECT obs.record_flow_execution('nightly_load', 'run-3', '2026-11-03 00:00:00+00', '2026-11-03 00:01:00+00', 'Failed', error => 'source unavailable');
SELECT status, error FROM obs.flow_runs WHERE flow_run_id = 'run-3';
SELECT obs.record_flow_execution('nightly_load', 'run-3', '2026-11-03 00:00:00+00', '2026-11-03 00:02:00+00', 'Completed');
SELECT status, error, duration_seconds FROM obs.flow_runs WHERE flow_run_id = 'run-3';
SELECT count(*) AS rows FROM obs.flow_runs;
-- every Prefect state type, case-insensitive
SELECT obs.record_flow_execution('states', 'state-' || s, '2026-11-04 00:00:00+00', NULL, s)
  FROM unnest(ARRAY['scheduled', 'PENDING', 'Running', 'paused', 'cancelling',
                    'completed', 'failed', 'crashed', 'cancelled']) s;
SELECT status, count(*) FROM obs.flow_runs WHERE flow_name = 'states' GROUP BY status ORDER BY status;

-- task runs: the default id is flow_run_id:task_name:start_time (UTC), so the
-- same run recorded again updates it and a second run of the task is a new row;
-- mapped tasks may name their own
SELECT obs.record_task_execution('transform', 'run-2', '2026-11-02 00:01:00+00', NULL, 'Running', 10);
SELECT obs.record_task_execution('transform', 'run-2', '2026-11-02 00:01:00+00', '2026-11-02 00:02:00+00', 'Completed', outputs_produced => 9);
SELECT obs.record_task_execution('transform', 'run-2', '2026-11-02 00:02:00+00', '2026-11-02 00:02:10+00', 'Failed', 3);
SELECT obs.record_task_execution('transform', 'run-2', '2026-11-02 00:03:00+00', '2026-11-02 00:03:30+00', 'Completed', 5, 5, task_run_id => 'run-2:transform:mapped-1');
SELECT task_run_id, status, inputs_processed, outputs_produced, duration_seconds
  FROM obs.task_runs WHERE flow_run_id = 'run-2' ORDER BY task_run_id;

-- a run id names one run of one flow
SELECT pg_temp.err($$SELECT obs.record_flow_execution('other_flow', 'run-2', '2026-11-02 00:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('other_task', 'run-1', '2026-11-02 00:00:00+00', task_run_id => 'run-2:transform:2026-11-02T00:01:00.000000Z')$$);
SELECT flow_name FROM obs.flow_runs WHERE flow_run_id = 'run-2';

-- bad input: clear errors, nothing stored
SELECT count(*) AS before FROM obs.flow_runs \gset
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', '2026-11-05 09:59:59+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', status => 'Done')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', status => NULL)$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', num_tasks => -1)$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution(NULL, 'r', '2026-11-05 10:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', NULL, '2026-11-05 10:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', '', '2026-11-05 10:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', NULL)$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '-infinity')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', tags => '1')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r', '2026-11-05 10:00:00+00', inputs_processed => -1)$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r', '2026-11-05 10:00:00+00', outputs_produced => -1)$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r', '2026-11-05 10:00:00+00', 'infinity')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('', 'r', '2026-11-05 10:00:00+00')$$);
-- past the latest timestamp Parquet export can write (year 294247)
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '294247-01-10 04:00:54.775807+00')$$);
SELECT pg_temp.err($$SELECT obs.record_flow_execution('f', 'r', '2026-11-05 10:00:00+00', '294276-12-31 23:59:59+00')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r', '294250-01-01 00:00:00+00')$$);
SELECT pg_temp.err($$SELECT obs.record_task_execution('t', 'r', '2026-11-05 10:00:00+00', '294247-01-10 04:00:54.775807+00')$$);
SELECT count(*) = :before AS nothing_stored FROM obs.flow_runs;
SELECT count(*) AS no_bad_tasks FROM obs.task_runs WHERE flow_run_id = 'r';

-- the latest timestamp obs stores is one that Parquet export can write
SELECT obs.record_flow_execution('ts_limit', 'ts-limit-run', '294247-01-10 04:00:54.775806+00',
                                 '294247-01-10 04:00:54.775806+00');
SELECT obs.record_task_execution('ts_limit_task', 'ts-limit-run', '2026-11-05 10:00:00+00',
                                 '294247-01-10 04:00:54.775806+00');
SELECT '/tmp/obs_ts_limit_runs_' || pg_backend_pid() || '.parquet' AS pq_file \gset
SELECT pg_temp.err(format($$COPY (SELECT * FROM obs.flow_runs WHERE flow_run_id = 'ts-limit-run') TO %L (FORMAT parquet)$$,
                          :'pq_file')) AS flow_export;
SELECT pg_temp.err(format($$COPY (SELECT * FROM obs.task_runs WHERE flow_run_id = 'ts-limit-run') TO %L (FORMAT parquet)$$,
                          :'pq_file')) AS task_export;
SELECT pg_temp.err(format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', 'rm -f ' || :'pq_file')) AS cleanup;
