/*-------------------------------------------------------------------------
 * sinks.c
 *	  The sink kinds: how a batch of rows becomes requests, and what each
 *	  answer means.
 *
 * sink_kinds[] is the dispatch table: a kind (obs.sinks.kind) and its
 * send function.  A send function posts the rows of the batch that are
 * not done yet and marks done those the receiver accepted, and those it
 * refused for good (a 4xx other than 408/429), which it adds to
 * res->dead for obs.ship_dead_letters.  It returns OBS_SEND_RETRY while
 * any row is still to send (network error, 408, 429, 5xx; res->error and
 * res->retry_after_s say why and when, res->status and res->payload are
 * the failed request's): the worker retries the rest later with backoff,
 * up to the sink's max_retries, and acknowledges the batch only when every
 * row is done.
 *
 *	- elasticsearch: one _bulk request (NDJSON, final newline) of "index"
 *	  actions whose _id is the row's id, so a resent row overwrites itself;
 *	  a 200 answer with errors is judged item by item.
 *	- webhook: one POST per alert row, JSON (the row) or Slack's
 *	  {"text": ...}; rows are sent in order and a retryable failure stops
 *	  the batch there.
 *
 *	- otlp: one OTLP/HTTP request (JSON or protobuf) per batch to
 *	  <endpoint>/v1/traces|logs|metrics.
 *	- cloudwatch: PutLogEvents bodies, signed with SigV4.
 *
 * The OTLP and CloudWatch send functions call obs_otlp_encode() /
 * obs_cloudwatch_encode() (encode.h) and post the bodies with
 * obs_http_request().
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/json.h"

#include "encode.h"
#include "ship.h"

/* the request every kind starts from: the sink's headers, TLS, timeout */
static void
base_request(const ObsSink *sink, ObsHttpRequest *req, const char *url)
{
	cJSON	   *h;

	memset(req, 0, sizeof(*req));
	req->url = url;
	req->tls_verify = sink->tls_verify;
	req->timeout_ms = sink->timeout_ms;
	req->gzip = sink->gzip;
	cJSON_ArrayForEach(h, sink->headers)
	{
		if (cJSON_IsString(h) && h->string)
			obs_http_add_header(req, psprintf("%s: %s", h->string, h->valuestring));
	}
}

static ObsDeadLetter *
dead_letter(long status, const char *response, const char *payload)
{
	ObsDeadLetter *d = palloc0(sizeof(ObsDeadLetter));

	d->status = (int) status;
	d->response = pstrdup(response ? response : "");
	d->payload = pstrdup(payload ? payload : "");
	return d;
}

static char *
answer_error(const ObsHttpAnswer *ans)
{
	if (ans->status == 0)
		return psprintf("network error: %s", ans->error);
	return psprintf("HTTP %ld: %.300s", ans->status, ans->body);
}

/* ------------------------------------------------------------ elasticsearch */

/* the row field whose date names a time-suffixed index */
static const char *
time_field(const char *signal)
{
	if (strcmp(signal, "spans") == 0)
		return "start_time";
	if (strcmp(signal, "alerts") == 0)
		return "created_at";
	return "ts";
}

/*
 * The index of one row: %Y, %m, %d from the row's time (UTC: the worker
 * runs with TimeZone UTC, so to_jsonb() writes +00:00), %{signal} the
 * signal, %% a percent sign.
 */
static char *
es_index(const char *pattern, const char *signal, cJSON *row)
{
	cJSON	   *t = cJSON_GetObjectItemCaseSensitive(row, time_field(signal));
	const char *ts = cJSON_IsString(t) ? t->valuestring : "0000-00-00";
	StringInfoData s;

	initStringInfo(&s);
	for (const char *p = pattern; *p; p++)
	{
		if (*p != '%')
		{
			appendStringInfoChar(&s, *p);
			continue;
		}
		p++;
		if (*p == 'Y' && strlen(ts) >= 4)
			appendBinaryStringInfo(&s, ts, 4);
		else if (*p == 'm' && strlen(ts) >= 7)
			appendBinaryStringInfo(&s, ts + 5, 2);
		else if (*p == 'd' && strlen(ts) >= 10)
			appendBinaryStringInfo(&s, ts + 8, 2);
		else if (strncmp(p, "{signal}", 8) == 0)
		{
			appendStringInfoString(&s, signal);
			p += 7;
		}
		else if (*p == '%')
			appendStringInfoChar(&s, '%');
		else
		{
			appendStringInfoChar(&s, '%');
			if (*p == '\0')
				break;
			appendStringInfoChar(&s, *p);
		}
	}
	return s.data;
}

