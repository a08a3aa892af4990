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

/* labels of obs.service_type, in enum order */
static const char *const service_labels[] = {
	"DATA_FETCH", "PIPELINE", "ANALYTICS", "TRANSFORM", "VALIDATION", "STORAGE",
	"DATABASE", "CACHE", "API", "MESSAGING", "SCHEDULER", "NOTIFICATION", "ML", "CUSTOM"
};

/* accepted status words; "success" is stored as "ok" */
static const char *const status_inputs[] = {"unset", "ok", "error", "success"};
static const char *const status_labels[] = {"unset", "ok", "error", "ok"};

/* obs.start_span(operation, service, tags, service_name, traceparent) */
Datum
obs_start_span(PG_FUNCTION_ARGS)
{
	ObsOpenSpan s;
	char	   *operation;
	char	   *service;
	char	   *service_name;
	ObsSpanId  *result;
	int			service_type;

	obs_require_arg(fcinfo, 0, "operation");
	obs_require_arg(fcinfo, 1, "service");
	operation = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (operation[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("operation must not be empty")));
	service = text_to_cstring(PG_GETARG_TEXT_PP(1));
	service_type = obs_parse_choice(service, service_labels, lengthof(service_labels));
	if (service_type < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid service type \"%s\"", service),
				 errhint("Valid service types are the labels of obs.service_type, e.g. DATA_FETCH, PIPELINE, ANALYTICS or CUSTOM; "
						 "a free-form name goes in service_name.")));
	s.service_type = service_labels[service_type];
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
	char	   *status;
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
