-- query recipes: CloudWatch queries, Kibana panels, JSON lines, Jaeger JSON, retention
\ir test/setup.sql
-- finished(span, us): us, what obs.finish_span(span) returned, is the stored
-- span's duration_us, which is its end_time - start_time to the microsecond
CREATE FUNCTION pg_temp.finished(span obs.span_id, us bigint) RETURNS boolean LANGUAGE sql AS $$
    SELECT us = s.duration_us AND s.duration_us = (extract(epoch FROM s.end_time - s.start_time) * 1000000)::bigint
      FROM obs.spans s WHERE s.span_id = span $$;
SET timezone = 'UTC';

-- request latencies per endpoint, 12:00 .. 12:02
SELECT obs.record_metric('request_latency_ms', v, jsonb_build_object('endpoint', e, 'method', 'GET'),
                         ts => t::timestamptz)
  FROM (VALUES ('/data', 450, '2024-01-01 12:00:10+00'), ('/data', 1500, '2024-01-01 12:00:20+00'),
               ('/data', 2500, '2024-01-01 12:01:05+00'), ('/data', 1000, '2024-01-01 12:01:30+00'),
               ('/search', 1200, '2024-01-01 12:00:40+00'), ('/search', 80, '2024-01-01 12:01:10+00'),
               ('/health', 5, '2024-01-01 12:02:00+00'), ('/health', 6000, '2024-01-01 12:02:59+00'))
       v(e, v, t);
-- samples without an endpoint tag are not "by endpoint"
SELECT obs.record_metric('request_latency_ms', 9999, ts => '2024-01-01 12:00:00+00');

-- high latency requests (CloudWatch: filter latency_ms > 1000 | stats count() by endpoint)
SELECT * FROM obs.high_latency_by_endpoint();
SELECT * FROM obs.high_latency_by_endpoint(100);
SELECT * FROM obs.high_latency_by_endpoint(1000, since => '2024-01-01 12:01:00+00');
SELECT * FROM obs.high_latency_by_endpoint(1000, 'api_latency_ms');

-- latency heatmap: per minute, value buckets [lower, upper)
SELECT * FROM obs.latency_heatmap();
SELECT * FROM obs.latency_heatmap(bucket => '2 minutes', bounds => '{100,1000}');
SELECT * FROM obs.latency_heatmap(bounds => '{1000}', since => '2024-01-01 12:02:00+00');
SELECT pg_temp.err($$SELECT obs.latency_heatmap(NULL)$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bucket => NULL)$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bucket => '0')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bucket => '-1 minute')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bucket => '1 month')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bounds => NULL)$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bounds => '{}')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bounds => '{10,10}')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bounds => '{10,NULL}')$$);
SELECT pg_temp.err($$SELECT obs.latency_heatmap(bounds => '{10,Infinity}')$$);

-- spans with fixed times: the table is written directly here so that
-- durations are exact; obs.finish_span() writes the same rows
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name,
                       start_time, end_time, duration_us, status, error, tags)
VALUES
 ('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL, 'scrape_sec_filings', 'PIPELINE', 'finance-pipeline',
  '2024-01-01 12:00:00+00', '2024-01-01 12:00:02.5+00', 2500000, 'error', 'fetch failed', '{"run": "run-001"}'),
 ('0af7651916cd43dd8448eb211c80319c', '00f067aa0ba902b7', 'b7ad6b7169203331', 'fetch_company_data', 'DATA_FETCH', 'sec-fetcher',
  '2024-01-01 12:00:00.5+00', '2024-01-01 12:00:01.75+00', 1250000, 'error', 'HTTP 503',
  '{"ticker": "AAPL", "source": "SEC", "attempt": 3, "ratio": 0.5, "cached": false, "extra": {"a": [1]}}'),
 ('0af7651916cd43dd8448eb211c80319c', '1111111111111111', 'b7ad6b7169203331', 'parse', 'TRANSFORM', 'finance-pipeline',
  '2024-01-01 12:00:01.8+00', '2024-01-01 12:00:01.9+00', 100000, 'unset', NULL, NULL),
 ('4bf92f3577b34da6a3ce929d0e0e4736', '2222222222222222', NULL, 'fetch_company_data', 'DATA_FETCH', 'sec-fetcher',
  '2024-01-01 12:01:00+00', '2024-01-01 12:01:00.25+00', 250000, 'ok', NULL, '{"ticker": "MSFT"}'),
 ('4bf92f3577b34da6a3ce929d0e0e4736', '3333333333333333', '2222222222222222', 'cache_lookup', 'CACHE', 'sec-fetcher',
  '2024-01-01 12:01:00.1+00', '2024-01-01 12:01:00.101+00', 1000, 'ok', NULL, NULL);

