/*-------------------------------------------------------------------------
 * worker.c
 *	  The ship launcher and the per-database ship workers.
 *
 * The launcher is a static background worker connected to no database.
 * At its start it starts a ship worker for each database that allows
 * connections; a worker that finds no sinks (or no extension obs) frees
 * its slot and exits.  obs.setup_*() and obs.resume_sink() wake the
 * launcher through obs._ship_wake() when their transaction commits, so
 * that a new sink ships at once.  A worker that fails or is killed is started
 * again after RESTART_DELAY_MS; after a postmaster crash the launcher's
 * first scan starts them again.  Workers run as the bootstrap superuser,
 * which is why only superusers may add sinks.
 *
 * A worker follows worker_spi's loop: it sleeps on its latch for the
 * shortest flush interval of its sinks, reloads the sinks each pass (so
 * pause, resume, drop and endpoint changes take effect at the next pass)
 * and its settings and credentials on SIGHUP, and stops at SIGTERM
 * between two requests (every request is bounded by the sink's timeout).
 *
 * One pass, for each sink and signal:
 *	1. (transaction) obs._ship_batch() reads the next rows past the
 *	   durable cursor: committed rows only, no lock a writer needs (a
 *	   row lock on the sink's cursor row).  Commit.
 *	2. (no transaction, no snapshot held) the sink kind sends them
 *	   (sinks.c); a receiver that is slow or down delays this sink only.
 *	3. (transaction) dead letters of the attempt are stored; when every
 *	   row is done, obs._ship_ack() moves the cursor past the batch and
 *	   counts it, in the same transaction.  Otherwise obs._ship_failed()
 *	   counts the attempt and the rest of the batch is kept in memory and
 *	   retried after an exponential backoff with jitter (at least the
 *	   answer's Retry-After); after the sink's max_retries retries, the
 *	   rows still to send become one dead letter (the last request and its
 *	   error) and the cursor moves on.
 * A crash between 2 and 3 sends the batch once more: at most one batch
 * per sink is repeated.  Elasticsearch documents have a _id from the row,
 * so a repeated one overwrites itself.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_database.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "nodes/parsenodes.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "store/store.h"
#include "ship.h"

PG_FUNCTION_INFO_V1(obs_ship_wake);

#define SHIP_MAX_DATABASES 64
#define LAUNCHER_NAP_MS 1000L
#define RESTART_DELAY_MS 1000L
#define MAX_BACKOFF_MS 60000L
#define BASE_BACKOFF_MS 500L
#define MAX_BATCHES_PER_PASS 50

typedef struct ShipSlot
{
	Oid			dbid;			/* InvalidOid: free */
	pid_t		pid;			/* its worker, 0 when none */
	bool		wanted;			/* start a worker (woken, or has sinks) */
	uint32		wakes;			/* bumped by each commit that woke it */
	TimestampTz hold_until;		/* no worker before (DROP/CREATE DATABASE) */
} ShipSlot;

typedef struct ShipShared
{
	slock_t		mutex;
	Latch	   *launcher_latch;
	ShipSlot	slots[SHIP_MAX_DATABASES];
} ShipShared;

static ShipShared *ship_shared = NULL;
static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;
static volatile sig_atomic_t got_sigterm = false;
static ProcessUtility_hook_type prev_process_utility = NULL;

static int	slot_of(Oid dbid, bool claim);

PGDLLEXPORT void obs_ship_launcher_main(Datum arg);
PGDLLEXPORT void obs_ship_worker_main(Datum arg);

static void
ship_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(MAXALIGN(sizeof(ShipShared)));
}

static void
ship_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	ship_shared = ShmemInitStruct("obs ship", sizeof(ShipShared), &found);
	if (!found)
	{
		memset(ship_shared, 0, sizeof(ShipShared));
		SpinLockInit(&ship_shared->mutex);
	}
	LWLockRelease(AddinShmemInitLock);
}

/*
 * A ship worker connected to a database would make DROP DATABASE, CREATE
 * DATABASE ... TEMPLATE and ALTER DATABASE ... RENAME fail ("being
 * accessed by other users"): before those run, the worker of the
 * database is stopped and held off for HOLD_MS; it comes back afterwards
 * (the launcher frees the slot of a database that no longer exists).
 */
#define HOLD_MS 10000

static void
hold_off_database(const char *dbname)
{
	Oid			dbid = get_database_oid(dbname, true);
	pid_t		pid = 0;
	int			i;

	if (!OidIsValid(dbid) || ship_shared == NULL)
		return;
	SpinLockAcquire(&ship_shared->mutex);
	i = slot_of(dbid, false);
	if (i >= 0)
	{
		ship_shared->slots[i].hold_until =
			TimestampTzPlusMilliseconds(GetCurrentTimestamp(), HOLD_MS);
		pid = ship_shared->slots[i].pid;
	}
	SpinLockRelease(&ship_shared->mutex);
	if (pid == 0)
		return;
	kill(pid, SIGTERM);
	/* a worker stops between two requests, and aborts a request at once */
	for (int n = 0; n < 100; n++)
	{
		bool		gone;

		SpinLockAcquire(&ship_shared->mutex);
		gone = ship_shared->slots[i].pid != pid;
		SpinLockRelease(&ship_shared->mutex);
		if (gone)
			break;
		pg_usleep(50000L);
		CHECK_FOR_INTERRUPTS();
	}
}

