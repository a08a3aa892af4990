/* ------------------------------------------------------------------------
 * Section: the Parquet lake (src/archive/)
 *
 * obs.set_archive(signal, location, after) has obs.run_maintenance() write
 * every time partition of a signal whose upper bound is older than
 * now() - after as one Parquet file, in a Hive layout under location (a
 * server directory or s3://bucket/prefix):
 *     signal=logs/date=2026-11-30/part-0.parquet
 * with a manifest per signal, signal=logs/_manifest.json, rewritten after
 * each confirmed file.  obs.archived_partitions records each confirmed
 * file; while a signal has an archive, retention drops only a partition
 * that has a confirmed file holding as many rows as the partition has at
 * the drop.  Superusers only: the archive writes server files and uses the
 * AWS credentials of the obs.aws_* settings (never stored in a table).
 * A signal at a location belongs to one database, named by its owner file
 * signal=<signal>/_owner.<system identifier>.<database oid>.json
 * (obs._archive_claim, src/archive/owner.c): set_archive and each run
 * refuse a location another database owns.  Before a signal's first file
 * of a run, obs._archive_cleanup removes what a crash left there: the
 * temporary files of gone processes, the unfinished multipart uploads.
 * ------------------------------------------------------------------------ */

CREATE TABLE @extschema@.archive_config (
    signal       text PRIMARY KEY CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    location     text NOT NULL,
    after        interval NOT NULL CHECK (after >= '0'),
    endpoint     text,
    region       text NOT NULL DEFAULT 'us-east-1',
    part_size_mb integer NOT NULL DEFAULT 64 CHECK (part_size_mb BETWEEN 5 AND 512),
    tls_verify   boolean NOT NULL DEFAULT true,
    database_id  text NOT NULL
);
COMMENT ON TABLE @extschema@.archive_config IS
$$per signal: where obs.run_maintenance() archives the time partitions (location: a server directory or s3://bucket/prefix, with endpoint for an S3-compatible server other than AWS, and region) and how old a partition's upper bound must be first (after).  Set with obs.set_archive(), removed with obs.clear_archive(); no credentials here: they come from the obs.aws_* settings, the environment or obs.credentials_file.  database_id: the database set_archive ran in (<system identifier>:<database oid>); a copy of the row in another database (pg_dump and pg_restore) archives nothing until set_archive runs there, so that a copy never writes the files of the database it was copied from.$$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archive_config', '');

CREATE TABLE @extschema@.archived_partitions (
    location    text NOT NULL,
    path        text NOT NULL,
    signal      text NOT NULL CHECK (signal IN ('logs', 'spans', 'metrics', 'alerts')),
    lower_bound timestamptz NOT NULL,
    upper_bound timestamptz NOT NULL,
    row_count   bigint NOT NULL,
    bytes       bigint NOT NULL,
    sha256      text NOT NULL,
    archived_at timestamptz NOT NULL,
    dropped_at  timestamptz,
    stale       boolean NOT NULL DEFAULT false,
    PRIMARY KEY (location, path)
);
/* a partition still in the database has at most one file */
CREATE UNIQUE INDEX archived_partitions_live_idx
    ON @extschema@.archived_partitions (signal, lower_bound) WHERE dropped_at IS NULL;
COMMENT ON TABLE @extschema@.archived_partitions IS
$$the confirmed archive files: location and path (relative to location, e.g. signal=logs/date=2026-11-30/part-0.parquet), the partition's bounds [lower_bound, upper_bound), its rows, the file's bytes and SHA-256 (hex), when it was archived and when retention dropped the partition (NULL: still in the database).  stale: the partition's rows changed after the file was written; the next run writes it again.  The manifests list these rows.$$;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.archived_partitions', '');

