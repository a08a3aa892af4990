/*-------------------------------------------------------------------------
 * encode.h
 *	  Wire-format encoders of the shipping layer: OTLP/HTTP (JSON and
 *	  protobuf) for traces, logs and metrics, and CloudWatch Logs
 *	  PutLogEvents request bodies.
 *
 * The encoders take rows as a cJSON array of row objects, each exactly
 * row_to_json() of a row of the signal's table (obs._ship_batch()): obs.spans for "traces",
 * obs.logs for "logs", the obs.metrics view (ts, name, kind, tags, value,
 * series_id) for "metrics".  They only read the cJSON tree (it stays the
 * caller's), build their output in palloc'd memory and never ereport on
 * bad input: they return false (or -1) and set *why to a palloc'd message
 * fit for errmsg().  Out of memory still ereports, through palloc, never
 * from inside a cJSON call.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_SHIP_ENCODE_H
#define OBS_SHIP_ENCODE_H

#include "postgres.h"
#include "lib/stringinfo.h"

#include <cjson/cJSON.h>

/* CloudWatch Logs PutLogEvents limits */
#define OBS_CW_MAX_EVENTS		10000
#define OBS_CW_MAX_BATCH_BYTES	1048576
#define OBS_CW_EVENT_OVERHEAD	26
#define OBS_CW_MAX_EVENT_BYTES	262144	/* message bytes + 26 */
#define OBS_CW_MAX_SPAN_MS		(INT64CONST(24) * 3600 * 1000)

/*
 * One OTLP export request (ExportTraceServiceRequest, ExportLogsServiceRequest
 * or ExportMetricsServiceRequest) of rows for signal "traces", "logs" or
 * "metrics", as OTLP/HTTP JSON or protobuf.  service_name may be NULL.
 * body is an initialized StringInfo: the request is appended to it (it is
 * reset on failure); *content_type is "application/json" or
 * "application/x-protobuf".  An empty rows array gives a request with no
 * resource (JSON {"resourceSpans":[]}; protobuf: zero bytes).
 */
extern bool obs_otlp_encode(const char *signal, cJSON *rows, bool protobuf,
							const char *service_name, StringInfo body,
							const char **content_type, char **why);

/*
 * PutLogEvents request bodies for obs.logs rows, split to stay within the
 * CloudWatch limits.  Returns the number of bodies, or -1 with *why;
 * *bodies and each body are palloc'd in CurrentMemoryContext, in sending
 * order.  Unless body_of_row is NULL, *body_of_row is set to a palloc'd
 * array: for each row (in the order of rows), the body it is in.  Checks
 * log_group and log_stream against CloudWatch's name rules.
 */
extern int	obs_cloudwatch_encode(cJSON *rows, const char *log_group,
								  const char *log_stream, StringInfo **bodies,
								  int **body_of_row, char **why);

/* rows.c: reading to_jsonb() row fields, shared by the encoders */
extern bool obs_ship_parse_timestamp(const char *s, int64 *unix_us);
extern bool obs_ship_row_string(cJSON *row, int rowno, const char *field,
								bool required, const char **out, char **why);
extern bool obs_ship_row_time(cJSON *row, int rowno, const char *field,
							  int64 *unix_us, char **why);
extern bool obs_ship_row_number(cJSON *row, int rowno, const char *field,
								bool required, double *out, bool *isnull,
								char **why);
extern bool obs_ship_hex_id(const char *hex, int nbytes, uint8 *out);
extern void obs_ship_append_number(StringInfo buf, double v);
extern void obs_ship_append_json(StringInfo buf, const cJSON *item);
extern void obs_ship_append_utc(StringInfo buf, int64 unix_us);

#endif							/* OBS_SHIP_ENCODE_H */
