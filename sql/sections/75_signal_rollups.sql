/* ------------------------------------------------------------------------
 * Section: rollups of spans and logs (issue 10, item 5)
 * ------------------------------------------------------------------------ */

/*
 * error_rate_by_service, throughput_per_minute (obs.throughput()) and
 * log_volume_per_minute (obs.log_volume()) count spans and log records.
 * Spans and logs are written by a direct heap insert (and by the flusher),
 * where no trigger runs, so their rollups are kept by ticks, as PgQ keeps
 * its queues: obs.run_maintenance() (or obs.refresh_rollups()) adds to the
 * rollups the rows committed since its last tick, found through the
 * (txid, key) index that shipping walks too, and records the snapshot it
 * saw (obs.rollup_state.snap).  The invariant: the rollups count exactly
 * the rows whose txid is visible in snap.  A figure is then the rollups
 * plus the rows whose txid is not visible in snap (the tail since the last
 * tick, again through the txid index), read in one statement: exact at any
 * time, and as fast as the tail is short.  Writes pay nothing.
 *
 * What else changes the rows keeps the invariant:
 *  - DELETE and UPDATE through the parent (obs.purge(), a user's
 *    statement): statement triggers take the rows they remove out of the
 *    rollups (those whose txid is visible in snap) and add the rows they
 *    write;
 *  - INSERT and COPY through the parent (obs.restore_archive(), COPY FROM
 *    parquet) of rows carrying an older txid (an archive's): the same
 *    trigger adds those whose txid is visible in snap; rows written with
 *    the writer's own txid (the column's default) are the tail's;
 *  - TRUNCATE of the parent empties the rollups;
 *  - retention (run_maintenance(), purge()) drops a partition after taking
 *    its minutes out (_rollup_forget()).
 * Every change to the rollups takes the state row's lock first, even
 * before the first tick (_rollup_hold() makes the row when missing), so
 * that a REPEATABLE READ writer that raced a tick fails with a
 * serialization error instead of counting twice or not at all.  What bypasses the
 * parent's statement triggers (DML on a partition by its own name, a
 * partition dropped or detached by hand, session_replication_role =
 * replica, a logical replication subscriber) is not seen: run
 * obs.refresh_rollups(rebuild => true) after it (README "Pipeline health").
 *
 * Derived data: neither the rollups nor their state are dumped.  A
 * restored database has no state, reads the tables directly, and its first
 * tick builds the rollups.
 */

CREATE TABLE @extschema@.rollup_state (
    signal     text PRIMARY KEY CHECK (signal IN ('logs', 'spans')),
    snap       pg_catalog.pg_snapshot,
    ticked_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp()
);
COMMENT ON TABLE @extschema@.rollup_state IS
    'per signal (logs, spans): the snapshot of the last rollup tick; obs.span_rollup and obs.log_rollup count exactly the rows whose txid is visible in snap (NULL: not built yet)';
/* every reader looks at the state to choose between rollups and tables */
GRANT SELECT ON @extschema@.rollup_state TO PUBLIC;

CREATE TABLE @extschema@.span_rollup (
    all_time     boolean NOT NULL,
    bucket       timestamptz NOT NULL,
    service_name text NOT NULL,
    service_type @extschema@.service_type NOT NULL,
    spans        bigint NOT NULL,
    errors       bigint NOT NULL,
    PRIMARY KEY (all_time, bucket, service_name, service_type)
);
CREATE INDEX span_rollup_empty_idx ON @extschema@.span_rollup (bucket) WHERE spans = 0;
COMMENT ON TABLE @extschema@.span_rollup IS
    'spans per UTC minute of start_time (all_time: every span started before +infinity, bucket -infinity), service_name and service_type, with their error spans; kept by rollup ticks (obs.rollup_state)';

CREATE TABLE @extschema@.log_rollup (
    bucket  timestamptz NOT NULL,
    level   @extschema@.log_level NOT NULL,
    records bigint NOT NULL,
    PRIMARY KEY (bucket, level)
);
CREATE INDEX log_rollup_empty_idx ON @extschema@.log_rollup (bucket) WHERE records = 0;
COMMENT ON TABLE @extschema@.log_rollup IS
    'log records per UTC minute of ts and level; kept by rollup ticks (obs.rollup_state)';

