/*-------------------------------------------------------------------------
 * worker.c
 *	  The launcher and the per-database flusher workers of the buffered
 *	  write path.
 *
 * The launcher is a static background worker (registered in _PG_init when
 * obs is preloaded), connected to no database so that it can read
 * pg_database.  It starts one dynamic flusher per ring that has records
 * pending (a database has obs.flushers_per_database rings, its lanes, see
 * buffer.c), connected to that ring's database as the bootstrap
 * superuser.  Each flusher works on its own ring only, as below, and
 * saves its own state; flushers of one database commit in any order, each
 * batch with its own transaction's txid.  A flusher that stored nothing
 * for IDLE_EXIT_MS (its ring empty at every pass) exits, so that its
 * database can be dropped or used as a template; when the database no
 * longer exists the launcher frees its slot (counters reset) for another
 * database to claim.  Writers claiming a slot, or writing to
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
 *	- a transient error (serialization, deadlock, shutdown, out of
 *	  resources) leaves the batch in the ring to be retried later, with
 *	  growing pauses, MAX_BATCH_RETRIES times in a row at most; then it
 *	  goes record by record as below, transient errors included;
 *	- a lock timeout (a lock a user transaction holds) goes record by
 *	  record at once: a record that times out again, and the later records
 *	  of its series, run or signal, are set aside: appended again at head
 *	  (in the same step that advances tail, so they always fit, stay
 *	  pending and are as durable as before), and tried after the records
 *	  buffered meanwhile; the others are stored now;
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

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "catalog/pg_type.h"

#include "access/table.h"
#include "access/xact.h"
#include "commands/dbcommands.h"
#include "common/base64.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "port/pg_crc32c.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/fd.h"
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
/* the longest a flusher waits for a lock a user transaction holds */
#define FLUSHER_LOCK_TIMEOUT_MS 500
/* pauses between retries of a batch that waits for such a lock */
#define MAX_LOCK_RETRY_PAUSE_MS 1000
/* lock timeouts in one pass record by record; then the rest is set aside */
#define MAX_LOCK_SKIPS 3

/*
 * A batch takes at most obs.batch_size records, except behind a backlog:
 * when the ring is more than half full at the start of a batch (writers
 * buffer records faster than the flusher stores them), it takes up to
 * BACKLOG_BATCH_FACTOR times as many, and stops growing past
 * obs.batch_size records once it holds half the ring's bytes or
 * BACKLOG_BATCH_BYTES (the flusher copies a batch into its memory).  Each batch
 * waits twice for an fsync (its commit, and the state saved before tail
 * moves), whatever its size: on the 2-core VM of the README's figures
 * those waits took about 4 ms a batch, 4 us per record of a batch of
 * 1,000, about half what the flusher's CPU took for them.  Behind a backlog, larger
 * batches share them among more records; otherwise batches stay small, so
 * that a batch that fails and goes record by record stays small too.
 */
#define BACKLOG_BATCH_FACTOR 16
#define BACKLOG_BATCH_BYTES (16 * 1024 * 1024)

/*
 * The smallest record the codec writes: a metric with a NULL or one-byte
 * name and no tags (header 16 + name 6 + kind 4 + value 8 + tags 4 + ts 8
 * bytes), rounded up to 8.  Bounds how many records a buffer can hold.
 */
#define MIN_RECORD_BYTES 48

/*
 * What a flusher last knew of its buffer, saved in STATE_DIR after every
 * batch, so that the launcher can bound, after a crash, how many records
 * were accepted but never stored.
 */
#define STATE_DIR "pg_stat"
#define STATE_PREFIX "obs_ingest_"
#define STATE_MAGIC 0x0B5E0002
#define STATE_MAGIC_RENAMED 0x0B5E0001	/* older builds: renamed into place, no crc */

/*
 * Written in place at offset 0 of its file, in one write far smaller than
 * a disk sector, and synced: one fsync per batch (a write to a temporary
 * file renamed over the old one needed three).  crc covers the struct
 * with crc 0: a state the launcher cannot trust bounds the loss by the
 * whole buffer.
 */
typedef struct FlusherState
{
	uint32		magic;
	Oid			dbid;
	bool		stopped;		/* ring closed and emptied: nothing can be lost */
	pg_crc32c	crc;
	uint64		ring_size;
	uint64		pending_bytes;	/* head - tail */
	uint64		pending[OBS_NUM_SIGNALS];	/* accepted, not stored/dropped/dead */
	TimestampTz saved_at;
} FlusherState;

static volatile sig_atomic_t got_sigterm = false;

static void refill_log_ids(ObsRing *ring);
static bool refilling_here = false;
static void remove_state(Oid dbid, int lane);
static void save_state(const FlusherState *st, int lane);
/* launcher: databases and lanes whose saved state it reset at start */
static List *reset_dbids = NIL;
static List *reset_lanes = NIL;
static void persist_state(ObsRing *ring, uint64 new_tail, uint64 (*settled)[OBS_NUM_COUNTERS], bool stopped);

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

/*
 * The launcher leaves (the server stops): a ring with no flusher and
 * nothing buffered cannot lose anything more; say so in its saved state,
 * so that the next start does not count its free space as a loss.  A
 * flusher saves its own state when it stops.
 */
