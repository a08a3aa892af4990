/*-------------------------------------------------------------------------
 * archive.c
 *	  obs._archive_write(cfg, part, path): one time partition as a Parquet
 *	  file at <location>/<path>, confirmed; obs._archive_put(cfg, path,
 *	  body): one small text object (the manifest) the same way.
 *
 * obs.run_maintenance() (sql/sections/36_archive.sql) calls them for each
 * partition older than the archive's age and records the file in
 * obs.archived_partitions only when they return: a function that returns
 * has confirmed its object, one that fails has left no visible object but
 * at most an orphan temporary file or an unfinished multipart upload,
 * which obs._archive_cleanup() removes at the signal's next run.
 *
 * The rows are read with SELECT * FROM <partition> under the caller's
 * snapshot: ACCESS SHARE on that old partition only, so writers to the
 * current partitions never wait.  The Parquet writer (obs_pq_export_file)
 * reports the bytes it wrote and their SHA-256.
 *
 * A server directory: the file is written to a temporary name beside its
 * target, fsync'd and renamed (the writer does this), the new directories
 * fsync'd, then the file is read back: its size and SHA-256 must be the
 * writer's, and it must begin and end with the Parquet magic.
 * S3: the file is written to base/pgsql_tmp (removed at once, and by the
 * server's restart after a crash), then uploaded and confirmed by s3.c.
 *
 * Superuser only: these write server files and use the AWS credentials.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "common/file_perm.h"
#include "executor/executor.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "storage/fd.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "core/core.h"
#include "parquet/pq_export.h"
#include "archive.h"

PG_FUNCTION_INFO_V1(obs_archive_write);
PG_FUNCTION_INFO_V1(obs_archive_put);
PG_FUNCTION_INFO_V1(obs_archive_cleanup);

void
obs_archive_require_superuser(void)
{
	if (!superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write an archive"),
				 errdetail("The archive writes server files and uses the AWS credentials of the obs.aws_* settings."),
				 errhint("Run obs.run_maintenance() as a superuser when an archive is set.")));
}

char *
obs_archive_cfg_text(HeapTupleHeader cfg, const char *name, bool required)
{
	bool		isnull;
	Datum		d = GetAttributeByName(cfg, name, &isnull);

	if (isnull)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("archive setting \"%s\" must not be null", name)));
		return NULL;
	}
	return TextDatumGetCString(d);
}

/* the target of an obs.archive_config row (set_archive checked it) */
ObsArchiveTarget *
obs_archive_target(HeapTupleHeader cfg)
{
	ObsArchiveTarget *t = palloc0(sizeof(ObsArchiveTarget));
	char	   *loc = obs_archive_cfg_text(cfg, "location", true);
	bool		isnull;
	Datum		d;

	t->location = loc;
	if (strncmp(loc, "s3://", 5) == 0)
	{
		const char *b = loc + 5;
		size_t		blen = strcspn(b, "/");
		const char *p = b + blen;
		size_t		plen;

		t->s3 = true;
		t->bucket = pnstrdup(b, blen);
		while (*p == '/')
			p++;
		plen = strlen(p);
		while (plen > 0 && p[plen - 1] == '/')
			plen--;
		t->prefix = plen ? psprintf("%.*s/", (int) plen, p) : "";
		if (t->bucket[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("archive location \"%s\" names no bucket", loc)));
		t->endpoint = obs_archive_cfg_text(cfg, "endpoint", false);
		if (t->endpoint)
		{
			size_t		n = strlen(t->endpoint);

			while (n > 0 && t->endpoint[n - 1] == '/')
				t->endpoint[--n] = '\0';
		}
		t->region = obs_archive_cfg_text(cfg, "region", true);
		d = GetAttributeByName(cfg, "part_size_mb", &isnull);
		t->part_size = (size_t) (isnull ? 64 : DatumGetInt32(d)) * 1024 * 1024;
		d = GetAttributeByName(cfg, "tls_verify", &isnull);
		t->tls_verify = isnull ? true : DatumGetBool(d);
	}
	else
	{
		size_t		n = strlen(loc);

		if (!is_absolute_path(loc))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("archive location \"%s\" is neither an absolute directory nor s3://bucket/prefix", loc)));
		while (n > 1 && loc[n - 1] == '/')
			n--;
		t->dir = pnstrdup(loc, n);
	}
	return t;
}

