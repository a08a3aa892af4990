/*-------------------------------------------------------------------------
 * spans.c
 *	  Distributed tracing: obs.start_span(), obs.finish_span() and the
 *	  current-context functions.
 *
 * The session's stack of open spans is trace/stack.c; a finished span is
 * written to obs.spans through obs_emit_span() (ingest).  Finishing is as
 * transactional as the row it stores: a span whose row was stored in the
 * caller's transaction is popped with keep_until_commit, so that if that
 * (sub)transaction aborts the span is open again and can be finished
 * again, e.g. by an exception handler with status 'error'.
 *
 * obs.record_span() stores a span that a client opened, timed and closed
 * itself (its trace context lives in the client, not in this session's
 * stack): the same record and the same write path as obs.finish_span().
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_start_span);
PG_FUNCTION_INFO_V1(obs_finish_span);
PG_FUNCTION_INFO_V1(obs_current_span_id);
PG_FUNCTION_INFO_V1(obs_current_trace_id);
PG_FUNCTION_INFO_V1(obs_current_traceparent);
PG_FUNCTION_INFO_V1(obs_open_spans);
PG_FUNCTION_INFO_V1(obs_reset_spans);
PG_FUNCTION_INFO_V1(obs_record_span);

/* labels of obs.service_type, in enum order */
static const char *const service_labels[] = {
	"DATA_FETCH", "PIPELINE", "ANALYTICS", "TRANSFORM", "VALIDATION", "STORAGE",
	"DATABASE", "CACHE", "API", "MESSAGING", "SCHEDULER", "NOTIFICATION", "ML", "CUSTOM"
};

/* accepted status words; "success" is stored as "ok" */
static const char *const status_inputs[] = {"unset", "ok", "error", "success"};
static const char *const status_labels[] = {"unset", "ok", "error", "ok"};

/* the obs.service_type label of a service argument */
static const char *
parse_service(const char *service)
{
	int			service_type = obs_parse_choice(service, service_labels, lengthof(service_labels));

	if (service_type < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid service type \"%s\"", service),
				 errhint("Valid service types are the labels of obs.service_type, e.g. DATA_FETCH, PIPELINE, ANALYTICS or CUSTOM; "
						 "a free-form name goes in service_name.")));
	return service_labels[service_type];
}

/* index into status_labels of a status argument; NULL: error if error given, else ok */
static int
parse_status(FunctionCallInfo fcinfo, int argno, const char *error)
{
	char	   *status;
	int			st;

	if (PG_ARGISNULL(argno))
		return error != NULL ? 2 : 1;
	status = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	st = obs_parse_choice(status, status_inputs, lengthof(status_inputs));
	if (st < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid span status \"%s\"", status),
				 errhint("Valid statuses are success, ok, error and unset.")));
	return st;
}

/* obs.start_span(operation, service, tags, service_name, traceparent) */
Datum
obs_start_span(PG_FUNCTION_ARGS)
{
	ObsOpenSpan s;
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
	s.service_type = parse_service(service);
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
		obs_span_inherit_context(&s);
	obs_fast_span_id(&s.span_id);
	s.start_time = GetCurrentTimestamp();

	/* check the limit before copying anything into long-lived memory */
	obs_span_check_limit();
	s.operation = obs_span_strdup(operation);
	s.service_name = obs_span_strdup(service_name);
	if (s.tags != NULL)
	{
		Jsonb	   *copy = MemoryContextAlloc(TopMemoryContext, VARSIZE(s.tags));

		memcpy(copy, s.tags, VARSIZE(s.tags));
		s.tags = copy;
	}
	obs_span_push(&s);

	result = palloc(sizeof(ObsSpanId));
	*result = s.span_id;
	PG_RETURN_POINTER(result);
}

/*
 * Finish the open span at stack position pos: emit its row unless its
 * trace is sampled out, then pop it.  Store first: if that fails the span
 * stays open and can be retried.  A row stored in the caller's
 * transaction is only final when that commits, and so is the span's
 * removal from the stack.  Returns the duration in microseconds.
 */
static int64
finish_at(int pos, int st, const char *error)
{
	ObsOpenSpan s = *obs_span_at(pos);
	ObsSpanRecord rec;
	bool		transactional = false;

	obs_span_record(&s, status_labels[st], error, &rec);
	if (!obs_flags_sampled(s.flags))
		obs_count_sampled_out(OBS_SIGNAL_SPAN);
	else
		transactional = obs_emit_span(&rec);

	obs_span_pop(pos, transactional);
	if (!transactional)
		obs_span_free(&s);
	return rec.end_time - rec.start_time;
}

