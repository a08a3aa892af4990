/*-------------------------------------------------------------------------
 * logs.c
 *	  Structured logging: obs.log() and obs.debug() .. obs.critical().
 *
 * Every entry point parses its arguments into an ObsLogRecord and hands it
 * to obs_emit_log(), the one write path for logs.  Records below
 * obs.log_min_level are dropped before anything else is looked at.  A
 * record written while a span is open carries that span's trace and span
 * id (see spans.c), unless the caller gives trace_id and span_id itself (a
 * client that keeps its own trace context).  ts, trace_id, span_id and
 * error_type came in 0.2.0: under the 0.1.0 declaration (a database not
 * yet updated) they are absent, which PG_NARGS() tells.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_log);
PG_FUNCTION_INFO_V1(obs_log_debug);
PG_FUNCTION_INFO_V1(obs_log_info);
PG_FUNCTION_INFO_V1(obs_log_warning);
PG_FUNCTION_INFO_V1(obs_log_error);
PG_FUNCTION_INFO_V1(obs_log_critical);

/*
 * Cut an over-long message at a character boundary and mark it, so that a
 * log call never fails a pipeline because of its size.
 */
static char *
limit_message(char *msg)
{
	int			len = strlen(msg);
	char		marker[64];
	int			mlen;
	int			keep;
	char	   *out;

	if (len <= obs_max_message_size)
		return msg;
	mlen = snprintf(marker, sizeof(marker), "...[truncated, %d bytes in all]", len);
	keep = pg_mbcliplen(msg, len, obs_max_message_size - mlen);
	out = palloc(keep + mlen + 1);
	memcpy(out, msg, keep);
	memcpy(out + keep, marker, mlen + 1);
	return out;
}

/* a SQLSTATE is five digits or upper-case letters */
static void
check_sqlstate(const char *s)
{
	bool		ok = strlen(s) == 5;

	for (int i = 0; ok && i < 5; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'A' && s[i] <= 'Z');
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid SQLSTATE code \"%s\"", s),
				 errdetail("A SQLSTATE is five digits or upper-case letters, as in SQLSTATE inside an exception handler.")));
}

static char *
text_arg(FunctionCallInfo fcinfo, int argno)
{
	return PG_ARGISNULL(argno) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(argno));
}

/*
 * Shared body of every log entry point.  argoff is the position of the
 * message argument; the remaining arguments follow it in the order of the
 * SQL declarations.
 */
static Datum
log_common(FunctionCallInfo fcinfo, ObsLogLevel level, int argoff)
{
	ObsLogRecord rec;
	static const char *const error_keys[] = {
		"sqlstate", "message", "detail", "hint", "context", "type"
	};
	char	   *error_values[6];
	/* ts, trace_id, span_id, error_type: absent under a 0.1.0 declaration */
	bool		has_client_args = PG_NARGS() > argoff + 12;
	TimestampTz ts = 0;
	bool		has_ts = false;

	/*
	 * Bad arguments are an error whatever obs.log_min_level says: check
	 * them before the threshold, which then drops the record cheaply.
	 */
	obs_require_arg(fcinfo, argoff, "message");
	rec.context = PG_ARGISNULL(argoff + 1) ? NULL :
		obs_check_object(PG_GETARG_JSONB_P(argoff + 1), "context");
	rec.tags = PG_ARGISNULL(argoff + 2) ? NULL :
		obs_check_object(PG_GETARG_JSONB_P(argoff + 2), "tags");
	error_values[0] = text_arg(fcinfo, argoff + 4);
	if (error_values[0] != NULL)
		check_sqlstate(error_values[0]);
	rec.has_ctx = false;
	if (has_client_args)
	{
		if (!PG_ARGISNULL(argoff + 9))
		{
			ts = PG_GETARG_TIMESTAMPTZ(argoff + 9);
			if (TIMESTAMP_NOT_FINITE(ts))
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("log timestamp must be finite")));
			obs_check_timestamp(ts, "ts");
			has_ts = true;
		}
		if (PG_ARGISNULL(argoff + 10) != PG_ARGISNULL(argoff + 11))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("trace_id and span_id must be given together"),
					 errdetail("A log record belongs to a span of a trace: give both ids, or neither to take the session's open span.")));
		if (!PG_ARGISNULL(argoff + 10))
		{
			rec.trace_id = *(ObsTraceId *) PG_GETARG_POINTER(argoff + 10);
			rec.span_id = *(ObsSpanId *) PG_GETARG_POINTER(argoff + 11);
			if (obs_trace_id_is_zero(&rec.trace_id) || obs_span_id_is_zero(&rec.span_id))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("trace_id and span_id must not be all zeros"),
						 errdetail("W3C trace context reserves the all-zero ids as invalid.")));
			rec.has_ctx = true;
		}
	}

	if ((int) level < obs_log_min_level)
		PG_RETURN_NULL();

	rec.ts = has_ts ? ts : GetCurrentTimestamp();
	rec.level = level;
	rec.message = limit_message(text_to_cstring(PG_GETARG_TEXT_PP(argoff)));
	rec.logger = text_arg(fcinfo, argoff + 3);
	if (rec.logger == NULL || rec.logger[0] == '\0')
		rec.logger = obs_default_logger();

	for (int i = 1; i < 5; i++)
		error_values[i] = text_arg(fcinfo, argoff + 4 + i);
	error_values[5] = has_client_args ? text_arg(fcinfo, argoff + 12) : NULL;
	rec.error = obs_jsonb_from_pairs(error_keys, error_values, 6);

	{
		int64		id = obs_emit_log(&rec);

		if (id == 0)
			PG_RETURN_NULL();
		PG_RETURN_INT64(id);
	}
}

/* obs.log(level, message, ...) */
Datum
obs_log(PG_FUNCTION_ARGS)
{
	char	   *name;
	int			level;

	obs_require_arg(fcinfo, 0, "level");
	name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	level = obs_parse_choice(name, obs_log_level_labels, OBS_NUM_LOG_LEVELS);
	if (level < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid log level \"%s\"", name),
				 errhint("Valid levels are DEBUG, INFO, WARNING, ERROR and CRITICAL.")));
	return log_common(fcinfo, (ObsLogLevel) level, 1);
}

Datum
obs_log_debug(PG_FUNCTION_ARGS)
{
	return log_common(fcinfo, OBS_LEVEL_DEBUG, 0);
}

Datum
obs_log_info(PG_FUNCTION_ARGS)
{
	return log_common(fcinfo, OBS_LEVEL_INFO, 0);
}

Datum
obs_log_warning(PG_FUNCTION_ARGS)
{
	return log_common(fcinfo, OBS_LEVEL_WARNING, 0);
}

Datum
obs_log_error(PG_FUNCTION_ARGS)
{
	return log_common(fcinfo, OBS_LEVEL_ERROR, 0);
}

Datum
obs_log_critical(PG_FUNCTION_ARGS)
{
	return log_common(fcinfo, OBS_LEVEL_CRITICAL, 0);
}
