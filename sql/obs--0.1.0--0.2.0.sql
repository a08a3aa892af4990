/*
 * obs 0.1.0 -> 0.2.0
 *
 * Every schema change of 0.2.0, in the order of sql/sections/.  The upgrade
 * test (test/suites/upgrade.sh) checks that a 0.1.0 database upgraded with
 * this script has exactly the objects of a fresh 0.2.0 install.
 */

\echo Use "ALTER EXTENSION obs UPDATE TO '0.2.0'" to load this file. \quit

/* ---- buffered ingest: issue 7 item 25 (obs.ingest_stats.lost_at_crash_max) ---- */
/*
 * The result type of obs.ingest_stats() gains a column: the view and the
 * function are dropped and created again, and the privileges granted on
 * them (obs.grant_reader(), or by hand) are granted again.
 */
DO $ingest_stats$
DECLARE
    grants text;
BEGIN
    SELECT pg_catalog.string_agg(pg_catalog.format('GRANT %s ON %s TO %s', a.privilege_type, o.target,
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_catalog.quote_ident(pg_catalog.pg_get_userbyid(a.grantee)) END),
               '; ')
      INTO grants
      FROM (SELECT 'TABLE @extschema@.ingest_stats' AS target, c.relacl AS acl, c.relowner AS owner
              FROM pg_catalog.pg_class c WHERE c.oid = '@extschema@.ingest_stats'::pg_catalog.regclass
            UNION ALL
            SELECT 'FUNCTION @extschema@.ingest_stats()', p.proacl, p.proowner
              FROM pg_catalog.pg_proc p WHERE p.oid = '@extschema@.ingest_stats()'::pg_catalog.regprocedure) o,
           LATERAL pg_catalog.aclexplode(o.acl) a
     WHERE a.grantee <> o.owner;

    DROP VIEW @extschema@.ingest_stats;
    DROP FUNCTION @extschema@.ingest_stats();
    CREATE FUNCTION @extschema@.ingest_stats(
        OUT database text, OUT signal text, OUT accepted bigint, OUT stored bigint,
        OUT dropped_full bigint, OUT dropped_other bigint, OUT dead_lettered bigint,
        OUT pending bigint, OUT sampled_out bigint, OUT pending_bytes bigint,
        OUT buffer_size bigint, OUT batches bigint, OUT retries bigint,
        OUT last_flush_at timestamptz, OUT worker_pid integer, OUT lost_at_crash_max bigint)
    RETURNS SETOF record AS 'MODULE_PATHNAME', 'obs_ingest_stats' LANGUAGE C VOLATILE STRICT PARALLEL RESTRICTED;
    COMMENT ON FUNCTION @extschema@.ingest_stats() IS
        'counters of the buffered write path since the server (re)initialised shared memory; lost_at_crash_max bounds what the crash before lost';
    CREATE VIEW @extschema@.ingest_stats WITH (security_invoker = true) AS SELECT * FROM @extschema@.ingest_stats();
    COMMENT ON VIEW @extschema@.ingest_stats IS
        'per database and signal: accepted = stored + dropped_full + dropped_other + dead_lettered + pending; sampled_out is apart';

    IF grants IS NOT NULL THEN
        EXECUTE grants;
    END IF;
END
$ingest_stats$;