/* obs.finish_span(span, status, error) returns the duration in microseconds */
Datum
obs_finish_span(PG_FUNCTION_ARGS)
{
	ObsSpanId  *id;
	int			pos;
	int			st;
	char	   *error = PG_ARGISNULL(2) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(2));

	obs_require_arg(fcinfo, 0, "span");
	id = (ObsSpanId *) PG_GETARG_POINTER(0);

	pos = obs_span_find(id);
	if (pos < 0)
	{
		char		hex[2 * OBS_SPAN_ID_LEN + 1];

		obs_hex_encode(id->bytes, OBS_SPAN_ID_LEN, hex);
		hex[2 * OBS_SPAN_ID_LEN] = '\0';
		if (obs_span_was_finished(id))
			ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("span %s is already finished", hex)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("span %s is not open in this session", hex),
				 errhint("A span is finished in the session that started it; see obs.open_spans().")));
	}

	st = parse_status(fcinfo, 1, error);
	PG_RETURN_INT64(finish_at(pos, st, error));
}

Datum
obs_current_span_id(PG_FUNCTION_ARGS)
{
	ObsSpanId  *result;

	if (obs_span_count() == 0)
		PG_RETURN_NULL();
	result = palloc(sizeof(ObsSpanId));
	*result = obs_span_at(obs_span_count() - 1)->span_id;
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

	if (obs_span_count() > 0)
	{
		ObsOpenSpan *s = obs_span_at(obs_span_count() - 1);

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
	for (int i = 0; i < obs_span_count(); i++)
	{
		ObsOpenSpan *s = obs_span_at(i);
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
		values[5] = obs_enum_datum(service_type, s->service_type);
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
	PG_RETURN_INT32(obs_span_reset());
}

/* a finite timestamp argument within obs's range */
static TimestampTz
span_time_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	TimestampTz ts;

	obs_require_arg(fcinfo, argno, argname);
	ts = PG_GETARG_TIMESTAMPTZ(argno);
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite", argname)));
	obs_check_timestamp(ts, argname);
	return ts;
}

/*
 * obs.record_span(trace_id, span_id, parent_span_id, operation, service,
 *				   start_time, end_time, status, error, tags, service_name)
 * stores a span the client timed itself; returns its duration in
 * microseconds.  The trace is head-sampled by its id at
 * obs.trace_sample_rate, as obs's own new traces are.  A (trace_id,
 * span_id) stored before is a unique violation on the transactional path
 * and a dead letter on the buffered one.
 */
Datum
obs_record_span(PG_FUNCTION_ARGS)
{
	ObsSpanRecord rec;
	char	   *operation;
	char	   *error;

	obs_require_arg(fcinfo, 0, "trace_id");
	obs_require_arg(fcinfo, 1, "span_id");
	obs_require_arg(fcinfo, 3, "operation");
	obs_require_arg(fcinfo, 4, "service");
	rec.trace_id = *(ObsTraceId *) PG_GETARG_POINTER(0);
	rec.span_id = *(ObsSpanId *) PG_GETARG_POINTER(1);
	rec.has_parent = !PG_ARGISNULL(2);
	if (rec.has_parent)
		rec.parent_id = *(ObsSpanId *) PG_GETARG_POINTER(2);
	else
		memset(&rec.parent_id, 0, sizeof(rec.parent_id));
	if (obs_trace_id_is_zero(&rec.trace_id) || obs_span_id_is_zero(&rec.span_id) ||
		(rec.has_parent && obs_span_id_is_zero(&rec.parent_id)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("trace and span ids must not be all zeros"),
				 errdetail("W3C trace context reserves the all-zero ids as invalid.")));
	if (rec.has_parent && memcmp(&rec.parent_id, &rec.span_id, sizeof(ObsSpanId)) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a span cannot be its own parent")));

	operation = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (operation[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation must not be empty")));
	rec.operation = operation;
	rec.service_type = parse_service(text_to_cstring(PG_GETARG_TEXT_PP(4)));

	rec.start_time = span_time_arg(fcinfo, 5, "start_time");
	rec.end_time = span_time_arg(fcinfo, 6, "end_time");
	if (rec.end_time < rec.start_time)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("end_time must not be earlier than start_time")));
	obs_check_duration(rec.start_time, rec.end_time);

	error = PG_ARGISNULL(8) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(8));
	rec.status = status_labels[parse_status(fcinfo, 7, error)];
	rec.error = error;
	rec.tags = PG_ARGISNULL(9) ? NULL : obs_check_object(PG_GETARG_JSONB_P(9), "tags");

	if (!PG_ARGISNULL(10))
		rec.service_name = text_to_cstring(PG_GETARG_TEXT_PP(10));
	else if (obs_service_name != NULL && obs_service_name[0] != '\0')
		rec.service_name = obs_service_name;
	else
		rec.service_name = obs_default_logger();

	if (!obs_trace_sampled(&rec.trace_id, obs_trace_sample_rate))
		obs_count_sampled_out(OBS_SIGNAL_SPAN);
	else
		(void) obs_emit_span(&rec);
	PG_RETURN_INT64(rec.end_time - rec.start_time);
}
