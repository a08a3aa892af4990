/*-------------------------------------------------------------------------
 * codec.c
 *	  The byte form of records in the shared buffer, and the worker's
 *	  dispatch from a decoded record to the signal's store function.
 *
 * A record is an ObsRecordHeader followed by its fields in a fixed order
 * per signal: fixed-size fields as raw bytes, strings as an int32 length
 * (-1 for NULL) followed by the bytes and a NUL, jsonb values as an int32
 * length, zeros up to the next multiple of 8 from the record's start, and
 * the whole varlena.  Records start 8-aligned (in the ring and where the
 * worker copies them), so a decoded string or jsonb points into the
 * record itself.  Nothing is truncated here: a
 * record is as long as its contents (obs.max_message_size still limits log
 * messages).  Encoding happens in the writer's memory before the ring lock
 * is taken; decoding happens in the worker after the bytes are copied out.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "ingest/ingest.h"

const char *const obs_signal_names[] = {
	"log", "span", "metric", "flow_run", "task_run"
};

/* ---- encoding ---- */

static void
put_raw(StringInfo b, const void *p, int n)
{
	appendBinaryStringInfoNT(b, p, n);
}

#define PUT(b, v) put_raw((b), &(v), sizeof(v))

static void
put_u8(StringInfo b, uint8 v)
{
	PUT(b, v);
}

static void
put_str(StringInfo b, const char *s)
{
	int32		len = s ? (int32) strlen(s) : -1;

	PUT(b, len);
	if (s)
		put_raw(b, s, len + 1);
}

static const char zeros[8] = {0};

static void
put_jsonb(StringInfo b, const Jsonb *jb)
{
	int32		len = jb ? (int32) VARSIZE(jb) : -1;

	PUT(b, len);
	if (jb)
	{
		if (b->len % 8 != 0)
			put_raw(b, zeros, 8 - b->len % 8);
		put_raw(b, jb, len);
	}
}

/* a buffer with room for the header, which put_finish fills in */
static void
put_begin(StringInfo b, ObsSignal sig)
{
	ObsRecordHeader h;

	initStringInfo(b);
	memset(&h, 0, sizeof(h));
	h.signal = obs_debug_corrupt_records ? 0xFF : (uint8) sig;
	h.version = OBS_RECORD_VERSION;
	h.pid = MyProcPid;
	h.dbid = MyDatabaseId;
	PUT(b, h);
}

static void
put_finish(StringInfo b)
{
	uint32		len;

	if (b->len % 8 != 0)
		put_raw(b, zeros, 8 - b->len % 8);
	len = b->len;
	memcpy(b->data + offsetof(ObsRecordHeader, len), &len, sizeof(len));
}

/* route_key: records with the same key go through the same flusher, in order */
static bool
enqueue(ObsSignal sig, StringInfo b, bool in_abort, const char *route_key)
{
	bool		ok;

	put_finish(b);
	ok = obs_buffer_put(sig, b, in_abort, route_key);
	pfree(b->data);
	return ok;
}

bool
obs_enqueue_log(const ObsLogRecord *r)
{
	StringInfoData b;
	uint8		level = (uint8) r->level;

	put_begin(&b, OBS_SIGNAL_LOG);
	PUT(&b, r->ts);
	PUT(&b, level);
	PUT(&b, r->log_id);
	put_u8(&b, r->has_ctx);
	PUT(&b, r->trace_id);
	PUT(&b, r->span_id);
	PUT(&b, r->backend_pid);
	put_str(&b, r->logger);
	put_str(&b, r->message);
	put_jsonb(&b, r->context);
	put_jsonb(&b, r->tags);
	put_jsonb(&b, r->error);
	return enqueue(OBS_SIGNAL_LOG, &b, false, NULL);
}

bool
obs_enqueue_span(const ObsSpanRecord *r, bool in_abort)
{
	StringInfoData b;

	put_begin(&b, OBS_SIGNAL_SPAN);
	PUT(&b, r->trace_id);
	PUT(&b, r->span_id);
	PUT(&b, r->parent_id);
	put_u8(&b, r->has_parent);
	PUT(&b, r->start_time);
	PUT(&b, r->end_time);
	put_str(&b, r->operation);
	put_str(&b, r->service_type);
	put_str(&b, r->service_name);
	put_str(&b, r->status);
	put_str(&b, r->error);
	put_jsonb(&b, r->tags);
	return enqueue(OBS_SIGNAL_SPAN, &b, in_abort, NULL);
}

