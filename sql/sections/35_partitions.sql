/* ------------------------------------------------------------------------
 * Section: time partitions and retention
 *
 * obs.logs (ts), obs.spans (start_time), obs.metric_points (ts) and
 * obs.alerts (observed_at) are range-partitioned by time (30_tables.sql).
 * obs.run_maintenance() makes the partitions ahead of time, moves rows out
 * of the default partition into the partitions it makes, and applies
 * retention by dropping whole partitions.  Time partitions are named
 * <table>_pYYYYMMDD (or _pYYYYMMDD_HH24MI when the interval is shorter than
 * a day), their bounds are multiples of the interval from Monday
 * 2000-01-03 00:00 UTC (days start at midnight UTC, weeks on Monday), and
 * they are found through pg_inherits, never by name.
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.partition_config (
    signal             text PRIMARY KEY
                       CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    partition_interval interval NOT NULL DEFAULT '1 day',
    premake            integer NOT NULL DEFAULT 3 CHECK (premake BETWEEN 0 AND 366),
    retention          interval CHECK (retention > '0'),
    CHECK (partition_interval >= '1 hour' AND partition_interval <= '366 days'
           AND pg_catalog.date_part('month', partition_interval) = 0
           AND pg_catalog.date_part('year', partition_interval) = 0)
);
COMMENT ON TABLE @extschema@.partition_config IS
$$per signal: the time partitions' width (partition_interval, default 1 day), how many partitions obs.run_maintenance() makes ahead of the current one (premake, default 3) and how long partitions are kept (retention, NULL: for ever).  A signal without a row uses the defaults.$$;
/* rows are settings a user made: dumped; an empty table means all defaults */
SELECT pg_catalog.pg_extension_config_dump('@extschema@.partition_config', '');

/* the partitioned table, its time column and its default partition, by signal */
CREATE FUNCTION @extschema@._partition_signal(signal text,
    OUT parent regclass, OUT time_column name, OUT default_partition regclass)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'signal must not be null' USING ERRCODE = '22004';
    END IF;
    CASE $1
        WHEN 'logs' THEN
            parent := '@extschema@.logs'; time_column := 'ts';
            default_partition := '@extschema@.logs_default';
        WHEN 'spans' THEN
            parent := '@extschema@.spans'; time_column := 'start_time';
            default_partition := '@extschema@.spans_default';
        WHEN 'metrics' THEN
            parent := '@extschema@.metric_points'; time_column := 'ts';
            default_partition := '@extschema@.metric_points_default';
        WHEN 'alerts' THEN
            parent := '@extschema@.alerts'; time_column := 'observed_at';
            default_partition := '@extschema@.alerts_default';
        ELSE
            RAISE EXCEPTION 'unknown signal "%"', $1
                USING ERRCODE = '22023',
                      HINT = 'The signals are logs, spans, metrics and alerts.';
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@._partition_signal(text) IS
    'internal: the partitioned table, time column and default partition of a signal (logs, spans, metrics, alerts)';

CREATE FUNCTION @extschema@.partitions()
RETURNS TABLE(signal text, partition_name regclass, lower_bound timestamptz,
              upper_bound timestamptz, is_default boolean)
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.signal, i.inhrelid::regclass, b.m[1]::timestamptz, b.m[2]::timestamptz,
           b.m IS NULL
      FROM unnest(ARRAY['logs', 'spans', 'metrics', 'alerts']) s(signal)
     CROSS JOIN LATERAL @extschema@._partition_signal(s.signal) p
      JOIN pg_catalog.pg_inherits i ON i.inhparent = p.parent
      JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (SELECT pg_catalog.regexp_match(
                             pg_catalog.pg_get_expr(c.relpartbound, c.oid),
                             '^FOR VALUES FROM \(''([^'']*)''\) TO \(''([^'']*)''\)$') AS m) b
     ORDER BY 1, b.m IS NULL, 3
