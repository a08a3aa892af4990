/*
 * obs: the observability store for data pipelines.
 *
 * This script is built by the Makefile from the files in sql/sections/, in name
 * order; edit the sections, not the built obs--<version>.sql.  Every schema
 * change also goes into the upgrade script from the previous version.
 */

\echo Use "CREATE EXTENSION obs" to load this file. \quit

/*
 * The schema guard (attack fixes).  The control file names schema obs, and
 * CREATE EXTENSION uses a schema of that name when one exists already.  A
 * role that may create schemas could make schema obs first and plant
 * operators and functions in it: the BEGIN ATOMIC bodies below bind their
 * operators when they are created, with the script's search_path (obs
 * first after pg_catalog), so a planted obs./(float8, numeric) would be
 * bound into them and later run as whoever calls them, a superuser
 * included.  So the script refuses a schema obs that is owned by a role
 * other than a superuser, on which a role other than a superuser may
 * create objects, or that holds an object owned by a role other than a
 * superuser.  Every name is qualified: nothing here resolves through the
 * schema being checked.
 */
DO $obs_schema_guard$
DECLARE
    s oid := '@extschema@'::pg_catalog.regnamespace;
    culprit text;
BEGIN
    SELECT pg_catalog.format('schema %s is owned by role %s, which is not a superuser',
                             n.nspname, pg_catalog.quote_ident(r.rolname))
      INTO culprit
      FROM pg_catalog.pg_namespace n
      JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) n.nspowner
     WHERE n.oid OPERATOR(pg_catalog.=) s AND NOT r.rolsuper;
    IF culprit IS NULL THEN
        SELECT pg_catalog.format('role %s may create objects in schema %s',
                                 CASE a.grantee WHEN 0 THEN 'PUBLIC'
                                      ELSE pg_catalog.quote_ident(r.rolname) END, n.nspname)
          INTO culprit
          FROM pg_catalog.pg_namespace n
          CROSS JOIN LATERAL pg_catalog.aclexplode(n.nspacl) a
          LEFT JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) a.grantee
         WHERE n.oid OPERATOR(pg_catalog.=) s
           AND a.privilege_type OPERATOR(pg_catalog.=) 'CREATE'
           AND (r.rolsuper IS NOT TRUE)
         LIMIT 1;
    END IF;
    IF culprit IS NULL THEN
        SELECT pg_catalog.format('%s is owned by role %s, which is not a superuser',
                                 o.what, pg_catalog.quote_ident(r.rolname))
          INTO culprit
          FROM (SELECT pg_catalog.format('function %s', p.oid::pg_catalog.regprocedure) AS what, p.proowner AS owner
                  FROM pg_catalog.pg_proc p WHERE p.pronamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('operator %s', o.oid::pg_catalog.regoperator), o.oprowner
                  FROM pg_catalog.pg_operator o WHERE o.oprnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('type %s', t.oid::pg_catalog.regtype), t.typowner
                  FROM pg_catalog.pg_type t WHERE t.typnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('relation %s', c.oid::pg_catalog.regclass), c.relowner
                  FROM pg_catalog.pg_class c WHERE c.relnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('collation %s', c.oid::pg_catalog.regcollation), c.collowner
                  FROM pg_catalog.pg_collation c WHERE c.collnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('conversion %s', c.conname), c.conowner
                  FROM pg_catalog.pg_conversion c WHERE c.connamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('operator family %s', f.opfname), f.opfowner
                  FROM pg_catalog.pg_opfamily f WHERE f.opfnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('text search configuration %s', c.cfgname), c.cfgowner
                  FROM pg_catalog.pg_ts_config c WHERE c.cfgnamespace OPERATOR(pg_catalog.=) s
                UNION ALL
                SELECT pg_catalog.format('text search dictionary %s', d.dictname), d.dictowner
                  FROM pg_catalog.pg_ts_dict d WHERE d.dictnamespace OPERATOR(pg_catalog.=) s) o
          JOIN pg_catalog.pg_roles r ON r.oid OPERATOR(pg_catalog.=) o.owner
         WHERE NOT r.rolsuper
         LIMIT 1;
    END IF;
    IF culprit IS NOT NULL THEN
        RAISE EXCEPTION 'obs cannot be installed or updated in schema %: %', '@extschema@', culprit
            USING ERRCODE = '42501',
                  DETAIL = 'Functions of obs bind the operators of their schema when they are created, and run as their caller; objects that another role controls there could run as a superuser.',
                  HINT = 'Drop schema @extschema@ (or give it and everything in it to a superuser, and revoke CREATE on it from other roles), then try again.';
    END IF;
END
$obs_schema_guard$;
