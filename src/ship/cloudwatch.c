/*-------------------------------------------------------------------------
 * cloudwatch.c
 *	  CloudWatch Logs PutLogEvents request bodies for obs.logs rows.
 *
 * Each row becomes one event: its timestamp in milliseconds since 1970
 * (the row's ts, rounded down) and, as the message, the row as one JSON
 * line with the keys and values of obs.log_json(): timestamp (UTC, with
 * microseconds and Z), level, logger, message, context, tags, trace_id,
 * span_id, error, log_id.  The events are sorted by time (then log_id,
 * then input order) and cut into bodies that keep PutLogEvents' limits:
 * at most 10,000 events, at most 1,048,576 bytes counting each event's
 * UTF-8 message bytes plus 26, and less than 24 hours from the first to
 * the last event of a body.
 *
 * An event may not be larger than 256 KiB (262,144 bytes, the 26 counted),
 * so a message longer than 262,118 bytes is cut: its first bytes, ending
 * on a UTF-8 character boundary, followed by the marker
 * "...[obs: cut from N bytes]" (N: the message's full length), 262,118
 * bytes or less in all.  A cut message is no longer valid JSON; it ends
 * with the marker.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/json.h"

#include "encode.h"

#define CW_MAX_MESSAGE (OBS_CW_MAX_EVENT_BYTES - OBS_CW_EVENT_OVERHEAD)

typedef struct CwEvent
{
	int64		us;				/* ts, microseconds since 1970 */
	int64		ms;				/* the event timestamp */
	double		log_id;			/* a tie breaker; 0 when absent */
	int			rowno;
	StringInfo	message;
} CwEvent;

static int
cw_event_cmp(const void *a, const void *b)
{
	const CwEvent *x = a;
	const CwEvent *y = b;

	if (x->us != y->us)
		return x->us < y->us ? -1 : 1;
	if (x->log_id != y->log_id)
		return x->log_id < y->log_id ? -1 : 1;
	return x->rowno < y->rowno ? -1 : (x->rowno > y->rowno);
}

/* the JSON value of member field, or null */
static void
append_member(StringInfo buf, cJSON *row, const char *field)
{
	obs_ship_append_json(buf, cJSON_GetObjectItemCaseSensitive(row, field));
}

/* one row as an event: the log_json() line, cut to the event size limit */
static bool
row_event(cJSON *row, int rowno, CwEvent *ev, char **why)
{
	const char *s;
	bool		isnull;
	StringInfo	m;

	if (!cJSON_IsObject(row))
	{
		*why = psprintf("row %d of rows is not a JSON object", rowno);
		return false;
	}
	if (!obs_ship_row_time(row, rowno, "ts", &ev->us, why) ||
		!obs_ship_row_number(row, rowno, "log_id", false, &ev->log_id, &isnull, why))
		return false;
	if (isnull)
		ev->log_id = 0;
	if (ev->us < 0)
	{
		*why = psprintf("\"ts\" of row %d is before 1970-01-01, which CloudWatch Logs cannot carry",
						rowno);
		return false;
	}
	ev->ms = ev->us / 1000;
	ev->rowno = rowno;

	/* the keys and order of obs.log_json() */
	m = makeStringInfo();
	appendStringInfoString(m, "{\"timestamp\":\"");
	obs_ship_append_utc(m, ev->us);
	appendStringInfoString(m, "\",\"level\":");
	if (!obs_ship_row_string(row, rowno, "level", true, &s, why))
		return false;
	escape_json(m, s);
	appendStringInfoString(m, ",\"logger\":");
	if (!obs_ship_row_string(row, rowno, "logger", true, &s, why))
		return false;
	escape_json(m, s);
	appendStringInfoString(m, ",\"message\":");
	if (!obs_ship_row_string(row, rowno, "message", true, &s, why))
		return false;
	escape_json(m, s);
	appendStringInfoString(m, ",\"context\":");
	append_member(m, row, "context");
	appendStringInfoString(m, ",\"tags\":");
	append_member(m, row, "tags");
	appendStringInfoString(m, ",\"trace_id\":");
	append_member(m, row, "trace_id");
	appendStringInfoString(m, ",\"span_id\":");
	append_member(m, row, "span_id");
	appendStringInfoString(m, ",\"error\":");
	append_member(m, row, "error");
	appendStringInfoString(m, ",\"log_id\":");
	append_member(m, row, "log_id");
	appendStringInfoChar(m, '}');

	if (m->len > CW_MAX_MESSAGE)
	{
		char	   *marker = psprintf("...[obs: cut from %d bytes]", m->len);
		int			keep = CW_MAX_MESSAGE - (int) strlen(marker);

		/* back to the start of a UTF-8 character */
		while (keep > 0 && (m->data[keep] & 0xC0) == 0x80)
			keep--;
		m->len = keep;
		m->data[keep] = '\0';
		appendStringInfoString(m, marker);
		pfree(marker);
	}
	ev->message = m;
	return true;
}