/* the UTC minute holding ts (date_bin from 2000-01-01); an infinite ts is its own bucket */
CREATE FUNCTION @extschema@._minute(ts timestamptz)
RETURNS timestamptz
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN pg_catalog.isfinite(_minute.ts)
                THEN pg_catalog.date_bin('1 minute'::interval, _minute.ts, '2000-01-01 00:00:00+00'::timestamptz)
                ELSE _minute.ts END;
END;
COMMENT ON FUNCTION @extschema@._minute(timestamptz) IS
    'internal: the rollup bucket of a span or log record at ts: its UTC minute, or ts itself when infinite';

/*
 * snap with the transaction x shown as running: a tick's own transaction
 * is visible in its own snapshot, but rows it writes after the tick (or
 * before it: they are not committed) must stay in the tail
 */
CREATE FUNCTION @extschema@._snapshot_running(snap pg_catalog.pg_snapshot, x xid8)
RETURNS pg_catalog.pg_snapshot
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN NOT pg_catalog.pg_visible_in_snapshot(_snapshot_running.x, _snapshot_running.snap)
                THEN _snapshot_running.snap
                ELSE (LEAST(pg_catalog.pg_snapshot_xmin(_snapshot_running.snap), _snapshot_running.x)::text
                      || ':' || pg_catalog.pg_snapshot_xmax(_snapshot_running.snap)::text || ':'
                      || (SELECT pg_catalog.string_agg(u.v::text, ',' ORDER BY u.v)
                            FROM (SELECT pg_catalog.pg_snapshot_xip(_snapshot_running.snap)
                                  UNION SELECT _snapshot_running.x) u(v)))::pg_catalog.pg_snapshot END;
END;
COMMENT ON FUNCTION @extschema@._snapshot_running(pg_catalog.pg_snapshot, xid8) IS
    'internal: snap with the transaction x in its list of running transactions';

/*
 * The one statement that adds rows to a signal's rollups (sign 1) or takes
 * them out (sign -1), in key order: writers that share the state row
 * (_rollup_lock()) then lock the rollup rows they both change in the same
 * order, and never deadlock on them: rows of source (a table, a subquery of one or a
 * trigger's transition table, aliased r) that pass filter.  Parameters of
 * the statement: $1 the sign, $2 and $3 snapshots source and filter may
 * use (the tick: $4, the running transactions of $2, and $5, where its walk from xmax starts).
 */
