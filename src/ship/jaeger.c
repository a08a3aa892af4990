/*-------------------------------------------------------------------------
 * jaeger.c
 *	  obs.export_jaeger(dir): every trace as a Jaeger UI JSON file.
 *
 * The document is obs.jaeger_json() ({"data": [{traceID, spans,
 * processes}]}, microsecond times, CHILD_OF references), written to
 * <dir>/traces_<UTC timestamp>.json with the rules of the Parquet save_*
 * functions: the privilege core COPY needs to write a server file, an
 * absolute directory (created when missing), and an atomic write (a
 * temporary file in dir, fsync, durable_rename), removed on error.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog/pg_authid.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "store/store.h"
#include "ship.h"

PG_FUNCTION_INFO_V1(obs_export_jaeger);

/* the file's path, <dir>/traces_20261130T221500.123456Z.json */
static char *
stamp_path(const char *dir, TimestampTz ts)
{
	struct pg_tm tm;
	fsec_t		fsec;
	size_t		dirlen = strlen(dir);

	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		elog(ERROR, "timestamp out of range");
	while (dirlen > 1 && dir[dirlen - 1] == '/')
		dirlen--;
	return psprintf("%.*s/traces_%04d%02d%02dT%02d%02d%02d.%06dZ.json",
					(int) dirlen, dir, tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

static void
prepare_dir(const char *dir)
{
	struct stat st;

	if (!is_absolute_path(dir))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for Jaeger export directory \"%s\"", dir),
				 errhint("Give an absolute path on the database server.")));
	if (stat(dir, &st) != 0)
	{
		if (errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat directory \"%s\": %m", dir)));
		if (pg_mkdir_p(pstrdup(dir), S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", dir)));
		if (chmod(dir, S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not change permissions of directory \"%s\": %m", dir)));
	}
	else if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a directory", dir)));
}

Datum
obs_export_jaeger(PG_FUNCTION_ARGS)
{
	char	   *dir = text_to_cstring(PG_GETARG_TEXT_PP(0));
	char	   *path;
	char	   *tmp;
	char	   *doc;
	size_t		len;
	TimestampTz ts = GetCurrentTimestamp();
	struct stat st;

	if (!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser or have privileges of the pg_write_server_files role to export to a file"),
				 errhint("obs.jaeger_json() returns the same document to anyone who may read obs.spans.")));
	prepare_dir(dir);
	for (int attempt = 0;; attempt++)
	{
		path = stamp_path(dir, ts);
		if (stat(path, &st) != 0 || attempt > 1000)
			break;
		ts++;
	}

	/* the document, with the caller's rights (SELECT on obs.spans) */
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(psprintf("SELECT %s.jaeger_json()::text",
							 quote_identifier(get_namespace_name(obs_schema_oid()))),
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not build the Jaeger document");
	doc = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	doc = MemoryContextStrdup(CurrentMemoryContext, doc ? doc : "{\"data\": []}");
	len = strlen(doc);

	tmp = psprintf("%s.obs-%d.tmp", path, MyProcPid);
	/* with a final newline; as readable as COPY TO's files, so the Jaeger UI's user can load it */
	obs_write_file_durably(tmp, path, psprintf("%s\n", doc), len + 1, O_EXCL);
	SPI_finish();
	PG_RETURN_TEXT_P(cstring_to_text(path));
}
