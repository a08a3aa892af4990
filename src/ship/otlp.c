/*-------------------------------------------------------------------------
 * otlp.c
 *	  OTLP/HTTP export requests for obs's spans, logs and metric points, in
 *	  the JSON and in the protobuf encoding.
 *
 * One writer produces both encodings from the same calls, so that the two
 * cannot drift apart: each call names a field by its protobuf number and
 * its JSON name.  In protobuf a nested message is written into its own
 * buffer and copied into its parent with its length when it closes; in
 * JSON it is written in place.  The JSON follows the OTLP/HTTP mapping of
 * proto3: lowerCamelCase names, trace and span ids as lowercase hex (not
 * base64), 64-bit integers and the fixed64 nanosecond times as decimal
 * strings, enums as integers.
 *
 * The mapping (README.md, "OTLP mapping", has the tables):
 * - traces: one ResourceSpans per service_name (resource attribute
 *   service.name), one ScopeSpans with scope "obs", kind INTERNAL, status
 *   ok = 1 / error = 2 with the error text as message, attributes from the
 *   tags plus service.type.
 * - logs: the service name given, else obs.service_name, else the logger
 *   (one resource per logger); severity DEBUG 5, INFO 9, WARNING 13,
 *   ERROR 17, CRITICAL 21; the message as a string body; attributes from
 *   the tags plus logger, context, error, obs.log_id and obs.backend_pid.
 * - metrics: gauges, and counters as monotonic DELTA sums (each obs
 *   counter point is one increment, at one instant: startTimeUnixNano =
 *   timeUnixNano), one Metric per name and kind, asDouble values.
 *
 * A tag whose key is one of the attributes obs sets itself is left out, so
 * keys stay unique as OTLP requires.  JSON numbers become intValue when
 * they are integral and within +/-2^53 (exact in a double), else
 * doubleValue.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "utils/guc.h"
#include "utils/json.h"

#include "core/core.h"
#include "encode.h"

#define OTLP_SCOPE_NAME "obs"

/* an open message (or, in JSON, an open array of repeated fields) */
typedef struct OtlpFrame
{
	bool		array;			/* a repeated field: elements follow */
	bool		first;			/* JSON: nothing written in it yet */
	int			field;			/* protobuf field number of the message */
	StringInfo	buf;			/* protobuf: where its bytes go */
} OtlpFrame;

typedef struct OtlpWriter
{
	bool		pb;
	StringInfo	out;
	OtlpFrame  *frames;
	int			depth;			/* frames[depth - 1] is the innermost */
	int			cap;
} OtlpWriter;

/* ---- the writer ---- */

static void
pb_varint(StringInfo buf, uint64 v)
{
	while (v >= 0x80)
	{
		appendStringInfoChar(buf, (char) ((v & 0x7F) | 0x80));
		v >>= 7;
	}
	appendStringInfoChar(buf, (char) v);
}

static void
pb_fixed64(StringInfo buf, uint64 v)
{
	char		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (char) ((v >> (8 * i)) & 0xFF);
	appendBinaryStringInfo(buf, b, 8);
}

static OtlpFrame *
w_top(OtlpWriter *w)
{
	return &w->frames[w->depth - 1];
}

static void
w_push(OtlpWriter *w, bool array, int field, StringInfo buf)
{
	OtlpFrame  *f;

	if (w->depth == w->cap)
	{
		w->cap *= 2;
		w->frames = repalloc(w->frames, sizeof(OtlpFrame) * w->cap);
	}
	f = &w->frames[w->depth++];
	f->array = array;
	f->first = true;
	f->field = field;
	f->buf = buf;
}

/* JSON: the separator and the key of the next member */
static void
w_key(OtlpWriter *w, const char *name)
{
	OtlpFrame  *top = w_top(w);

	if (!top->first)
		appendStringInfoChar(w->out, ',');
	top->first = false;
	if (!top->array)
	{
		escape_json(w->out, name);
		appendStringInfoChar(w->out, ':');
	}
}

static void
w_tag(OtlpWriter *w, int field, int wiretype)
{
	pb_varint(w_top(w)->buf, ((uint64) field << 3) | wiretype);
}

