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
 * relation.
 *
 * A partitioned table (obs.logs, obs.spans, obs.metric_points and
 * obs.alerts are range-partitioned by time) is opened as the target, and
 * each row is routed to its leaf partition here (route_row(): the bound
 * search of the executor's get_partition_for_tuple(), on the one range
 * key), as an INSERT would route it: a row outside every partition goes to
 * the default partition.  The leaf is opened for the row (single insert)
 * or once per batch (the flusher groups rows per leaf for
 * table_multi_insert()); its CHECK constraints, keys and indexes hold as
 * an INSERT into it would.  The leaf's columns must be the parent's, in
 * the same order (dropped columns aside), which is what CREATE TABLE ...
 * PARTITION OF, LIKE and pg_dump make.
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
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
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

/* a value as text, for a message */
static char *
datum_text(Oid typid, Datum value)
{
	Oid			out;
	bool		isvarlena;

	getTypeOutputInfo(typid, &out, &isvarlena);
	return OidOutputFunctionCall(out, value);
}

/*
 * The oid of the leaf partition of root (partitioned by range on one
 * column) that a row goes to: the partition whose bounds hold its key, or
 * the default partition.  values/nulls are by column obs writes.
 */
static Oid
route_row(Relation root, Datum *values, bool *nulls)
{
	PartitionKey key = RelationGetPartitionKey(root);
	PartitionDesc pd = RelationGetPartitionDesc(root, true);
	TupleDesc	desc = RelationGetDescr(root);
	int			col = 0;
	int			part = -1;

	if (key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 || key->partattrs[0] == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("obs cannot write into \"%s\"", RelationGetRelationName(root)),
				 errdetail("obs routes rows to partitions by range on one column.")));
	/* the key's column among the columns obs writes (dropped ones skipped) */
	for (int a = 0; a < key->partattrs[0] - 1; a++)
		if (!TupleDescAttr(desc, a)->attisdropped)
			col++;
	if (!nulls[col])
	{
		bool		equal;
		int			off = partition_range_datum_bsearch(key->partsupfunc, key->partcollation,
														pd->boundinfo, 1, &values[col], &equal);

		/* the bound at off is <= the key: the partition ending at off + 1 */
		part = pd->boundinfo->indexes[off + 1];
	}
	if (part < 0)
		part = pd->boundinfo->default_index;
	if (part < 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("no partition of relation \"%s\" found for row", RelationGetRelationName(root)),
				 errdetail("Partition key of the failing row contains (%s) = (%s).",
						   NameStr(TupleDescAttr(desc, key->partattrs[0] - 1)->attname),
						   nulls[col] ? "null"
						   : datum_text(TupleDescAttr(desc, key->partattrs[0] - 1)->atttypid, values[col])),
				 errhint("Create the partition with obs.run_maintenance(), or a default partition.")));
	if (!pd->is_leaf[part])
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("obs cannot write into \"%s\"", get_rel_name(pd->oids[part])),
				 errdetail("obs writes into partitions that are not partitioned themselves.")));
	return pd->oids[part];
}

/*
 * Leaves that passed check_leaf() (with their root), so that a row does
 * not compare the columns again; any invalidation of either relation (an
 * ALTER TABLE, say) forgets the pair.
 */
#define CHECKED_LEAVES 8
typedef struct CheckedLeaf
{
	Oid			leaf;
	Oid			root;
} CheckedLeaf;
static CheckedLeaf checked_leaves[CHECKED_LEAVES];
static int	checked_next = 0;
static bool checked_callback = false;

static void
checked_leaf_inval(Datum arg, Oid relid)
{
	for (int i = 0; i < CHECKED_LEAVES; i++)
		if (!OidIsValid(relid) || checked_leaves[i].leaf == relid || checked_leaves[i].root == relid)
			checked_leaves[i].leaf = checked_leaves[i].root = InvalidOid;
}

/*
 * A leaf partition takes obs's rows as its parent would: a heap table
 * whose columns are the parent's, in order (dropped columns aside).
 */