-- error rate by service, service performance, throughput per minute
SELECT * FROM obs.error_rate_by_service ORDER BY service_name, service_type;
SELECT * FROM obs.service_performance ORDER BY service_name, service_type;
SELECT * FROM obs.throughput_per_minute ORDER BY minute, service_name;

-- Jaeger JSON: one document the Jaeger UI opens ("JSON File")
SELECT jsonb_pretty(obs.jaeger_json(ARRAY['4bf92f3577b34da6a3ce929d0e0e4736']::obs.trace_id[]));
SELECT jsonb_pretty(obs.jaeger_json(ARRAY['0af7651916cd43dd8448eb211c80319c']::obs.trace_id[]) #> '{data,0,spans,1}');
-- traces are whole: since selects traces with a span started since then
SELECT t->>'traceID' AS trace, jsonb_array_length(t->'spans') AS spans,
       (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(t->'processes') k) AS processes
  FROM jsonb_array_elements(obs.jaeger_json()->'data') t;
SELECT jsonb_array_length(obs.jaeger_json(since => '2024-01-01 12:00:01+00')->'data') AS traces;
SELECT jsonb_array_length(obs.jaeger_json(since => '2024-01-01 12:00:30+00')->'data') AS traces;
SELECT obs.jaeger_json(since => '2024-01-02 00:00:00+00') AS no_traces;
SELECT obs.jaeger_json('{}') AS no_traces;

-- logs as JSON lines (fixed rows; obs.log() writes the same)
INSERT INTO obs.logs (log_id, ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid)
VALUES (1001, '2024-01-01 12:00:00.5+00', 'INFO', 'data_pipeline', 'Starting data processing',
        '{"records": 1000}', '{"environment": "production"}',
        '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL, 1),
       (1002, '2024-01-01 12:00:01.123456+00', 'ERROR', 'data_pipeline', 'Processing failed: "quoted"
and a newline', NULL, NULL, NULL, NULL,
        '{"sqlstate": "22012", "message": "division by zero"}', 1),
       (1003, '2024-01-01 12:01:00+00', 'WARNING', 'obs.alerts', 'alert', NULL, NULL, NULL, NULL, NULL, 1);
SELECT line FROM obs.logs_json ORDER BY log_id;
-- each line is one JSON object with the keys in order
SELECT log_id, position(E'\n' IN line) = 0 AS one_line,
       (SELECT array_agg(k) FROM json_object_keys(line::json) k) AS keys
  FROM obs.logs_json ORDER BY log_id;
SELECT obs.log_json(l) = j.line AS same FROM obs.logs l JOIN obs.logs_json j USING (log_id) WHERE log_id = 1001;
-- the timestamp is UTC whatever the session's zone
SET timezone = 'America/New_York';
SELECT line::json->>'timestamp' AS ts FROM obs.logs_json WHERE log_id = 1002;
RESET timezone;
SET timezone = 'UTC';
SELECT * FROM obs.log_volume_per_minute ORDER BY minute, level;

-- through the API: a real span tree ends up in the views and the export
SELECT obs.start_span('outer', 'PIPELINE', '{"k": "v"}', 'api-test') AS outer_span \gset
SELECT obs.start_span('inner', 'DATABASE', NULL, 'api-test') AS inner_span \gset
SELECT obs.info('inside') IS NOT NULL AS logged;
SELECT pg_temp.finished(:'inner_span', obs.finish_span(:'inner_span', 'error', 'boom')) AS finished;
SELECT pg_temp.finished(:'outer_span', obs.finish_span(:'outer_span')) AS finished;
SELECT spans, errors, error_rate FROM obs.error_rate_by_service WHERE service_name = 'api-test' ORDER BY service_type;
SELECT obs.current_trace_id() IS NULL AS no_open_span;
SELECT s.trace_id AS api_trace FROM obs.spans s WHERE s.span_id = :'outer_span' \gset
SELECT sp->>'operationName' AS op, sp->>'spanID' = :'inner_span' AS is_inner,
       sp->'references'->0->>'spanID' = :'outer_span' AS child_of_outer,
       sp->>'processID' AS process, jsonb_path_query_array(sp->'tags', '$[*].key') AS tag_keys
  FROM jsonb_array_elements(obs.jaeger_json(ARRAY[:'api_trace']::obs.trace_id[]) #> '{data,0,spans}') sp
 ORDER BY op;
SELECT l.line::json->>'trace_id' = :'api_trace' AS log_has_trace,
       l.line::json->>'span_id' = :'inner_span' AS log_has_span
  FROM obs.logs_json l WHERE l.line::json->>'message' = 'inside';

-- time ranges [since, until) for dashboards (issue 7, item 18)
SELECT * FROM obs.high_latency_by_endpoint(1000, since => '2024-01-01 12:00:00+00', until => '2024-01-01 12:01:06+00');
SELECT * FROM obs.latency_heatmap(bounds => '{1000}', since => '2024-01-01 12:01:00+00', until => '2024-01-01 12:02:00+00');
SELECT * FROM obs.throughput('2024-01-01 12:00:00.5+00', '2024-01-01 12:01:00+00') ORDER BY 1, 2;
SELECT * FROM obs.throughput(until => '2024-01-02', bucket => '1 hour') ORDER BY 1, 2;
SELECT * FROM obs.log_volume(NULL, '2024-01-01 12:01:00+00', '30 seconds') ORDER BY 1, 2;
SELECT service_name, service_type, spans, errors, error_rate
  FROM obs.service_performance('2024-01-01 12:00:00.5+00', '2024-01-01 12:01:00+00') ORDER BY 1, 2;
SELECT jsonb_array_length(obs.jaeger_json(until => '2024-01-01 12:00:30+00')->'data') AS traces;
SELECT jsonb_array_length(obs.jaeger_json(ARRAY['0af7651916cd43dd8448eb211c80319c', '4bf92f3577b34da6a3ce929d0e0e4736']::obs.trace_id[],
                                          '2024-01-01 12:00:30+00', '2024-01-01 12:02:00+00')->'data') AS traces;
-- the views are the functions over an open range
SELECT (SELECT array_agg(v::text ORDER BY v::text) FROM obs.throughput_per_minute v)
       = (SELECT array_agg(t::text ORDER BY t::text) FROM obs.throughput() t) AS throughput_same,
       (SELECT array_agg(v::text ORDER BY v::text) FROM obs.log_volume_per_minute v)
       = (SELECT array_agg(t::text ORDER BY t::text) FROM obs.log_volume() t) AS log_volume_same;
-- errors: until before since, bad buckets
SELECT pg_temp.err($$SELECT * FROM obs.high_latency_by_endpoint(since => '2024-01-02', until => '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.latency_heatmap(since => '2024-01-02', until => '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.throughput('2024-01-02', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.log_volume('2024-01-02', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.service_performance('2024-01-02', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT obs.jaeger_json(NULL, '2024-01-02', '2024-01-01')$$);
SELECT pg_temp.err($$SELECT * FROM obs.log_volume(bucket => NULL)$$);
SELECT pg_temp.err($$SELECT * FROM obs.throughput(bucket => '0')$$);
SELECT pg_temp.err($$SELECT * FROM obs.log_volume(bucket => '1 year')$$);

-- retention: everything above is older than a day, except the API's rows
SELECT * FROM obs.purge('1 day');
SELECT (SELECT count(*) FROM obs.metric_series) AS series_kept,
       (SELECT count(*) FROM obs.spans) AS spans_left,
       (SELECT count(*) FROM obs.logs) AS logs_left;
SELECT * FROM obs.purge('1 day');
SELECT pg_temp.err($$SELECT obs.purge(NULL)$$);
SELECT pg_temp.err($$SELECT obs.purge('-1 day')$$);

-- retention of alerts and dead letters: acknowledged alerts and dead letters
-- older than the cutoff go; an alert nobody acknowledged stays however old
INSERT INTO obs.alerts (metric_name, series_id, tags, observed_at, value, threshold, comparison, severity, acknowledged_at)
VALUES ('purge.m', 1, '{}', now() - interval '3 days', 5, 1, 'greater', 'high', now() - interval '2 days'),
       ('purge.m', 1, '{}', now() - interval '3 days', 6, 2, 'greater', 'high', NULL),
       ('purge.m', 1, '{}', now() - interval '1 hour', 7, 3, 'greater', 'high', now()),
       ('purge.m', 1, '{}', now() - interval '1 hour', 8, 4, 'greater', 'high', NULL);
INSERT INTO obs.dead_letters (received_at, signal, record, reason)
VALUES (now() - interval '3 days', 'log', '{}', 'old'), (now() - interval '1 hour', 'log', '{}', 'recent');
SELECT * FROM obs.purge('1 day') WHERE table_name IN ('alerts', 'dead_letters');
SELECT value, observed_at < now() - interval '1 day' AS old, acknowledged_at IS NOT NULL AS acknowledged
  FROM obs.alerts WHERE metric_name = 'purge.m' ORDER BY value;
SELECT reason FROM obs.dead_letters ORDER BY reason;
-- once acknowledged, the old alert goes at the next purge
SELECT obs.acknowledge_alert(a.alert_id) FROM obs.alerts a WHERE a.metric_name = 'purge.m' AND a.value = 6;
SELECT * FROM obs.purge('1 day') WHERE table_name IN ('alerts', 'dead_letters');
SELECT value FROM obs.alerts WHERE metric_name = 'purge.m' ORDER BY value;
