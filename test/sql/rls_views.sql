-- row-level security a DBA adds on obs's tables holds through obs's views:
-- they are security_invoker, so they read the tables as the querying role
\ir test/setup.sql
SET timezone = 'UTC';
INSERT INTO obs.logs (ts, level, logger, message, backend_pid) VALUES
    ('2024-01-01 10:00:00+00', 'INFO', 'team_a', 'a1', 1),
    ('2024-01-01 10:00:30+00', 'ERROR', 'team_a', 'a2', 1),
    ('2024-01-01 10:01:10+00', 'INFO', 'team_b', 'b1', 1);
INSERT INTO obs.spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time, duration_us, status) VALUES
    ('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 'fetch', 'DATA_FETCH', 'team_a',
     '2024-01-01 10:00:00+00', '2024-01-01 10:00:01+00', 1000000, 'ok'),
    ('4bf92f3577b34da6a3ce929d0e0e4737', '00f067aa0ba902b8', 'load', 'STORAGE', 'team_b',
     '2024-01-01 10:00:00+00', '2024-01-01 10:00:02+00', 2000000, 'error');
INSERT INTO obs.metric_series (series_id, name, kind, tags) VALUES
    (1, 'rows', 'gauge', '{"team": "team_a"}'), (2, 'rows', 'gauge', '{"team": "team_b"}');
INSERT INTO obs.metric_points VALUES (1, '2024-01-01 10:00:00+00', 10), (2, '2024-01-01 10:00:00+00', 20);
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, updated_at) VALUES
    ('ra', 'team_a', 'Completed', '2024-01-01 10:00+00', '2024-01-01 10:01+00', now()),
    ('rb', 'team_b', 'Failed', '2024-01-01 10:00+00', '2024-01-01 10:02+00', now());
INSERT INTO obs.task_runs (task_run_id, task_name, flow_run_id, status, start_time, end_time, updated_at) VALUES
    ('ra:t', 'team_a', 'ra', 'Completed', '2024-01-01 10:00+00', '2024-01-01 10:01+00', now()),
    ('rb:t', 'team_b', 'rb', 'Failed', '2024-01-01 10:00+00', '2024-01-01 10:02+00', now());

CREATE ROLE regress_obs_team_a;
SELECT obs.grant_reader('regress_obs_team_a');
ALTER TABLE obs.logs ENABLE ROW LEVEL SECURITY;
ALTER TABLE obs.spans ENABLE ROW LEVEL SECURITY;
ALTER TABLE obs.metric_series ENABLE ROW LEVEL SECURITY;
ALTER TABLE obs.flow_runs ENABLE ROW LEVEL SECURITY;
ALTER TABLE obs.task_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY team_a ON obs.logs FOR SELECT TO regress_obs_team_a USING (logger = 'team_a');
CREATE POLICY team_a ON obs.spans FOR SELECT TO regress_obs_team_a USING (service_name = 'team_a');
CREATE POLICY team_a ON obs.metric_series FOR SELECT TO regress_obs_team_a USING (tags ->> 'team' = 'team_a');
CREATE POLICY team_a ON obs.flow_runs FOR SELECT TO regress_obs_team_a USING (flow_name = 'team_a');
CREATE POLICY team_a ON obs.task_runs FOR SELECT TO regress_obs_team_a USING (task_name = 'team_a');

-- every view is security_invoker
SELECT c.relname, c.reloptions FROM pg_class c
  JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE c.relkind = 'v' AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false);

SET ROLE regress_obs_team_a;
SELECT logger, message FROM obs.logs ORDER BY log_id;
SELECT line::json->>'logger' AS logger, line::json->>'message' AS message FROM obs.logs_json ORDER BY log_id;
SELECT minute, level, records FROM obs.log_volume_per_minute ORDER BY minute, level;
SELECT service_name, spans, errors FROM obs.error_rate_by_service ORDER BY 1;
SELECT minute, service_name, spans FROM obs.throughput_per_minute ORDER BY 1, 2;
SELECT service_name, spans, max_ms FROM obs.service_performance ORDER BY 1;
SELECT name, tags, value FROM obs.metrics ORDER BY series_id;
SELECT flow_name, total_runs FROM obs.flow_health ORDER BY 1;
SELECT task_name, total_runs FROM obs.task_performance ORDER BY 1;
SELECT task_name, runs FROM obs.task_summary ORDER BY 1;
-- the read functions run as their caller too
SELECT total_runs FROM obs.get_flow_health();
SELECT task_name, runs FROM obs.get_task_summary() ORDER BY 1;
SELECT jsonb_array_length(obs.jaeger_json()->'data') AS traces;
RESET ROLE;

-- the owner still sees everything
SELECT count(*) AS logs FROM obs.logs_json;
SELECT count(*) AS services FROM obs.error_rate_by_service;

DROP OWNED BY regress_obs_team_a;
DROP ROLE regress_obs_team_a;