$$;
COMMENT ON FUNCTION @extschema@.partitions() IS
    'the partitions of obs.logs, obs.spans, obs.metric_points and obs.alerts with their bounds [lower_bound, upper_bound); the default partition has NULL bounds';

CREATE VIEW @extschema@.partition_stats WITH (security_invoker = true) AS
    SELECT s.signal,
           (SELECT count(*) FROM @extschema@.partitions() p
             WHERE p.signal = s.signal AND NOT p.is_default) AS partitions,
           (SELECT min(p.lower_bound) FROM @extschema@.partitions() p WHERE p.signal = s.signal) AS oldest_bound,
           (SELECT max(p.upper_bound) FROM @extschema@.partitions() p WHERE p.signal = s.signal) AS newest_bound,
           s.default_rows
      FROM (SELECT 'logs' AS signal, (SELECT count(*) FROM @extschema@.logs_default) AS default_rows
            UNION ALL
            SELECT 'spans', (SELECT count(*) FROM @extschema@.spans_default)
            UNION ALL
            SELECT 'metrics', (SELECT count(*) FROM @extschema@.metric_points_default)
            UNION ALL
            SELECT 'alerts', (SELECT count(*) FROM @extschema@.alerts_default)) s;
COMMENT ON VIEW @extschema@.partition_stats IS
    'per signal: the number of time partitions, the oldest lower and newest upper bound, and the rows held by the default partition (rows outside every time partition; obs.run_maintenance() moves them when it makes their partition)';

/* keys and indexes of one new time partition: per partition, as the defaults have */
CREATE FUNCTION @extschema@._partition_prepare(signal text, part regclass)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    n text := (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = $2);
BEGIN
    CASE $1
        WHEN 'logs' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (log_id, ts)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (trace_id) WHERE trace_id IS NOT NULL', n || '_trace_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, log_id)', n || '_txid_idx', $2);
        WHEN 'spans' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (trace_id, span_id, start_time)', $2, n || '_pkey');
            EXECUTE format('CREATE INDEX %I ON %s USING brin (start_time timestamptz_minmax_multi_ops)', n || '_start_idx', $2);
            EXECUTE format('CREATE UNIQUE INDEX %I ON %s (txid, span_seq)', n || '_txid_idx', $2);
            EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0)', $2);
        WHEN 'metrics' THEN
            EXECUTE format('CREATE INDEX %I ON %s (series_id, ts)', n || '_series_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s USING brin (ts)', n || '_ts_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid)', n || '_txid_idx', $2);
            EXECUTE format('ALTER TABLE %s REPLICA IDENTITY FULL', $2);
            EXECUTE format('ALTER TABLE %s SET (autovacuum_vacuum_insert_threshold = 100000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_analyze_threshold = 100000, autovacuum_analyze_scale_factor = 0)', $2);
        WHEN 'alerts' THEN
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I PRIMARY KEY (alert_id, observed_at)', $2, n || '_pkey');
            EXECUTE format('ALTER TABLE %s ADD CONSTRAINT %I UNIQUE NULLS NOT DISTINCT '
                           '(rule_name, series_id, observed_at, value, sample_no, comparison, threshold)',
                           $2, n || '_sample_key');
            EXECUTE format('CREATE INDEX %I ON %s (created_at)', n || '_created_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (observed_at)', n || '_observed_idx', $2);
            EXECUTE format('CREATE INDEX %I ON %s (txid, alert_id)', n || '_txid_idx', $2);
    END CASE;
END
$$;
COMMENT ON FUNCTION @extschema@._partition_prepare(text, regclass) IS
    'internal: the primary key, unique keys, indexes and replica identity of a new time partition of a signal';