/* a relative object path: no "..", no leading '/', no empty segment */
static void
check_rel_path(const char *path)
{
	if (path[0] == '\0' || path[0] == '/' || strstr(path, "//") ||
		strcmp(path, "..") == 0 || strncmp(path, "../", 3) == 0 ||
		strstr(path, "/../") || (strlen(path) >= 3 && strcmp(path + strlen(path) - 3, "/..") == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("archive path \"%s\" is not a relative path inside the archive", path)));
}

/*
 * A directory of the lake must be one only the server's user (or root) can
 * change: another user who may create or rename entries in it could replace
 * or remove a confirmed file after retention dropped its partition, or
 * plant a symlink that has the server write elsewhere.  Refused: an owner
 * other than the server's user and root, write permission for others, and
 * for the group unless it is the server's group.
 */
static void
check_dir_safe(const char *dir, const struct stat *st)
{
	if (st->st_uid != geteuid() && st->st_uid != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("archive directory \"%s\" is not owned by the server's user", dir),
				 errdetail("Its owner could replace or remove archived files, whose partitions retention drops."),
				 errhint("Archive to a directory the server's user owns.")));
	if ((st->st_mode & S_IWOTH) != 0 ||
		((st->st_mode & S_IWGRP) != 0 && st->st_gid != getegid()))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("archive directory \"%s\" is writable by other users", dir),
				 errdetail("Its permissions are %04o; another user could replace or remove archived files, whose partitions retention drops.",
						   (unsigned int) (st->st_mode & 07777)),
				 errhint("Remove the write permission of group and others (chmod go-w).")));
}

/*
 * make the directories of file path under root (root too), fsync'ing each
 * one made and its parent; each must be safe (check_dir_safe)
 */
void
obs_archive_make_dirs(const char *root, const char *path)
{
	char	   *full = psprintf("%s/%s", root, path);
	char	   *slash = strrchr(full, '/');
	char	   *p;
	struct stat st;

	*slash = '\0';
	/* the location itself, as the save functions make their directory */
	if (stat(root, &st) != 0)
	{
		if (errno != ENOENT)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not stat directory \"%s\": %m", root)));
		if (pg_mkdir_p(pstrdup(root), S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not create directory \"%s\": %m", root)));
	}
	else if (!S_ISDIR(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("archive location \"%s\" is not a directory", root)));
	else
		check_dir_safe(root, &st);
	p = full + strlen(root);
	for (;;)
	{
		char		save = '\0';

		p = strchr(p + 1, '/');
		if (p)
		{
			save = *p;
			*p = '\0';
		}
		if (stat(full, &st) != 0)
		{
			if (errno != ENOENT)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat directory \"%s\": %m", full)));
			if (mkdir(full, S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0 && errno != EEXIST)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not create directory \"%s\": %m", full)));
			/* the server's umask is 077; as readable as the files in it */
			if (chmod(full, S_IRWXU | S_IRGRP | S_IXGRP | S_IROTH | S_IXOTH) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not change permissions of directory \"%s\": %m", full)));
			{
				char	   *parent = pstrdup(full);

				get_parent_directory(parent);
				fsync_fname(full, true);
				fsync_fname(parent, true);
			}
		}
		else if (!S_ISDIR(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a directory", full)));
		else
			check_dir_safe(full, &st);
		if (p == NULL)
			break;
		*p = save;
	}
}

/*
 * The temporary files a crashed writer left in directory dir (kill -9,
 * power loss: nothing removed them): .obs-<pid>-<n>-<hex>.tmp of the
 * Parquet writer, .<name>.obs-<pid>.tmp of write_local() and owner.c.
 * Removed when no process of that pid lives on this host and the file is
 * a minute old (a writer on another host sharing the directory keeps
 * writing to its file), so that each crash does not leave a partition's
 * worth of disk behind for good.  With after_start (obs._archive_cleanup,
 * under the signal's archive lock and claim, so that no other database
 * writes there), also at once when it was last changed before this server
 * started: a crash's, that the restart has not removed.  Returns how many
 * went.
 */
