/*-------------------------------------------------------------------------
 * ingest.h
 *	  The ingest layer: emit (the choice between the buffered and the
 *	  transactional path), the shared-memory rings, the record codec and
 *	  the flusher workers.
 *
 * The SQL entry points and instrumentation call obs_emit_X() (or, for
 * instrumentation, obs_enqueue_X()); the codec hands decoded records to
 * the store layer.  Nothing here knows the SQL entry points.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_INGEST_H
#define OBS_INGEST_H

#include "store/store.h"
#include "trace/trace.h"
#include "lib/stringinfo.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

/* the most flushers (and rings) a database can have: obs.flushers_per_database */
#define OBS_MAX_LANES 8

/* the record kinds a ring carries, in the order of obs_signal_names */
typedef enum ObsSignal
{
	OBS_SIGNAL_LOG = 0,
	OBS_SIGNAL_SPAN,
	OBS_SIGNAL_METRIC,
	OBS_SIGNAL_FLOW_RUN,
	OBS_SIGNAL_TASK_RUN,
	OBS_NUM_SIGNALS
} ObsSignal;

/* per-signal counters of a ring (accepted = the others + pending) */
typedef enum ObsCounter
{
	OBS_C_ACCEPTED = 0,			/* handed to the buffered path */
	OBS_C_STORED,				/* committed by the worker */
	OBS_C_DROPPED_FULL,			/* buffer full past the wait */
	OBS_C_DROPPED_OTHER,		/* shutdown, or not storable at all */
	OBS_C_DEAD_LETTERED,		/* rejected, kept in obs.dead_letters */
	OBS_NUM_COUNTERS
} ObsCounter;

/*
 * Every record in a ring starts with this header; len counts the header
 * and the payload and is a multiple of 8.
 */
typedef struct ObsRecordHeader
{
	uint32		len;
	uint8		signal;			/* ObsSignal */
	uint8		version;		/* OBS_RECORD_VERSION */
	uint16		reserved;
	int32		pid;			/* writing backend */
	Oid			dbid;
} ObsRecordHeader;

#define OBS_RECORD_VERSION 2

/*
 * One ring of a database: a database has obs.flushers_per_database of
 * them (its lanes), each with its own flusher.  head and tail are byte
 * counters that only grow;
 * a position's offset in data is pos % size.  Writers append at head under
 * the lock; the worker alone reads [tail, head) (immutable until tail
 * moves, so it copies without the lock) and advances tail after the
 * records are committed.  Counters are protected by the lock, except
 * sampled_out which is atomic.
 */
typedef struct ObsRing
{
	LWLock	   *lock;
	ConditionVariable cv;		/* tail advanced: room, or a flush done */
	Oid			dbid;			/* InvalidOid: free slot */
	int			lane;			/* its place among its database's rings */
	pg_atomic_uint32 next_lane;	/* lane 0: the lane of the next backend */
	bool		closed;			/* worker shutting down: writers drop */
	pid_t		worker_pid;
	Latch	   *worker_latch;
	uint64		head;
	uint64		tail;
	uint64		flush_request;	/* obs.flush() waits for tail to reach it */
	/*
	 * Records the flusher set aside (a lock a user transaction holds) are
	 * appended again at head; until tail passes deferred_end, some record
	 * before it first entered the ring at deferred_origin or later, and
	 * obs.flush() calls that began after deferred_origin wait for it too.
	 */
	uint64		deferred_origin;
	uint64		deferred_end;
	uint64		counters[OBS_NUM_SIGNALS][OBS_NUM_COUNTERS];
	pg_atomic_uint64 sampled_out[OBS_NUM_SIGNALS];
	uint64		batches;
	uint64		retries;
	TimestampTz last_flush_at;
	uint64		lost_at_crash[OBS_NUM_SIGNALS];	/* bound from before a crash */
	Size		data_offset;	/* from the start of ObsShared */
	/*
	 * Lane 0 only: log ids a flusher reserved from obs.logs' identity
	 * sequence, handed out by writers under id_mutex in call order, so that
	 * a buffered obs.log() needs no nextval() (whose cache refill gives the
	 * caller's transaction an xid and a WAL flush at commit) and the ids
	 * reach obs.logs' keys in order.  The blocks are of sequence id_seq at
	 * relfilenode id_filenode in database id_db; after the latest
	 * reservation the sequence's page had LSN id_lsn and last_value
	 * id_last.  [id_next, id_end) is left of the current block,
	 * [id_next2, id_end2) is the next one once reserved.  id_wanted: a
	 * writer found the pool low or unusable; id_refilling: a flusher is
	 * reserving.
	 */
	slock_t		id_mutex;
	Oid			id_db;
	Oid			id_seq;
	Oid			id_filenode;
	uint64		id_lsn;
	int64		id_last;
	bool		id_wanted;
	bool		id_refilling;
	int64		id_next;
	int64		id_end;
	int64		id_next2;
	int64		id_end2;
} ObsRing;

