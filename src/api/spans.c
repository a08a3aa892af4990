/*-------------------------------------------------------------------------
 * spans.c
 *	  Distributed tracing: the per-session stack of open spans,
 *	  obs.start_span(), obs.finish_span() and the current-context functions.
 *
 * An open span lives in backend memory (TopMemoryContext) until it is
 * finished; it is written to obs.spans only then, through obs_emit_span().
 * The stack is not transactional: a span started in a transaction that
 * fails stays open, so an exception handler can still finish it with
 * status 'error'.  A new span's parent is the innermost open span; with
 * no span open it continues the external trace of obs.traceparent, else
 * it starts a new trace.  A small ring of recently finished span ids tells
 * "finished twice" apart from "never started".
 *
 * Finishing is as transactional as the row it stores: a span finished in
 * a (sub)transaction that later aborts lost its row, so it is put back on
 * the stack (and out of the ring) and can be finished again, e.g. by an
 * exception handler with status 'error'.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "core/core.h"
#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_start_span);
PG_FUNCTION_INFO_V1(obs_finish_span);
PG_FUNCTION_INFO_V1(obs_current_span_id);
PG_FUNCTION_INFO_V1(obs_current_trace_id);
PG_FUNCTION_INFO_V1(obs_current_traceparent);
PG_FUNCTION_INFO_V1(obs_open_spans);
PG_FUNCTION_INFO_V1(obs_reset_spans);

/* labels of obs.service_type, in enum order */
static const char *const service_labels[] = {
	"DATA_FETCH", "PIPELINE", "ANALYTICS", "TRANSFORM", "VALIDATION", "STORAGE",
	"DATABASE", "CACHE", "API", "MESSAGING", "SCHEDULER", "NOTIFICATION", "ML", "CUSTOM"
};

/* accepted status words; "success" is stored as "ok" */
static const char *const status_inputs[] = {"unset", "ok", "error", "success"};
static const char *const status_labels[] = {"unset", "ok", "error", "ok"};

typedef struct OpenSpan
{
	ObsTraceId	trace_id;
	ObsSpanId	span_id;
	ObsSpanId	parent_id;
	bool		has_parent;
	uint8		flags;
	int			service_type;	/* index into service_labels */
	char	   *operation;
	char	   *service_name;
	Jsonb	   *tags;			/* NULL when absent */
	TimestampTz start_time;
} OpenSpan;

static OpenSpan *open_spans = NULL;
static int	num_open = 0;
static int	max_open = 0;

#define FINISHED_RING_SIZE 256
static ObsSpanId finished_ring[FINISHED_RING_SIZE];
static int	finished_count = 0;

/* spans finished in the current transaction, kept until it ends */
typedef struct FinishedSpan
{
	OpenSpan	span;
	SubTransactionId subid;
} FinishedSpan;

static FinishedSpan *pending = NULL;
static int	num_pending = 0;
static int	max_pending = 0;
static bool callbacks_registered = false;

#define NUM_SPAN_COLUMNS 13

static const ObsColumn span_columns[NUM_SPAN_COLUMNS] = {
	{"trace_id", InvalidOid, "trace_id"}, {"span_id", InvalidOid, "span_id"},
	{"parent_span_id", InvalidOid, "span_id"}, {"operation", TEXTOID},
	{"service_type", InvalidOid, "service_type"}, {"service_name", TEXTOID},
	{"start_time", TIMESTAMPTZOID}, {"end_time", TIMESTAMPTZOID}, {"duration_us", INT8OID},
	{"status", InvalidOid, "span_status"}, {"error", TEXTOID}, {"tags", JSONBOID},
	{"span_seq", INT8OID}
};
static ObsTable spans_table = {"spans", "span_seq", span_columns, NUM_SPAN_COLUMNS};

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
static void
span_inherit_context(OpenSpan *s)
{
	ObsTraceparent tp;

	if (num_open > 0)
	{
		OpenSpan   *parent = &open_spans[num_open - 1];

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

static void
check_span_limit(void)
{
	if (num_open >= obs_max_open_spans)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many open spans in this session"),
				 errdetail("This session has %d spans started and not finished.", num_open),
				 errhint("Finish spans with obs.finish_span(), or raise obs.max_open_spans.")));
}