static void
check_leaf(Relation root, Relation leaf)
{
	TupleDesc	rd = RelationGetDescr(root);
	TupleDesc	ld = RelationGetDescr(leaf);
	int			r = 0;
	int			l = 0;

	for (int i = 0; i < CHECKED_LEAVES; i++)
		if (checked_leaves[i].leaf == RelationGetRelid(leaf) &&
			checked_leaves[i].root == RelationGetRelid(root))
			return;

	if (leaf->rd_rel->relkind != RELKIND_RELATION || leaf->rd_rel->relam != HEAP_TABLE_AM_OID)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("obs cannot write into partition \"%s\" of \"%s\"",
						RelationGetRelationName(leaf), RelationGetRelationName(root)),
				 errdetail("obs writes into partitions that are heap tables.")));
	for (;;)
	{
		while (r < rd->natts && TupleDescAttr(rd, r)->attisdropped)
			r++;
		while (l < ld->natts && TupleDescAttr(ld, l)->attisdropped)
			l++;
		if (r >= rd->natts && l >= ld->natts)
			break;
		if (r >= rd->natts || l >= ld->natts ||
			TupleDescAttr(rd, r)->atttypid != TupleDescAttr(ld, l)->atttypid ||
			strcmp(NameStr(TupleDescAttr(rd, r)->attname), NameStr(TupleDescAttr(ld, l)->attname)) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition \"%s\" of \"%s\" does not have its parent's columns in order",
							RelationGetRelationName(leaf), RelationGetRelationName(root)),
					 errhint("Make partitions with CREATE TABLE ... PARTITION OF, or with obs.run_maintenance().")));
		r++;
		l++;
	}
	if (!checked_callback)
	{
		CacheRegisterRelcacheCallback(checked_leaf_inval, (Datum) 0);
		checked_callback = true;
	}
	checked_leaves[checked_next].leaf = RelationGetRelid(leaf);
	checked_leaves[checked_next].root = RelationGetRelid(root);
	checked_next = (checked_next + 1) % CHECKED_LEAVES;
}

/*
 * rel's leaf partition for the row, opened for insert and checked.  The
 * route is taken again once the leaf is locked: a partition attached
 * concurrently (obs.run_maintenance() holds ACCESS EXCLUSIVE on the
 * default partition while it moves rows and attaches) is seen only after
 * the lock, and a row first routed to the default partition may then
 * belong to the new partition, as the executor's tuple routing rechecks
 * the default partition's constraint.
 */
static Relation
open_leaf(Relation root, Datum *values, bool *nulls)
{
	Oid			leafid = route_row(root, values, nulls);

	for (int tries = 0;; tries++)
	{
		Relation	leaf = table_open(leafid, RowExclusiveLock);
		Oid			again = route_row(root, values, nulls);

		if (again == leafid)
		{
			check_leaf(root, leaf);
			return leaf;
		}
		table_close(leaf, RowExclusiveLock);
		if (tries >= 10)
			ereport(ERROR,
					(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
					 errmsg("the partitions of \"%s\" keep changing", RelationGetRelationName(root))));
		leafid = again;
	}
}

/*
 * Whether ExecConstraints() has anything to check on a row: a CHECK
 * constraint, or a null in a NOT NULL column (nulls by attribute).
 * Checking the nulls here spares deforming the tuple just formed, and
 * the error, when there is one, is still ExecConstraints()'s own.
 */
static bool
may_break_constraints(TupleDesc desc, const bool *nulls)
{
	TupleConstr *constr = desc->constr;

	if (constr == NULL)
		return false;
	if (constr->num_check > 0)
		return true;
	if (constr->has_not_null)
		for (int a = 0; a < desc->natts; a++)
			if (nulls[a] && TupleDescAttr(desc, a)->attnotnull)
				return true;
	return false;
}

