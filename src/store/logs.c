/*-------------------------------------------------------------------------
 * logs.c
 *	  Writing log records into obs.logs.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_sequence.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "store/store.h"

/* labels of obs.log_level, in ObsLogLevel order */
const char *const obs_log_level_labels[OBS_NUM_LOG_LEVELS] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
};

#define NUM_LOG_COLUMNS 12

static const ObsColumn log_columns[NUM_LOG_COLUMNS] = {
	{"log_id", INT8OID}, {"ts", TIMESTAMPTZOID}, {"level", InvalidOid, "log_level"},
	{"logger", TEXTOID}, {"message", TEXTOID}, {"context", JSONBOID}, {"tags", JSONBOID},
	{"trace_id", InvalidOid, "trace_id"}, {"span_id", InvalidOid, "span_id"},
	{"error", JSONBOID}, {"backend_pid", INT4OID}, {"txid", XID8OID, NULL, true}
};
static ObsTable logs_table = {"logs", "log_id", log_columns, NUM_LOG_COLUMNS};

/*
 * Store one log record now, in the current transaction: the transactional
 * write path, and the worker's store step (batch non-NULL).  The record
 * carries its trace context and backend pid; a log_id of 0 is assigned
 * here.
 */
int64
obs_store_log(const ObsLogRecord *rec, ObsBatch *batch)
{
	Relation	rel;
	Datum		values[NUM_LOG_COLUMNS];
	bool		nulls[NUM_LOG_COLUMNS];
	int64		id;
	Oid			level_type;

	obs_check_writable("obs.log()");
	rel = obs_row_target(&logs_table, batch);
	level_type = logs_table.typids[2];
	id = rec->log_id != 0 ? rec->log_id : obs_table_nextval(&logs_table);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(rec->ts);
	values[2] = obs_enum_datum(level_type, obs_log_level_labels[rec->level]);
	values[3] = CStringGetTextDatum(rec->logger);
	values[4] = CStringGetTextDatum(rec->message);
	values[5] = PointerGetDatum(rec->context);
	nulls[5] = rec->context == NULL;
	values[6] = PointerGetDatum(rec->tags);
	nulls[6] = rec->tags == NULL;
	values[7] = PointerGetDatum(&rec->trace_id);
	nulls[7] = !rec->has_ctx;
	values[8] = PointerGetDatum(&rec->span_id);
	nulls[8] = !rec->has_ctx;
	values[9] = PointerGetDatum(rec->error);
	nulls[9] = rec->error == NULL;
	values[10] = Int32GetDatum(rec->backend_pid);
	values[11] = obs_row_txid();

	obs_row_write(rel, batch, values, nulls);
	return id;
}

/* a new log_id, taken before the record is buffered so the caller learns it */
int64
obs_log_next_id(void)
{
	obs_table_resolve(&logs_table);
	return obs_table_nextval(&logs_table);
}

/*
 * The identity sequence of obs.logs and its current relfilenode: TRUNCATE
 * ... RESTART IDENTITY and ALTER SEQUENCE ... RESTART give it a new one,
 * and ids reserved before (obs_log_reserve_ids) must then no longer be
 * handed out, as PostgreSQL discards each backend's sequence cache.
 */
void
obs_log_sequence(Oid *seqid, Oid *filenode)
{
	HeapTuple	tup;

	obs_table_resolve(&logs_table);
	*seqid = logs_table.seqid;
	*filenode = InvalidOid;
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(*seqid));
	if (HeapTupleIsValid(tup))
	{
		*filenode = ((Form_pg_class) GETSTRUCT(tup))->relfilenode;
		ReleaseSysCache(tup);
	}
}

/*
 * The state of sequence seqid as writers check it (ingest/buffer.c): its
 * page's LSN and last_value, read under a share lock of the page.  The
 * relation lock is AccessShareLock, which does not keep a reservation
 * (ExclusiveLock) out.
 */
