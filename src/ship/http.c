/*-------------------------------------------------------------------------
 * http.c
 *	  One HTTP request with libcurl, for every sink kind (POST) and for the
 *	  archive's S3 requests (PUT, HEAD, DELETE, POST).
 *
 * The request carries the sink's extra headers, an optional gzip body
 * (compressed here with zlib: CURLOPT_ACCEPT_ENCODING only concerns
 * answers), TLS verification on or off, a total timeout, basic auth or
 * AWS SigV4 (CURLOPT_AWS_SIGV4, key:secret in CURLOPT_USERPWD).  Nothing
 * here ereports while libcurl or zlib frames are on the stack: the
 * callbacks copy into a buffer allocated before the transfer, and every
 * allocation made during the transfer is libcurl's own.  Network errors
 * come back as status 0 with libcurl's message, credentials scrubbed.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <curl/curl.h>
#include <zlib.h>

#include "miscadmin.h"

#include "ship.h"

static bool curl_ready = false;

/*
 * The worker's SIGTERM flag (or a backend's cancel and die flags, for the
 * archive): a transfer in progress stops when one is set
 */
volatile sig_atomic_t *obs_http_abort = NULL;
volatile sig_atomic_t *obs_http_abort_also = NULL;

static int
transfer_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
				  curl_off_t ultotal, curl_off_t ulnow)
{
	return ((obs_http_abort && *obs_http_abort) ||
			(obs_http_abort_also && *obs_http_abort_also)) ? 1 : 0;
}

typedef struct AnswerBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
} AnswerBuf;

/* libcurl's write callback: keep the first OBS_HTTP_MAX_ANSWER bytes */
static size_t
answer_write(char *ptr, size_t size, size_t nmemb, void *arg)
{
	AnswerBuf  *b = arg;
	size_t		n = size * nmemb;
	size_t		room = b->cap - b->len;
	size_t		take = n < room ? n : room;

	memcpy(b->data + b->len, ptr, take);
	b->len += take;
	return n;
}

/* libcurl's header callback: keep the ETag and Content-Length values */
static size_t
answer_header(char *ptr, size_t size, size_t nitems, void *arg)
{
	ObsHttpAnswer *ans = arg;
	size_t		n = size * nitems;
	size_t		vlen;
	const char *v;

	if (n > 5 && pg_strncasecmp(ptr, "etag:", 5) == 0)
	{
		v = ptr + 5;
		vlen = n - 5;
	}
	else if (n > 15 && pg_strncasecmp(ptr, "content-length:", 15) == 0)
	{
		char		num[32];
		size_t		k = 0;

		for (size_t i = 15; i < n && k < sizeof(num) - 1; i++)
			if (ptr[i] >= '0' && ptr[i] <= '9')
				num[k++] = ptr[i];
		num[k] = '\0';
		if (k > 0 && k < 19)
			ans->content_length = strtoll(num, NULL, 10);
		return n;
	}
	else
		return n;
	while (vlen > 0 && (*v == ' ' || *v == '\t'))
		v++, vlen--;
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
		vlen--;
	if (vlen >= sizeof(ans->etag))
		vlen = sizeof(ans->etag) - 1;
	memcpy(ans->etag, v, vlen);
	ans->etag[vlen] = '\0';
	return n;
}

/* gzip (RFC 1952) of src into a palloc'd buffer; false on a zlib error */
static bool
gzip_body(const char *src, size_t len, char **out, size_t *outlen)
{
	z_stream	zs;
	size_t		cap = deflateBound(NULL, len) + 32;
	char	   *buf = palloc(cap);
	int			rc;

	memset(&zs, 0, sizeof(zs));
	if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return false;
	zs.next_in = (Bytef *) src;
	zs.avail_in = len;
	zs.next_out = (Bytef *) buf;
	zs.avail_out = cap;
	rc = deflate(&zs, Z_FINISH);
	*outlen = zs.total_out;
	deflateEnd(&zs);
	if (rc != Z_STREAM_END)
		return false;
	*out = buf;
	return true;
}

void
obs_http_add_header(ObsHttpRequest *req, const char *line)
{
	if (req->nheaders >= OBS_HTTP_MAX_HEADERS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many headers for one sink request"),
				 errdetail("At most %d headers are sent.", OBS_HTTP_MAX_HEADERS)));
	req->headers[req->nheaders++] = line;
}