static void
ship_process_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
					 ProcessUtilityContext context, ParamListInfo params,
					 QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, DropdbStmt))
		hold_off_database(((DropdbStmt *) parsetree)->dbname);
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		hold_off_database(((RenameStmt *) parsetree)->subname);
	else if (IsA(parsetree, CreatedbStmt))
	{
		ListCell   *lc;

		foreach(lc, ((CreatedbStmt *) parsetree)->options)
		{
			DefElem    *d = lfirst(lc);

			if (strcmp(d->defname, "template") == 0 && d->arg)
				hold_off_database(defGetString(d));
		}
	}
	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context, params,
							 queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

/* shared memory and the launcher; called from _PG_init when preloaded */
void
obs_ship_init(void)
{
	BackgroundWorker w;

	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = ship_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = ship_shmem_startup;
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = ship_process_utility;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = 1;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "obs");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "obs_ship_launcher_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "obs ship launcher");
	snprintf(w.bgw_type, BGW_MAXLEN, "obs ship launcher");
	RegisterBackgroundWorker(&w);
}

/* the slot of dbid, claimed if free and claim is set; -1 when none */
static int
slot_of(Oid dbid, bool claim)
{
	int			free_slot = -1;

	for (int i = 0; i < SHIP_MAX_DATABASES; i++)
	{
		if (ship_shared->slots[i].dbid == dbid)
			return i;
		if (free_slot < 0 && !OidIsValid(ship_shared->slots[i].dbid))
			free_slot = i;
	}
	if (claim && free_slot >= 0)
	{
		ship_shared->slots[free_slot].dbid = dbid;
		ship_shared->slots[free_slot].pid = 0;
		ship_shared->slots[free_slot].wanted = false;
	}
	return claim ? free_slot : -1;
}

/* set at commit by a transaction that called obs._ship_wake() */
static bool wake_at_commit = false;
static bool wake_callback_registered = false;

/* mark this database's slot wanted and wake the launcher */
static void
wake_launcher(void)
{
	int			i;
	Latch	   *latch;

	SpinLockAcquire(&ship_shared->mutex);
	i = slot_of(MyDatabaseId, true);
	if (i >= 0)
	{
		ship_shared->slots[i].wanted = true;
		ship_shared->slots[i].wakes++;
	}
	latch = ship_shared->launcher_latch;
	SpinLockRelease(&ship_shared->mutex);
	if (latch)
		SetLatch(latch);
}

static void
wake_xact_callback(XactEvent event, void *arg)
{
	if (!wake_at_commit)
		return;
	if (event == XACT_EVENT_COMMIT)
	{
		wake_at_commit = false;
		wake_launcher();
	}
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE)
		wake_at_commit = false;
}

/*
 * obs._ship_wake(): this database has sinks.  The launcher is woken at
 * commit, so that the worker it starts sees the new sink.
 */
Datum
obs_ship_wake(PG_FUNCTION_ARGS)
{
	bool		room;

	if (ship_shared == NULL)
	{
		ereport(NOTICE,
				(errmsg("obs is not in shared_preload_libraries: the sink ships once it is")));
		PG_RETURN_BOOL(false);
	}
	SpinLockAcquire(&ship_shared->mutex);
	room = slot_of(MyDatabaseId, false) >= 0 || slot_of(InvalidOid, false) >= 0;
	SpinLockRelease(&ship_shared->mutex);
	if (!room)
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("obs ships from at most %d databases at once", SHIP_MAX_DATABASES)));
	if (!wake_callback_registered)
	{
		RegisterXactCallback(wake_xact_callback, NULL);
		wake_callback_registered = true;
	}
	wake_at_commit = true;
	PG_RETURN_BOOL(room);
}

/* ---------------------------------------------------------------- launcher */

static void
launcher_detach(int code, Datum arg)
{
	SpinLockAcquire(&ship_shared->mutex);
	ship_shared->launcher_latch = NULL;
	SpinLockRelease(&ship_shared->mutex);
}

/* every database that allows connections gets a probe: slot wanted */
static void
scan_databases(void)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);
		int			i;

		if (!db->datallowconn || db->datistemplate)
			continue;
		SpinLockAcquire(&ship_shared->mutex);
		i = slot_of(db->oid, true);
		if (i >= 0 && ship_shared->slots[i].pid == 0)
			ship_shared->slots[i].wanted = true;
		SpinLockRelease(&ship_shared->mutex);
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

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