/* insert one row into a heap table and its indexes */
static void
insert_heap_row(Relation rel, Datum *values, bool *nulls)
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

	if (may_break_constraints(RelationGetDescr(rel), nulls))
		ExecConstraints(rri, slot, estate);
	simple_table_tuple_insert(rel, slot);
	if (rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}

/*
 * Insert one row into rel (opened by obs_open_table), or into its leaf
 * partition when rel is partitioned, and its indexes.  NOT NULL and CHECK
 * constraints are enforced as an INSERT would; unique indexes are checked
 * (23505).  Triggers and rules are not run.
 */
void
obs_insert_row(Relation rel, Datum *values, bool *nulls)
{
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		Relation	leaf = open_leaf(rel, values, nulls);

		insert_heap_row(leaf, values, nulls);
		table_close(leaf, NoLock);
	}
	else
		insert_heap_row(rel, values, nulls);
}

/*
 * Multi-insert batches, used by the flusher worker: rows of a few tables
 * are collected as heap tuples and written with table_multi_insert(),
 * then their index entries are added, as COPY FROM does.  One EState and
 * one open relation per table serve the whole batch.  A partitioned table
 * is an entry that holds no rows: each row is queued in the entry of its
 * leaf partition, opened the first time a row goes there.
 *
 * The tuple slots outlive the batch (SlotSet): a batch of 1,000 rows
 * would otherwise make 1,000 slots, each pinning the relation's tuple
 * descriptor in the transaction's resource owner.  A set is kept per
 * relation, with its own copy of the descriptor (not reference counted,
 * so no resource owner sees it), and remade when the relation's
 * descriptor changes.
 */
#define BATCH_MAX_TABLES 32
#define BATCH_MAX_ROWS 1000
/* a set per table a batch can have open at once, so none in use is remade */
#define SLOT_SETS BATCH_MAX_TABLES

typedef struct SlotSet
{
	Oid			relid;			/* InvalidOid: unused */
	TupleDesc	desc;			/* a copy, in slot_cxt */
	uint64		last_used;
	uint64		batch;			/* the batch that uses it, or 0 */
	int			nmade;
	TupleTableSlot *slots[BATCH_MAX_ROWS];
} SlotSet;

static MemoryContext slot_cxt = NULL;
static SlotSet *slot_sets = NULL;
static uint64 slot_clock = 0;
static uint64 batch_clock = 0;	/* numbers the batches, from 1 */

typedef struct BatchTable
{
	Relation	rel;
	ObsTable   *source;			/* what obs_batch_open() opened it for, or NULL */
	ResultRelInfo *rri;			/* NULL for a partitioned table */
	BulkInsertState bistate;	/* one per relation: it keeps a page pinned */
	Relation	root;			/* a leaf: its partitioned table, else NULL */
	SlotSet    *slots;			/* NULL for a partitioned table */
	int			nused;
	Oid			last_leaf;		/* partitioned: the leaf the last row went to */
	int			last_leaf_index;	/* and its entry */
} BatchTable;

struct ObsBatch
{
	EState	   *estate;
	BatchTable	tables[BATCH_MAX_TABLES];
	int			ntables;
};

/*
 * The slot set of rel for the current batch, kept across batches: found
 * by relation and descriptor, else the least recently used set that no
 * open table of this batch uses is remade for rel.  A slot may still hold
 * a tuple of an aborted batch, in memory already freed: it is emptied
 * without freeing that tuple.
 */