#define ORPHAN_AGE_SECS 60

static int
remove_orphans_in(const char *dir, bool after_start)
{
	DIR		   *d;
	struct dirent *de;
	time_t		now = time(NULL);
	int64		start_us = PgStartTime +
		(int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY;
	int			removed = 0;

	d = AllocateDir(dir);
	if (d == NULL)
		return 0;
	while ((de = ReadDirExtended(d, dir, LOG)) != NULL)
	{
		int			pid = 0;
		unsigned int n;
		unsigned int h;
		int			used = 0;
		const char *p;
		char	   *path;
		struct stat st;

		if (de->d_name[0] != '.')
			continue;
		if (sscanf(de->d_name, ".obs-%d-%u-%8x.tmp%n", &pid, &n, &h, &used) == 3 &&
			used == (int) strlen(de->d_name))
			 /* the Parquet writer's */ ;
		else if ((p = strstr(de->d_name, ".obs-")) != NULL && p != de->d_name &&
				 sscanf(p, ".obs-%d.tmp%n", &pid, &used) == 1 && used == (int) strlen(p))
			 /* write_local()'s */ ;
		else
			continue;
		if (pid <= 0 || pid == MyProcPid || kill(pid, 0) == 0 || errno != ESRCH)
			continue;
		path = psprintf("%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISREG(st.st_mode) &&
			(now - st.st_mtime >= ORPHAN_AGE_SECS ||
			 (after_start &&
			  (int64) st.st_mtim.tv_sec * 1000000 + st.st_mtim.tv_nsec / 1000 < start_us)))
		{
			if (unlink(path) == 0)
			{
				ereport(LOG,
						(errmsg("obs archive: removed \"%s\", left by process %d, which is gone", path, pid)));
				removed++;
			}
			else
				ereport(LOG,
						(errcode_for_file_access(),
						 errmsg("could not remove file \"%s\": %m", path)));
		}
		pfree(path);
	}
	FreeDir(d);
	return removed;
}

/* before a write into the directory of file: the orphans there */
static void
remove_orphans(const char *file)
{
	char	   *dir = pstrdup(file);

	get_parent_directory(dir);
	remove_orphans_in(dir, false);
	pfree(dir);
}

/* read path back: its size and SHA-256 must be bytes and sha256 */
static void
confirm_file(const char *path, uint64 bytes, const uint8 *sha256, bool parquet)
{
	int			fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	pg_cryptohash_ctx *h;
	char	   *buf = palloc(1 << 20);
	uint64		total = 0;
	uint8		digest[32];
	char		head[4] = {0};
	char		tail[4] = {0};

	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	h = pg_cryptohash_create(PG_SHA256);
	if (h == NULL || pg_cryptohash_init(h) < 0)
		elog(ERROR, "could not initialize a SHA-256 hash");
	for (;;)
	{
		ssize_t		n = read(fd, buf, 1 << 20);

		if (n < 0)
		{
			if (errno == EINTR)
				continue;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		}
		if (n == 0)
			break;
		if (total == 0 && n >= 4)
			memcpy(head, buf, 4);
		if (n >= 4)
			memcpy(tail, buf + n - 4, 4);
		else
		{
			memmove(tail, tail + n, 4 - n);
			memcpy(tail + 4 - n, buf, n);
		}
		if (pg_cryptohash_update(h, (uint8 *) buf, n) < 0)
			elog(ERROR, "could not update a SHA-256 hash");
		total += n;
		CHECK_FOR_INTERRUPTS();
	}
	CloseTransientFile(fd);
	if (pg_cryptohash_final(h, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not finish a SHA-256 hash");
	pg_cryptohash_free(h);
	if (total != bytes)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" has %llu bytes, %llu were written",
						path, (unsigned long long) total, (unsigned long long) bytes)));
	if (memcmp(digest, sha256, 32) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" does not have the SHA-256 of what was written", path)));
	if (parquet && (memcmp(head, "PAR1", 4) != 0 || memcmp(tail, "PAR1", 4) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" is not a Parquet file", path)));
}

