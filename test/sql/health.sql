-- pipeline health: flow health, task performance, task summary
\ir test/setup.sql
SET timezone = 'UTC';

-- no runs yet: one row of zeros, success_rate NULL (0/0 is no rate)
SELECT * FROM obs.get_flow_health();
SELECT * FROM obs.get_task_performance();
SELECT count(*) AS flows FROM obs.flow_health;

-- scrape_sec_filings: 3 Completed, 1 Failed, 1 Crashed, 1 Cancelled, 1 Running
SELECT obs.record_flow_execution('scrape_sec_filings', 'run-' || i,
           '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour',
           '2024-01-01 00:00:00+00'::timestamptz + i * interval '1 hour' + d * interval '1 second',
           s, 5)
  FROM (VALUES (1, 'Completed', 60), (2, 'completed', 120), (3, 'COMPLETED', 30),
               (4, 'Failed', 10), (5, 'Crashed', 300), (6, 'Cancelled', 5)) v(i, s, d);
SELECT obs.record_flow_execution('scrape_sec_filings', 'run-7', '2024-01-01 07:00:00+00', NULL, 'Running');
-- Prefect's success rate: Completed / (Completed + Failed + Crashed) = 3/5;
-- Cancelled and Running count neither way; durations over the 5 finished runs
SELECT * FROM obs.get_flow_health('scrape_sec_filings');
-- a run recorded as Running, then Completed, is one run
SELECT obs.record_flow_execution('scrape_sec_filings', 'run-7', '2024-01-01 07:00:00+00',
                                 '2024-01-01 07:01:30+00', 'Completed');
SELECT total_runs, success_count, running_count, success_rate, max_duration_seconds
  FROM obs.get_flow_health('scrape_sec_filings');

-- a second flow, only failures, and one still pending
SELECT obs.record_flow_execution('daily_report', 'rep-1', '2024-01-02 06:00:00+00', '2024-01-02 06:00:10+00', 'Failed', error => 'timeout');
SELECT obs.record_flow_execution('daily_report', 'rep-2', '2024-01-02 06:30:00+00', NULL, 'Pending');
-- a flow with only non-terminal runs has no success rate and no durations
SELECT obs.record_flow_execution('backfill', 'bf-1', '2024-01-03 00:00:00+00', NULL, 'Scheduled');

-- per flow
SELECT * FROM obs.flow_health ORDER BY flow_name;
-- overall: every flow together
SELECT * FROM obs.get_flow_health();
-- an unknown flow: one row of zeros
SELECT flow_name, total_runs, success_rate FROM obs.get_flow_health('nope');
-- time range [since, until) on start_time: runs 2..4 start at 02:00, 03:00, 04:00
SELECT total_runs, success_count, failure_count, success_rate, last_run_at
  FROM obs.get_flow_health('scrape_sec_filings', '2024-01-01 02:00:00+00', '2024-01-01 05:00:00+00');
SELECT total_runs FROM obs.get_flow_health(since => '2024-01-02 00:00:00+00');
SELECT total_runs FROM obs.get_flow_health(until => '2024-01-01 01:00:00+00');
SELECT total_runs FROM obs.get_flow_health(until => '2024-01-01 01:00:00.000001+00');

-- tasks (the seed's record_task_execution, then a few more)
SELECT obs.record_task_execution('fetch_company_data', 'run-1', '2024-01-01 01:00:01+00',
                                 '2024-01-01 01:00:58+00', 'Completed', 1000, 950);
SELECT obs.record_task_execution('fetch_company_data', 'run-2', '2024-01-01 02:00:00+00',
                                 '2024-01-01 02:00:43+00', 'Completed', 2000, 1990);
SELECT obs.record_task_execution('fetch_company_data', 'run-4', '2024-01-01 04:00:00+00',
                                 '2024-01-01 04:00:10+00', 'Failed', 100, 0, 'HTTP 503');
SELECT obs.record_task_execution('parse_filings', 'run-1', '2024-01-01 01:00:10+00',
                                 '2024-01-01 01:00:15+00', 'Completed', 950, 950);
SELECT obs.record_task_execution('parse_filings', 'run-2', '2024-01-01 02:00:10+00',
                                 '2024-01-01 02:00:13+00', 'Completed', 1990, 1900);
SELECT obs.record_task_execution('load_warehouse', 'run-1', '2024-01-01 01:00:20+00',
                                 '2024-01-01 01:00:55+00', 'Completed', 950, 950);
SELECT obs.record_task_execution('load_warehouse', 'run-5', '2024-01-01 05:00:20+00',
                                 '2024-01-01 05:01:20+00', 'Crashed');
SELECT obs.record_task_execution('notify', 'run-7', '2024-01-01 07:00:00+00', NULL, 'Running');

-- the seed's get_task_performance(): overall and per task
SELECT * FROM obs.get_task_performance();
SELECT * FROM obs.get_task_performance('fetch_company_data');
SELECT * FROM obs.task_performance ORDER BY task_name;
SELECT task_name, total_runs, throughput
  FROM obs.get_task_performance('fetch_company_data', '2024-01-01 02:00:00+00', '2024-01-01 03:00:00+00');

-- task summary
SELECT * FROM obs.task_summary ORDER BY task_name;
SELECT task_name, runs FROM obs.get_task_summary('2024-01-01 02:00:00+00') ORDER BY task_name;
-- the seed's three dashboard queries, one line each
-- slowest tasks
SELECT task_name, duration_seconds FROM obs.task_summary ORDER BY duration_seconds DESC NULLS LAST LIMIT 5;
-- highest throughput
SELECT task_name, throughput FROM obs.task_summary ORDER BY throughput DESC NULLS LAST LIMIT 5;
-- bottlenecks over 30 s
SELECT task_name, duration_seconds FROM obs.task_summary WHERE duration_seconds > 30 ORDER BY task_name;

-- until earlier than since is an error (22023); equal ends are an empty range
SELECT pg_temp.err($$SELECT * FROM obs.get_flow_health(since => '2024-01-02', until => '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.get_task_performance(since => '2024-01-02', until => '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.get_task_summary('2024-01-02', '2024-01-01')$$);
SELECT total_runs FROM obs.get_flow_health(since => '2024-01-01 02:00:00+00', until => '2024-01-01 02:00:00+00');
SELECT count(*) AS tasks FROM obs.get_task_summary('2024-01-01 02:00:00+00', '2024-01-01 02:00:00+00');
-- each view is its function per name, and selects from a function
SELECT bool_and(v IS NOT DISTINCT FROM f) AS flow_health_same
  FROM obs.flow_health v, LATERAL obs.get_flow_health(v.flow_name) f;
SELECT bool_and(v IS NOT DISTINCT FROM f) AS task_performance_same
  FROM obs.task_performance v, LATERAL obs.get_task_performance(v.task_name) f;
SELECT (SELECT array_agg(v::text ORDER BY v.task_name) FROM obs.task_summary v)
       = (SELECT array_agg(f::text ORDER BY f.task_name) FROM obs.get_task_summary() f) AS task_summary_same;
SELECT c.relname AS view, array_agg(DISTINCT p.proname ORDER BY p.proname) AS selects_from
  FROM pg_class c
  JOIN pg_rewrite rw ON rw.ev_class = c.oid
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rw.oid AND d.refclassid = 'pg_proc'::regclass
  JOIN pg_proc p ON p.oid = d.refobjid
 WHERE c.relnamespace = 'obs'::regnamespace AND c.relname IN ('flow_health', 'task_performance', 'task_summary')
 GROUP BY c.relname ORDER BY 1;