static SlotSet *
slot_set_for(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	SlotSet    *set = NULL;
	MemoryContext old;

	if (slot_sets == NULL)
	{
		slot_cxt = AllocSetContextCreate(TopMemoryContext, "obs batch slots",
										 ALLOCSET_DEFAULT_SIZES);
		slot_sets = MemoryContextAllocZero(slot_cxt, SLOT_SETS * sizeof(SlotSet));
	}
	for (int i = 0; i < SLOT_SETS && set == NULL; i++)
		if (slot_sets[i].relid == RelationGetRelid(rel) &&
			equalTupleDescs(slot_sets[i].desc, desc))
			set = &slot_sets[i];
	if (set == NULL)
	{
		for (int i = 0; i < SLOT_SETS; i++)
			if (slot_sets[i].batch != batch_clock &&
				(set == NULL || slot_sets[i].last_used < set->last_used))
				set = &slot_sets[i];
		if (set == NULL)
			elog(ERROR, "too many tables in one obs batch");
		for (int i = 0; i < set->nmade; i++)
		{
			set->slots[i]->tts_flags &= ~TTS_FLAG_SHOULDFREE;
			ExecDropSingleTupleTableSlot(set->slots[i]);
		}
		if (set->desc != NULL)
			FreeTupleDesc(set->desc);
		old = MemoryContextSwitchTo(slot_cxt);
		set->desc = CreateTupleDescCopyConstr(desc);
		MemoryContextSwitchTo(old);
		set->relid = RelationGetRelid(rel);
		set->nmade = 0;
	}
	set->last_used = ++slot_clock;
	set->batch = batch_clock;
	for (int i = 0; i < set->nmade; i++)
		if (!TTS_EMPTY(set->slots[i]))
		{
			set->slots[i]->tts_flags &= ~TTS_FLAG_SHOULDFREE;
			ExecClearTuple(set->slots[i]);
		}
	return set;
}

/* slot i of set, made on first use */
static TupleTableSlot *
slot_at(SlotSet *set, int i)
{
	if (i >= set->nmade)
	{
		MemoryContext old = MemoryContextSwitchTo(slot_cxt);

		Assert(i == set->nmade);
		set->slots[set->nmade++] = MakeSingleTupleTableSlot(set->desc, &TTSOpsHeapTuple);
		MemoryContextSwitchTo(old);
	}
	return set->slots[i];
}

ObsBatch *
obs_batch_begin(void)
{
	ObsBatch   *b = palloc0(sizeof(ObsBatch));

	batch_clock++;

	b->estate = CreateExecutorState();
	return b;
}

static void batch_flush_table(ObsBatch *b, BatchTable *bt);

/* a new entry for rel (opened by the caller) */
static BatchTable *
batch_add_table(ObsBatch *b, Relation rel, Relation root)
{
	BatchTable *bt;

	if (b->ntables >= BATCH_MAX_TABLES)
	{
		/* many partitions in one batch: write and close the leaves so far */
		int			keep = 0;

		for (int i = 0; i < b->ntables; i++)
		{
			BatchTable *t = &b->tables[i];

			if (t->root != NULL)
			{
				batch_flush_table(b, t);
				ExecCloseIndices(t->rri);
				FreeBulkInsertState(t->bistate);
				t->slots->batch = 0;	/* free for another table */
				table_close(t->rel, NoLock);
				continue;
			}
			if (keep != i)
				b->tables[keep] = *t;
			keep++;
		}
		for (int i = keep; i < b->ntables; i++)
			memset(&b->tables[i], 0, sizeof(BatchTable));
		b->ntables = keep;
		if (b->ntables >= BATCH_MAX_TABLES)
			elog(ERROR, "too many tables in one obs batch");
	}
	bt = &b->tables[b->ntables++];
	bt->rel = rel;
	bt->source = NULL;
	bt->root = root;
	bt->nused = 0;
	bt->last_leaf = InvalidOid;
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
		return bt;
	bt->slots = slot_set_for(rel);
	bt->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(bt->rri, rel, 0, NULL, 0);
	ExecOpenIndices(bt->rri, false);
	bt->bistate = GetBulkInsertState();
	return bt;
}

/*
 * t opened for insert once per batch.  Every row asks again: once the
 * batch holds t's relation (locked, so it cannot be renamed or dropped
 * meanwhile), that entry is found without looking the name up.
 */
