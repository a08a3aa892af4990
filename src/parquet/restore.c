/*-------------------------------------------------------------------------
 * restore.c
 *	  obs.restore_archive(path, target): COPY target FROM path (FORMAT
 *	  parquet), the table named or read from a Hive-style archive path.
 *
 * A path with a "signal=<name>" directory (signal=logs/date=.../part-0.parquet,
 * the archive layout) names its table: logs, spans, metrics (metric_points)
 * or alerts, in obs's schema.  The load is import.c's, with the checks of
 * COPY FROM a server file: pg_read_server_files and INSERT.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "store/store.h"
#include "pq_read.h"

PG_FUNCTION_INFO_V1(obs_restore_archive);

static const char *const signals[][2] = {
	{"logs", "logs"},
	{"spans", "spans"},
	{"metrics", "metric_points"},
	{"alerts", "alerts"},
};

/* the table of a Hive-style archive path */
static Oid
archive_table(const char *path)
{
	const char *p = path;
	const char *found = NULL;
	size_t		len;

	/* the last "signal=" directory wins */
	while ((p = strstr(p, "signal=")) != NULL)
	{
		if (p == path || p[-1] == '/')
			found = p + strlen("signal=");
		p++;
	}
	if (found == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot tell which table archive \"%s\" belongs to", path),
				 errhint("Name the table, e.g. obs.restore_archive(path, 'obs.logs'), or use a path with a signal=<signal> directory.")));
	len = strcspn(found, "/");
	for (int i = 0; i < (int) lengthof(signals); i++)
	{
		if (strlen(signals[i][0]) == len && strncmp(found, signals[i][0], len) == 0)
		{
			Oid			relid = get_relname_relid(signals[i][1], obs_schema_oid());

			if (!OidIsValid(relid))
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_TABLE),
						 errmsg("relation \"%s\" of obs does not exist", signals[i][1])));
			return relid;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown signal \"%.*s\" in archive path \"%s\"", (int) len, found, path),
			 errhint("Signals are logs, spans, metrics and alerts.")));
	return InvalidOid;			/* keep compiler quiet */
}

Datum
obs_restore_archive(PG_FUNCTION_ARGS)
{
	CopyStmt   *stmt = makeNode(CopyStmt);
	char	   *path;
	Oid			target;
	char	   *relname;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("path must not be NULL")));
	path = text_to_cstring(PG_GETARG_TEXT_PP(0));
	target = PG_ARGISNULL(1) ? archive_table(path) : PG_GETARG_OID(1);
	relname = get_rel_name(target);
	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", target)));

	stmt->relation = makeRangeVar(get_namespace_name(get_rel_namespace(target)), relname, -1);
	stmt->is_from = true;
	stmt->filename = path;
	stmt->options = list_make1(makeDefElem("format", (Node *) makeString("parquet"), -1));
	PG_RETURN_INT64((int64) obs_pq_import(stmt, "SELECT obs.restore_archive()"));
}