/* base/pgsql_tmp/pgsql_tmp_obs_archive_<pid>.parquet: removed at restart too */
static char *
staging_path(void)
{
	char	   *dir = psprintf("%s/%s/%s", DataDir, PG_TEMP_FILES_DIR, "");
	struct stat st;

	dir[strlen(dir) - 1] = '\0';
	if (stat(dir, &st) != 0 && MakePGDirectory(dir) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create directory \"%s\": %m", dir)));
	return psprintf("%s/%sobs_archive_%d.parquet", dir, PG_TEMP_FILE_PREFIX, MyProcPid);
}

Datum
obs_archive_write(PG_FUNCTION_ARGS)
{
	ObsArchiveTarget *t;
	Oid			part;
	char	   *path;
	char	   *sql;
	List	   *raw;
	ObsPqOptions opts;
	ObsPqWritten w;
	uint64		rows;
	char		hex[65];
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	obs_archive_require_superuser();
	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the arguments of obs._archive_write() must not be null")));
	t = obs_archive_target(PG_GETARG_HEAPTUPLEHEADER(0));
	part = PG_GETARG_OID(1);
	path = text_to_cstring(PG_GETARG_TEXT_PP(2));
	check_rel_path(path);
	if (get_rel_name(part) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", part)));
	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	sql = psprintf("SELECT * FROM %s",
				   quote_qualified_identifier(get_namespace_name(get_rel_namespace(part)),
											  get_rel_name(part)));
	raw = raw_parser(sql, RAW_PARSE_DEFAULT);
	obs_pq_default_options(&opts);

	if (!t->s3)
	{
		char	   *file = psprintf("%s/%s", t->dir, path);

		obs_archive_make_dirs(t->dir, path);
		remove_orphans(file);
		rows = obs_pq_export_file(linitial_node(RawStmt, raw)->stmt, sql, file, &opts, &w);
		confirm_file(file, w.bytes, w.sha256, true);
	}
	else
	{
		char	   *staging = staging_path();

		PG_TRY();
		{
			rows = obs_pq_export_file(linitial_node(RawStmt, raw)->stmt, sql, staging, &opts, &w);
			obs_archive_s3_put_file(t, path, staging, w.bytes, w.sha256);
		}
		PG_FINALLY();
		{
			unlink(staging);
		}
		PG_END_TRY();
	}
	obs_archive_hex(w.sha256, 32, hex);
	values[0] = Int64GetDatum((int64) rows);
	values[1] = Int64GetDatum((int64) w.bytes);
	values[2] = CStringGetTextDatum(hex);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(desc), values, nulls)));
}

/* body to a temporary file beside path, fsync'd and renamed, then read back */
static void
write_local(const char *root, const char *path, const char *body, size_t len)
{
	char	   *file = psprintf("%s/%s", root, path);
	char	   *slash = strrchr(file, '/');
	char	   *tmp = psprintf("%.*s.%s.obs-%d.tmp", (int) (slash + 1 - file), file,
							   slash + 1, MyProcPid);
	uint8		sha[32];
	pg_cryptohash_ctx *h;

	obs_archive_make_dirs(root, path);
	remove_orphans(file);
	obs_write_file_durably(tmp, file, body, len, O_TRUNC | O_NOFOLLOW);
	h = pg_cryptohash_create(PG_SHA256);
	if (h == NULL || pg_cryptohash_init(h) < 0 ||
		pg_cryptohash_update(h, (const uint8 *) body, len) < 0 ||
		pg_cryptohash_final(h, sha, sizeof(sha)) < 0)
		elog(ERROR, "could not compute a SHA-256 hash");
	pg_cryptohash_free(h);
	confirm_file(file, len, sha, false);
}

Datum
obs_archive_put(PG_FUNCTION_ARGS)
{
	ObsArchiveTarget *t;
	char	   *path;
	text	   *body;

	obs_archive_require_superuser();
	for (int i = 0; i < 3; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("the arguments of obs._archive_put() must not be null")));
	t = obs_archive_target(PG_GETARG_HEAPTUPLEHEADER(0));
	path = text_to_cstring(PG_GETARG_TEXT_PP(1));
	body = PG_GETARG_TEXT_PP(2);
	check_rel_path(path);
	if (t->s3)
		obs_archive_s3_put_bytes(t, path, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body),
								 "application/json");
	else
		write_local(t->dir, path, VARDATA_ANY(body), VARSIZE_ANY_EXHDR(body));
	PG_RETURN_INT64((int64) VARSIZE_ANY_EXHDR(body));
}

