-- issue 10, item 5: error_rate_by_service, throughput() / throughput_per_minute
-- and log_volume() / log_volume_per_minute answered from rollups of spans and
-- logs kept by ticks (run_maintenance(), refresh_rollups()), plus the tail
-- not yet ticked.  On random data, through every write path (the C writers,
-- SQL INSERT, COPY FROM parquet, rows carrying an older txid, UPDATE, DELETE,
-- purge(), retention drops with bounds on and off the minute, TRUNCATE), the
-- figures must equal a direct aggregate of the tables.
\ir test/setup.sql
SET timezone = 'UTC';
SELECT setseed(0.42);

-- the figures as 0.1.0 computed them, straight from the tables
CREATE FUNCTION direct_throughput(since timestamptz, until timestamptz, bucket interval)
RETURNS TABLE(time_bucket timestamptz, service_name text, spans bigint, errors bigint)
LANGUAGE sql AS $$
    SELECT date_bin(bucket, s.start_time, '2000-01-01 00:00:00+00'), s.service_name, count(*),
           count(*) FILTER (WHERE s.status = 'error')
      FROM obs.spans s
     WHERE s.start_time >= COALESCE(since, '-infinity') AND s.start_time < COALESCE(until, 'infinity')
     GROUP BY 1, 2
$$;
CREATE FUNCTION direct_log_volume(since timestamptz, until timestamptz, bucket interval)
RETURNS TABLE(time_bucket timestamptz, level obs.log_level, records bigint)
LANGUAGE sql AS $$
    SELECT date_bin(bucket, l.ts, '2000-01-01 00:00:00+00'), l.level, count(*)
      FROM obs.logs l
     WHERE l.ts >= COALESCE(since, '-infinity') AND l.ts < COALESCE(until, 'infinity')
     GROUP BY 1, 2
$$;
CREATE VIEW direct_error_rate AS
    SELECT s.service_name, s.service_type, count(*) AS spans,
           count(*) FILTER (WHERE s.status = 'error') AS errors,
           count(*) FILTER (WHERE s.status = 'error')::double precision / count(*) AS error_rate
      FROM obs.spans s WHERE s.start_time < 'infinity' GROUP BY 1, 2;

-- rows by which the rolled-up figures differ from the direct ones (0: equal)
CREATE FUNCTION differences() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    r record;
    n bigint := 0;
    d bigint;
BEGIN
    FOR r IN SELECT * FROM (VALUES
            (NULL::timestamptz, NULL::timestamptz, interval '1 minute'),
            ('2026-03-01 10:00', '2026-03-03 07:31', interval '1 minute'),
            ('2026-03-01 10:00', NULL, interval '15 minutes'),
            (NULL, '2026-03-02 12:00', interval '1 day'),
            ('2026-03-01 10:00:30', '2026-03-03', interval '1 minute'),   -- off the minute
            (NULL, NULL, interval '90 seconds')) v(since, until, bucket)
    LOOP
        SELECT count(*) INTO d FROM ((SELECT * FROM obs.throughput(r.since, r.until, r.bucket)
                                      EXCEPT ALL SELECT * FROM direct_throughput(r.since, r.until, r.bucket))
                                     UNION ALL
                                     (SELECT * FROM direct_throughput(r.since, r.until, r.bucket)
                                      EXCEPT ALL SELECT * FROM obs.throughput(r.since, r.until, r.bucket))) x;
        n := n + d;
        SELECT count(*) INTO d FROM ((SELECT * FROM obs.log_volume(r.since, r.until, r.bucket)
                                      EXCEPT ALL SELECT * FROM direct_log_volume(r.since, r.until, r.bucket))
                                     UNION ALL
                                     (SELECT * FROM direct_log_volume(r.since, r.until, r.bucket)
                                      EXCEPT ALL SELECT * FROM obs.log_volume(r.since, r.until, r.bucket))) x;
        n := n + d;
    END LOOP;
    SELECT count(*) INTO d FROM ((SELECT * FROM obs.error_rate_by_service EXCEPT ALL SELECT * FROM direct_error_rate)
                                 UNION ALL
                                 (SELECT * FROM direct_error_rate EXCEPT ALL SELECT * FROM obs.error_rate_by_service)) x;
    n := n + d;
    SELECT count(*) INTO d FROM ((SELECT minute, service_name, spans, errors FROM obs.throughput_per_minute
                                  EXCEPT ALL SELECT * FROM direct_throughput(NULL, NULL, '1 minute'))
                                 UNION ALL
                                 (SELECT * FROM direct_throughput(NULL, NULL, '1 minute')
                                  EXCEPT ALL SELECT minute, service_name, spans, errors FROM obs.throughput_per_minute)) x;
    n := n + d;
    SELECT count(*) INTO d FROM ((SELECT minute, level, records FROM obs.log_volume_per_minute
                                  EXCEPT ALL SELECT * FROM direct_log_volume(NULL, NULL, '1 minute'))
                                 UNION ALL
                                 (SELECT * FROM direct_log_volume(NULL, NULL, '1 minute')
                                  EXCEPT ALL SELECT minute, level, records FROM obs.log_volume_per_minute)) x;
    RETURN n + d;