CREATE FUNCTION @extschema@.set_retention(signal text, keep interval)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL THEN
        RAISE EXCEPTION 'keep must not be null'
            USING ERRCODE = '22004',
                  HINT = 'To keep the partitions of a signal for ever, use obs.clear_retention(signal).';
    END IF;
    IF $2 <= '0'::interval THEN
        RAISE EXCEPTION 'keep must be positive'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $2);
    END IF;
    INSERT INTO @extschema@.partition_config AS c (signal, retention)
    VALUES ($1, $2)
    ON CONFLICT ON CONSTRAINT partition_config_pkey DO UPDATE SET retention = excluded.retention;
END
$$;
COMMENT ON FUNCTION @extschema@.set_retention(text, interval) IS
$$keep the partitions of signal (logs, spans, metrics or alerts) for keep: obs.run_maintenance() drops a partition once all of it is older than now() - keep (without a retention, the default, partitions are kept for ever: obs.clear_retention).  Alerts partitions holding an unacknowledged alert are kept.
Errors: 22004 for a NULL signal or keep, 22023 for an unknown signal or an interval that is not positive.$$;

CREATE FUNCTION @extschema@.clear_retention(signal text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    UPDATE @extschema@.partition_config c SET retention = NULL WHERE c.signal = $1;
END
$$;
COMMENT ON FUNCTION @extschema@.clear_retention(text) IS
$$keep the partitions of signal (logs, spans, metrics or alerts) for ever (the default): undo obs.set_retention().
Errors: 22004 for NULL, 22023 for an unknown signal.$$;

CREATE FUNCTION @extschema@.set_partitioning(signal text, partition_interval interval, premake integer DEFAULT 3)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL THEN
        RAISE EXCEPTION 'partition_interval and premake must not be null' USING ERRCODE = '22004';
    END IF;
    IF $2 < '1 hour'::interval OR $2 > '366 days'::interval
       OR pg_catalog.date_part('month', $2) <> 0 OR pg_catalog.date_part('year', $2) <> 0 THEN
        RAISE EXCEPTION 'partition_interval must be between 1 hour and 366 days, without months'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The interval given was %s.', $2);
    END IF;
    IF $3 < 0 OR $3 > 366 THEN
        RAISE EXCEPTION 'premake must be between 0 and 366'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $3);
    END IF;
    INSERT INTO @extschema@.partition_config AS c (signal, partition_interval, premake)
    VALUES ($1, $2, $3)
    ON CONFLICT ON CONSTRAINT partition_config_pkey
    DO UPDATE SET partition_interval = excluded.partition_interval, premake = excluded.premake;
END
$$;
COMMENT ON FUNCTION @extschema@.set_partitioning(text, interval, integer) IS
$$the width of the time partitions obs.run_maintenance() makes for signal from now on (default 1 day) and how many it makes ahead of the current one (default 3).  Existing partitions keep their bounds; a new range that would overlap one is not made (its rows go to the default partition).
Errors: 22004 for NULL, 22023 for an unknown signal, an interval outside 1 hour .. 366 days or with months, a premake outside 0 .. 366.$$;

/*
 * One time partition [lo, hi) of a signal, with the default partition's
 * rows of that range moved into it, attached.  Returns the rows moved.
 */
