/*-------------------------------------------------------------------------
 * traceparent.c
 *	  W3C Trace Context "traceparent" header: parse, format, SQL functions.
 *
 * Format (version 00): 2 hex version "-" 32 hex trace id "-" 16 hex parent
 * id "-" 2 hex flags, lowercase only.  All-zero ids and version ff are
 * invalid.  A higher version may append "-..." fields, which are ignored as
 * the specification asks.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "trace/trace.h"

PG_FUNCTION_INFO_V1(obs_parse_traceparent);
PG_FUNCTION_INFO_V1(obs_set_traceparent);

static bool
is_lower_hex(const char *s, int n)
{
	for (int i = 0; i < n; i++)
	{
		char		c = s[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return false;
	}
	return true;
}

/*
 * Parse s into *tp.  On failure returns false and sets *why to a sentence
 * fit for errdetail.
 */
bool
obs_parse_traceparent_str(const char *s, ObsTraceparent *tp, const char **why)
{
	size_t		len = strlen(s);
	uint8		v;

	if (len < 55)
	{
		*why = "A traceparent has 55 characters: version-trace_id-parent_id-flags.";
		return false;
	}
	if (!is_lower_hex(s, 2) || s[2] != '-' || !is_lower_hex(s + 3, 32) ||
		s[35] != '-' || !is_lower_hex(s + 36, 16) || s[52] != '-' ||
		!is_lower_hex(s + 53, 2))
	{
		*why = "Each field must be lowercase hexadecimal and fields are separated by \"-\".";
		return false;
	}
	obs_hex_decode(s, 2, &v, 1);
	if (v == 0xff)
	{
		*why = "Version ff is invalid.";
		return false;
	}
	if (v == 0 && len != 55)
	{
		*why = "A version 00 traceparent has exactly 55 characters.";
		return false;
	}
	if (v != 0 && len > 55 && s[55] != '-')
	{
		*why = "Fields after the flags must be separated by \"-\".";
		return false;
	}
	tp->version = v;
	obs_hex_decode(s + 3, 32, tp->trace_id.bytes, OBS_TRACE_ID_LEN);
	obs_hex_decode(s + 36, 16, tp->parent_id.bytes, OBS_SPAN_ID_LEN);
	obs_hex_decode(s + 53, 2, &tp->flags, 1);
	if (obs_trace_id_is_zero(&tp->trace_id))
	{
		*why = "The trace id must not be all zeros.";
		return false;
	}
	if (obs_span_id_is_zero(&tp->parent_id))
	{
		*why = "The parent id must not be all zeros.";
		return false;
	}
	return true;
}

/* version 00 header text, palloc'd */
char *
obs_format_traceparent(const ObsTraceId *trace, const ObsSpanId *span, uint8 flags)
{
	char	   *out = palloc(56);

	memcpy(out, "00-", 3);
	obs_hex_encode(trace->bytes, OBS_TRACE_ID_LEN, out + 3);
	out[35] = '-';
	obs_hex_encode(span->bytes, OBS_SPAN_ID_LEN, out + 36);
	out[52] = '-';
	obs_hex_encode(&flags, 1, out + 53);
	out[55] = '\0';
	return out;
}

/* the external trace set through obs.traceparent, if any */
bool
obs_external_traceparent(ObsTraceparent *tp)
{
	const char *why;

	if (obs_traceparent_setting == NULL || obs_traceparent_setting[0] == '\0')
		return false;
	/* validated by the check hook; parse again rather than cache */
	return obs_parse_traceparent_str(obs_traceparent_setting, tp, &why);
}

static void
parse_or_error(const char *s, ObsTraceparent *tp)
{
	const char *why;

	if (!obs_parse_traceparent_str(s, tp, &why))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid traceparent \"%s\"", s),
				 errdetail("%s", why)));
}

/* obs.parse_traceparent(text) -> (version, trace_id, parent_id, sampled) */
Datum
obs_parse_traceparent(PG_FUNCTION_ARGS)
{
	char	   *s = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ObsTraceparent tp;
	TupleDesc	tupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	char		ver[3];
	ObsTraceId *trace;
	ObsSpanId  *span;

	parse_or_error(s, &tp);
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	tupdesc = BlessTupleDesc(tupdesc);

	obs_hex_encode(&tp.version, 1, ver);
	ver[2] = '\0';
	trace = palloc(sizeof(ObsTraceId));
	*trace = tp.trace_id;
	span = palloc(sizeof(ObsSpanId));
	*span = tp.parent_id;
	values[0] = CStringGetTextDatum(ver);
	values[1] = PointerGetDatum(trace);
	values[2] = PointerGetDatum(span);
	values[3] = BoolGetDatum((tp.flags & 0x01) != 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/* obs.set_traceparent(text): same as SET obs.traceparent, NULL clears */
Datum
obs_set_traceparent(PG_FUNCTION_ARGS)
{
	const char *s = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	ObsTraceparent tp;

	if (s[0] != '\0')
		parse_or_error(s, &tp);
	(void) set_config_option("obs.traceparent", s,
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SET, true, 0, false);
	PG_RETURN_VOID();
}
