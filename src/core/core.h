/*-------------------------------------------------------------------------
 * core.h
 *	  The bottom layer of obs: types every layer shares, every obs.*
 *	  setting, and small helpers with no knowledge of obs's tables.
 *
 * Every other obs header includes this one; this one includes only
 * PostgreSQL headers.  The settings' variables are defined in
 * core/settings.c and registered in src/guc.c.  See
 * src/README.md for the layers.  Every non-static symbol is prefixed obs_.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_CORE_H
#define OBS_CORE_H

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

/* obs.write_path and obs.buffer_full_action values */
#define OBS_WRITE_BUFFERED 0
#define OBS_WRITE_TRANSACTIONAL 1
#define OBS_FULL_WAIT 0
#define OBS_FULL_DROP 1

/* core/settings.c: every obs.* setting (registered by src/guc.c) */
extern int	obs_log_min_level;
extern int	obs_max_message_size;
extern int	obs_max_open_spans;
extern char *obs_service_name;
extern char *obs_traceparent_setting;
extern bool obs_preloaded;
extern int	obs_write_path;
extern int	obs_max_databases;
extern int	obs_buffer_size;
extern int	obs_flushers_per_database;
extern int	obs_buffer_full_action;
extern int	obs_buffer_full_timeout;
extern int	obs_flush_interval;
extern int	obs_batch_size;
extern int	obs_shutdown_timeout;
extern double obs_trace_sample_rate;
extern double obs_log_sample_rate;
extern double obs_metric_sample_rate;
extern char *obs_instrument_functions;
extern char *obs_instrument_metric_prefix;
extern int	obs_instrument_metric_interval;
extern bool obs_debug_corrupt_records;
extern bool obs_debug_store_error;
extern void obs_guc_init(void);

/* core/args.c: argument checks shared by the SQL entry points */
extern void obs_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname);
extern Jsonb *obs_check_object(Jsonb *jb, const char *argname);
extern void obs_check_timestamp(TimestampTz ts, const char *argname);
extern void obs_check_duration(TimestampTz start_time, TimestampTz end_time);
extern int	obs_parse_choice(const char *input, const char *const *choices, int nchoices);
extern char *obs_default_logger(void);

/* core/jsonb.c */
extern Jsonb *obs_jsonb_from_pairs(const char *const *keys, char *const *values, int n);
extern void obs_jsonb_to_text(StringInfo out, JsonbContainer *jc);

/* core/files.c: body written to tmp (opened with O_CREAT | open_flags), fsynced, renamed to path */
extern void obs_write_file_durably(const char *tmp, const char *path, const char *body, size_t len,
								   int open_flags);

#endif							/* OBS_CORE_H */
