-- time partitions and retention: obs.logs, obs.spans, obs.metric_points and
-- obs.alerts are partitioned by time; obs.run_maintenance() makes partitions
-- ahead, moves rows out of the default partition and drops expired
-- partitions; every write path routes rows to their partition
\ir test/setup.sql
SET obs.write_path = 'transactional';
SET TimeZone = 'UTC';

-- the four signal tables are partitioned by their time column, the others are not
SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid) AS partkey
  FROM pg_class c
 WHERE c.relnamespace = 'obs'::regnamespace
   AND c.relname IN ('logs', 'spans', 'metric_points', 'alerts', 'flow_runs', 'task_runs', 'metric_series')
 ORDER BY 1;
-- only the parents and their default partitions belong to the extension
SELECT * FROM obs.partitions();
SELECT * FROM obs.partition_stats;

-- errors
SELECT pg_temp.err($$SELECT obs.set_retention('traces', '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_retention(NULL, '1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_retention('logs', NULL)$$);
SELECT pg_temp.err($$SELECT obs.set_retention('logs', '-1 day')$$);
SELECT pg_temp.err($$SELECT obs.set_retention('logs', '0')$$);
SELECT pg_temp.err($$SELECT obs.clear_retention('nope')$$);
SELECT pg_temp.err($$SELECT obs.set_partitioning('logs', '10 minutes')$$);
SELECT pg_temp.err($$SELECT obs.set_partitioning('logs', '1 month')$$);
SELECT pg_temp.err($$SELECT obs.set_partitioning('logs', '1 day', -1)$$);
SELECT pg_temp.err($$SELECT obs.set_partitioning('logs', NULL)$$);
SELECT pg_temp.err($$SELECT * FROM obs.run_maintenance(NULL)$$);
SELECT count(*) AS config_rows FROM obs.partition_config;

-- before any maintenance every row lands in the default partition, counted
SELECT obs.info('early', ts => '2026-11-30 08:00+00') IS NOT NULL AS stored;
SELECT obs.record_metric('part.m', 1, ts => '1999-06-01 00:00+00');
SELECT obs.record_metric('part.m', 2, ts => '2026-11-30 09:00+00');
SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL, 'early',
                       'CUSTOM', '2026-11-30 08:00+00', '2026-11-30 08:00:01+00') AS duration_us;
SELECT signal, partitions, default_rows FROM obs.partition_stats;

-- maintenance: today and 3 days ahead, the default partition's rows moved
-- into the partitions made for them; the 1999 sample is older than the
-- metrics retention, so it stays in the default partition
SELECT obs.set_retention('metrics', '30 days');
SELECT * FROM obs.run_maintenance('2026-11-30 12:00+00');
-- idempotent
SELECT * FROM obs.run_maintenance('2026-11-30 12:00+00');
SELECT * FROM obs.run_maintenance('2026-11-30 23:59:59+00');
SELECT * FROM obs.partition_stats;
-- a partition that rows were moved into is analyzed at once (reltuples is
-- -1 until a table is first analyzed); empty ones are left to autovacuum
SELECT c.relname, c.reltuples FROM pg_class c
 WHERE c.oid IN ('obs.logs_p20261130'::regclass, 'obs.spans_p20261130'::regclass,
                 'obs.metric_points_p20261130'::regclass, 'obs.spans_p20261201'::regclass)
 ORDER BY 1;
-- tables with a BRIN time index are vacuumed (which summarizes its block
-- ranges) and analyzed every 100,000 rows written
SELECT c.relname, c.reloptions FROM pg_class c
 WHERE c.oid IN ('obs.spans_default'::regclass, 'obs.spans_p20261201'::regclass,
                 'obs.metric_points_default'::regclass, 'obs.metric_points_p20261201'::regclass,
                 'obs.logs_p20261201'::regclass)
 ORDER BY 1;
SELECT tableoid::regclass AS part, message FROM obs.logs ORDER BY ts;
SELECT tableoid::regclass AS part, ts, value FROM obs.metric_points ORDER BY ts;
-- time partitions are not members of the extension; default partitions are
SELECT p.partition_name, pg_describe_object(d.classid, d.objid, 0) IS NOT NULL AS member
  FROM obs.partitions() p
  LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = p.partition_name
                       AND d.deptype = 'e'
 WHERE p.signal = 'logs'
 ORDER BY 1::text;
