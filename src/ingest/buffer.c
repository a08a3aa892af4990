/*-------------------------------------------------------------------------
 * buffer.c
 *	  The shared-memory ingest buffer: one byte ring per database, the
 *	  writers' side of the buffered write path, obs.flush() and
 *	  obs.ingest_stats().
 *
 * With obs in shared_preload_libraries, obs.max_databases slots live in
 * shared memory (requested through PG15's shmem_request_hook), each of
 * obs.flushers_per_database rings (lanes) that share obs.buffer_size
 * bytes.  A backend claims the slot of its database on its first buffered
 * write, under the global lock, and takes its lane round-robin; the
 * launcher (worker.c) starts a flusher for each lane with records, and
 * frees the lanes (counters reset) once the database has been dropped.
 * A backend's records go through its lane, in order; the records of a
 * run (and of its tasks) go through the lane its flow run id hashes to,
 * whoever writes them, so that its updates keep their order.  A backend
 * caches its lane, so a writer re-checks the lane's database under the
 * ring lock.  obs.flush() and obs.ingest_stats() cover all the lanes.
 *
 * A writer encodes its record (codec.c) in its own memory, then takes the
 * ring's LWLock only to copy the bytes in at head and bump counters.  When
 * the ring is full it waits on the ring's condition variable for at most
 * obs.buffer_full_timeout (obs.buffer_full_action = wait) or drops the
 * record at once (drop); either way a dropped record is counted, never an
 * error.  The flusher reads [tail, head) without the lock (those bytes do
 * not change until tail moves), stores them, and advances tail only after
 * its transaction committed, broadcasting the condition variable.  Head,
 * tail and the counters live only in shared memory: after a crash they
 * restart at zero, with whatever was between tail and head lost; the
 * flusher's saved state (worker.c) bounds that loss in lost_at_crash.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "commands/dbcommands.h"
#include "common/hashfn.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/ipc.h"
#include "storage/shmem.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_flush);
PG_FUNCTION_INFO_V1(obs_ingest_stats);

ObsShared  *obs_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* this backend's slot (its first lane) and lane, once claimed */
static ObsRing *my_group = NULL;
static ObsRing *my_ring = NULL;
static bool no_slot_warned = false;

/* bytes of one lane's ring: its share of obs.buffer_size, a multiple of 8 */
static Size
ring_bytes(void)
{
	return ((Size) obs_buffer_size * 1024 / obs_flushers_per_database) & ~((Size) 7);
}

static int
total_rings(void)
{
	return obs_max_databases * obs_flushers_per_database;
}

static Size
header_bytes(void)
{
	return MAXALIGN(add_size(offsetof(ObsShared, rings),
							 mul_size(total_rings(), sizeof(ObsRing))));
}

/* the one size function: header, ring descriptors, ring data */
static Size
obs_shmem_size(void)
{
	return add_size(header_bytes(), mul_size(total_rings(), MAXALIGN(ring_bytes())));
}

static void
obs_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(obs_shmem_size());
	RequestNamedLWLockTranche("obs", total_rings() + 1);
}