CREATE FUNCTION @extschema@._rollup_sql(signal text, source text, filter text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 = 'spans' THEN
        RETURN pg_catalog.format($q$
            WITH m AS (SELECT @extschema@._minute(r.start_time) AS bucket, r.service_name, r.service_type,
                              pg_catalog.count(*) AS n, pg_catalog.count(*) FILTER (WHERE r.status = 'error') AS e
                         FROM %s r WHERE %s GROUP BY 1, 2, 3)
            INSERT INTO @extschema@.span_rollup AS t
            SELECT * FROM (
                SELECT false, m.bucket, m.service_name, m.service_type, $1 * m.n, $1 * m.e FROM m
                UNION ALL
                SELECT true, '-infinity', m.service_name, m.service_type, $1 * pg_catalog.sum(m.n), $1 * pg_catalog.sum(m.e)
                  FROM m WHERE m.bucket < 'infinity' GROUP BY m.service_name, m.service_type) k
             ORDER BY 1, 2, 3, 4
            ON CONFLICT (all_time, bucket, service_name, service_type) DO UPDATE
               SET spans = t.spans + EXCLUDED.spans, errors = t.errors + EXCLUDED.errors$q$, $2, $3);
    ELSIF $1 = 'logs' THEN
        RETURN pg_catalog.format($q$
            INSERT INTO @extschema@.log_rollup AS t
            SELECT @extschema@._minute(r.ts), r.level, $1 * pg_catalog.count(*)
              FROM %s r WHERE %s GROUP BY 1, 2 ORDER BY 1, 2
            ON CONFLICT (bucket, level) DO UPDATE SET records = t.records + EXCLUDED.records$q$, $2, $3);
    END IF;
    RAISE EXCEPTION 'signal "%" has no rollups', $1 USING ERRCODE = '22023';
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_sql(text, text, text) IS
    'internal: the statement that adds the rows of source passing filter to the rollups of signal (logs, spans), times the sign $1';

/*
 * The state row of signal, locked; NULL when the rollups are not built
 * (nothing to keep), or when signal has no state row yet.  Writers (the triggers) lock it FOR SHARE: they wait
 * for a tick, not for each other (they meet only on the rollup rows they
 * change), and a REPEATABLE READ writer whose snapshot predates a tick
 * fails with a serialization error instead of using the old snapshot.
 * Exclusive (a tick, retention, TRUNCATE): an UPDATE of the row, which
 * waits for every writer holding it.
 */
CREATE FUNCTION @extschema@._rollup_lock(signal text, exclusive boolean DEFAULT true)
RETURNS pg_catalog.pg_snapshot
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pg_catalog.pg_snapshot;
BEGIN
    IF $2 THEN
        UPDATE @extschema@.rollup_state r SET snap = r.snap
         WHERE r.signal = $1
        RETURNING r.snap INTO s;
    ELSE
        SELECT r.snap INTO s FROM @extschema@.rollup_state r
         WHERE r.signal = $1
           FOR SHARE;
        IF NOT FOUND THEN
            /*
             * no row: the writer makes it (not built), so that a first tick
             * whose row is not yet committed is waited for (ON CONFLICT
             * waits for it), and a first tick to come waits for the writer.
             * In REPEATABLE READ, a row committed after the snapshot is a
             * serialization error (40001) here, as with a tick
             */
            INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1)
                ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
            SELECT r.snap INTO s FROM @extschema@.rollup_state r
             WHERE r.signal = $1
               FOR SHARE;
        END IF;
    END IF;
    RETURN s;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_lock(text, boolean) IS
    'internal: lock the rollup state of signal (exclusive, or shared by writers) and return its snapshot (NULL when the rollups are not built)';

/*
 * snap cut at the transaction x: the transactions from x on are shown as
 * not yet begun (a bounded tick takes the rows below x only)
 */
CREATE FUNCTION @extschema@._snapshot_cut(snap pg_catalog.pg_snapshot, x xid8)
RETURNS pg_catalog.pg_snapshot
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
BEGIN ATOMIC
    SELECT CASE WHEN _snapshot_cut.x >= pg_catalog.pg_snapshot_xmax(_snapshot_cut.snap)
                THEN _snapshot_cut.snap
                ELSE (LEAST(pg_catalog.pg_snapshot_xmin(_snapshot_cut.snap), _snapshot_cut.x)::text
                      || ':' || _snapshot_cut.x::text || ':'
                      || COALESCE((SELECT pg_catalog.string_agg(u.v::text, ',' ORDER BY u.v)
                                     FROM pg_catalog.pg_snapshot_xip(_snapshot_cut.snap) u(v)
                                    WHERE u.v < _snapshot_cut.x), ''))::pg_catalog.pg_snapshot END;
END;
COMMENT ON FUNCTION @extschema@._snapshot_cut(pg_catalog.pg_snapshot, xid8) IS
    'internal: snap with every transaction from x on not yet begun (xmax cut to x)';

/*
 * The statement triggers on obs.spans and obs.logs (one per event: a
 * trigger with transition tables has one event).  TG_ARGV[0] is the signal.
 * They run as the writer, as the triggers on the runs do (obs has no
 * SECURITY DEFINER function): obs's own DELETEs run as the owner; a role
 * you let UPDATE, DELETE or TRUNCATE spans or logs directly needs INSERT
 * and UPDATE on obs.rollup_state and SELECT, INSERT, UPDATE, DELETE on the rollup
 * table (an INSERT of rows with the writer's own txid needs neither).
 */
