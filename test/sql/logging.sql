-- structured logging: obs.log() and the level functions
\ir test/setup.sql
SET application_name = 'regress_app';

-- the seed's calls
SELECT obs.info('Data fetch started') IS NOT NULL AS stored;
SELECT obs.info('User data loaded', context => '{"user_id": 123, "records": 1000}',
                tags => '{"environment": "production"}') IS NOT NULL AS stored;
SELECT obs.log('warning', 'disk almost full', logger => 'storage') IS NOT NULL AS stored;
SELECT obs.log('Critical', 'pipeline down') IS NOT NULL AS stored;
SELECT level, logger, message, context, tags, trace_id, span_id, error,
       backend_pid = pg_backend_pid() AS own_pid
  FROM obs.logs ORDER BY log_id;

-- level threshold: below obs.log_min_level nothing is stored and NULL comes back
SHOW obs.log_min_level;
SELECT obs.debug('not stored') IS NULL AS dropped;
SET obs.log_min_level = 'error';
SELECT obs.warning('not stored either') IS NULL AS dropped, obs.error('stored') IS NOT NULL AS kept;
-- arguments are checked before the threshold: bad calls fail at every level
SELECT pg_temp.err($$SELECT obs.info('x', '[1]')$$);
SELECT pg_temp.err($$SELECT obs.info('x', tags => '"t"')$$);
SELECT pg_temp.err($$SELECT obs.info('x', sqlstate => 'bogus')$$);
SELECT pg_temp.err($$SELECT obs.debug(NULL)$$);
SELECT pg_temp.err($$SELECT obs.log('warning', 'x', '[1]')$$);
SELECT obs.info('x', '{"k": 1}', '{"t": 1}', sqlstate => '22012') IS NULL AS valid_call_dropped;
SET obs.log_min_level = 'debug';
SELECT obs.debug('now stored') IS NOT NULL AS kept;
RESET obs.log_min_level;
SELECT count(*) FILTER (WHERE message LIKE 'not stored%') AS dropped_rows,
       count(*) FILTER (WHERE message IN ('stored', 'now stored')) AS kept_rows
  FROM obs.logs;
SELECT pg_temp.err($$SET obs.log_min_level = 'verbose'$$);

-- levels order as a user expects
SELECT array_agg(DISTINCT level ORDER BY level) FILTER (WHERE level >= 'WARNING') AS serious FROM obs.logs;

-- logger defaults to application_name, then "postgres"
SELECT obs.info('with app name') AS id \gset
SELECT logger FROM obs.logs WHERE log_id = :id;
SET application_name = '';
SELECT obs.info('no app name') AS id \gset
SELECT logger FROM obs.logs WHERE log_id = :id;
SET application_name = 'regress_app';

-- error logging keeps what PostgreSQL knows about an error
CREATE FUNCTION pg_temp.fetch_data() RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_detail text; v_hint text; v_context text;
BEGIN
    BEGIN
        RAISE EXCEPTION 'upstream returned 503' USING ERRCODE = '08006',
            DETAIL = 'GET /data failed', HINT = 'Retry later.';
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_detail = PG_EXCEPTION_DETAIL,
                                v_hint = PG_EXCEPTION_HINT,
                                v_context = PG_EXCEPTION_CONTEXT;
        PERFORM obs.error('Data fetch failed',
                          context => '{"url": "https://api.example.com/data"}',
                          sqlstate => SQLSTATE, error_message => SQLERRM,
                          error_detail => v_detail, error_hint => v_hint,
                          error_context => v_context);
    END;
END $$;
SELECT pg_temp.fetch_data();
SELECT level, message, context, error->>'sqlstate' AS sqlstate, error->>'message' AS msg,
       error->>'detail' AS detail, error->>'hint' AS hint,
       error->>'context' LIKE 'PL/pgSQL function pg_temp_%.fetch_data() line 6 at RAISE' AS has_context
  FROM obs.logs WHERE message = 'Data fetch failed';
-- the short form inside a handler needs no GET STACKED DIAGNOSTICS
DO $$ BEGIN PERFORM 1/0;
EXCEPTION WHEN division_by_zero THEN
    PERFORM obs.error('division failed', sqlstate => SQLSTATE, error_message => SQLERRM);
END $$;
SELECT error FROM obs.logs WHERE message = 'division failed';

-- a huge message is truncated at a character boundary and marked
SET obs.max_message_size = 300;
SELECT obs.info(repeat('é', 1000)) AS id \gset
SELECT length(message) AS chars, octet_length(message) AS bytes,
       message LIKE 'ééé%...[truncated, 2000 bytes in all]' AS marked
  FROM obs.logs WHERE log_id = :id;