static void
launcher_detach(int code, Datum arg)
{
	ListCell   *lc;
	ListCell   *lc2;

	/* databases whose state the launcher reset and that have no ring now */
	forboth(lc, reset_dbids, lc2, reset_lanes)
	{
		Oid			dbid = lfirst_oid(lc);
		bool		has_ring = false;

		for (int i = 0; i < obs_shared->nrings; i++)
			has_ring |= obs_shared->rings[i].dbid == dbid;
		if (!has_ring)
		{
			FlusherState st;

			memset(&st, 0, sizeof(st));
			st.magic = STATE_MAGIC;
			st.dbid = dbid;
			st.stopped = true;
			st.ring_size = obs_shared->ring_size;
			st.saved_at = GetCurrentTimestamp();
			save_state(&st, lfirst_int(lc2));
		}
	}
	for (int i = 0; i < obs_shared->nrings; i++)
	{
		ObsRing    *ring = &obs_shared->rings[i];
		bool		idle;

		LWLockAcquire(ring->lock, LW_SHARED);
		idle = OidIsValid(ring->dbid) && ring->worker_pid == 0 && ring->head == ring->tail;
		LWLockRelease(ring->lock);
		if (idle)
			persist_state(ring, ring->tail, NULL, true);
	}
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
	if (obs_shared->lanes > 1)
		snprintf(w.bgw_name, BGW_MAXLEN, "obs flusher %d for database %u",
				 obs_shared->rings[slot].lane + 1, dbid);
	else
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
		ring->deferred_origin = ring->deferred_end = 0;
		memset(ring->counters, 0, sizeof(ring->counters));
		for (int s = 0; s < OBS_NUM_SIGNALS; s++)
			pg_atomic_write_u64(&ring->sampled_out[s], 0);
		ring->batches = ring->retries = 0;
		ring->last_flush_at = 0;
		obs_log_id_pool_reset(ring);
		memset(ring->lost_at_crash, 0, sizeof(ring->lost_at_crash));
	}
	LWLockRelease(ring->lock);
	LWLockRelease(obs_shared->lock);
	ConditionVariableBroadcast(&ring->cv);
	remove_state(dbid, ring->lane);
}

/* the state file of a lane: obs_ingest_<dbid>.state, or obs_ingest_<dbid>_<lane>.state */
static void
state_path(char *path, Oid dbid, int lane, const char *suffix)
{
	if (lane == 0)
		snprintf(path, MAXPGPATH, STATE_DIR "/" STATE_PREFIX "%u.%s", dbid, suffix);
	else
		snprintf(path, MAXPGPATH, STATE_DIR "/" STATE_PREFIX "%u_%d.%s", dbid, lane, suffix);
}

/* crc of st with its crc field 0 */
static pg_crc32c
state_crc(const FlusherState *st)
{
	FlusherState copy;
	pg_crc32c	crc;

	memcpy(&copy, st, sizeof(copy));	/* padding bytes included */
	copy.crc = 0;
	INIT_CRC32C(crc);
	COMP_CRC32C(crc, &copy, sizeof(copy));
	FIN_CRC32C(crc);
	return crc;
}

/*
 * The flusher keeps its state file open (a VFD, which outlives its
 * transactions); the launcher opens and closes the files it writes.
 */
static bool keep_state_open = false;
static File state_file = -1;
static Oid	state_file_dbid = InvalidOid;
static int	state_file_lane = -1;

static void
close_state_file(void)
{
	if (state_file >= 0)
		FileClose(state_file);
	state_file = -1;
	state_file_dbid = InvalidOid;
	state_file_lane = -1;
}

/* a new state file's directory entry made durable; a failure is logged */
static void
sync_state_dir(void)
{
	int			fd = OpenTransientFile(STATE_DIR, O_RDONLY | PG_BINARY);

	if (fd < 0 || pg_fsync(fd) != 0)
		ereport(LOG, (errcode_for_file_access(),
					  errmsg("could not fsync directory \"%s\": %m", STATE_DIR)));
	if (fd >= 0)
		CloseTransientFile(fd);
}

/*
 * Save a flusher state: written in place and synced (see FlusherState);
 * a new file's directory entry is synced once.  Failures are logged,
 * never thrown: they cost the bound, not records.
 */
static void
save_state(const FlusherState *st, int lane)
{
	char		path[MAXPGPATH];
	FlusherState out;
	int			n;

	memcpy(&out, st, sizeof(out));
	out.crc = state_crc(st);
	state_path(path, st->dbid, lane, "state");
	if (state_file >= 0 && (state_file_dbid != st->dbid || state_file_lane != lane))
		close_state_file();
	if (state_file < 0)
	{
		bool		created = false;

		state_file = PathNameOpenFile(path, O_RDWR | PG_BINARY);
		if (state_file < 0 && errno == ENOENT)
		{
			state_file = PathNameOpenFile(path, O_RDWR | O_CREAT | PG_BINARY);
			created = state_file >= 0;
		}
		if (state_file < 0)
		{
			ereport(LOG, (errcode_for_file_access(),
						  errmsg("could not open file \"%s\": %m", path)));
			return;
		}
		state_file_dbid = st->dbid;
		state_file_lane = lane;
		if (created)
			sync_state_dir();
	}
	errno = 0;
	n = FileWrite(state_file, (char *) &out, sizeof(out), 0, WAIT_EVENT_DATA_FILE_WRITE);
	if (n != sizeof(out))
	{
		if (n >= 0)
			errno = ENOSPC;
		ereport(LOG, (errcode_for_file_access(),
					  errmsg("could not write file \"%s\": %m", path)));
		close_state_file();
		return;
	}
	if (FileSync(state_file, WAIT_EVENT_DATA_FILE_SYNC) != 0)
	{
		ereport(LOG, (errcode_for_file_access(),
					  errmsg("could not fsync file \"%s\": %m", path)));
		close_state_file();
		return;
	}
	if (!keep_state_open)
		close_state_file();
}

static void
remove_state(Oid dbid, int lane)
{
	char		path[MAXPGPATH];

	if (state_file_dbid == dbid && state_file_lane == lane)
		close_state_file();
	state_path(path, dbid, lane, "state");
	if (unlink(path) != 0 && errno != ENOENT)
		ereport(LOG, (errcode_for_file_access(),
					  errmsg("could not remove file \"%s\": %m", path)));
}

