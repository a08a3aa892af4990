-- installation: schema, objects, no library preload needed
\ir test/setup.sql
SELECT extname, extversion, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE extname = 'obs';
-- the tables
SELECT c.relname, c.relkind FROM pg_class c
  JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE c.relkind IN ('r', 'v') ORDER BY c.relkind, c.relname;
-- every table, view and function obs owns has a comment
SELECT c.relname AS uncommented FROM pg_class c
  JOIN pg_depend d ON d.objid = c.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.proname AS uncommented FROM pg_proc p
  JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE obj_description(p.oid, 'pg_proc') IS NULL
   AND p.proname !~ '^(trace_id|span_id)_(in|out|recv|send|cmp|eq|ne|lt|le|gt|ge|hash)$'
 ORDER BY 1;
-- no SECURITY DEFINER function without a pinned search_path
SELECT p.proname FROM pg_proc p
  JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE p.prosecdef AND NOT coalesce(p.proconfig::text LIKE '%search_path=pg_catalog, pg_temp%', false);
-- every SQL and PL/pgSQL function resolves names in pg_catalog only: a
-- pinned search_path, or a BEGIN ATOMIC body (bound at creation); the
-- offenders, if any, and how many functions of each kind were checked
SELECT p.oid::regprocedure AS unpinned FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE l.lanname IN ('sql', 'plpgsql')
   AND p.prosqlbody IS NULL
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (p.proconfig), false)
 ORDER BY 1::text;
SELECT l.lanname, p.prosqlbody IS NOT NULL AS begin_atomic, count(*) > 0 AS some FROM pg_proc p
  JOIN pg_language l ON l.oid = p.prolang
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
  JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'obs'
 WHERE l.lanname IN ('sql', 'plpgsql')
 GROUP BY 1, 2 ORDER BY 1, 2;
-- the seed's service types and levels
SELECT enum_range(NULL::obs.log_level);
SELECT enum_range(NULL::obs.service_type);
SELECT enum_range(NULL::obs.run_state);
-- the settings
SELECT name, setting, unit, context FROM pg_settings WHERE name LIKE 'obs.%' ORDER BY name;
-- dropping removes every object (the schema CREATE EXTENSION made stays, empty)
DROP EXTENSION obs;
SELECT count(*) AS relations_left FROM pg_class WHERE relnamespace = 'obs'::regnamespace;
SELECT count(*) AS functions_left FROM pg_proc WHERE pronamespace = 'obs'::regnamespace;
SELECT count(*) AS operators_left FROM pg_operator WHERE oprcode::text LIKE 'obs.%';
CREATE EXTENSION obs;
