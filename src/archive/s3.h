/*-------------------------------------------------------------------------
 * s3.h
 *	  Where an archive goes, and the S3 requests that put it there
 *	  (s3.c): the lower half of the Parquet lake.  archive.c and owner.c
 *	  build on it through archive.h; s3.c needs nothing of them.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_ARCHIVE_S3_H
#define OBS_ARCHIVE_S3_H

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

/* lowercase hex of n bytes into out (2n + 1 bytes) */
extern void obs_archive_hex(const uint8 *bytes, int n, char *out);

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

#endif							/* OBS_ARCHIVE_S3_H */