CREATE FUNCTION @extschema@._rollup_trigger()
RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    sig text := TG_ARGV[0];
    s pg_catalog.pg_snapshot;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF @extschema@._rollup_lock(sig) IS NOT NULL THEN
            IF sig = 'spans' THEN
                DELETE FROM @extschema@.span_rollup;
            ELSE
                DELETE FROM @extschema@.log_rollup;
            END IF;
        END IF;
        RETURN NULL;
    END IF;
    /* rows with the writer's own txid are the tail's: the common INSERT takes no lock */
    IF TG_OP = 'INSERT' THEN
        IF NOT EXISTS (SELECT 1 FROM new_rows n WHERE n.txid <> pg_catalog.pg_current_xact_id()) THEN
            RETURN NULL;
        END IF;
    END IF;
    s := @extschema@._rollup_lock(sig, false);
    IF s IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        /*
         * the old rows out, then the new ones in: two statements, each in
         * key order, but not together (an UPDATE of service a to b and one
         * of b to a would lock a then b, and b then a).  So every rollup
         * row of both is locked first (made, at 0, when missing: the next
         * tick deletes it) in one statement, in key order
         */
        EXECUTE @extschema@._rollup_sql(sig, '(SELECT * FROM old_rows UNION ALL SELECT * FROM new_rows)',
                                        'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING 0, s;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        EXECUTE @extschema@._rollup_sql(sig, 'old_rows', 'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING -1, s;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        EXECUTE @extschema@._rollup_sql(sig, 'new_rows', 'pg_catalog.pg_visible_in_snapshot(r.txid, $2)')
          USING 1, s;
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_trigger() IS
    'internal: statement trigger on obs.spans and obs.logs keeping their rollups through DELETE, UPDATE, TRUNCATE and INSERT of rows that carry an older txid';

CREATE TRIGGER spans_rollup_insert AFTER INSERT ON @extschema@.spans
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_update AFTER UPDATE ON @extschema@.spans
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_delete AFTER DELETE ON @extschema@.spans
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER spans_rollup_truncate AFTER TRUNCATE ON @extschema@.spans
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('spans');
CREATE TRIGGER logs_rollup_insert AFTER INSERT ON @extschema@.logs
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_update AFTER UPDATE ON @extschema@.logs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_delete AFTER DELETE ON @extschema@.logs
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');
CREATE TRIGGER logs_rollup_truncate AFTER TRUNCATE ON @extschema@.logs
    FOR EACH STATEMENT EXECUTE FUNCTION @extschema@._rollup_trigger('logs');

/*
 * One tick of a signal's rollups: add the rows whose txid became visible
 * since the last tick (all rows visible now, the first time).  With
 * max_rows, about that many at most: the snapshot recorded is cut at the
 * txid where the rows to add pass max_rows (the rows of one transaction
 * are never split, and a tick always adds the first transaction's rows),
 * so that a first build or a backlog is spread over several ticks while
 * the figures stay exact (the rest is the tail).  In READ COMMITTED only:
 * a tick's snapshot must be taken after it has the state row (after the
 * writers holding it have committed).  Returns the rollup rows written.
 */
CREATE FUNCTION @extschema@._rollup_tick(signal text, rebuild boolean DEFAULT false, max_rows bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass := (@extschema@._partition_signal($1)).parent;
    prev pg_catalog.pg_snapshot;
    cur pg_catalog.pg_snapshot;
    cut xid8;
    first xid8;
    lo xid8;
    n bigint;
BEGIN
    IF pg_catalog.current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'the rollups are refreshed in READ COMMITTED transactions only'
            USING ERRCODE = '25000',
                  DETAIL = pg_catalog.format('This transaction is %s.', pg_catalog.current_setting('transaction_isolation')),
                  HINT = 'Call obs.refresh_rollups() or obs.run_maintenance() in a transaction of its own (pg_cron does).';
    END IF;
    IF $3 IS NOT NULL AND $3 < 1 THEN
        RAISE EXCEPTION 'max_rows must be positive' USING ERRCODE = '22023',
            DETAIL = pg_catalog.format('The value given was %s.', $3);
    END IF;
    /*
     * a logical replication subscriber of the table (or of a partition)
     * does not tick: its rows carry the publisher's txids.  It gets the
     * publisher's rollups and state with them (FOR TABLES IN SCHEMA), or,
     * without them, reads the table.
     */
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_subscription_rel sr
                WHERE sr.srrelid = tab
                   OR sr.srrelid IN (SELECT i.inhrelid FROM pg_catalog.pg_inherits i WHERE i.inhparent = tab)
                   OR sr.srrelid = '@extschema@.rollup_state'::regclass) THEN
        RETURN NULL;
    END IF;
    INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1) ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
    SELECT r.snap INTO prev FROM @extschema@.rollup_state r WHERE r.signal = $1 FOR UPDATE;
    IF $2 THEN
        prev := NULL;
        IF $1 = 'spans' THEN DELETE FROM @extschema@.span_rollup; ELSE DELETE FROM @extschema@.log_rollup; END IF;
    END IF;
    cur := @extschema@._snapshot_running(pg_catalog.pg_current_snapshot(), pg_catalog.pg_current_xact_id());
    IF $3 IS NOT NULL THEN
        /*
         * nothing visible: a first build walks the txid index from its
         * start, txid 0 (a row restored with it is visible in any snapshot,
         * and no pg_snapshot has an xmax below 1)
         */
        IF prev IS NULL THEN
            lo := '0'::xid8;
            prev := '1:1:'::pg_catalog.pg_snapshot;
        END IF;
        lo := COALESCE(lo, pg_catalog.pg_snapshot_xmax(prev));
        EXECUTE pg_catalog.format('SELECT t.txid FROM %s t WHERE t.txid >= $1 AND t.txid < $2 ORDER BY t.txid OFFSET $3 LIMIT 1', tab)
           INTO cut USING lo, pg_catalog.pg_snapshot_xmax(cur), $3;
        IF cut IS NOT NULL THEN
            EXECUTE pg_catalog.format('SELECT min(t.txid) FROM %s t WHERE t.txid >= $1', tab)
               INTO first USING lo;
            IF cut <= first THEN
                cut := ((first::text)::numeric + 1)::text::xid8;
            END IF;
            cur := @extschema@._snapshot_cut(cur, cut);
        END IF;
    END IF;
    IF prev IS NULL THEN
        EXECUTE @extschema@._rollup_sql($1, tab::text, 'pg_catalog.pg_visible_in_snapshot(r.txid, $3)')
          USING 1, prev, cur;
    ELSE
        /*
         * not visible in prev: at or past its xmax (lo; 0 for a first
         * build) and below cur's, to be visible in cur, or in its running
         * list; two index walks that read the rows of the transactions
         * ended since prev only
         */
        EXECUTE @extschema@._rollup_sql($1,
                    pg_catalog.format('(SELECT * FROM %1$s t WHERE t.txid >= $5 '
                                      'AND t.txid < pg_catalog.pg_snapshot_xmax($3) '
                                      'UNION ALL SELECT * FROM %1$s t '
                                      'WHERE t.txid = ANY ($4))', tab),
                    'pg_catalog.pg_visible_in_snapshot(r.txid, $3)')
          USING 1, prev, cur, ARRAY(SELECT pg_catalog.pg_snapshot_xip(prev)),
                COALESCE(lo, pg_catalog.pg_snapshot_xmax(prev));
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF $1 = 'spans' THEN
        DELETE FROM @extschema@.span_rollup r WHERE r.spans = 0;
    ELSE
        DELETE FROM @extschema@.log_rollup r WHERE r.records = 0;
    END IF;
    UPDATE @extschema@.rollup_state r SET snap = cur, ticked_at = pg_catalog.clock_timestamp() WHERE r.signal = $1;
    RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_tick(text, boolean, bigint) IS
    'internal: add to the rollups of signal (logs, spans) the rows committed since the last tick, about max_rows at most (rebuild: empty them and add every row); returns the rollup rows written, NULL on a logical replication subscriber of the signal''s table (no tick)';