/* a JSON string literal of s */
static char *
json_string(const char *s)
{
	StringInfoData out;

	initStringInfo(&out);
	escape_json(&out, s);
	return out.data;
}

static ObsSendOutcome
es_send(const ObsSink *sink, ObsShipBatch *b, ObsSendResult *res)
{
	cJSON	   *cfg_index = cJSON_GetObjectItemCaseSensitive(sink->config, "index");
	const char *pattern = cJSON_IsString(cfg_index) ? cfg_index->valuestring : "obs-logs";
	const char *api_key = obs_credential(OBS_CRED_ELASTIC_API_KEY);
	const char *user = obs_credential(OBS_CRED_ELASTIC_USER);
	StringInfoData body;
	ObsHttpRequest req;
	ObsHttpAnswer ans;
	int		   *sent = palloc(sizeof(int) * b->n);	/* item k is row sent[k] */
	char	  **lines = palloc0(sizeof(char *) * b->n);
	int			nsent = 0;
	cJSON	   *answer;
	cJSON	   *items;
	cJSON	   *item;
	cJSON	   *row = b->rows->child;	/* row i, walked along with i */
	bool		pending = false;

	initStringInfo(&body);
	enlargeStringInfo(&body, 64 * 1024);
	for (int i = 0; i < b->n; i++, row = row->next)
	{
		cJSON	   *t = cJSON_GetObjectItemCaseSensitive(row, time_field(b->signal));
		const char *doc = b->texts[i];
		int			start = body.len;

		if (b->done[i])
			continue;
		appendStringInfoString(&body, "{\"index\":{\"_index\":");
		escape_json(&body, es_index(pattern, b->signal, row));
		appendStringInfoString(&body, ",\"_id\":");
		escape_json(&body, b->ids[i]);
		appendStringInfoString(&body, "}}\n");
		/* the row with "@timestamp" first, the field Kibana sorts by */
		while (*doc == ' ')
			doc++;
		if (cJSON_IsString(t) && doc[0] == '{' && doc[1] != '}')
		{
			appendStringInfoString(&body, "{\"@timestamp\":");
			escape_json(&body, t->valuestring);
			appendStringInfoString(&body, ", ");
			appendStringInfoString(&body, doc + 1);
		}
		else
			appendStringInfoString(&body, doc);
		appendStringInfoChar(&body, '\n');
		lines[nsent] = pnstrdup(body.data + start, body.len - start);
		sent[nsent++] = i;
	}
	if (nsent == 0)
		return OBS_SEND_OK;

	base_request(sink, &req, sink->endpoint);
	req.content_type = "application/x-ndjson";
	req.body = body.data;
	req.body_len = body.len;
	if (api_key)
		obs_http_add_header(&req, psprintf("Authorization: ApiKey %s", api_key));
	else if (user)
	{
		const char *pw = obs_credential(OBS_CRED_ELASTIC_PASSWORD);

		req.userpwd = psprintf("%s:%s", user, pw ? pw : "");
	}
	obs_http_request(&req, &ans);
	res->retry_after_s = ans.retry_after_s;

	res->status = ans.status;
	res->payload = body.data;
	if (obs_http_retryable(ans.status))
	{
		res->error = answer_error(&ans);
		return OBS_SEND_RETRY;
	}
	if (ans.status < 200 || ans.status >= 300)
	{
		/* refused as a whole: every row of the request is a dead letter */
		ObsDeadLetter *d = dead_letter(ans.status, ans.body, body.data);

		for (int k = 0; k < nsent; k++)
		{
			d->row_ids = lappend(d->row_ids, b->ids[sent[k]]);
			b->done[sent[k]] = true;
		}
		res->dead = lappend(res->dead, d);
		res->error = answer_error(&ans);
		return OBS_SEND_OK;
	}

	answer = cJSON_Parse(ans.body);
	if (answer == NULL)
	{
		res->error = psprintf("HTTP %ld with an answer that is not JSON: %.200s", ans.status, ans.body);
		return OBS_SEND_RETRY;
	}
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "errors")))
	{
		for (int k = 0; k < nsent; k++)
			b->done[sent[k]] = true;
		cJSON_Delete(answer);
		return OBS_SEND_OK;
	}
	items = cJSON_GetObjectItemCaseSensitive(answer, "items");
	if (!cJSON_IsArray(items) || cJSON_GetArraySize(items) != nsent)
	{
		res->error = psprintf("bulk answer with errors but %d items for %d actions",
							  cJSON_IsArray(items) ? cJSON_GetArraySize(items) : 0, nsent);
		cJSON_Delete(answer);
		return OBS_SEND_RETRY;
	}
	/* item by item: accepted, to retry, or refused for good */
	item = items->child;
	for (int k = 0; k < nsent; k++, item = item ? item->next : NULL)
	{
		cJSON	   *action = item ? item->child : NULL;
		cJSON	   *st = action ? cJSON_GetObjectItemCaseSensitive(action, "status") : NULL;
		long		status = cJSON_IsNumber(st) ? (long) st->valuedouble : 0;

		if (status >= 200 && status < 300)
			b->done[sent[k]] = true;
		else if (obs_http_retryable(status))
		{
			pending = true;
			res->status = status;
			res->error = psprintf("bulk item %s: status %ld", b->ids[sent[k]], status);
		}
		else
		{
			cJSON	   *err = cJSON_GetObjectItemCaseSensitive(action, "error");
			char	   *errtext = err ? cJSON_PrintUnformatted(err) : NULL;
			ObsDeadLetter *d = dead_letter(status, errtext ? errtext : "", lines[k]);

			if (errtext)
			{
				res->error = psprintf("bulk item %s: status %ld: %.300s", b->ids[sent[k]], status, errtext);
				cJSON_free(errtext);
			}
			d->response = obs_scrub(d->response);
			d->row_ids = list_make1(b->ids[sent[k]]);
			res->dead = lappend(res->dead, d);
			b->done[sent[k]] = true;
		}
	}
	cJSON_Delete(answer);
	return pending ? OBS_SEND_RETRY : OBS_SEND_OK;
}

