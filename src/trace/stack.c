/*-------------------------------------------------------------------------
 * stack.c
 *	  The per-session stack of open spans and the trace context it gives.
 *
 * An open span lives in backend memory (TopMemoryContext) until it is
 * finished; it is written to obs.spans only then (by the caller, through
 * ingest).  The stack is not transactional: a span started in a
 * transaction that fails stays open, so an exception handler can still
 * finish it with status 'error'.  A new span's parent is the innermost
 * open span; with no span open it continues the external trace of
 * obs.traceparent, else it starts a new trace.  A small ring of recently
 * finished span ids tells "finished twice" apart from "never started".
 *
 * Finishing is as transactional as the row it stores: a span whose row
 * was stored in the caller's transaction is popped with
 * keep_until_commit, and if that (sub)transaction aborts it is put back
 * on the stack (and out of the ring) and can be finished again.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"

#include "trace/trace.h"

static ObsOpenSpan *open_spans = NULL;
static int	num_open = 0;
static int	max_open = 0;

#define FINISHED_RING_SIZE 256
static ObsSpanId finished_ring[FINISHED_RING_SIZE];
static int	finished_count = 0;

/* spans finished in the current transaction, kept until it ends */
typedef struct FinishedSpan
{
	ObsOpenSpan	span;
	SubTransactionId subid;
} FinishedSpan;

static FinishedSpan *pending = NULL;
static int	num_pending = 0;
static int	max_pending = 0;
static bool callbacks_registered = false;

/*
 * The trace context a log record or a child span inherits: the innermost
 * open span, else the external traceparent.  False when there is none.
 */
bool
obs_current_context(ObsTraceId *trace, ObsSpanId *span)
{
	uint8		flags;

	return obs_current_context_flags(trace, span, &flags);
}

/* the same, with the trace flags (bit 0x01: sampled) */
bool
obs_current_context_flags(ObsTraceId *trace, ObsSpanId *span, uint8 *flags)
{
	ObsTraceparent tp;

	if (num_open > 0)
	{
		*trace = open_spans[num_open - 1].trace_id;
		*span = open_spans[num_open - 1].span_id;
		*flags = open_spans[num_open - 1].flags;
		return true;
	}
	if (obs_external_traceparent(&tp))
	{
		*trace = tp.trace_id;
		*span = tp.parent_id;
		*flags = tp.flags;
		return true;
	}
	return false;
}

/*
 * Trace, parent and flags of a new span without an explicit traceparent:
 * the innermost open span, else obs.traceparent (whose sampled flag is
 * honoured), else a new trace, head-sampled by its id.
 */
void
obs_span_inherit_context(ObsOpenSpan *s)
{
	ObsTraceparent tp;

	if (num_open > 0)
	{
		ObsOpenSpan   *parent = &open_spans[num_open - 1];

		s->trace_id = parent->trace_id;
		s->parent_id = parent->span_id;
		s->has_parent = true;
		s->flags = parent->flags;
	}
	else if (obs_external_traceparent(&tp))
	{
		s->trace_id = tp.trace_id;
		s->parent_id = tp.parent_id;
		s->has_parent = true;
		s->flags = tp.flags;
	}
	else
	{
		obs_fast_trace_id(&s->trace_id);
		s->has_parent = false;
		s->flags = obs_trace_sampled(&s->trace_id, obs_trace_sample_rate) ? 0x01 : 0x00;
	}
}

void
obs_span_check_limit(void)
{
	if (num_open >= obs_max_open_spans)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many open spans in this session"),
				 errdetail("This session has %d spans started and not finished.", num_open),
				 errhint("Finish spans with obs.finish_span(), or raise obs.max_open_spans.")));
}

void
obs_span_push(ObsOpenSpan *s)
{
	int			pos;

	if (num_open >= max_open)
	{
		int			newmax = max_open == 0 ? 16 : max_open * 2;

		open_spans = open_spans == NULL
			? MemoryContextAlloc(TopMemoryContext, newmax * sizeof(ObsOpenSpan))
			: repalloc(open_spans, newmax * sizeof(ObsOpenSpan));
		max_open = newmax;
	}
	/* keep the stack in start order; only a restored span goes below the top */
	pos = num_open;
	while (pos > 0 && open_spans[pos - 1].start_time > s->start_time)
		pos--;
	memmove(&open_spans[pos + 1], &open_spans[pos], (num_open - pos) * sizeof(ObsOpenSpan));
	open_spans[pos] = *s;
	num_open++;
}

char *
obs_span_strdup(const char *s)
{
	return MemoryContextStrdup(TopMemoryContext, s);
}