static void
w_init(OtlpWriter *w, bool pb, StringInfo out)
{
	w->pb = pb;
	w->out = out;
	w->cap = 16;
	w->depth = 0;
	w->frames = palloc(sizeof(OtlpFrame) * w->cap);
	w_push(w, false, 0, out);
	if (!pb)
		appendStringInfoChar(out, '{');
}

static void
w_finish(OtlpWriter *w)
{
	Assert(w->depth == 1);
	if (!w->pb)
		appendStringInfoChar(w->out, '}');
	pfree(w->frames);
}

/* open a message field, or the next element of the open repeated field */
static void
w_open(OtlpWriter *w, int field, const char *name)
{
	OtlpFrame  *top = w_top(w);

	if (top->array)
		field = top->field;
	if (w->pb)
		w_push(w, false, field, makeStringInfo());
	else
	{
		w_key(w, name);
		appendStringInfoChar(w->out, '{');
		w_push(w, false, field, NULL);
	}
}

static void
w_close(OtlpWriter *w)
{
	OtlpFrame	f = *w_top(w);

	Assert(!f.array && w->depth > 1);
	w->depth--;
	if (w->pb)
	{
		StringInfo	parent = w_top(w)->buf;

		pb_varint(parent, ((uint64) f.field << 3) | 2);
		pb_varint(parent, f.buf->len);
		appendBinaryStringInfo(parent, f.buf->data, f.buf->len);
		pfree(f.buf->data);
		pfree(f.buf);
	}
	else
		appendStringInfoChar(w->out, '}');
}

/* a repeated message field: w_open(w, 0, NULL) per element, then close */
static void
w_open_array(OtlpWriter *w, int field, const char *name)
{
	if (!w->pb)
	{
		w_key(w, name);
		appendStringInfoChar(w->out, '[');
	}
	w_push(w, true, field, w_top(w)->buf);
}

static void
w_close_array(OtlpWriter *w)
{
	Assert(w_top(w)->array);
	w->depth--;
	if (!w->pb)
		appendStringInfoChar(w->out, ']');
}

static void
w_string(OtlpWriter *w, int field, const char *name, const char *s)
{
	if (w->pb)
	{
		size_t		len = strlen(s);

		w_tag(w, field, 2);
		pb_varint(w_top(w)->buf, len);
		appendBinaryStringInfo(w_top(w)->buf, s, len);
	}
	else
	{
		w_key(w, name);
		escape_json(w->out, s);
	}
}

/* bytes: raw in protobuf, lowercase hex in JSON (trace and span ids) */
static void
w_id(OtlpWriter *w, int field, const char *name, const uint8 *b, int n)
{
	if (w->pb)
	{
		w_tag(w, field, 2);
		pb_varint(w_top(w)->buf, n);
		appendBinaryStringInfo(w_top(w)->buf, (const char *) b, n);
	}
	else
	{
		static const char hexdig[] = "0123456789abcdef";

		w_key(w, name);
		appendStringInfoChar(w->out, '"');
		for (int i = 0; i < n; i++)
		{
			appendStringInfoChar(w->out, hexdig[b[i] >> 4]);
			appendStringInfoChar(w->out, hexdig[b[i] & 0xF]);
		}
		appendStringInfoChar(w->out, '"');
	}
}

/* fixed64 (the nanosecond times): a decimal string in JSON */
static void
w_fixed64(OtlpWriter *w, int field, const char *name, uint64 v)
{
	if (w->pb)
	{
		w_tag(w, field, 1);
		pb_fixed64(w_top(w)->buf, v);
	}
	else
	{
		w_key(w, name);
		appendStringInfo(w->out, "\"" UINT64_FORMAT "\"", v);
	}
}

/* int64 (AnyValue.int_value): a decimal string in JSON */
static void
w_int64(OtlpWriter *w, int field, const char *name, int64 v)
{
	if (w->pb)
	{
		w_tag(w, field, 0);
		pb_varint(w_top(w)->buf, (uint64) v);
	}
	else
	{
		w_key(w, name);
		appendStringInfo(w->out, "\"" INT64_FORMAT "\"", v);
	}
}