-- each partition has the keys and indexes of the default partition
-- (method and key too: spans' start_time index is BRIN, in every partition)
SELECT c.relname AS index_name, i.indisunique AS is_unique, i.indisprimary AS is_primary,
       regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') AS method_key
  FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
 WHERE i.indrelid IN ('obs.logs_p20261201'::regclass, 'obs.spans_p20261201'::regclass,
                      'obs.metric_points_p20261201'::regclass, 'obs.alerts_p20261201'::regclass)
 ORDER BY 1;
-- and no index of a partition differs from the default partition's
SELECT p.signal, d.method_key
  FROM obs.partitions() p
 CROSS JOIN LATERAL (SELECT i.indisunique, regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') AS method_key
                       FROM pg_index i WHERE i.indrelid = p.partition_name
                     EXCEPT
                     SELECT i.indisunique, regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '')
                       FROM pg_index i
                      WHERE i.indrelid = CASE p.signal WHEN 'logs' THEN 'obs.logs_default'::regclass
                                                       WHEN 'spans' THEN 'obs.spans_default'::regclass
                                                       WHEN 'metrics' THEN 'obs.metric_points_default'::regclass
                                                       ELSE 'obs.alerts_default'::regclass END) d;
SELECT relname, relreplident FROM pg_class
 WHERE oid IN ('obs.metric_points_p20261201'::regclass, 'obs.metric_points_default'::regclass) ORDER BY 1;

-- the transactional path routes each row to its partition
SELECT obs.info('day ' || d, ts => '2026-11-30 12:00+00'::timestamptz + d * interval '1 day') IS NOT NULL AS stored
  FROM generate_series(0, 4) d;
SELECT obs.record_metric('part.m', 10 + d, ts => '2026-11-30 12:00+00'::timestamptz + d * interval '1 day')
  FROM generate_series(0, 4) d;
SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', ('b7ad6b716920333' || d)::obs.span_id, NULL, 'day ' || d, 'CUSTOM',
                       '2026-11-30 12:00+00'::timestamptz + d * interval '1 day',
                       '2026-11-30 12:00:01+00'::timestamptz + d * interval '1 day') AS duration_us
  FROM generate_series(0, 4) d;
SELECT tableoid::regclass AS part, message FROM obs.logs WHERE message LIKE 'day %' ORDER BY ts;
SELECT tableoid::regclass AS part, value FROM obs.metric_points WHERE value >= 10 ORDER BY ts;
SELECT tableoid::regclass AS part, operation FROM obs.spans WHERE operation LIKE 'day %' ORDER BY start_time;
-- keys hold per partition, and they include the time column
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203331', NULL, 'again',
                       'CUSTOM', '2026-11-30 08:00+00', '2026-11-30 08:00:01+00')$$);
SELECT pg_temp.err($$SELECT obs.record_span('0af7651916cd43dd8448eb211c80319c', 'b7ad6b7169203332', NULL, 'again',
                       'CUSTOM', '2026-12-01 12:00+00', '2026-12-01 12:00:01+00')$$);
-- a CHECK constraint added to obs.logs holds on its partitions
ALTER TABLE obs.logs ADD CONSTRAINT no_secrets CHECK (message NOT LIKE '%password%');
SELECT split_part(pg_temp.err($$SELECT obs.info('the password is hunter2', ts => '2026-12-01 10:00+00')$$), ' [', 1) AS err;
ALTER TABLE obs.logs DROP CONSTRAINT no_secrets;

