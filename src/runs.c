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

#include "obs.h"
#include "ingest.h"

PG_FUNCTION_INFO_V1(obs_record_flow_execution);
PG_FUNCTION_INFO_V1(obs_record_task_execution);

/* Prefect state types, spelt as the labels of obs.run_state */
static const char *const state_labels[] = {
	"Scheduled", "Pending", "Running", "Paused", "Cancelling",
	"Completed", "Failed", "Crashed", "Cancelled"
};

/* label of a run state, for messages and dead letters */
const char *
obs_run_state_label(int state)
{
	return state >= 0 && state < lengthof(state_labels) ? state_labels[state] : "?";
}

static SPIPlanPtr flow_plan = NULL;
static SPIPlanPtr task_plan = NULL;

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
	}
	obs_require_arg(fcinfo, 4, "status");
	status = text_to_cstring(PG_GETARG_TEXT_PP(4));
	rec->state = obs_parse_choice(status, state_labels, lengthof(state_labels));
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

static Datum
nullable_text(const char *s, char *isnull)
{
	*isnull = s ? ' ' : 'n';
	return s ? CStringGetTextDatum(s) : (Datum) 0;
}

/* execute a kept upsert plan; returns the number of rows it touched */
static uint64
run_upsert(SPIPlanPtr *plan, const char *sql, int nargs, Oid *types,
		   Datum *values, char *nulls)
{
	int			rc;
	uint64		rows;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (*plan == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*plan = p;
	}
	rc = SPI_execute_plan(*plan, values, nulls, false, 0);
	if (rc != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "run upsert failed: %s", SPI_result_code_string(rc));
	rows = SPI_processed;
	SPI_finish();
	return rows;
}

typedef struct UpsertCall
{
	const ObsRunRecord *rec;
	uint64		rows;
} UpsertCall;

static void
upsert_flow(void *arg)
{
	UpsertCall *c = arg;
	const ObsRunRecord *r = c->rec;
	Oid			types[9] = {TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	INT4OID, TEXTOID, JSONBOID, TIMESTAMPTZOID};
	Datum		v[9];
	char		n[9];

	memset(n, ' ', sizeof(n));
	v[0] = CStringGetTextDatum(r->flow_run_id);
	v[1] = CStringGetTextDatum(r->name);
	v[2] = CStringGetTextDatum(state_labels[r->state]);
	v[3] = TimestampTzGetDatum(r->start_time);
	v[4] = TimestampTzGetDatum(r->end_time);
	n[4] = r->has_end ? ' ' : 'n';
	v[5] = Int32GetDatum((int32) r->count1);
	n[5] = r->has_count1 ? ' ' : 'n';
	v[6] = nullable_text(r->error, &n[6]);
	v[7] = PointerGetDatum(r->tags);
	n[7] = r->tags ? ' ' : 'n';
	v[8] = TimestampTzGetDatum(r->updated_at);

	c->rows = run_upsert(&flow_plan,
						 "INSERT INTO obs.flow_runs AS f"
						 " (flow_run_id, flow_name, status, start_time, end_time, num_tasks, error, tags, updated_at)"
						 " VALUES ($1, $2, $3::obs.run_state, $4, $5, $6, $7, $8, $9)"
						 " ON CONFLICT (flow_run_id) DO UPDATE SET"
						 "  status = EXCLUDED.status, start_time = EXCLUDED.start_time,"
						 "  end_time = EXCLUDED.end_time,"
						 "  num_tasks = COALESCE(EXCLUDED.num_tasks, f.num_tasks),"
						 "  error = EXCLUDED.error, tags = COALESCE(EXCLUDED.tags, f.tags),"
						 "  updated_at = EXCLUDED.updated_at"
						 " WHERE f.flow_name OPERATOR(pg_catalog.=) EXCLUDED.flow_name"
						 " RETURNING 1",
						 9, types, v, n);
}

static void
upsert_task(void *arg)
{
	UpsertCall *c = arg;
	const ObsRunRecord *r = c->rec;
	Oid			types[11] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID,
	INT8OID, INT8OID, TEXTOID, JSONBOID, TIMESTAMPTZOID};
	Datum		v[11];
	char		n[11];

	memset(n, ' ', sizeof(n));
	v[0] = CStringGetTextDatum(r->task_run_id);
	v[1] = CStringGetTextDatum(r->name);
	v[2] = CStringGetTextDatum(r->flow_run_id);
	v[3] = CStringGetTextDatum(state_labels[r->state]);
	v[4] = TimestampTzGetDatum(r->start_time);
	v[5] = TimestampTzGetDatum(r->end_time);
	n[5] = r->has_end ? ' ' : 'n';
	v[6] = Int64GetDatum(r->count1);
	n[6] = r->has_count1 ? ' ' : 'n';
	v[7] = Int64GetDatum(r->count2);
	n[7] = r->has_count2 ? ' ' : 'n';
	v[8] = nullable_text(r->error, &n[8]);
	v[9] = PointerGetDatum(r->tags);
	n[9] = r->tags ? ' ' : 'n';
	v[10] = TimestampTzGetDatum(r->updated_at);

	c->rows = run_upsert(&task_plan,
						 "INSERT INTO obs.task_runs AS t"
						 " (task_run_id, task_name, flow_run_id, status, start_time, end_time,"
						 "  inputs_processed, outputs_produced, error, tags, updated_at)"
						 " VALUES ($1, $2, $3, $4::obs.run_state, $5, $6, $7, $8, $9, $10, $11)"
						 " ON CONFLICT (task_run_id) DO UPDATE SET"
						 "  status = EXCLUDED.status, start_time = EXCLUDED.start_time,"
						 "  end_time = EXCLUDED.end_time,"
						 "  inputs_processed = COALESCE(EXCLUDED.inputs_processed, t.inputs_processed),"
						 "  outputs_produced = COALESCE(EXCLUDED.outputs_produced, t.outputs_produced),"
						 "  error = EXCLUDED.error, tags = COALESCE(EXCLUDED.tags, t.tags),"
						 "  updated_at = EXCLUDED.updated_at"
						 " WHERE t.task_name OPERATOR(pg_catalog.=) EXCLUDED.task_name"
						 "   AND t.flow_run_id OPERATOR(pg_catalog.=) EXCLUDED.flow_run_id"
						 " RETURNING 1",
						 11, types, v, n);
}

/* upsert a flow run now (transactional path, or the worker) */
void
obs_store_flow_run(const ObsRunRecord *rec)
{
	UpsertCall	c = {rec, 0};

	obs_check_writable("obs.record_flow_execution()");
	obs_run_as_owner(obs_relation_oid("flow_runs"), upsert_flow, &c);
	if (c.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("flow run \"%s\" is already recorded for another flow", rec->flow_run_id),
				 errdetail("A flow run id names one run of one flow; it was given flow \"%s\".", rec->name)));
}

/* upsert a task run now (transactional path, or the worker) */
void
obs_store_task_run(const ObsRunRecord *rec)
{
	UpsertCall	c = {rec, 0};

	obs_check_writable("obs.record_task_execution()");
	obs_run_as_owner(obs_relation_oid("task_runs"), upsert_task, &c);
	if (c.rows == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task run \"%s\" is already recorded for another task or flow run", rec->task_run_id),
				 errdetail("It was given task \"%s\" of flow run \"%s\".", rec->name, rec->flow_run_id)));
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