static bool
start_worker(int slot, Oid dbid, BackgroundWorkerHandle **handle)
{
	BackgroundWorker w;

	memset(&w, 0, sizeof(w));
	w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w.bgw_start_time = BgWorkerStart_RecoveryFinished;
	w.bgw_restart_time = BGW_NEVER_RESTART;
	snprintf(w.bgw_library_name, BGW_MAXLEN, "obs");
	snprintf(w.bgw_function_name, BGW_MAXLEN, "obs_ship_worker_main");
	snprintf(w.bgw_name, BGW_MAXLEN, "obs ship worker for database %u", dbid);
	snprintf(w.bgw_type, BGW_MAXLEN, "obs ship worker");
	w.bgw_main_arg = Int32GetDatum(slot);
	memcpy(w.bgw_extra, &dbid, sizeof(Oid));
	w.bgw_notify_pid = MyProcPid;
	return RegisterDynamicBackgroundWorker(&w, handle);
}

void
obs_ship_launcher_main(Datum arg)
{
	BackgroundWorkerHandle *handles[SHIP_MAX_DATABASES] = {0};
	TimestampTz last_start[SHIP_MAX_DATABASES] = {0};
	TimestampTz last_scan = 0;
	bool		warned = false;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);

	SpinLockAcquire(&ship_shared->mutex);
	ship_shared->launcher_latch = MyLatch;
	/* after a crash, workers of the last life are gone */
	for (int i = 0; i < SHIP_MAX_DATABASES; i++)
		ship_shared->slots[i].pid = 0;
	SpinLockRelease(&ship_shared->mutex);
	before_shmem_exit(launcher_detach, (Datum) 0);

	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();

		/* once per launcher life: a crash or restart forgot every slot */
		if (last_scan == 0)
		{
			scan_databases();
			last_scan = now;
		}
		for (int i = 0; i < SHIP_MAX_DATABASES; i++)
		{
			Oid			dbid;
			bool		wanted;
			TimestampTz hold_until;
			pid_t		pid;

			if (handles[i] != NULL)
			{
				BgwHandleStatus st = GetBackgroundWorkerPid(handles[i], &pid);

				if (st == BGWH_STARTED || st == BGWH_NOT_YET_STARTED)
					continue;
				pfree(handles[i]);
				handles[i] = NULL;
			}
			SpinLockAcquire(&ship_shared->mutex);
			dbid = ship_shared->slots[i].dbid;
			wanted = ship_shared->slots[i].wanted;
			hold_until = ship_shared->slots[i].hold_until;
			SpinLockRelease(&ship_shared->mutex);
			if (!OidIsValid(dbid) || !wanted || now < hold_until)
				continue;
			if (last_start[i] != 0 &&
				!TimestampDifferenceExceeds(last_start[i], now, RESTART_DELAY_MS))
				continue;
			last_start[i] = now;
			if (!database_exists(dbid))
			{
				/* dropped: its slot is free for another database */
				SpinLockAcquire(&ship_shared->mutex);
				if (ship_shared->slots[i].dbid == dbid && ship_shared->slots[i].pid == 0)
					memset(&ship_shared->slots[i], 0, sizeof(ShipSlot));
				SpinLockRelease(&ship_shared->mutex);
				continue;
			}
			if (!start_worker(i, dbid, &handles[i]))
			{
				handles[i] = NULL;
				if (!warned)
					ereport(WARNING,
							(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
							 errmsg("obs could not start a ship worker for database %u", dbid),
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

/* ------------------------------------------------------------------ worker */

/* per sink and signal: the batch in flight and its retry schedule */
typedef struct ShipState
{
	char	   *sink;
	char	   *signal;
	MemoryContext cxt;			/* the batch's memory */
	ObsShipBatch *batch;		/* NULL: none in flight */
	/* where the cursor goes once the batch is done */
	char	   *last_txid;
	int64		last_key;
	bool		last_key_null;
	int64		last_off;
	bool		window_done;
	int			attempts;		/* failed attempts of this batch */
	int			retries;		/* to count at the ack */
	TimestampTz next_attempt;
	bool		seen;			/* the sink still exists (this pass) */
} ShipState;

static List *states = NIL;
static MemoryContext worker_cxt = NULL;
static MemoryContext pass_cxt = NULL;
static MemoryContext send_cxt = NULL;	/* one attempt: bodies, answers */
static int	my_slot = -1;

static void
worker_sigterm(SIGNAL_ARGS)
{
	int			save_errno = errno;

	got_sigterm = true;
	SetLatch(MyLatch);
	errno = save_errno;
}

/* at exit: the slot stays wanted unless the worker found nothing to do */
static void
worker_detach(int code, Datum arg)
{
	SpinLockAcquire(&ship_shared->mutex);
	if (my_slot >= 0 && ship_shared->slots[my_slot].pid == MyProcPid)
		ship_shared->slots[my_slot].pid = 0;
	SpinLockRelease(&ship_shared->mutex);
}

static void
start_xact(void)
{
	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

static void
commit_xact(void)
{
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	MemoryContextSwitchTo(pass_cxt);
}

/* catch side: log the error (scrubbed) and reset; returns its message */
static char *
abort_xact(const char *what)
{
	ErrorData  *edata;
	char	   *msg;

	MemoryContextSwitchTo(pass_cxt);
	edata = CopyErrorData();
	FlushErrorState();
	AbortCurrentTransaction();
	MemoryContextSwitchTo(pass_cxt);
	msg = obs_scrub(edata->message ? edata->message : "unknown error");
	ereport(WARNING,
			(errcode(edata->sqlerrcode),
			 errmsg("obs ship worker could not %s: %s", what, msg)));
	return msg;
}

static ShipState *
state_for(const char *sink, const char *signal)
{
	ListCell   *lc;
	ShipState  *st;
	MemoryContext old;

	foreach(lc, states)
	{
		st = lfirst(lc);
		if (strcmp(st->sink, sink) == 0 && strcmp(st->signal, signal) == 0)
			return st;
	}
	old = MemoryContextSwitchTo(worker_cxt);
	st = palloc0(sizeof(ShipState));
	st->sink = pstrdup(sink);
	st->signal = pstrdup(signal);
	st->cxt = AllocSetContextCreate(worker_cxt, "obs ship batch", ALLOCSET_DEFAULT_SIZES);
	states = lappend(states, st);
	MemoryContextSwitchTo(old);
	return st;
}

static void
drop_batch(ShipState *st)
{
	if (st->batch && st->batch->rows)
		cJSON_Delete(st->batch->rows);
	st->batch = NULL;
	st->attempts = 0;
	st->retries = 0;
	st->next_attempt = 0;
	MemoryContextReset(st->cxt);
}

/* forget every batch in flight (SIGHUP: endpoints or credentials changed) */
static void
drop_all_batches(void)
{
	ListCell   *lc;

	foreach(lc, states)
		drop_batch((ShipState *) lfirst(lc));
}

/* a sink row of obs.sinks, with its signals, copied into pass_cxt */
typedef struct SinkRow
{
	ObsSink		sink;
	List	   *signals;		/* of char * */
	bool		paused;
} SinkRow;

static void
free_cjson(void *arg)
{
	cJSON_Delete((cJSON *) arg);
}

/* text parsed with cJSON (malloc'd), freed when pass_cxt is reset */
static cJSON *
parse_or_empty(const char *text)
{
	cJSON	   *j = text ? cJSON_Parse(text) : NULL;
	MemoryContextCallback *cb;

	if (j == NULL)
		j = cJSON_CreateObject();
	if (j == NULL)
		elog(ERROR, "out of memory");
	cb = MemoryContextAlloc(pass_cxt, sizeof(MemoryContextCallback));
	cb->func = free_cjson;
	cb->arg = j;
	MemoryContextRegisterResetCallback(pass_cxt, cb);
	return j;
}

/* the sinks of this database; false when obs is not installed */
static bool
load_sinks(List **sinks)
{
	int			rc;
	bool		installed;

	*sinks = NIL;
	start_xact();
	/* obs installed, at a version with sinks (0.2.0 or later) */
	installed = obs_extension_installed() &&
		OidIsValid(get_relname_relid("sinks", obs_schema_oid()));
	if (installed)
	{
		const char *schema = quote_identifier(get_namespace_name(obs_schema_oid()));

		rc = SPI_execute(psprintf("SELECT name, kind, endpoint, config::text, headers::text, batch_size, "
								  "flush_interval_ms, gzip, tls_verify, timeout_ms, paused, "
								  "array_to_string(signals, ','), COALESCE(max_retries, -1) "
								  "FROM %s.sinks ORDER BY name", schema),
						 true, 0);
		if (rc != SPI_OK_SELECT)
			elog(ERROR, "could not read obs.sinks");
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];
			TupleDesc	desc = SPI_tuptable->tupdesc;
			MemoryContext old = MemoryContextSwitchTo(pass_cxt);
			SinkRow    *s = palloc0(sizeof(SinkRow));
			bool		isnull;
			char	   *sig;

			s->sink.name = SPI_getvalue(tup, desc, 1);
			s->sink.kind = SPI_getvalue(tup, desc, 2);
			s->sink.endpoint = SPI_getvalue(tup, desc, 3);
			s->sink.config = parse_or_empty(SPI_getvalue(tup, desc, 4));
			s->sink.headers = parse_or_empty(SPI_getvalue(tup, desc, 5));
			s->sink.batch_size = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
			s->sink.flush_interval_ms = DatumGetInt32(SPI_getbinval(tup, desc, 7, &isnull));
			s->sink.gzip = DatumGetBool(SPI_getbinval(tup, desc, 8, &isnull));
			s->sink.tls_verify = DatumGetBool(SPI_getbinval(tup, desc, 9, &isnull));
			s->sink.timeout_ms = DatumGetInt32(SPI_getbinval(tup, desc, 10, &isnull));
			s->paused = DatumGetBool(SPI_getbinval(tup, desc, 11, &isnull));
			s->sink.max_retries = DatumGetInt32(SPI_getbinval(tup, desc, 13, &isnull));
			sig = SPI_getvalue(tup, desc, 12);
			for (char *tok = strtok(sig, ","); tok; tok = strtok(NULL, ","))
				s->signals = lappend(s->signals, pstrdup(tok));
			*sinks = lappend(*sinks, s);
			MemoryContextSwitchTo(old);
		}
	}
	commit_xact();
	return installed;
}

/* load_sinks(), an error logged: 1 installed, 0 not, -1 failed */
static int
try_load_sinks(List **sinks)
{
	volatile int r = -1;

	PG_TRY();
	{
		r = load_sinks(sinks) ? 1 : 0;
	}
	PG_CATCH();
	{
		abort_xact("read the sinks");
		*sinks = NIL;
	}
	PG_END_TRY();
	return r;
}

/* the row's id: ES _id and dead-letter row id */
static char *
row_id(const char *signal, cJSON *row, const char *txid, int64 ordinal)
{
	if (strcmp(signal, "logs") == 0 || strcmp(signal, "alerts") == 0)
	{
		cJSON	   *id = cJSON_GetObjectItemCaseSensitive(row, strcmp(signal, "logs") == 0 ? "log_id" : "alert_id");

		if (cJSON_IsNumber(id))
			return psprintf(INT64_FORMAT, (int64) id->valuedouble);
	}
	else if (strcmp(signal, "spans") == 0)
	{
		cJSON	   *t = cJSON_GetObjectItemCaseSensitive(row, "trace_id");
		cJSON	   *s = cJSON_GetObjectItemCaseSensitive(row, "span_id");

		if (cJSON_IsString(t) && cJSON_IsString(s))
			return psprintf("%s-%s", t->valuestring, s->valuestring);
	}
	/* metric points: the transaction and the point's rank in it */
	return psprintf("%s-" INT64_FORMAT, txid, ordinal);
}

/*
 * A row cJSON cannot parse as it is (a value nested more deeply than its
 * 1000 levels, which jsonb allows): the row again with each object or
 * array column as its JSON text, parsed in cxt, so that one row never
 * stalls its sink.  NULL if even that fails.
 */
static cJSON *
parse_row_flat(const char *text, MemoryContext cxt)
{
	Oid			types[1] = {TEXTOID};
	Datum		args[1];
	char	   *flat = NULL;

	start_xact();
	args[0] = CStringGetTextDatum(text);
	if (SPI_execute_with_args("SELECT pg_catalog.jsonb_object_agg(e.key, "
							  "CASE WHEN pg_catalog.jsonb_typeof(e.value) IN ('object', 'array') "
							  "THEN pg_catalog.to_jsonb(e.value::text) ELSE e.value END)::text "
							  "FROM pg_catalog.jsonb_each($1::jsonb) e",
							  1, types, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		MemoryContext old = MemoryContextSwitchTo(cxt);

		flat = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContextSwitchTo(old);
	}
	commit_xact();
	MemoryContextSwitchTo(cxt);
	return flat ? cJSON_Parse(flat) : NULL;
}

/*
 * Step 1: the next batch of (sink, signal) into st; false when there is
 * nothing to ship.  The texts are parsed in st->cxt, outside SPI.
 */
static bool
fetch_batch(const ObsSink *sink, ShipState *st)
{
	const char *schema;
	Datum		args[3];
	Oid			types[3] = {TEXTOID, TEXTOID, INT4OID};
	int			n;
	char	  **txids;
	int64	   *keys;
	bool	   *keynull;
	char	  **texts;
	char	   *pos_txid = NULL;
	int64		pos_off = 0;
	MemoryContext old;
	ObsShipBatch *b;

	start_xact();
	schema = quote_identifier(get_namespace_name(obs_schema_oid()));
	args[0] = CStringGetTextDatum(sink->name);
	args[1] = CStringGetTextDatum(st->signal);
	args[2] = Int32GetDatum(sink->batch_size);
	/* the position before this batch: metric point ids count from it */
	if (SPI_execute_with_args(psprintf("SELECT pos_txid::text, pos_off FROM %s.sink_cursors "
									   "WHERE sink = $1 AND signal = $2", schema),
							  2, types, args, NULL, true, 1) == SPI_OK_SELECT && SPI_processed == 1)
	{
		bool		isnull;

		old = MemoryContextSwitchTo(st->cxt);
		pos_txid = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		pos_off = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
		MemoryContextSwitchTo(old);
	}
	if (SPI_execute_with_args(psprintf("SELECT txid::text, key, doc::text FROM %s._ship_batch($1, $2, $3)", schema),
							  3, types, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the next batch");
	n = (int) SPI_processed;
	old = MemoryContextSwitchTo(st->cxt);
	txids = palloc(sizeof(char *) * Max(n, 1));
	keys = palloc(sizeof(int64) * Max(n, 1));
	keynull = palloc(sizeof(bool) * Max(n, 1));
	texts = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		Datum		k = SPI_getbinval(tup, desc, 2, &keynull[i]);

		txids[i] = SPI_getvalue(tup, desc, 1);
		keys[i] = keynull[i] ? 0 : DatumGetInt64(k);
		texts[i] = SPI_getvalue(tup, desc, 3);
	}
	MemoryContextSwitchTo(old);
	commit_xact();
	if (n == 0)
	{
		MemoryContextReset(st->cxt);
		return false;
	}

	old = MemoryContextSwitchTo(st->cxt);
	b = palloc0(sizeof(ObsShipBatch));
	b->signal = st->signal;
	b->n = n;
	b->texts = texts;
	b->ids = palloc(sizeof(char *) * n);
	b->done = palloc0(sizeof(bool) * n);
	b->rows = cJSON_CreateArray();
	if (b->rows == NULL)
		elog(ERROR, "out of memory");
	{
		int64		ordinal = 0;

		for (int i = 0; i < n; i++)
		{
			cJSON	   *row = cJSON_Parse(texts[i]);

			if (row == NULL)
				row = parse_row_flat(texts[i], st->cxt);
			if (row == NULL)
			{
				cJSON_Delete(b->rows);
				elog(ERROR, "could not parse row %d of a batch of sink \"%s\"", i, sink->name);
			}
			cJSON_AddItemToArray(b->rows, row);
			if (i == 0 || strcmp(txids[i], txids[i - 1]) != 0)
				ordinal = (pos_txid && strcmp(txids[i], pos_txid) == 0) ? pos_off : 0;
			ordinal++;
			b->ids[i] = row_id(st->signal, row, txids[i], ordinal);
		}
		/* where the cursor goes after this batch */
		st->last_txid = txids[n - 1];
		st->last_key = keys[n - 1];
		st->last_key_null = keynull[n - 1];
		st->last_off = ordinal;
	}
	st->window_done = n < sink->batch_size;
	st->batch = b;
	MemoryContextSwitchTo(old);
	return true;
}

static Datum
text_array(List *ids)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(list_length(ids), 1));
	int			i = 0;
	ListCell   *lc;

	foreach(lc, ids)
		d[i++] = CStringGetTextDatum((char *) lfirst(lc));
	return PointerGetDatum(construct_array(d, i, TEXTOID, -1, false, TYPALIGN_INT));
}

/* Step 3: dead letters, then the ack or the failure, in one transaction */
static void
record_outcome(const ObsSink *sink, ShipState *st, ObsSendOutcome outcome, ObsSendResult *res,
			   bool gave_up)
{
	const char *schema;
	ListCell   *lc;
	bool		all_done = true;

	for (int i = 0; i < st->batch->n; i++)
		all_done &= st->batch->done[i];

	start_xact();
	schema = quote_identifier(get_namespace_name(obs_schema_oid()));
	foreach(lc, res->dead)
	{
		ObsDeadLetter *d = lfirst(lc);
		Oid			types[6] = {TEXTOID, TEXTOID, INT4OID, TEXTOID, TEXTOID, TEXTARRAYOID};
		Datum		args[6];

		args[0] = CStringGetTextDatum(sink->name);
		args[1] = CStringGetTextDatum(st->signal);
		args[2] = Int32GetDatum(d->status);
		args[3] = CStringGetTextDatum(obs_scrub(d->response));
		args[4] = CStringGetTextDatum(obs_scrub(d->payload));
		args[5] = text_array(d->row_ids);
		if (SPI_execute_with_args(psprintf("SELECT %s._ship_dead_letter($1, $2, $3, $4, $5, $6)", schema),
								  6, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not store a dead letter");
	}
	if (gave_up)
	{
		/* the last attempt failed too: counted, not to be retried */
		Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID};
		Datum		args[4];

		args[0] = CStringGetTextDatum(sink->name);
		args[1] = CStringGetTextDatum(st->signal);
		args[2] = CStringGetTextDatum(obs_scrub(res->error ? res->error : "unknown error"));
		args[3] = BoolGetDatum(false);
		if (SPI_execute_with_args(psprintf("SELECT %s._ship_failed($1, $2, $3, $4)", schema),
								  4, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count a failed attempt");
	}
	if (outcome == OBS_SEND_OK && all_done)
	{
		Oid			types[8] = {TEXTOID, TEXTOID, INT4OID, TEXTOID, INT8OID, INT8OID, BOOLOID, INT4OID};
		Datum		args[8];
		char		nulls[8] = "        ";

		args[0] = CStringGetTextDatum(sink->name);
		args[1] = CStringGetTextDatum(st->signal);
		args[2] = Int32GetDatum(st->batch->n);
		args[3] = CStringGetTextDatum(st->last_txid);
		args[4] = Int64GetDatum(st->last_key);
		if (st->last_key_null)
			nulls[4] = 'n';
		args[5] = Int64GetDatum(st->last_off);
		args[6] = BoolGetDatum(st->window_done);
		args[7] = Int32GetDatum(st->retries);
		if (SPI_execute_with_args(psprintf("SELECT %s._ship_ack($1, $2, $3, $4::xid8, $5, $6, $7, $8)", schema),
								  8, types, args, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not acknowledge a batch");
	}
	else
	{
		Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID};
		Datum		args[4];

		args[0] = CStringGetTextDatum(sink->name);
		args[1] = CStringGetTextDatum(st->signal);
		args[2] = CStringGetTextDatum(obs_scrub(res->error ? res->error : "unknown error"));
		args[3] = BoolGetDatum(true);
		if (SPI_execute_with_args(psprintf("SELECT %s._ship_failed($1, $2, $3, $4)", schema),
								  4, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count a failed attempt");
	}
	commit_xact();
}

/*
 * A batch that could not be read (a lock not had in lock_timeout, a row
 * that cannot be parsed, ...): counted in failures with its error, so that
 * obs.sink_stats shows a stalled sink; nothing was sent, so no retry.
 */
static void
record_read_failure(const ObsSink *sink, ShipState *st, const char *error)
{
	PG_TRY();
	{
		Oid			types[4] = {TEXTOID, TEXTOID, TEXTOID, BOOLOID};
		Datum		args[4];
		const char *schema;

		start_xact();
		schema = quote_identifier(get_namespace_name(obs_schema_oid()));
		args[0] = CStringGetTextDatum(sink->name);
		args[1] = CStringGetTextDatum(st->signal);
		args[2] = CStringGetTextDatum(psprintf("could not read a batch: %s", error));
		args[3] = BoolGetDatum(false);
		if (SPI_execute_with_args(psprintf("SELECT %s._ship_failed($1, $2, $3, $4)", schema),
								  4, types, args, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "could not count a failed read");
		commit_xact();
	}
	PG_CATCH();
	{
		abort_xact("count a failed read");
	}
	PG_END_TRY();
}

/*
 * The sink's max_retries are spent: the rows of the batch still to send
 * become one dead letter with the last request's status, error and body,
 * so that the batch is acknowledged and shipping goes on.
 */
static void
give_up(const ObsSink *sink, ShipState *st, ObsSendResult *res)
{
	ObsDeadLetter *d = palloc0(sizeof(ObsDeadLetter));
	int			n = 0;

	d->status = (int) res->status;
	d->response = psprintf("gave up after %d retries: %s", sink->max_retries,
						   res->error ? res->error : "unknown error");
	d->payload = pstrdup(res->payload ? res->payload : "");
	for (int i = 0; i < st->batch->n; i++)
	{
		if (st->batch->done[i])
			continue;
		d->row_ids = lappend(d->row_ids, st->batch->ids[i]);
		st->batch->done[i] = true;
		n++;
	}
	res->dead = lappend(res->dead, d);
	ereport(WARNING,
			(errmsg("obs sink \"%s\" gave up on %d %s rows after %d retries: %s",
					sink->name, n, st->signal, sink->max_retries,
					obs_scrub(res->error ? res->error : "unknown error")),
			 errdetail("The rows are kept in obs.ship_dead_letters.")));
}

/* exponential backoff with full jitter, at least Retry-After */
static long
backoff_ms(int attempts, long retry_after_s)
{
	long		cap = Min(BASE_BACKOFF_MS << Min(attempts, 10), MAX_BACKOFF_MS);
	long		ms = cap / 2 + (long) (pg_prng_double(&pg_global_prng_state) * (cap / 2));

	if (retry_after_s > 0)
		ms = Max(ms, retry_after_s * 1000L);
	return ms;
}

/*
 * Ship what is pending for one sink and signal, batch after batch while
 * they are full.  Returns the ms until this sink wants another pass.
 */
static long
ship_signal(const ObsSink *sink, const ObsSinkKind *kind, ShipState *st)
{
	TimestampTz now = GetCurrentTimestamp();

	for (int pass = 0; pass < MAX_BATCHES_PER_PASS && !got_sigterm; pass++)
	{
		ObsSendResult res;
		volatile ObsSendOutcome outcome;
		bool		full;
		volatile bool gave_up = false;

		if (st->next_attempt != 0 && now < st->next_attempt)
			return (long) ((st->next_attempt - now) / 1000);

		if (st->batch == NULL)
		{
			volatile bool got = false;
			char	   *volatile read_error = NULL;

			PG_TRY();
			{
				got = fetch_batch(sink, st);
			}
			PG_CATCH();
			{
				read_error = abort_xact("read a batch");
				drop_batch(st);
			}
			PG_END_TRY();
			if (read_error != NULL)
			{
				/* in obs.sink_stats too: a sink that cannot read is stalled */
				record_read_failure(sink, st, read_error);
				st->next_attempt = TimestampTzPlusMilliseconds(now, backoff_ms(3, -1));
				return backoff_ms(3, -1);
			}
			if (!got)
				return sink->flush_interval_ms;
		}

		MemoryContextReset(send_cxt);
		MemoryContextSwitchTo(send_cxt);
		memset(&res, 0, sizeof(res));
		res.retry_after_s = -1;
		outcome = kind->send(sink, st->batch, &res);
		if (outcome == OBS_SEND_RETRY && sink->max_retries >= 0 && st->attempts >= sink->max_retries)
		{
			give_up(sink, st, &res);
			gave_up = true;
			outcome = OBS_SEND_OK;
		}
		else if (outcome == OBS_SEND_RETRY)
		{
			st->attempts++;
			st->retries++;
			st->next_attempt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														   backoff_ms(st->attempts, res.retry_after_s));
			/* a warning on the 1st, 2nd, 4th, 8th ... failure in a row */
			if ((st->attempts & (st->attempts - 1)) == 0)
				ereport(WARNING,
						(errmsg("obs sink \"%s\" could not ship %s (attempt %d, retrying): %s",
								sink->name, st->signal, st->attempts,
								obs_scrub(res.error ? res.error : "unknown error"))));
		}
		full = st->batch->n >= sink->batch_size;
		MemoryContextSwitchTo(pass_cxt);
		PG_TRY();
		{
			record_outcome(sink, st, outcome, &res, gave_up);
		}
		PG_CATCH();
		{
			/* the batch stays in memory; it is sent again, then acknowledged */
			abort_xact("record the outcome of a batch");
			st->next_attempt = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), backoff_ms(3, -1));
			return backoff_ms(3, -1);
		}
		PG_END_TRY();
		if (outcome == OBS_SEND_RETRY)
			return (long) ((st->next_attempt - GetCurrentTimestamp()) / 1000) + 1;
		if (st->attempts > 0 && !gave_up)
			ereport(LOG, (errmsg("obs sink \"%s\" ships %s again", sink->name, st->signal)));
		drop_batch(st);
		if (!full)
			return sink->flush_interval_ms;
		now = GetCurrentTimestamp();
		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
			return 0;
	}
	return 0;
}

void
obs_ship_worker_main(Datum arg)
{
	int			slot = DatumGetInt32(arg);
	Oid			dbid;

	memcpy(&dbid, MyBgworkerEntry->bgw_extra, sizeof(Oid));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, worker_sigterm);
	BackgroundWorkerUnblockSignals();
	obs_http_abort = &got_sigterm;

	SpinLockAcquire(&ship_shared->mutex);
	if (slot < 0 || slot >= SHIP_MAX_DATABASES || ship_shared->slots[slot].dbid != dbid ||
		ship_shared->slots[slot].pid != 0)
	{
		SpinLockRelease(&ship_shared->mutex);
		proc_exit(0);
	}
	ship_shared->slots[slot].pid = MyProcPid;
	SpinLockRelease(&ship_shared->mutex);
	my_slot = slot;
	before_shmem_exit(worker_detach, (Datum) 0);

	BackgroundWorkerInitializeConnectionByOid(dbid, InvalidOid, 0);
	SetConfigOption("statement_timeout", "60s", PGC_SUSET, PGC_S_OVERRIDE);
	/* never wait long on a lock someone else holds: retry later instead */
	SetConfigOption("lock_timeout", "5s", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("TimeZone", "UTC", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("DateStyle", "ISO, YMD", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.write_path", "transactional", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.instrument_functions", "", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("obs ship worker");

	worker_cxt = AllocSetContextCreate(TopMemoryContext, "obs ship worker", ALLOCSET_DEFAULT_SIZES);
	pass_cxt = AllocSetContextCreate(worker_cxt, "obs ship pass", ALLOCSET_DEFAULT_SIZES);
	send_cxt = AllocSetContextCreate(worker_cxt, "obs ship send", ALLOCSET_DEFAULT_SIZES);

	while (!got_sigterm)
	{
		List	   *sinks = NIL;
		long		nap = LAUNCHER_NAP_MS;
		int			loaded;
		uint32		wakes;
		ListCell   *lc;

		MemoryContextReset(pass_cxt);
		MemoryContextSwitchTo(pass_cxt);
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
			obs_credentials_reload();
			drop_all_batches();
		}

		SpinLockAcquire(&ship_shared->mutex);
		wakes = ship_shared->slots[slot].wakes;
		SpinLockRelease(&ship_shared->mutex);
		loaded = try_load_sinks(&sinks);
		if (loaded < 0)
			nap = 5000;
		if (loaded == 0 || (loaded > 0 && sinks == NIL))
		{
			/*
			 * Nothing to ship here: free the slot until a sink is added,
			 * unless a commit woke this database since the sinks were read.
			 */
			SpinLockAcquire(&ship_shared->mutex);
			if (ship_shared->slots[slot].wakes == wakes)
			{
				ship_shared->slots[slot].dbid = InvalidOid;
				ship_shared->slots[slot].wanted = false;
			}
			ship_shared->slots[slot].pid = 0;
			SpinLockRelease(&ship_shared->mutex);
			my_slot = -1;
			proc_exit(0);
		}

		foreach(lc, states)
			((ShipState *) lfirst(lc))->seen = false;
		foreach(lc, sinks)
		{
			SinkRow    *s = lfirst(lc);
			const ObsSinkKind *kind = obs_sink_kind(s->sink.kind);
			ListCell   *sc;

			if (kind == NULL || s->paused)
				continue;
			foreach(sc, s->signals)
			{
				ShipState  *st = state_for(s->sink.name, lfirst(sc));
				long		wait;

				st->seen = true;
				wait = ship_signal(&s->sink, kind, st);
				nap = Min(nap, Max(wait, 10));
				if (got_sigterm)
					break;
			}
			if (got_sigterm)
				break;
		}
		/* a dropped or paused sink's batch in flight is forgotten */
		foreach(lc, states)
		{
			ShipState  *st = lfirst(lc);

			if (!st->seen && st->batch)
				drop_batch(st);
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 nap, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	proc_exit(0);
}