/* is key, relative to the location, a file of the layout of signal arg? */
static bool
layout_key(const char *key, void *arg)
{
	const char *head = psprintf("signal=%s/date=", (const char *) arg);
	const char *p;

	if (strncmp(key, head, strlen(head)) != 0)
		return false;
	p = key + strlen(head);
	for (int i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? p[i] != '-' : !isdigit((unsigned char) p[i]))
			return false;
	p += 10;
	if (strncmp(p, "/part-", 6) != 0 || !isdigit((unsigned char) p[6]))
		return false;
	p += 6;
	while (isdigit((unsigned char) *p))
		p++;
	return strcmp(p, ".parquet") == 0;
}

/*
 * Does this backend hold the archive run's lock of signal,
 * pg_try_advisory_xact_lock(1868724065, hashtext(signal)) in _archive_run?
 */
static bool
holds_archive_lock(const char *signal)
{
	LOCKTAG		tag;
	uint32		h = DatumGetUInt32(hash_any((const unsigned char *) signal, strlen(signal)));

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) 1868724065, h, 2);
	return LockHeldByMe(&tag, ExclusiveLock);
}

/*
 * obs._archive_cleanup(cfg): what a crash left of the signal's archive at
 * its location.  In a directory: the temporary files, under signal=<s>/
 * and its date=... directories, of processes that are gone (at once when
 * last changed before this server started, as after a crash and restart;
 * else once a minute old).  On S3: the multipart uploads in progress for keys of the
 * signal's layout, aborted (invisible, but billed until then).  Returns
 * how many.
 *
 * The archive run calls it under the signal's archive lock and after
 * obs._archive_claim(): no other backend of this database archives the
 * signal, and no other database writes the signal's files at this
 * location; so no upload or temporary file there has a live writer.
 */
Datum
obs_archive_cleanup(PG_FUNCTION_ARGS)
{
	HeapTupleHeader cfg;
	ObsArchiveTarget *t;
	char	   *signal;
	int			n = 0;

	obs_archive_require_superuser();
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("the argument of obs._archive_cleanup() must not be null")));
	cfg = PG_GETARG_HEAPTUPLEHEADER(0);
	t = obs_archive_target(cfg);
	signal = obs_archive_cfg_text(cfg, "signal", true);
	/* else a run of the signal may be writing: its upload is no orphan */
	if (!holds_archive_lock(signal))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("obs._archive_cleanup() needs the archive lock of signal \"%s\"", signal),
				 errdetail("Without it, a run archiving the signal could be writing the files and uploads it would remove."),
				 errhint("obs.run_maintenance() calls it.")));
	if (t->s3)
		n = obs_archive_s3_abort_uploads(t, psprintf("signal=%s/", signal), layout_key, signal);
	else
	{
		char	   *sigdir = psprintf("%s/signal=%s", t->dir, signal);
		struct stat st;
		List	   *subdirs = NIL;
		ListCell   *lc;
		DIR		   *d;
		struct dirent *de;

		if (lstat(sigdir, &st) != 0 || !S_ISDIR(st.st_mode))
			PG_RETURN_INT32(0);
		n += remove_orphans_in(sigdir, true);
		d = AllocateDir(sigdir);
		while ((de = ReadDirExtended(d, sigdir, LOG)) != NULL)
		{
			char	   *sub;

			if (strncmp(de->d_name, "date=", 5) != 0)
				continue;
			sub = psprintf("%s/%s", sigdir, de->d_name);
			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				subdirs = lappend(subdirs, sub);
		}
		FreeDir(d);
		foreach(lc, subdirs)
		{
			n += remove_orphans_in((const char *) lfirst(lc), true);
			CHECK_FOR_INTERRUPTS();
		}
	}
	PG_RETURN_INT32(n);
}