/* the database and lane of a state file's name; false if it is none */
static bool
parse_state_name(const char *name, Oid *dbid, int *lane)
{
	unsigned int dbid_u;
	int			l;
	char		suffix[16];

	if (sscanf(name, STATE_PREFIX "%u_%d.%15s", &dbid_u, &l, suffix) == 3 &&
		strcmp(suffix, "state") == 0 && l > 0 && l < OBS_MAX_LANES)
	{
		*dbid = dbid_u;
		*lane = l;
		return true;
	}
	if (sscanf(name, STATE_PREFIX "%u.%15s", &dbid_u, suffix) == 2 &&
		strcmp(suffix, "state") == 0)
	{
		*dbid = dbid_u;
		*lane = 0;
		return true;
	}
	return false;
}

/*
 * Once per start of shared memory (a server start, or a restart after a
 * crash): read the states the flushers saved (one per lane).  A state not marked stopped
 * means the server went down without its flusher emptying the buffer:
 * the records pending then, plus as many as the free space of the buffer
 * could hold, may have been accepted and never stored.  The bound is
 * logged and shown in obs.ingest_stats.lost_at_crash_max; the state is
 * then reset to an empty buffer (a later crash before the new flusher's
 * first save is bounded by the whole buffer).
 */
static void
report_crash_loss(void)
{
	DIR		   *dir;
	struct dirent *de;
	List	   *names = NIL;
	ListCell   *lc;

	LWLockAcquire(obs_shared->lock, LW_EXCLUSIVE);
	if (obs_shared->crash_checked)
	{
		LWLockRelease(obs_shared->lock);
		return;
	}
	obs_shared->crash_checked = true;
	LWLockRelease(obs_shared->lock);

	/* the names first: the catalog lookups below end transactions, which close the directory */
	dir = AllocateDir(STATE_DIR);
	while ((de = ReadDir(dir, STATE_DIR)) != NULL)
	{
		Oid			dbid;
		int			lane;

		if (parse_state_name(de->d_name, &dbid, &lane))
			names = lappend(names, pstrdup(de->d_name));
	}
	FreeDir(dir);

	foreach(lc, names)
	{
		char	   *name = (char *) lfirst(lc);
		char		path[MAXPGPATH];
		Oid			dbid_u;
		int			lane;
		FlusherState st;
		FlusherState fresh;
		uint64		bound[OBS_NUM_SIGNALS];
		uint64		pending_total = 0;
		uint64		bound_total = 0;
		int			fd;
		int			nread;
		bool		exists;
		bool		damaged;
		char	   *dbname = NULL;

		if (!parse_state_name(name, &dbid_u, &lane))
			continue;
		snprintf(path, sizeof(path), STATE_DIR "/%s", name);
		fd = OpenTransientFile(path, O_RDONLY | PG_BINARY);
		if (fd < 0)
			continue;
		nread = read(fd, &st, sizeof(st));
		CloseTransientFile(fd);

		/*
		 * A state that cannot be trusted (a write cut short, say) says
		 * nothing of what was pending: the whole buffer may have been.
		 */
		damaged = nread != sizeof(st) || st.dbid != (Oid) dbid_u ||
			!(st.magic == STATE_MAGIC_RENAMED ||
			  (st.magic == STATE_MAGIC && st.crc == state_crc(&st)));
		if (damaged)
		{
			memset(&st, 0, sizeof(st));
			st.dbid = (Oid) dbid_u;
			st.ring_size = obs_shared->ring_size;
		}

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		exists = SearchSysCacheExists1(DATABASEOID, ObjectIdGetDatum(st.dbid));
		if (exists)
			dbname = get_database_name(st.dbid);
		dbname = dbname ? MemoryContextStrdup(TopMemoryContext, dbname) : NULL;
		CommitTransactionCommand();
		if (!exists)
		{
			unlink(path);
			continue;
		}
		for (int s = 0; s < OBS_NUM_SIGNALS; s++)
		{
			uint64		room = st.ring_size > st.pending_bytes ? st.ring_size - st.pending_bytes : 0;

			bound[s] = st.stopped ? st.pending[s] : st.pending[s] + room / MIN_RECORD_BYTES;
			pending_total += st.pending[s];
		}
		/* any one signal may have filled the room: the total counts it once */
		bound_total = pending_total;
		if (!st.stopped && st.ring_size > st.pending_bytes)
			bound_total += (st.ring_size - st.pending_bytes) / MIN_RECORD_BYTES;

		if (bound_total > 0)
		{
			ObsRing    *ring = NULL;

			ereport(LOG,
					(errmsg("obs: up to " UINT64_FORMAT " records accepted into the buffer of database \"%s\" but not stored may have been lost",
							bound_total, dbname ? dbname : "?"),
					 damaged
					 ? errdetail("The state its flusher saved in \"%s\" is damaged; the bound is what the whole %llu-byte buffer holds.",
								 path, (unsigned long long) st.ring_size)
					 : errdetail(UINT64_FORMAT " records were pending when its flusher last saved its state; records accepted after that fit in the rest of the %llu-byte buffer.",
								 pending_total, (unsigned long long) st.ring_size),
					 errhint("The bound per signal is in obs.ingest_stats.lost_at_crash_max. A smaller obs.buffer_size lowers it.")));

			/*
			 * show the bound in obs.ingest_stats: the database's slot,
			 * claimed if need be, in the lane of the state (obs.ingest_stats
			 * adds the lanes up)
			 */
			LWLockAcquire(obs_shared->lock, LW_EXCLUSIVE);
			for (int i = 0; i < obs_shared->nrings && ring == NULL; i += obs_shared->lanes)
				if (obs_shared->rings[i].dbid == st.dbid)
					ring = &obs_shared->rings[i];
			for (int i = 0; i < obs_shared->nrings && ring == NULL; i += obs_shared->lanes)
			{
				bool		free_slot = true;

				for (int l = 0; l < obs_shared->lanes; l++)
					free_slot &= !OidIsValid(obs_shared->rings[i + l].dbid);
				if (free_slot)
				{
					ring = &obs_shared->rings[i];
					for (int l = 0; l < obs_shared->lanes; l++)
						ring[l].dbid = st.dbid;
				}
			}
			if (ring != NULL)
			{
				ring += lane % obs_shared->lanes;
				LWLockAcquire(ring->lock, LW_EXCLUSIVE);
				for (int s = 0; s < OBS_NUM_SIGNALS; s++)
					ring->lost_at_crash[s] += bound[s];
				LWLockRelease(ring->lock);
			}
			LWLockRelease(obs_shared->lock);
		}

		/* a lane that obs.flushers_per_database no longer has: its state goes */
		if (lane >= obs_shared->lanes)
		{
			unlink(path);
			if (dbname)
				pfree(dbname);
			continue;
		}
		memset(&fresh, 0, sizeof(fresh));
		fresh.magic = STATE_MAGIC;
		fresh.dbid = st.dbid;
		fresh.ring_size = obs_shared->ring_size;
		fresh.saved_at = GetCurrentTimestamp();
		save_state(&fresh, lane);
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			reset_dbids = lappend_oid(reset_dbids, st.dbid);
			reset_lanes = lappend_int(reset_lanes, lane);
			MemoryContextSwitchTo(old);
		}
		if (dbname)
			pfree(dbname);
	}
	list_free_deep(names);
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

	report_crash_loss();

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
	BATCH_RETRY					/* transient failure, or all set aside: pause */
} BatchResult;

