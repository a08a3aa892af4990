/*-------------------------------------------------------------------------
 * metrics.c
 *	  Writing metric samples: series in obs.metric_series, points in
 *	  obs.metric_points.
 *
 * A metric sample belongs to a series, one per name and tag set
 * (obs.metric_series); samples go to obs.metric_points.  A backend-local
 * cache maps name+tags to the series id so that the hot path is one heap
 * insert.  On a cache miss the series is looked up through its unique
 * index with the latest snapshot (so a series another session committed
 * is found even inside a REPEATABLE READ transaction), and only when it
 * does not exist is it created through SPI with ON CONFLICT DO NOTHING, so
 * concurrent sessions creating the same series agree on one row.  The
 * cache is dropped when a transaction that added to it aborts or is
 * prepared, and when obs.metric_series is truncated or altered.  A sample
 * takes its lock on obs.metric_points before it resolves its series, so a
 * concurrent TRUNCATE of both tables is seen before a cached id is used.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "executor/tuptable.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/float.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "access/stratnum.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "store/store.h"

const char *const obs_metric_kind_labels[OBS_NUM_METRIC_KINDS] = {"gauge", "counter"};

#define SERIES_CACHE_MAX 65536

typedef struct SeriesKey
{
	uint32		hash;
	int			len;
	char	   *data;			/* name, NUL, jsonb bytes of the tags */
} SeriesKey;

typedef struct SeriesEntry
{
	SeriesKey	key;
	int32		series_id;
	int			kind;
} SeriesEntry;

static HTAB *series_cache = NULL;
static MemoryContext series_cxt = NULL;
static Oid	series_cache_relid = InvalidOid;
static bool series_added_in_xact = false;
static bool series_cache_stale = false;
static bool xact_callback_registered = false;

static const ObsColumn point_columns[4] = {
	{"series_id", INT4OID}, {"ts", TIMESTAMPTZOID}, {"value", FLOAT8OID}, {"txid", XID8OID, NULL, true}
};
static ObsTable points_table = {"metric_points", NULL, point_columns, 4};

static uint32
series_hash(const void *key, Size keysize)
{
	return ((const SeriesKey *) key)->hash;
}

static int
series_match(const void *a, const void *b, Size keysize)
{
	const SeriesKey *ka = a;
	const SeriesKey *kb = b;

	if (ka->hash != kb->hash || ka->len != kb->len)
		return 1;
	return memcmp(ka->data, kb->data, ka->len);
}

static void
reset_series_cache(void)
{
	if (series_cxt != NULL)
		MemoryContextDelete(series_cxt);
	series_cxt = NULL;
	series_cache = NULL;
	series_added_in_xact = false;
}

static void
series_xact_callback(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		if (series_added_in_xact)
			reset_series_cache();
	}
	else if (event == XACT_EVENT_PREPARE)
	{
		/* a prepared transaction may still be rolled back, later and elsewhere */
		if (series_added_in_xact)
			reset_series_cache();
	}
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT)
		series_added_in_xact = false;
}

/* TRUNCATE or ALTER of obs.metric_series: drop the cache at next use */
static void
series_relcache_callback(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == series_cache_relid)
		series_cache_stale = true;
}

static void
series_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	/* a series created inside a rolled-back savepoint may be gone too */
	if (event == SUBXACT_EVENT_ABORT_SUB && series_added_in_xact)
		reset_series_cache();
}

