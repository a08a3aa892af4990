/*-------------------------------------------------------------------------
 * logs.c
 *	  Structured logging: obs.log() and obs.debug() .. obs.critical().
 *
 * Every entry point parses its arguments into an ObsLogRecord and hands it
 * to obs_emit_log(), the one write path for logs.  Records below
 * obs.log_min_level are dropped once their arguments are checked.  A
 * record written while a span is open carries that span's trace and span
 * id (see spans.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "obs.h"
#include "ingest.h"

PG_FUNCTION_INFO_V1(obs_log);
PG_FUNCTION_INFO_V1(obs_log_debug);
PG_FUNCTION_INFO_V1(obs_log_info);
PG_FUNCTION_INFO_V1(obs_log_warning);
PG_FUNCTION_INFO_V1(obs_log_error);
PG_FUNCTION_INFO_V1(obs_log_critical);

/* labels of obs.log_level, in ObsLogLevel order */
static const char *const level_labels[] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
};

#define NUM_LOG_COLUMNS 11

static const ObsColumn log_columns[NUM_LOG_COLUMNS] = {
	{"log_id", INT8OID}, {"ts", TIMESTAMPTZOID}, {"level", InvalidOid, "log_level"},
	{"logger", TEXTOID}, {"message", TEXTOID}, {"context", JSONBOID}, {"tags", JSONBOID},
	{"trace_id", InvalidOid, "trace_id"}, {"span_id", InvalidOid, "span_id"},
	{"error", JSONBOID}, {"backend_pid", INT4OID}
};
static ObsTable logs_table = {"logs", "log_id", log_columns, NUM_LOG_COLUMNS};

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
 * Store one log record now, in the current transaction: the transactional
 * write path, and the worker's store step (batch non-NULL).  The record
 * carries its trace context and backend pid; a log_id of 0 is assigned
 * here.
 */
int64
obs_store_log(const ObsLogRecord *rec, ObsBatch *batch)
{
	Relation	rel;
	Datum		values[NUM_LOG_COLUMNS];
	bool		nulls[NUM_LOG_COLUMNS];
	int64		id;
	Oid			level_type;

	obs_check_writable("obs.log()");
	rel = obs_row_target(&logs_table, batch);
	level_type = TupleDescAttr(RelationGetDescr(rel), 2)->atttypid;
	id = rec->log_id != 0 ? rec->log_id : obs_table_nextval(&logs_table);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(rec->ts);
	values[2] = obs_enum_datum(level_type, level_labels[rec->level]);
	values[3] = CStringGetTextDatum(rec->logger);
	values[4] = CStringGetTextDatum(rec->message);
	values[5] = PointerGetDatum(rec->context);
	nulls[5] = rec->context == NULL;
	values[6] = PointerGetDatum(rec->tags);
	nulls[6] = rec->tags == NULL;
	values[7] = PointerGetDatum(&rec->trace_id);
	nulls[7] = !rec->has_ctx;
	values[8] = PointerGetDatum(&rec->span_id);
	nulls[8] = !rec->has_ctx;
	values[9] = PointerGetDatum(rec->error);
	nulls[9] = rec->error == NULL;
	values[10] = Int32GetDatum(rec->backend_pid);

	obs_row_write(rel, batch, values, nulls);
	return id;
}

/*
 * The one write path for log records: fill in the session's trace context,
 * apply sampling, then store now or hand the record to the buffer.
 * Returns the log_id, or 0 when the record is sampled out or dropped.  On
 * the buffered path the id is taken from the identity sequence here, so
 * the caller learns it at once (sequences ignore rollbacks anyway).
 */
int64
obs_emit_log(ObsLogRecord *rec)
{
	uint8		flags;

	obs_check_writable("obs.log()");
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
		obs_table_resolve(&logs_table);
		rec->log_id = obs_table_nextval(&logs_table);
		return obs_enqueue_log(rec) ? rec->log_id : 0;
	}
	return obs_store_log(rec, NULL);
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
		"sqlstate", "message", "detail", "hint", "context"
	};
	char	   *error_values[5];

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

	if (level < obs_log_min_level)
		PG_RETURN_NULL();

	rec.ts = GetCurrentTimestamp();
	rec.level = level;
	rec.message = limit_message(text_to_cstring(PG_GETARG_TEXT_PP(argoff)));
	rec.logger = text_arg(fcinfo, argoff + 3);
	if (rec.logger == NULL || rec.logger[0] == '\0')
		rec.logger = obs_default_logger();

	for (int i = 1; i < 5; i++)
		error_values[i] = text_arg(fcinfo, argoff + 4 + i);
	rec.error = obs_jsonb_from_pairs(error_keys, error_values, 5);

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
	level = obs_parse_choice(name, level_labels, lengthof(level_labels));
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
