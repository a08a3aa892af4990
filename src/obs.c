/*-------------------------------------------------------------------------
 * obs.c
 *	  Module entry point: wires each obs module into PostgreSQL.
 *
 * obs turns PostgreSQL into the observability store for data pipelines:
 * structured logs, spans, metrics and pipeline runs are written through SQL
 * functions into tables of schema obs.  This file only calls one init
 * function per module, bottom layer first; the modules live in their
 * folders (see src/README.md).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "core/core.h"
#include "ingest/ingest.h"
#include "instrument/instrument.h"
#include "parquet/pq_export.h"
#include "ship/ship.h"
#include "store/store.h"

PG_MODULE_MAGIC;

PGDLLEXPORT void _PG_init(void);

void
_PG_init(void)
{
	obs_guc_init();				/* settings first: the others read them */
	obs_store_init();			/* invalidation of the extension cache */
	if (obs_preloaded)
	{
		obs_buffer_init();		/* shared memory of the rings */
		obs_worker_init();		/* the launcher of the flushers */
		obs_instrument_init();	/* the fmgr hooks */
		obs_ship_init();		/* shared memory and the ship launcher */
	}
	obs_parquet_init();			/* the COPY hook */
}
