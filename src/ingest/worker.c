/*-------------------------------------------------------------------------
 * worker.c
 *	  The launcher and the per-database flusher workers of the buffered
 *	  write path.
 *
 * The launcher is a static background worker (registered in _PG_init when
 * obs is preloaded), connected to no database so that it can read
 * pg_database.  It starts one dynamic flusher per claimed ring slot that
 * has records pending, connected to that slot's database as the bootstrap
 * superuser.  A flusher that found its ring empty for IDLE_EXIT_MS exits,
 * so that its database can be dropped or used as a template; when the
 * database no longer exists the launcher frees its slot (counters reset)
 * for another database to claim.  Writers claiming a slot, or writing to
 * a ring without a flusher, set the launcher's latch.
 *
 * A flusher follows worker_spi's loop: it sleeps on its latch for at most
 * obs.flush_interval, and writers set the latch when the ring passes 1/8
 * full or when obs.flush() waits.  Each pass stores what is in the ring,
 * obs.batch_size records per transaction, and stops after a part batch
 * (so that a steady trickle is stored in full batches, not tiny ones back
 * to back) unless the ring is still past 1/8 or obs.flush() asked for
 * everything up to its position.  A batch is copied out of [tail, head)
 * (no lock needed: those bytes do not change until tail moves), records
 * of another database (a reused slot) are skipped and counted as
 * dropped_other, the rest decoded and stored with the signals' obs_store_*()
 * functions into one multi-insert batch, commits, and only then advances
 * tail under the lock and wakes waiters.  If the batch fails:
 *	- a transient error (serialization, deadlock, lock timeout, shutdown,
 *	  out of resources) leaves the batch in the ring to be retried later,
 *	  with growing pauses, MAX_BATCH_RETRIES times in a row at most; then
 *	  it goes record by record as below, transient errors included;
 *	- any other error retries the batch record by record, each in its own
 *	  subtransaction, so good records are stored and each bad one goes to
 *	  obs.dead_letters with its error;
 *	- if even that fails (obs is not installed in the database, say) the
 *	  batch is dropped, counted and logged.
 * On SIGTERM (pg_ctl stop -m fast, or pg_terminate_backend) the flusher
 * leaves its loop at the next batch boundary, stores what is buffered,
 * for at most obs.shutdown_timeout, then closes the ring so that later
 * writers drop (and count) instead of buffering into a ring nobody reads.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/pmsignal.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "ingest/ingest.h"

#define LAUNCHER_NAP_MS 1000L
#define RESTART_DELAY_MS 1000
#define IDLE_EXIT_MS 10000
#define MAX_RETRY_PAUSE_MS 10000
#define MAX_BATCH_RETRIES 5

static volatile sig_atomic_t got_sigterm = false;

/* register the launcher; called from _PG_init when preloaded */
void
obs_worker_init(void)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 5;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "obs");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "obs_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "obs launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "obs launcher");
	RegisterBackgroundWorker(&w);
}

/* ---------------------------------------------------------------- launcher */

static void
launcher_detach(int code, Datum arg)
{
	LWLockAcquire(obs_shared->lock, LW_EXCLUSIVE);
	obs_shared->launcher_latch = NULL;
	obs_shared->launcher_pid = 0;
	LWLockRelease(obs_shared->lock);
}

static bool
start_flusher(int slot, Oid dbid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "obs");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "obs_flusher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "obs flusher for database %u", dbid);
	snprintf(w.bgw_type, BGW_MAXLEN, "obs flusher");
	w.bgw_main_arg = Int32GetDatum(slot);
	memcpy(w.bgw_extra, &dbid, sizeof(Oid));
	w.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&w, handle);
}

/* whether database dbid exists (the launcher reads shared catalogs only) */
static bool
database_exists(Oid dbid)
{
	bool		exists;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	exists = SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(dbid));
	CommitTransactionCommand();
	return exists;
}