/* log ids the flusher reserves at a time, and the level that asks for more */
#define OBS_LOG_ID_BLOCK 65536
#define OBS_LOG_ID_LOW (OBS_LOG_ID_BLOCK / 2)

typedef struct ObsShared
{
	LWLock	   *lock;			/* claims of ring slots */
	Latch	   *launcher_latch;
	pid_t		launcher_pid;
	int			nrings;			/* obs.max_databases * lanes */
	int			lanes;			/* rings per database (obs.flushers_per_database) */
	bool		crash_checked;	/* the launcher read the saved flusher states */
	uint64		ring_size;		/* of each ring: obs.buffer_size / lanes */
	ObsRing		rings[FLEXIBLE_ARRAY_MEMBER];
} ObsShared;

/* a decoded record, pointing into the buffer it was decoded from */
typedef struct ObsDecoded
{
	ObsRecordHeader hdr;
	ObsLogRecord log;
	ObsSpanRecord span;
	ObsMetricRecord metric;
	ObsRunRecord run;
} ObsDecoded;

/* buffer.c */
extern const char *const obs_signal_names[];
extern ObsShared *obs_shared;
extern void obs_buffer_init(void);
extern bool obs_use_buffer(void);
extern bool obs_buffer_ready(void);
extern bool obs_buffer_put(ObsSignal sig, StringInfo rec, bool in_abort, const char *route_key);
extern void obs_count_sampled_out(ObsSignal sig);
extern int64 obs_buffer_take_log_id(Oid seqid, Oid filenode);
extern void obs_buffer_check_log_ids(Oid seqid, uint64 lsn, int64 last_value);
extern void obs_log_id_pool_reset(ObsRing *group);
extern char *obs_ring_data(ObsRing *ring);
extern void obs_ring_copy_out(ObsRing *ring, uint64 pos, char *dst, Size len);
extern void obs_ring_copy_in(ObsRing *ring, const char *src, Size len);

/* codec.c */
extern bool obs_enqueue_log(const ObsLogRecord *rec);
extern bool obs_enqueue_span(const ObsSpanRecord *rec, bool in_abort);
extern bool obs_enqueue_metric(const ObsMetricRecord *rec, bool in_abort);
extern bool obs_enqueue_run(ObsSignal sig, const ObsRunRecord *rec);
extern void obs_decode_record(const char *data, ObsDecoded *out);
extern Jsonb *obs_record_jsonb(const ObsDecoded *r);
extern void obs_store_decoded(const ObsDecoded *r, ObsBatch *batch);

/* worker.c */
extern void obs_worker_init(void);
PGDLLEXPORT void obs_launcher_main(Datum arg);
PGDLLEXPORT void obs_flusher_main(Datum arg);

/* emit.c */
extern int64 obs_emit_log(ObsLogRecord *rec);
extern bool obs_emit_span(const ObsSpanRecord *rec);
extern void obs_emit_metric(const ObsMetricRecord *rec);
extern void obs_emit_flow_run(const ObsRunRecord *rec);
extern void obs_emit_task_run(const ObsRunRecord *rec);
extern void obs_span_record(const ObsOpenSpan *s, const char *status, const char *error,
							ObsSpanRecord *rec);

#endif							/* OBS_INGEST_H */
