/*-------------------------------------------------------------------------
 * ship.h
 *	  Shipping: sink workers that send committed rows to Elasticsearch,
 *	  webhooks (and OTLP, CloudWatch) with libcurl and cJSON.
 *
 * Layer 4 (beside api, instrument and parquet): it reads obs's tables
 * through SPI and needs only core and store below it.
 *
 *	worker.c	the ship launcher and one ship worker per database with
 *				sinks: the loop, the cursor (SQL functions of 85_ship.sql),
 *				retries with backoff, dead letters
 *	sinks.c		the table of sink kinds: how each kind turns a batch of
 *				rows into requests and judges the answers
 *	http.c		one HTTP request with libcurl: headers, gzip, TLS, timeout,
 *				Retry-After, AWS SigV4; never ereports inside libcurl (also
 *				the archive's S3 requests: PUT, HEAD, DELETE, ETag)
 *	creds.c		credentials: superuser-only settings, the environment, a
 *				file only the server can read; scrubbing them from text
 *	jaeger.c	obs.export_jaeger()
 *	rowjson.c	obs._ship_row_json(): a batch's rows as JSON text
 *-------------------------------------------------------------------------
 */
#ifndef OBS_SHIP_H
#define OBS_SHIP_H

#include <signal.h>

#include <cjson/cJSON.h>

#include "lib/stringinfo.h"
#include "nodes/pg_list.h"

/* settings (guc.c) */
extern char *obs_elastic_api_key;
extern char *obs_elastic_user;
extern char *obs_elastic_password;
extern char *obs_webhook_bearer_token;
extern char *obs_aws_access_key_id;
extern char *obs_aws_secret_access_key;
extern char *obs_aws_session_token;
extern char *obs_credentials_file;

/* worker.c */
extern void obs_ship_init(void);	/* shared memory and the launcher */

/* the encoders of the OTLP and CloudWatch kinds: encode.h */

/* http.c: one request */
#define OBS_HTTP_MAX_HEADERS 32
#define OBS_HTTP_MAX_ANSWER (64 * 1024)

typedef struct ObsHttpRequest
{
	const char *method;			/* NULL: POST; or "PUT", "HEAD", "DELETE" */
	const char *url;
	const char *content_type;
	const char *body;
	size_t		body_len;
	const char *headers[OBS_HTTP_MAX_HEADERS];	/* "Name: value" lines */
	int			nheaders;
	bool		gzip;			/* compress the body, Content-Encoding: gzip */
	bool		tls_verify;
	long		timeout_ms;
	const char *userpwd;		/* basic auth, or the AWS key:secret */
	const char *aws_sigv4;		/* e.g. "aws:amz:eu-west-1:logs", or NULL */
} ObsHttpRequest;

typedef struct ObsHttpAnswer
{
	long		status;			/* 0: no answer (network error) */
	long		retry_after_s;	/* -1: no Retry-After */
	char	   *body;			/* palloc'd, NUL-terminated, cut at MAX_ANSWER */
	size_t		body_len;
	char		error[256];		/* network error text, scrubbed */
	char		etag[128];		/* the ETag header's value, "" when none */
	int64		content_length; /* the Content-Length header, -1 when none */
} ObsHttpAnswer;

extern void obs_http_request(const ObsHttpRequest *req, ObsHttpAnswer *ans);
extern volatile sig_atomic_t *obs_http_abort;	/* set: abort transfers */
extern volatile sig_atomic_t *obs_http_abort_also;	/* a second such flag */
extern void obs_http_add_header(ObsHttpRequest *req, const char *line);

/* creds.c */
typedef enum ObsCredential
{
	OBS_CRED_ELASTIC_API_KEY,
	OBS_CRED_ELASTIC_USER,
	OBS_CRED_ELASTIC_PASSWORD,
	OBS_CRED_WEBHOOK_TOKEN,
	OBS_CRED_AWS_KEY_ID,
	OBS_CRED_AWS_SECRET,
	OBS_CRED_AWS_TOKEN,
	OBS_NUM_CREDENTIALS
} ObsCredential;
extern const char *obs_credential_values[OBS_NUM_CREDENTIALS];	/* set by guc.c's hooks */
extern const char *obs_credential(ObsCredential c);
extern void obs_credentials_reload(void);
extern char *obs_scrub(const char *text);

/* sinks.c: the sink kinds */
typedef struct ObsSink
{
	char	   *name;
	char	   *kind;
	char	   *endpoint;
	cJSON	   *config;			/* kind's options (index, format, ...) */
	cJSON	   *headers;		/* extra headers, an object */
	int			batch_size;
	int			flush_interval_ms;
	bool		gzip;
	bool		tls_verify;
	int			timeout_ms;
	int			max_retries;	/* retries of a failing batch; -1: no limit */
} ObsSink;

/* what an attempt to send rows[0..n) (those with done[i] false) gave */
typedef enum ObsSendOutcome
{
	OBS_SEND_OK,				/* every row accepted or dead-lettered */
	OBS_SEND_RETRY,				/* some rows still to send: network, 429, 5xx */
} ObsSendOutcome;

/* a refused batch or item, kept in obs.ship_dead_letters */
typedef struct ObsDeadLetter
{
	int			status;
	char	   *response;
	char	   *payload;
	List	   *row_ids;		/* of char * */
} ObsDeadLetter;

typedef struct ObsSendResult
{
	long		retry_after_s;	/* from the answer, -1 when none */
	char	   *error;			/* the last error (scrubbed), when any */
	List	   *dead;			/* of ObsDeadLetter * */
	/* OBS_SEND_RETRY: the failed request, for a dead letter at max_retries */
	long		status;			/* its answer's status; 0: network error */
	const char *payload;		/* its body, or NULL */
} ObsSendResult;

/*
 * A batch being shipped: n rows of one signal, as cJSON (the encoders'
 * input), as the jsonb text they were read as, and their ids (the ES
 * _id, the dead letters' row_ids).  done[i] is set once row i was
 * accepted or dead-lettered; a retry sends only the others.
 */
typedef struct ObsShipBatch
{
	const char *signal;			/* logs, spans, metrics, alerts */
	int			n;
	cJSON	   *rows;			/* array of n objects */
	char	  **texts;
	char	  **ids;
	bool	   *done;
} ObsShipBatch;

typedef struct ObsSinkKind
{
	const char *kind;			/* obs.sinks.kind */
	const char *signals;		/* the signals it ships, comma separated */
	/* send the rows not yet done; see ObsSendOutcome */
	ObsSendOutcome (*send) (const ObsSink *sink, ObsShipBatch *batch, ObsSendResult *res);
} ObsSinkKind;

extern const ObsSinkKind *obs_sink_kind(const char *kind);
extern bool obs_http_retryable(long status);

#endif							/* OBS_SHIP_H */
