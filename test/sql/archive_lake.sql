-- the Parquet lake: obs.set_archive() / obs.clear_archive() and their
-- errors; obs.run_maintenance() archives old partitions to a server
-- directory (Hive layout, manifest), and retention drops only partitions
-- whose file is confirmed and holds all their rows
\ir test/setup.sql
SET obs.write_path = 'transactional';
SET TimeZone = 'UTC';
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_archive_regress && mkdir -p /tmp/obs_archive_regress && touch /tmp/obs_archive_regress/a_file';

-- errors of set_archive, one per argument
SELECT pg_temp.err($$SELECT obs.set_archive(NULL, '/tmp/x', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('traces', '/tmp/x', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', NULL, '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', NULL)$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', '1 day', region => NULL)$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', '1 day', part_size_mb => NULL)$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', '1 day', tls_verify => NULL)$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 'relative/dir', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 'gs://bucket/prefix', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 'file:///tmp/x', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://Bucket_Upper/p', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/a b', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/../etc', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', E'/tmp/x\ny', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', current_setting('data_directory'), '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', current_setting('data_directory') || '/base/', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', '-1 hour')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/x', '1 day', endpoint => 'http://127.0.0.1:9000')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/p', '1 day', endpoint => 'ftp://127.0.0.1')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/p', '1 day', endpoint => 'http://127.0.0.1:9000/path')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/p', '1 day', region => 'EU West')$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/p', '1 day', part_size_mb => 4)$$);
SELECT pg_temp.err($$SELECT obs.set_archive('logs', 's3://bucket/p', '1 day', part_size_mb => 513)$$);
SELECT pg_temp.err($$SELECT obs.clear_archive(NULL)$$);
SELECT pg_temp.err($$SELECT obs.clear_archive('traces')$$);
-- nothing was stored
SELECT count(*) FROM obs.archive_config;

-- accepted forms
SELECT obs.set_archive('spans', 's3://my-bucket.example/obs/lake/', '0', endpoint => 'http://127.0.0.1:9000',
                       region => 'eu-west-3', part_size_mb => 5, tls_verify => false);
SELECT obs.set_archive('metrics', 's3://my-bucket', '2 days');
SELECT signal, location, after, endpoint, region, part_size_mb, tls_verify FROM obs.archive_config ORDER BY 1;
SELECT obs.clear_archive('spans'), obs.clear_archive('metrics'), obs.clear_archive('alerts');
SELECT count(*) FROM obs.archive_config;

-- superusers only; the internal writers too
CREATE ROLE regress_obs_archiver;
GRANT USAGE ON SCHEMA obs TO regress_obs_archiver;
GRANT EXECUTE ON FUNCTION obs.set_archive(text, text, interval, text, text, integer, boolean),
                          obs.clear_archive(text),
                          obs._archive_write(obs.archive_config, regclass, text),
                          obs._archive_put(obs.archive_config, text, text) TO regress_obs_archiver;
SET ROLE regress_obs_archiver;
SELECT pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/obs_archive_regress', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.clear_archive('logs')$$);
SELECT pg_temp.err($$SELECT obs._archive_put(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config, 'x.json', '{}')$$);
SELECT pg_temp.err($$SELECT * FROM obs._archive_write(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config, 'obs.logs_default', 'x.parquet')$$);
RESET ROLE;
-- paths outside the location are refused
SELECT pg_temp.err($$SELECT obs._archive_put(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config, '../x.json', '{}')$$);
SELECT pg_temp.err($$SELECT obs._archive_put(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config, 'a/../../x.json', '{}')$$);
SELECT pg_temp.err($$SELECT obs._archive_put(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config, '/etc/x.json', '{}')$$);
-- the cleanup after a crash only under the signal's archive lock, as the
-- run takes it (else it could remove what a running archive writes)
SELECT pg_temp.err($$SELECT obs._archive_cleanup(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config)$$);
BEGIN;
SELECT pg_try_advisory_xact_lock(1868724065, hashtext('logs')) AS locked;
SELECT obs._archive_cleanup(ROW('logs', '/tmp/obs_archive_regress', '0', NULL, 'us-east-1', 64, true, 'here')::obs.archive_config) AS removed;
COMMIT;
REVOKE ALL ON FUNCTION obs.set_archive(text, text, interval, text, text, integer, boolean),
                       obs.clear_archive(text),
                       obs._archive_write(obs.archive_config, regclass, text),
                       obs._archive_put(obs.archive_config, text, text) FROM regress_obs_archiver;
REVOKE USAGE ON SCHEMA obs FROM regress_obs_archiver;
DROP ROLE regress_obs_archiver;

-- a day of logs in each of three daily partitions, and a location that is a file
SELECT count(*) > 0 AS made FROM obs.run_maintenance('2026-11-01 12:00+00');
SELECT count(obs.info('day ' || d || ' row ' || g, ts => '2026-11-01 00:00+00'::timestamptz + d * interval '1 day' + g * interval '1 minute'))
  FROM generate_series(0, 2) d, generate_series(1, 100) g;
SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/a_file', '1 hour');
SELECT obs.set_retention('logs', '1 day');
-- the archive fails: the partitions past retention stay (not_archived)
SELECT * FROM obs.run_maintenance('2026-11-04 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT count(*) AS records FROM obs.archived_partitions;
SELECT count(*) AS logs_kept FROM obs.logs;

-- a directory that does not exist yet: made, then every old partition archived
SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/lake', '1 hour');
SELECT * FROM obs.run_maintenance('2026-11-04 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, signal, lower_bound, upper_bound, row_count, bytes > 0 AS has_bytes,
       length(sha256) AS sha_len, dropped_at IS NOT NULL AS dropped, stale
  FROM obs.archived_partitions ORDER BY lower_bound;
SELECT count(*) AS logs_left FROM obs.logs;
-- the files and the manifest (size and SHA-256 as recorded)
SELECT a.path, (pg_stat_file('/tmp/obs_archive_regress/lake/' || a.path)).size = a.bytes AS size_ok,
       encode(sha256(pg_read_binary_file('/tmp/obs_archive_regress/lake/' || a.path)), 'hex') = a.sha256 AS sha_ok
  FROM obs.archived_partitions a ORDER BY a.path;
SELECT m->>'format' AS format, m->>'version' AS version, m->>'signal' AS signal,
       jsonb_array_length(m->'files') AS files,
       (SELECT array_agg(f->>'path' || ' ' || (f->>'rows') || ' ' || (f->>'lower_bound') || ' ' || (f->>'upper_bound'))
          FROM jsonb_array_elements(m->'files') f) AS listed,
       (SELECT bool_and(f->>'sha256' = a.sha256 AND (f->>'bytes')::bigint = a.bytes)
          FROM jsonb_array_elements(m->'files') f JOIN obs.archived_partitions a ON a.path = f->>'path') AS checksums
  FROM (SELECT pg_read_file('/tmp/obs_archive_regress/lake/signal=logs/_manifest.json')::jsonb AS m) s;
-- no temporary file is left
SELECT count(*) AS temp_files
  FROM pg_ls_dir('/tmp/obs_archive_regress/lake/signal=logs') f
 WHERE f LIKE '%.tmp';
-- a rerun writes nothing again
SELECT * FROM obs.run_maintenance('2026-11-04 12:00+00') WHERE signal = 'logs' AND action <> 'created';

-- the file of a dropped partition restores its rows exactly
CREATE TEMP TABLE restored (LIKE obs.logs);
SELECT obs.restore_archive('/tmp/obs_archive_regress/lake/signal=logs/date=2026-11-01/part-0.parquet', 'restored');
SELECT count(*), min(message), max(message) FROM restored;

-- a late row in an archived partition: the partition is stale, kept, archived again, then dropped
SELECT obs.info('late row', ts => '2026-11-03 23:59+00') IS NOT NULL AS written;
SELECT * FROM obs.run_maintenance('2026-11-05 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, row_count, stale, dropped_at IS NOT NULL AS dropped FROM obs.archived_partitions ORDER BY lower_bound;
SELECT * FROM obs.run_maintenance('2026-11-05 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, row_count, stale, dropped_at IS NOT NULL AS dropped FROM obs.archived_partitions ORDER BY lower_bound;
TRUNCATE restored;
SELECT obs.restore_archive('/tmp/obs_archive_regress/lake/signal=logs/date=2026-11-03/part-0.parquet', 'restored');
SELECT count(*) FILTER (WHERE message = 'late row') AS late FROM restored;

-- clear_archive: retention drops again without a file
SELECT obs.clear_archive('logs');
SELECT count(obs.info('unarchived', ts => '2026-11-05 10:00+00'));
SELECT * FROM obs.run_maintenance('2026-11-07 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, dropped_at IS NOT NULL AS dropped FROM obs.archived_partitions ORDER BY lower_bound;
-- alerts: a partition is archived once every alert in it is acknowledged
SELECT (obs.add_alert_rule('arch_rule', 'arch.m', 10.5, 'greater', '10 days')).rule_name;
SELECT count(obs.record_metric('arch.m', 11, ts => t))
  FROM unnest(ARRAY['2026-11-05 10:00+00', '2026-11-06 10:00+00']::timestamptz[]) t;
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2026-11-07 00:00+00');
SELECT count(obs.acknowledge_alert(alert_id)) FROM obs.alerts WHERE observed_at < '2026-11-06';
SELECT obs.set_archive('alerts', '/tmp/obs_archive_regress/lake', '1 hour');
SELECT * FROM obs.run_maintenance('2026-11-07 12:00+00')
 WHERE signal = 'alerts' AND action <> 'created' AND partition_name >= 'obs.alerts_p20261105';
SELECT obs.acknowledge_alert(alert_id) FROM obs.alerts WHERE observed_at >= '2026-11-06';
SELECT * FROM obs.run_maintenance('2026-11-07 12:00+00')
 WHERE signal = 'alerts' AND action <> 'created' AND partition_name >= 'obs.alerts_p20261105';
SELECT path, row_count FROM obs.archived_partitions WHERE signal = 'alerts' AND row_count > 0 ORDER BY path;
SELECT obs.clear_archive('alerts');

-- a complete file with no record (a crash between its rename and the
-- commit of its record) is replaced at its path, never doubled by a part-1
SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/shared', '1 hour');
COPY (SELECT 1 WHERE false) TO PROGRAM 'mkdir -p "/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-08" && printf crashed > "/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-08/part-0.parquet"';
SELECT count(obs.info('shared ' || g, ts => '2026-11-08 10:00+00'::timestamptz + g * interval '1 minute'))
  FROM generate_series(1, 10) g;
SELECT * FROM obs.run_maintenance('2026-11-09 06:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, row_count FROM obs.archived_partitions WHERE location = '/tmp/obs_archive_regress/shared' ORDER BY path;
SELECT f AS files_of_the_day FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-08') f ORDER BY 1;
-- a read-only transaction (a standby's) is refused before any file is written
SELECT count(obs.info('read only', ts => '2026-11-09 10:00+00'));
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT * FROM obs.run_maintenance('2026-11-10 06:00+00')$$);
ROLLBACK;
SELECT count(*) AS written_read_only
  FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs') f WHERE f = 'date=2026-11-09';
-- an archive set in another database (the row restored from a dump of it)
-- archives nothing here until set_archive runs here
UPDATE obs.archive_config SET database_id = '1:1' WHERE signal = 'logs';
\set VERBOSITY terse
SELECT * FROM obs.run_maintenance('2026-11-10 12:00+00') WHERE signal = 'logs' AND action <> 'created';
\set VERBOSITY default
SELECT count(*) AS written_elsewhere
  FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs') f WHERE f = 'date=2026-11-09';
SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/shared', '1 hour');
SELECT * FROM obs.run_maintenance('2026-11-10 12:00+00') WHERE signal = 'logs' AND action <> 'created';
-- a directory of the lake that other users may write to is refused (they
-- could replace archived files); the partition stays until it is fixed
COPY (SELECT 1 WHERE false) TO PROGRAM 'mkdir -p "/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-10" && chmod 777 "/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-10"';
SELECT count(obs.info('open dir', ts => '2026-11-10 10:00+00'));
SELECT * FROM obs.run_maintenance('2026-11-11 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT count(*) AS files_in_open_dir
  FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-10') f;
COPY (SELECT 1 WHERE false) TO PROGRAM 'chmod 755 "/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-10"';
SELECT * FROM obs.run_maintenance('2026-11-11 12:00+00') WHERE signal = 'logs' AND action <> 'created';
-- temporary files a crashed writer left (its process gone) are removed
-- once a minute old when the archive next writes in their directory; a
-- younger one, or one whose process lives, stays
COPY (SELECT 1 WHERE false) TO PROGRAM 'cd "/tmp/obs_archive_regress/shared/signal=logs" && mkdir -p date=2026-11-11 && touch -d "-2 hours" date=2026-11-11/.obs-2147483646-1-0badf00d.tmp ._manifest.json.obs-2147483646.tmp && touch date=2026-11-11/.obs-2147483646-2-0badf00d.tmp && touch -d "-2 hours" date=2026-11-11/.obs-1-3-0badf00d.tmp';
SELECT count(obs.info('orphans', ts => '2026-11-11 10:00+00'));
SELECT * FROM obs.run_maintenance('2026-11-12 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT f AS left_behind
  FROM (SELECT f FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs/date=2026-11-11') f
        UNION ALL SELECT f FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs') f) x
 WHERE f LIKE '%.tmp' ORDER BY 1;
-- a signal at a location belongs to one database: its owner file
-- signal=<signal>/_owner.<system identifier>.<database oid>.json.  Another
-- database's there (_owner.1.1.json, planted) refuses the location at
-- set_archive (55006, naming that database); this database, with no file
-- there, takes its own owner file back; another signal there is free
COPY (SELECT '{}') TO PROGRAM 'mkdir -p "/tmp/obs_archive_regress/theirs/signal=logs" && cat > "/tmp/obs_archive_regress/theirs/signal=logs/_owner.1.1.json"';
SELECT regexp_replace(pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/theirs', '1 hour')$$),
                      'this is database -?[0-9]+:[0-9]+', 'this is database <here>') AS refused;
SELECT location FROM obs.archive_config WHERE signal = 'logs';
SELECT f AS owner_files FROM pg_ls_dir('/tmp/obs_archive_regress/theirs/signal=logs') f ORDER BY 1;
SELECT obs.set_archive('spans', '/tmp/obs_archive_regress/theirs', '1 hour');
SELECT count(*) AS spans_owner_files FROM pg_ls_dir('/tmp/obs_archive_regress/theirs/signal=spans') f
 WHERE f = '_owner.' || (pg_control_system()).system_identifier || '.'
           || (SELECT oid FROM pg_database WHERE datname = current_database()) || '.json';
SELECT obs.clear_archive('spans');
-- where this database has archived files, its owner file stays when
-- another's appears (both are refused until one is removed by hand)
COPY (SELECT '{}') TO '/tmp/obs_archive_regress/shared/signal=logs/_owner.1.1.json';
SELECT regexp_replace(pg_temp.err($$SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/shared', '1 hour')$$),
                      'this is database -?[0-9]+:[0-9]+', 'this is database <here>') AS refused;
SELECT count(*) AS owner_files FROM pg_ls_dir('/tmp/obs_archive_regress/shared/signal=logs') f WHERE f LIKE '\_owner.%.json';
-- at archive time: a location another database claimed after set_archive
-- is refused too; the partitions stay (not_archived past retention)
SELECT obs.set_archive('logs', '/tmp/obs_archive_regress/later', '1 hour');
COPY (SELECT '{}') TO '/tmp/obs_archive_regress/later/signal=logs/_owner.1.1.json';
SELECT count(obs.info('claimed ' || g, ts => '2026-11-13 10:00+00')) FROM generate_series(1, 3) g;
\set VERBOSITY terse
SELECT * FROM obs.run_maintenance('2026-11-14 12:00+00') WHERE signal = 'logs' AND action <> 'created';
\set VERBOSITY default
SELECT regexp_replace(pg_temp.err($$SELECT obs._archive_claim(c, false) FROM obs.archive_config c WHERE c.signal = 'logs'$$),
                      'this is database -?[0-9]+:[0-9]+', 'this is database <here>') AS refused_at_archive_time;
SELECT count(*) AS logs_kept FROM obs.logs WHERE ts >= '2026-11-12' AND ts < '2026-11-14';
SELECT count(*) AS records FROM obs.archived_partitions WHERE location = '/tmp/obs_archive_regress/later';
SELECT f AS written FROM pg_ls_dir('/tmp/obs_archive_regress/later/signal=logs') f ORDER BY 1;
-- the other database's owner file removed, the next run archives
COPY (SELECT 1 WHERE false) TO PROGRAM 'cat > /dev/null && rm "/tmp/obs_archive_regress/later/signal=logs/_owner.1.1.json"';
SELECT * FROM obs.run_maintenance('2026-11-14 12:00+00') WHERE signal = 'logs' AND action <> 'created';
SELECT path, row_count FROM obs.archived_partitions WHERE location = '/tmp/obs_archive_regress/later' ORDER BY path;
-- purge() dropping an archived partition records that its file is now its only copy
SELECT obs.clear_retention('logs');
SELECT count(obs.info('purged ' || g, ts => '2026-11-15 10:00+00')) FROM generate_series(1, 4) g;
SELECT * FROM obs.run_maintenance('2026-11-16 12:00+00') WHERE signal = 'logs' AND action = 'archived';
SELECT path, row_count, dropped_at IS NULL AS kept FROM obs.archived_partitions WHERE lower_bound = '2026-11-15';
SELECT obs.clear_archive('logs');
SELECT table_name, deleted >= 4 AS purged FROM obs.purge(now() - '2026-11-16'::timestamptz) WHERE table_name = 'logs';
SELECT to_regclass('obs.logs_p20261115') IS NULL AS partition_dropped;
SELECT path, dropped_at IS NOT NULL AS dropped FROM obs.archived_partitions WHERE lower_bound = '2026-11-15';
COPY (SELECT 1 WHERE false) TO PROGRAM 'rm -rf /tmp/obs_archive_regress';