CREATE FUNCTION @extschema@.set_archive(signal text, location text, after interval,
    endpoint text DEFAULT NULL, region text DEFAULT 'us-east-1',
    part_size_mb integer DEFAULT 64, tls_verify boolean DEFAULT true)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    cfg @extschema@.archive_config;
    msg text;
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to set an archive'
            USING ERRCODE = '42501',
                  DETAIL = 'The archive writes server files and uses the AWS credentials of the obs.aws_* settings.',
                  HINT = 'Ask a superuser to set the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    IF $2 IS NULL OR $3 IS NULL OR $5 IS NULL OR $6 IS NULL OR $7 IS NULL THEN
        RAISE EXCEPTION 'location, after, region, part_size_mb and tls_verify must not be null'
            USING ERRCODE = '22004';
    END IF;
    IF $2 ~ '[[:cntrl:]]' OR $2 ~ '(^|/)\.\.(/|$)'
       OR NOT ($2 ~ '^/' OR $2 ~ '^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[A-Za-z0-9!_.*''()=/-]*)?$') THEN
        RAISE EXCEPTION 'archive location must be an absolute server directory or s3://bucket/prefix'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The location given was %s.', pg_catalog.quote_literal($2)),
                  HINT = 'A bucket name has 3 to 63 lower-case letters, digits, dots and hyphens; a prefix has letters, digits and !_.*''()=/-.';
    END IF;
    /* the server's own files: a lake there would be in every base backup, or worse */
    IF $2 ~ '^/' AND pg_catalog.starts_with(pg_catalog.rtrim($2, '/') || '/',
                                            pg_catalog.rtrim(pg_catalog.current_setting('data_directory'), '/') || '/') THEN
        RAISE EXCEPTION 'archive location must not be inside the data directory'
            USING ERRCODE = '22023',
                  HINT = 'Choose a directory outside the data directory, owned by the server''s user.';
    END IF;
    IF $3 < '0'::interval THEN
        RAISE EXCEPTION 'after must not be negative'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The interval given was %s.', $3);
    END IF;
    IF $4 IS NOT NULL AND $2 !~ '^s3://' THEN
        RAISE EXCEPTION 'endpoint is only for an s3:// location' USING ERRCODE = '22023';
    END IF;
    IF $4 IS NOT NULL AND $4 !~ '^https?://[A-Za-z0-9.:\[\]-]+/?$' THEN
        RAISE EXCEPTION 'endpoint must be http(s)://host[:port]'
            USING ERRCODE = '22023',
                  DETAIL = pg_catalog.format('The endpoint given was %s.', pg_catalog.quote_literal($4));
    END IF;
    IF $5 !~ '^[a-z0-9-]{1,32}$' THEN
        RAISE EXCEPTION 'region must be an AWS region name'
            USING ERRCODE = '22023', HINT = 'An AWS region looks like us-east-1 or eu-west-3.';
    END IF;
    IF $6 < 5 OR $6 > 512 THEN
        RAISE EXCEPTION 'part_size_mb must be between 5 and 512'
            USING ERRCODE = '22023', DETAIL = pg_catalog.format('The value given was %s.', $6);
    END IF;
    cfg.signal := $1; cfg.location := $2; cfg.after := $3; cfg.endpoint := $4; cfg.region := $5;
    cfg.part_size_mb := $6; cfg.tls_verify := $7;
    cfg.database_id := pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                         (SELECT d.oid FROM pg_catalog.pg_database d
                                           WHERE d.datname = pg_catalog.current_database()));
    /*
     * another database's location is refused now (55006); one that cannot
     * be reached now is claimed by the first run that writes there
     */
    BEGIN
        PERFORM @extschema@._archive_claim(cfg, EXISTS (
            SELECT 1 FROM @extschema@.archived_partitions ap
             WHERE ap.signal = $1 AND ap.location = $2));
    EXCEPTION
        WHEN object_in_use THEN
            RAISE;
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT;
            RAISE WARNING 'could not check that no other database archives signal "%" to %', $1, pg_catalog.quote_literal($2)
                USING DETAIL = msg,
                      HINT = 'obs.run_maintenance() checks it before it writes the signal''s first file there.';
    END;
    INSERT INTO @extschema@.archive_config AS c
           (signal, location, after, endpoint, region, part_size_mb, tls_verify, database_id)
    VALUES (cfg.signal, cfg.location, cfg.after, cfg.endpoint, cfg.region, cfg.part_size_mb,
            cfg.tls_verify, cfg.database_id)
    ON CONFLICT ON CONSTRAINT archive_config_pkey DO UPDATE
       SET location = excluded.location, after = excluded.after, endpoint = excluded.endpoint,
           region = excluded.region, part_size_mb = excluded.part_size_mb,
           tls_verify = excluded.tls_verify, database_id = excluded.database_id;