void
obs_log_sequence_state(Oid seqid, uint64 *lsn, int64 *last_value)
{
	Relation	rel = relation_open(seqid, AccessShareLock);
	Buffer		buf;
	Page		page;
	ItemId		lp;
	HeapTupleHeader tup;

	if (rel->rd_rel->relkind != RELKIND_SEQUENCE)
		elog(ERROR, "\"%s\" is not a sequence", RelationGetRelationName(rel));
	buf = ReadBuffer(rel, 0);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	*lsn = PageGetLSN(page);
	lp = PageGetItemId(page, FirstOffsetNumber);
	if (!ItemIdIsNormal(lp))
		elog(ERROR, "sequence \"%s\" has no tuple", RelationGetRelationName(rel));
	tup = (HeapTupleHeader) PageGetItem(page, lp);
	*last_value = ((Form_pg_sequence_data) ((char *) tup + tup->t_hoff))->last_value;
	UnlockReleaseBuffer(buf);
	relation_close(rel, NoLock);
}

/*
 * Reserve count log ids [*first, *first + count) of the identity sequence
 * of obs.logs, for the buffered path's pool (ingest/buffer.c): under a
 * lock that keeps nextval() and setval() out until the end of the current
 * transaction, read the sequence's last value and set it count further,
 * as count calls of nextval() would.  The transaction's commit is made
 * synchronous, whatever synchronous_commit says: no id of the block is
 * handed out before the block is durable.  *before_lsn and *before_last:
 * the sequence's state (obs_log_sequence_state()) under the lock, before
 * the reservation; *lsn and *last_value: after it.  False (nothing
 * reserved) when the sequence is locked, unlogged, does not count up by
 * one without cycling, or has fewer than count values left: writers then
 * take ids with nextval() as before.
 */
bool
obs_log_reserve_ids(int64 count, Oid *seqid, Oid *filenode, int64 *first,
					uint64 *before_lsn, int64 *before_last,
					uint64 *lsn, int64 *last_value)
{
	HeapTuple	tup;
	Form_pg_sequence seq;
	char		persistence;
	int64		increment,
				maxv,
				start;
	bool		cycle;

	LOCAL_FCINFO(fcinfo, 1);
	Datum		last;

	obs_log_sequence(seqid, filenode);
	/* never wait: a transaction that called nextval() holds a lock till its end */
	if (!ConditionalLockRelationOid(*seqid, ExclusiveLock))
		return false;
	/* read the relfilenode again under the lock: a RESTART may have run */
	obs_log_sequence(seqid, filenode);
	/*
	 * an unlogged sequence's page keeps its LSN through setval(), which the
	 * writers' check could then miss: no blocks of it
	 */
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(*seqid));
	if (!HeapTupleIsValid(tup))
		return false;
	persistence = ((Form_pg_class) GETSTRUCT(tup))->relpersistence;
	ReleaseSysCache(tup);
	if (persistence != RELPERSISTENCE_PERMANENT)
		return false;
	/* the state before this reservation: the caller compares its last one */
	obs_log_sequence_state(*seqid, before_lsn, before_last);
	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(*seqid));
	if (!HeapTupleIsValid(tup))
		return false;
	seq = (Form_pg_sequence) GETSTRUCT(tup);
	increment = seq->seqincrement;
	maxv = seq->seqmax;
	cycle = seq->seqcycle;
	ReleaseSysCache(tup);
	if (increment != 1 || cycle)
		return false;

	/* pg_sequence_last_value(): NULL before the first nextval() */
	InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = ObjectIdGetDatum(*seqid);
	fcinfo->args[0].isnull = false;
	last = pg_sequence_last_value(fcinfo);
	if (fcinfo->isnull)
	{
		/*
		 * never called, or setval(..., false): the next value is not known
		 * from here; take one, which this process's sequence cache keeps
		 */
		(void) nextval_internal(*seqid, false);
		InitFunctionCallInfoData(*fcinfo, NULL, 1, InvalidOid, NULL, NULL);
		fcinfo->args[0].value = ObjectIdGetDatum(*seqid);
		fcinfo->args[0].isnull = false;
		last = pg_sequence_last_value(fcinfo);
		if (fcinfo->isnull)
			return false;
	}
	start = DatumGetInt64(last) + 1;
	if (start > maxv || maxv - start < count - 1)
		return false;
	DirectFunctionCall2(setval_oid, ObjectIdGetDatum(*seqid), Int64GetDatum(start + count - 1));
	ForceSyncCommit();
	obs_log_sequence_state(*seqid, lsn, last_value);
	*first = start;
	return true;
}