static void
push_span(OpenSpan *s)
{
	int			pos;

	if (num_open >= max_open)
	{
		int			newmax = max_open == 0 ? 16 : max_open * 2;

		open_spans = open_spans == NULL
			? MemoryContextAlloc(TopMemoryContext, newmax * sizeof(OpenSpan))
			: repalloc(open_spans, newmax * sizeof(OpenSpan));
		max_open = newmax;
	}
	/* keep the stack in start order; only a restored span goes below the top */
	pos = num_open;
	while (pos > 0 && open_spans[pos - 1].start_time > s->start_time)
		pos--;
	memmove(&open_spans[pos + 1], &open_spans[pos], (num_open - pos) * sizeof(OpenSpan));
	open_spans[pos] = *s;
	num_open++;
}

static char *
top_strdup(const char *s)
{
	return MemoryContextStrdup(TopMemoryContext, s);
}

/* obs.start_span(operation, service, tags, service_name, traceparent) */
Datum
obs_start_span(PG_FUNCTION_ARGS)
{
	OpenSpan	s;
	char	   *operation;
	char	   *service;
	char	   *service_name;
	ObsSpanId  *result;

	obs_require_arg(fcinfo, 0, "operation");
	obs_require_arg(fcinfo, 1, "service");
	operation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (operation[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation must not be empty")));
	service = text_to_cstring(PG_GETARG_TEXT_PP(1));
	s.service_type = obs_parse_choice(service, service_labels, lengthof(service_labels));
	if (s.service_type < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid service type \"%s\"", service),
				 errhint("Valid service types are the labels of obs.service_type, e.g. DATA_FETCH, PIPELINE, ANALYTICS or CUSTOM; "
						 "a free-form name goes in service_name.")));
	s.tags = PG_ARGISNULL(2) ? NULL : obs_check_object(PG_GETARG_JSONB_P(2), "tags");

	if (!PG_ARGISNULL(3))
		service_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	else if (obs_service_name != NULL && obs_service_name[0] != '\0')
		service_name = obs_service_name;
	else
		service_name = obs_default_logger();

	if (!PG_ARGISNULL(4))
	{
		ObsTraceparent tp;
		const char *why;
		char	   *str = text_to_cstring(PG_GETARG_TEXT_PP(4));

		if (!obs_parse_traceparent_str(str, &tp, &why))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
					 errmsg("invalid traceparent \"%s\"", str),
					 errdetail("%s", why)));
		s.trace_id = tp.trace_id;
		s.parent_id = tp.parent_id;
		s.has_parent = true;
		s.flags = tp.flags;
	}
	else
		span_inherit_context(&s);
	obs_fast_span_id(&s.span_id);
	s.start_time = GetCurrentTimestamp();

	/* check the limit before copying anything into long-lived memory */
	check_span_limit();
	s.operation = top_strdup(operation);
	s.service_name = top_strdup(service_name);
	if (s.tags != NULL)
	{
		Jsonb	   *copy = MemoryContextAlloc(TopMemoryContext, VARSIZE(s.tags));

		memcpy(copy, s.tags, VARSIZE(s.tags));
		s.tags = copy;
	}
	push_span(&s);

	result = palloc(sizeof(ObsSpanId));
	*result = s.span_id;
	PG_RETURN_POINTER(result);
}