/* free the slot of a dropped database, so another database can claim it */
static void
free_slot(ObsRing *ring, Oid dbid)
{
	LWLockAcquire(obs_shared->lock, LW_EXCLUSIVE);
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	if (ring->dbid == dbid && ring->worker_pid == 0)
	{
		ring->dbid = InvalidOid;
		ring->closed = false;
		ring->head = ring->tail = ring->flush_request = 0;
		memset(ring->counters, 0, sizeof(ring->counters));
		for (int s = 0; s < OBS_NUM_SIGNALS; s++)
			pg_atomic_write_u64(&ring->sampled_out[s], 0);
		ring->batches = ring->retries = 0;
		ring->last_flush_at = 0;
	}
	LWLockRelease(ring->lock);
	LWLockRelease(obs_shared->lock);
	ConditionVariableBroadcast(&ring->cv);
}

void
obs_launcher_main(Datum arg)
{
	int			n = obs_shared->nrings;
	BackgroundWorkerHandle **handles = palloc0(n * sizeof(BackgroundWorkerHandle *));
	TimestampTz *last_start = palloc0(n * sizeof(TimestampTz));
	TimestampTz *last_check = palloc0(n * sizeof(TimestampTz));
	bool		warned = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();

	LWLockAcquire(obs_shared->lock, LW_EXCLUSIVE);
	obs_shared->launcher_latch = MyLatch;
	obs_shared->launcher_pid = MyProcPid;
	LWLockRelease(obs_shared->lock);
	before_shmem_exit(launcher_detach, (Datum) 0);

	/* no database: enough to read pg_database, and DROP DATABASE ignores us */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();

		for (int i = 0; i < n; i++)
		{
			ObsRing    *ring = &obs_shared->rings[i];
			Oid			dbid;
			bool		pending;
			pid_t		pid;

			LWLockAcquire(ring->lock, LW_SHARED);
			dbid = ring->dbid;
			/* a ring closed by a terminated flusher needs one to reopen it */
			pending = ring->head > ring->tail || ring->closed;
			LWLockRelease(ring->lock);
			if (!OidIsValid(dbid))
				continue;
			if (handles[i] != NULL)
			{
				BgwHandleStatus st = GetBackgroundWorkerPid(handles[i], &pid);

				if (st == BGWH_STARTED || st == BGWH_NOT_YET_STARTED)
					continue;
				pfree(handles[i]);
				handles[i] = NULL;
			}
			/*
			 * No flusher.  A dropped database's slot is freed; otherwise a
			 * flusher is started when records are pending (an idle one
			 * exits), again after a pause if it keeps failing.
			 */
			if (!pending &&
				(last_check[i] == 0 ||
				 TimestampDifferenceExceeds(last_check[i], now, LAUNCHER_NAP_MS)))
			{
				/* at most once a nap: writers may set our latch often */
				last_check[i] = now;
				if (!database_exists(dbid))
				{
					free_slot(ring, dbid);
					last_start[i] = last_check[i] = 0;
				}
				continue;
			}
			if (!pending)
				continue;
			if (last_start[i] != 0 &&
				!TimestampDifferenceExceeds(last_start[i], now, RESTART_DELAY_MS))
				continue;
			if (!database_exists(dbid))
			{
				free_slot(ring, dbid);
				last_start[i] = last_check[i] = 0;
				continue;
			}
			last_start[i] = now;
			if (!start_flusher(i, dbid, &handles[i]))
			{
				handles[i] = NULL;
				if (!warned)
					ereport(WARNING,
							(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
							 errmsg("obs could not start a flusher worker for database %u", dbid),
							 errhint("Raise max_worker_processes.")));
				warned = true;
			}
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 LAUNCHER_NAP_MS, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/* ----------------------------------------------------------------- flusher */

typedef enum BatchResult
{
	BATCH_DONE,					/* stored, dead-lettered or dropped: advance */
	BATCH_RETRY					/* transient failure: keep it in the ring */
} BatchResult;

static ObsRing *flusher_ring = NULL;
static MemoryContext batch_cxt = NULL;
static const ObsColumn dead_letter_columns[6] = {
	{"dead_letter_id", INT8OID}, {"received_at", TIMESTAMPTZOID}, {"signal", TEXTOID},
	{"record", JSONBOID}, {"reason", TEXTOID}, {"sqlstate", TEXTOID}
};
static ObsTable dead_letters_table = {"dead_letters", "dead_letter_id", dead_letter_columns, 6};

static void
flusher_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

static void
flusher_detach(int code, Datum arg)
{
	ObsRing    *ring = flusher_ring;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	if (ring->worker_pid == MyProcPid)
	{
		ring->worker_pid = 0;
		ring->worker_latch = NULL;
	}
	LWLockRelease(ring->lock);
	ConditionVariableBroadcast(&ring->cv);
}

/* errors after which the same batch may well succeed later */
static bool
is_transient(int sqlerrcode)
{
	int			class = ERRCODE_TO_CATEGORY(sqlerrcode);

	return class == ERRCODE_TRANSACTION_ROLLBACK ||	/* 40: serialization, deadlock */
		class == ERRCODE_INSUFFICIENT_RESOURCES ||	/* 53: disk full, memory */
		class == ERRCODE_OPERATOR_INTERVENTION ||	/* 57: shutdown, cancel */
		class == ERRCODE_SYSTEM_ERROR ||	/* 58: I/O */
		sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE;
}

static void
start_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
}

static void
commit_xact(void)
{
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	MemoryContextSwitchTo(batch_cxt);
}

/* catch-side of a failed transaction: the error, with everything reset */
static ErrorData *
abort_xact(void)
{
	ErrorData  *edata;

	MemoryContextSwitchTo(batch_cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(batch_cxt);
	return edata;
}

/* the whole batch in one transaction, as a multi-insert */
static ErrorData *
store_batch(char **recs, int n)
{
	ErrorData  *edata = NULL;

	PG_TRY();
	{
		ObsBatch   *batch;

		start_xact();
		batch = obs_batch_begin();
		for (int i = 0; i < n; i++)
		{
			ObsDecoded d;

			obs_decode_record(recs[i], &d);
			obs_store_decoded(&d, batch);
		}
		obs_batch_end(batch);
		commit_xact();
	}
	PG_CATCH();
	{
		edata = abort_xact();
	}
	PG_END_TRY();
	return edata;
}

/* one row of obs.dead_letters, in the current transaction */
static void
store_dead_letter(int signal, Jsonb *record, ErrorData *edata)
{
	Relation	rel = obs_open_table(&dead_letters_table);
	Datum		values[6];
	bool		nulls[6] = {false};
	char	   *reason = edata->detail
		? psprintf("%s (%s)", edata->message, edata->detail)
		: edata->message;

	values[0] = Int64GetDatum(obs_table_nextval(&dead_letters_table));
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum(signal >= 0 && signal < OBS_NUM_SIGNALS
									? obs_signal_names[signal] : "unknown");
	values[3] = JsonbPGetDatum(record);
	values[4] = CStringGetTextDatum(reason ? reason : "unknown error");
	values[5] = CStringGetTextDatum(unpack_sql_state(edata->sqlerrcode));
	obs_insert_row(rel, values, nulls);
	table_close(rel, NoLock);
}

/*
 * Store one record in its own subtransaction of the current transaction;
 * on a non-transient error, dead-letter it instead.  A transient error is
 * thrown on, to fail the whole transaction, unless the batch has been
 * retried too often already (give_up): then it is dead-lettered too.
 */
static ObsCounter
store_one(const char *rec, bool give_up)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ObsDecoded *d = palloc0(sizeof(ObsDecoded));
	volatile bool decoded = false;
	ErrorData  *edata = NULL;
	Jsonb	   *json;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		obs_decode_record(rec, d);
		decoded = true;
		obs_store_decoded(d, NULL);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();

	if (edata == NULL)
		return OBS_C_STORED;
	if (!give_up && is_transient(edata->sqlerrcode))
		ReThrowError(edata);
	json = decoded ? obs_record_jsonb(d)
		: DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"undecodable\": true}")));
	store_dead_letter(((const ObsRecordHeader *) rec)->signal, json, edata);
	return OBS_C_DEAD_LETTERED;
}