/*
 * Before retention drops a time partition [lo, hi) of a signal: take its
 * rows out of the rollups.  A minute wholly inside [lo, hi) has all its
 * rows in the partition: its rollup rows go whole (and from all_time); the
 * rows of a minute the bounds cut (bounds not on a minute) are read through
 * the time index.  The caller drops the partition in the same transaction.
 */
CREATE FUNCTION @extschema@._rollup_forget(signal text, part regclass, lo timestamptz, hi timestamptz)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s pg_catalog.pg_snapshot;
    m_lo timestamptz := CASE WHEN @extschema@._minute($3) = $3 THEN $3 ELSE @extschema@._minute($3) + '1 minute' END;
    m_hi timestamptz := @extschema@._minute($4);
    col name := (@extschema@._partition_signal($1)).time_column;
BEGIN
    IF $1 NOT IN ('logs', 'spans') THEN
        RETURN;
    END IF;
    /* a first tick under way (its row not yet committed) is waited for */
    INSERT INTO @extschema@.rollup_state AS r (signal) VALUES ($1)
        ON CONFLICT ON CONSTRAINT rollup_state_pkey DO NOTHING;
    s := @extschema@._rollup_lock($1);
    IF s IS NULL THEN
        RETURN;
    END IF;
    IF $1 = 'spans' THEN
        WITH d AS (DELETE FROM @extschema@.span_rollup r
                    WHERE NOT r.all_time AND r.bucket >= m_lo AND r.bucket < m_hi
                   RETURNING r.service_name, r.service_type, r.spans, r.errors)
        UPDATE @extschema@.span_rollup t SET spans = t.spans - g.spans, errors = t.errors - g.errors
          FROM (SELECT d.service_name, d.service_type, pg_catalog.sum(d.spans) AS spans, pg_catalog.sum(d.errors) AS errors
                  FROM d GROUP BY 1, 2) g
         WHERE t.all_time AND t.bucket = '-infinity' AND t.service_name = g.service_name
           AND t.service_type = g.service_type;
    ELSE
        DELETE FROM @extschema@.log_rollup r WHERE r.bucket >= m_lo AND r.bucket < m_hi;
    END IF;
    EXECUTE @extschema@._rollup_sql($1, $2::text,
                pg_catalog.format('(r.%1$I < %2$L OR r.%1$I >= %3$L) AND pg_catalog.pg_visible_in_snapshot(r.txid, $2)',
                                  col, m_lo, m_hi))
      USING -1, s;
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_forget(text, regclass, timestamptz, timestamptz) IS
    'internal: take the rows of the time partition part [lo, hi) of signal out of its rollups, before the partition is dropped';