-- exactly at the limit nothing is cut
SELECT obs.info(repeat('x', 300)) AS id \gset
SELECT length(message) AS chars FROM obs.logs WHERE log_id = :id;
RESET obs.max_message_size;
SELECT pg_temp.err($$SET obs.max_message_size = 10$$);

-- bad input: every case is an error with its own SQLSTATE, nothing stored
SELECT count(*) AS before FROM obs.logs \gset
SELECT pg_temp.err($$SELECT obs.log('loud', 'x')$$);
SELECT pg_temp.err($$SELECT obs.log(NULL, 'x')$$);
SELECT pg_temp.err($$SELECT obs.log('info', NULL)$$);
SELECT pg_temp.err($$SELECT obs.info(NULL)$$);
SELECT pg_temp.err($$SELECT obs.info('x', context => '[1, 2]')$$);
SELECT pg_temp.err($$SELECT obs.info('x', tags => '"production"')$$);
SELECT pg_temp.err($$SELECT obs.error('x', sqlstate => 'oops')$$);
SELECT count(*) = :before AS nothing_stored FROM obs.logs;

-- writes follow the caller's transaction and its read-only state
BEGIN;
SELECT obs.info('rolled back') IS NOT NULL AS stored;
ROLLBACK;
SELECT count(*) AS rolled_back_rows FROM obs.logs WHERE message = 'rolled back';
BEGIN READ ONLY;
SELECT pg_temp.err($$SELECT obs.info('read only')$$);
ROLLBACK;

-- obs writes only into the table shape it was built for
ALTER TABLE obs.logs ADD COLUMN note text;
SELECT pg_temp.err($$SELECT obs.info('x')$$);
ALTER TABLE obs.logs DROP COLUMN note;
-- a dropped column is skipped: obs writes again, on every direct path
SELECT pg_temp.err($$SELECT obs.info('after drop column', '{"k": 1}')$$);
SELECT level, logger IS NOT NULL AS has_logger, context, backend_pid = pg_backend_pid() AS pid
  FROM obs.logs WHERE message = 'after drop column';
ALTER TABLE obs.spans ADD COLUMN x int;
ALTER TABLE obs.spans DROP COLUMN x;
ALTER TABLE obs.metric_points ADD COLUMN x int;
ALTER TABLE obs.metric_points DROP COLUMN x;
SELECT obs.finish_span(obs.start_span('after drop column', 'CUSTOM')) IS NOT NULL AS finished;
SELECT service_type, status, span_seq > 0 AS seq FROM obs.spans WHERE operation = 'after drop column';
SELECT obs.record_metric('after.drop.column', 2.5);
SELECT m.value FROM obs.metric_points m JOIN obs.metric_series s USING (series_id)
 WHERE s.name = 'after.drop.column';
-- a dropped obs column is still refused
ALTER TABLE obs.logs DROP COLUMN backend_pid;
SELECT pg_temp.err($$SELECT obs.info('x')$$);
-- (reinstall to recover)
SET client_min_messages = warning;
DROP EXTENSION obs CASCADE;
CREATE EXTENSION obs;
RESET client_min_messages;
-- CHECK constraints a DBA adds are honoured like an INSERT's
ALTER TABLE obs.logs ADD CONSTRAINT no_secrets CHECK (message NOT LIKE '%password%');
SELECT split_part(pg_temp.err($$SELECT obs.info('the password is hunter2')$$), ' [', 1) AS err;
SELECT obs.info('nothing to hide') IS NOT NULL AS stored;
SELECT message FROM obs.logs;
-- the writers cache the oids of enum labels: a renamed label is seen at once
SELECT obs.info('before rename') IS NOT NULL AS stored;
ALTER TYPE obs.log_level RENAME VALUE 'INFO' TO 'INFORMATION';
SELECT split_part(pg_temp.err($$SELECT obs.info('after rename')$$), ' from type', 1) AS err;
ALTER TYPE obs.log_level RENAME VALUE 'INFORMATION' TO 'INFO';
SELECT obs.info('renamed back') IS NOT NULL AS stored;
SELECT level, message FROM obs.logs WHERE message <> 'nothing to hide' ORDER BY log_id;
-- a NOT NULL a DBA adds is honoured like an INSERT's
DELETE FROM obs.logs WHERE context IS NULL;
ALTER TABLE obs.logs ALTER COLUMN context SET NOT NULL;
SELECT split_part(pg_temp.err($$SELECT obs.info('no context')$$), ' [', 1) AS err;
SELECT obs.info('with context', '{"a": 1}') IS NOT NULL AS stored;
ALTER TABLE obs.logs ALTER COLUMN context DROP NOT NULL;
SELECT message FROM obs.logs WHERE message LIKE '%context' ORDER BY log_id;