END
$$;

-- random spans and logs through the C writers, over three days of March 2026
CREATE FUNCTION write_random(n integer) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t timestamptz;
BEGIN
    FOR i IN 1 .. n LOOP
        t := '2026-03-01'::timestamptz + random() * interval '3 days';
        PERFORM obs.record_span(obs.new_trace_id(), obs.new_span_id(), NULL, 'op', (ARRAY['api', 'database'])[1 + floor(random() * 2)::int], t,
                                t + random() * interval '1 second',
                                (ARRAY['ok', 'error', 'unset'])[1 + floor(random() * 3)::int], NULL, NULL,
                                'svc-' || floor(random() * 4)::int);
        PERFORM obs.log((ARRAY['INFO', 'WARNING', 'ERROR'])[1 + floor(random() * 3)::int], 'm', ts => t);
    END LOOP;
END
$$;

SELECT write_random(3000);
-- not built yet: the figures read the tables
SELECT snap IS NULL AS not_built FROM obs.rollup_state;
SELECT differences() AS before_first_tick;

-- partitions for March 1-3 (rows moved out of the default partition), then the first tick builds the rollups
SELECT obs.set_partitioning('spans', '1 day', 0);
SELECT action, count(*) FROM obs.run_maintenance('2026-03-01 12:00') WHERE signal IN ('logs', 'spans') GROUP BY 1 ORDER BY 1;
SELECT signal, snap IS NOT NULL AS built FROM obs.rollup_state ORDER BY 1;
SELECT (SELECT sum(spans) FROM obs.span_rollup WHERE all_time) = (SELECT count(*) FROM obs.spans) AS spans_all_rolled,
       (SELECT sum(records) FROM obs.log_rollup) = (SELECT count(*) FROM obs.logs) AS logs_all_rolled;
SELECT differences() AS after_first_tick;

-- the figures do read the rollups: a rollup row changed by hand shows, a rebuild repairs it
UPDATE obs.span_rollup SET spans = spans + 7 WHERE all_time AND service_name = 'svc-1';
SELECT differences() > 0 AS changed_rollup_shows;
SELECT * FROM obs.refresh_rollups(rebuild => true) WHERE rollup_rows < 1;
SELECT differences() AS after_rebuild;

-- the tail: rows written since the tick are counted without a tick
SELECT write_random(500);
SELECT differences() AS with_tail;
SELECT count(*) > 0 AS tick_added FROM obs.refresh_rollups() WHERE rollup_rows > 0;
SELECT differences() AS after_second_tick;