/* a record's status when it is set aside behind a lock (not a counter) */
#define STATUS_DEFERRED ((ObsCounter) OBS_NUM_COUNTERS)

/*
 * The locks one record-by-record pass timed out on: the keys of the
 * records that waited (a metric series, a run, or a whole signal), so
 * that later records with the same key are set aside untried and keep
 * their order; after MAX_LOCK_SKIPS timeouts every later record is.
 */
typedef struct LockSkips
{
	List	   *keys;			/* char *, in batch_cxt */
	int			timeouts;
	char	   *message;		/* the last lock timeout's message */
} LockSkips;

static ObsRing *flusher_ring = NULL;
static MemoryContext batch_cxt = NULL;
static int	lock_waits = 0;		/* tries in a row that timed out on a lock */
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
	/* a reservation this process had begun (it exits on FATAL) is not running */
	if (refilling_here)
	{
		ObsRing    *group = ring - ring->lane;

		SpinLockAcquire(&group->id_mutex);
		group->id_refilling = false;
		SpinLockRelease(&group->id_mutex);
	}
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

/* obs.debug_store_error: a transient failure to store a log record */
static void
debug_store_error(const ObsDecoded *d)
{
	if (obs_debug_store_error && d->hdr.signal == OBS_SIGNAL_LOG)
		ereport(ERROR,
				(errcode(ERRCODE_DISK_FULL),
				 errmsg("obs.debug_store_error is set")));
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
			debug_store_error(&d);
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

/*
 * one row of obs.dead_letters, in the current transaction; render_failure
 * is why the record is kept as raw bytes instead of its JSON rendering
 */
static void
store_dead_letter(int signal, Jsonb *record, ErrorData *edata, ErrorData *render_failure)
{
	Relation	rel = obs_open_table(&dead_letters_table);
	Datum		values[6];
	bool		nulls[6] = {false};
	char	   *reason = edata->detail
		? psprintf("%s (%s)", edata->message, edata->detail)
		: edata->message;

	if (render_failure != NULL)
		reason = psprintf("%s; the record is kept as raw bytes because its JSON rendering failed: %s",
						  reason ? reason : "unknown error", render_failure->message);

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
 * A safe rendering of a record for obs.dead_letters: its raw bytes (the
 * buffer format, header included) in base64, as a flat JSON object that
 * jsonb_in parses whatever the record holds.
 */
static Jsonb *
raw_record_jsonb(const char *rec)
{
	const ObsRecordHeader *h = (const ObsRecordHeader *) rec;
	int			enclen = pg_b64_enc_len(h->len);
	char	   *enc = palloc(enclen + 1);
	int			n = pg_b64_encode(rec, h->len, enc, enclen);
	StringInfoData b;

	if (n < 0)
		elog(ERROR, "could not encode an obs buffer record in base64");
	enc[n] = '\0';
	initStringInfo(&b);
	appendStringInfo(&b, "{\"raw_record_base64\": \"%s\", \"record_version\": %d, \"backend_pid\": %d}",
					 enc, h->version, h->pid);
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}

/* one try of dead_letter() in a subtransaction: NULL, or the error */
static ErrorData *
try_dead_letter(const char *rec, ObsDecoded *d, ErrorData *edata, ErrorData *render_failure)
{
	int			signal = ((const ObsRecordHeader *) rec)->signal;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile err = NULL;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		if (render_failure == NULL)
			store_dead_letter(signal, obs_record_jsonb(d), edata, NULL);
		else
			store_dead_letter(signal, raw_record_jsonb(rec), edata, render_failure);
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		err = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	return err;
}

/*
 * Dead-letter a record whose store failed with edata.  Nothing here may
 * fail the batch, so each try runs in its own subtransaction: first the
 * record's JSON rendering; if that cannot be built or stored (a jsonb
 * nested deeper than jsonb_in parses, say) its raw bytes; if even that
 * cannot be stored (a CHECK on obs.dead_letters, say) the record is
 * counted as dropped_other and logged.  A transient error (a lock
 * timeout, a full disk) is thrown on: the batch is retried later.
 */
static ObsCounter
dead_letter(const char *rec, ObsDecoded *d, bool decoded, ErrorData *edata)
{
	int			signal = ((const ObsRecordHeader *) rec)->signal;
	ErrorData  *failed = NULL;

	if (decoded)
	{
		failed = try_dead_letter(rec, d, edata, NULL);
		if (failed == NULL)
			return OBS_C_DEAD_LETTERED;
		if (is_transient(failed->sqlerrcode))
			ReThrowError(failed);
	}
	else
	{
		/* nothing to render: the decoding error says why */
		failed = edata;
	}
	{
		ErrorData  *err = try_dead_letter(rec, d, edata, failed);

		if (err == NULL)
			return OBS_C_DEAD_LETTERED;
		if (is_transient(err->sqlerrcode))
			ReThrowError(err);
		failed = err;
	}
	ereport(LOG,
			(errmsg("obs flusher: dropping a %s record that could not be stored nor dead-lettered",
					signal < OBS_NUM_SIGNALS ? obs_signal_names[signal] : "unknown"),
			 errdetail("Storing it failed with SQLSTATE %s: %s. Dead-lettering it failed with SQLSTATE %s: %s.",
					   unpack_sql_state(edata->sqlerrcode), edata->message,
					   unpack_sql_state(failed->sqlerrcode), failed->message),
			 errhint("The record is counted as dropped_other in obs.ingest_stats; check the constraints on obs.dead_letters.")));
	return OBS_C_DROPPED_OTHER;
}

/*
 * What a record may wait for behind a user transaction: the lock of its
 * metric series or run (a new one not yet committed), else its signal's
 * table as a whole.
 */
static char *
record_lock_key(const ObsDecoded *d)
{
	switch ((ObsSignal) d->hdr.signal)
	{
		case OBS_SIGNAL_METRIC:
			return psprintf("metric|%s|%d|%s", d->metric.name ? d->metric.name : "",
							d->metric.kind,
							JsonbToCString(NULL, &d->metric.tags->root, VARSIZE(d->metric.tags)));
		case OBS_SIGNAL_FLOW_RUN:
			return psprintf("flow_run|%s", d->run.flow_run_id ? d->run.flow_run_id : "");
		case OBS_SIGNAL_TASK_RUN:
			return psprintf("task_run|%s", d->run.task_run_id ? d->run.task_run_id : "");
		default:
			return psprintf("%d", d->hdr.signal);
	}
}

static bool
key_blocked(const LockSkips *skips, const char *key)
{
	ListCell   *lc;

	foreach(lc, skips->keys)
		if (strcmp((const char *) lfirst(lc), key) == 0)
			return true;
	return false;
}

/*
 * Store one record in its own subtransaction of the current transaction;
 * on a non-transient error, dead-letter it instead.  A transient error is
 * thrown on, to fail the whole transaction, unless the batch has been
 * retried too often already (give_up): then it is dead-lettered too.  A
 * lock timeout (a lock a user transaction holds) sets the record aside
 * (STATUS_DEFERRED) and notes its key in skips, as are, untried, later
 * records of a key that timed out and all records once MAX_LOCK_SKIPS
 * timeouts were reached.
 */
static ObsCounter
store_one(const char *rec, bool give_up, LockSkips *skips)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ObsDecoded *d = palloc0(sizeof(ObsDecoded));
	volatile bool decoded = false;
	volatile bool skipped = false;
	char	   *volatile key = NULL;
	ErrorData  *edata = NULL;

	if (skips->timeouts >= MAX_LOCK_SKIPS)
		return STATUS_DEFERRED;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		obs_decode_record(rec, d);
		decoded = true;
		key = MemoryContextStrdup(batch_cxt, record_lock_key(d));
		if (key_blocked(skips, key))
			skipped = true;
		else
		{
			debug_store_error(d);
			obs_store_decoded(d, NULL);
		}
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

	if (skipped)
		return STATUS_DEFERRED;
	if (edata == NULL)
		return OBS_C_STORED;
	/* a record behind a user's lock waits for it, however often retried */
	if (edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
	{
		MemoryContext old = MemoryContextSwitchTo(batch_cxt);

		skips->timeouts++;
		if (key != NULL)
			skips->keys = lappend(skips->keys, key);
		skips->message = pstrdup(edata->message);
		MemoryContextSwitchTo(old);
		return STATUS_DEFERRED;
	}
	if (!give_up && is_transient(edata->sqlerrcode))
		ReThrowError(edata);
	return dead_letter(rec, d, decoded, edata);
}

/*
 * The batch again, record by record, each in a subtransaction: good
 * records are stored, bad ones dead-lettered, those behind a user's lock
 * set aside.  status[i] gets OBS_C_STORED, OBS_C_DEAD_LETTERED, (not even
 * dead-lettered) OBS_C_DROPPED_OTHER or STATUS_DEFERRED.  Returns the
 * error that defeated the whole transaction, or NULL.
 */
static ErrorData *
store_one_by_one(char **recs, int n, ObsCounter *status, bool give_up, LockSkips *skips)
{
	ErrorData  *fatal = NULL;

	memset(skips, 0, sizeof(*skips));
	PG_TRY();
	{
		start_xact();
		for (int i = 0; i < n; i++)
			status[i] = store_one(recs[i], give_up, skips);
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
 * Save what this flusher knows of its ring (see FlusherState), as if tail
 * were new_tail and the batch's counts (settled, may be NULL) were added:
 * called before tail advances, so that the space a batch frees can only
 * be reused after the state that counts it was saved.
 */
static void
persist_state(ObsRing *ring, uint64 new_tail, uint64 (*settled)[OBS_NUM_COUNTERS], bool stopped)
{
	FlusherState st;

	memset(&st, 0, sizeof(st));
	st.magic = STATE_MAGIC;
	st.dbid = ring->dbid;
	st.stopped = stopped;
	st.ring_size = obs_shared->ring_size;
	LWLockAcquire(ring->lock, LW_SHARED);
	st.pending_bytes = ring->head - new_tail;
	for (int s = 0; s < OBS_NUM_SIGNALS; s++)
	{
		uint64	   *c = ring->counters[s];
		int64		p = c[OBS_C_ACCEPTED] - c[OBS_C_STORED] - c[OBS_C_DROPPED_FULL] -
			c[OBS_C_DROPPED_OTHER] - c[OBS_C_DEAD_LETTERED];

		if (settled != NULL)
			p -= settled[s][OBS_C_STORED] + settled[s][OBS_C_DROPPED_OTHER] +
				settled[s][OBS_C_DEAD_LETTERED];
		st.pending[s] = Max(p, 0);
	}
	LWLockRelease(ring->lock);
	st.saved_at = GetCurrentTimestamp();
	save_state(&st, ring->lane);
}

/*
 * The batch timed out on a lock that another transaction holds even
 * record by record (the lock of obs.dead_letters, say): it stays in the
 * ring and is tried again after a pause, however long that takes; it
 * never counts toward MAX_BATCH_RETRIES.
 */
static BatchResult
batch_waits_for_lock(ObsRing *ring, ErrorData *edata)
{
	lock_waits++;
	if (lock_waits == 1 || lock_waits % 100 == 0)
		ereport(LOG,
				(errmsg("obs flusher: waiting for a lock held by another transaction: %s", edata->message),
				 errdetail("%d tries in a row timed out; the records stay buffered and are retried.", lock_waits),
				 errhint("Buffered records of this database are stored once that transaction ends.")));
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	ring->retries++;
	LWLockRelease(ring->lock);
	persist_state(ring, ring->tail, NULL, false);
	return BATCH_RETRY;
}

/*
 * Records of the batch timed out on locks that other transactions hold
 * (a new metric series or run not yet committed, say): they are set aside
 * and appended again at head, so that the records behind them are stored
 * now; they are tried again after those, and never dead-lettered for it.
 */
static void
note_deferred(ObsRing *ring, const LockSkips *skips, int ndeferred)
{
	lock_waits++;
	if (lock_waits == 1 || lock_waits % 100 == 0)
		ereport(LOG,
				(errmsg("obs flusher: waiting for a lock held by another transaction: %s",
						skips->message ? skips->message : "lock timeout"),
				 errdetail("%d records were set aside and are retried after the others (%d tries in a row set records aside).",
						   ndeferred, lock_waits),
				 errhint("The records set aside are stored once that transaction ends.")));
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	ring->retries++;
	LWLockRelease(ring->lock);
}

/*
 * Store the records in [tail, head): at most obs.batch_size of them (more
 * behind a backlog, see BACKLOG_BATCH_FACTOR), in one transaction.  Advances tail and the counters unless the failure was
 * transient; after MAX_BATCH_RETRIES transient failures of the same batch
 * it goes record by record, so that a poison record is dead-lettered
 * instead of blocking the ring.  *stored gets the number of records done.
 */
static BatchResult
flush_batch(ObsRing *ring, uint64 tail, uint64 head, int *failures, int *stored)
{
	bool		backlog = head - tail > obs_shared->ring_size / 2;
	int			max = backlog ? obs_batch_size * BACKLOG_BATCH_FACTOR : obs_batch_size;
	uint64		max_bytes = Min(obs_shared->ring_size / 2, BACKLOG_BATCH_BYTES);
	char	  **recs = palloc(max * sizeof(char *));
	uint8	   *sigs = palloc(max);
	uint64	   *rpos = palloc(max * sizeof(uint64));
	ObsCounter *status = palloc(max * sizeof(ObsCounter));
	LockSkips	skips;
	int			ndeferred = 0;
	uint64		deferred_bytes = 0;
	uint64		first_deferred = 0;
	uint64		counts[OBS_NUM_SIGNALS][OBS_NUM_COUNTERS];
	uint64		pos = tail;
	int			n = 0;
	ErrorData  *edata;
	bool		corrupt = false;
	bool		give_up = *failures >= MAX_BATCH_RETRIES;
	Oid			dbid = ring->dbid;

	memset(counts, 0, sizeof(counts));
	while (pos < head && n < max &&
		   (n < obs_batch_size || pos - tail < max_bytes))
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
		rpos[n] = pos;
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
		persist_state(ring, ring->tail, NULL, false);
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
			/* behind a lock: record by record, setting aside what waits */
			if (!give_up && is_transient(edata->sqlerrcode) &&
				edata->sqlerrcode != ERRCODE_LOCK_NOT_AVAILABLE)
			{
				(*failures)++;
				report_failure("batch failed and will be retried", edata, *failures);
				LWLockAcquire(ring->lock, LW_EXCLUSIVE);
				ring->retries++;
				LWLockRelease(ring->lock);
				persist_state(ring, ring->tail, NULL, false);
				return BATCH_RETRY;
			}
			edata = store_one_by_one(recs, n, status, give_up, &skips);
			if (edata != NULL && edata->sqlerrcode == ERRCODE_LOCK_NOT_AVAILABLE)
				return batch_waits_for_lock(ring, edata);
			if (edata != NULL)
			{
				if (is_transient(edata->sqlerrcode))
				{
					(*failures)++;
					report_failure("batch failed and will be retried", edata, *failures);
					LWLockAcquire(ring->lock, LW_EXCLUSIVE);
					ring->retries++;
					LWLockRelease(ring->lock);
					persist_state(ring, ring->tail, NULL, false);
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
	for (int i = 0; i < n; i++)
	{
		if (status[i] == STATUS_DEFERRED)
		{
			if (ndeferred++ == 0)
				first_deferred = rpos[i];
			deferred_bytes += ((ObsRecordHeader *) recs[i])->len;
		}
		else
			counts[sigs[i]][status[i]]++;
	}
	*stored = n - ndeferred;
	if (ndeferred > 0)
		note_deferred(ring, &skips, ndeferred);
	else
		lock_waits = 0;

	/*
	 * Advance tail past the batch and append the records set aside at head
	 * again, in one step under the lock: they fit, since they were in the
	 * ring before.  They stay pending (accepted once, counted once) with
	 * the same durability as any buffered record, behind the records that
	 * arrived meanwhile.  deferred_origin/deferred_end let obs.flush()
	 * wait for them.
	 */
	persist_state(ring, pos - deferred_bytes, counts, false);
	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	Assert(ring->tail == tail);
	Assert(ring->head - pos + deferred_bytes <= obs_shared->ring_size);
	if (ndeferred > 0)
	{
		uint64		origin = first_deferred;

		/* an older deferred record keeps its first position */
		if (ring->deferred_end > tail)
			origin = Min(origin, ring->deferred_origin);
		ring->tail = pos;
		for (int i = 0; i < n; i++)
			if (status[i] == STATUS_DEFERRED)
				obs_ring_copy_in(ring, recs[i], ((ObsRecordHeader *) recs[i])->len);
		ring->deferred_origin = origin;
		ring->deferred_end = ring->head;
	}
	else
		ring->tail = pos;
	for (int s = 0; s < OBS_NUM_SIGNALS; s++)
		for (int c = 0; c < OBS_NUM_COUNTERS; c++)
			ring->counters[s][c] += counts[s][c];
	ring->batches++;
	ring->last_flush_at = GetCurrentTimestamp();
	LWLockRelease(ring->lock);
	ConditionVariableBroadcast(&ring->cv);
	/* everything set aside: pause as for a lock wait before trying again */
	return ndeferred > 0 && ndeferred == n ? BATCH_RETRY : BATCH_DONE;
}

/* wait at most ms (and FLUSHER_LOCK_TIMEOUT_MS) for any lock */
static void
set_lock_timeout(long ms)
{
	char		buf[32];

	snprintf(buf, sizeof(buf), "%ld", Max(Min(ms, FLUSHER_LOCK_TIMEOUT_MS), 1));
	SetConfigOption("lock_timeout", buf, PGC_SUSET, PGC_S_OVERRIDE);
}

/*
 * Sleep for ms on the latch.  With hold (a pause before a retry), the
 * pause lasts its whole time whoever sets the latch (writers waiting for
 * room, obs.flush()); only SIGTERM ends it early.
 */
static void
flusher_sleep(long ms, bool hold)
{
	TimestampTz until = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms);

	for (;;)
	{
		long		left = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), until);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
		if (!hold || got_sigterm)
			break;
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
	}
}

/*
 * At the end of a stop, what is still buffered could not be stored
 * within obs.shutdown_timeout: count it as dropped_other and empty the
 * ring (closed: writers drop), so that the counters stay exact and the
 * saved state says nothing more can be lost.  Returns the record count.
 */
static uint64
drop_leftovers(ObsRing *ring)
{
	uint64		lost = 0;

	LWLockAcquire(ring->lock, LW_EXCLUSIVE);
	for (int s = 0; s < OBS_NUM_SIGNALS; s++)
	{
		uint64	   *c = ring->counters[s];
		int64		p = c[OBS_C_ACCEPTED] - c[OBS_C_STORED] - c[OBS_C_DROPPED_FULL] -
			c[OBS_C_DROPPED_OTHER] - c[OBS_C_DEAD_LETTERED];

		if (p > 0)
		{
			c[OBS_C_DROPPED_OTHER] += p;
			lost += p;
		}
	}
	ring->tail = ring->head;
	LWLockRelease(ring->lock);
	ConditionVariableBroadcast(&ring->cv);
	persist_state(ring, ring->tail, NULL, true);
	return lost;
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
 * until then.  *worked is set when a batch was stored (or settled
 * otherwise): the flusher was not idle, even if the ring is empty now.
 */
static DrainResult
drain(ObsRing *ring, TimestampTz deadline, int *failures, bool *worked)
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
		if (deadline == 0)
			refill_log_ids(ring);
		if (deadline != 0)
			set_lock_timeout(TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline));
		pgstat_report_activity(STATE_RUNNING, "storing buffered obs records");
		if (flush_batch(ring, tail, head, failures, &stored) == BATCH_RETRY)
		{
			pgstat_report_activity(STATE_IDLE, NULL);
			return DRAIN_STOPPED;
		}
		*worked = true;
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
 * The flushers of a database keep its pool of log ids (ObsRing, lane 0):
 * when a writer asked, or fewer than OBS_LOG_ID_LOW are left and no next
 * block is reserved, one of them reserves OBS_LOG_ID_BLOCK ids of
 * obs.logs' identity sequence in a transaction of its own (see
 * obs_log_reserve_ids()).  A pool of another sequence or relfilenode
 * (DROP and CREATE EXTENSION, TRUNCATE ... RESTART IDENTITY, ALTER
 * SEQUENCE) is replaced, both blocks.  When nothing can be reserved it
 * tries again at its next pass (the sequence is locked by a transaction
 * that called nextval(), or does not count up by one) or a second later
 * (an error: obs is not installed); writers take ids with nextval()
 * meanwhile.  A block reserved and never handed out (a restart, a new
 * sequence) is a gap in the ids, as a sequence cache leaves.
 */
static TimestampTz log_ids_retry_at = 0;

static void
refill_log_ids(ObsRing *ring)
{
	ObsRing    *group = ring - ring->lane;
	bool		wanted,
				low;
	volatile bool ok = false;
	Oid			pool_seq,
				pool_filenode,
				seqid = InvalidOid,
				filenode = InvalidOid;
	int64		first = 0,
				last_value = 0,
				before_last = 0;
	uint64		lsn = 0,
				before_lsn = 0;
	MemoryContext cxt = CurrentMemoryContext;

	if (got_sigterm || GetCurrentTimestamp() < log_ids_retry_at)
		return;
	SpinLockAcquire(&group->id_mutex);
	wanted = group->id_wanted;
	low = group->id_db != MyDatabaseId ||
		(group->id_end2 == 0 && group->id_end - group->id_next < OBS_LOG_ID_LOW);
	pool_seq = group->id_db == MyDatabaseId ? group->id_seq : InvalidOid;
	pool_filenode = group->id_filenode;
	if ((!wanted && !low) || group->id_refilling)
	{
		SpinLockRelease(&group->id_mutex);
		return;
	}
	group->id_refilling = true;
	SpinLockRelease(&group->id_mutex);
	refilling_here = true;

	PG_TRY();
	{
		start_xact();
		obs_log_sequence(&seqid, &filenode);
		/* a pool of this sequence with a next block: only a writer's stale view */
		if (low || seqid != pool_seq || filenode != pool_filenode)
			ok = obs_log_reserve_ids(OBS_LOG_ID_BLOCK, &seqid, &filenode, &first,
									 &before_lsn, &before_last, &lsn, &last_value);
		commit_xact();
		/* not reserved (the sequence locked, or not counting by one): at the next pass */
		if (!ok && (low || seqid != pool_seq || filenode != pool_filenode))
			log_ids_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), obs_flush_interval);
	}
	PG_CATCH();
	{
		ErrorData  *edata = abort_xact();

		ereport(DEBUG1,
				(errmsg("obs flusher could not reserve log ids: %s", edata->message)));
		ok = false;
		log_ids_retry_at = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), 1000);
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);

	SpinLockAcquire(&group->id_mutex);
	group->id_refilling = false;
	group->id_wanted = false;
	refilling_here = false;
	if (ok)
	{
		/*
		 * The current block stays only when nothing changed the sequence
		 * since the pool's last reservation: a setval() meanwhile (or a
		 * nextval() that WAL-logged) drops both old blocks, as the
		 * writers' check would have.
		 */
		if (group->id_db != MyDatabaseId || group->id_seq != seqid || group->id_filenode != filenode ||
			group->id_next >= group->id_end ||
			before_lsn != group->id_lsn || before_last != group->id_last)
		{
			group->id_next = first;
			group->id_end = first + OBS_LOG_ID_BLOCK;
			group->id_next2 = group->id_end2 = 0;
		}
		else
		{
			group->id_next2 = first;
			group->id_end2 = first + OBS_LOG_ID_BLOCK;
		}
		group->id_db = MyDatabaseId;
		group->id_seq = seqid;
		group->id_filenode = filenode;
		group->id_lsn = lsn;
		group->id_last = last_value;
	}
	SpinLockRelease(&group->id_mutex);
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