static void
obs_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	obs_shared = ShmemInitStruct("obs ingest buffer", obs_shmem_size(), &found);
	if (!found)
	{
		LWLockPadded *locks = GetNamedLWLockTranche("obs");

		memset(obs_shared, 0, header_bytes());
		obs_shared->lock = &locks[0].lock;
		obs_shared->nrings = total_rings();
		obs_shared->lanes = obs_flushers_per_database;
		obs_shared->ring_size = ring_bytes();
		for (int i = 0; i < obs_shared->nrings; i++)
		{
			ObsRing    *ring = &obs_shared->rings[i];

			ring->lock = &locks[i + 1].lock;
			ConditionVariableInit(&ring->cv);
			ring->dbid = InvalidOid;
			ring->lane = i % obs_shared->lanes;
			pg_atomic_init_u32(&ring->next_lane, 0);
			ring->data_offset = header_bytes() + i * MAXALIGN(ring_bytes());
			for (int s = 0; s < OBS_NUM_SIGNALS; s++)
				pg_atomic_init_u64(&ring->sampled_out[s], 0);
			SpinLockInit(&ring->id_mutex);
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* the shared-memory hooks: only when preloaded */
void
obs_buffer_init(void)
{
	if (!obs_preloaded)
		return;
	prev_shmem_request_hook = shmem_request_hook;
	shmem_request_hook = obs_shmem_request;
	prev_shmem_startup_hook = shmem_startup_hook;
	shmem_startup_hook = obs_shmem_startup;
}

char *
obs_ring_data(ObsRing *ring)
{
	return (char *) obs_shared + ring->data_offset;
}

/* whether every lane of the slot starting at first is free */
static bool
slot_free(ObsRing *first)
{
	for (int l = 0; l < obs_shared->lanes; l++)
		if (OidIsValid(first[l].dbid))
			return false;
	return true;
}

/* the slot (first lane) of this database, claiming a free one when create */
static ObsRing *
get_group(bool create)
{
	ObsRing    *ring = NULL;
	bool		claimed = false;
	int			free_slot = -1;

	/* the launcher frees the slot of a dropped database: check it is ours */
	if (my_group != NULL && my_group->dbid == MyDatabaseId)
		return my_group;
	my_group = NULL;
	my_ring = NULL;
	if (obs_shared == NULL || !OidIsValid(MyDatabaseId))
		return NULL;

	LWLockAcquire(obs_shared->lock, create ? LW_EXCLUSIVE : LW_SHARED);
	for (int i = 0; i < obs_shared->nrings; i += obs_shared->lanes)
	{
		if (obs_shared->rings[i].dbid == MyDatabaseId)
		{
			ring = &obs_shared->rings[i];
			break;
		}
		if (free_slot < 0 && slot_free(&obs_shared->rings[i]))
			free_slot = i;
	}
	if (ring == NULL && create && free_slot >= 0)
	{
		ring = &obs_shared->rings[free_slot];
		for (int l = 0; l < obs_shared->lanes; l++)
			ring[l].dbid = MyDatabaseId;
		/* ids another database reserved are not this one's */
		obs_log_id_pool_reset(ring);
		claimed = true;
	}
	LWLockRelease(obs_shared->lock);

	if (claimed && obs_shared->launcher_latch != NULL)
		SetLatch(obs_shared->launcher_latch);
	if (ring == NULL && create && !no_slot_warned)
	{
		no_slot_warned = true;
		ereport(WARNING,
				(errcode(ERRCODE_CONFIGURATION_LIMIT_EXCEEDED),
				 errmsg("obs has no free buffer for database \"%s\"",
						get_database_name(MyDatabaseId)),
				 errdetail("All %d buffers are in use by other databases; records of this database are stored transactionally.",
						   obs_shared->nrings / obs_shared->lanes),
				 errhint("Raise obs.max_databases and restart the server.")));
	}
	my_group = ring;
	return ring;
}

/* this backend's lane of its database's slot: round-robin among backends */
static ObsRing *
get_ring(bool create)
{
	ObsRing    *group;

	if (my_ring != NULL && my_ring->dbid == MyDatabaseId)
		return my_ring;
	my_ring = NULL;
	group = get_group(create);
	if (group == NULL)
		return NULL;
	my_ring = group + pg_atomic_fetch_add_u32(&group->next_lane, 1) % obs_shared->lanes;
	return my_ring;
}

/* the lane of a record: by its route key when it has one, else the backend's */
static ObsRing *
route_ring(const char *route_key)
{
	ObsRing    *group;

	if (route_key == NULL || obs_shared == NULL || obs_shared->lanes == 1)
		return get_ring(true);
	group = get_group(true);
	if (group == NULL)
		return NULL;
	return group + hash_bytes((const unsigned char *) route_key, strlen(route_key)) % obs_shared->lanes;
}

/* empty the log id pool of a database's slot (its first lane) */
void
obs_log_id_pool_reset(ObsRing *group)
{
	SpinLockAcquire(&group->id_mutex);
	group->id_db = InvalidOid;
	group->id_seq = InvalidOid;
	group->id_filenode = InvalidOid;
	group->id_lsn = 0;
	group->id_last = 0;
	group->id_wanted = false;
	group->id_refilling = false;
	group->id_next = group->id_end = 0;
	group->id_next2 = group->id_end2 = 0;
	SpinLockRelease(&group->id_mutex);
}

/*
 * A writer's check of the pool against the sequence as it is now (its
 * page's LSN and last_value, read by the caller at the first log of each
 * transaction and every 1,000 ids):
 * when something changed the sequence after the pool's latest reservation
 * (a setval(), or a nextval() that WAL-logged its cache refill) the
 * blocks are dropped, and a flusher reserves again from where the
 * sequence is.  A page older than the reservation tells nothing; nor does
 * a newer one while a flusher reserves (the page shows its setval()
 * before the block is published; a setval() of someone else waits for
 * the reservation's lock, and the next transaction's check sees it).
 */
void
obs_buffer_check_log_ids(Oid seqid, uint64 lsn, int64 last_value)
{
	ObsRing    *group = get_group(true);
	if (group == NULL)
		return;
	SpinLockAcquire(&group->id_mutex);
	if (group->id_db == MyDatabaseId && group->id_seq == seqid && !group->id_refilling &&
		(group->id_end > group->id_next || group->id_end2 > group->id_next2) &&
		(lsn > group->id_lsn || (lsn == group->id_lsn && last_value < group->id_last)))
	{
		group->id_next = group->id_end = 0;
		group->id_next2 = group->id_end2 = 0;
		group->id_wanted = true;
	}
	SpinLockRelease(&group->id_mutex);
}

/*
 * The next log id of this database's pool (see ObsRing), or 0 when it has
 * none of sequence seqid at relfilenode filenode: the caller then takes
 * one with nextval().  A writer that finds the pool low or unusable sets
 * id_wanted, and a flusher reserves more at its next pass.  It does not
 * wake a flusher: a flusher woken stores what is buffered, and records
 * would not wait for obs.flush_interval.
 */
int64
obs_buffer_take_log_id(Oid seqid, Oid filenode)
{
	ObsRing    *group = get_group(true);
	int64		id = 0;

	if (group == NULL)
		return 0;
	SpinLockAcquire(&group->id_mutex);
	if (group->id_db == MyDatabaseId && group->id_seq == seqid && group->id_filenode == filenode)
	{
		if (group->id_next >= group->id_end && group->id_next2 < group->id_end2)
		{
			group->id_next = group->id_next2;
			group->id_end = group->id_end2;
			group->id_next2 = group->id_end2 = 0;
		}
		if (group->id_next < group->id_end)
			id = group->id_next++;
		if (group->id_end2 == 0 && (id == 0 || group->id_end - group->id_next < OBS_LOG_ID_LOW))
			group->id_wanted = true;
	}
	else
		group->id_wanted = true;	/* none yet, or of another sequence */
	SpinLockRelease(&group->id_mutex);
	return id;
}

/* whether this call takes the buffered path */
bool
obs_use_buffer(void)
{
	return obs_write_path == OBS_WRITE_BUFFERED && obs_shared != NULL && get_ring(true) != NULL;
}

/* whether this backend can buffer at all (claims the ring) */
bool
obs_buffer_ready(void)
{
	return obs_shared != NULL && get_ring(true) != NULL;
}

/* wake the flusher of ring, or the launcher when it has none */
static void
wake_flusher(ObsRing *ring)
{
	Latch	   *latch = ring->worker_latch;

	if (latch == NULL)
		latch = obs_shared->launcher_latch;
	if (latch != NULL)
		SetLatch(latch);
}

/* copy len bytes at ring position pos to dst, across the wrap */
void
obs_ring_copy_out(ObsRing *ring, uint64 pos, char *dst, Size len)
{
	uint64		size = obs_shared->ring_size;
	Size		off = pos % size;
	Size		first = Min(len, size - off);
	char	   *data = obs_ring_data(ring);

	memcpy(dst, data + off, first);
	if (first < len)
		memcpy(dst + first, data, len - first);
}

/* append len bytes at head; the caller holds the lock and checked the room */
void
obs_ring_copy_in(ObsRing *ring, const char *src, Size len)
{
	uint64		size = obs_shared->ring_size;
	Size		off = ring->head % size;
	Size		first = Min(len, size - off);
	char	   *data = obs_ring_data(ring);

	memcpy(data + off, src, first);
	if (first < len)
		memcpy(data, src + first, len - first);
	ring->head += len;
}

/*
 * Hand one encoded record to this database's ring: the lane of
 * route_key, or this backend's lane when NULL.  True when it was
 * buffered; false when it was dropped (full past the wait, or the worker
 * is shutting down), which is counted.  A record larger than the whole
 * ring is an error, except while an error is being unwound (in_abort),
 * where nothing may throw or wait: then a record that does not fit is
 * dropped and counted at once.
 */
bool
obs_buffer_put(ObsSignal sig, StringInfo rec, bool in_abort, const char *route_key)
{
	ObsRing    *ring = route_ring(route_key);
	uint64		size;
	uint32		len = rec->len;
	bool		may_wait = !in_abort && obs_buffer_full_action == OBS_FULL_WAIT &&
		obs_buffer_full_timeout > 0;
	bool		rechecked = false;
	bool		prepared = false;
	bool		accepted = false;
	bool		wake = false;
	TimestampTz deadline = 0;

	if (ring == NULL)
		return false;
	size = obs_shared->ring_size;
	if (len > size)
	{
		if (!in_abort)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("obs record of %u bytes does not fit in the buffer", len),
					 obs_shared->lanes > 1
					 ? errdetail("obs.buffer_size is %d kB, shared by %d flushers.", obs_buffer_size, obs_shared->lanes)
					 : errdetail("obs.buffer_size is %d kB.", obs_buffer_size),
					 errhint("Raise obs.buffer_size, or store this record with SET LOCAL obs.write_path = 'transactional'.")));
		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		ring->counters[sig][OBS_C_ACCEPTED]++;
		ring->counters[sig][OBS_C_DROPPED_OTHER]++;
		LWLockRelease(ring->lock);
		return false;
	}

	for (;;)
	{
		uint64		used;

		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		if (ring->dbid != MyDatabaseId)
		{
			/* the slot was freed and maybe reused meanwhile: claim again */
			LWLockRelease(ring->lock);
			my_ring = NULL;
			my_group = NULL;
			if (rechecked || (ring = route_ring(route_key)) == NULL)
				break;
			rechecked = true;
			continue;
		}
		used = ring->head - ring->tail;
		if (ring->closed)
		{
			ring->counters[sig][OBS_C_ACCEPTED]++;
			ring->counters[sig][OBS_C_DROPPED_OTHER]++;
			LWLockRelease(ring->lock);
			break;
		}
		if (size - used >= len)
		{
			uint64		threshold = size / 8;

			obs_ring_copy_in(ring, rec->data, len);
			ring->counters[sig][OBS_C_ACCEPTED]++;
			/*
			 * wake the flusher when the fill level crosses 1/8; with no
			 * flusher (an idle one exits) wake the launcher to start one
			 */
			wake = (used < threshold && used + len >= threshold) ||
				ring->worker_latch == NULL;
			LWLockRelease(ring->lock);
			accepted = true;
			break;
		}
		if (!may_wait ||
			(prepared && GetCurrentTimestamp() >= deadline))
		{
			ring->counters[sig][OBS_C_ACCEPTED]++;
			ring->counters[sig][OBS_C_DROPPED_FULL]++;
			LWLockRelease(ring->lock);
			wake = true;
			break;
		}
		LWLockRelease(ring->lock);

		wake_flusher(ring);
		if (!prepared)
		{
			/* check again once registered, so no wake-up is missed */
			ConditionVariablePrepareToSleep(&ring->cv);
			prepared = true;
			deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), obs_buffer_full_timeout);
			continue;
		}
		{
			long		ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);

			(void) ConditionVariableTimedSleep(&ring->cv, Max(ms, 1), PG_WAIT_EXTENSION);
		}
	}
	if (prepared)
		ConditionVariableCancelSleep();
	if (wake && ring != NULL)
		wake_flusher(ring);
	return accepted;
}

