/*-------------------------------------------------------------------------
 * util.c
 *	  Helpers shared by the signal modules: catalog look-ups, argument
 *	  checks, and the one direct insert path every signal uses today.
 *
 * obs_insert_row() is the transactional write path: it forms a heap tuple
 * and inserts it with index maintenance, without going through the
 * planner or executor, which is what lets obs.log() keep up with a bare
 * INSERT.  It bypasses table privileges, triggers and rules on purpose:
 * writing is governed by EXECUTE on obs's functions (see README,
 * Privileges), and obs's own tables carry no triggers.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "obs.h"

Oid
obs_schema_oid(void)
{
	Oid			nsp = get_namespace_oid("obs", true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"obs\" does not exist"),
				 errhint("Run CREATE EXTENSION obs.")));
	return nsp;
}

Oid
obs_relation_oid(const char *relname)
{
	Oid			relid = get_relname_relid(relname, obs_schema_oid());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"obs.%s\" does not exist", relname),
				 errhint("Run CREATE EXTENSION obs, or ALTER EXTENSION obs UPDATE.")));
	return relid;
}

Oid
obs_type_oid(const char *typname)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum(typname),
										ObjectIdGetDatum(obs_schema_oid()));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type \"obs.%s\" does not exist", typname)));
	return typid;
}

/* the Datum (pg_enum oid) of label in enum type enumtypid */
Datum
obs_enum_datum(Oid enumtypid, const char *label)
{
	Oid			oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
									  ObjectIdGetDatum(enumtypid),
									  CStringGetDatum(label));

	if (!OidIsValid(oid))
		elog(ERROR, "enum label \"%s\" missing from type %u", label, enumtypid);
	return ObjectIdGetDatum(oid);
}

/* refuse to write where a plain INSERT would be refused */
void
obs_check_writable(const char *what)
{
	PreventCommandIfReadOnly(what);
	PreventCommandIfParallelMode(what);
}

/* context and tags must be JSON objects; NULL passes through */
Jsonb *
obs_check_object(Jsonb *jb, const char *argname)
{
	if (jb != NULL && !JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", argname),
				 errdetail("obs stores %s as key/value pairs, e.g. '{\"env\": \"production\"}'.",
						   argname)));
	return jb;
}

/*
 * The latest timestamp obs stores.  Parquet export writes microseconds
 * since 1970 in 64 bits (with INT64_MAX kept for infinity), which ends in
 * year 294247, before PostgreSQL's own limit in 294276; a row past it
 * could be written but never exported.
 */
#define OBS_MAX_TIMESTAMP \
	(PG_INT64_MAX - 1 - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* refuse a finite timestamp argument that obs could store but not export */
void
obs_check_timestamp(TimestampTz ts, const char *argname)
{
	if (!TIMESTAMP_NOT_FINITE(ts) && ts > OBS_MAX_TIMESTAMP)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range for obs", argname),
				 errdetail("obs stores timestamps up to 294247-01-10 04:00:54.775806+00, the latest its Parquet export can represent.")));
}

/* error out when a required argument is NULL */
void
obs_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

/*
 * Index of input among choices, compared case-insensitively, or -1.
 */
int
obs_parse_choice(const char *input, const char *const *choices, int nchoices)
{
	for (int i = 0; i < nchoices; i++)
		if (pg_strcasecmp(input, choices[i]) == 0)
			return i;
	return -1;
}

/* logger name when the caller gives none: application_name, else "postgres" */
char *
obs_default_logger(void)
{
	const char *app = GetConfigOption("application_name", true, false);

	if (app != NULL && app[0] != '\0')
		return pstrdup(app);
	return pstrdup("postgres");
}

/*
 * Insert one row into rel (opened by obs_open_table) and its indexes.
 * NOT NULL and CHECK constraints are enforced as an INSERT would; unique
 * indexes are checked (23505).  Triggers and rules are not run.
 */
