/*-------------------------------------------------------------------------
 * save.c
 *	  obs.save_metrics_to_parquet(), obs.save_to_parquet(),
 *	  obs.save_logs_to_parquet(), obs.save_spans_to_parquet().
 *
 * Each writes one Parquet file per table or view into a server directory,
 * named <prefix>_<UTC timestamp>.parquet with the timestamp in ISO 8601
 * basic format down to the microsecond (20261128T051000.123456Z), the same
 * for every file of one call.  They need the privilege core COPY needs to
 * write a server file, and SELECT on what they read.  Files are written
 * atomically (export.c); if a later file of a call fails, the files the
 * call already wrote are removed again.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "funcapi.h"
#include "parser/parser.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "store/store.h"
#include "pq_export.h"

PG_FUNCTION_INFO_V1(obs_save_metrics_to_parquet);
PG_FUNCTION_INFO_V1(obs_save_to_parquet);
PG_FUNCTION_INFO_V1(obs_save_logs_to_parquet);
PG_FUNCTION_INFO_V1(obs_save_spans_to_parquet);

typedef struct SaveTarget
{
	const char *prefix;			/* file name prefix */
	const char *relname;		/* table or view in schema obs */
} SaveTarget;

static char *
stamp_path(const char *dir, const char *prefix, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	size_t		dirlen = strlen(dir);

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--;
	return psprintf("%.*s/%s_%04d%02d%02dT%02d%02d%02d.%06dZ.parquet",
					(int) dirlen, dir, prefix, tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

static void
save_tables(FunctionCallInfo fcinfo, const SaveTarget *targets, int ntargets)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *dir;
	char	  **paths = palloc0(sizeof(char *) * ntargets);
	const char *schema;
	TimestampTz ts = GetCurrentTimestamp();
	ObsPqOptions opts;
	struct stat stbuf;
	volatile int done = 0;		/* read in PG_CATCH: must survive the longjmp */

	obs_require_arg(fcinfo, 0, "dir");
	dir = text_to_cstring(PG_GETARG_TEXT_PP(0));
	obs_pq_check_write_privilege();
	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for Parquet export directory \"%s\"", dir),
				 errhint("Give an absolute path on the database server.")));
	/* the longest path of the call must fit before anything is created */
	for (int i = 0; i < ntargets; i++)
		obs_pq_check_path(stamp_path(dir, targets[i].prefix, ts));
	if (stat(dir, &stbuf) != 0)
	{
		if (errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat directory \"%s\": %m", dir)));
		if (pg_mkdir_p(pstrdup(dir), S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", dir)));
		/* the server's umask is 077; make it as readable as the files in it */
		if (chmod(dir, S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not change permissions of directory \"%s\": %m", dir)));
	}
	else if (!S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a directory", dir)));

	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	schema = quote_identifier(get_namespace_name(obs_schema_oid()));

	/* one timestamp for the call, moved on if any name is taken */
	for (int attempt = 0;; attempt++)
	{
		bool		taken = false;

		for (int i = 0; i < ntargets; i++)
		{
			paths[i] = stamp_path(dir, targets[i].prefix, ts);
			if (stat(paths[i], &stbuf) == 0)
				taken = true;
		}
		if (!taken || attempt > 1000)
			break;
		ts++;
	}

	obs_pq_default_options(&opts);
	PG_TRY();
	{
		for (int i = 0; i < ntargets; i++)
		{
			char	   *sql = psprintf("SELECT * FROM %s.%s", schema,
									   quote_identifier(targets[i].relname));
			List	   *raw = raw_parser(sql, RAW_PARSE_DEFAULT);
			Datum		value;
			bool		isnull = false;

			obs_pq_export(linitial_node(RawStmt, raw)->stmt, sql, paths[i], &opts);
			done++;
			value = CStringGetTextDatum(paths[i]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
		}
	}
	PG_CATCH();
	{
		for (int i = 0; i < done; i++)
			unlink(paths[i]);
		PG_RE_THROW();
	}
	PG_END_TRY();
}

Datum
obs_save_metrics_to_parquet(PG_FUNCTION_ARGS)
{
	static const SaveTarget t[] = {{"metrics", "metrics"}, {"alerts", "alerts"}};

	save_tables(fcinfo, t, lengthof(t));
	return (Datum) 0;
}

Datum
obs_save_to_parquet(PG_FUNCTION_ARGS)
{
	static const SaveTarget t[] = {{"flow_executions", "flow_runs"},
	{"task_executions", "task_runs"}};

	save_tables(fcinfo, t, lengthof(t));
	return (Datum) 0;
}

Datum
obs_save_logs_to_parquet(PG_FUNCTION_ARGS)
{
	static const SaveTarget t[] = {{"logs", "logs"}};

	save_tables(fcinfo, t, lengthof(t));
	return (Datum) 0;
}

Datum
obs_save_spans_to_parquet(PG_FUNCTION_ARGS)
{
	static const SaveTarget t[] = {{"spans", "spans"}};

	save_tables(fcinfo, t, lengthof(t));
	return (Datum) 0;
}