bool
obs_enqueue_metric(const ObsMetricRecord *r, bool in_abort)
{
	StringInfoData b;
	int32		kind = r->kind;

	put_begin(&b, OBS_SIGNAL_METRIC);
	put_str(&b, r->name);
	PUT(&b, kind);
	PUT(&b, r->value);
	put_jsonb(&b, r->tags);
	PUT(&b, r->ts);
	return enqueue(OBS_SIGNAL_METRIC, &b, in_abort, NULL);
}

bool
obs_enqueue_run(ObsSignal sig, const ObsRunRecord *r)
{
	StringInfoData b;
	int32		state = r->state;

	put_begin(&b, sig);
	put_str(&b, r->name);
	put_str(&b, r->flow_run_id);
	put_str(&b, r->task_run_id);
	PUT(&b, state);
	PUT(&b, r->start_time);
	PUT(&b, r->end_time);
	put_u8(&b, r->has_end);
	PUT(&b, r->count1);
	put_u8(&b, r->has_count1);
	PUT(&b, r->count2);
	put_u8(&b, r->has_count2);
	put_str(&b, r->error);
	put_jsonb(&b, r->tags);
	PUT(&b, r->updated_at);
	/* a run's records, and its tasks', keep their order whoever writes them */
	return enqueue(sig, &b, false, r->flow_run_id ? r->flow_run_id : r->task_run_id);
}

/* ---- decoding ---- */

typedef struct Cursor
{
	const char *start;			/* the record, 8-aligned */
	const char *p;
	const char *end;
} Cursor;

static void
get_raw(Cursor *c, void *dst, int n)
{
	if (c->end - c->p < n)
		elog(ERROR, "obs buffer record is truncated");
	memcpy(dst, c->p, n);
	c->p += n;
}

#define GET(c, v) get_raw((c), &(v), sizeof(v))

static bool
get_bool(Cursor *c)
{
	uint8		v;

	GET(c, v);
	return v != 0;
}

/* a string in place (the record buffer outlives the decoded record) */
static const char *
get_str(Cursor *c)
{
	int32		len;
	const char *s;

	GET(c, len);
	if (len < 0)
		return NULL;
	if (c->end - c->p < len + 1 || c->p[len] != '\0')
		elog(ERROR, "obs buffer record has a malformed string");
	s = c->p;
	c->p += len + 1;
	return s;
}

/* a jsonb value in place, at the next multiple of 8 */
static Jsonb *
get_jsonb(Cursor *c)
{
	int32		len;
	Jsonb	   *jb;
	int			pad;

	GET(c, len);
	if (len < 0)
		return NULL;
	pad = (c->p - c->start) % 8 != 0 ? 8 - (c->p - c->start) % 8 : 0;
	if (len < VARHDRSZ || c->end - c->p < pad || c->end - c->p - pad < len)
		elog(ERROR, "obs buffer record has a malformed jsonb value");
	jb = (Jsonb *) (c->p + pad);
	if (VARSIZE(jb) != (uint32) len)
		elog(ERROR, "obs buffer record has a malformed jsonb value");
	c->p += pad + len;
	return jb;
}

/*
 * decode the record at data (its header's len bytes, 8-aligned); the
 * strings and jsonb values of out point into data
 */
