/*-------------------------------------------------------------------------
 * obs.h
 *	  Private declarations shared by obs's C modules.
 *
 * Externs are grouped by the file that defines them.  Every non-static
 * symbol is prefixed obs_.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_H
#define OBS_H

#include "postgres.h"
#include "fmgr.h"
#include "utils/jsonb.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

#define OBS_TRACE_ID_LEN 16
#define OBS_SPAN_ID_LEN 8

typedef struct ObsTraceId
{
	uint8		bytes[OBS_TRACE_ID_LEN];
} ObsTraceId;

typedef struct ObsSpanId
{
	uint8		bytes[OBS_SPAN_ID_LEN];
} ObsSpanId;

/* log levels, in the order of the obs.log_level enum */
typedef enum ObsLogLevel
{
	OBS_LEVEL_DEBUG = 0,
	OBS_LEVEL_INFO,
	OBS_LEVEL_WARNING,
	OBS_LEVEL_ERROR,
	OBS_LEVEL_CRITICAL
} ObsLogLevel;

/* guc.c */
extern int	obs_log_min_level;
extern int	obs_max_message_size;
extern int	obs_max_open_spans;
extern char *obs_service_name;
extern char *obs_traceparent_setting;
extern void obs_guc_init(void);

/* ids.c */
extern bool obs_hex_decode(const char *hex, int hexlen, uint8 *out, int outlen);
extern void obs_hex_encode(const uint8 *in, int inlen, char *out);
extern void obs_random_trace_id(ObsTraceId *id);
extern void obs_random_span_id(ObsSpanId *id);
extern void obs_fast_trace_id(ObsTraceId *id);
extern void obs_fast_span_id(ObsSpanId *id);
extern bool obs_trace_id_is_zero(const ObsTraceId *id);
extern bool obs_span_id_is_zero(const ObsSpanId *id);

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

/* util.c */
#define OBS_MAX_COLUMNS 16

/* a column obs writes: a built-in type by oid, or one of obs's by name */
typedef struct ObsColumn
{
	const char *name;
	Oid			typid;
	const char *obs_type;
} ObsColumn;

typedef struct ObsTable
{
	const char *relname;		/* table in schema obs */
	const char *seq_column;		/* identity column, or NULL */
	const ObsColumn *columns;	/* every column, in order */
	int			ncolumns;
	Oid			relid;			/* cached */
	Oid			seqid;			/* cached */
	Oid			typids[OBS_MAX_COLUMNS];	/* cached */
} ObsTable;
extern Relation obs_open_table(ObsTable *t);
extern Oid	obs_table_resolve(ObsTable *t);
extern int64 obs_table_nextval(ObsTable *t);
extern void obs_run_as_owner(Oid relid, void (*fn) (void *), void *arg);
extern Jsonb *obs_jsonb_from_pairs(const char *const *keys, char *const *values, int n);
extern Oid	obs_schema_oid(void);
extern Oid	obs_relation_oid(const char *relname);
extern Oid	obs_type_oid(const char *typname);
extern Datum obs_enum_datum(Oid enumtypid, const char *label);
extern void obs_check_writable(const char *what);
extern Jsonb *obs_check_object(Jsonb *jb, const char *argname);
extern void obs_check_timestamp(TimestampTz ts, const char *argname);
extern void obs_insert_row(Relation rel, Datum *values, bool *nulls);
typedef struct ObsBatch ObsBatch;	/* multi-insert of many rows, see util.c */
extern ObsBatch *obs_batch_begin(void);
extern Relation obs_batch_open(ObsBatch *b, ObsTable *t);
extern void obs_batch_add(ObsBatch *b, Relation rel, Datum *values, bool *nulls);
extern void obs_batch_end(ObsBatch *b);
extern Relation obs_row_target(ObsTable *t, ObsBatch *batch);
extern void obs_row_write(Relation rel, ObsBatch *batch, Datum *values, bool *nulls);
extern char *obs_default_logger(void);
extern void obs_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern int	obs_parse_choice(const char *input, const char *const *choices, int nchoices);

/* logs.c */
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
extern int64 obs_emit_log(ObsLogRecord *rec);
extern int64 obs_store_log(const ObsLogRecord *rec, ObsBatch *batch);

/* metrics.c */
typedef struct ObsMetricRecord
{
	const char *name;
	int			kind;			/* 0 gauge, 1 counter */
	double		value;
	Jsonb	   *tags;			/* never NULL: {} when absent */
	TimestampTz ts;
} ObsMetricRecord;
extern void obs_emit_metric(const ObsMetricRecord *rec);
extern void obs_store_metric(const ObsMetricRecord *rec, ObsBatch *batch);

/* runs.c */
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
extern void obs_emit_flow_run(const ObsRunRecord *rec);
extern void obs_emit_task_run(const ObsRunRecord *rec);
extern void obs_store_flow_run(const ObsRunRecord *rec);
extern void obs_store_task_run(const ObsRunRecord *rec);

/* spans.c */
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
extern bool obs_current_context(ObsTraceId *trace, ObsSpanId *span);
extern bool obs_current_context_flags(ObsTraceId *trace, ObsSpanId *span, uint8 *flags);
extern bool obs_emit_span(const ObsSpanRecord *rec);
extern void obs_store_span(const ObsSpanRecord *rec, ObsBatch *batch);

/* parquet/copy.c */
extern void obs_parquet_init(void);

#endif							/* OBS_H */