-- a tick inside a transaction that writes before and after it
BEGIN;
SELECT write_random(50);
SELECT count(*) FROM obs.refresh_rollups();
SELECT write_random(50);
SELECT differences() AS inside_transaction;
COMMIT;
SELECT differences() AS after_commit;
SELECT count(*) FROM obs.refresh_rollups();
SELECT differences() AS tick_after_commit;
-- a rolled-back transaction leaves nothing behind
BEGIN;
SELECT write_random(50);
SELECT count(*) FROM obs.refresh_rollups();
ROLLBACK;
SELECT differences() AS after_rollback;

-- SQL INSERT with the writer's txid (the tail), and copies of rolled rows carrying their older txid (the trigger)
INSERT INTO obs.spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time,
                       duration_us, status)
SELECT obs.new_trace_id(), obs.new_span_id(), 'sql', 'API', 'svc-sql', '2026-03-02 05:00'::timestamptz + i * interval '7 seconds',
       '2026-03-02 05:00'::timestamptz + i * interval '7 seconds', 0, 'error'
  FROM generate_series(1, 40) i;
INSERT INTO obs.spans (trace_id, span_id, operation, service_type, service_name, start_time, end_time,
                       duration_us, status, txid)
SELECT obs.new_trace_id(), obs.new_span_id(), 'copy', s.service_type, s.service_name, s.start_time, s.end_time,
       s.duration_us, s.status, s.txid
  FROM obs.spans s WHERE s.service_name = 'svc-2' AND s.operation = 'op' LIMIT 100;
INSERT INTO obs.logs (ts, level, logger, message, backend_pid, txid)
SELECT l.ts, l.level, 'copy', l.message, 1, l.txid FROM obs.logs l WHERE l.level = 'WARNING' LIMIT 100;
SELECT differences() AS after_sql_inserts;

-- UPDATE and DELETE through the parent
UPDATE obs.spans SET status = 'error' WHERE status = 'ok' AND service_name = 'svc-0' AND start_time < '2026-03-02';
UPDATE obs.spans SET start_time = start_time + interval '1 hour', end_time = end_time + interval '1 hour'
 WHERE service_name = 'svc-3' AND start_time < '2026-03-01 06:00';
UPDATE obs.logs SET level = 'CRITICAL' WHERE level = 'ERROR' AND ts < '2026-03-01 12:00';
DELETE FROM obs.spans WHERE service_name = 'svc-1' AND start_time >= '2026-03-02 12:00';
DELETE FROM obs.logs WHERE level = 'INFO' AND ts >= '2026-03-03';
SELECT differences() AS after_update_delete;
SELECT count(*) FROM obs.refresh_rollups();
SELECT differences() AS after_update_delete_tick;

