/*-------------------------------------------------------------------------
 * spans.c
 *	  Writing finished spans into obs.spans.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "utils/builtins.h"

#include "store/store.h"

#define NUM_SPAN_COLUMNS 14

static const ObsColumn span_columns[NUM_SPAN_COLUMNS] = {
	{"trace_id", InvalidOid, "trace_id"}, {"span_id", InvalidOid, "span_id"},
	{"parent_span_id", InvalidOid, "span_id"}, {"operation", TEXTOID},
	{"service_type", InvalidOid, "service_type"}, {"service_name", TEXTOID},
	{"start_time", TIMESTAMPTZOID}, {"end_time", TIMESTAMPTZOID}, {"duration_us", INT8OID},
	{"status", InvalidOid, "span_status"}, {"error", TEXTOID}, {"tags", JSONBOID},
	{"span_seq", INT8OID}, {"txid", XID8OID, NULL, true}
};
static ObsTable spans_table = {"spans", "span_seq", span_columns, NUM_SPAN_COLUMNS};

/* store one finished span now (transactional path, or the worker's batch) */
void
obs_store_span(const ObsSpanRecord *rec, ObsBatch *batch)
{
	Relation	rel;
	Datum		values[NUM_SPAN_COLUMNS];
	bool		nulls[NUM_SPAN_COLUMNS];

	obs_check_writable("obs.finish_span()");
	rel = obs_row_target(&spans_table, batch);
	
	memset(nulls, false, sizeof(nulls));
	values[0] = PointerGetDatum(&rec->trace_id);
	values[1] = PointerGetDatum(&rec->span_id);
	values[2] = PointerGetDatum(&rec->parent_id);
	nulls[2] = !rec->has_parent;
	values[3] = CStringGetTextDatum(rec->operation);
	values[4] = obs_enum_datum(spans_table.typids[4], rec->service_type);
	values[5] = CStringGetTextDatum(rec->service_name);
	values[6] = TimestampTzGetDatum(rec->start_time);
	values[7] = TimestampTzGetDatum(rec->end_time);
	values[8] = Int64GetDatum(rec->end_time - rec->start_time);
	values[9] = obs_enum_datum(spans_table.typids[9], rec->status);
	values[10] = rec->error ? CStringGetTextDatum(rec->error) : (Datum) 0;
	nulls[10] = rec->error == NULL;
	values[11] = PointerGetDatum(rec->tags);
	nulls[11] = rec->tags == NULL;
	values[12] = Int64GetDatum(obs_table_nextval(&spans_table));
	values[13] = obs_row_txid();

	obs_row_write(rel, batch, values, nulls);
}