void
obs_span_free(ObsOpenSpan *s)
{
	pfree(s->operation);
	pfree(s->service_name);
	if (s->tags)
		pfree(s->tags);
}

static void
forget_finished(const ObsSpanId *id)
{
	int			n = Min(finished_count, FINISHED_RING_SIZE);

	for (int i = 0; i < n; i++)
		if (memcmp(finished_ring[i].bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
			memset(finished_ring[i].bytes, 0, OBS_SPAN_ID_LEN);	/* never a valid id */
}

/*
 * End of a (sub)transaction: spans finished in an aborted one are open
 * again; at top-level commit their memory is released.
 */
static void
settle_pending(bool commit, SubTransactionId subid, SubTransactionId parent)
{
	int			kept = 0;

	for (int i = 0; i < num_pending; i++)
	{
		FinishedSpan *f = &pending[i];

		if (subid != InvalidSubTransactionId && f->subid != subid)
			pending[kept++] = *f;
		else if (commit && parent != InvalidSubTransactionId)
		{
			f->subid = parent;
			pending[kept++] = *f;
		}
		else if (commit)
			obs_span_free(&f->span);
		else
		{
			forget_finished(&f->span.span_id);
			obs_span_push(&f->span);
		}
	}
	num_pending = kept;
}

static void
spans_xact_callback(XactEvent event, void *arg)
{
	if (num_pending == 0)
		return;
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		settle_pending(false, InvalidSubTransactionId, InvalidSubTransactionId);
	else if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_PARALLEL_COMMIT ||
			 event == XACT_EVENT_PREPARE)
		settle_pending(true, InvalidSubTransactionId, InvalidSubTransactionId);
}

static void
spans_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (num_pending == 0)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
		settle_pending(false, mySubid, InvalidSubTransactionId);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		settle_pending(true, mySubid, parentSubid);
}

/* room for one more pending span, allocated before the stack changes */
static void
reserve_pending(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(spans_xact_callback, NULL);
		RegisterSubXactCallback(spans_subxact_callback, NULL);
		callbacks_registered = true;
	}
	if (num_pending >= max_pending)
	{
		int			newmax = max_pending == 0 ? 16 : max_pending * 2;

		pending = pending == NULL
			? MemoryContextAlloc(TopMemoryContext, newmax * sizeof(FinishedSpan))
			: repalloc(pending, newmax * sizeof(FinishedSpan));
		max_pending = newmax;
	}
}

static void
add_pending(const ObsOpenSpan *s)
{
	Assert(num_pending < max_pending);
	pending[num_pending].span = *s;
	pending[num_pending].subid = GetCurrentSubTransactionId();
	num_pending++;
}

/* position of the open span id on the stack, or -1 */
int
obs_span_find(const ObsSpanId *id)
{
	for (int i = num_open - 1; i >= 0; i--)
		if (memcmp(open_spans[i].span_id.bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
			return i;
	return -1;
}

/* was id finished lately (it is in the ring of finished ids)? */
bool
obs_span_was_finished(const ObsSpanId *id)
{
	int			n = Min(finished_count, FINISHED_RING_SIZE);

	for (int i = 0; i < n; i++)
		if (memcmp(finished_ring[i].bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
			return true;
	return false;
}

int
obs_span_count(void)
{
	return num_open;
}

/* the open span at stack position pos (0: outermost) */
ObsOpenSpan *
obs_span_at(int pos)
{
	Assert(pos >= 0 && pos < num_open);
	return &open_spans[pos];
}

/*
 * Take the span at pos off the stack and remember it as finished.  With
 * keep_until_commit (its row was stored in the caller's transaction) it
 * is kept until that transaction ends, and put back if it aborts;
 * otherwise the caller owns its memory (obs_span_free) from now on.
 */
void
obs_span_pop(int pos, bool keep_until_commit)
{
	ObsOpenSpan s = open_spans[pos];

	if (keep_until_commit)
		reserve_pending();
	memmove(&open_spans[pos], &open_spans[pos + 1], (num_open - pos - 1) * sizeof(ObsOpenSpan));
	num_open--;
	if (keep_until_commit)
		add_pending(&s);
	finished_ring[finished_count % FINISHED_RING_SIZE] = s.span_id;
	finished_count++;
}

/* forget every open span of this session; returns how many there were */
int
obs_span_reset(void)
{
	int			n = num_open;

	for (int i = 0; i < num_open; i++)
		obs_span_free(&open_spans[i]);
	num_open = 0;
	return n;
}