void
obs_decode_record(const char *data, ObsDecoded *out)
{
	Cursor		c;

	if ((uintptr_t) data % 8 != 0)
		elog(ERROR, "obs buffer record is not aligned");

	memset(out, 0, sizeof(*out));
	memcpy(&out->hdr, data, sizeof(ObsRecordHeader));
	if (out->hdr.version != OBS_RECORD_VERSION || out->hdr.signal >= OBS_NUM_SIGNALS ||
		out->hdr.len < sizeof(ObsRecordHeader))
		elog(ERROR, "obs buffer record has an unknown format");
	c.start = data;
	c.p = data + sizeof(ObsRecordHeader);
	c.end = data + out->hdr.len;

	switch ((ObsSignal) out->hdr.signal)
	{
		case OBS_SIGNAL_LOG:
			{
				ObsLogRecord *r = &out->log;
				uint8		level;

				GET(&c, r->ts);
				GET(&c, level);
				if (level > OBS_LEVEL_CRITICAL)
					elog(ERROR, "obs buffer record has an unknown log level");
				r->level = (ObsLogLevel) level;
				GET(&c, r->log_id);
				r->has_ctx = get_bool(&c);
				GET(&c, r->trace_id);
				GET(&c, r->span_id);
				GET(&c, r->backend_pid);
				r->logger = (char *) get_str(&c);
				r->message = (char *) get_str(&c);
				r->context = get_jsonb(&c);
				r->tags = get_jsonb(&c);
				r->error = get_jsonb(&c);
				if (r->logger == NULL || r->message == NULL)
					elog(ERROR, "obs buffer log record lacks its logger or message");
				break;
			}
		case OBS_SIGNAL_SPAN:
			{
				ObsSpanRecord *r = &out->span;

				GET(&c, r->trace_id);
				GET(&c, r->span_id);
				GET(&c, r->parent_id);
				r->has_parent = get_bool(&c);
				GET(&c, r->start_time);
				GET(&c, r->end_time);
				r->operation = get_str(&c);
				r->service_type = get_str(&c);
				r->service_name = get_str(&c);
				r->status = get_str(&c);
				r->error = get_str(&c);
				r->tags = get_jsonb(&c);
				if (!r->operation || !r->service_type || !r->service_name || !r->status)
					elog(ERROR, "obs buffer span record lacks a required field");
				break;
			}
		case OBS_SIGNAL_METRIC:
			{
				ObsMetricRecord *r = &out->metric;
				int32		kind;

				r->name = get_str(&c);
				GET(&c, kind);
				r->kind = kind;
				GET(&c, r->value);
				r->tags = get_jsonb(&c);
				GET(&c, r->ts);
				if (r->name == NULL || r->tags == NULL)
					elog(ERROR, "obs buffer metric record lacks its name or tags");
				break;
			}
		case OBS_SIGNAL_FLOW_RUN:
		case OBS_SIGNAL_TASK_RUN:
			{
				ObsRunRecord *r = &out->run;
				int32		state;

				r->name = get_str(&c);
				r->flow_run_id = get_str(&c);
				r->task_run_id = get_str(&c);
				GET(&c, state);
				r->state = state;
				GET(&c, r->start_time);
				GET(&c, r->end_time);
				r->has_end = get_bool(&c);
				GET(&c, r->count1);
				r->has_count1 = get_bool(&c);
				GET(&c, r->count2);
				r->has_count2 = get_bool(&c);
				r->error = get_str(&c);
				r->tags = get_jsonb(&c);
				GET(&c, r->updated_at);
				if (r->name == NULL || r->flow_run_id == NULL)
					elog(ERROR, "obs buffer run record lacks its name or run id");
				break;
			}
		default:
			elog(ERROR, "obs buffer record has unknown signal %d", out->hdr.signal);
	}
}

/* store a decoded record with its signal's store function */
void
obs_store_decoded(const ObsDecoded *r, ObsBatch *batch)
{
	switch ((ObsSignal) r->hdr.signal)
	{
		case OBS_SIGNAL_LOG:
			(void) obs_store_log(&r->log, batch);
			break;
		case OBS_SIGNAL_SPAN:
			obs_store_span(&r->span, batch);
			break;
		case OBS_SIGNAL_METRIC:
			obs_store_metric(&r->metric, batch);
			break;
		case OBS_SIGNAL_FLOW_RUN:
			obs_store_flow_run(&r->run);
			break;
		case OBS_SIGNAL_TASK_RUN:
			obs_store_task_run(&r->run);
			break;
		default:
			elog(ERROR, "obs buffer record has unknown signal %d", r->hdr.signal);
	}
}

/* ---- JSON rendering, for obs.dead_letters ---- */

static void
json_key(StringInfo b, const char *key)
{
	if (b->data[b->len - 1] != '{')
		appendStringInfoChar(b, ',');
	escape_json(b, key);
	appendStringInfoChar(b, ':');
}

static void
json_str(StringInfo b, const char *key, const char *v)
{
	json_key(b, key);
	if (v)
		escape_json(b, v);
	else
		appendStringInfoString(b, "null");
}

static void
json_ts(StringInfo b, const char *key, TimestampTz ts)
{
	json_str(b, key, timestamptz_to_str(ts));
}

