/*-------------------------------------------------------------------------
 * runs.c
 *	  Upserting pipeline runs into obs.flow_runs and obs.task_runs.
 *
 * A run is recorded once per state change and the latest call wins.  The
 * upsert goes through SPI with a kept plan, run as the table owner
 * (writing is governed by EXECUTE on obs's functions), so it fires what an
 * INSERT ... ON CONFLICT fires (see src/README.md).  On an update,
 * num_tasks, inputs/outputs and tags keep their stored value when the new
 * call passes NULL; every other column takes the new call's value.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "store/store.h"

/* Prefect state types, spelt as the labels of obs.run_state */
const char *const obs_run_state_labels[OBS_NUM_RUN_STATES] = {
	"Scheduled", "Pending", "Running", "Paused", "Cancelling",
	"Completed", "Failed", "Crashed", "Cancelled"
};

/* label of a run state, for messages and dead letters */
const char *
obs_run_state_label(int state)
{
	return state >= 0 && state < OBS_NUM_RUN_STATES ? obs_run_state_labels[state] : "?";
}

static SPIPlanPtr flow_plan = NULL;
static SPIPlanPtr task_plan = NULL;

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
	v[2] = CStringGetTextDatum(obs_run_state_labels[r->state]);
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
	v[3] = CStringGetTextDatum(obs_run_state_labels[r->state]);
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
