/*-------------------------------------------------------------------------
 * owner.c
 *	  obs._archive_claim(cfg, keep): the owner file of a signal at an
 *	  archive location, signal=<s>/_owner.<system identifier>.<oid>.json.
 *
 * The files of a signal at a location belong to one database: its
 * obs.archived_partitions numbers them (part-<n>), its manifest lists
 * them, and a file at a path it has no record of is taken for one a crash
 * left and replaced.  Two databases archiving one signal to one location
 * would replace each other's files, after retention dropped their rows.
 *
 * So a database puts its own owner file there, under a name of its own
 * (no conditional write is needed: any S3-compatible server will do), and
 * then lists the signal's owner files: another database's refuses the
 * location (55006, naming that database).  On S3 the file is put again at
 * each claim, so that a lifecycle rule expiring old objects never takes
 * it; a directory's is written once.  A database refused that has no
 * archived file there (keep false) removes its owner file again, so that
 * a second database set to the location by mistake leaves the first one
 * archiving; when two claim at once, each sees the other and at most one
 * goes on.  obs.set_archive() claims when it can reach the location, and
 * the archive run claims before it writes a signal's first file each run.
 *
 * A database is named as obs.archive_config.database_id names it:
 * <system identifier>:<database OID>, the same for a promoted standby
 * (which goes on archiving), another for a dump restored elsewhere.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/xlog.h"
#include "commands/dbcommands.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/fd.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "core/core.h"
#include "archive.h"

PG_FUNCTION_INFO_V1(obs_archive_claim);

#define OWNER_PREFIX "_owner."
#define OWNER_SUFFIX ".json"

/* <system identifier>:<database OID>, as set_archive() formats it */
char *
obs_archive_database_id(void)
{
	return psprintf(INT64_FORMAT ":%u", (int64) GetSystemIdentifier(), MyDatabaseId);
}

/* is name an owner file's name? */
static bool
owner_name(const char *name)
{
	size_t		n = strlen(name);

	return n > strlen(OWNER_PREFIX) + strlen(OWNER_SUFFIX) &&
		strncmp(name, OWNER_PREFIX, strlen(OWNER_PREFIX)) == 0 &&
		strcmp(name + n - strlen(OWNER_SUFFIX), OWNER_SUFFIX) == 0;
}

/* the database an owner file's name names: _owner.<a>.<b>.json is a:b */
static char *
owner_of(const char *name)
{
	char	   *id = pnstrdup(name + strlen(OWNER_PREFIX),
							  strlen(name) - strlen(OWNER_PREFIX) - strlen(OWNER_SUFFIX));
	char	   *dot = strrchr(id, '.');

	if (dot)
		*dot = ':';
	return id;
}

static void
refuse(const ObsArchiveTarget *t, const char *signal, const char *other,
	   const char *here)
{
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_IN_USE),
			 errmsg("archive location \"%s\" belongs to another database", t->location),
			 errdetail("Its file \"signal=%s/%s\" gives the files of signal \"%s\" there to database %s; this is database %s (system identifier:database OID). Two databases archiving a signal to one location would replace each other's files.",
					   signal, other, signal, owner_of(other), here),
			 errhint("Give each database a location of its own. Remove that file only if database %s no longer archives there.",
					 owner_of(other))));
}

/* the owner files in directory dir other than mine: the first, or NULL */
static char *
other_local_owner(const char *dir, const char *mine)
{
	DIR		   *d = AllocateDir(dir);
	struct dirent *de;
	char	   *other = NULL;

	if (d == NULL)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open directory \"%s\": %m", dir)));
	while ((de = ReadDir(d, dir)) != NULL)
	{
		if (owner_name(de->d_name) && strcmp(de->d_name, mine) != 0 &&
			(other == NULL || strcmp(de->d_name, other) < 0))
			other = pstrdup(de->d_name);
	}
	FreeDir(d);
	return other;
}