static void
json_jsonb(StringInfo b, const char *key, Jsonb *jb)
{
	json_key(b, key);
	if (jb)
		appendStringInfoString(b, JsonbToCString(NULL, &jb->root, VARSIZE(jb)));
	else
		appendStringInfoString(b, "null");
}

static void
json_hex(StringInfo b, const char *key, const uint8 *bytes, int n, bool present)
{
	char		hex[2 * OBS_TRACE_ID_LEN + 1];

	obs_hex_encode(bytes, n, hex);
	hex[2 * n] = '\0';
	json_str(b, key, present ? hex : NULL);
}

static void
json_int(StringInfo b, const char *key, int64 v, bool present)
{
	json_key(b, key);
	if (present)
		appendStringInfo(b, INT64_FORMAT, v);
	else
		appendStringInfoString(b, "null");
}

/* the record as a JSON object with the names of the SQL arguments */
Jsonb *
obs_record_jsonb(const ObsDecoded *r)
{
	static const char *const levels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};
	StringInfoData b;

	initStringInfo(&b);
	appendStringInfoChar(&b, '{');
	switch ((ObsSignal) r->hdr.signal)
	{
		case OBS_SIGNAL_LOG:
			json_int(&b, "log_id", r->log.log_id, true);
			json_ts(&b, "ts", r->log.ts);
			json_str(&b, "level", levels[r->log.level]);
			json_str(&b, "logger", r->log.logger);
			json_str(&b, "message", r->log.message);
			json_jsonb(&b, "context", r->log.context);
			json_jsonb(&b, "tags", r->log.tags);
			json_hex(&b, "trace_id", r->log.trace_id.bytes, OBS_TRACE_ID_LEN, r->log.has_ctx);
			json_hex(&b, "span_id", r->log.span_id.bytes, OBS_SPAN_ID_LEN, r->log.has_ctx);
			json_jsonb(&b, "error", r->log.error);
			break;
		case OBS_SIGNAL_SPAN:
			json_hex(&b, "trace_id", r->span.trace_id.bytes, OBS_TRACE_ID_LEN, true);
			json_hex(&b, "span_id", r->span.span_id.bytes, OBS_SPAN_ID_LEN, true);
			json_hex(&b, "parent_span_id", r->span.parent_id.bytes, OBS_SPAN_ID_LEN, r->span.has_parent);
			json_str(&b, "operation", r->span.operation);
			json_str(&b, "service_type", r->span.service_type);
			json_str(&b, "service_name", r->span.service_name);
			json_ts(&b, "start_time", r->span.start_time);
			json_ts(&b, "end_time", r->span.end_time);
			json_str(&b, "status", r->span.status);
			json_str(&b, "error", r->span.error);
			json_jsonb(&b, "tags", r->span.tags);
			break;
		case OBS_SIGNAL_METRIC:
			json_str(&b, "name", r->metric.name);
			json_str(&b, "kind", r->metric.kind == 1 ? "counter" : "gauge");
			json_key(&b, "value");
			appendStringInfoString(&b, float8out_internal(r->metric.value));
			json_jsonb(&b, "tags", r->metric.tags);
			json_ts(&b, "ts", r->metric.ts);
			break;
		case OBS_SIGNAL_FLOW_RUN:
		case OBS_SIGNAL_TASK_RUN:
			{
				bool		flow = r->hdr.signal == OBS_SIGNAL_FLOW_RUN;

				json_str(&b, flow ? "flow_name" : "task_name", r->run.name);
				json_str(&b, "flow_run_id", r->run.flow_run_id);
				if (!flow)
					json_str(&b, "task_run_id", r->run.task_run_id);
				json_str(&b, "status", obs_run_state_label(r->run.state));
				json_ts(&b, "start_time", r->run.start_time);
				if (r->run.has_end)
					json_ts(&b, "end_time", r->run.end_time);
				else
					json_str(&b, "end_time", NULL);
				json_int(&b, flow ? "num_tasks" : "inputs_processed", r->run.count1, r->run.has_count1);
				if (!flow)
					json_int(&b, "outputs_produced", r->run.count2, r->run.has_count2);
				json_str(&b, "error", r->run.error);
				json_jsonb(&b, "tags", r->run.tags);
				break;
			}
		default:
			break;
	}
	json_int(&b, "backend_pid", r->hdr.pid, true);
	appendStringInfoChar(&b, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(b.data)));
}
