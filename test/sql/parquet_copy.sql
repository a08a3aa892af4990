-- COPY ... TO ... (FORMAT parquet): options, errors, privileges, atomic files
\ir test/setup.sql
-- rows(q): the row count a COPY reports
CREATE FUNCTION pg_temp.rows(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE q; GET DIAGNOSTICS n = ROW_COUNT; RETURN n; END $$;
-- is_parquet(path): exists, and starts and ends with the magic PAR1
CREATE FUNCTION pg_temp.is_parquet(p text) RETURNS boolean LANGUAGE sql AS $$
    SELECT coalesce(s.size >= 12 AND pg_read_binary_file(p, 0, 4) = '\x50415231'::bytea
        AND pg_read_binary_file(p, s.size - 4, 4) = '\x50415231'::bytea, false)
    FROM pg_stat_file(p, true) s $$;
CREATE FUNCTION pg_temp.exists(p text) RETURNS boolean LANGUAGE sql AS $$
    SELECT (pg_stat_file(p, true)).size IS NOT NULL $$;
-- leftover temporary files (they start with a dot)
CREATE FUNCTION pg_temp.tmp_files() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_ls_dir('/tmp/obs_parquet_regress', true, false) f WHERE f LIKE '.%' $$;

COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_parquet_regress && mkdir -p /tmp/obs_parquet_regress/ro && chmod 777 /tmp/obs_parquet_regress && chmod 555 /tmp/obs_parquet_regress/ro';

CREATE TABLE pq_t (a int, b text, c numeric(10,2), d timestamptz, e int[]);
INSERT INTO pq_t VALUES
    (1, 'one', 1.50, '2024-01-01 00:00:00+00', '{1,2}'),
    (2, NULL, NULL, NULL, NULL),
    (3, 'três', -3.25, 'infinity', '{}');

-- a table, a column list, a query; FORMAT implied by the .parquet suffix
SELECT pg_temp.rows($$COPY pq_t TO '/tmp/obs_parquet_regress/t.parquet' WITH (FORMAT parquet)$$) AS table_rows;
SELECT pg_temp.rows($$COPY pq_t (a, b) TO '/tmp/obs_parquet_regress/cols.parquet'$$) AS column_list_rows;
SELECT pg_temp.rows($$COPY (SELECT g, g::text FROM generate_series(1, 10000) g) TO '/tmp/obs_parquet_regress/q.PARQUET'$$) AS query_rows;
SELECT pg_temp.rows($$COPY (SELECT 1 WHERE false) TO '/tmp/obs_parquet_regress/empty.parquet'$$) AS empty_rows;
SELECT pg_temp.rows($$COPY (INSERT INTO pq_t VALUES (4) RETURNING a) TO '/tmp/obs_parquet_regress/returning.parquet' (FORMAT parquet)$$) AS returning_rows;
-- like core COPY, a table's own rows only; partitioned tables and views work too
CREATE TABLE pq_child () INHERITS (pq_t);
INSERT INTO pq_child (a) VALUES (100), (101);
SELECT pg_temp.rows($$COPY pq_t TO '/tmp/obs_parquet_regress/only.parquet'$$) AS parent_rows;
DROP TABLE pq_child;
CREATE TABLE pq_part (a int, b text) PARTITION BY RANGE (a);
CREATE TABLE pq_part_1 PARTITION OF pq_part FOR VALUES FROM (0) TO (10);
CREATE TABLE pq_part_2 PARTITION OF pq_part FOR VALUES FROM (10) TO (20);
INSERT INTO pq_part SELECT g, 'p' || g FROM generate_series(0, 19) g;
CREATE VIEW pq_view AS SELECT a, b FROM pq_part WHERE a % 2 = 0;
SELECT pg_temp.rows($$COPY pq_part TO '/tmp/obs_parquet_regress/part.parquet'$$) AS partitioned_rows,
       pg_temp.rows($$COPY pq_view (b) TO '/tmp/obs_parquet_regress/view.parquet'$$) AS view_rows;
DROP VIEW pq_view;
DROP TABLE pq_part;
SELECT pg_temp.is_parquet('/tmp/obs_parquet_regress/' || f) AS ok, f
  FROM unnest(ARRAY['t.parquet', 'cols.parquet', 'q.PARQUET', 'empty.parquet', 'returning.parquet']) f ORDER BY f;

-- every option, each codec
SELECT pg_temp.rows(format($$COPY (SELECT g, md5(g::text) FROM generate_series(1, 5000) g) TO %L
        WITH (FORMAT parquet, COMPRESSION %s, ROW_GROUP_SIZE 1000, ROW_GROUP_SIZE_BYTES 1048576)$$,
        '/tmp/obs_parquet_regress/codec_' || c || '.parquet', c)) AS rows, c AS codec,
       pg_temp.is_parquet('/tmp/obs_parquet_regress/codec_' || c || '.parquet') AS ok
  FROM unnest(ARRAY['zstd', 'snappy', 'gzip', 'uncompressed', 'ZSTD']) c ORDER BY c;
SELECT pg_temp.rows($$COPY (SELECT 1 AS x) TO '/tmp/obs_parquet_regress/level.parquet' (FORMAT 'Parquet', COMPRESSION zstd, COMPRESSION_LEVEL 19)$$) AS zstd_level;
SELECT pg_temp.rows($$COPY (SELECT 1 AS x) TO '/tmp/obs_parquet_regress/level.parquet' (COMPRESSION gzip, COMPRESSION_LEVEL '0')$$) AS gzip_level;

-- option errors
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (HEADER true)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (FORMAT parquet, DELIMITER ',')$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (COMPRESSION lz4)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (COMPRESSION_LEVEL 99)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (COMPRESSION gzip, COMPRESSION_LEVEL 10)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (COMPRESSION snappy, COMPRESSION_LEVEL 1)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (ROW_GROUP_SIZE 0)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (ROW_GROUP_SIZE 'many')$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (ROW_GROUP_SIZE_BYTES -1)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (ROW_GROUP_SIZE 10, ROW_GROUP_SIZE 20)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' (COMPRESSION)$$);
SELECT pg_temp.err($$COPY pq_t TO PROGRAM 'cat > /dev/null' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/x.parquet' WHERE a > 1$$);
SELECT pg_temp.err($$COPY pq_t (nope) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY pq_t (a, a) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY (SELECT) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.exists('/tmp/obs_parquet_regress/x.parquet') AS error_left_file;

-- paths
SELECT pg_temp.err($$COPY pq_t TO 'relative.parquet'$$);
SELECT pg_temp.err($$COPY pq_t TO 'relative/x.parquet' (FORMAT parquet)$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/no/such/dir/x.parquet'$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/ro/x.parquet'$$);
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress'$$ || ' (FORMAT parquet)');

-- values Parquet cannot hold
SELECT pg_temp.err($$COPY (SELECT '{{1,2},{3,4}}'::int[] AS m) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY (SELECT 'NaN'::numeric(10,2) AS n) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY (SELECT 'NaN'::numeric AS n) TO '/tmp/obs_parquet_regress/nan.parquet'$$) AS unconstrained_nan_is_text;

-- a query failing mid-export leaves neither the target nor a temporary file
SELECT pg_temp.err($$COPY (SELECT CASE WHEN g > 5000 THEN 1/0 ELSE g END FROM generate_series(1, 10000) g)
    TO '/tmp/obs_parquet_regress/fail.parquet' (FORMAT parquet, ROW_GROUP_SIZE 1000)$$);
SELECT pg_temp.exists('/tmp/obs_parquet_regress/fail.parquet') AS target_exists, pg_temp.tmp_files() AS tmp_files;
-- ... and does not touch an existing file of that name
SELECT (pg_stat_file('/tmp/obs_parquet_regress/q.PARQUET')).size AS before_size \gset
SELECT pg_temp.err($$COPY (SELECT CASE WHEN g > 5000 THEN 1/0 ELSE g END FROM generate_series(1, 10000) g)
    TO '/tmp/obs_parquet_regress/q.PARQUET' (ROW_GROUP_SIZE 1000)$$);
SELECT (pg_stat_file('/tmp/obs_parquet_regress/q.PARQUET')).size = :before_size AS old_file_intact,
       pg_temp.is_parquet('/tmp/obs_parquet_regress/q.PARQUET') AS still_parquet, pg_temp.tmp_files() AS tmp_files;

-- other COPYs are untouched: text, csv and binary, even to a .parquet name; COPY FROM
SELECT pg_temp.rows($$COPY (SELECT 1, 'a') TO '/tmp/obs_parquet_regress/plain.csv' (FORMAT csv)$$) AS csv_rows;
SELECT pg_read_file('/tmp/obs_parquet_regress/plain.csv') AS csv;
SELECT pg_temp.rows($$COPY (SELECT 1, 'a') TO '/tmp/obs_parquet_regress/csv.parquet' (FORMAT csv)$$) AS csv_named_parquet;
SELECT pg_read_file('/tmp/obs_parquet_regress/csv.parquet') AS csv;
SELECT pg_temp.rows($$COPY (SELECT 1, 'a') TO '/tmp/obs_parquet_regress/bin.parquet' WITH BINARY$$) AS binary_rows;
SELECT pg_read_binary_file('/tmp/obs_parquet_regress/bin.parquet', 0, 5) AS binary_header;
CREATE TEMP TABLE pq_in (x int, y text);
COPY pq_in FROM '/tmp/obs_parquet_regress/csv.parquet' (FORMAT csv);
SELECT * FROM pq_in;
-- COPY FROM (FORMAT parquet) is obs's reader (test/sql/parquet_read.sql): t.parquet's columns are not pq_in's
SELECT pg_temp.err($$COPY pq_in FROM '/tmp/obs_parquet_regress/t.parquet' (FORMAT parquet)$$);
COPY (SELECT 1 AS x, 'to stdout' AS y) TO STDOUT;
COPY (SELECT 1 AS x, 'to stdout' AS y) TO STDOUT (FORMAT csv, HEADER);

-- the client side: psql's \copy streams the file through COPY TO STDOUT
\copy (SELECT g, 'ü' || g AS s FROM generate_series(1, 3000) g) TO '/tmp/obs_parquet_regress/client.parquet' WITH (FORMAT parquet, COMPRESSION snappy)
SELECT pg_temp.is_parquet('/tmp/obs_parquet_regress/client.parquet') AS client_file_ok;

-- privileges: a server file needs pg_write_server_files, the rows need SELECT
CREATE ROLE regress_obs_parquet;
GRANT SELECT ON pq_t TO regress_obs_parquet;
SET ROLE regress_obs_parquet;
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/priv.parquet'$$);
SELECT pg_temp.err($$COPY (SELECT 1) TO '/tmp/obs_parquet_regress/priv.parquet' (FORMAT parquet)$$);
-- ... but STDOUT is for anyone who can read the rows
\copy pq_t TO '/tmp/obs_parquet_regress/client_role.parquet' WITH (FORMAT parquet)
RESET ROLE;
SELECT pg_temp.is_parquet('/tmp/obs_parquet_regress/client_role.parquet') AS stdout_without_file_privilege;
GRANT pg_write_server_files TO regress_obs_parquet;
SET ROLE regress_obs_parquet;
SELECT pg_temp.rows($$COPY pq_t TO '/tmp/obs_parquet_regress/priv.parquet'$$) AS with_role;
RESET ROLE;
REVOKE SELECT ON pq_t FROM regress_obs_parquet;
GRANT SELECT (a) ON pq_t TO regress_obs_parquet;
SET ROLE regress_obs_parquet;
SELECT pg_temp.err($$COPY pq_t TO '/tmp/obs_parquet_regress/priv2.parquet'$$);
SELECT pg_temp.rows($$COPY pq_t (a) TO '/tmp/obs_parquet_regress/priv2.parquet'$$) AS granted_column;
RESET ROLE;
-- row-level security applies as it does to core COPY
GRANT SELECT ON pq_t TO regress_obs_parquet;
ALTER TABLE pq_t ENABLE ROW LEVEL SECURITY;
CREATE POLICY pq_t_low ON pq_t FOR SELECT USING (a < 3);
SET ROLE regress_obs_parquet;
SELECT pg_temp.rows($$COPY pq_t TO '/tmp/obs_parquet_regress/rls.parquet'$$) AS rls_rows;
RESET ROLE;
SELECT pg_temp.exists('/tmp/obs_parquet_regress/priv.parquet') AS priv_written,
       pg_temp.exists('/tmp/obs_parquet_regress/rls.parquet') AS rls_written;

-- a column list names the relation's own columns, as in core COPY
SELECT pg_temp.err($$COPY pq_t (pq_t) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY pq_t (ctid) TO '/tmp/obs_parquet_regress/x.parquet'$$);
SELECT pg_temp.err($$COPY pq_t (nope) TO '/tmp/obs_parquet_regress/x.parquet'$$);
-- a long file name works as it does for core COPY (the temporary name is short)
SELECT pg_temp.rows(format('COPY pq_t TO %L', '/tmp/obs_parquet_regress/' || repeat('n', 240) || '.parquet')) AS long_name_rows;
-- a jsonb value of several MB, then more rows: the buffer that rendered it is shrunk safely
SELECT pg_temp.rows($$COPY (SELECT g, CASE WHEN g = 1 THEN jsonb_build_object('a', repeat('x', 9000000))
                                           ELSE jsonb_build_object('a', repeat('y', 3000)) END AS j
                           FROM generate_series(1, 6) g) TO '/tmp/obs_parquet_regress/bigjson.parquet'$$) AS big_jsonb_rows;
SELECT pg_temp.is_parquet('/tmp/obs_parquet_regress/bigjson.parquet') AS big_jsonb_ok, pg_temp.tmp_files() AS temp_files_left;

-- paths that do not fit MAXPGPATH (1024 bytes, with the temporary name beside
-- the target) are refused before anything is written (42622): cut short, the
-- temporary path remembered for removal at exit would name another file
CREATE FUNCTION pg_temp.long_dir(n int) RETURNS text LANGUAGE sql AS $$
    SELECT '/tmp/obs_parquet_regress/' || repeat(repeat('d', 199) || '/', (n - 25) / 200)
           || repeat('e', (n - 25) % 200 - 1) || '/' $$;
SELECT length(pg_temp.long_dir(984)) AS fits, length(pg_temp.long_dir(985)) AS too_long,
       length(pg_temp.long_dir(1021)) AS cut_to_dot_o;
SELECT format('mkdir -p %s %s %s', pg_temp.long_dir(984), pg_temp.long_dir(985), pg_temp.long_dir(1021)) AS mk \gset
COPY (SELECT 1 WHERE false) TO PROGRAM :'mk';
-- an innocent file where the cut-off temporary path would point
SELECT pg_temp.long_dir(1021) || '.o' AS innocent \gset
COPY (SELECT 'innocent') TO :'innocent';
SELECT pg_temp.err(format('COPY pq_t TO %L', pg_temp.long_dir(1021) || 'x.parquet'));
SELECT pg_temp.err(format('COPY pq_t TO %L (FORMAT parquet)', pg_temp.long_dir(985) || 'x.parquet'));
SELECT pg_temp.err(format('COPY pq_t TO %L', '/tmp/obs_parquet_regress/' || repeat('n', 1000) || '.parquet'));
SELECT pg_temp.rows(format('COPY pq_t TO %L', pg_temp.long_dir(984) || 't.parquet')) AS longest_dir_rows,
       pg_temp.is_parquet(pg_temp.long_dir(984) || 't.parquet') AS longest_dir_ok;
-- a save function refuses before it creates the directory
SELECT pg_temp.err(format('SELECT obs.save_logs_to_parquet(%L)', pg_temp.long_dir(985) || 'new'));
SELECT pg_temp.exists(pg_temp.long_dir(985) || 'new') AS dir_created;
-- a session terminated mid-export removes its temporary file at exit, and
-- nothing else: run the export in another session that ends itself
CREATE EXTENSION dblink;
SELECT format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
              current_setting('port'), current_database()) AS conn \gset
CREATE FUNCTION pg_temp.in_dying_session(conn text, q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE p int; r text;
BEGIN
    PERFORM dblink_connect('dying', conn);
    PERFORM dblink_exec('dying', 'LOAD ''obs''');
    SELECT pid INTO p FROM dblink('dying', 'SELECT pg_backend_pid()') AS t(pid int);
    BEGIN
        PERFORM dblink_exec('dying', q);
        r := 'no error';
    EXCEPTION WHEN OTHERS THEN
        r := CASE WHEN SQLSTATE IN ('08006', '57P01') THEN 'session terminated' ELSE SQLSTATE || ': ' || SQLERRM END;
    END;
    PERFORM dblink_disconnect('dying');
    -- its exit callbacks have run once it has left pg_stat_activity
    FOR i IN 1..600 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT FROM pg_stat_activity WHERE pid = p);
        PERFORM pg_sleep(0.05);
    END LOOP;
    RETURN r;
END $$;
SELECT pg_temp.in_dying_session(:'conn', format($$COPY (SELECT g, CASE WHEN g = 5000 THEN pg_terminate_backend(pg_backend_pid()) END
    FROM generate_series(1, 1000000) g) TO %L (FORMAT parquet, ROW_GROUP_SIZE 1000)$$, pg_temp.long_dir(1021) || 'x.parquet')) AS cut_path;
SELECT pg_temp.in_dying_session(:'conn', format($$COPY (SELECT g, CASE WHEN g = 5000 THEN pg_terminate_backend(pg_backend_pid()) END
    FROM generate_series(1, 1000000) g) TO %L (FORMAT parquet, ROW_GROUP_SIZE 1000)$$, pg_temp.long_dir(984) || 'killed.parquet')) AS fitting_path;
SELECT pg_temp.exists(pg_temp.long_dir(984) || 'killed.parquet') AS killed_target_exists,
       (SELECT count(*) FROM pg_ls_dir(pg_temp.long_dir(984)) f WHERE f LIKE '.%') AS tmp_files_left;
SELECT pg_read_file(:'innocent') AS innocent_file;
DROP EXTENSION dblink;
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_parquet_regress/dd*';

DROP TABLE pq_t;
DROP ROLE regress_obs_parquet;
