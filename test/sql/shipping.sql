-- shipping: sinks, their arguments, and the snapshot cursor (no worker here:
-- the TAP tests test/t/030_ship_es.pl, 031_ship_options.pl run the workers against receivers)
\ir test/setup.sql
SET client_min_messages = warning;
SET obs.write_path = 'transactional';

-- every bad argument has its SQLSTATE
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', 0)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', 65536)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', NULL)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('http://localhost')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', 9200, '')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', 9200, 'Logs')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', 9200, 'a,b')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', scheme => 'ftp')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', signals => '{logs,traces}')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', signals => '{}')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', min_level => 'loud')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', batch_size => 0)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', flush_interval => '1 ms')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', timeout => '2 hours')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', headers => '[1]')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', headers => '{"Authorization": "Basic eDp5"}')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', headers => '{"X-Bad Name": "v"}')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', start => 'yesterday')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', name => '')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', max_retries => -1)$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', max_retries => 1000001)$$);
-- an unknown option is no parameter of the function
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost', compression => 'zstd')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook('ftp://example.com/hook')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook('example.com/hook')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook('https://user:secret-pw@example.com/hook')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook('http:///hook')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook('https://example.com/hook', format => 'teams')$$);
SELECT pg_temp.err($$SELECT obs.setup_alert_webhook(NULL)$$);
-- OTLP
SELECT pg_temp.err($$SELECT obs.setup_otlp_export(NULL)$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('grpc://localhost:4317')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('localhost:4318')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://user:pw@localhost:4318')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318/?x=1')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', '{traces,profiles}')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', '{spans}')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', '{alerts}')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', '{}')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', NULL)$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', protobuf => NULL)$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', service_name => ' ')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', min_level => 'loud')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', batch_size => 10001)$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', headers => '{"Content-Type": "x"}')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', start => 'later')$$);
-- CloudWatch
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('', 's', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch(NULL, 's', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('my group', 's', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', '', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 'a:b', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'US-EAST-1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'useast1')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', NULL)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1', 'ftp://localhost:4566')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1', 'http://AKIA:secret@localhost:4566')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1', batch_size => 0)$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1', headers => '{"X-Amz-Security-Token": "t"}')$$);
SELECT pg_temp.err($$SELECT obs.pause_sink('nope')$$);
SELECT pg_temp.err($$SELECT obs.drop_sink('nope')$$);

-- good calls return the sink name; a duplicate name is refused
SELECT obs.setup_logging_to_elk('localhost');
SELECT obs.setup_logging_to_elk('es.internal', 9243, 'obs-%{signal}-%Y.%m.%d', scheme => 'https',
                                signals => '{logs,spans}', min_level => 'warning', gzip => true,
                                headers => '{"X-Team": "data"}', tls_verify => false, name => 'es2', max_retries => 5);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost')$$);
SELECT obs.setup_alert_webhook('https://hooks.example.com/T1/B2', format => 'slack', name => 'slack');
SELECT name, kind, signals, endpoint, config, min_level, batch_size, flush_interval_ms, gzip, headers,
       tls_verify, timeout_ms, paused, max_retries
  FROM obs.sinks ORDER BY name;
SELECT sink, signal, window_snap IS NULL AS no_window, pos_txid IS NULL AS no_pos FROM obs.sink_cursors ORDER BY 1, 2;
SELECT obs.pause_sink('slack'), obs.resume_sink('es2'), obs.drop_sink('elk_localhost_9200');
SELECT name, paused FROM obs.sinks ORDER BY name;
SELECT count(*) AS cursors_left FROM obs.sink_cursors;
SELECT obs.drop_sink('es2'), obs.drop_sink('slack');

-- OTLP and CloudWatch sinks: good calls, what they store, duplicates refused
SELECT obs.setup_otlp_export('http://localhost:4318/');
SELECT obs.setup_otlp_export('https://collector.internal:4318', '{traces,traces,metrics}', protobuf => true,
                             service_name => 'etl', gzip => true, name => 'otel');
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318', name => 'otel')$$);
SELECT obs.setup_logging_to_cloudwatch('/obs/etl', 'worker-1', 'eu-west-3');
SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1', 'http://localhost:4566', min_level => 'error', name => 'cw');
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g2', 's2', 'us-east-1', name => 'cw')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('/obs/etl', 'worker-1', 'eu-west-3')$$);
SELECT name, kind, signals, endpoint, config, min_level, batch_size, gzip, headers
  FROM obs.sinks ORDER BY name;
SELECT sink, signal FROM obs.sink_cursors ORDER BY 1, 2;
SELECT obs.drop_sink('otel'), obs.drop_sink('cw'), obs.drop_sink('cloudwatch_/obs/etl_worker-1'),
       obs.drop_sink('otlp_' || substr(md5('http://localhost:4318/'), 1, 8));

-- a non-superuser can add, pause or drop no sink, and call no cursor function
CREATE ROLE ship_user;
GRANT USAGE ON SCHEMA obs TO ship_user;
-- even EXECUTE granted does not let a non-superuser add a sink
GRANT EXECUTE ON FUNCTION obs.setup_logging_to_elk(text, integer, text, text, text[], text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer),
    obs._sink_add(text, text, text[], text, jsonb, text, integer, interval, boolean, jsonb, boolean, interval, text, integer) TO ship_user;
GRANT EXECUTE ON FUNCTION obs.setup_otlp_export(text, text[], boolean, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer),
    obs.setup_logging_to_cloudwatch(text, text, text, text, text, integer, interval, boolean, jsonb, boolean, interval, text, text, integer) TO ship_user;
SELECT obs.setup_alert_webhook('http://127.0.0.1:1/x', name => 'keep');
SET ROLE ship_user;
SELECT pg_temp.err($$SELECT obs.setup_logging_to_elk('localhost')$$);
SELECT pg_temp.err($$SELECT obs.setup_otlp_export('http://localhost:4318')$$);
SELECT pg_temp.err($$SELECT obs.setup_logging_to_cloudwatch('g', 's', 'us-east-1')$$);
SELECT pg_temp.err($$SELECT obs._sink_add('x', 'webhook', '{alerts}', 'http://h/', '{}', NULL, 1, '1s', false, '{}', true, '1s', 'now')$$);
SELECT pg_temp.err($$SELECT obs.drop_sink('keep')$$);
SELECT pg_temp.err($$SELECT obs._ship_batch('keep', 'alerts', 10)$$);
SELECT pg_temp.err($$SHOW obs.elastic_api_key$$);
SELECT pg_temp.err($$SHOW obs.aws_secret_access_key$$);
SELECT count(*) AS credential_settings_seen FROM pg_settings WHERE name ~ '^obs\.(elastic|aws|webhook)';
RESET ROLE;
SELECT obs.drop_sink('keep');
DROP OWNED BY ship_user;
DROP ROLE ship_user;

-- the cursor, driven by hand: every row once, in (txid, key) order
-- (paused: a ship worker, if obs is preloaded, leaves paused sinks alone)
SELECT obs.setup_logging_to_elk('localhost', batch_size => 3, name => 'c'), obs.pause_sink('c');
SELECT obs.info('a' || g) FROM generate_series(1, 4) g;   -- one transaction
SELECT obs.info('b');
SELECT obs.debug('hidden');
CREATE FUNCTION pg_temp.take(n int) RETURNS TABLE (key bigint, message text, window_done boolean) LANGUAGE plpgsql AS $$
DECLARE r record; k int := 0; last_txid xid8; last_key bigint; msgs text[] := '{}'; keys bigint[] := '{}';
BEGIN
    FOR r IN SELECT * FROM obs._ship_batch('c', 'logs', n) LOOP
        k := k + 1; last_txid := r.txid; last_key := r.key;
        keys := keys || r.key; msgs := msgs || (r.doc ->> 'message');
    END LOOP;
    IF k > 0 THEN
        PERFORM obs._ship_ack('c', 'logs', k, last_txid, last_key, 0, k < n, 0);
    END IF;
    RETURN QUERY SELECT u.key, u.msg, k < n FROM unnest(keys, msgs) u(key, msg);
END $$;
SELECT * FROM pg_temp.take(3);
SELECT lag_rows FROM obs.sink_stats WHERE sink = 'c';
SELECT * FROM pg_temp.take(3);
SELECT * FROM pg_temp.take(3);
SELECT rows_shipped, batches_shipped, lag_rows, lag_seconds FROM obs.sink_stats WHERE sink = 'c';
SELECT obs.info('late');
SELECT lag_rows, lag_seconds > 0 AS lag_positive FROM obs.sink_stats WHERE sink = 'c';
SELECT * FROM pg_temp.take(3);
-- a window whose last batch was exactly full closes on the next, empty one
SELECT obs.info('x' || g) FROM generate_series(1, 3) g;
SELECT * FROM pg_temp.take(3);
SELECT * FROM pg_temp.take(3);
SELECT obs.info('after exact');
SELECT * FROM pg_temp.take(3);
-- min_level: only warnings and up reach a sink that asks for them
SELECT obs.setup_logging_to_elk('localhost', min_level => 'warning', name => 'w', start => 'all'), obs.pause_sink('w');
SELECT doc ->> 'message' AS message FROM obs._ship_batch('w', 'logs', 100) ORDER BY 1;
SELECT obs.warning('w1');
SELECT doc ->> 'message' AS message FROM obs._ship_batch('w', 'logs', 100) ORDER BY 1;

-- metric points have no key: an offset inside the transaction
SELECT obs.setup_logging_to_elk('localhost', signals => '{metrics}', batch_size => 2, name => 'm'), obs.pause_sink('m');
SELECT obs.record_metric('ship_m', g) FROM generate_series(1, 5) g;
CREATE FUNCTION pg_temp.take_m(n int) RETURNS TABLE (value float8) LANGUAGE plpgsql AS $$
DECLARE r record; k int := 0; off bigint; t xid8; vals float8[] := '{}';
BEGIN
    SELECT pos_txid, pos_off INTO t, off FROM obs.sink_cursors WHERE sink = 'm';
    FOR r IN SELECT * FROM obs._ship_batch('m', 'metrics', n) LOOP
        off := CASE WHEN r.txid = t THEN off + 1 ELSE 1 END;
        t := r.txid; k := k + 1; vals := vals || (r.doc ->> 'value')::float8;
    END LOOP;
    IF k > 0 THEN PERFORM obs._ship_ack('m', 'metrics', k, t, NULL, off, k < n, 0); END IF;
    RETURN QUERY SELECT unnest(vals);
END $$;
SELECT * FROM pg_temp.take_m(2);
SELECT lag_rows FROM obs.sink_stats WHERE sink = 'm';
SELECT * FROM pg_temp.take_m(2);
SELECT * FROM pg_temp.take_m(2);
SELECT * FROM pg_temp.take_m(2);
SELECT lag_rows FROM obs.sink_stats WHERE sink = 'm';

-- the txid column: the inserting transaction, on the C and the SQL paths
BEGIN;
SELECT obs.info('tx');
SELECT obs.record_metric('ship_tx', 1);
SELECT (SELECT txid FROM obs.logs WHERE message = 'tx') = pg_current_xact_id() AS log_txid,
       (SELECT p.txid FROM obs.metric_points p JOIN obs.metric_series s USING (series_id)
         WHERE s.name = 'ship_tx') = pg_current_xact_id() AS point_txid;
COMMIT;

-- dead letters and failures are counted in sink_stats
SELECT obs._ship_dead_letter('c', 'logs', 400, 'mapper_parsing_exception', '{"index":{}}', '{17}');
SELECT obs._ship_failed('c', 'logs', 'HTTP 503: busy', true);
SELECT dead_letters, failures, retries, last_error FROM obs.sink_stats WHERE sink = 'c';
SELECT sink, signal, status, response, row_ids FROM obs.ship_dead_letters;

-- export_jaeger: a file the Jaeger UI opens, written by the privileged only
SELECT obs.start_span('ship-op', 'PIPELINE') AS sp \gset
SELECT obs.finish_span(:'sp') IS NOT NULL AS finished;
SELECT obs.export_jaeger('/tmp/obs_ship_jaeger_' || pg_backend_pid()) AS jpath \gset
SELECT :'jpath' ~ '/traces_\d{8}T\d{6}\.\d{6}Z\.json$' AS named,
       (pg_read_file(:'jpath')::jsonb -> 'data' -> 0 -> 'spans' -> 0 ->> 'operationName') AS operation,
       pg_read_file(:'jpath')::jsonb = obs.jaeger_json() AS same_as_jaeger_json;
SELECT pg_temp.err($$SELECT obs.export_jaeger('relative/dir')$$);
SELECT regexp_replace(pg_temp.err(format($$SELECT obs.export_jaeger(%L)$$, :'jpath')), '_\d+/traces_.*json', '_PID/traces_X.json');
CREATE ROLE ship_reader;
GRANT USAGE ON SCHEMA obs TO ship_reader;
GRANT EXECUTE ON FUNCTION obs.export_jaeger(text) TO ship_reader;
SET ROLE ship_reader;
SELECT pg_temp.err($$SELECT obs.export_jaeger('/tmp')$$);
RESET ROLE;
DROP OWNED BY ship_reader;
DROP ROLE ship_reader;

-- a batch is a walk of the (txid, key) index from the cursor's position,
-- whatever the statistics say: a table never analyzed looks tiny to the
-- planner, which would read (and sort) the whole window for every batch
SELECT obs.setup_logging_to_elk('localhost', batch_size => 10, name => 'idx', start => 'all'), obs.pause_sink('idx');
INSERT INTO obs.logs (ts, level, logger, message, backend_pid)
SELECT '2024-01-01', 'INFO', 'bulk', 'bulk ' || g, 1 FROM generate_series(1, 5000) g;
CREATE FUNCTION pg_temp.txid_idx_reads() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(idx_tup_read)::bigint FROM pg_stat_user_indexes
     WHERE schemaname = 'obs' AND indexrelname ~ '^logs.*_txid_idx$' $$;
SELECT pg_stat_force_next_flush();
SELECT pg_temp.txid_idx_reads() AS reads0 \gset
SELECT count(*) AS batch FROM obs._ship_batch('idx', 'logs', 10);
SELECT pg_stat_force_next_flush();
SELECT pg_temp.txid_idx_reads() - :reads0 < 100 AS index_walk;
SELECT obs.drop_sink('idx');

-- obs._ship_row_json(): byte for byte row_to_json(), on every kind of column
CREATE TYPE ship_comp AS (a int, b text);
CREATE DOMAIN ship_dom AS jsonb;
CREATE TYPE ship_mood AS ENUM ('calm');
CREATE FUNCTION ship_mood_json(ship_mood) RETURNS json LANGUAGE sql IMMUTABLE
    AS $$ SELECT json_build_object('mood', $1::text) $$;
CREATE CAST (ship_mood AS json) WITH FUNCTION ship_mood_json(ship_mood);
CREATE TABLE ship_types (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n numeric, d date,
    ts timestamp, tz timestamptz, j json, jb jsonb, arr int[], tarr text[], c ship_comp, carr ship_comp[],
    dm ship_dom, mood ship_mood, t text, x xid8, lvl obs.log_level, tid obs.trace_id, iv interval,
    by bytea, pt point, dropped int, "quo""ted" text);
ALTER TABLE ship_types DROP COLUMN dropped;
INSERT INTO ship_types VALUES (true, 1, -2, 9223372036854775807, 1.5, 'NaN', 1e40, '2024-02-29',
    '2024-01-01 12:00:00.123456', '2024-06-01 00:00:00+02', '{"a" : [1, 2]}', '{"b": {"c": null}}', '{1,NULL,3}',
    '{"x\"y", "é"}', ROW(1, 'q"'), ARRAY[ROW(2, 'r')::ship_comp], '{"d": [true]}', 'calm',
    E'tab\there "quote" \\ back \u0001 nl\n', '123', 'ERROR', '0123456789abcdef0123456789abcdef', '1 day',
    '\x00ff', '(1,2)', 'last');
INSERT INTO ship_types (f8, f4, n, ts, tz, d) VALUES ('Infinity', '-Infinity', 'NaN', '-infinity', 'infinity', 'infinity');
INSERT INTO ship_types DEFAULT VALUES;
SELECT obs._ship_row_json(r)::text = row_to_json(r)::text AS same, obs._ship_row_json(r)
  FROM ship_types r ORDER BY b, f8;
SELECT obs._ship_row_json(m)::text = row_to_json(m)::text AS same_subquery_row
  FROM (SELECT 1 AS a, 'x' AS b, '{1}'::int[] AS c) m;
SELECT count(*) >= 5000 AS many_rows, bool_and(obs._ship_row_json(l)::text = row_to_json(l)::text) AS logs_same FROM obs.logs l;
DROP TABLE ship_types;
DROP CAST (ship_mood AS json);
DROP FUNCTION ship_mood_json(ship_mood);
DROP TYPE ship_mood;
DROP DOMAIN ship_dom;
DROP TYPE ship_comp;
