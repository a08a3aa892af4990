/*-------------------------------------------------------------------------
 * logs.c
 *	  Writing log records into obs.logs.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"
#include "utils/rel.h"

#include "store/store.h"

/* labels of obs.log_level, in ObsLogLevel order */
const char *const obs_log_level_labels[OBS_NUM_LOG_LEVELS] = {
	"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"
};

#define NUM_LOG_COLUMNS 12

static const ObsColumn log_columns[NUM_LOG_COLUMNS] = {
	{"log_id", INT8OID}, {"ts", TIMESTAMPTZOID}, {"level", InvalidOid, "log_level"},
	{"logger", TEXTOID}, {"message", TEXTOID}, {"context", JSONBOID}, {"tags", JSONBOID},
	{"trace_id", InvalidOid, "trace_id"}, {"span_id", InvalidOid, "span_id"},
	{"error", JSONBOID}, {"backend_pid", INT4OID}, {"txid", XID8OID, NULL, true}
};
static ObsTable logs_table = {"logs", "log_id", log_columns, NUM_LOG_COLUMNS};

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
	level_type = logs_table.typids[2];
	id = rec->log_id != 0 ? rec->log_id : obs_table_nextval(&logs_table);

	memset(nulls, false, sizeof(nulls));
	values[0] = Int64GetDatum(id);
	values[1] = TimestampTzGetDatum(rec->ts);
	values[2] = obs_enum_datum(level_type, obs_log_level_labels[rec->level]);
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
	values[11] = obs_row_txid();

	obs_row_write(rel, batch, values, nulls);
	return id;
}

/* a new log_id, taken before the record is buffered so the caller learns it */
int64
obs_log_next_id(void)
{
	obs_table_resolve(&logs_table);
	return obs_table_nextval(&logs_table);
}