/* count a record not stored because of sampling */
void
obs_count_sampled_out(ObsSignal sig)
{
	ObsRing    *ring = get_ring(obs_write_path == OBS_WRITE_BUFFERED);

	if (ring != NULL)
		pg_atomic_fetch_add_u64(&ring->sampled_out[sig], 1);
}

/* the slot (first lane) of this database if one was claimed, without claiming */
static ObsRing *
existing_group(void)
{
	return get_group(false);
}

/*
 * Whether every record in the ring before target is settled: tail passed
 * it, and no record set aside and appended again (deferred) entered the
 * ring before it.  The origin of deferred records is kept as their
 * lowest, so this may also wait for a deferred record that came later.
 */
static bool
flushed_to(ObsRing *ring, uint64 target)
{
	if (ring->tail < target)
		return false;
	return ring->deferred_end <= ring->tail || ring->deferred_origin >= target;
}

/*
 * obs.flush(timeout interval): wait until every record that was in this
 * database's rings (all its lanes) when the call began is stored
 * (committed by the flushers) or dead-lettered, including records a
 * flusher set aside behind a user transaction's lock.  True at once when
 * the database has no ring.
 * A timeout longer than INT_MAX ms (about 24.8 days) is cut to that.
 */
Datum
obs_flush(PG_FUNCTION_ARGS)
{
	Interval   *iv = PG_GETARG_INTERVAL_P(0);
	ObsRing    *group = existing_group();
	uint64		targets[OBS_MAX_LANES];
	bool		done[OBS_MAX_LANES];
	int			lanes;
	int64		timeout_ms;
	TimestampTz deadline;
	bool		all_done = true;

	timeout_ms = (iv->time / 1000) +
		((int64) iv->day + (int64) iv->month * DAYS_PER_MONTH) * (USECS_PER_DAY / 1000);
	if (timeout_ms < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("flush timeout must not be negative")));
	/* like statement_timeout, at most INT_MAX ms: a deadline must not overflow */
	timeout_ms = Min(timeout_ms, (int64) PG_INT32_MAX);
	if (group == NULL)
		PG_RETURN_BOOL(true);
	lanes = obs_shared->lanes;

	/* ask each flusher to store up to its target at once, in full batches */
	for (int l = 0; l < lanes; l++)
	{
		ObsRing    *ring = &group[l];

		LWLockAcquire(ring->lock, LW_EXCLUSIVE);
		targets[l] = ring->head;
		done[l] = flushed_to(ring, targets[l]);
		if (!done[l] && ring->flush_request < targets[l])
			ring->flush_request = targets[l];
		LWLockRelease(ring->lock);
		all_done &= done[l];
	}
	if (all_done)
		PG_RETURN_BOOL(true);

	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);
	for (int l = 0; l < lanes; l++)
	{
		ObsRing    *ring = &group[l];

		if (done[l])
			continue;
		ConditionVariablePrepareToSleep(&ring->cv);
		for (;;)
		{
			long		ms;

			LWLockAcquire(ring->lock, LW_SHARED);
			done[l] = flushed_to(ring, targets[l]);
			LWLockRelease(ring->lock);
			if (done[l])
				break;
			ms = TimestampDifferenceMilliseconds(GetCurrentTimestamp(), deadline);
			if (ms <= 0)
				break;
			wake_flusher(ring);
			(void) ConditionVariableTimedSleep(&ring->cv, Min(ms, 1000), PG_WAIT_EXTENSION);
		}
		ConditionVariableCancelSleep();
		if (!done[l])
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("obs.flush() timed out after " INT64_FORMAT " ms", timeout_ms),
					 errdetail("Records buffered before the call are not all stored yet."),
					 errhint("See obs.ingest_stats and the server log for the state of the obs flusher worker.")));
	}
	PG_RETURN_BOOL(true);
}

