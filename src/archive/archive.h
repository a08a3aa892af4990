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
 *				SigV4-signed (s3.h: the target type it shares, below archive.c)
 *-------------------------------------------------------------------------
 */
#ifndef OBS_ARCHIVE_H
#define OBS_ARCHIVE_H

#include "access/htup.h"
#include "nodes/pg_list.h"

#include "s3.h"


/* archive.c */
extern void obs_archive_require_superuser(void);
extern ObsArchiveTarget *obs_archive_target(HeapTupleHeader cfg);
extern void obs_archive_make_dirs(const char *root, const char *path);
extern char *obs_archive_cfg_text(HeapTupleHeader cfg, const char *name, bool required);

/* owner.c */
extern char *obs_archive_database_id(void);

#endif							/* OBS_ARCHIVE_H */
