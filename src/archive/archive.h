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
 *				or one manifest to its place, confirmed; the local target
 *	s3.c		PUT (single or multipart), HEAD and abort, SigV4-signed
 *-------------------------------------------------------------------------
 */
#ifndef OBS_ARCHIVE_H
#define OBS_ARCHIVE_H

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

/* hex of n bytes into out (2n + 1 bytes) */
extern void obs_archive_hex(const uint8 *bytes, int n, char *out);

/* s3.c: each ereports on failure, with credentials scrubbed */
extern void obs_archive_s3_put_file(const ObsArchiveTarget *t, const char *key,
									const char *path, uint64 size,
									const uint8 *sha256);
extern void obs_archive_s3_put_bytes(const ObsArchiveTarget *t, const char *key,
									 const char *data, size_t len,
									 const char *content_type);

#endif							/* OBS_ARCHIVE_H */