void
obs_insert_row(Relation rel, Datum *values, bool *nulls)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	HeapTuple	tuple;

	/* range table index 0: not in a range table, as for COPY's helpers */
	InitResultRelInfo(rri, rel, 0, NULL, 0);
	ExecOpenIndices(rri, false);

	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, slot, false);

	if (rel->rd_att->constr)
		ExecConstraints(rri, slot, estate);
	simple_table_tuple_insert(rel, slot);
	if (rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Refuse to write into a table whose shape is not the one obs was built
 * for: a dropped, added, renamed or retyped column, a partitioned or
 * non-heap table.  Forming a tuple against another shape would store
 * garbage or crash, so this runs on every open; it is a few comparisons.
 */
static void
check_table_shape(ObsTable *t, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("obs cannot write into \"obs.%s\"", t->relname),
				 errdetail("obs writes into plain heap tables; this one is %s.",
						   rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE ? "partitioned"
						   : rel->rd_rel->relkind != RELKIND_RELATION ? "not a table"
						   : "of another access method")));
	for (int i = 0; i < Max(desc->natts, t->ncolumns); i++)
	{
		Form_pg_attribute att = i < desc->natts ? TupleDescAttr(desc, i) : NULL;
		const ObsColumn *col = i < t->ncolumns ? &t->columns[i] : NULL;

		if (att == NULL || col == NULL || att->attisdropped ||
			att->atttypid != t->typids[i] || att->attgenerated != '\0' ||
			strcmp(NameStr(att->attname), col->name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"obs.%s\" does not have the columns obs writes", t->relname),
					 errdetail("Column %d is %s; obs %s expects %s.", i + 1,
							   att == NULL ? "missing" : att->attisdropped ? "dropped"
							   : psprintf("\"%s\" of type %s", NameStr(att->attname),
										  format_type_be(att->atttypid)),
							   OBS_VERSION,
							   col == NULL ? "no more columns" : psprintf("\"%s\"", col->name)),
					 errhint("Undo the change to the table, or reinstall the extension.")));
	}
}

/*
 * Open one of obs's tables for insert.  The oids are looked up through the
 * syscache on every call (cheap) so that DROP/CREATE EXTENSION in the same
 * session is harmless; the identity sequence (found through pg_depend) and
 * the expected column types are cached for as long as the oid is unchanged.
 */
Oid
obs_table_resolve(ObsTable *t)
{
	Oid			relid = obs_relation_oid(t->relname);

	Assert(t->ncolumns <= OBS_MAX_COLUMNS);
	if (relid != t->relid)
	{
		t->seqid = InvalidOid;
		if (t->seq_column != NULL)
		{
			AttrNumber	attnum = get_attnum(relid, t->seq_column);

			if (attnum == InvalidAttrNumber)
				elog(ERROR, "column \"%s\" of obs.%s is missing", t->seq_column, t->relname);
			t->seqid = getIdentitySequence(relid, attnum, false);
		}
		for (int i = 0; i < t->ncolumns; i++)
			t->typids[i] = OidIsValid(t->columns[i].typid) ? t->columns[i].typid
				: obs_type_oid(t->columns[i].obs_type);
		t->relid = relid;
	}
	return relid;
}

Relation
obs_open_table(ObsTable *t)
{
	Relation	rel = table_open(obs_table_resolve(t), RowExclusiveLock);

	check_table_shape(t, rel);
	return rel;
}

/* next value of the table's identity column */
int64
obs_table_nextval(ObsTable *t)
{
	Assert(OidIsValid(t->seqid));
	return nextval_internal(t->seqid, false);
}

/*
 * Run fn(arg) as the owner of relid, like a SECURITY DEFINER function with
 * a pinned search path would: used for the few writes done through SPI, so
 * that writing is governed by EXECUTE on obs's functions alone.  A failure
 * inside fn is unwound by transaction abort, which restores the user.
 */
void
obs_run_as_owner(Oid relid, void (*fn) (void *), void *arg)
{
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tp;
	Oid			owner;

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	fn(arg);
	SetUserIdAndSecContext(save_userid, save_sec);
}

/* Jsonb object from parallel arrays of keys and cstring values; NULL values skipped */
Jsonb *
obs_jsonb_from_pairs(const char *const *keys, char *const *values, int n)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			used = 0;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	k,
					v;

		if (values[i] == NULL)
			continue;
		k.type = jbvString;
		k.val.string.val = (char *) keys[i];
		k.val.string.len = strlen(keys[i]);
		v.type = jbvString;
		v.val.string.val = values[i];
		v.val.string.len = strlen(values[i]);
		pushJsonbValue(&state, WJB_KEY, &k);
		pushJsonbValue(&state, WJB_VALUE, &v);
		used++;
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return used > 0 ? JsonbValueToJsonb(res) : NULL;
}

/*
 * Multi-insert batches, used by the flusher worker: rows of a few tables
 * are collected as heap tuples and written with table_multi_insert(),
 * then their index entries are added, as COPY FROM does.  One EState and
 * one open relation per table serve the whole batch.
 */
