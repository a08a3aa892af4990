-- ship_encode: obs.otlp_payload() and obs.cloudwatch_payloads(), their
-- output for fixed rows and every bad argument
\ir test/setup.sql
SET timezone = 'UTC';
CREATE TEMP TABLE sp AS SELECT * FROM obs.spans WITH NO DATA;
INSERT INTO sp (trace_id, span_id, parent_span_id, operation, service_type, service_name, start_time,
                end_time, duration_us, status, error, tags, span_seq)
VALUES ('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', '00f067aa0ba902b7', 'load', 'PIPELINE',
        'etl', '2026-11-30 10:00:00.123456+00', '2026-11-30 10:00:01+00', 876544, 'error', 'boom',
        '{"rows": 12, "ratio": 0.5, "ok": true}', 1);
CREATE TEMP TABLE lg AS SELECT * FROM obs.logs WITH NO DATA;
INSERT INTO lg VALUES (7, '2026-11-30 10:00:00.000001+00', 'WARNING', 'etl.load', 'slow "load"',
                       '{"batch": 3}', NULL, '0af7651916cd43dd8448eb211c80319c', NULL, NULL, 4242);
CREATE TEMP TABLE mt (ts timestamptz, name text, kind obs.metric_kind, tags jsonb, value float8, series_id int);
INSERT INTO mt VALUES ('2026-11-30 10:00:00+00', 'rows', 'counter', '{"stage": "load"}', 3, 1),
                      ('2026-11-30 10:00:01+00', 'lag', 'gauge', '{}', 0.25, 2);

-- the JSON bodies
SELECT convert_from(obs.otlp_payload('traces', jsonb_agg(to_jsonb(s))), 'UTF8') FROM sp s;
SELECT convert_from(obs.otlp_payload('logs', jsonb_agg(to_jsonb(l)), service_name => 'svc'), 'UTF8') FROM lg l;
SELECT convert_from(obs.otlp_payload('metrics', jsonb_agg(to_jsonb(m) ORDER BY ts), false, 'svc'), 'UTF8') FROM mt m;
-- the protobuf body of the span, byte for byte
SELECT encode(obs.otlp_payload('traces', jsonb_agg(to_jsonb(s)), true), 'hex') FROM sp s;
-- the same bytes whatever the session's time zone
SELECT (SELECT obs.otlp_payload('traces', jsonb_agg(to_jsonb(s)), true) FROM sp s) AS utc \gset
SET timezone = 'Asia/Kathmandu';
SELECT obs.otlp_payload('traces', jsonb_agg(to_jsonb(s)), true) = :'utc'::bytea AS same_in_kathmandu FROM sp s;
SET timezone = 'UTC';
-- no rows
SELECT convert_from(obs.otlp_payload('traces', '[]'), 'UTF8') AS empty_json,
       length(obs.otlp_payload('logs', '[]', true)) AS empty_protobuf;
-- one PutLogEvents body
SELECT b FROM obs.cloudwatch_payloads((SELECT jsonb_agg(to_jsonb(l)) FROM lg l), '/obs/app', 'db-1') b;
SELECT count(*) AS bodies FROM obs.cloudwatch_payloads('[]', 'g', 's');
-- numbers beyond a double's range (jsonb allows them) and beyond 2^53
SELECT convert_from(obs.otlp_payload('metrics', jsonb_build_array(to_jsonb(m) || '{"tags": {"big": 1e400, "neg": -1e400, "i": 9007199254740993}}'), false, 'svc'), 'UTF8') FROM mt m WHERE series_id = 2;
SELECT b::jsonb->'logEvents'->0->'message' FROM obs.cloudwatch_payloads((SELECT jsonb_agg(to_jsonb(l) || '{"context": {"big": 1e400, "f": 0.1, "n": -0.0}}') FROM lg l), 'g', 's') b;

-- bad arguments
SELECT pg_temp.err($$SELECT obs.otlp_payload('spans', '[]')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('Traces', '[]')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload(NULL, '[]')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('traces', NULL)$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('traces', '[]', NULL)$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('traces', '{"a": 1}')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('logs', '"x"')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('traces', '[1]')$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('traces', '[{}]')$$);
-- a bad field in an otherwise good span row
CREATE FUNCTION pg_temp.span_with(field text, value jsonb) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.err(format('SELECT obs.otlp_payload(%L, %L)', 'traces',
                              jsonb_build_array(to_jsonb(s) || jsonb_build_object(field, value))))
      FROM sp s
$$;
SELECT pg_temp.span_with('trace_id', '"0af7651916cd43dd8448eb211c80319"');
SELECT pg_temp.span_with('span_id', '"b7ad6b716920333g"');
SELECT pg_temp.span_with('parent_span_id', '7');
SELECT pg_temp.span_with('operation', 'null');
SELECT pg_temp.span_with('start_time', '"yesterday"');
SELECT pg_temp.span_with('start_time', '"infinity"');
SELECT pg_temp.span_with('start_time', '"2026-02-30T10:00:00+00:00"');
SELECT pg_temp.span_with('start_time', '"2026-11-30T10:00:00.1234567+00:00"');
SELECT pg_temp.span_with('end_time', '"1969-12-31T23:59:59.999999+00:00"');
SELECT pg_temp.span_with('status', '"success"');
SELECT pg_temp.err($$SELECT obs.otlp_payload('logs', jsonb_build_array(to_jsonb(l) || '{"level": "NOTICE"}')) FROM lg l$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('metrics', jsonb_build_array(to_jsonb(m) || '{"kind": "histogram"}')) FROM mt m$$);
SELECT pg_temp.err($$SELECT obs.otlp_payload('metrics', jsonb_build_array(to_jsonb(m) || '{"value": "many"}')) FROM mt m$$);
-- CloudWatch names and rows
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', '', 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', 'my group', 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', repeat('g', 513), 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', 'g', '')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', 'g', 'a:b')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', 'g', repeat('s', 513))$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', 'g', NULL)$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[]', NULL, 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('{}', 'g', 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads('[[]]', 'g', 's')$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads(jsonb_build_array(to_jsonb(l) - 'ts'), 'g', 's') FROM lg l$$);
SELECT pg_temp.err($$SELECT obs.cloudwatch_payloads(jsonb_build_array(to_jsonb(l) || '{"ts": "1960-01-01T00:00:00+00:00"}'), 'g', 's') FROM lg l$$);
