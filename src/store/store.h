/*-------------------------------------------------------------------------
 * store.h
 *	  The store layer: the one table writer under every signal.
 *
 * A record (ObsLogRecord, ...) is the in-memory form of one row; the
 * store functions write it in the current transaction, either now (the
 * transactional path) or queued in a batch (the flusher).  obs's tables
 * and types are found by membership in extension obs (catalog.c).  The
 * store knows nothing of buffering or of SQL entry points.
 *
 * Two write mechanisms, on purpose (see src/README.md):
 *	- logs, spans, metric points and dead letters: a direct heap insert
 *	  (insert.c): constraints and indexes, no triggers, rules or RLS;
 *	- runs (an upsert) and metric series (insert-or-get): SPI, as the
 *	  table owner (owner.c): everything an INSERT fires.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_STORE_H
#define OBS_STORE_H

#include "core/core.h"

/* records: one row each */
typedef struct ObsLogRecord
{
	TimestampTz ts;
	ObsLogLevel level;
	char	   *logger;
	char	   *message;
	Jsonb	   *context;		/* NULL when absent */
	Jsonb	   *tags;			/* NULL when absent */
	Jsonb	   *error;			/* NULL when absent */
	int64		log_id;			/* 0: assigned when stored */
	bool		has_ctx;		/* trace_id and span_id are set */
	ObsTraceId	trace_id;
	ObsSpanId	span_id;
	int32		backend_pid;
} ObsLogRecord;

typedef struct ObsSpanRecord
{
	ObsTraceId	trace_id;
	ObsSpanId	span_id;
	ObsSpanId	parent_id;
	bool		has_parent;
	const char *operation;
	const char *service_type;	/* label of obs.service_type */
	const char *service_name;
	TimestampTz start_time;
	TimestampTz end_time;
	const char *status;			/* label of obs.span_status */
	const char *error;			/* NULL when absent */
	Jsonb	   *tags;			/* NULL when absent */
} ObsSpanRecord;

typedef struct ObsMetricRecord
{
	const char *name;
	int			kind;			/* 0 gauge, 1 counter */
	double		value;
	Jsonb	   *tags;			/* never NULL: {} when absent */
	TimestampTz ts;
} ObsMetricRecord;

typedef struct ObsRunRecord
{
	const char *name;			/* flow_name or task_name */
	const char *flow_run_id;
	const char *task_run_id;	/* tasks only */
	int			state;			/* index into obs.run_state labels */
	TimestampTz start_time;
	TimestampTz end_time;
	bool		has_end;
	int64		count1;			/* num_tasks, or inputs_processed */
	bool		has_count1;
	int64		count2;			/* outputs_produced */
	bool		has_count2;
	const char *error;			/* NULL when absent */
	Jsonb	   *tags;			/* NULL when absent */
	TimestampTz updated_at;
} ObsRunRecord;

/* catalog.c: extension membership and table descriptors */
#define OBS_MAX_COLUMNS 16

/*
 * A column obs writes: a built-in type by oid, or one of obs's by name.
 * optional: a trailing column that a table of an older install (before
 * ALTER EXTENSION obs UPDATE) lacks; its value is then not written.
 */
typedef struct ObsColumn
{
	const char *name;
	Oid			typid;
	const char *obs_type;
	bool		optional;
} ObsColumn;

typedef struct ObsTable
{
	const char *relname;		/* table of extension obs */
	const char *seq_column;		/* identity column, or NULL */
	const ObsColumn *columns;	/* every column, in order */
	int			ncolumns;
	Oid			relid;			/* cached */
	Oid			seqid;			/* cached */
	Oid			typids[OBS_MAX_COLUMNS];	/* cached, by column */
	uint32		generation;		/* extension cache these were checked under */
} ObsTable;
extern void obs_store_init(void);
extern bool obs_extension_installed(void);
extern Oid	obs_schema_oid(void);
extern Oid	obs_relation_oid(const char *relname);
extern Oid	obs_type_oid(const char *typname);
extern Datum obs_enum_datum(Oid enumtypid, const char *label);
extern void obs_check_writable(const char *what);
extern Oid	obs_table_resolve(ObsTable *t);
extern Relation obs_open_table(ObsTable *t);
extern int64 obs_table_nextval(ObsTable *t);

/* insert.c: direct single and batch insert, values by column of ObsTable */
extern void obs_insert_row(Relation rel, Datum *values, bool *nulls);
typedef struct ObsBatch ObsBatch;	/* multi-insert of many rows */
extern ObsBatch *obs_batch_begin(void);
extern Relation obs_batch_open(ObsBatch *b, ObsTable *t);
extern void obs_batch_add(ObsBatch *b, Relation rel, Datum *values, bool *nulls);
extern void obs_batch_end(ObsBatch *b);
extern Relation obs_row_target(ObsTable *t, ObsBatch *batch);
extern void obs_row_write(Relation rel, ObsBatch *batch, Datum *values, bool *nulls);
extern Datum obs_row_txid(void);

/* owner.c */
extern void obs_run_as_owner(Oid relid, void (*fn) (void *), void *arg);

/* logs.c, spans.c, metrics.c, runs.c: one record now, or into batch */
#define OBS_NUM_LOG_LEVELS 5
#define OBS_NUM_METRIC_KINDS 2
#define OBS_NUM_RUN_STATES 9
extern const char *const obs_log_level_labels[OBS_NUM_LOG_LEVELS];
extern const char *const obs_metric_kind_labels[OBS_NUM_METRIC_KINDS];
extern const char *const obs_run_state_labels[OBS_NUM_RUN_STATES];
extern int64 obs_store_log(const ObsLogRecord *rec, ObsBatch *batch);
extern int64 obs_log_next_id(void);
extern void obs_log_sequence(Oid *seqid, Oid *filenode);
extern void obs_log_sequence_state(Oid seqid, uint64 *lsn, int64 *last_value);
extern bool obs_log_reserve_ids(int64 count, Oid *seqid, Oid *filenode, int64 *first,
								uint64 *before_lsn, int64 *before_last,
								uint64 *lsn, int64 *last_value);
extern void obs_store_span(const ObsSpanRecord *rec, ObsBatch *batch);
extern void obs_store_metric(const ObsMetricRecord *rec, ObsBatch *batch);
extern void obs_store_flow_run(const ObsRunRecord *rec);
extern void obs_store_task_run(const ObsRunRecord *rec);
extern const char *obs_run_state_label(int state);

#endif							/* OBS_STORE_H */