/*
 * The batch again, record by record, each in a subtransaction: good
 * records are stored, bad ones dead-lettered.  status[i] gets
 * OBS_C_STORED or OBS_C_DEAD_LETTERED.  Returns the error that defeated
 * the whole transaction, or NULL.
 */
static ErrorData *
store_one_by_one(char **recs, int n, ObsCounter *status, bool give_up)
{
	ErrorData  *fatal = NULL;

	PG_TRY();
	{
		start_xact();
		for (int i = 0; i < n; i++)
			status[i] = store_one(recs[i], give_up);
		commit_xact();
	}
	PG_CATCH();
	{
		fatal = abort_xact();
	}
	PG_END_TRY();
	return fatal;
}

/* log a failure, then rarely while it persists */
static void
report_failure(const char *what, ErrorData *edata, int failures)
{
	if (failures == 1 || failures % 100 == 0)
		ereport(WARNING,
				(errmsg("obs flusher: %s: %s", what, edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 errcontext("%d consecutive failures; records stay buffered and are retried.", failures)));
}

/*
 * Store the records in [tail, head): at most obs.batch_size of them, in
 * one transaction.  Advances tail and the counters unless the failure was
 * transient; after MAX_BATCH_RETRIES transient failures of the same batch
 * it goes record by record, so that a poison record is dead-lettered
 * instead of blocking the ring.  *stored gets the number of records done.
 */
static BatchResult
flush_batch(ObsRing *ring, uint64 tail, uint64 head, int *failures, int *stored)
{
	int			max = obs_batch_size;
	char	  **recs = palloc(max * sizeof(char *));
	uint8	   *sigs = palloc(max);
	ObsCounter *status = palloc(max * sizeof(ObsCounter));
	uint64		counts[OBS_NUM_SIGNALS][OBS_NUM_COUNTERS];
	uint64		pos = tail;
	int			n = 0;
	ErrorData  *edata;
	bool		corrupt = false;
	bool		give_up = *failures >= MAX_BATCH_RETRIES;
	Oid			dbid = ring->dbid;

	memset(counts, 0, sizeof(counts));
	while (pos < head && n < max)
	{
		ObsRecordHeader h;

		obs_ring_copy_out(ring, pos, (char *) &h, sizeof(h));
		if (h.len < sizeof(h) || h.len % 8 != 0 || h.len > head - pos ||
			h.signal >= OBS_NUM_SIGNALS)
		{
			corrupt = true;
			break;
		}
		if (h.dbid != dbid)
		{
			/* not this database's record (a slot reused): never store it */
			counts[h.signal][OBS_C_DROPPED_OTHER]++;
			pos += h.len;
			continue;
		}
		recs[n] = palloc(h.len);
		obs_ring_copy_out(ring, pos, recs[n], h.len);
		sigs[n] = h.signal;
		status[n] = OBS_C_STORED;
		n++;
		pos += h.len;
	}
	if (corrupt && n == 0)
	{
		uint64		lost[OBS_NUM_SIGNALS];
		uint64		discarded;

		/*
		 * Cannot happen; never loop on it.  Nothing after an unreadable
		 * header can be parsed, so everything buffered now is discarded;
		 * the ring is then empty, so what each signal still had pending is
		 * exactly what was lost: count it as dropped_other.
		 */
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		discarded = ring->head - pos;
		ring->tail = ring->head;
		for (int s = 0; s < OBS_NUM_SIGNALS; s++)
		{
			uint64	   *c = ring->counters[s];

			c[OBS_C_DROPPED_OTHER] += counts[s][OBS_C_DROPPED_OTHER];
			lost[s] = c[OBS_C_ACCEPTED] - c[OBS_C_STORED] - c[OBS_C_DROPPED_FULL] -
				c[OBS_C_DROPPED_OTHER] - c[OBS_C_DEAD_LETTERED];
			c[OBS_C_DROPPED_OTHER] += lost[s];
		}
		ring->batches++;
		LWLockRelease(ring->lock);
		ConditionVariableBroadcast(&ring->cv);
		ereport(WARNING,
				(errmsg("obs flusher: unreadable record in the buffer, discarding " UINT64_FORMAT " bytes",
						discarded),
				 errdetail("The discarded records are counted as dropped_other in obs.ingest_stats.")));
		*failures = 0;
		*stored = 0;
		return BATCH_DONE;
	}

	if (n > 0)
	{
		edata = store_batch(recs, n);
		if (edata != NULL)
		{
			if (!give_up && is_transient(edata->sqlerrcode))
			{
				(*failures)++;
				report_failure("batch failed and will be retried", edata, *failures);
				LWLockAcquire(ring->lock, LW_EXCLUSIVE);
				ring->retries++;
				LWLockRelease(ring->lock);
				return BATCH_RETRY;
			}
			edata = store_one_by_one(recs, n, status, give_up);
			if (edata != NULL)
			{
				if (is_transient(edata->sqlerrcode))
				{
					(*failures)++;
					report_failure("batch failed and will be retried", edata, *failures);
					LWLockAcquire(ring->lock, LW_EXCLUSIVE);
					ring->retries++;
					LWLockRelease(ring->lock);
					return BATCH_RETRY;
				}
				ereport(WARNING,
						(errmsg("obs flusher: dropping %d records that could not be stored: %s",
								n, edata->message),
						 edata->detail ? errdetail("%s", edata->detail) : 0,
						 errhint("Is the obs extension installed in this database?")));
				for (int i = 0; i < n; i++)
					status[i] = OBS_C_DROPPED_OTHER;
			}
		}
	}
	*failures = 0;
	*stored = n;
	for (int i = 0; i < n; i++)
		counts[sigs[i]][status[i]]++;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	ring->tail = pos;
	for (int s = 0; s < OBS_NUM_SIGNALS; s++)
		for (int c = 0; c < OBS_NUM_COUNTERS; c++)
			ring->counters[s][c] += counts[s][c];
	ring->batches++;
	ring->last_flush_at = GetCurrentTimestamp();
	LWLockRelease(ring->lock);
	ConditionVariableBroadcast(&ring->cv);
	return BATCH_DONE;
}

typedef enum DrainResult
{
	DRAIN_EMPTY,				/* nothing buffered */
	DRAIN_CAUGHT_UP,			/* stored a part batch: wait for more */
	DRAIN_STOPPED				/* retry later, deadline passed, or SIGTERM */
} DrainResult;

/*
 * Store what is buffered, batch after batch.  Without a deadline (the
 * normal loop) it stops after a batch smaller than obs.batch_size unless
 * obs.flush() asked for more or the ring is still past the wake threshold,
 * so that under a steady trickle the flusher commits full batches every
 * obs.flush_interval instead of tiny ones back to back; and it returns at
 * once on SIGTERM.  With a deadline (shutdown) it stores everything it can
 * until then.
 */
static DrainResult
drain(ObsRing *ring, TimestampTz deadline, int *failures)
{
	for (;;)
	{
		uint64		head,
					tail,
					request;
		int			stored = 0;

		LWLockAcquire(ring->lock, LW_SHARED);
		head = ring->head;
		tail = ring->tail;
		request = ring->flush_request;
		LWLockRelease(ring->lock);
		if (tail == head)
			return DRAIN_EMPTY;
		if (deadline == 0 && got_sigterm)
			return DRAIN_STOPPED;
		if (deadline != 0 && GetCurrentTimestamp() >= deadline)
			return DRAIN_STOPPED;
		if (!PostmasterIsAlive())
			proc_exit(1);

		MemoryContextReset(batch_cxt);
		MemoryContextSwitchTo(batch_cxt);
		pgstat_report_activity(STATE_RUNNING, "storing buffered obs records");
		if (flush_batch(ring, tail, head, failures, &stored) == BATCH_RETRY)
		{
			pgstat_report_activity(STATE_IDLE, NULL);
			return DRAIN_STOPPED;
		}
		pgstat_report_activity(STATE_IDLE, NULL);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (deadline == 0 && stored < obs_batch_size)
		{
			uint64		used;

			LWLockAcquire(ring->lock, LW_SHARED);
			used = ring->head - ring->tail;
			tail = ring->tail;
			LWLockRelease(ring->lock);
			if (tail >= request && used < obs_shared->ring_size / 8)
				return used == 0 ? DRAIN_EMPTY : DRAIN_CAUGHT_UP;
		}
	}
}

/*
 * An idle flusher leaves, so that its database can be dropped or used as
 * a template; the launcher starts it again when records arrive.  True
 * when the ring was still empty under the lock (writers then wake the
 * launcher instead).
 */
static bool
leave_if_empty(ObsRing *ring)
{
	bool		empty;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	empty = ring->head == ring->tail;
	if (empty)
	{
		ring->worker_pid = 0;
		ring->worker_latch = NULL;
	}
	LWLockRelease(ring->lock);
	return empty;
}

void
obs_flusher_main(Datum arg)
{
	int			slot = DatumGetInt32(arg);
	Oid			dbid;
	ObsRing    *ring;
	int			failures = 0;
	TimestampTz idle_since = 0;

	memcpy(&dbid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, flusher_sigterm);
	BackgroundWorkerUnblockSignals();

	if (slot < 0 || slot >= obs_shared->nrings || obs_shared->rings[slot].dbid != dbid)
		proc_exit(0);
	ring = &obs_shared->rings[slot];

	/* the bootstrap superuser: table privileges do not matter */
	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	SetConfigOption("statement_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("lock_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.write_path", "transactional", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.instrument_functions", "", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("obs flusher");

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	if (ring->worker_pid != 0)
	{
		LWLockRelease(ring->lock);
		ereport(LOG, (errmsg("obs flusher for database %u is already running", dbid)));
		proc_exit(0);
	}
	ring->worker_pid = MyProcPid;
	ring->worker_latch = MyLatch;
	ring->closed = false;
	LWLockRelease(ring->lock);
	flusher_ring = ring;
	before_shmem_exit(flusher_detach, (Datum) 0);

	batch_cxt = AllocSetContextCreate(TopMemoryContext, "obs flusher batch",
									  ALLOCSET_DEFAULT_SIZES);

	for (;;)
	{
		long		nap = obs_flush_interval;
		DrainResult dr;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (got_sigterm)
			break;
		dr = drain(ring, 0, &failures);
		if (dr == DRAIN_STOPPED && failures > 0)
			nap = Min((long) obs_flush_interval << Min(failures, 6), MAX_RETRY_PAUSE_MS);
		if (dr != DRAIN_EMPTY)
			idle_since = 0;
		else if (idle_since == 0)
			idle_since = GetCurrentTimestamp();
		else if (TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), IDLE_EXIT_MS) &&
				 leave_if_empty(ring))
			proc_exit(0);

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}

	/* shutdown: store what is buffered, within obs.shutdown_timeout */
	{
		TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														   Max(obs_shutdown_timeout, 1));
		uint64		left;

		while (drain(ring, deadline, &failures) != DRAIN_EMPTY && GetCurrentTimestamp() < deadline)
			pg_usleep(10000L);
		/* from now on writers drop; store what slipped in meanwhile */
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		ring->closed = true;
		LWLockRelease(ring->lock);
		ConditionVariableBroadcast(&ring->cv);
		(void) drain(ring, deadline, &failures);
		LWLockAcquire(ring->lock, LW_SHARED);
		left = ring->head - ring->tail;
		LWLockRelease(ring->lock);
		if (left > 0)
			ereport(WARNING,
					(errmsg("obs flusher stopping with " UINT64_FORMAT " bytes of buffered records not stored", left),
					 errhint("Raise obs.shutdown_timeout to give the flusher more time at shutdown.")));
	}
	proc_exit(0);
}