/* a log group name: 1-512 of [.-_/#A-Za-z0-9]; a log stream: 1-512, no : or * */
static bool
check_names(const char *log_group, const char *log_stream, char **why)
{
	size_t		len;

	if (log_group == NULL || log_group[0] == '\0')
	{
		*why = pstrdup("log group name must not be empty");
		return false;
	}
	len = strlen(log_group);
	if (len > 512)
	{
		*why = pstrdup("log group name is longer than 512 bytes");
		return false;
	}
	if (strspn(log_group, "._-/#abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != len)
	{
		*why = psprintf("invalid log group name \"%s\"", log_group);
		return false;
	}
	if (log_stream == NULL || log_stream[0] == '\0')
	{
		*why = pstrdup("log stream name must not be empty");
		return false;
	}
	if (strlen(log_stream) > 512)
	{
		*why = pstrdup("log stream name is longer than 512 bytes");
		return false;
	}
	if (strpbrk(log_stream, ":*") != NULL)
	{
		*why = psprintf("invalid log stream name \"%s\"", log_stream);
		return false;
	}
	return true;
}

static StringInfo
begin_body(const char *log_group, const char *log_stream)
{
	StringInfo	b = makeStringInfo();

	appendStringInfoString(b, "{\"logGroupName\":");
	escape_json(b, log_group);
	appendStringInfoString(b, ",\"logStreamName\":");
	escape_json(b, log_stream);
	appendStringInfoString(b, ",\"logEvents\":[");
	return b;
}

/*
 * PutLogEvents bodies for rows (see encode.h and the file header): the
 * number of bodies in *bodies (none for no rows), or -1 with *why.
 */
int
obs_cloudwatch_encode(cJSON *rows, const char *log_group,
					  const char *log_stream, StringInfo **bodies,
					  int **body_of_row, char **why)
{
	CwEvent    *evs;
	int			n = 0,
				nbodies = 0,
				cap = 4;
	StringInfo	cur = NULL;
	int			cur_events = 0;
	int64		cur_bytes = 0,
				cur_first_ms = 0;
	cJSON	   *row;

	*why = NULL;
	*bodies = NULL;
	if (!check_names(log_group, log_stream, why))
		return -1;
	if (rows == NULL || !cJSON_IsArray(rows))
	{
		*why = pstrdup("rows must be a JSON array");
		return -1;
	}
	evs = palloc0(sizeof(CwEvent) * Max(cJSON_GetArraySize(rows), 1));
	cJSON_ArrayForEach(row, rows)
	{
		if (!row_event(row, n + 1, &evs[n], why))
			return -1;
		n++;
	}
	qsort(evs, n, sizeof(CwEvent), cw_event_cmp);
	if (body_of_row)
		*body_of_row = palloc0(sizeof(int) * Max(n, 1));

	*bodies = palloc(sizeof(StringInfo) * cap);
	for (int i = 0; i < n; i++)
	{
		CwEvent    *ev = &evs[i];
		int64		size = ev->message->len + OBS_CW_EVENT_OVERHEAD;

		if (cur != NULL &&
			(cur_events == OBS_CW_MAX_EVENTS ||
			 cur_bytes + size > OBS_CW_MAX_BATCH_BYTES ||
			 ev->ms - cur_first_ms >= OBS_CW_MAX_SPAN_MS))
		{
			appendStringInfoString(cur, "]}");
			cur = NULL;
		}
		if (cur == NULL)
		{
			if (nbodies == cap)
			{
				cap *= 2;
				*bodies = repalloc(*bodies, sizeof(StringInfo) * cap);
			}
			cur = begin_body(log_group, log_stream);
			(*bodies)[nbodies++] = cur;
			cur_events = 0;
			cur_bytes = 0;
			cur_first_ms = ev->ms;
		}
		if (body_of_row)
			(*body_of_row)[ev->rowno - 1] = nbodies - 1;
		if (cur_events > 0)
			appendStringInfoChar(cur, ',');
		appendStringInfo(cur, "{\"timestamp\":" INT64_FORMAT ",\"message\":", ev->ms);
		escape_json(cur, ev->message->data);
		appendStringInfoChar(cur, '}');
		cur_events++;
		cur_bytes += size;
		pfree(ev->message->data);
		pfree(ev->message);
	}
	if (cur != NULL)
		appendStringInfoString(cur, "]}");
	pfree(evs);
	return nbodies;
}
