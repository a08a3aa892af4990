-- COPY ... FROM ... (FORMAT parquet): round trips of every type the writer
-- writes, obs's own tables, core COPY FROM semantics, errors, privileges
\ir test/setup.sql
-- same(a, b): equal as multisets of rows (EXCEPT ALL both ways, by row text)
CREATE FUNCTION pg_temp.same(a regclass, b regclass) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE n bigint; m bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM (SELECT x::text FROM %s x EXCEPT ALL SELECT y::text FROM %s y) d', a, b) INTO n;
    EXECUTE format('SELECT count(*) FROM (SELECT y::text FROM %s y EXCEPT ALL SELECT x::text FROM %s x) d', b, a) INTO m;
    RETURN n = 0 AND m = 0;
END $$;
CREATE FUNCTION pg_temp.rows(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE q; GET DIAGNOSTICS n = ROW_COUNT; RETURN n; END $$;
-- sh(cmd): a shell command run by the server (the test runs as superuser)
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('COPY (SELECT 1 WHERE false) TO PROGRAM %L', cmd); END $$;
SELECT pg_temp.sh('rm -rf /tmp/obs_pqread_regress && mkdir -p /tmp/obs_pqread_regress/dir && chmod 777 /tmp/obs_pqread_regress');

-- every type the writer maps, NULLs, extremes and lists
CREATE TYPE pq_mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN pq_pos AS int CHECK (VALUE > 0);
CREATE TABLE pq_all (
    b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
    n1 numeric(5,2), n2 numeric(18,6), n3 numeric(38,10), nu numeric,
    t text, vc varchar(12), bp char(4), nm name, j json, jb jsonb, by bytea, u uuid,
    d date, tm time, ts timestamp, tz timestamptz, iv interval, mood pq_mood, pos pq_pos,
    tid obs.trace_id, sid obs.span_id,
    a_i2 int2[], a_i4 int4[], a_i8 int8[], a_f8 float8[], a_n numeric(10,2)[], a_t text[],
    a_tz timestamptz[], a_u uuid[], a_jb jsonb[], a_by bytea[], a_d date[], a_b bool[]);
INSERT INTO pq_all VALUES
    (true, 1, 2, 3, 1.5, 2.25, 123.45, 123456789012.123456, 1234567890123456789012345678.0123456789, 'NaN',
     E'tab\there\\ back\nnew line\rcr', 'varchar', 'ab', 'name', '{"a": 1}', '{"b": [1, 2]}', '\x00ff5c0a',
     'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '2026-11-30', '12:34:56.789', '2026-11-30 01:02:03.456789',
     '2026-11-30 01:02:03.456789+05', '1 year 2 mons 3 days 04:05:06.789', 'happy', 7,
     '0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331',
     '{1,NULL,-3}', '{2147483647}', '{-9223372036854775808}', '{1.5,NaN,-Infinity}', '{1.25,NULL}',
     '{"a","b\"c",NULL,"","{x}"," s "}', '{"2020-01-01 00:00:00+00",infinity}',
     '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', '{"{\"k\": [1, \"v\"]}",null}', '{"\\x00",NULL}',
     '{2000-02-29,-infinity}', '{t,f,NULL}'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
     NULL, NULL, NULL),
    (false, -32768, -2147483648, -9223372036854775808, 'NaN', '-Infinity', -999.99, -0.000001,
     -9999999999999999999999999999.9999999999, '-1e-30', '', '', '', '', '[]', 'null', '\x',
     '00000000-0000-0000-0000-000000000000', '-infinity', '24:00', 'infinity', '4713-01-01 00:00:00+00 BC',
     '-178000000 years', 'sad', 1, '00000000000000000000000000000001', '0000000000000001',
     '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}', '{}'),
    (true, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 1.7976931348623157e308, 0.01, 0, 0, 'Infinity',
     'ünïcödé ✓', 'x', 'abcd', repeat('n', 63), '"s"', '1.5', '\x5c', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
     '1970-01-01', '00:00', '1970-01-01', '200000-12-31 23:59:59.999999+00', '0', 'ok', 2147483647,
     'ffffffffffffffffffffffffffffffff', 'ffffffffffffffff',
     '{-1}', '{NULL}', '{NULL,NULL}', '{0,-0}', '{-0.01}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}',
     '{5874897-12-31}', '{NULL}');
-- enough rows for dictionaries, their PLAIN fallback, several pages and row groups
INSERT INTO pq_all (b, i2, i4, i8, f4, f8, n1, n2, n3, nu, t, vc, j, jb, u, d, ts, tz, mood, tid, sid, a_i4, a_t)
SELECT g % 3 = 0, (g % 100)::int2, g, g::int8 * 1000003, g / 7.0, sqrt(g), (g % 1000) / 100.0, g / 1000.0,
       g * 1.5, g / 3.0, md5(g::text), (g % 10)::text, json_build_object('g', g), jsonb_build_object('k', g % 5),
       md5(g::text)::uuid, date '2024-01-01' + g % 400, timestamp '2024-01-01' + g * interval '1 second',
       timestamptz '2024-01-01 00:00:00+00' + g * interval '1 ms', (ARRAY['sad','ok','happy'])[1 + g % 3]::pq_mood,
       lpad(to_hex(g), 32, '0')::obs.trace_id, lpad(to_hex(g), 16, '0')::obs.span_id,
       CASE WHEN g % 5 = 0 THEN NULL ELSE ARRAY[g, g + 1, NULL] END, ARRAY[md5(g::text), (g % 3)::text]
  FROM generate_series(1, 6000) g;

-- each codec, small row groups: loaded back equal
CREATE TABLE pq_back (LIKE pq_all);
SELECT c AS codec,
       pg_temp.rows(format($$COPY pq_all TO %L (FORMAT parquet, COMPRESSION %s, ROW_GROUP_SIZE 1000)$$,
                           '/tmp/obs_pqread_regress/all_' || c || '.parquet', c)) AS written,
       pg_temp.rows('TRUNCATE pq_back') AS truncated,
       pg_temp.rows(format($$COPY pq_back FROM %L WITH (FORMAT parquet)$$,
                           '/tmp/obs_pqread_regress/all_' || c || '.parquet')) AS loaded,
       pg_temp.same('pq_all', 'pq_back') AS same
  FROM unnest(ARRAY['uncompressed', 'snappy', 'gzip', 'zstd']) c ORDER BY c;
-- one row group, the format implied by the .parquet suffix
TRUNCATE pq_back;
COPY pq_all TO '/tmp/obs_pqread_regress/all.parquet';
COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet';
SELECT pg_temp.same('pq_all', 'pq_back') AS same_one_row_group;
-- an empty file
TRUNCATE pq_back;
COPY (SELECT * FROM pq_all WHERE false) TO '/tmp/obs_pqread_regress/empty.parquet';
SELECT pg_temp.rows($$COPY pq_back FROM '/tmp/obs_pqread_regress/empty.parquet'$$) AS empty_rows;
-- dictionary indices in whole bytes: values that drift along a dictionary
-- of about 1000 entries (10 bits packed), as enc_dict_bytes in test/parquet
CREATE TABLE pq_drift AS
SELECT g, 'v' || (g / 50 + ('x' || substr(md5(g::text), 1, 1))::bit(4)::int) AS drift,
       (g / 50 + ('x' || substr(md5(g::text), 2, 1))::bit(4)::int)::float8 AS fdrift
  FROM generate_series(1, 50000) g;
CREATE TABLE pq_drift_back (LIKE pq_drift);
COPY pq_drift TO '/tmp/obs_pqread_regress/drift.parquet';
COPY pq_drift_back FROM '/tmp/obs_pqread_regress/drift.parquet';
SELECT pg_temp.same('pq_drift', 'pq_drift_back') AS same_drift;

-- a column list picks columns; the others take their defaults
CREATE TABLE pq_some (i4 int, t text DEFAULT 'dflt', extra int DEFAULT 42);
SELECT pg_temp.rows($$COPY pq_some (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$) AS some_rows;
SELECT count(*) FILTER (WHERE t = 'dflt' AND extra = 42) AS defaulted, count(i4) AS i4s FROM pq_some;
-- columns in another order, a wider table, a text column taking anything
CREATE TABLE pq_wide (extra int DEFAULT 7, tz timestamptz, i8 text, i4 bigint, d timestamp, f4 float8, n2 float8, u text);
SELECT pg_temp.rows($$COPY pq_wide (u, n2, f4, d, i4, i8, tz) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$) AS wide_rows;
SELECT count(*) AS wide_equal FROM pq_wide w JOIN pq_all a ON a.i4::bigint = w.i4
 WHERE w.tz = a.tz AND w.i8 = a.i8::text AND w.d = a.d::timestamp AND w.f4 = a.f4::float8
   AND w.n2 = a.n2::float8 AND w.u = a.u::text AND w.extra = 7;

-- instants and local times across timestamp and timestamptz, as the casts convert them;
-- an obs.trace_id (FIXED_LEN_BYTE_ARRAY(16)) into bytea gives its 16 bytes
CREATE TABLE pq_cross (ts timestamptz, tz timestamp, d timestamptz, i2 numeric, f4 numeric, n1 float8, u bytea, tid bytea);
SELECT pg_temp.rows($$COPY pq_cross (ts, tz, d, i2, f4, n1, u, tid) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$) AS cross_rows;
SELECT count(*) AS cross_equal FROM pq_cross c JOIN pq_all a ON c.tz IS NOT DISTINCT FROM a.tz::timestamp
 WHERE c.ts IS NOT DISTINCT FROM a.ts::timestamptz AND c.d IS NOT DISTINCT FROM a.d::timestamptz
   AND c.i2 IS NOT DISTINCT FROM a.i2::numeric AND c.f4 IS NOT DISTINCT FROM a.f4::text::numeric
   AND c.n1 IS NOT DISTINCT FROM a.n1::float8 AND c.u IS NOT DISTINCT FROM uuid_send(a.u)
   AND c.tid IS NOT DISTINCT FROM decode(a.tid::text, 'hex');

-- a UUID's 16 bytes are an obs.trace_id's; not an obs.span_id's
CREATE TABLE pq_uid (u obs.trace_id);
COPY pq_uid (u) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet);
SELECT count(*) AS uuid_as_trace_id FROM pq_uid p JOIN pq_all a ON p.u::text = replace(a.u::text, '-', '');
CREATE TABLE pq_sid (u obs.span_id);
SELECT pg_temp.err($$COPY pq_sid (u) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);

-- core COPY FROM semantics: WHERE, triggers, constraints, partitions
CREATE TABLE pq_trig (i4 int, t text);
CREATE FUNCTION pq_trig_f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.t := upper(NEW.t); RETURN NEW; END $$;
CREATE TRIGGER pq_trig_b BEFORE INSERT ON pq_trig FOR EACH ROW EXECUTE FUNCTION pq_trig_f();
CREATE TABLE pq_stmt_count (n int);
CREATE FUNCTION pq_stmt_f() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO pq_stmt_count VALUES (1); RETURN NULL; END $$;
CREATE TRIGGER pq_trig_s AFTER INSERT ON pq_trig FOR EACH STATEMENT EXECUTE FUNCTION pq_stmt_f();
SELECT pg_temp.rows($$COPY pq_trig (i4, t) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet) WHERE i4 <= 10$$) AS where_rows;
SELECT count(*) FILTER (WHERE t = upper(t)) AS upper_rows, (SELECT count(*) FROM pq_stmt_count) AS statement_triggers FROM pq_trig;
CREATE TABLE pq_check (i4 int CHECK (i4 < 100));
SELECT pg_temp.err($$COPY pq_check (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet) WHERE i4 > 0$$);
CREATE TABLE pq_nn (i4 int, t text NOT NULL);
SELECT pg_temp.err($$COPY pq_nn (i4, t) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet) WHERE i4 > 0 OR i4 IS NULL$$);
SELECT count(*) AS nothing_loaded FROM pq_nn;
CREATE TABLE pq_part (i4 int, t text) PARTITION BY RANGE (i4);
CREATE TABLE pq_part_lo PARTITION OF pq_part FOR VALUES FROM (MINVALUE) TO (3000);
CREATE TABLE pq_part_hi PARTITION OF pq_part FOR VALUES FROM (3000) TO (MAXVALUE);
CREATE TABLE pq_part_null PARTITION OF pq_part DEFAULT;
SELECT pg_temp.rows($$COPY pq_part (i4, t) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$) AS partitioned_rows;
SELECT tableoid::regclass AS part, count(*) FROM pq_part GROUP BY 1 ORDER BY 1;
-- a domain's constraint and a varchar's length are the types' own input checks
CREATE TABLE pq_dom (i4 pq_pos);
SELECT pg_temp.err($$COPY pq_dom (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
CREATE TABLE pq_short (t varchar(3));
SELECT pg_temp.err($$COPY pq_short (t) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
CREATE TABLE pq_small (i4 int2);
SELECT pg_temp.err($$COPY pq_small (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);

-- obs's own tables: archived and restored
INSERT INTO obs.logs (ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid)
SELECT timestamptz '2026-11-30 00:00:00+00' + g * interval '1 s', (ARRAY['INFO','WARNING','ERROR']::obs.log_level[])[1 + g % 3],
       'app.' || (g % 4), 'message ' || g, jsonb_build_object('g', g), CASE WHEN g % 2 = 0 THEN '{"env": "prod"}'::jsonb END,
       CASE WHEN g % 3 = 0 THEN lpad(to_hex(g), 32, '0')::obs.trace_id END,
       CASE WHEN g % 3 = 0 THEN lpad(to_hex(g), 16, '0')::obs.span_id END, NULL, 1000 + g % 7
  FROM generate_series(1, 2000) g;
INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name, start_time, end_time,
                       duration_us, status, error, tags)
SELECT lpad(to_hex(g / 10), 32, '0')::obs.trace_id, lpad(to_hex(g), 16, '0')::obs.span_id,
       CASE WHEN g % 10 <> 0 THEN lpad(to_hex(g - g % 10), 16, '0')::obs.span_id END,
       'op' || g % 5, 'CUSTOM', 'svc', timestamptz '2026-11-30 00:00:00+00' + g * interval '1 ms',
       timestamptz '2026-11-30 00:00:00+00' + g * interval '2 ms', g * 1000, 'ok', NULL, '{"k": 1}'
  FROM generate_series(10, 1999) g;
INSERT INTO obs.metric_points SELECT g % 10, timestamptz '2026-11-30 00:00:00+00' + g * interval '1 s', g / 3.0
  FROM generate_series(1, 3000) g;
INSERT INTO obs.flow_runs (flow_run_id, flow_name, status, start_time, end_time, num_tasks, error, tags, updated_at)
SELECT 'run-' || g, 'flow' || g % 3, 'Completed', timestamptz '2026-11-30 00:00:00+00' + g * interval '1 min',
       timestamptz '2026-11-30 00:00:00+00' + g * interval '1 min' + interval '5 s', g % 4, NULL, '{}',
       timestamptz '2026-11-30 00:00:00+00'
  FROM generate_series(1, 300) g;
CREATE TEMP TABLE keep_logs AS SELECT * FROM obs.logs;
CREATE TEMP TABLE keep_spans AS SELECT * FROM obs.spans;
CREATE TEMP TABLE keep_points AS SELECT * FROM obs.metric_points;
CREATE TEMP TABLE keep_runs AS SELECT * FROM obs.flow_runs;
COPY obs.logs TO '/tmp/obs_pqread_regress/logs.parquet';
COPY obs.spans TO '/tmp/obs_pqread_regress/spans.parquet';
COPY obs.metric_points TO '/tmp/obs_pqread_regress/points.parquet';
COPY obs.flow_runs TO '/tmp/obs_pqread_regress/runs.parquet';
TRUNCATE obs.logs, obs.spans, obs.metric_points, obs.flow_runs CASCADE;
-- the generated column duration_seconds in the file is skipped, and recomputed
SELECT pg_temp.rows($$COPY obs.logs FROM '/tmp/obs_pqread_regress/logs.parquet' (FORMAT parquet)$$) AS logs,
       pg_temp.rows($$COPY obs.spans FROM '/tmp/obs_pqread_regress/spans.parquet' (FORMAT parquet)$$) AS spans,
       pg_temp.rows($$COPY obs.metric_points FROM '/tmp/obs_pqread_regress/points.parquet' (FORMAT parquet)$$) AS points,
       pg_temp.rows($$COPY obs.flow_runs FROM '/tmp/obs_pqread_regress/runs.parquet' (FORMAT parquet)$$) AS runs;
SELECT pg_temp.same('keep_logs', 'obs.logs') AS logs_same, pg_temp.same('keep_spans', 'obs.spans') AS spans_same,
       pg_temp.same('keep_points', 'obs.metric_points') AS points_same, pg_temp.same('keep_runs', 'obs.flow_runs') AS runs_same;
-- obs.restore_archive(): the table named, or read from a Hive-style path
SELECT pg_temp.sh('mkdir -p ''/tmp/obs_pqread_regress/lake/signal=logs/date=2026-11-30'' ''/tmp/obs_pqread_regress/lake/signal=metrics/date=2026-11-30'' ''/tmp/obs_pqread_regress/lake/signal=nope'' && chmod -R 777 /tmp/obs_pqread_regress/lake');
COPY keep_logs TO '/tmp/obs_pqread_regress/lake/signal=logs/date=2026-11-30/part-0.parquet';
COPY keep_points TO '/tmp/obs_pqread_regress/lake/signal=metrics/date=2026-11-30/part-0.parquet';
TRUNCATE obs.logs, obs.metric_points;
SELECT obs.restore_archive('/tmp/obs_pqread_regress/lake/signal=logs/date=2026-11-30/part-0.parquet') AS logs,
       obs.restore_archive('/tmp/obs_pqread_regress/lake/signal=metrics/date=2026-11-30/part-0.parquet') AS points;
SELECT pg_temp.same('keep_logs', 'obs.logs') AS logs_same, pg_temp.same('keep_points', 'obs.metric_points') AS points_same;
CREATE TABLE pq_restored (LIKE obs.metric_points);
SELECT obs.restore_archive('/tmp/obs_pqread_regress/lake/signal=metrics/date=2026-11-30/part-0.parquet', 'pq_restored') AS named;
SELECT pg_temp.err($$SELECT obs.restore_archive('/tmp/obs_pqread_regress/logs.parquet')$$);
SELECT pg_temp.err($$SELECT obs.restore_archive('/tmp/obs_pqread_regress/lake/signal=nope/x.parquet')$$);
SELECT pg_temp.err($$SELECT obs.restore_archive(NULL)$$);
SELECT pg_temp.err($$SELECT obs.restore_archive('/tmp/obs_pqread_regress/all.parquet', 'pq_some')$$);
-- loading the same rows twice trips the primary key, as core COPY would
SELECT pg_temp.err($$COPY obs.logs FROM '/tmp/obs_pqread_regress/logs.parquet' (FORMAT parquet)$$);

-- errors
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/missing.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/dir' (FORMAT parquet)$$);
COPY (SELECT 'this is not a Parquet file at all') TO '/tmp/obs_pqread_regress/text.csv' (FORMAT csv);
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/text.csv' (FORMAT parquet)$$);
SELECT pg_temp.sh('head -c 5 /tmp/obs_pqread_regress/all.parquet > /tmp/obs_pqread_regress/tiny.parquet');
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/tiny.parquet' (FORMAT parquet)$$);
-- the footer length says more than the file has
SELECT pg_temp.sh('f=/tmp/obs_pqread_regress/all_zstd.parquet; s=$(stat -c %s $f); head -c $((s - 8)) $f > /tmp/obs_pqread_regress/badlen.parquet; printf ''\377\377\377\177PAR1'' >> /tmp/obs_pqread_regress/badlen.parquet');
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/badlen.parquet' (FORMAT parquet)$$);
-- the data cut out, the footer kept: the column chunks point at the footer and past the end
SELECT pg_temp.sh('f=/tmp/obs_pqread_regress/all_zstd.parquet; s=$(stat -c %s $f); n=$(od -An -tu4 -j $((s - 8)) -N4 $f | tr -d '' ''); { head -c 4 $f; tail -c $((n + 8)) $f; } > /tmp/obs_pqread_regress/cut.parquet');
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/cut.parquet' (FORMAT parquet)$$);
-- every byte of the data zeroed: page headers that say nothing
SELECT pg_temp.sh('f=/tmp/obs_pqread_regress/all_zstd.parquet; s=$(stat -c %s $f); n=$(od -An -tu4 -j $((s - 8)) -N4 $f | tr -d '' ''); { head -c 4 $f; head -c $((s - n - 12)) /dev/zero; tail -c $((n + 8)) $f; } > /tmp/obs_pqread_regress/zero.parquet');
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/zero.parquet' (FORMAT parquet)$$);
SELECT count(*) AS nothing_loaded FROM pq_back;
-- types that cannot meet, names that do not match
CREATE TABLE pq_bad (ts bigint);
-- a Parquet column the table lacks, without a column list
SELECT pg_temp.err($$COPY pq_bad FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_bad (ts) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
CREATE TABLE pq_bad2 (d int, u date, b int, a_i4 int, i4 int[]);
SELECT pg_temp.err($$COPY pq_bad2 (d) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_bad2 (u) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_bad2 (b) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_bad2 (a_i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_bad2 (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
CREATE TABLE pq_nofile (nope int, i4 int);
SELECT pg_temp.err($$COPY pq_nofile (nope) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_nofile (i4, i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_nofile (missing) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
-- options
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet, HEADER true)$$);
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet, FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_back FROM PROGRAM 'cat /tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);

-- privileges: as core COPY FROM a file
CREATE ROLE regress_obs_pqread;
GRANT INSERT ON pq_back TO regress_obs_pqread;
GRANT USAGE ON SCHEMA obs TO regress_obs_pqread;
SET ROLE regress_obs_pqread;
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$SELECT obs.restore_archive('/tmp/obs_pqread_regress/all.parquet', 'pq_back')$$);
RESET ROLE;
GRANT pg_read_server_files TO regress_obs_pqread;
SET ROLE regress_obs_pqread;
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_some FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
RESET ROLE;
SELECT count(*) AS loaded_by_role FROM pq_back;
GRANT SELECT, INSERT ON pq_some TO regress_obs_pqread;
ALTER TABLE pq_some ENABLE ROW LEVEL SECURITY;
CREATE POLICY pq_some_all ON pq_some USING (true);
SET ROLE regress_obs_pqread;
SELECT pg_temp.err($$COPY pq_some (i4) FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
RESET ROLE;
BEGIN READ ONLY;
SELECT pg_temp.err($$COPY pq_back FROM '/tmp/obs_pqread_regress/all.parquet' (FORMAT parquet)$$);
ROLLBACK;

-- STDIN: psql's \copy sends the file's bytes
TRUNCATE pq_back;
\copy pq_back from '/tmp/obs_pqread_regress/all_snappy.parquet' with (format parquet)
SELECT pg_temp.same('pq_all', 'pq_back') AS same_through_stdin;
\copy pq_back from '/tmp/obs_pqread_regress/text.csv' with (format parquet)
\copy pq_bad from '/tmp/obs_pqread_regress/all.parquet' with (format parquet)
SELECT 1 AS still_connected;

DROP OWNED BY regress_obs_pqread;
DROP ROLE regress_obs_pqread;
SELECT pg_temp.sh('rm -rf /tmp/obs_pqread_regress');