/* 429 and 5xx are worth another try; other answers are final */
bool
obs_http_retryable(long status)
{
	return status == 0 || status == 408 || status == 429 || status >= 500;
}

/*
 * POST (or req->method) req->body to req->url.  Fills ans; never throws for
 * network or HTTP errors (only for out-of-memory before the transfer).
 */
void
obs_http_request(const ObsHttpRequest *req, ObsHttpAnswer *ans)
{
	CURL	   *curl;
	struct curl_slist *hdrs = NULL;
	AnswerBuf	buf;
	const char *body = req->body;
	size_t		body_len = req->body_len;
	char		errbuf[CURL_ERROR_SIZE];
	CURLcode	rc;
	bool		failed = false;

	memset(ans, 0, sizeof(*ans));
	ans->retry_after_s = -1;
	ans->content_length = -1;
	buf.cap = OBS_HTTP_MAX_ANSWER;
	buf.data = palloc(buf.cap + 1);
	buf.len = 0;

	if (req->gzip)
	{
		char	   *z;
		size_t		zlen;

		if (!gzip_body(req->body, req->body_len, &z, &zlen))
		{
			strlcpy(ans->error, "could not compress the request body", sizeof(ans->error));
			ans->body = buf.data;
			buf.data[0] = '\0';
			return;
		}
		body = z;
		body_len = zlen;
	}

	if (!curl_ready)
	{
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			elog(ERROR, "could not initialize libcurl");
		curl_ready = true;
	}
	curl = curl_easy_init();
	if (curl == NULL)
		elog(ERROR, "could not create a libcurl handle");

	errbuf[0] = '\0';
	/* every header line before the transfer, so that a failure is simple */
	for (int i = 0; i < req->nheaders && !failed; i++)
	{
		struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);

		if (n == NULL)
			failed = true;
		else
			hdrs = n;
	}
	if (!failed && req->content_type)
	{
		char		line[256];
		struct curl_slist *n;

		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		n = curl_slist_append(hdrs, line);
		failed = (n == NULL);
		if (n)
			hdrs = n;
	}
	if (!failed && req->gzip)
	{
		struct curl_slist *n = curl_slist_append(hdrs, "Content-Encoding: gzip");

		failed = (n == NULL);
		if (n)
			hdrs = n;
	}
	if (!failed && req->aws_sigv4 == NULL)
	{
		/*
		 * no "Expect: 100-continue" round trip on large bodies; but not with
		 * SigV4: libcurl (7.88) would sign the empty header it does not send,
		 * and the receiver refuses the signature
		 */
		struct curl_slist *n = curl_slist_append(hdrs, "Expect:");

		failed = (n == NULL);
		if (n)
			hdrs = n;
	}

	if (failed)
	{
		strlcpy(ans->error, "out of memory building the request headers", sizeof(ans->error));
		rc = CURLE_OUT_OF_MEMORY;
	}
	else
	{
		curl_easy_setopt(curl, CURLOPT_URL, req->url);
		if (req->method && strcmp(req->method, "HEAD") == 0)
			curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
		else
		{
			curl_easy_setopt(curl, CURLOPT_POST, 1L);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) body_len);
			if (req->method)
				curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
		}
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, answer_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, ans);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, answer_write);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &buf);
		curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->timeout_ms);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, transfer_progress);
		curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
		curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, req->tls_verify ? 1L : 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, req->tls_verify ? 2L : 0L);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "obs/" OBS_VERSION);
		if (req->userpwd)
			curl_easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
		if (req->aws_sigv4)
			curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, req->aws_sigv4);
		else if (req->userpwd)
			curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long) CURLAUTH_BASIC);

		rc = curl_easy_perform(curl);
		if (rc == CURLE_OK)
		{
			curl_off_t	ra = -1;

			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &ans->status);
			if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
				ans->retry_after_s = (long) Min(ra, (curl_off_t) 3600);
		}
		else
			snprintf(ans->error, sizeof(ans->error), "%s",
					 errbuf[0] ? errbuf : curl_easy_strerror(rc));
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);

	buf.data[buf.len] = '\0';
	ans->body = buf.data;
	ans->body_len = buf.len;
	if (ans->error[0])
	{
		char	   *s = obs_scrub(ans->error);

		strlcpy(ans->error, s, sizeof(ans->error));
	}
	if (ans->body_len > 0)
	{
		ans->body = obs_scrub(ans->body);
		ans->body_len = strlen(ans->body);
	}
}