#define BATCH_MAX_TABLES 4
#define BATCH_MAX_ROWS 1000

typedef struct BatchTable
{
	Relation	rel;
	ResultRelInfo *rri;
	BulkInsertState bistate;	/* one per relation: it keeps a page pinned */
	TupleTableSlot *slots[BATCH_MAX_ROWS];
	int			nused;
} BatchTable;

struct ObsBatch
{
	EState	   *estate;
	BatchTable	tables[BATCH_MAX_TABLES];
	int			ntables;
};

ObsBatch *
obs_batch_begin(void)
{
	ObsBatch   *b = palloc0(sizeof(ObsBatch));

	b->estate = CreateExecutorState();
	return b;
}

/* t opened for insert once per batch */
Relation
obs_batch_open(ObsBatch *b, ObsTable *t)
{
	Oid			relid = obs_relation_oid(t->relname);
	BatchTable *bt;

	for (int i = 0; i < b->ntables; i++)
		if (RelationGetRelid(b->tables[i].rel) == relid)
			return b->tables[i].rel;
	if (b->ntables >= BATCH_MAX_TABLES)
		elog(ERROR, "too many tables in one obs batch");
	bt = &b->tables[b->ntables++];
	bt->rel = obs_open_table(t);
	bt->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(bt->rri, bt->rel, 0, NULL, 0);
	ExecOpenIndices(bt->rri, false);
	bt->bistate = GetBulkInsertState();
	bt->nused = 0;
	return bt->rel;
}

static void
batch_flush_table(ObsBatch *b, BatchTable *bt)
{
	if (bt->nused == 0)
		return;
	table_multi_insert(bt->rel, bt->slots, bt->nused, GetCurrentCommandId(true), 0, bt->bistate);
	for (int i = 0; i < bt->nused; i++)
	{
		if (bt->rri->ri_NumIndices > 0)
			ExecInsertIndexTuples(bt->rri, bt->slots[i], b->estate, false, false, NULL, NIL);
		ExecClearTuple(bt->slots[i]);
	}
	ResetPerTupleExprContext(b->estate);
	bt->nused = 0;
}

/* queue one row of rel (from obs_batch_open); values are copied */
void
obs_batch_add(ObsBatch *b, Relation rel, Datum *values, bool *nulls)
{
	BatchTable *bt = NULL;
	HeapTuple	tuple;

	for (int i = 0; i < b->ntables; i++)
		if (b->tables[i].rel == rel)
			bt = &b->tables[i];
	if (bt == NULL)
		elog(ERROR, "relation \"%s\" is not open in this obs batch", RelationGetRelationName(rel));
	if (bt->slots[bt->nused] == NULL)
		bt->slots[bt->nused] = ExecInitExtraTupleSlot(b->estate, RelationGetDescr(rel),
													  &TTSOpsHeapTuple);
	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	ExecStoreHeapTuple(tuple, bt->slots[bt->nused], true);
	/* a row that breaks a constraint fails now, before it is queued */
	if (rel->rd_att->constr)
		ExecConstraints(bt->rri, bt->slots[bt->nused], b->estate);
	if (++bt->nused == BATCH_MAX_ROWS)
		batch_flush_table(b, bt);
}

/* write what is queued and close the batch's relations */
void
obs_batch_end(ObsBatch *b)
{
	for (int i = 0; i < b->ntables; i++)
	{
		batch_flush_table(b, &b->tables[i]);
		ExecCloseIndices(b->tables[i].rri);
		FreeBulkInsertState(b->tables[i].bistate);
		table_close(b->tables[i].rel, NoLock);
	}
	b->ntables = 0;
	ExecResetTupleTable(b->estate->es_tupleTable, false);
	FreeExecutorState(b->estate);
	pfree(b);
}

/*
 * The relation a row of t goes to: the batch's (worker), or t opened for
 * one direct insert (caller).  Pair it with obs_row_write().
 */
Relation
obs_row_target(ObsTable *t, ObsBatch *batch)
{
	return batch ? obs_batch_open(batch, t) : obs_open_table(t);
}

/* queue the row in the batch, or insert it now and close the relation */
void
obs_row_write(Relation rel, ObsBatch *batch, Datum *values, bool *nulls)
{
	if (batch)
		obs_batch_add(batch, rel, values, nulls);
	else
	{
		obs_insert_row(rel, values, nulls);
		table_close(rel, NoLock);
	}
}