static void
free_span(OpenSpan *s)
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
			free_span(&f->span);
		else
		{
			forget_finished(&f->span.span_id);
			push_span(&f->span);
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
add_pending(const OpenSpan *s)
{
	Assert(num_pending < max_pending);
	pending[num_pending].span = *s;
	pending[num_pending].subid = GetCurrentSubTransactionId();
	num_pending++;
}

/* store one finished span now (transactional path, or the worker's batch) */
void
obs_store_span(const ObsSpanRecord *rec, ObsBatch *batch)
{
	Relation	rel;
	TupleDesc	desc;
	Datum		values[NUM_SPAN_COLUMNS];
	bool		nulls[NUM_SPAN_COLUMNS];

	obs_check_writable("obs.finish_span()");
	rel = obs_row_target(&spans_table, batch);
	desc = RelationGetDescr(rel);

	memset(nulls, false, sizeof(nulls));
	values[0] = PointerGetDatum(&rec->trace_id);
	values[1] = PointerGetDatum(&rec->span_id);
	values[2] = PointerGetDatum(&rec->parent_id);
	nulls[2] = !rec->has_parent;
	values[3] = CStringGetTextDatum(rec->operation);
	values[4] = obs_enum_datum(TupleDescAttr(desc, 4)->atttypid, rec->service_type);
	values[5] = CStringGetTextDatum(rec->service_name);
	values[6] = TimestampTzGetDatum(rec->start_time);
	values[7] = TimestampTzGetDatum(rec->end_time);
	values[8] = Int64GetDatum(rec->end_time - rec->start_time);
	values[9] = obs_enum_datum(TupleDescAttr(desc, 9)->atttypid, rec->status);
	values[10] = rec->error ? CStringGetTextDatum(rec->error) : (Datum) 0;
	nulls[10] = rec->error == NULL;
	values[11] = PointerGetDatum(rec->tags);
	nulls[11] = rec->tags == NULL;
	values[12] = Int64GetDatum(obs_table_nextval(&spans_table));

	obs_row_write(rel, batch, values, nulls);
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
 * Finish the open span at stack position pos: build its record, emit it
 * unless its trace is sampled out, pop it.  Instrumentation (buffered)
 * always takes the buffered path, whatever obs.write_path says; in_abort
 * (a traced call that raised) also makes it never throw nor wait, since
 * the caller's transaction is going away.
 */
static int64
finish_at(int pos, int st, const char *error, bool buffered, bool in_abort)
{
	OpenSpan	s = open_spans[pos];
	ObsSpanRecord rec;
	bool		transactional = false;

	rec.trace_id = s.trace_id;
	rec.span_id = s.span_id;
	rec.parent_id = s.parent_id;
	rec.has_parent = s.has_parent;
	rec.operation = s.operation;
	rec.service_type = service_labels[s.service_type];
	rec.service_name = s.service_name;
	rec.start_time = s.start_time;
	rec.end_time = GetCurrentTimestamp();
	if (rec.end_time < rec.start_time)
		rec.end_time = rec.start_time;	/* the clock stepped back */
	rec.status = status_labels[st];
	rec.error = error;
	rec.tags = s.tags;

	/*
	 * Store first: if that fails the span stays open and can be retried.
	 * A row stored in the caller's transaction is only final when that
	 * commits, and so is the span's removal from the stack.
	 */
	if (buffered)
	{
		/*
		 * Instrumentation pops first: if the buffer wait is cancelled, the
		 * call's span must not stay open for the rest of the session.
		 */
		memmove(&open_spans[pos], &open_spans[pos + 1], (num_open - pos - 1) * sizeof(OpenSpan));
		num_open--;
		finished_ring[finished_count % FINISHED_RING_SIZE] = s.span_id;
		finished_count++;
		if (!obs_flags_sampled(s.flags))
			obs_count_sampled_out(OBS_SIGNAL_SPAN);
		else
			(void) obs_enqueue_span(&rec, in_abort);
		free_span(&s);
		return rec.end_time - rec.start_time;
	}
	if (!obs_flags_sampled(s.flags))
		obs_count_sampled_out(OBS_SIGNAL_SPAN);
	else
		transactional = obs_emit_span(&rec);

	if (transactional)
		reserve_pending();
	memmove(&open_spans[pos], &open_spans[pos + 1], (num_open - pos - 1) * sizeof(OpenSpan));
	num_open--;
	if (transactional)
		add_pending(&s);
	else
		free_span(&s);
	finished_ring[finished_count % FINISHED_RING_SIZE] = s.span_id;
	finished_count++;
	return rec.end_time - rec.start_time;
}

/*
 * Open a span for an instrumented function call: service CUSTOM, parent
 * from the stack.  False (and nothing opened) when obs.max_open_spans is
 * reached: instrumentation never fails the call it observes.
 */
bool
obs_span_begin(const char *operation, ObsSpanId *out)
{
	OpenSpan	s;

	if (num_open >= obs_max_open_spans)
		return false;
	span_inherit_context(&s);
	obs_fast_span_id(&s.span_id);
	s.service_type = lengthof(service_labels) - 1;	/* CUSTOM */
	s.tags = NULL;
	s.start_time = GetCurrentTimestamp();
	s.operation = top_strdup(operation);
	s.service_name = top_strdup(obs_service_name != NULL && obs_service_name[0] != '\0'
								? obs_service_name : obs_default_logger());
	push_span(&s);
	*out = s.span_id;
	return true;
}

/*
 * Finish a span opened by obs_span_begin(), wherever it is on the stack,
 * with status ok or error.  Returns its duration in microseconds, or -1
 * when it is no longer open.
 */
int64
obs_span_end(const ObsSpanId *id, bool failed, const char *error, bool in_abort)
{
	for (int i = num_open - 1; i >= 0; i--)
		if (memcmp(open_spans[i].span_id.bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
			return finish_at(i, failed ? 2 : 1, error, true, in_abort);
	return -1;
}

/* obs.finish_span(span, status, error) returns the duration in microseconds */
Datum
obs_finish_span(PG_FUNCTION_ARGS)
{
	ObsSpanId  *id;
	int			pos = -1;
	char	   *status;
	int			st;
	char	   *error = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	obs_require_arg(fcinfo, 0, "span");
	id = (ObsSpanId *) PG_GETARG_POINTER(0);

	for (int i = num_open - 1; i >= 0; i--)
		if (memcmp(open_spans[i].span_id.bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
		{
			pos = i;
			break;
		}
	if (pos < 0)
	{
		int			n = Min(finished_count, FINISHED_RING_SIZE);
		char		hex[2 * OBS_SPAN_ID_LEN + 1];

		obs_hex_encode(id->bytes, OBS_SPAN_ID_LEN, hex);
		hex[2 * OBS_SPAN_ID_LEN] = '\0';
		for (int i = 0; i < n; i++)
			if (memcmp(finished_ring[i].bytes, id->bytes, OBS_SPAN_ID_LEN) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("span %s is already finished", hex)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("span %s is not open in this session", hex),
				 errhint("A span is finished in the session that started it; see obs.open_spans().")));
	}

	if (PG_ARGISNULL(1))
		st = error != NULL ? 2 : 1;
	else
	{
		status = text_to_cstring(PG_GETARG_TEXT_PP(1));
		st = obs_parse_choice(status, status_inputs, lengthof(status_inputs));
		if (st < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("invalid span status \"%s\"", status),
					 errhint("Valid statuses are success, ok, error and unset.")));
	}

	PG_RETURN_INT64(finish_at(pos, st, error, false, false));
}

Datum
obs_current_span_id(PG_FUNCTION_ARGS)
{
	ObsSpanId  *result;

	if (num_open == 0)
		PG_RETURN_NULL();
	result = palloc(sizeof(ObsSpanId));
	*result = open_spans[num_open - 1].span_id;
	PG_RETURN_POINTER(result);
}

Datum
obs_current_trace_id(PG_FUNCTION_ARGS)
{
	ObsTraceId	trace;
	ObsSpanId	span;
	ObsTraceId *result;

	if (!obs_current_context(&trace, &span))
		PG_RETURN_NULL();
	result = palloc(sizeof(ObsTraceId));
	*result = trace;
	PG_RETURN_POINTER(result);
}

Datum
obs_current_traceparent(PG_FUNCTION_ARGS)
{
	ObsTraceparent tp;

	if (num_open > 0)
	{
		OpenSpan   *s = &open_spans[num_open - 1];

		PG_RETURN_TEXT_P(cstring_to_text(obs_format_traceparent(&s->trace_id, &s->span_id, s->flags)));
	}
	if (obs_external_traceparent(&tp))
		PG_RETURN_TEXT_P(cstring_to_text(obs_format_traceparent(&tp.trace_id, &tp.parent_id, tp.flags)));
	PG_RETURN_NULL();
}

/* obs.open_spans(): this session's open spans, outermost first */
Datum
obs_open_spans(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			service_type = obs_type_oid("service_type");

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < num_open; i++)
	{
		OpenSpan   *s = &open_spans[i];
		Datum		values[8];
		bool		nulls[8] = {false};
		ObsTraceId *t = palloc(sizeof(ObsTraceId));
		ObsSpanId  *sp = palloc(sizeof(ObsSpanId));
		ObsSpanId  *pa = palloc(sizeof(ObsSpanId));

		*t = s->trace_id;
		*sp = s->span_id;
		*pa = s->parent_id;
		values[0] = Int32GetDatum(i + 1);
		values[1] = PointerGetDatum(t);
		values[2] = PointerGetDatum(sp);
		values[3] = PointerGetDatum(pa);
		nulls[3] = !s->has_parent;
		values[4] = CStringGetTextDatum(s->operation);
		values[5] = obs_enum_datum(service_type, service_labels[s->service_type]);
		values[6] = CStringGetTextDatum(s->service_name);
		values[7] = TimestampTzGetDatum(s->start_time);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* obs.reset_spans(): forget every open span of this session; returns how many */
Datum
obs_reset_spans(PG_FUNCTION_ARGS)
{
	int			n = num_open;

	for (int i = 0; i < num_open; i++)
		free_span(&open_spans[i]);
	num_open = 0;
	PG_RETURN_INT32(n);
}