Relation
obs_batch_open(ObsBatch *b, ObsTable *t)
{
	Oid			relid;
	BatchTable *bt;

	for (int i = 0; i < b->ntables; i++)
		if (b->tables[i].source == t)
			return b->tables[i].rel;
	relid = obs_relation_oid(t->relname);
	for (int i = 0; i < b->ntables; i++)
		if (RelationGetRelid(b->tables[i].rel) == relid && b->tables[i].root == NULL)
		{
			b->tables[i].source = t;
			return b->tables[i].rel;
		}
	bt = batch_add_table(b, obs_open_table(t), NULL);
	bt->source = t;
	return bt->rel;
}

static void
batch_flush_table(ObsBatch *b, BatchTable *bt)
{
	if (bt->nused == 0)
		return;
	table_multi_insert(bt->rel, bt->slots->slots, bt->nused, GetCurrentCommandId(true), 0, bt->bistate);
	for (int i = 0; i < bt->nused; i++)
	{
		if (bt->rri->ri_NumIndices > 0)
			ExecInsertIndexTuples(bt->rri, bt->slots->slots[i], b->estate, false, false, NULL, NIL);
		ExecClearTuple(bt->slots->slots[i]);
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
	TupleTableSlot *slot;

	for (int i = 0; i < b->ntables; i++)
		if (b->tables[i].rel == rel)
			bt = &b->tables[i];
	if (bt == NULL)
		elog(ERROR, "relation \"%s\" is not open in this obs batch", RelationGetRelationName(rel));
	if (rel->rd_rel->relkind == RELKIND_PARTITIONED_TABLE)
	{
		BatchTable *root_bt = bt;
		Oid			leafid = route_row(rel, values, nulls);

		bt = NULL;
		/* rows of a batch mostly go where the previous one went */
		if (leafid == root_bt->last_leaf &&
			root_bt->last_leaf_index < b->ntables &&
			b->tables[root_bt->last_leaf_index].root == rel &&
			RelationGetRelid(b->tables[root_bt->last_leaf_index].rel) == leafid)
			bt = &b->tables[root_bt->last_leaf_index];
		for (int i = 0; i < b->ntables && bt == NULL; i++)
			if (b->tables[i].root == rel && RelationGetRelid(b->tables[i].rel) == leafid)
				bt = &b->tables[i];
		if (bt == NULL)
		{
			/* a leaf already in the batch is locked: its route is settled */
			Relation	leaf = open_leaf(rel, values, nulls);

			for (int i = 0; i < b->ntables; i++)
				if (b->tables[i].root == rel && b->tables[i].rel == leaf)
					bt = &b->tables[i];
			if (bt == NULL)
			{
				bt = batch_add_table(b, leaf, rel);
				/* batch_add_table() may have moved the entries */
				for (int i = 0; i < b->ntables; i++)
					if (b->tables[i].rel == rel)
						root_bt = &b->tables[i];
			}
			else
				table_close(leaf, NoLock);
		}
		root_bt->last_leaf = RelationGetRelid(bt->rel);
		root_bt->last_leaf_index = bt - b->tables;
		rel = bt->rel;
	}
	slot = slot_at(bt->slots, bt->nused);
	physical_row(RelationGetDescr(rel), &values, &nulls);
	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	ExecStoreHeapTuple(tuple, slot, true);
	/* a row that breaks a constraint fails now, before it is queued */
	if (may_break_constraints(RelationGetDescr(rel), nulls))
		ExecConstraints(bt->rri, slot, b->estate);
	if (++bt->nused == BATCH_MAX_ROWS)
		batch_flush_table(b, bt);
}

/* write what is queued and close the batch's relations (leaves first) */
void
obs_batch_end(ObsBatch *b)
{
	for (int pass = 0; pass < 2; pass++)
		for (int i = 0; i < b->ntables; i++)
		{
			BatchTable *bt = &b->tables[i];

			if ((pass == 0) != (bt->root != NULL))
				continue;
			if (bt->rri != NULL)
			{
				batch_flush_table(b, bt);
				ExecCloseIndices(bt->rri);
				FreeBulkInsertState(bt->bistate);
			}
			table_close(bt->rel, NoLock);
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
