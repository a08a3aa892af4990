/*-------------------------------------------------------------------------
 * insert.c
 *	  The direct write path every row of logs, spans, metric points and
 *	  dead letters takes: a single insert, or a batch (the flusher).
 *
 * obs_insert_row() is the transactional write path: it forms a heap tuple
 * and inserts it with index maintenance, without going through the
 * planner or executor, which is what lets obs.log() keep up with a bare
 * INSERT.  It bypasses table privileges, triggers and rules on purpose:
 * writing is governed by EXECUTE on obs's functions (see README,
 * Privileges), and obs's own tables carry no triggers.
 *
 * Callers pass one value per column of the table's ObsTable, in order;
 * dropped columns of the relation are skipped and stored as null (see
 * physical_row()).  obs_row_target() is the point where a row picks its
 * relation: the place to route into a partition once tables are
 * partitioned.
 *
 * Every row of logs, spans and metric points carries the full xid of the
 * transaction that inserted it (column txid, obs_row_txid()): the
 * flusher's batch gets its own transaction's.  The shipping cursor
 * (src/ship/) reads rows by transaction snapshot, so that a row committed
 * after a later id was shipped is still shipped.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "utils/rel.h"
#include "utils/xid8.h"

#include "store/store.h"

/*
 * values/nulls by column obs writes, spread over the relation's
 * attributes: a dropped attribute gets a null.  Returns the arrays
 * themselves when no attribute is dropped (the usual case).
 */
static void
physical_row(TupleDesc desc, Datum **values, bool **nulls)
{
	Datum	   *pv;
	bool	   *pn;
	int			i = 0;
	int			a;

	for (a = 0; a < desc->natts; a++)
		if (TupleDescAttr(desc, a)->attisdropped)
			break;
	if (a == desc->natts)
		return;
	pv = palloc(desc->natts * sizeof(Datum));
	pn = palloc(desc->natts * sizeof(bool));
	for (a = 0; a < desc->natts; a++)
	{
		if (TupleDescAttr(desc, a)->attisdropped)
		{
			pv[a] = (Datum) 0;
			pn[a] = true;
			continue;
		}
		pv[a] = (*values)[i];
		pn[a] = (*nulls)[i];
		i++;
	}
	*values = pv;
	*nulls = pn;
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

	physical_row(RelationGetDescr(rel), &values, &nulls);
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
	physical_row(RelationGetDescr(rel), &values, &nulls);
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

/*
 * The txid column's value: the inserting transaction's full xid, as
 * pg_current_xact_id() gives SQL inserts (the column default).  Assigns
 * the xid now if the transaction has none yet; it is writing anyway.
 */
Datum
obs_row_txid(void)
{
	return FullTransactionIdGetDatum(GetTopFullTransactionId());
}