END
$$;
COMMENT ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) IS
$$archive the time partitions of signal (logs, spans, metrics, alerts) to location (an absolute server directory, or s3://bucket/prefix at AWS in region or at endpoint, an S3-compatible server) once their upper bound is older than after: obs.run_maintenance() writes signal=<signal>/date=<YYYY-MM-DD>/part-<n>.parquet and signal=<signal>/_manifest.json, and retention then drops only confirmed partitions.  Files larger than part_size_mb go to S3 as multipart uploads.  Superusers only.
The archive belongs to the database it is set in: a copy of obs.archive_config restored into another database archives nothing there until set_archive runs again.  A signal at a location belongs to one database: set_archive puts the owner file signal=<signal>/_owner.<system identifier>.<database oid>.json there and refuses a location where another database's is (a WARNING when the location cannot be reached now: the archive run checks it before it writes).
Errors: 42501 for a role that is not superuser, 22004 for a NULL argument, 22023 for an unknown signal, a location that is neither or is inside the data directory, a negative after, an endpoint with a directory or not http(s)://host[:port], a bad region, a part_size_mb outside 5 .. 512; 55006 for a location where another database archives the signal.$$;

CREATE FUNCTION @extschema@.clear_archive(signal text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT (SELECT r.rolsuper FROM pg_catalog.pg_roles r WHERE r.rolname = current_user) THEN
        RAISE EXCEPTION 'permission denied to clear an archive'
            USING ERRCODE = '42501', HINT = 'Ask a superuser to clear the archive.';
    END IF;
    PERFORM @extschema@._partition_signal($1);
    DELETE FROM @extschema@.archive_config c WHERE c.signal = $1;
END
$$;
COMMENT ON FUNCTION @extschema@.clear_archive(text) IS
$$stop archiving signal (logs, spans, metrics or alerts): undo obs.set_archive().  Retention then drops the signal's partitions whether archived or not; obs.archived_partitions and the files stay.  Superusers only.
Errors: 42501 for a role that is not superuser, 22004 for NULL, 22023 for an unknown signal.$$;

CREATE FUNCTION @extschema@._archive_write(cfg @extschema@.archive_config, part regclass, path text,
    OUT row_count bigint, OUT bytes bigint, OUT sha256 text)
    AS 'MODULE_PATHNAME', 'obs_archive_write' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_write(@extschema@.archive_config, regclass, text) IS
    'internal: write the rows of partition part as a Parquet file at path under the archive cfg, confirmed by size and SHA-256 (superusers only)';

CREATE FUNCTION @extschema@._archive_put(cfg @extschema@.archive_config, path text, body text)
RETURNS bigint
    AS 'MODULE_PATHNAME', 'obs_archive_put' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_put(@extschema@.archive_config, text, text) IS
    'internal: write body at path under the archive cfg atomically, confirmed by size and checksum; returns the bytes (superusers only)';

CREATE FUNCTION @extschema@._archive_claim(cfg @extschema@.archive_config, keep boolean)
RETURNS void
    AS 'MODULE_PATHNAME', 'obs_archive_claim' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_claim(@extschema@.archive_config, boolean) IS
    'internal: put this database''s owner file signal=<signal>/_owner.<system identifier>.<database oid>.json at the archive cfg''s location, then refuse (55006) the location if another database''s is there; keep: this database has archived files there, its owner file stays even when refused (superusers only)';

CREATE FUNCTION @extschema@._archive_cleanup(cfg @extschema@.archive_config)
RETURNS integer
    AS 'MODULE_PATHNAME', 'obs_archive_cleanup' LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@._archive_cleanup(@extschema@.archive_config) IS
    'internal: remove what a crash left of the signal''s archive at the cfg''s location: the temporary files of processes that are gone (a directory), the unfinished multipart uploads of keys in obs''s layout (S3); returns how many.  Only under the signal''s archive lock, after obs._archive_claim() (superusers only)';

/* the manifest of a signal at a location: every confirmed file */
CREATE FUNCTION @extschema@._archive_manifest(signal text, location text)
RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE SET search_path = pg_catalog, pg_temp AS $$
    SELECT pg_catalog.jsonb_pretty(pg_catalog.jsonb_build_object(
        'format', 'obs-archive-manifest', 'version', 1, 'signal', $1,
        'files', coalesce((
            SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object(
                       'path', a.path, 'rows', a.row_count, 'bytes', a.bytes, 'sha256', a.sha256,
                       'lower_bound', pg_catalog.to_char(a.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'upper_bound', pg_catalog.to_char(a.upper_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                       'archived_at', pg_catalog.to_char(a.archived_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                     ORDER BY a.lower_bound, a.path)
              FROM @extschema@.archived_partitions a
             WHERE a.signal = $1 AND a.location = $2), '[]'::jsonb))) || E'\n'
$$;
COMMENT ON FUNCTION @extschema@._archive_manifest(text, text) IS
    'internal: the JSON manifest of a signal''s files at an archive location (signal=<signal>/_manifest.json)';

/*
 * The archive step of obs.run_maintenance(): every partition past its
 * signal's archive age without a confirmed, current file is written and
 * confirmed, then recorded, then the manifest rewritten.  Nothing here
 * takes more than ACCESS SHARE on an old partition.  A failure stops the
 * signal for this run (a WARNING says why), and leaves the partition as
 * it was; one run at a time per signal (an advisory lock).
 */
CREATE FUNCTION @extschema@._archive_run(as_of timestamptz)
RETURNS TABLE(signal text, action text, partition_name text, row_count bigint)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a @extschema@.archive_config;
    p record;
    w record;
    dir text;
    relpath text;
    n integer;
    claimed boolean;
    err_detail text;
    err_hint text;
    here constant text := pg_catalog.format('%s:%s', (pg_catalog.pg_control_system()).system_identifier,
                                  (SELECT d.oid FROM pg_catalog.pg_database d
                                    WHERE d.datname = pg_catalog.current_database()));
BEGIN
    /*
     * a read-only transaction (a standby's) could write files but record
     * none of them: refused before any file is written
     */
    IF EXISTS (SELECT 1 FROM @extschema@.archive_config)
       AND pg_catalog.current_setting('transaction_read_only')::boolean THEN
        RAISE EXCEPTION 'cannot archive partitions in a read-only transaction'
            USING ERRCODE = '25006',
                  DETAIL = 'An archive is set; its files are recorded in obs.archived_partitions.',
                  HINT = 'Run obs.run_maintenance() on the primary, in a read-write transaction.';
    END IF;
    FOR a IN SELECT * FROM @extschema@.archive_config c ORDER BY c.signal LOOP
        signal := a.signal;
        /*
         * a row set in another database (a restored dump, a copy): its
         * location is that database's, whose files this one would replace
         */
        IF a.database_id IS DISTINCT FROM here THEN
            RAISE WARNING 'archive of signal "%" was set in another database', a.signal
                USING DETAIL = pg_catalog.format('obs.archive_config names database %s; this is database %s (restored from a dump or copied, say). Two databases archiving to the same location would replace each other''s files.', a.database_id, here),
                      HINT = 'Run obs.set_archive() in this database, with a location of its own, or obs.clear_archive().';
            action := 'archive_failed'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        /* 0x6f627361: "obsa"; the second key: the signal */
        IF NOT pg_catalog.pg_try_advisory_xact_lock(1868724065, pg_catalog.hashtext(a.signal)) THEN
            action := 'archive_busy'; partition_name := NULL; row_count := NULL;
            RETURN NEXT;
            CONTINUE;
        END IF;
        claimed := false;
        FOR p IN
            SELECT x.partition_name AS part, x.lower_bound, x.upper_bound
              FROM @extschema@.partitions() x
             WHERE x.signal = a.signal AND NOT x.is_default AND x.upper_bound <= $1 - a.after
               AND NOT EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                WHERE ap.signal = a.signal AND ap.lower_bound = x.lower_bound
                                  AND ap.upper_bound = x.upper_bound AND ap.dropped_at IS NULL
                                  AND NOT ap.stale)
             ORDER BY x.lower_bound
        LOOP
            /*
             * an alerts partition only once every alert in it is acknowledged:
             * a file holds the final rows (retention keeps such a partition anyway)
             */
            IF a.signal = 'alerts' THEN
                EXECUTE pg_catalog.format('SELECT count(*) FROM %s x WHERE x.acknowledged_at IS NULL', p.part)
                   INTO n;
                CONTINUE WHEN n > 0;
            END IF;
            BEGIN
                /*
                 * before the signal's first file of the run: the location is
                 * this database's (else 55006, and the partition stays), then
                 * what a crash left there goes (a failure to remove it is
                 * only a WARNING: the archive stays correct)
                 */
                IF NOT claimed THEN
                    PERFORM @extschema@._archive_claim(a, EXISTS (
                        SELECT 1 FROM @extschema@.archived_partitions ap
                         WHERE ap.signal = a.signal AND ap.location = a.location));
                    claimed := true;
                    BEGIN
                        PERFORM @extschema@._archive_cleanup(a);
                    EXCEPTION WHEN OTHERS THEN
                        RAISE WARNING 'could not remove what a crash left of the archive of signal "%": %', a.signal, SQLERRM;
                    END;
                END IF;
                /*
                 * a stale file is written again at its path; else the next
                 * part-<n> of its day not recorded.  A file there with no
                 * record is this database's own, left by a crash between
                 * its rename and the commit of its record: replaced, so
                 * that readers never see its rows twice (a location serves
                 * one database: see database_id and _archive_claim)
                 */
                SELECT ap.path INTO relpath FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL
                   AND ap.location = a.location;
                IF relpath IS NULL THEN
                    dir := pg_catalog.format('signal=%s/date=%s/', a.signal,
                                             pg_catalog.to_char(p.lower_bound AT TIME ZONE 'UTC', 'YYYY-MM-DD'));
                    n := 0;
                    WHILE EXISTS (SELECT 1 FROM @extschema@.archived_partitions ap
                                   WHERE ap.location = a.location
                                     AND ap.path = dir || 'part-' || n || '.parquet') LOOP
                        n := n + 1;
                    END LOOP;
                    relpath := dir || 'part-' || n || '.parquet';
                END IF;
                SELECT * INTO w FROM @extschema@._archive_write(a, p.part, relpath);
                /* a stale row at another location is replaced by this one */
                DELETE FROM @extschema@.archived_partitions ap
                 WHERE ap.signal = a.signal AND ap.lower_bound = p.lower_bound AND ap.dropped_at IS NULL;
                INSERT INTO @extschema@.archived_partitions AS ap
                       (location, path, signal, lower_bound, upper_bound, row_count, bytes, sha256, archived_at)
                VALUES (a.location, relpath, a.signal, p.lower_bound, p.upper_bound,
                        w.row_count, w.bytes, w.sha256, pg_catalog.clock_timestamp())
                ON CONFLICT ON CONSTRAINT archived_partitions_pkey DO UPDATE
                   SET signal = excluded.signal, lower_bound = excluded.lower_bound,
                       upper_bound = excluded.upper_bound, row_count = excluded.row_count,
                       bytes = excluded.bytes, sha256 = excluded.sha256,
                       archived_at = excluded.archived_at, dropped_at = NULL, stale = false;
                PERFORM @extschema@._archive_put(a, pg_catalog.format('signal=%s/_manifest.json', a.signal),
                                                 @extschema@._archive_manifest(a.signal, a.location));
                action := 'archived'; partition_name := p.part::text; row_count := w.row_count;
                RETURN NEXT;
            EXCEPTION WHEN OTHERS THEN
                /* the record is undone; the partition stays until a run confirms it */
                GET STACKED DIAGNOSTICS err_detail = PG_EXCEPTION_DETAIL, err_hint = PG_EXCEPTION_HINT;
                IF err_detail = '' AND err_hint = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM;
                ELSIF err_hint = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING DETAIL = err_detail;
                ELSIF err_detail = '' THEN
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING HINT = err_hint;
                ELSE
                    RAISE WARNING 'could not archive partition % of signal "%": %', p.part, a.signal, SQLERRM
                        USING DETAIL = err_detail, HINT = err_hint;
                END IF;
                action := 'archive_failed'; partition_name := p.part::text; row_count := NULL;
                RETURN NEXT;
                EXIT;
            END;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@._archive_run(timestamptz) IS
    'internal: the archive step of obs.run_maintenance(): write, confirm and record every partition past its signal''s archive age';

REVOKE EXECUTE ON FUNCTION @extschema@.set_archive(text, text, interval, text, text, integer, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@.clear_archive(text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_write(@extschema@.archive_config, regclass, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_put(@extschema@.archive_config, text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_run(timestamptz) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_manifest(text, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_claim(@extschema@.archive_config, boolean) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION @extschema@._archive_cleanup(@extschema@.archive_config) FROM PUBLIC;