static void
claim_local(const ObsArchiveTarget *t, const char *signal, const char *mine,
			const char *body, bool keep, const char *here)
{
	char	   *rel = psprintf("signal=%s/%s", signal, mine);
	char	   *dir = psprintf("%s/signal=%s", t->dir, signal);
	char	   *file = psprintf("%s/%s", t->dir, rel);
	char	   *other;
	struct stat st;

	obs_archive_make_dirs(t->dir, rel);
	if (lstat(file, &st) == 0)
	{
		if (!S_ISREG(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("archive owner file \"%s\" is not a regular file", file)));
	}
	else if (errno != ENOENT)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat file \"%s\": %m", file)));
	else
		obs_write_file_durably(psprintf("%s/.%s.obs-%d.tmp", dir, mine, MyProcPid),
							   file, body, strlen(body), O_TRUNC | O_NOFOLLOW);
	other = other_local_owner(dir, mine);
	if (other == NULL)
		return;
	if (!keep && unlink(file) == 0)
		fsync_fname(dir, true);
	refuse(t, signal, other, here);
}

static void
claim_s3(const ObsArchiveTarget *t, const char *signal, const char *mine,
		 const char *body, bool keep, const char *here)
{
	char	   *rel = psprintf("signal=%s/%s", signal, mine);
	char	   *head = psprintf("signal=%s/", signal);
	List	   *keys;
	ListCell   *lc;
	char	   *other = NULL;

	/* PUT and HEAD: an owner file of ours is there, whoever else's is */
	obs_archive_s3_put_bytes(t, rel, body, strlen(body), "application/json");
	keys = obs_archive_s3_list(t, psprintf("%s%s", head, OWNER_PREFIX));
	foreach(lc, keys)
	{
		const char *k = lfirst(lc);
		const char *name = k + strlen(head);

		if (strncmp(k, head, strlen(head)) != 0 || strchr(name, '/') != NULL ||
			!owner_name(name) || strcmp(name, mine) == 0)
			continue;
		if (other == NULL || strcmp(name, other) < 0)
			other = pstrdup(name);
	}
	if (other == NULL)
		return;
	/* best effort: one left names this database to the other, who can remove it */
	if (!keep)
		obs_archive_s3_delete(t, rel, true);
	refuse(t, signal, other, here);
}

/*
 * obs._archive_claim(cfg, keep): claim cfg's signal at cfg's location for
 * this database, or refuse (55006) a location another database claimed.
 * keep: this database has archived files of the signal there (its owner
 * file stays even when refused).
 */
Datum
obs_archive_claim(PG_FUNCTION_ARGS)
{
	HeapTupleHeader cfg;
	ObsArchiveTarget *t;
	char	   *signal;
	char	   *here = obs_archive_database_id();
	char	   *mine;
	char	   *dbname = get_database_name(MyDatabaseId);
	StringInfoData body;

	obs_archive_require_superuser();
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the arguments of obs._archive_claim() must not be null")));
	cfg = PG_GETARG_HEAPTUPLEHEADER(0);
	t = obs_archive_target(cfg);
	signal = obs_archive_cfg_text(cfg, "signal", true);
	mine = psprintf(OWNER_PREFIX INT64_FORMAT ".%u" OWNER_SUFFIX,
					(int64) GetSystemIdentifier(), MyDatabaseId);

	initStringInfo(&body);
	appendStringInfo(&body, "{\"format\": \"obs-archive-owner\", \"version\": 1, \"signal\": ");
	escape_json(&body, signal);
	appendStringInfo(&body, ", \"database_id\": \"%s\", \"database\": ", here);
	escape_json(&body, dbname ? dbname : "");
	appendStringInfoString(&body, "}\n");

	if (t->s3)
		claim_s3(t, signal, mine, body.data, PG_GETARG_BOOL(1), here);
	else
		claim_local(t, signal, mine, body.data, PG_GETARG_BOOL(1), here);
	PG_RETURN_VOID();
}