/* ------------------------------------------------------------------ webhook */

static char *
slack_text(cJSON *row)
{
	const char *keys[] = {"severity", "metric_name", "value", "comparison", "threshold",
	"rule_name", "tags", "observed_at", "alert_id"};
	char	   *v[lengthof(keys)];

	for (int i = 0; i < (int) lengthof(keys); i++)
	{
		cJSON	   *x = cJSON_GetObjectItemCaseSensitive(row, keys[i]);
		char	   *p;

		if (x == NULL || cJSON_IsNull(x))
			v[i] = pstrdup("-");
		else if (cJSON_IsString(x))
			v[i] = pstrdup(x->valuestring);
		else if ((p = cJSON_PrintUnformatted(x)) != NULL)
		{
			v[i] = pstrdup(p);
			cJSON_free(p);
		}
		else
			v[i] = pstrdup("?");
	}
	return psprintf("[%s] %s = %s (%s %s), rule %s, tags %s, at %s (alert %s)",
					v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
}

static ObsSendOutcome
webhook_send(const ObsSink *sink, ObsShipBatch *b, ObsSendResult *res)
{
	cJSON	   *fmt = cJSON_GetObjectItemCaseSensitive(sink->config, "format");
	bool		slack = cJSON_IsString(fmt) && strcmp(fmt->valuestring, "slack") == 0;
	const char *token = obs_credential(OBS_CRED_WEBHOOK_TOKEN);
	cJSON	   *row = b->rows->child;	/* row i */

	for (int i = 0; i < b->n; i++, row = row->next)
	{
		ObsHttpRequest req;
		ObsHttpAnswer ans;
		char	   *body;

		if (b->done[i])
			continue;
		if (slack)
		{
			StringInfoData s;

			initStringInfo(&s);
			appendStringInfo(&s, "{\"text\":%s}", json_string(slack_text(row)));
			body = s.data;
		}
		else
			body = b->texts[i];
		base_request(sink, &req, sink->endpoint);
		req.content_type = "application/json";
		req.body = body;
		req.body_len = strlen(body);
		if (token)
			obs_http_add_header(&req, psprintf("Authorization: Bearer %s", token));
		obs_http_request(&req, &ans);
		res->retry_after_s = ans.retry_after_s;
		if (ans.status >= 200 && ans.status < 300)
			b->done[i] = true;
		else if (obs_http_retryable(ans.status))
		{
			res->error = answer_error(&ans);
			res->status = ans.status;
			res->payload = body;
			return OBS_SEND_RETRY;
		}
		else
		{
			ObsDeadLetter *d = dead_letter(ans.status, ans.body, body);

			d->row_ids = list_make1(b->ids[i]);
			res->dead = lappend(res->dead, d);
			res->error = answer_error(&ans);
			b->done[i] = true;
		}
	}
	return OBS_SEND_OK;
}

/* ---------------------------------------------------- OTLP/HTTP, CloudWatch */

/*
 * The encoders are otlp.c and cloudwatch.c (encode.h); the TAP test
 * test/t/032_ship_otlp_cw.pl runs both kinds against receivers.  OTLP
 * sends the whole batch as one request.  CloudWatch sends its PutLogEvents
 * bodies in order: a body refused with a 4xx is a dead letter of its own
 * rows only, and after a retryable failure the rows of the bodies already
 * accepted are not sent again.  A batch the encoder refuses is a dead
 * letter (status 0) with its reason.
 *
 * sink->config: OTLP {"protobuf": bool, "service_name": text}; the
 * endpoint is the collector's base URL, /v1/<signal> is appended.
 * CloudWatch {"log_group", "log_stream", "region"}; the endpoint is
 * https://logs.<region>.amazonaws.com/ or a LocalStack-style URL.
 */
static const char *
cfg_string(const ObsSink *sink, const char *key, const char *dflt)
{
	cJSON	   *v = cJSON_GetObjectItemCaseSensitive(sink->config, key);

	return cJSON_IsString(v) ? v->valuestring : dflt;
}

/* a batch that cannot be encoded never will be: one dead letter */
static ObsSendOutcome
encode_failed(ObsShipBatch *b, const char *why, ObsSendResult *res)
{
	ObsDeadLetter *d = dead_letter(0, why ? why : "could not encode the batch", "");

	for (int i = 0; i < b->n; i++)
		if (!b->done[i])
			d->row_ids = lappend(d->row_ids, b->ids[i]);
	res->dead = lappend(res->dead, d);
	res->error = pstrdup(d->response);
	memset(b->done, true, sizeof(bool) * b->n);
	return OBS_SEND_OK;
}

/*
 * One POST of the rows i with in_unit[i] (in_unit NULL: every row); true
 * when it was accepted or refused for good, and then those rows are done
 * (a refused request is their dead letter).
 */
static bool
post_unit(const ObsSink *sink, ObsShipBatch *b, ObsHttpRequest *req, const bool *in_unit,
		  ObsSendResult *res)
{
	ObsHttpAnswer ans;

	obs_http_request(req, &ans);
	res->retry_after_s = ans.retry_after_s;
	if (!(ans.status >= 200 && ans.status < 300))
	{
		res->error = answer_error(&ans);
		res->status = ans.status;
		res->payload = req->body;
		if (obs_http_retryable(ans.status))
			return false;
		{
			ObsDeadLetter *d = dead_letter(ans.status, ans.body, req->body);

			for (int i = 0; i < b->n; i++)
				if (in_unit == NULL || in_unit[i])
					d->row_ids = lappend(d->row_ids, b->ids[i]);
			res->dead = lappend(res->dead, d);
		}
	}
	for (int i = 0; i < b->n; i++)
		if (in_unit == NULL || in_unit[i])
			b->done[i] = true;
	return true;
}

static ObsSendOutcome
otlp_send(const ObsSink *sink, ObsShipBatch *b, ObsSendResult *res)
{
	cJSON	   *pb = cJSON_GetObjectItemCaseSensitive(sink->config, "protobuf");
	bool		protobuf = cJSON_IsTrue(pb);
	const char *signal = strcmp(b->signal, "spans") == 0 ? "traces" : b->signal;
	StringInfoData body;
	const char *content_type = NULL;
	char	   *why = NULL;
	ObsHttpRequest req;
	size_t		len = strlen(sink->endpoint);

	initStringInfo(&body);
	if (!obs_otlp_encode(signal, b->rows, protobuf, cfg_string(sink, "service_name", "postgres"),
						 &body, &content_type, &why))
		return encode_failed(b, why, res);
	base_request(sink, &req, psprintf("%.*s/v1/%s", (int) (len > 0 && sink->endpoint[len - 1] == '/' ? len - 1 : len),
									  sink->endpoint, signal));
	req.content_type = content_type;
	req.body = body.data;
	req.body_len = body.len;
	if (!post_unit(sink, b, &req, NULL, res))
		return OBS_SEND_RETRY;
	return OBS_SEND_OK;
}

/*
 * The rows not yet done, as one request: their PutLogEvents bodies in
 * order.  A body accepted or refused for good (a dead letter of its rows
 * only) marks its rows done, so that after a retryable failure only the
 * rows of that body and the next ones are sent again.
 */
static ObsSendOutcome
cloudwatch_send(const ObsSink *sink, ObsShipBatch *b, ObsSendResult *res)
{
	const char *key_id = obs_credential(OBS_CRED_AWS_KEY_ID);
	const char *secret = obs_credential(OBS_CRED_AWS_SECRET);
	const char *token = obs_credential(OBS_CRED_AWS_TOKEN);
	StringInfo *bodies = NULL;
	char	   *why = NULL;
	int			nbodies;
	int		   *body_of_row = NULL;
	int		   *rowno = palloc(sizeof(int) * Max(b->n, 1));	/* todo -> batch */
	bool	   *in_unit = palloc(sizeof(bool) * Max(b->n, 1));
	int			ntodo = 0;
	cJSON	   *todo = cJSON_CreateArray(); /* references to the rows to send */
	cJSON	   *row = b->rows->child;

	if (todo == NULL)
		elog(ERROR, "out of memory");
	for (int i = 0; i < b->n; i++, row = row->next)
	{
		if (b->done[i])
			continue;
		if (!cJSON_AddItemReferenceToArray(todo, row))
		{
			cJSON_Delete(todo);
			elog(ERROR, "out of memory");
		}
		rowno[ntodo++] = i;
	}
	nbodies = obs_cloudwatch_encode(todo, cfg_string(sink, "log_group", ""),
									cfg_string(sink, "log_stream", ""), &bodies, &body_of_row, &why);
	cJSON_Delete(todo);			/* the references only */
	if (nbodies < 0)
		return encode_failed(b, why, res);
	if (key_id == NULL || secret == NULL)
	{
		res->error = pstrdup("no AWS credentials: set obs.aws_access_key_id and obs.aws_secret_access_key");
		return OBS_SEND_RETRY;
	}
	for (int k = 0; k < nbodies; k++)
	{
		ObsHttpRequest req;

		base_request(sink, &req, sink->endpoint);
		req.content_type = "application/x-amz-json-1.1";
		req.body = bodies[k]->data;
		req.body_len = bodies[k]->len;
		req.userpwd = psprintf("%s:%s", key_id, secret);
		req.aws_sigv4 = psprintf("aws:amz:%s:logs", cfg_string(sink, "region", "us-east-1"));
		obs_http_add_header(&req, "X-Amz-Target: Logs_20140328.PutLogEvents");
		if (token)
			obs_http_add_header(&req, psprintf("X-Amz-Security-Token: %s", token));
		memset(in_unit, false, sizeof(bool) * b->n);
		for (int j = 0; j < ntodo; j++)
			if (body_of_row[j] == k)
				in_unit[rowno[j]] = true;
		if (!post_unit(sink, b, &req, in_unit, res))
			return OBS_SEND_RETRY;
	}
	return OBS_SEND_OK;
}

/* ---------------------------------------------------------------- the table */

static const ObsSinkKind sink_kinds[] = {
	{"elasticsearch", "logs,spans,metrics,alerts", es_send},
	{"webhook", "alerts", webhook_send},
	{"otlp", "logs,spans,metrics", otlp_send},
	{"cloudwatch", "logs", cloudwatch_send},
};

/* the kind named kind, or NULL (a kind this build does not ship) */
const ObsSinkKind *
obs_sink_kind(const char *kind)
{
	for (int i = 0; i < (int) lengthof(sink_kinds); i++)
		if (strcmp(sink_kinds[i].kind, kind) == 0)
			return &sink_kinds[i];
	return NULL;
}
