/*-------------------------------------------------------------------------
 * trace.h
 *	  The trace layer: trace and span ids, W3C traceparent, head
 *	  sampling, and the session's stack of open spans.
 *
 * Nothing here writes a row: a finished span is handed to ingest by the
 * caller (api/spans.c, instrument/instrument.c).
 *-------------------------------------------------------------------------
 */
#ifndef OBS_TRACE_H
#define OBS_TRACE_H

#include "core/core.h"

/* ids.c: the trace_id and span_id types and their I/O functions */
extern bool obs_hex_decode(const char *hex, int hexlen, uint8 *out, int outlen);
extern void obs_hex_encode(const uint8 *in, int inlen, char *out);
extern void obs_random_trace_id(ObsTraceId *id);
extern void obs_random_span_id(ObsSpanId *id);
extern void obs_fast_trace_id(ObsTraceId *id);
extern void obs_fast_span_id(ObsSpanId *id);
extern bool obs_trace_id_is_zero(const ObsTraceId *id);
extern bool obs_span_id_is_zero(const ObsSpanId *id);
extern PGDLLEXPORT Datum obs_trace_id_out(PG_FUNCTION_ARGS);
extern PGDLLEXPORT Datum obs_span_id_out(PG_FUNCTION_ARGS);

/* traceparent.c */
typedef struct ObsTraceparent
{
	uint8		version;
	ObsTraceId	trace_id;
	ObsSpanId	parent_id;
	uint8		flags;
} ObsTraceparent;
extern bool obs_parse_traceparent_str(const char *s, ObsTraceparent *tp, const char **why);
extern char *obs_format_traceparent(const ObsTraceId *trace, const ObsSpanId *span, uint8 flags);
extern bool obs_external_traceparent(ObsTraceparent *tp);

/* sampling.c */
extern bool obs_trace_sampled(const ObsTraceId *trace, double rate);
extern bool obs_sample(double rate);
extern bool obs_flags_sampled(uint8 flags);

/* stack.c: the session's open spans, outermost first */
typedef struct ObsOpenSpan
{
	ObsTraceId	trace_id;
	ObsSpanId	span_id;
	ObsSpanId	parent_id;
	bool		has_parent;
	uint8		flags;
	const char *service_type;	/* label of obs.service_type (static) */
	char	   *operation;
	char	   *service_name;
	Jsonb	   *tags;			/* NULL when absent */
	TimestampTz start_time;
} ObsOpenSpan;
extern bool obs_current_context(ObsTraceId *trace, ObsSpanId *span);
extern bool obs_current_context_flags(ObsTraceId *trace, ObsSpanId *span, uint8 *flags);
extern void obs_span_inherit_context(ObsOpenSpan *s);
extern void obs_span_check_limit(void);
extern char *obs_span_strdup(const char *s);
extern void obs_span_push(ObsOpenSpan *s);
extern int	obs_span_find(const ObsSpanId *id);
extern bool obs_span_was_finished(const ObsSpanId *id);
extern int	obs_span_count(void);
extern ObsOpenSpan *obs_span_at(int pos);
extern void obs_span_pop(int pos, bool keep_until_commit);
extern void obs_span_free(ObsOpenSpan *s);
extern int	obs_span_reset(void);

#endif							/* OBS_TRACE_H */
