/*-------------------------------------------------------------------------
 * emit.c
 *	  The one write path of each signal: sampling, then the buffered path
 *	  (codec + ring, stored later by the flusher) or the transactional
 *	  path (store now, in the caller's transaction).
 *
 * The SQL entry points (src/api) build a record and call obs_emit_X();
 * the store layer (src/store) writes it.  obs.write_path chooses, see
 * obs_use_buffer().
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "storage/proc.h"

#include "ingest/ingest.h"

/* the local transaction that last checked the log id pool, and ids since */
#define LOG_IDS_CHECK_EVERY 1000
static LocalTransactionId log_ids_checked = InvalidLocalTransactionId;
static int	log_ids_taken = 0;

/*
 * The one write path for log records: fill in the session's trace context
 * (unless the caller set rec->has_ctx and the ids: then the trace is
 * head-sampled by its id, as obs.record_span() does), apply sampling, then store now or hand the record to the buffer.
 * Returns the log_id, or 0 when the record is sampled out or dropped.  On
 * the buffered path the id is taken here, so the caller learns it at once
 * (sequences ignore rollbacks anyway): from the block of the identity
 * sequence the flusher reserved (buffer.c), else from the sequence.
 */
int64
obs_emit_log(ObsLogRecord *rec)
{
	uint8		flags;

	obs_check_writable("obs.log()");
	if (rec->has_ctx)
		flags = obs_trace_sampled(&rec->trace_id, obs_trace_sample_rate) ? 0x01 : 0x00;
	else
		rec->has_ctx = obs_current_context_flags(&rec->trace_id, &rec->span_id, &flags);
	rec->backend_pid = MyProcPid;
	rec->log_id = 0;
	if (rec->has_ctx ? !obs_flags_sampled(flags) : !obs_sample(obs_log_sample_rate))
	{
		obs_count_sampled_out(OBS_SIGNAL_LOG);
		return 0;
	}
	if (obs_use_buffer())
	{
		Oid			seqid,
					filenode;

		/*
		 * from the flushers' pool, in call order; else nextval().  At the
		 * first of each transaction, and every LOG_IDS_CHECK_EVERY ids,
		 * the pool is checked against the sequence: a setval() since its
		 * reservation drops it.  So a session takes at most that many ids
		 * from a block that a setval() made stale, as a session keeps
		 * taking from its sequence cache.
		 */
		obs_log_sequence(&seqid, &filenode);
		if (MyProc->lxid != log_ids_checked || ++log_ids_taken >= LOG_IDS_CHECK_EVERY)
		{
			uint64		lsn;
			int64		last_value;

			obs_log_sequence_state(seqid, &lsn, &last_value);
			obs_buffer_check_log_ids(seqid, lsn, last_value);
			log_ids_checked = MyProc->lxid;
			log_ids_taken = 0;
		}
		rec->log_id = obs_buffer_take_log_id(seqid, filenode);
		if (rec->log_id == 0)
			rec->log_id = obs_log_next_id();
		return obs_enqueue_log(rec) ? rec->log_id : 0;
	}
	return obs_store_log(rec, NULL);
}

/*
 * The one write path for runs: buffered or upserted now.  Runs are not
 * sampled.  A ring keeps its records in order, so a run recorded as
 * Running and then Completed ends Completed on either path; on the
 * buffered path a run id given to two flows becomes a dead letter.
 */
void
obs_emit_flow_run(const ObsRunRecord *rec)
{
	obs_check_writable("obs.record_flow_execution()");
	if (obs_use_buffer())
		(void) obs_enqueue_run(OBS_SIGNAL_FLOW_RUN, rec);
	else
		obs_store_flow_run(rec);
}

void
obs_emit_task_run(const ObsRunRecord *rec)
{
	obs_check_writable("obs.record_task_execution()");
	if (obs_use_buffer())
		(void) obs_enqueue_run(OBS_SIGNAL_TASK_RUN, rec);
	else
		obs_store_task_run(rec);
}

/*
 * The one write path for finished spans: buffered or stored now.  Returns
 * true when the span was stored in the caller's transaction (and so is
 * undone by its abort).
 */
bool
obs_emit_span(const ObsSpanRecord *rec)
{
	obs_check_writable("obs.finish_span()");
	if (obs_use_buffer())
	{
		(void) obs_enqueue_span(rec, false);
		return false;
	}
	obs_store_span(rec, NULL);
	return true;
}

/*
 * The one write path for metric samples: sampled at obs.metric_sample_rate,
 * then stored now or buffered.  On the buffered path the record carries
 * name, kind and tags and the worker resolves the series, so a kind
 * mismatch becomes a dead letter there instead of an error here.
 */
void
obs_emit_metric(const ObsMetricRecord *rec)
{
	obs_check_writable("obs.record_metric()");
	if (!obs_sample(obs_metric_sample_rate))
		obs_count_sampled_out(OBS_SIGNAL_METRIC);
	else if (obs_use_buffer())
		(void) obs_enqueue_metric(rec, false);
	else
		obs_store_metric(rec, NULL);
}

/*
 * The row of a finished span, from the open span s (the strings point
 * into s).  The end time is now, never before the start.
 */
void
obs_span_record(const ObsOpenSpan *s, const char *status, const char *error,
				ObsSpanRecord *rec)
{
	rec->trace_id = s->trace_id;
	rec->span_id = s->span_id;
	rec->parent_id = s->parent_id;
	rec->has_parent = s->has_parent;
	rec->operation = s->operation;
	rec->service_type = s->service_type;
	rec->service_name = s->service_name;
	rec->start_time = s->start_time;
	rec->end_time = GetCurrentTimestamp();
	if (rec->end_time < rec->start_time)
		rec->end_time = rec->start_time;	/* the clock stepped back */
	rec->status = status;
	rec->error = error;
	rec->tags = s->tags;
}
