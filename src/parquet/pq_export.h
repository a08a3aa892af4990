/*-------------------------------------------------------------------------
 * pq_export.h
 *	  Running a query into a Parquet file or to the client (export.c),
 *	  shared by the COPY hook (copy.c) and the save functions (save.c).
 *-------------------------------------------------------------------------
 */
#ifndef OBS_PQ_EXPORT_H
#define OBS_PQ_EXPORT_H

#include "nodes/parsenodes.h"

#include "parquet.h"

/*
 * Run raw_query (a raw parse tree: SELECT, or DML with RETURNING) and write
 * its rows as Parquet to filename (an absolute server path, written
 * atomically through a temporary file) or, when filename is NULL, to the
 * client with the COPY OUT protocol.  Returns the number of rows.
 * The caller checks privileges and options.
 */
extern uint64 obs_pq_export(Node *raw_query, const char *query_string,
							const char *filename, const ObsPqOptions *opts);

/* what obs_pq_export_file() wrote: the file's size and SHA-256 */
typedef struct ObsPqWritten
{
	uint64		bytes;
	uint8		sha256[32];
} ObsPqWritten;

extern uint64 obs_pq_export_file(Node *raw_query, const char *query_string,
								 const char *filename, const ObsPqOptions *opts,
								 ObsPqWritten *written);

/* copy.c: the COPY ... (FORMAT parquet) hook, installed by _PG_init */
extern void obs_parquet_init(void);

/* the privilege core COPY requires to write a server file */
extern void obs_pq_check_write_privilege(void);

/* ERROR (42622) when filename or its temporary file would not fit MAXPGPATH */
extern void obs_pq_check_path(const char *filename);

#endif							/* OBS_PQ_EXPORT_H */
