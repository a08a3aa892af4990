/*-------------------------------------------------------------------------
 * runs.c
 *	  Pipeline runs: obs.record_flow_execution() and
 *	  obs.record_task_execution().
 *
 * A run is recorded once per state change and the latest call wins, so a
 * run can be recorded as Running and later as Completed.  Arguments are
 * validated here, then obs_emit_flow_run() / obs_emit_task_run() upsert
 * the row with a kept SPI plan, run as the table owner (writing is
 * governed by EXECUTE on these functions).  On an update, num_tasks,
 * inputs/outputs and tags keep their stored value when the new call passes
 * NULL; every other column takes the new call's value.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/datetime.h"

#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_record_flow_execution);
PG_FUNCTION_INFO_V1(obs_record_task_execution);

static char *
required_text(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;

	obs_require_arg(fcinfo, argno, argname);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if (s[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", argname)));
	return s;
}

static TimestampTz
finite_ts(TimestampTz ts, const char *argname)
{
	if (TIMESTAMP_NOT_FINITE(ts))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s must be finite", argname)));
	obs_check_timestamp(ts, argname);
	return ts;
}

static void
check_count(int64 n, const char *argname)
{
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s must not be negative", argname),
				 errdetail("%s was " INT64_FORMAT ".", argname, n)));
}

/* fill the fields shared by flow and task runs from their common arguments */
static void
parse_run_common(FunctionCallInfo fcinfo, ObsRunRecord *rec, const char *name_arg, int tags_arg)
{
	char	   *status;

	rec->name = required_text(fcinfo, 0, name_arg);
	rec->flow_run_id = required_text(fcinfo, 1, "flow_run_id");
	obs_require_arg(fcinfo, 2, "start_time");
	rec->start_time = finite_ts(PG_GETARG_TIMESTAMPTZ(2), "start_time");
	rec->has_end = !PG_ARGISNULL(3);
	if (rec->has_end)
	{
		rec->end_time = finite_ts(PG_GETARG_TIMESTAMPTZ(3), "end_time");
		if (rec->end_time < rec->start_time)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("end_time must not be earlier than start_time")));
		obs_check_duration(rec->start_time, rec->end_time);
	}
	obs_require_arg(fcinfo, 4, "status");
	status = text_to_cstring(PG_GETARG_TEXT_PP(4));
	rec->state = obs_parse_choice(status, obs_run_state_labels, OBS_NUM_RUN_STATES);
	if (rec->state < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid run status \"%s\"", status),
				 errhint("Valid statuses are Prefect's state types: Scheduled, Pending, Running, Paused, "
						 "Cancelling, Completed, Failed, Crashed and Cancelled.")));
	rec->tags = PG_ARGISNULL(tags_arg) ? NULL :
		obs_check_object(PG_GETARG_JSONB_P(tags_arg), "tags");
	rec->updated_at = GetCurrentTimestamp();
}

/*
 * A task run without an id of its own is named by its flow run, task name
 * and start time (UTC, microseconds): recording it again with the same
 * start time updates it, and a task that runs twice in one flow run keeps
 * two rows.
 */
static char *
default_task_run_id(const ObsRunRecord *rec)
{
	struct pg_tm tm;
	fsec_t		fsec;

	if (timestamp2tm(rec->start_time, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("start_time out of range")));
	return psprintf("%s:%s:%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
					rec->flow_run_id, rec->name, tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tm.tm_sec, (int) fsec);
}

/*
 * obs.record_flow_execution(flow_name, flow_run_id, start_time, end_time,
 *							 status, num_tasks, error, tags)
 */
Datum
obs_record_flow_execution(PG_FUNCTION_ARGS)
{
	ObsRunRecord rec;

	memset(&rec, 0, sizeof(rec));
	parse_run_common(fcinfo, &rec, "flow_name", 7);
	rec.has_count1 = !PG_ARGISNULL(5);
	if (rec.has_count1)
	{
		rec.count1 = PG_GETARG_INT32(5);
		check_count(rec.count1, "num_tasks");
	}
	rec.error = PG_ARGISNULL(6) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(6));
	obs_emit_flow_run(&rec);
	PG_RETURN_VOID();
}

/*
 * obs.record_task_execution(task_name, flow_run_id, start_time, end_time,
 *	   status, inputs_processed, outputs_produced, error, task_run_id, tags)
 */
Datum
obs_record_task_execution(PG_FUNCTION_ARGS)
{
	ObsRunRecord rec;

	memset(&rec, 0, sizeof(rec));
	parse_run_common(fcinfo, &rec, "task_name", 9);
	rec.has_count1 = !PG_ARGISNULL(5);
	if (rec.has_count1)
	{
		rec.count1 = PG_GETARG_INT64(5);
		check_count(rec.count1, "inputs_processed");
	}
	rec.has_count2 = !PG_ARGISNULL(6);
	if (rec.has_count2)
	{
		rec.count2 = PG_GETARG_INT64(6);
		check_count(rec.count2, "outputs_produced");
	}
	rec.error = PG_ARGISNULL(7) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(7));
	if (PG_ARGISNULL(8))
		rec.task_run_id = default_task_run_id(&rec);
	else
		rec.task_run_id = required_text(fcinfo, 8, "task_run_id");
	obs_emit_task_run(&rec);
	PG_RETURN_VOID();
}