-- COPY FROM parquet (obs.restore_archive's path) of rows carrying their older txid
COPY (SELECT * FROM obs.logs WHERE ts < '2026-03-01 08:00') TO '/tmp/obs_signal_rollups_logs.parquet' (FORMAT parquet);
DELETE FROM obs.logs WHERE ts < '2026-03-01 08:00';
SELECT differences() AS after_delete_for_copy;
COPY obs.logs FROM '/tmp/obs_signal_rollups_logs.parquet' (FORMAT parquet);
SELECT differences() AS after_copy_from_parquet;

-- retention: purge() drops the partitions wholly older than its cutoff and deletes the rest
SELECT table_name, deleted > 0 AS some FROM obs.purge(now() - '2026-03-02 08:17'::timestamptz)
 WHERE table_name IN ('logs', 'spans') ORDER BY 1;
SELECT differences() AS after_purge;
SELECT count(*) FROM obs.refresh_rollups();
SELECT differences() AS after_purge_tick;

-- partitions whose bounds are not on a minute (1 hour 30 seconds), then dropped by retention
SELECT write_random(1500);
SELECT obs.set_partitioning('spans', '1 hour 30 seconds', 0);
SELECT obs.set_partitioning('logs', '1 hour 30 seconds', 0);
SELECT count(*) > 0 AS made FROM obs.run_maintenance('2026-03-03 12:00') WHERE action = 'created';
SELECT count(*) > 0 AS off_minute FROM obs.partitions()
 WHERE signal = 'spans' AND obs._minute(lower_bound) <> lower_bound;
SELECT differences() AS off_minute_partitions;
SELECT obs.set_retention('spans', '1 day');
SELECT obs.set_retention('logs', '1 day');
-- run_maintenance() ticks before any drop: a tick (the first one reads a
-- whole table) never runs while a drop holds its parent's ACCESS EXCLUSIVE
-- lock, which blocks that signal's writers until the end of the run
CREATE TABLE tick_locks (signal text, parents_locked text);
CREATE FUNCTION note_tick_locks() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.tick_locks
    SELECT NEW.signal, coalesce(string_agg(l.relation::regclass::text, ',' ORDER BY l.relation::regclass::text), 'none')
      FROM pg_locks l
     WHERE l.pid = pg_backend_pid() AND l.mode = 'AccessExclusiveLock'
       AND l.relation IN ('obs.logs'::regclass, 'obs.spans'::regclass);
    RETURN NEW;
END $$;
CREATE TRIGGER note_tick_locks BEFORE UPDATE ON obs.rollup_state
    FOR EACH ROW WHEN (OLD.ticked_at IS DISTINCT FROM NEW.ticked_at) EXECUTE FUNCTION note_tick_locks();
SELECT signal, action, count(*) > 0 AS some FROM obs.run_maintenance('2026-03-04 04:05')
 WHERE signal IN ('logs', 'spans') AND action = 'dropped' GROUP BY 1, 2 ORDER BY 1;
SELECT * FROM tick_locks ORDER BY 1;
DROP TRIGGER note_tick_locks ON obs.rollup_state;
DROP FUNCTION note_tick_locks();
DROP TABLE tick_locks;
SELECT differences() AS after_retention;

-- TRUNCATE empties them; the next rows count again
TRUNCATE obs.spans;
SELECT count(*) AS span_rollup_rows FROM obs.span_rollup;
SELECT write_random(200);
SELECT differences() AS after_truncate;
SELECT count(*) FROM obs.refresh_rollups();
SELECT differences() AS after_truncate_tick;

-- row-level security on spans: a role it applies to never reads the rollups
CREATE ROLE rollup_reader;
SELECT obs.grant_reader('rollup_reader');
ALTER TABLE obs.spans ENABLE ROW LEVEL SECURITY;
CREATE POLICY only_svc0 ON obs.spans TO rollup_reader USING (service_name = 'svc-0');
SET ROLE rollup_reader;
SELECT obs._rollup_snapshot('spans') IS NULL AS rls_reads_table,
       (SELECT count(*) FROM obs.error_rate_by_service) AS services,
       (SELECT sum(spans) FROM obs.throughput_per_minute) = (SELECT count(*) FROM obs.spans) AS own_rows;
RESET ROLE;
DROP POLICY only_svc0 ON obs.spans;
ALTER TABLE obs.spans DISABLE ROW LEVEL SECURITY;
SELECT obs.revoke_reader('rollup_reader');
DROP ROLE rollup_reader;

-- a role granted only SELECT on the tables and views (not on the rollups) gets the
-- figures from the tables; one granted DELETE and UPDATE on spans and logs
-- also needs to be let change the rollups (the triggers run as the writer):
-- without it its statement fails whole, with it the rollups follow
SELECT count(*) FROM obs.refresh_rollups();
CREATE ROLE rollup_hand;
GRANT USAGE ON SCHEMA obs TO rollup_hand;
GRANT SELECT, UPDATE, DELETE ON obs.spans, obs.logs TO rollup_hand;
GRANT SELECT ON obs.error_rate_by_service, obs.throughput_per_minute, obs.log_volume_per_minute TO rollup_hand;
SET ROLE rollup_hand;
SELECT obs._rollup_snapshot('spans') IS NULL AS reads_tables;
SELECT (SELECT sum(spans) FROM obs.error_rate_by_service) = (SELECT count(*) FROM obs.spans) AS error_rate_ok,
       (SELECT sum(records) FROM obs.log_volume_per_minute) = (SELECT count(*) FROM obs.logs) AS log_volume_ok;
SELECT count(*) AS svc2_before FROM obs.spans WHERE service_name = 'svc-2' \gset
SELECT pg_temp.err($$DELETE FROM obs.spans WHERE service_name = 'svc-2'$$) AS without_rollup_privileges;
SELECT count(*) = :svc2_before AS nothing_deleted FROM obs.spans WHERE service_name = 'svc-2';
RESET ROLE;
GRANT UPDATE ON obs.rollup_state TO rollup_hand;
GRANT SELECT, INSERT, UPDATE, DELETE ON obs.span_rollup, obs.log_rollup TO rollup_hand;
SET ROLE rollup_hand;
DELETE FROM obs.spans WHERE service_name = 'svc-2';
UPDATE obs.logs SET level = 'DEBUG' WHERE level = 'WARNING';
RESET ROLE;
SELECT differences() AS after_hand_granted_changes;
REVOKE ALL ON obs.spans, obs.logs, obs.error_rate_by_service, obs.throughput_per_minute, obs.log_volume_per_minute,
              obs.rollup_state, obs.span_rollup, obs.log_rollup FROM rollup_hand;
REVOKE USAGE ON SCHEMA obs FROM rollup_hand;
DROP ROLE rollup_hand;

-- column privileges: a role granted SELECT on the columns the figures read in
-- 0.1.0 (not txid, which finds the tail) gets them from the tables, even with
-- SELECT on the rollups; granted txid too, from the rollups and the tail
CREATE ROLE rollup_cols;
GRANT USAGE ON SCHEMA obs TO rollup_cols;
GRANT SELECT (service_name, service_type, start_time, status, duration_us) ON obs.spans TO rollup_cols;
GRANT SELECT (ts, level) ON obs.logs TO rollup_cols;
GRANT SELECT ON obs.error_rate_by_service, obs.throughput_per_minute, obs.log_volume_per_minute,
                obs.span_rollup, obs.log_rollup TO rollup_cols;
SELECT write_random(100);
SET ROLE rollup_cols;
SELECT obs._rollup_snapshot('spans') IS NULL AS reads_spans, obs._rollup_snapshot('logs') IS NULL AS reads_logs;
SELECT (SELECT sum(spans) FROM obs.error_rate_by_service) = (SELECT count(*) FROM obs.spans) AS error_rate_ok,
       (SELECT sum(spans) FROM obs.throughput_per_minute) = (SELECT count(*) FROM obs.spans) AS throughput_ok,
       (SELECT sum(records) FROM obs.log_volume_per_minute) = (SELECT count(*) FROM obs.logs) AS log_volume_ok;
RESET ROLE;
GRANT SELECT (txid) ON obs.spans, obs.logs TO rollup_cols;
SET ROLE rollup_cols;
SELECT obs._rollup_snapshot('spans') IS NOT NULL AS rollups_spans, obs._rollup_snapshot('logs') IS NOT NULL AS rollups_logs;
SELECT (SELECT sum(spans) FROM obs.error_rate_by_service) = (SELECT count(*) FROM obs.spans) AS error_rate_ok,
       (SELECT sum(spans) FROM obs.throughput_per_minute) = (SELECT count(*) FROM obs.spans) AS throughput_ok,
       (SELECT sum(records) FROM obs.log_volume_per_minute) = (SELECT count(*) FROM obs.logs) AS log_volume_ok;
RESET ROLE;
SELECT differences() AS after_column_privileges;
REVOKE ALL ON obs.spans, obs.logs, obs.error_rate_by_service, obs.throughput_per_minute, obs.log_volume_per_minute,
              obs.span_rollup, obs.log_rollup FROM rollup_cols;
REVOKE USAGE ON SCHEMA obs FROM rollup_cols;
DROP ROLE rollup_cols;

-- a bounded tick (run_maintenance() ticks at most 2M rows per signal): about
-- max_rows rows at most, the rows of one transaction never split, at least
-- the first transaction's; the rest stays in the tail, and the figures exact
SELECT count(*) FROM obs.refresh_rollups();
SELECT write_random(300);
SELECT write_random(300);
SELECT write_random(300);
CREATE FUNCTION tail_rows(sig text) RETURNS bigint LANGUAGE sql AS $$
    SELECT CASE sig
           WHEN 'spans' THEN (SELECT count(*) FROM obs.spans s, obs.rollup_state r
                               WHERE r.signal = 'spans' AND NOT pg_visible_in_snapshot(s.txid, r.snap))
           ELSE (SELECT count(*) FROM obs.logs l, obs.rollup_state r
                  WHERE r.signal = 'logs' AND NOT pg_visible_in_snapshot(l.txid, r.snap)) END
$$;
SELECT tail_rows('spans') AS spans_tail, tail_rows('logs') AS logs_tail;
SELECT * FROM obs.refresh_rollups(max_rows => 100) WHERE rollup_rows IS NULL;
SELECT tail_rows('spans') AS spans_tail_after_one, tail_rows('logs') AS logs_tail_after_one;
SELECT differences() AS after_bounded_tick;
SELECT count(*) FROM obs.refresh_rollups(max_rows => 400);
SELECT tail_rows('spans') AS spans_tail_after_two, tail_rows('logs') AS logs_tail_after_two;
SELECT differences() AS after_second_bounded_tick;
-- a bounded rebuild starts from nothing and goes on where it stopped
SELECT count(*) FROM obs.refresh_rollups(rebuild => true, max_rows => 1000);
SELECT tail_rows('spans') > 0 AS rebuild_left_a_tail;
SELECT differences() AS after_bounded_rebuild;
SELECT count(*) FROM obs.refresh_rollups(max_rows => 1000000);
SELECT tail_rows('spans') AS spans_tail_at_end, tail_rows('logs') AS logs_tail_at_end;
SELECT differences() AS after_catching_up;
-- a row carrying txid 0 (restored from elsewhere) is visible in every
-- snapshot: a bounded rebuild walks the txid index from 0, not from 1
INSERT INTO obs.logs (ts, level, logger, message, backend_pid, txid)
VALUES ('2026-03-01 10:00', 'INFO', 'restored', 'txid zero', 0, '0');
SELECT differences() AS txid_zero_inserted;
SELECT count(*) FROM obs.refresh_rollups(rebuild => true, max_rows => 1000);
SELECT differences() AS txid_zero_after_bounded_rebuild;
SELECT count(*) FROM obs.refresh_rollups(max_rows => 1000000);
SELECT differences() AS txid_zero_after_catching_up;
DELETE FROM obs.logs WHERE logger = 'restored';
SELECT differences() AS txid_zero_deleted;

-- a tick outside READ COMMITTED: refused by refresh_rollups(), left to a later run by run_maintenance()
SELECT write_random(10);
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err('SELECT obs.refresh_rollups()') AS repeatable_read;
ROLLBACK;
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT pg_temp.err($$SELECT count(*) FROM obs.run_maintenance('2026-03-04 04:05')$$) AS run_maintenance_in_repeatable_read;
SELECT tail_rows('spans') > 0 AS tick_left_to_later;
COMMIT;

-- errors
SELECT obs.refresh_rollups(max_rows => 0);
SELECT obs.refresh_rollups(NULL);
SELECT * FROM obs.throughput(NULL, NULL, '0 minutes');