CREATE FUNCTION @extschema@._partition_create(signal text, lo timestamptz, hi timestamptz, OUT part regclass, OUT moved bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s record := @extschema@._partition_signal($1);
    ival interval := $3 - $2;
    n text;
BEGIN
    n := pg_catalog.format('%s_p%s', (SELECT c.relname FROM pg_catalog.pg_class c WHERE c.oid = s.parent),
                           pg_catalog.to_char($2 AT TIME ZONE 'UTC',
                                              CASE WHEN ival < '1 day' THEN 'YYYYMMDD_HH24MI' ELSE 'YYYYMMDD' END));
    EXECUTE pg_catalog.format('CREATE TABLE @extschema@.%I (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)',
                              n, s.parent);
    part := pg_catalog.format('@extschema@.%I', n)::regclass;
    /*
     * the partition belongs to the parent's owner, whoever runs the
     * maintenance (another superuser, a pg_cron job): retention, run as
     * the extension owner, can drop it later
     */
    EXECUTE pg_catalog.format('ALTER TABLE %s OWNER TO %s', part,
                              (SELECT c.relowner::regrole FROM pg_catalog.pg_class c WHERE c.oid = s.parent));
    PERFORM @extschema@._partition_prepare($1, part);
    /*
     * no row may reach the default partition between the move and ATTACH
     * (which takes this lock anyway): writers bound for other partitions
     * do not wait
     */
    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', s.default_partition);
    /* ATTACH would refuse while the default partition holds rows of the range */
    EXECUTE pg_catalog.format('WITH m AS (DELETE FROM %s d WHERE d.%I >= $1 AND d.%I < $2 RETURNING d.*) '
                              'INSERT INTO %s SELECT * FROM m',
                              s.default_partition, s.time_column, s.time_column, part)
      USING $2, $3;
    GET DIAGNOSTICS moved = ROW_COUNT;
    EXECUTE pg_catalog.format('ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%L) TO (%L)',
                              s.parent, part, $2, $3);
    /* rows moved in: statistics now, so that the planner knows them (BRIN) */
    IF moved > 0 THEN
        EXECUTE pg_catalog.format('ANALYZE %s', part);
    END IF;
END
$$;
COMMENT ON FUNCTION @extschema@._partition_create(text, timestamptz, timestamptz) IS
    'internal: make the time partition [lo, hi) of a signal, move the default partition''s rows of that range into it, attach it';

CREATE FUNCTION @extschema@.run_maintenance(as_of timestamptz DEFAULT pg_catalog.now())
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
SET lock_timeout = '500ms' AS $$
DECLARE
    sig text;
    s record;
    cfg record;
    origin constant timestamptz := '2000-01-03 00:00:00+00';
    cur timestamptz;
    lo timestamptz;
    made integer;
    p record;
    c record;
    cutoff timestamptz;
    n bigint;
    acts text[];
    parts text[];
    cnts bigint[];
    archived boolean;
    arow record;
    doomed regclass[];
    doomed_lo timestamptz[];
    doomed_hi timestamptz[];
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'as_of must not be null' USING ERRCODE = '22004';
    END IF;
    /*
     * the archive first (36_archive.sql): it reads old partitions only
     * (ACCESS SHARE), so no writer waits during an upload; the drops
     * below take their locks after it
     */
    RETURN QUERY SELECT * FROM @extschema@._archive_run($1);
    /*
     * the rollups of logs and spans next, before any signal's drops and
     * partitions: a tick (the first one reads the whole table) then runs
     * while this run holds no lock that blocks writers, such as the ACCESS
     * EXCLUSIVE lock a drop takes on its parent until the end of the run.
     * A tick that waits for a writer holding the rollup state (a DELETE not
     * yet committed) is left to the next run: the figures stay exact
     * meanwhile, with a longer tail
     */
    FOREACH sig IN ARRAY ARRAY['logs', 'spans'] LOOP
        BEGIN
            /* at most 2M rows per signal and run: a first build takes several runs */
            n := @extschema@._rollup_tick(sig, false, 2000000);
        EXCEPTION WHEN lock_not_available OR invalid_transaction_state THEN
            /* the tick is left to a later run (READ COMMITTED, the state row free) */
            NULL;
        END;
    END LOOP;
    FOREACH sig IN ARRAY ARRAY['logs', 'spans', 'metrics', 'alerts'] LOOP
        s := @extschema@._partition_signal(sig);
        SELECT coalesce(pc.partition_interval, '1 day') AS ival, coalesce(pc.premake, 3) AS premake,
               pc.retention
          INTO cfg
          FROM (SELECT 1) one
          LEFT JOIN @extschema@.partition_config pc ON pc.signal = sig;
        signal := sig;
        acts := '{}'; parts := '{}'; cnts := '{}';
        /*
         * one signal at a time: a lock not had in lock_timeout skips this
         * signal until the next run.  lock_timeout (500 ms) is shorter than
         * the default deadlock_timeout (1 s): should a writer wait for a
         * lock this run holds while this run waits for the writer, this run
         * gives up first, and the writer is never chosen as the victim.
         */
        BEGIN
            cutoff := CASE WHEN cfg.retention IS NULL THEN '-infinity'::timestamptz ELSE $1 - cfg.retention END;
            cur := pg_catalog.date_bin(cfg.ival, $1, origin);
            made := 0;
            /*
             * retention first: drop whole partitions, never DELETE.  A drop
             * takes ACCESS EXCLUSIVE on the table, kept to the end of the
             * run; taken before the default partition's lock (below), it
             * never waits for a writer that waits for this run.
             */
            archived := EXISTS (SELECT 1 FROM @extschema@.archive_config ac WHERE ac.signal = sig);
            doomed := '{}'; doomed_lo := '{}'; doomed_hi := '{}';
            FOR p IN
                SELECT x.partition_name AS part, x.lower_bound, x.upper_bound FROM @extschema@.partitions() x
                 WHERE x.signal = sig AND NOT x.is_default AND x.upper_bound <= cutoff
                 ORDER BY x.lower_bound
            LOOP
                IF sig = 'alerts' THEN
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s a WHERE a.acknowledged_at IS NULL', p.part)
                       INTO n;
                    IF n > 0 THEN
                        /* an alert nobody acknowledged stays, however old */
                        acts := acts || 'kept'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                IF archived THEN
                    /* with an archive, only a partition whose file is confirmed goes */
                    SELECT ap.location, ap.path, ap.row_count INTO arow
                      FROM @extschema@.archived_partitions ap
                     WHERE ap.signal = sig AND ap.lower_bound = p.lower_bound
                       AND ap.upper_bound = p.upper_bound AND ap.dropped_at IS NULL AND NOT ap.stale;
                    IF NOT FOUND THEN
                        acts := acts || 'not_archived'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                        CONTINUE;
                    END IF;
                    /*
                     * rows written to the partition after its file (late
                     * rows) would be lost: count under the lock the drop
                     * takes anyway, the parent not yet locked
                     */
                    EXECUTE pg_catalog.format('LOCK TABLE %s IN ACCESS EXCLUSIVE MODE', p.part);
                    EXECUTE pg_catalog.format('SELECT count(*) FROM %s', p.part) INTO n;
                    IF n <> arow.row_count THEN
                        UPDATE @extschema@.archived_partitions ap SET stale = true
                         WHERE ap.location = arow.location AND ap.path = arow.path;
                        acts := acts || 'stale'::text; parts := parts || p.part::text; cnts := cnts || n;
                        CONTINUE;
                    END IF;
                END IF;
                acts := acts || 'dropped'::text; parts := parts || p.part::text; cnts := cnts || NULL::bigint;
                doomed := doomed || p.part;
                doomed_lo := doomed_lo || p.lower_bound;
                doomed_hi := doomed_hi || p.upper_bound;
            END LOOP;
            /* every drop after every check: a drop locks the parent to the end */
            FOR i IN 1 .. pg_catalog.cardinality(doomed) LOOP
                /*
                 * a drop whose rollup rows are locked by another (LOCK
                 * TABLE, VACUUM FULL of a rollup table) waits for the next
                 * run; the partitions to make are still made
                 */
                BEGIN
                    /* a file of the partition (archived before clear_archive, too) is now its only copy */
                    UPDATE @extschema@.archived_partitions ap SET dropped_at = pg_catalog.now()
                     WHERE ap.signal = sig AND ap.lower_bound = doomed_lo[i]
                       AND ap.upper_bound = doomed_hi[i] AND ap.dropped_at IS NULL;
                    PERFORM @extschema@._rollup_forget(sig, doomed[i], doomed_lo[i], doomed_hi[i]);
                    EXECUTE pg_catalog.format('DROP TABLE %s', doomed[i]);
                EXCEPTION WHEN lock_not_available THEN
                    acts[pg_catalog.array_position(parts, doomed[i]::text)] := 'skipped';
                END;
            END LOOP;
            /*
             * the ranges to have: the current one and premake ahead, and every
             * range holding rows of the default partition, from the retention
             * cutoff up to the last premade one (at most 100 per run)
             */
            FOR lo IN
                SELECT r.lo FROM (
                    SELECT cur + g * cfg.ival AS lo FROM pg_catalog.generate_series(0, cfg.premake) g
                    UNION
                    SELECT b.lo FROM @extschema@._default_bins(s.default_partition, s.time_column, cfg.ival, origin) b
                     WHERE b.lo + cfg.ival > cutoff AND b.lo <= cur + cfg.premake * cfg.ival) r
                 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.partitions() x
                                    WHERE x.signal = sig AND NOT x.is_default
                                      AND x.lower_bound < r.lo + cfg.ival AND x.upper_bound > r.lo)
                 ORDER BY r.lo
                 LIMIT 100
            LOOP
                SELECT * INTO c FROM @extschema@._partition_create(sig, lo, lo + cfg.ival);
                acts := acts || 'created'::text; parts := parts || c.part::text; cnts := cnts || c.moved;
            END LOOP;

        EXCEPTION WHEN lock_not_available THEN
            /* what this signal did is undone: report only the skip */
            acts := ARRAY['skipped']; parts := ARRAY[NULL::text]; cnts := ARRAY[NULL::bigint];
        END;
        FOR i IN 1 .. pg_catalog.cardinality(acts) LOOP
            action := acts[i]; partition_name := parts[i]; row_count := cnts[i];
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.run_maintenance(timestamptz) IS
$$for each signal (logs, spans, metrics, alerts): tick the rollups of logs and spans (obs.refresh_rollups()), drop the partitions wholly older than as_of - retention (alerts: not while they hold an unacknowledged alert), then make the time partition holding as_of and obs.partition_config.premake ahead (moving the default partition's rows of those ranges and of every range it still holds within retention into new partitions).  Idempotent; waits at most 500 ms for a lock (lock_timeout), else skips the signal until the next run.  With an archive (obs.set_archive), it first writes each partition past the archive's age to the Parquet lake, and retention drops only partitions whose file is confirmed and holds all their rows.  Returns what it did: created (row_count: rows moved from the default partition), dropped (row_count NULL: a drop reads nothing), kept (row_count: unacknowledged alerts), skipped, archived (row_count: rows written), archive_failed (a WARNING says why; the partition stays), archive_busy (another run is archiving the signal), not_archived (past retention, kept until its file is confirmed), stale (row_count: rows now in the partition, not those of its file; it is archived again).
pg_cron: SELECT cron.schedule('obs-maintenance', '* * * * *', 'SELECT count(*) FROM obs.run_maintenance()');
Errors: 22004 for a NULL as_of.$$;

/* the ranges of width ival holding rows of a default partition */
CREATE FUNCTION @extschema@._default_bins(part regclass, time_column name, ival interval, origin timestamptz)
RETURNS TABLE(lo timestamptz)
LANGUAGE plpgsql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY EXECUTE pg_catalog.format(
        'SELECT DISTINCT pg_catalog.date_bin($1, d.%I, $2) FROM %s d', $2, $1)
      USING $3, $4;
END
$$;
COMMENT ON FUNCTION @extschema@._default_bins(regclass, name, interval, timestamptz) IS
    'internal: the partition ranges (their lower bounds) that hold rows of a default partition';

REVOKE EXECUTE ON FUNCTION @extschema@.run_maintenance(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._default_bins(regclass, name, interval, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.set_retention(text, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.clear_retention(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.set_partitioning(text, interval, integer) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._partition_create(text, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._partition_prepare(text, regclass) FROM PUBLIC;
