/*-------------------------------------------------------------------------
 * obs.c
 *	  Module entry point: wires each obs module into PostgreSQL.
 *
 * obs turns PostgreSQL into the observability store for data pipelines:
 * structured logs, spans, metrics and pipeline runs are written through SQL
 * functions into tables of schema obs.  This file only calls one init
 * function per module; the modules live in their own files.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "core/core.h"
#include "ingest/ingest.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	obs_guc_init();
	obs_buffer_init();
	obs_parquet_init();
}