CREATE FUNCTION @extschema@.refresh_rollups(rebuild boolean DEFAULT false, max_rows bigint DEFAULT NULL)
RETURNS TABLE(signal text, rollup_rows bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF $1 IS NULL THEN
        RAISE EXCEPTION 'rebuild must not be null' USING ERRCODE = '22004';
    END IF;
    FOREACH signal IN ARRAY ARRAY['logs', 'spans'] LOOP
        rollup_rows := @extschema@._rollup_tick(signal, $1, $2);
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.refresh_rollups(boolean, bigint) IS
$$add to the rollups of spans and logs (error_rate_by_service, throughput, log_volume) the rows committed since the last refresh; obs.run_maintenance() does it on every run (at most 2M rows per signal).  max_rows: about that many rows per signal at most (a transaction's rows are never split); the rest stays in the tail, which the figures count, for the next call.  rebuild => true empties them and counts every row again (after DML on a partition by its own name, a partition dropped by hand, session_replication_role = replica).  Returns the rollup rows written per signal (NULL: not ticked, on a logical replication subscriber of the signal's table).
Errors: 22004 for a NULL rebuild, 22023 for max_rows below 1, 25000 outside READ COMMITTED.$$;

/*
 * The rollup rows the figures read, through functions: a query that names
 * a table needs SELECT on it even in a branch it never runs, and a role
 * that may read spans (or logs) and the views, but not the rollups, gets
 * its figures from the tables (_rollup_snapshot() is NULL for it).  STABLE:
 * they read in the calling statement's snapshot.
 */
CREATE FUNCTION @extschema@._span_rollup_rows(all_time boolean, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, service_name text, service_type @extschema@.service_type,
              spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT r.bucket, r.service_name, r.service_type, r.spans, r.errors
                   FROM @extschema@.span_rollup r
                  WHERE r.all_time = $1 AND r.bucket >= $2 AND r.bucket < $3;
END
$$;
COMMENT ON FUNCTION @extschema@._span_rollup_rows(boolean, timestamptz, timestamptz) IS
    'internal: the rows of obs.span_rollup (all_time or per minute) with bucket in [lo, hi)';

CREATE FUNCTION @extschema@._log_rollup_rows(lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT r.bucket, r.level, r.records
                   FROM @extschema@.log_rollup r
                  WHERE r.bucket >= $1 AND r.bucket < $2;
END
$$;
COMMENT ON FUNCTION @extschema@._log_rollup_rows(timestamptz, timestamptz) IS
    'internal: the rows of obs.log_rollup with bucket in [lo, hi)';

/*
 * The tail of the rollups: the rows of spans (logs) whose txid is not
 * visible in snap, with time in [lo, hi), per minute as the rollup rows
 * are.  A function too, so that a figure names the txid column only when
 * it reads the rollups: a role granted SELECT on the other columns gets
 * its figures from the tables, as with 0.1.0.  A txid is not visible in
 * snap when it is at or past snap's xmax or in its list of running
 * transactions (which lie below xmax): two walks of the txid index that
 * read the tail only.  (Reading from snap's xmin instead would read every
 * row written since the oldest transaction running at the last tick: all
 * of them while a transaction stays open, or a prepared one is forgotten.)
 */
CREATE FUNCTION @extschema@._span_tail_rows(snap pg_catalog.pg_snapshot, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, service_name text, service_type @extschema@.service_type,
              spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    /*
     * a value, not a subquery, so that the plan knows how few rows it
     * matches; the range is applied after the txid index (OFFSET 0 keeps
     * it out of the scans, whose other indexes it would lure)
     */
    xip xid8[] := ARRAY(SELECT pg_catalog.pg_snapshot_xip($1));
BEGIN
    RETURN QUERY SELECT @extschema@._minute(s.start_time), s.service_name, s.service_type,
                        pg_catalog.count(*), pg_catalog.count(*) FILTER (WHERE s.status = 'error')
                   FROM (SELECT t.start_time, t.service_name, t.service_type, t.status FROM @extschema@.spans t
                          WHERE t.txid >= pg_catalog.pg_snapshot_xmax($1)
                         UNION ALL
                         SELECT t.start_time, t.service_name, t.service_type, t.status FROM @extschema@.spans t
                          WHERE t.txid = ANY (xip)
                         OFFSET 0) s
                  WHERE s.start_time >= $2 AND s.start_time < $3
                  GROUP BY 1, 2, 3;
END
$$;
COMMENT ON FUNCTION @extschema@._span_tail_rows(pg_catalog.pg_snapshot, timestamptz, timestamptz) IS
    'internal: the spans not in the rollups of snapshot snap (txid not visible in it) started in [lo, hi), per minute, service_name and service_type';

CREATE FUNCTION @extschema@._log_tail_rows(snap pg_catalog.pg_snapshot, lo timestamptz, hi timestamptz)
RETURNS TABLE(bucket timestamptz, level @extschema@.log_level, records bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 1000 SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    /*
     * a value, not a subquery, so that the plan knows how few rows it
     * matches; the range is applied after the txid index (OFFSET 0 keeps
     * it out of the scans, whose other indexes it would lure)
     */
    xip xid8[] := ARRAY(SELECT pg_catalog.pg_snapshot_xip($1));
BEGIN
    RETURN QUERY SELECT @extschema@._minute(l.ts), l.level, pg_catalog.count(*)
                   FROM (SELECT t.ts, t.level FROM @extschema@.logs t
                          WHERE t.txid >= pg_catalog.pg_snapshot_xmax($1)
                         UNION ALL
                         SELECT t.ts, t.level FROM @extschema@.logs t
                          WHERE t.txid = ANY (xip)
                         OFFSET 0) l
                  WHERE l.ts >= $2 AND l.ts < $3
                  GROUP BY 1, 2;
END
$$;
COMMENT ON FUNCTION @extschema@._log_tail_rows(pg_catalog.pg_snapshot, timestamptz, timestamptz) IS
    'internal: the log records not in the rollups of snapshot snap (txid not visible in it) with ts in [lo, hi), per minute and level';

/*
 * error_rate_by_service without the rollups: spans and error spans per
 * service, straight from obs.spans.  A function, not a branch of the view:
 * the planner would cost that branch (a scan of the whole table) even when
 * the rollups are read and it never runs, and a cost that high turns JIT
 * compilation on for the whole query (hundreds of milliseconds at 10M rows).
 */
CREATE FUNCTION @extschema@._span_service_counts()
RETURNS TABLE(service_name text, service_type @extschema@.service_type, spans bigint, errors bigint)
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED ROWS 100 SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT s.service_name, s.service_type, pg_catalog.count(*),
                        pg_catalog.count(*) FILTER (WHERE s.status = 'error')
                   FROM @extschema@.spans s
                  WHERE s.start_time < 'infinity'::timestamptz
                  GROUP BY s.service_name, s.service_type;
END
$$;
COMMENT ON FUNCTION @extschema@._span_service_counts() IS
    'internal: spans and error spans per service name and type, started before +infinity, from obs.spans';

/*
 * The snapshot of signal's rollups when a figure may read them, else NULL
 * (the figure reads the table): not built yet, row-level security applies
 * to the caller on the table, the caller may not read the rollups or the
 * table's txid column (the tail is found by it), or the range [since,
 * until) and the bucket do not fall on whole minutes.
 */
CREATE FUNCTION @extschema@._rollup_snapshot(signal text, since timestamptz DEFAULT NULL,
                                             until timestamptz DEFAULT NULL, bucket interval DEFAULT NULL)
RETURNS pg_catalog.pg_snapshot
LANGUAGE plpgsql STABLE PARALLEL RESTRICTED SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    tab regclass := (@extschema@._partition_signal($1)).parent;
    rollup regclass := CASE $1 WHEN 'spans' THEN '@extschema@.span_rollup'::regclass
                               ELSE '@extschema@.log_rollup'::regclass END;
BEGIN
    IF pg_catalog.row_security_active(tab) OR NOT pg_catalog.has_table_privilege(rollup, 'SELECT')
       OR NOT pg_catalog.has_column_privilege(tab, 'txid', 'SELECT')
       OR ($2 IS NOT NULL AND pg_catalog.isfinite($2) AND @extschema@._minute($2) <> $2)
       OR ($3 IS NOT NULL AND pg_catalog.isfinite($3) AND @extschema@._minute($3) <> $3)
       OR ($4 IS NOT NULL AND pg_catalog.mod(EXTRACT(epoch FROM $4), 60) <> 0) THEN
        RETURN NULL;
    END IF;
    RETURN (SELECT r.snap FROM @extschema@.rollup_state r WHERE r.signal = $1);
END
$$;
COMMENT ON FUNCTION @extschema@._rollup_snapshot(text, timestamptz, timestamptz, interval) IS
    'internal: the snapshot of the rollups of signal when a figure over [since, until) in buckets of bucket may read them, else NULL';

REVOKE EXECUTE ON FUNCTION @extschema@._rollup_tick(text, boolean, bigint) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._rollup_forget(text, regclass, timestamptz, timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.refresh_rollups(boolean, bigint) FROM PUBLIC;