/*
 * obs.ingest_stats(): one row per database and signal, the sums over the
 * database's lanes.  Rings of other databases (their names, counters and
 * worker pids) are shown only to members of pg_monitor, as
 * pg_stat_activity does.
 */
Datum
obs_ingest_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	bool		all_databases = has_privs_of_role(GetUserId(), ROLE_PG_MONITOR);

	InitMaterializedSRF(fcinfo, 0);
	if (obs_shared == NULL)
		return (Datum) 0;

	for (int g = 0; g < obs_shared->nrings; g += obs_shared->lanes)
	{
		ObsRing		sum;
		uint64		sampled[OBS_NUM_SIGNALS] = {0};
		uint64		used = 0;
		pid_t		pid = 0;
		char	   *dbname;

		/* copy out under each lane's lock, add up, build tuples after */
		memset(&sum, 0, sizeof(sum));
		for (int l = 0; l < obs_shared->lanes; l++)
		{
			ObsRing    *ring = &obs_shared->rings[g + l];
			ObsRing		copy;

			LWLockAcquire(ring->lock, LW_SHARED);
			memcpy(&copy, ring, sizeof(ObsRing));
			LWLockRelease(ring->lock);
			if (!OidIsValid(copy.dbid) || (OidIsValid(sum.dbid) && copy.dbid != sum.dbid))
				continue;
			sum.dbid = copy.dbid;
			for (int s = 0; s < OBS_NUM_SIGNALS; s++)
			{
				for (int c = 0; c < OBS_NUM_COUNTERS; c++)
					sum.counters[s][c] += copy.counters[s][c];
				sum.lost_at_crash[s] += copy.lost_at_crash[s];
				sampled[s] += pg_atomic_read_u64(&ring->sampled_out[s]);
			}
			used += copy.head - copy.tail;
			sum.batches += copy.batches;
			sum.retries += copy.retries;
			sum.last_flush_at = Max(sum.last_flush_at, copy.last_flush_at);
			if (pid == 0)
				pid = copy.worker_pid;
		}
		if (!OidIsValid(sum.dbid))
			continue;
		if (sum.dbid != MyDatabaseId && !all_databases)
			continue;
		dbname = get_database_name(sum.dbid);

		for (int s = 0; s < OBS_NUM_SIGNALS; s++)
		{
			Datum		values[16];
			bool		nulls[16] = {false};
			uint64	   *c = sum.counters[s];
			int64		pending = c[OBS_C_ACCEPTED] - c[OBS_C_STORED] - c[OBS_C_DROPPED_FULL] -
				c[OBS_C_DROPPED_OTHER] - c[OBS_C_DEAD_LETTERED];

			values[0] = dbname ? CStringGetTextDatum(dbname) : (Datum) 0;
			nulls[0] = dbname == NULL;
			values[1] = CStringGetTextDatum(obs_signal_names[s]);
			values[2] = Int64GetDatum(c[OBS_C_ACCEPTED]);
			values[3] = Int64GetDatum(c[OBS_C_STORED]);
			values[4] = Int64GetDatum(c[OBS_C_DROPPED_FULL]);
			values[5] = Int64GetDatum(c[OBS_C_DROPPED_OTHER]);
			values[6] = Int64GetDatum(c[OBS_C_DEAD_LETTERED]);
			values[7] = Int64GetDatum(pending);
			values[8] = Int64GetDatum(sampled[s]);
			values[9] = Int64GetDatum(used);
			values[10] = Int64GetDatum(obs_shared->ring_size * obs_shared->lanes);
			values[11] = Int64GetDatum(sum.batches);
			values[12] = Int64GetDatum(sum.retries);
			values[13] = TimestampTzGetDatum(sum.last_flush_at);
			nulls[13] = sum.last_flush_at == 0;
			values[14] = Int32GetDatum(pid);
			nulls[14] = pid == 0;
			values[15] = Int64GetDatum(sum.lost_at_crash[s]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	}
	return (Datum) 0;
}