/* an enum, a uint32 or a bool: a varint; a JSON number or true/false */
static void
w_varint(OtlpWriter *w, int field, const char *name, uint64 v, bool isbool)
{
	if (w->pb)
	{
		w_tag(w, field, 0);
		pb_varint(w_top(w)->buf, v);
	}
	else
	{
		w_key(w, name);
		if (isbool)
			appendStringInfoString(w->out, v ? "true" : "false");
		else
			appendStringInfo(w->out, UINT64_FORMAT, v);
	}
}

/* double: fixed64 bits; in JSON a number, or "NaN", "Infinity", "-Infinity" */
static void
w_double(OtlpWriter *w, int field, const char *name, double v)
{
	if (w->pb)
	{
		uint64		bits;

		memcpy(&bits, &v, sizeof(bits));
		w_tag(w, field, 1);
		pb_fixed64(w_top(w)->buf, bits);
	}
	else
	{
		w_key(w, name);
		if (isnan(v))
			appendStringInfoString(w->out, "\"NaN\"");
		else if (isinf(v))
			appendStringInfoString(w->out, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
		else
		{
			char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

			double_to_shortest_decimal_buf(v, tmp);
			appendStringInfoString(w->out, tmp);
		}
	}
}

/* ---- common messages ---- */

static void w_keyvalue(OtlpWriter *w, const char *key, const cJSON *v);

/* the fields of an AnyValue holding a JSON value (null: no field) */
static void
w_anyvalue(OtlpWriter *w, const cJSON *v)
{
	const cJSON *c;

	if (cJSON_IsString(v))
		w_string(w, 1, "stringValue", v->valuestring ? v->valuestring : "");
	else if (cJSON_IsBool(v))
		w_varint(w, 2, "boolValue", cJSON_IsTrue(v), true);
	else if (cJSON_IsNumber(v))
	{
		double		d = v->valuedouble;

		if (d == floor(d) && fabs(d) <= 9007199254740992.0)
			w_int64(w, 3, "intValue", (int64) d);
		else
			w_double(w, 4, "doubleValue", d);
	}
	else if (cJSON_IsArray(v))
	{
		w_open(w, 5, "arrayValue");
		w_open_array(w, 1, "values");
		for (c = v->child; c != NULL; c = c->next)
		{
			w_open(w, 0, NULL);
			w_anyvalue(w, c);
			w_close(w);
		}
		w_close_array(w);
		w_close(w);
	}
	else if (cJSON_IsObject(v))
	{
		w_open(w, 6, "kvlistValue");
		w_open_array(w, 1, "values");
		for (c = v->child; c != NULL; c = c->next)
			w_keyvalue(w, c->string ? c->string : "", c);
		w_close_array(w);
		w_close(w);
	}
}

/* a KeyValue element of the open repeated field */
static void
w_keyvalue(OtlpWriter *w, const char *key, const cJSON *v)
{
	w_open(w, 0, NULL);
	w_string(w, 1, "key", key);
	w_open(w, 2, "value");
	w_anyvalue(w, v);
	w_close(w);
	w_close(w);
}

static void
w_attr_string(OtlpWriter *w, const char *key, const char *s)
{
	w_open(w, 0, NULL);
	w_string(w, 1, "key", key);
	w_open(w, 2, "value");
	w_string(w, 1, "stringValue", s);
	w_close(w);
	w_close(w);
}

static void
w_attr_int(OtlpWriter *w, const char *key, int64 v)
{
	w_open(w, 0, NULL);
	w_string(w, 1, "key", key);
	w_open(w, 2, "value");
	w_int64(w, 3, "intValue", v);
	w_close(w);
	w_close(w);
}

/*
 * The tags as KeyValues of the open attributes field: each member of an
 * object, except the keys in reserved (obs sets those); any other JSON
 * value as one attribute "tags".
 */
static void
w_tag_attributes(OtlpWriter *w, const cJSON *tags, const char *const *reserved)
{
	const cJSON *c;

	if (tags == NULL || cJSON_IsNull(tags))
		return;
	if (!cJSON_IsObject(tags))
	{
		w_keyvalue(w, "tags", tags);
		return;
	}
	for (c = tags->child; c != NULL; c = c->next)
	{
		const char *key = c->string ? c->string : "";
		bool		skip = false;

		for (int i = 0; reserved != NULL && reserved[i] != NULL; i++)
			if (strcmp(key, reserved[i]) == 0)
				skip = true;
		if (!skip)
			w_keyvalue(w, key, c);
	}
}

/* resource (service.name) and the scope, opening the scope's records */
static void
w_resource_scope(OtlpWriter *w, const char *service, const char *scope_field,
				 const char *records_field)
{
	w_open(w, 1, "resource");
	w_open_array(w, 1, "attributes");
	w_attr_string(w, "service.name", service);
	w_close_array(w);
	w_close(w);
	w_open_array(w, 2, scope_field);
	w_open(w, 0, NULL);
	w_open(w, 1, "scope");
	w_string(w, 1, "name", OTLP_SCOPE_NAME);
	w_string(w, 2, "version", OBS_VERSION);
	w_close(w);
	w_open_array(w, 2, records_field);
}

static void
w_end_resource_scope(OtlpWriter *w)
{
	w_close_array(w);			/* records */
	w_close(w);					/* Scope* */
	w_close_array(w);			/* scope* */
}

/* ---- rows grouped by resource (and metric) ---- */

typedef struct OtlpRow
{
	cJSON	   *row;
	int			rowno;			/* 1-based, for messages and a stable order */
	const char *key;			/* resource: service name; metrics: name */
	int			key2;			/* metrics: kind */
} OtlpRow;

static int
otlp_row_cmp(const void *a, const void *b)
{
	const OtlpRow *x = a;
	const OtlpRow *y = b;
	int			c = strcmp(x->key, y->key);

	if (c != 0)
		return c;
	if (x->key2 != y->key2)
		return x->key2 < y->key2 ? -1 : 1;
	return x->rowno < y->rowno ? -1 : (x->rowno > y->rowno);
}

/* the rows as RowRefs; false when one is not an object */
static OtlpRow *
collect_rows(cJSON *rows, int *nrows, char **why)
{
	int			n = cJSON_GetArraySize(rows);
	OtlpRow	   *refs = palloc0(sizeof(OtlpRow) * Max(n, 1));
	int			i = 0;
	cJSON	   *row;

	cJSON_ArrayForEach(row, rows)
	{
		if (!cJSON_IsObject(row))
		{
			*why = psprintf("row %d of rows is not a JSON object", i + 1);
			return NULL;
		}
		refs[i].row = row;
		refs[i].rowno = i + 1;
		i++;
	}
	*nrows = i;
	return refs;
}

/* the service name given, else obs.service_name, else NULL */
static const char *
configured_service(const char *service_name)
{
	if (service_name != NULL && service_name[0] != '\0')
		return service_name;
	if (obs_service_name != NULL && obs_service_name[0] != '\0')
		return obs_service_name;
	return NULL;
}

/* a unix microsecond time as OTLP nanoseconds; false before 1970 */
static bool
otlp_nanos(int64 us, int rowno, const char *field, uint64 *ns, char **why)
{
	if (us < 0)
	{
		*why = psprintf("\"%s\" of row %d is before 1970-01-01, which OTLP cannot carry",
						field, rowno);
		return false;
	}
	*ns = (uint64) us * 1000;
	return true;
}

/* a required hex id member (trace_id: 16 bytes, span_id: 8) */
static bool
row_id(cJSON *row, int rowno, const char *field, bool required, int nbytes,
	   uint8 *out, bool *present, char **why)
{
	const char *s;

	if (!obs_ship_row_string(row, rowno, field, required, &s, why))
		return false;
	*present = (s != NULL);
	if (s != NULL && !obs_ship_hex_id(s, nbytes, out))
	{
		*why = psprintf("\"%s\" of row %d is not %d hex digits: \"%s\"",
						field, rowno, nbytes * 2, s);
		return false;
	}
	return true;
}

/* ---- traces ---- */

static const char *const span_reserved[] = {"service.type", NULL};

static bool
encode_span(OtlpWriter *w, OtlpRow *r, char **why)
{
	cJSON	   *row = r->row;
	uint8		trace_id[OBS_TRACE_ID_LEN],
				span_id[OBS_SPAN_ID_LEN],
				parent_id[OBS_SPAN_ID_LEN];
	bool		present,
				has_parent;
	const char *operation,
			   *service_type,
			   *status,
			   *error;
	int64		start_us,
				end_us;
	uint64		start_ns,
				end_ns;
	int			code;

	if (!row_id(row, r->rowno, "trace_id", true, OBS_TRACE_ID_LEN, trace_id, &present, why) ||
		!row_id(row, r->rowno, "span_id", true, OBS_SPAN_ID_LEN, span_id, &present, why) ||
		!row_id(row, r->rowno, "parent_span_id", false, OBS_SPAN_ID_LEN, parent_id, &has_parent, why) ||
		!obs_ship_row_string(row, r->rowno, "operation", true, &operation, why) ||
		!obs_ship_row_string(row, r->rowno, "service_type", true, &service_type, why) ||
		!obs_ship_row_string(row, r->rowno, "status", true, &status, why) ||
		!obs_ship_row_string(row, r->rowno, "error", false, &error, why) ||
		!obs_ship_row_time(row, r->rowno, "start_time", &start_us, why) ||
		!obs_ship_row_time(row, r->rowno, "end_time", &end_us, why) ||
		!otlp_nanos(start_us, r->rowno, "start_time", &start_ns, why) ||
		!otlp_nanos(end_us, r->rowno, "end_time", &end_ns, why))
		return false;
	if (strcmp(status, "unset") == 0)
		code = 0;
	else if (strcmp(status, "ok") == 0)
		code = 1;
	else if (strcmp(status, "error") == 0)
		code = 2;
	else
	{
		*why = psprintf("\"status\" of row %d is not unset, ok or error: \"%s\"",
						r->rowno, status);
		return false;
	}

	w_open(w, 0, NULL);
	w_id(w, 1, "traceId", trace_id, OBS_TRACE_ID_LEN);
	w_id(w, 2, "spanId", span_id, OBS_SPAN_ID_LEN);
	if (has_parent)
		w_id(w, 4, "parentSpanId", parent_id, OBS_SPAN_ID_LEN);
	w_string(w, 5, "name", operation);
	w_varint(w, 6, "kind", 1, false);	/* SPAN_KIND_INTERNAL */
	w_fixed64(w, 7, "startTimeUnixNano", start_ns);
	w_fixed64(w, 8, "endTimeUnixNano", end_ns);
	w_open_array(w, 9, "attributes");
	w_tag_attributes(w, cJSON_GetObjectItemCaseSensitive(row, "tags"), span_reserved);
	w_attr_string(w, "service.type", service_type);
	w_close_array(w);
	w_open(w, 15, "status");
	if (error != NULL)
		w_string(w, 2, "message", error);
	if (code != 0)
		w_varint(w, 3, "code", code, false);
	w_close(w);
	w_close(w);
	return true;
}

static bool
encode_traces(OtlpWriter *w, OtlpRow *refs, int n, char **why)
{
	for (int i = 0; i < n; i++)
		if (!obs_ship_row_string(refs[i].row, refs[i].rowno, "service_name", true,
								 &refs[i].key, why))
			return false;
	qsort(refs, n, sizeof(OtlpRow), otlp_row_cmp);

	w_open_array(w, 1, "resourceSpans");
	for (int i = 0; i < n;)
	{
		int			j;

		w_open(w, 0, NULL);
		w_resource_scope(w, refs[i].key, "scopeSpans", "spans");
		for (j = i; j < n && strcmp(refs[j].key, refs[i].key) == 0; j++)
			if (!encode_span(w, &refs[j], why))
				return false;
		w_end_resource_scope(w);
		w_close(w);
		i = j;
	}
	w_close_array(w);
	return true;
}

/* ---- logs ---- */

static const char *const log_reserved[] =
{"logger", "context", "error", "obs.log_id", "obs.backend_pid", NULL};

static const char *const log_levels[] = {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"};

static bool
encode_log(OtlpWriter *w, OtlpRow *r, char **why)
{
	cJSON	   *row = r->row;
	uint8		trace_id[OBS_TRACE_ID_LEN],
				span_id[OBS_SPAN_ID_LEN];
	bool		has_trace,
				has_span,
				isnull_id,
				isnull_pid;
	const char *level,
			   *logger,
			   *message;
	int64		ts_us;
	uint64		ts_ns;
	double		log_id,
				pid;
	int			sev = -1;
	cJSON	   *item;

	if (!obs_ship_row_time(row, r->rowno, "ts", &ts_us, why) ||
		!otlp_nanos(ts_us, r->rowno, "ts", &ts_ns, why) ||
		!obs_ship_row_string(row, r->rowno, "level", true, &level, why) ||
		!obs_ship_row_string(row, r->rowno, "logger", true, &logger, why) ||
		!obs_ship_row_string(row, r->rowno, "message", true, &message, why) ||
		!row_id(row, r->rowno, "trace_id", false, OBS_TRACE_ID_LEN, trace_id, &has_trace, why) ||
		!row_id(row, r->rowno, "span_id", false, OBS_SPAN_ID_LEN, span_id, &has_span, why) ||
		!obs_ship_row_number(row, r->rowno, "log_id", false, &log_id, &isnull_id, why) ||
		!obs_ship_row_number(row, r->rowno, "backend_pid", false, &pid, &isnull_pid, why))
		return false;
	for (int i = 0; i < (int) lengthof(log_levels); i++)
		if (strcmp(level, log_levels[i]) == 0)
			sev = 5 + 4 * i;	/* DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21 */
	if (sev < 0)
	{
		*why = psprintf("\"level\" of row %d is not an obs log level: \"%s\"",
						r->rowno, level);
		return false;
	}

	w_open(w, 0, NULL);
	w_fixed64(w, 1, "timeUnixNano", ts_ns);
	w_varint(w, 2, "severityNumber", sev, false);
	w_string(w, 3, "severityText", level);
	w_open(w, 5, "body");
	w_string(w, 1, "stringValue", message);
	w_close(w);
	w_open_array(w, 6, "attributes");
	w_tag_attributes(w, cJSON_GetObjectItemCaseSensitive(row, "tags"), log_reserved);
	w_attr_string(w, "logger", logger);
	item = cJSON_GetObjectItemCaseSensitive(row, "context");
	if (item != NULL && !cJSON_IsNull(item))
		w_keyvalue(w, "context", item);
	item = cJSON_GetObjectItemCaseSensitive(row, "error");
	if (item != NULL && !cJSON_IsNull(item))
		w_keyvalue(w, "error", item);
	if (!isnull_id)
		w_attr_int(w, "obs.log_id", (int64) log_id);
	if (!isnull_pid)
		w_attr_int(w, "obs.backend_pid", (int64) pid);
	w_close_array(w);
	if (has_trace)
		w_id(w, 9, "traceId", trace_id, OBS_TRACE_ID_LEN);
	if (has_span)
		w_id(w, 10, "spanId", span_id, OBS_SPAN_ID_LEN);
	w_fixed64(w, 11, "observedTimeUnixNano", ts_ns);
	w_close(w);
	return true;
}

static bool
encode_logs(OtlpWriter *w, OtlpRow *refs, int n, const char *service, char **why)
{
	for (int i = 0; i < n; i++)
	{
		if (service != NULL)
			refs[i].key = service;
		else if (!obs_ship_row_string(refs[i].row, refs[i].rowno, "logger", true,
									  &refs[i].key, why))
			return false;
	}
	qsort(refs, n, sizeof(OtlpRow), otlp_row_cmp);

	w_open_array(w, 1, "resourceLogs");
	for (int i = 0; i < n;)
	{
		int			j;

		w_open(w, 0, NULL);
		w_resource_scope(w, refs[i].key, "scopeLogs", "logRecords");
		for (j = i; j < n && strcmp(refs[j].key, refs[i].key) == 0; j++)
			if (!encode_log(w, &refs[j], why))
				return false;
		w_end_resource_scope(w);
		w_close(w);
		i = j;
	}
	w_close_array(w);
	return true;
}

/* ---- metrics ---- */

static bool
encode_point(OtlpWriter *w, OtlpRow *r, bool sum, char **why)
{
	int64		ts_us;
	uint64		ts_ns;
	double		value;
	bool		isnull;

	if (!obs_ship_row_time(r->row, r->rowno, "ts", &ts_us, why) ||
		!otlp_nanos(ts_us, r->rowno, "ts", &ts_ns, why) ||
		!obs_ship_row_number(r->row, r->rowno, "value", true, &value, &isnull, why))
		return false;
	w_open(w, 0, NULL);
	if (sum)
		w_fixed64(w, 2, "startTimeUnixNano", ts_ns);
	w_fixed64(w, 3, "timeUnixNano", ts_ns);
	w_double(w, 4, "asDouble", value);
	w_open_array(w, 7, "attributes");
	w_tag_attributes(w, cJSON_GetObjectItemCaseSensitive(r->row, "tags"), NULL);
	w_close_array(w);
	w_close(w);
	return true;
}

static bool
encode_metrics(OtlpWriter *w, OtlpRow *refs, int n, const char *service, char **why)
{
	for (int i = 0; i < n; i++)
	{
		const char *kind;

		if (!obs_ship_row_string(refs[i].row, refs[i].rowno, "name", true, &refs[i].key, why) ||
			!obs_ship_row_string(refs[i].row, refs[i].rowno, "kind", true, &kind, why))
			return false;
		if (strcmp(kind, "gauge") == 0)
			refs[i].key2 = 0;
		else if (strcmp(kind, "counter") == 0)
			refs[i].key2 = 1;
		else
		{
			*why = psprintf("\"kind\" of row %d is not gauge or counter: \"%s\"",
							refs[i].rowno, kind);
			return false;
		}
	}
	qsort(refs, n, sizeof(OtlpRow), otlp_row_cmp);

	if (service == NULL)
		service = (application_name != NULL && application_name[0] != '\0') ?
			application_name : "postgres";
	w_open_array(w, 1, "resourceMetrics");
	if (n > 0)
	{
		w_open(w, 0, NULL);
		w_resource_scope(w, service, "scopeMetrics", "metrics");
		for (int i = 0; i < n;)
		{
			bool		sum = refs[i].key2 == 1;
			int			j;

			w_open(w, 0, NULL);
			w_string(w, 1, "name", refs[i].key);
			w_open(w, sum ? 7 : 5, sum ? "sum" : "gauge");
			w_open_array(w, 1, "dataPoints");
			for (j = i; j < n && refs[j].key2 == refs[i].key2 &&
				 strcmp(refs[j].key, refs[i].key) == 0; j++)
				if (!encode_point(w, &refs[j], sum, why))
					return false;
			w_close_array(w);
			if (sum)
			{
				w_varint(w, 2, "aggregationTemporality", 1, false);	/* DELTA */
				w_varint(w, 3, "isMonotonic", 1, true);
			}
			w_close(w);
			w_close(w);
			i = j;
		}
		w_end_resource_scope(w);
		w_close(w);
	}
	w_close_array(w);
	return true;
}

/*
 * The OTLP export request of rows for signal (see encode.h).  service_name
 * sets service.name of logs and metrics (NULL: see the file header); spans
 * carry their own.
 */
bool
obs_otlp_encode(const char *signal, cJSON *rows, bool protobuf,
				const char *service_name, StringInfo body,
				const char **content_type, char **why)
{
	OtlpWriter	w;
	OtlpRow	   *refs;
	int			n = 0;
	bool		ok;

	*why = NULL;
	if (signal == NULL ||
		(strcmp(signal, "traces") != 0 && strcmp(signal, "logs") != 0 &&
		 strcmp(signal, "metrics") != 0))
	{
		*why = psprintf("unknown signal \"%s\"", signal ? signal : "");
		return false;
	}
	if (rows == NULL || !cJSON_IsArray(rows))
	{
		*why = pstrdup("rows must be a JSON array");
		return false;
	}
	refs = collect_rows(rows, &n, why);
	if (refs == NULL)
		return false;

	w_init(&w, protobuf, body);
	if (strcmp(signal, "traces") == 0)
		ok = encode_traces(&w, refs, n, why);
	else if (strcmp(signal, "logs") == 0)
		ok = encode_logs(&w, refs, n, configured_service(service_name), why);
	else
		ok = encode_metrics(&w, refs, n, configured_service(service_name), why);
	pfree(refs);
	if (!ok)
	{
		resetStringInfo(body);
		return false;
	}
	w_finish(&w);
	*content_type = protobuf ? "application/x-protobuf" : "application/json";
	return true;
}