-- the buffered path (the flusher's batches) is in test/t/040_partitions.pl:
-- it needs obs in shared_preload_libraries

-- alerts stored by SQL INSERT (evaluate_alert_rules) go to their partitions
SELECT (obs.add_alert_rule('part_rule', 'part.m', 10.5, 'greater', '10 days')).rule_name;
SELECT count(*) AS new_alerts FROM obs.evaluate_alert_rules('2026-12-05 00:00+00');
SELECT tableoid::regclass AS part, value FROM obs.alerts ORDER BY observed_at;

-- a row past the partitions made (2026-12-05 12:00 is ahead of 2026-12-04)
-- goes to the default partition, and maintenance moves it when it makes
-- its partition
SELECT obs.info('ahead', ts => '2026-12-05 12:00+00') IS NOT NULL AS stored;
SELECT signal, default_rows FROM obs.partition_stats WHERE signal = 'logs';
SELECT * FROM obs.run_maintenance('2026-12-02 12:00+00') WHERE signal = 'logs';
SELECT tableoid::regclass AS part FROM obs.logs WHERE message = 'ahead';

-- retention drops exactly the partitions wholly older than as_of - keep:
-- as_of 2026-12-05 12:00, keep 2 days: the cutoff is 2026-12-03 12:00, so
-- the partitions of 11-30, 12-01 and 12-02 go and 12-03 stays
SELECT obs.set_retention('logs', '2 days');
SELECT obs.set_retention('spans', '2 days');
SELECT obs.set_retention('alerts', '2 days');
-- the alert of 12-01 acknowledged, the others not: the partition of 12-01
-- is dropped, the one of 12-02 kept
SELECT obs.acknowledge_alert(alert_id) FROM obs.alerts WHERE observed_at < '2026-12-02 00:00+00';
SELECT * FROM obs.run_maintenance('2026-12-05 12:00+00') WHERE action <> 'created';
SELECT p.signal, p.partition_name, p.lower_bound FROM obs.partitions() p
 WHERE NOT p.is_default AND p.lower_bound < '2026-12-04' ORDER BY 1, 3;
SELECT min(ts) AS oldest_log FROM obs.logs;
SELECT count(*) AS alerts_left, count(*) FILTER (WHERE acknowledged_at IS NULL) AS unacknowledged FROM obs.alerts;
-- again: nothing more to drop
SELECT * FROM obs.run_maintenance('2026-12-05 12:00+00') WHERE action <> 'kept';
SELECT obs.clear_retention('logs');
SELECT signal, retention FROM obs.partition_config ORDER BY 1;

-- a row outside every partition, without a default partition: refused as an INSERT would be
BEGIN;
ALTER TABLE obs.logs DETACH PARTITION obs.logs_default;
SELECT pg_temp.err($$SELECT obs.info('nowhere', ts => '1990-01-01 00:00+00')$$);
ROLLBACK;
-- a partition whose columns are not its parent's, in order: refused
BEGIN;
CREATE TABLE public.odd_logs (ts timestamptz NOT NULL, log_id bigint NOT NULL, level obs.log_level NOT NULL,
    logger text NOT NULL, message text NOT NULL, context jsonb, tags jsonb, trace_id obs.trace_id,
    span_id obs.span_id, error jsonb, backend_pid integer NOT NULL, txid xid8 NOT NULL);
ALTER TABLE obs.logs ATTACH PARTITION public.odd_logs FOR VALUES FROM ('1980-01-01') TO ('1981-01-01');
SELECT pg_temp.err($$SELECT obs.info('odd', ts => '1980-06-01 00:00+00')$$);
ROLLBACK;

-- purge drops whole partitions older than the cutoff and deletes only in
-- the one straddling it and in the default partition
SELECT obs.clear_retention('spans');
SELECT obs.clear_retention('alerts');
DO $$
DECLARE p regclass;
BEGIN
    FOR p IN SELECT partition_name FROM obs.partitions() WHERE signal = 'logs' AND NOT is_default LOOP
        EXECUTE format('DROP TABLE %s', p);
    END LOOP;
END $$;
TRUNCATE obs.logs;
SELECT count(*) > 0 AS made FROM obs.run_maintenance(date_trunc('day', now()) - interval '10 days');
SELECT obs.info('purge ' || d, ts => date_trunc('day', now()) - d * interval '1 day' + interval '1 hour') IS NOT NULL AS stored
  FROM generate_series(1, 10) d;
SELECT obs.info('purge stray', ts => '1970-01-01 00:00+00') IS NOT NULL AS stored;
SELECT count(*) AS log_partitions_before FROM obs.partitions() WHERE signal = 'logs' AND NOT is_default;
-- cutoff: 02:00 of the day 8 days ago: the partitions of 10 and 9 days ago
-- are dropped (a row each), the straddling day's 01:00 row and the 1970
-- stray in the default partition are deleted
SELECT table_name, deleted FROM obs.purge(interval '8 days' + (now() - date_trunc('day', now())) - interval '2 hours')
 WHERE table_name = 'logs';
SELECT count(*) AS log_partitions_after FROM obs.partitions() WHERE signal = 'logs' AND NOT is_default;
SELECT message FROM obs.logs ORDER BY ts LIMIT 1;
SELECT default_rows FROM obs.partition_stats WHERE signal = 'logs';

-- a partition made by maintenance run by another superuser (a pg_cron job's
-- role, say) belongs to the parent's owner, so that retention run by the
-- extension owner can drop it later
CREATE ROLE obs_part_other SUPERUSER;
SET ROLE obs_part_other;
SELECT count(*) > 0 AS made FROM obs.run_maintenance('2027-03-01 12:00+00');
RESET ROLE;
SELECT count(*) AS foreign_owned
  FROM obs.partitions() p
  JOIN pg_class c ON c.oid = p.partition_name
  JOIN pg_inherits i ON i.inhrelid = c.oid
  JOIN pg_class parent ON parent.oid = i.inhparent
 WHERE c.relowner <> parent.relowner;
SELECT count(*) AS by_other FROM pg_class WHERE relowner = 'obs_part_other'::regrole;
DO $$
DECLARE p regclass;
BEGIN
    FOR p IN SELECT partition_name FROM obs.partitions() WHERE NOT is_default AND upper_bound > '2027-02-27' LOOP
        EXECUTE format('DROP TABLE %s', p);
    END LOOP;
END $$;
DROP ROLE obs_part_other;