/*
 * Keep the heap memory a batch frees for the next batch.  Each batch
 * allocates a few MB (the records copied out of the ring, their decoded
 * tuples, the executor's and the transaction's contexts) and frees them
 * all at its end.  With glibc's defaults, blocks of 128 kB and more are
 * mmap'd and munmap'd every time (the threshold rises only to the
 * largest block freed so far), and free memory at the top of the heap
 * beyond 128 kB (twice the threshold, once raised) is given back to the
 * kernel: the next batch faults every page in again, and the kernel
 * zeroes each one.  That was a large share of the flusher's CPU per row.  A
 * flusher is one long-lived process per ring: keeping a few tens of MB
 * it will reuse at the next batch costs little, and the kernel gets the
 * memory back when the flusher exits.  Other allocators: nothing to do.
 */
static void
keep_freed_memory(void)
{
#ifdef __GLIBC__
	/* allocations below 32 MB come from the heap, not from mmap */
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	/* give free memory at the top of the heap back only past 64 MB */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
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
	/* never wait without limit on a lock a user transaction holds */
	set_lock_timeout(FLUSHER_LOCK_TIMEOUT_MS);
	SetConfigOption("idle_in_transaction_session_timeout", "0", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_read_only", "off", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("default_transaction_isolation", "read committed", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("search_path", "pg_catalog", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.write_path", "transactional", PGC_SUSET, PGC_S_OVERRIDE);
	SetConfigOption("obs.instrument_functions", "", PGC_SUSET, PGC_S_OVERRIDE);
	pgstat_report_appname("obs flusher");
	keep_freed_memory();

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
	keep_state_open = true;
	persist_state(ring, ring->tail, NULL, false);

	for (;;)
	{
		long		nap = obs_flush_interval;
		DrainResult dr;
		bool		worked = false;

		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}
		if (got_sigterm)
			break;
		MemoryContextSwitchTo(batch_cxt);
		refill_log_ids(ring);
		dr = drain(ring, 0, &failures, &worked);
		if (dr == DRAIN_STOPPED && lock_waits > 0)
			nap = Min((long) obs_flush_interval << Min(lock_waits, 6), MAX_LOCK_RETRY_PAUSE_MS);
		else if (dr == DRAIN_STOPPED && failures > 0)
			nap = Min((long) obs_flush_interval << Min(failures, 6), MAX_RETRY_PAUSE_MS);
		/* idle: nothing was stored since the ring was first found empty */
		if (dr != DRAIN_EMPTY || worked)
			idle_since = 0;
		else if (idle_since == 0)
			idle_since = GetCurrentTimestamp();
		else if (TimestampDifferenceExceeds(idle_since, GetCurrentTimestamp(), IDLE_EXIT_MS) &&
				 leave_if_empty(ring))
			proc_exit(0);

		/* a pause before a retry holds, whoever sets the latch */
		flusher_sleep(nap, dr == DRAIN_STOPPED && (failures > 0 || lock_waits > 0));
	}

	/* shutdown: store what is buffered, within obs.shutdown_timeout */
	{
		TimestampTz deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
														   Max(obs_shutdown_timeout, 1));
		uint64		left;
		bool		worked = false;

		while (drain(ring, deadline, &failures, &worked) != DRAIN_EMPTY && GetCurrentTimestamp() < deadline)
			pg_usleep(10000L);
		/* from now on writers drop; store what slipped in meanwhile */
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		ring->closed = true;
		LWLockRelease(ring->lock);
		ConditionVariableBroadcast(&ring->cv);
		(void) drain(ring, deadline, &failures, &worked);
		LWLockAcquire(ring->lock, LW_SHARED);
		left = ring->head - ring->tail;
		LWLockRelease(ring->lock);
		if (left > 0)
		{
			uint64		lost = drop_leftovers(ring);

			ereport(WARNING,
					(errmsg("obs flusher stopping with " UINT64_FORMAT " buffered records not stored",
							lost),
					 errdetail("They are counted as dropped_other in obs.ingest_stats (" UINT64_FORMAT " bytes).", left),
					 errhint("Raise obs.shutdown_timeout to give the flusher more time at shutdown, and look for transactions holding locks on obs tables.")));
		}
		else
			persist_state(ring, ring->tail, NULL, true);
	}
	proc_exit(0);
}
