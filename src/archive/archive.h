/*-------------------------------------------------------------------------
 * archive.h
 *	  The Parquet lake: time partitions written as Parquet files in a Hive
 *	  layout, to a server directory or to an S3-compatible object store,
 *	  confirmed before obs.run_maintenance() may drop them.
 *
 * Layer 5 (beside src/obs.c): it writes through the Parquet writer
 * (parquet/pq_export.h) and sends through the shipping sinks' libcurl
 * request and credentials (ship/ship.h), both of layer 4.  Nothing
 * includes this header from another folder.
 *
 *	archive.c	obs._archive_write() and obs._archive_put(): one partition
 *				or one manifest to its place, confirmed; the local target;
 *				obs._archive_cleanup(): what a crash left behind
 *	owner.c		obs._archive_claim(): the owner file of a signal at a location,
 *				so that two databases never write one signal's files there
 *	s3.c		PUT (single or multipart), HEAD, DELETE, listings and abort,
 *				SigV4-signed
 *-------------------------------------------------------------------------
 */
#ifndef OBS_ARCHIVE_H
#define OBS_ARCHIVE_H

#include "access/htup.h"
#include "nodes/pg_list.h"

/* where an archive goes: obs.archive_config's row, checked */
typedef struct ObsArchiveTarget
{
	const char *location;		/* as configured, for messages */
	bool		s3;
	char	   *dir;			/* local: the directory, no trailing slash */
	char	   *bucket;			/* S3 */
	char	   *prefix;			/* S3: "" or "a/b/" */
	char	   *endpoint;		/* S3: NULL for AWS, else scheme://host[:port] */
	char	   *region;
	size_t		part_size;		/* S3: bytes; larger files go multipart */
	bool		tls_verify;
} ObsArchiveTarget;

/* archive.c */
extern void obs_archive_hex(const uint8 *bytes, int n, char *out);
extern void obs_archive_require_superuser(void);
extern ObsArchiveTarget *obs_archive_target(HeapTupleHeader cfg);
extern void obs_archive_make_dirs(const char *root, const char *path);
extern char *obs_archive_cfg_text(HeapTupleHeader cfg, const char *name, bool required);

/* owner.c */
extern char *obs_archive_database_id(void);

/* s3.c: each ereports on failure, with credentials scrubbed */
extern void obs_archive_s3_put_file(const ObsArchiveTarget *t, const char *key,
									const char *path, uint64 size,
									const uint8 *sha256);
extern void obs_archive_s3_put_bytes(const ObsArchiveTarget *t, const char *key,
									 const char *data, size_t len,
									 const char *content_type);
extern List *obs_archive_s3_list(const ObsArchiveTarget *t, const char *prefix);
extern void obs_archive_s3_delete(const ObsArchiveTarget *t, const char *key, bool nothrow);
extern int	obs_archive_s3_abort_uploads(const ObsArchiveTarget *t, const char *prefix,
										 bool (*orphan) (const char *key, void *arg),
										 void *arg);

#endif							/* OBS_ARCHIVE_H */