static void
ensure_series_cache(Oid relid)
{
	HASHCTL		ctl;

	if (!xact_callback_registered)
	{
		RegisterXactCallback(series_xact_callback, NULL);
		RegisterSubXactCallback(series_subxact_callback, NULL);
		CacheRegisterRelcacheCallback(series_relcache_callback, (Datum) 0);
		xact_callback_registered = true;
	}
	if (series_cache != NULL &&
		(series_cache_stale || relid != series_cache_relid ||
		 hash_get_num_entries(series_cache) >= SERIES_CACHE_MAX))
		reset_series_cache();
	series_cache_stale = false;
	if (series_cache != NULL)
		return;

	series_cxt = AllocSetContextCreate(TopMemoryContext, "obs metric series cache",
									   ALLOCSET_DEFAULT_SIZES);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(SeriesKey);
	ctl.entrysize = sizeof(SeriesEntry);
	ctl.hash = series_hash;
	ctl.match = series_match;
	ctl.hcxt = series_cxt;
	series_cache = hash_create("obs metric series", 256, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
	series_cache_relid = relid;
}

typedef struct SeriesLookup
{
	const char *name;
	int			kind;
	Jsonb	   *tags;
	int32		series_id;
	int			found_kind;
} SeriesLookup;

/*
 * Look the series up through its unique index with the latest snapshot.
 * True and *id, *kind set when it exists.
 */
static bool
find_series_latest(Oid relid, const char *name, Jsonb *tags, int32 *id, int *kind)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Oid			idxid = get_relname_relid("metric_series_name_tags_key", obs_schema_oid());
	Relation	idx;
	ScanKeyData keys[2];
	Snapshot	snap;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	bool		found;

	if (!OidIsValid(idxid))
		elog(ERROR, "index obs.metric_series_name_tags_key is missing");
	idx = index_open(idxid, AccessShareLock);
	ScanKeyEntryInitialize(&keys[0], 0, 1, BTEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[0], F_TEXTEQ, CStringGetTextDatum(name));
	ScanKeyEntryInitialize(&keys[1], 0, 2, BTEqualStrategyNumber, InvalidOid,
						   idx->rd_indcollation[1], F_JSONB_EQ, JsonbPGetDatum(tags));
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = index_beginscan(rel, idx, snap, 2, 0);
	index_rescan(scan, keys, 2, NULL, 0);
	slot = table_slot_create(rel, NULL);
	found = index_getnext_slot(scan, ForwardScanDirection, slot);
	if (found)
	{
		bool		isnull;
		Datum		k;
		HeapTuple	tp;

		*id = DatumGetInt32(slot_getattr(slot, 1, &isnull));
		k = slot_getattr(slot, 3, &isnull);
		tp = SearchSysCache1(ENUMOID, k);
		if (!HeapTupleIsValid(tp))
			elog(ERROR, "cache lookup failed for enum %u", DatumGetObjectId(k));
		*kind = obs_parse_choice(NameStr(((Form_pg_enum) GETSTRUCT(tp))->enumlabel),
								 obs_metric_kind_labels, OBS_NUM_METRIC_KINDS);
		ReleaseSysCache(tp);
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	return found;
}

/* create the series row (or find the one a concurrent session created); runs as the table owner */
static void
lookup_series_spi(void *arg)
{
	SeriesLookup *l = arg;
	Oid			argtypes[3] = {TEXTOID, TEXTOID, JSONBOID};
	Datum		args[3];

	args[0] = CStringGetTextDatum(l->name);
	args[1] = CStringGetTextDatum(obs_metric_kind_labels[l->kind]);
	args[2] = JsonbPGetDatum(l->tags);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* a concurrent creator may commit between the two branches: retry */
	for (int attempt = 0; attempt < 3; attempt++)
	{
		int			rc = SPI_execute_with_args(
											   "WITH ins AS ("
											   "  INSERT INTO obs.metric_series (name, kind, tags)"
											   "  VALUES ($1, $2::obs.metric_kind, $3)"
											   "  ON CONFLICT (name, tags) DO NOTHING"
											   "  RETURNING series_id, kind::pg_catalog.text)"
											   " SELECT * FROM ins"
											   " UNION ALL"
											   " SELECT series_id, kind::pg_catalog.text FROM obs.metric_series"
											   "  WHERE name OPERATOR(pg_catalog.=) $1"
											   "    AND tags OPERATOR(pg_catalog.=) $3"
											   " LIMIT 1",
											   3, argtypes, args, NULL, false, 1);

		if (rc != SPI_OK_SELECT)
			elog(ERROR, "metric series lookup failed: %s", SPI_result_code_string(rc));
		if (SPI_processed == 1)
		{
			bool		isnull;
			char	   *k;

			l->series_id = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0],
													   SPI_tuptable->tupdesc, 1, &isnull));
			k = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
			l->found_kind = obs_parse_choice(k, obs_metric_kind_labels, OBS_NUM_METRIC_KINDS);
			SPI_finish();
			return;
		}
		CommandCounterIncrement();
	}
	elog(ERROR, "could not find or create metric series \"%s\"", l->name);
}

/* series id for name+tags, creating the series if needed */
static int32
series_for(Oid series_relid, const char *name, int kind, Jsonb *tags)
{
	int			namelen = strlen(name);
	int			len = namelen + 1 + VARSIZE(tags);
	char	   *buf = palloc(len);
	SeriesKey	key;
	SeriesEntry *e;
	bool		found;
	SeriesLookup l;

	memcpy(buf, name, namelen + 1);
	memcpy(buf + namelen + 1, tags, VARSIZE(tags));
	key.len = len;
	key.data = buf;
	key.hash = hash_bytes((unsigned char *) buf, len);

	ensure_series_cache(series_relid);
	e = hash_search(series_cache, &key, HASH_FIND, NULL);
	if (e == NULL)
	{
		if (!find_series_latest(series_relid, name, tags, &l.series_id, &l.found_kind))
		{
			l.name = name;
			l.kind = kind;
			l.tags = tags;
			obs_run_as_owner(series_relid, lookup_series_spi, &l);
		}
		/* SPI may have processed invalidations: make sure the cache is there */
		ensure_series_cache(series_relid);
		e = hash_search(series_cache, &key, HASH_ENTER, &found);
		e->key.data = MemoryContextAlloc(series_cxt, len);
		memcpy(e->key.data, buf, len);
		e->series_id = l.series_id;
		e->kind = l.found_kind;
		/* even a found row may be this transaction's own, not yet committed */
		series_added_in_xact = true;
	}
	if (e->kind != kind)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metric \"%s\" with these tags is a %s, not a %s",
						name, obs_metric_kind_labels[e->kind], obs_metric_kind_labels[kind])));
	pfree(buf);
	return e->series_id;
}

/*
 * Store one metric sample now: find or create its series (this process's
 * cache), then insert the point, or queue it in the worker's batch.
 */
void
obs_store_metric(const ObsMetricRecord *rec, ObsBatch *batch)
{
	Relation	rel;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	int32		series_id;

	obs_check_writable("obs.record_metric()");

	/*
	 * Lock obs.metric_points before the series is resolved: a TRUNCATE of
	 * the series and points in progress is waited for here, and its
	 * invalidation is processed with the lock, so the cache is dropped
	 * and the series looked up again.  Resolved the other way round, a
	 * cached id from before the TRUNCATE would be stored in the new table
	 * and, after RESTART IDENTITY, name another series.
	 */
	rel = obs_row_target(&points_table, batch);
	series_id = series_for(obs_relation_oid("metric_series"), rec->name, rec->kind, rec->tags);
	values[0] = Int32GetDatum(series_id);
	values[1] = TimestampTzGetDatum(rec->ts);
	values[2] = Float8GetDatum(rec->value);
	values[3] = obs_row_txid();
	obs_row_write(rel, batch, values, nulls);
}

