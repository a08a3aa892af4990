/*-------------------------------------------------------------------------
 * s3.c
 *	  Objects to an S3-compatible store: PUT, multipart upload, HEAD,
 *	  DELETE, the listings of objects and of unfinished multipart uploads.
 *
 * Every request is signed with AWS SigV4 by libcurl (CURLOPT_AWS_SIGV4,
 * through the shipping sinks' obs_http_request()), with the key of the
 * obs.aws_* settings, the environment or obs.credentials_file (ship's
 * obs_credential()), and carries x-amz-content-sha256 (the payload's
 * SHA-256, so that the signature covers the body) and Content-MD5 (so
 * that the server refuses a body that changed on the way: BadDigest).
 *
 * An object is never visible half written: a file up to part_size goes in
 * one PUT, which S3 applies whole or not at all; a larger one goes as a
 * multipart upload, whose object appears only at CompleteMultipartUpload
 * (an upload that fails here is aborted; one cut short by a crash stays
 * invisible until the next run of the signal's archive aborts it:
 * obs_archive_s3_abort_uploads()).  After the
 * upload a HEAD confirms the object's size and ETag: the MD5 of a single
 * PUT's body, or for a multipart object the MD5 of the parts' MD5s with
 * "-<parts>" (AWS), or the MD5 of the whole object (some S3-compatible
 * servers).  Texts from the server and libcurl pass through obs_scrub()
 * before they reach an error message.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>

#include "common/base64.h"
#include "common/cryptohash.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/fd.h"

#include "ship/ship.h"
#include "s3.h"

void
obs_archive_hex(const uint8 *bytes, int n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < n; i++)
	{
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

#define S3_TIMEOUT_MS (10 * 60 * 1000)

static pg_cryptohash_ctx *
hash_new(pg_cryptohash_type type)
{
	pg_cryptohash_ctx *c = pg_cryptohash_create(type);

	if (c == NULL || pg_cryptohash_init(c) < 0)
		elog(ERROR, "could not initialize a hash");
	return c;
}

static void
hash_add(pg_cryptohash_ctx *c, const void *data, size_t len)
{
	if (pg_cryptohash_update(c, (const uint8 *) data, len) < 0)
		elog(ERROR, "could not update a hash");
}

static void
hash_end(pg_cryptohash_ctx *c, uint8 *out, size_t outlen)
{
	if (pg_cryptohash_final(c, out, outlen) < 0)
		elog(ERROR, "could not finish a hash");
	pg_cryptohash_free(c);
}

/* the MD5 and SHA-256 of one buffer */
static void
digest_buf(const char *data, size_t len, uint8 *md5, uint8 *sha)
{
	pg_cryptohash_ctx *m = hash_new(PG_MD5);
	pg_cryptohash_ctx *s = hash_new(PG_SHA256);

	hash_add(m, data, len);
	hash_add(s, data, len);
	hash_end(m, md5, 16);
	hash_end(s, sha, 32);
}

/*
 * v with every byte but unreserved ones percent-encoded, as SigV4 signs it;
 * keep_slash: '/' too stays (an object key in a path)
 */
static void
append_encoded(StringInfo s, const char *v, bool keep_slash)
{
	for (const unsigned char *p = (const unsigned char *) v; *p; p++)
	{
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
			(*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
			*p == '~' || (keep_slash && *p == '/'))
			appendStringInfoChar(s, (char) *p);
		else
			appendStringInfo(s, "%%%02X", *p);
	}
}

/* the object's URL: path style at a configured endpoint, else AWS's virtual host */
static char *
object_url(const ObsArchiveTarget *t, const char *key, const char *query)
{
	StringInfoData s;

	initStringInfo(&s);
	if (t->endpoint)
	{
		appendStringInfo(&s, "%s/", t->endpoint);
		append_encoded(&s, t->bucket, true);
		appendStringInfoChar(&s, '/');
	}
	else
		appendStringInfo(&s, "https://%s.s3.%s.amazonaws.com/", t->bucket, t->region);
	append_encoded(&s, t->prefix, true);
	append_encoded(&s, key, true);
	/* in SigV4's canonical order already: libcurl signs the query as given */
	if (query)
		appendStringInfo(&s, "?%s", query);
	return s.data;
}

/* the bucket's URL with query (a listing), path style or AWS's virtual host */
static char *
bucket_url(const ObsArchiveTarget *t, const char *query)
{
	StringInfoData s;

	initStringInfo(&s);
	if (t->endpoint)
	{
		appendStringInfo(&s, "%s/", t->endpoint);
		append_encoded(&s, t->bucket, true);
	}
	else
		appendStringInfo(&s, "https://%s.s3.%s.amazonaws.com/", t->bucket, t->region);
	appendStringInfo(&s, "?%s", query);
	return s.data;
}

/*
 * One signed request; body may be NULL (no body).  With nothrow (inside an
 * error's cleanup), a missing key or a pending interrupt raises nothing.
 */
static void
s3_request_ext(const ObsArchiveTarget *t, const char *method, const char *url,
			   const char *body, size_t len, const char *content_type,
			   ObsHttpAnswer *ans, bool nothrow)
{
	ObsHttpRequest req;
	const char *key_id = obs_credential(OBS_CRED_AWS_KEY_ID);
	const char *secret = obs_credential(OBS_CRED_AWS_SECRET);
	const char *token = obs_credential(OBS_CRED_AWS_TOKEN);
	uint8		md5[16];
	uint8		sha[32];
	char		hex[65];
	char		b64[32];
	int			b64len;
	volatile sig_atomic_t *saved_abort = obs_http_abort;
	volatile sig_atomic_t *saved_also = obs_http_abort_also;
	char	   *userpwd;

	if ((key_id == NULL || secret == NULL) && nothrow)
		return;
	if (key_id == NULL || secret == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("no AWS credentials for archive location \"%s\"", t->location),
				 errhint("Set obs.aws_access_key_id and obs.aws_secret_access_key (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in the server's environment, or obs.credentials_file).")));

	digest_buf(body ? body : "", body ? len : 0, md5, sha);
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.url = url;
	req.body = body;
	req.body_len = body ? len : 0;
	req.content_type = content_type;
	req.tls_verify = t->tls_verify;
	req.timeout_ms = S3_TIMEOUT_MS;
	userpwd = psprintf("%s:%s", key_id, secret);
	req.userpwd = userpwd;
	req.aws_sigv4 = psprintf("aws:amz:%s:s3", t->region);
	obs_archive_hex(sha, 32, hex);
	obs_http_add_header(&req, psprintf("x-amz-content-sha256: %s", hex));
	if (body)
	{
		b64len = pg_b64_encode((const char *) md5, 16, b64, sizeof(b64) - 1);
		if (b64len < 0)
			elog(ERROR, "could not encode an MD5 digest");
		b64[b64len] = '\0';
		obs_http_add_header(&req, psprintf("Content-MD5: %s", b64));
	}
	if (token)
		obs_http_add_header(&req, psprintf("x-amz-security-token: %s", token));

	/* a cancel or terminate request stops the transfer */
	obs_http_abort = &QueryCancelPending;
	obs_http_abort_also = &ProcDiePending;
	obs_http_request(&req, ans);
	obs_http_abort = saved_abort;
	obs_http_abort_also = saved_also;
	explicit_bzero(userpwd, strlen(userpwd));
	if (!nothrow)
		CHECK_FOR_INTERRUPTS();
}

static void
s3_request(const ObsArchiveTarget *t, const char *method, const char *url,
		   const char *body, size_t len, const char *content_type,
		   ObsHttpAnswer *ans)
{
	s3_request_ext(t, method, url, body, len, content_type, ans, false);
}

/* ERROR unless the answer is a 2xx without an <Error> document */
static void
check_answer(const ObsArchiveTarget *t, const char *what, const char *key,
			 const ObsHttpAnswer *ans)
{
	if (ans->status >= 200 && ans->status < 300 &&
		(ans->body == NULL || strstr(ans->body, "<Error>") == NULL))
		return;
	if (ans->status == 0)
		ereport(ERROR,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("could not %s archive object \"%s\" at \"%s\": %s",
						what, key, t->location, ans->error)));
	ereport(ERROR,
			(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
			 errmsg("could not %s archive object \"%s\" at \"%s\": HTTP status %ld",
					what, key, t->location, ans->status),
			 ans->body_len > 0 ? errdetail("The server answered: %.500s", ans->body) : 0));
}

/* does etag (quoted or not) equal the hex text want? */
static bool
etag_is(const char *etag, const char *want)
{
	size_t		n = strlen(etag);

	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		return strlen(want) == n - 2 && pg_strncasecmp(etag + 1, want, n - 2) == 0;
	return pg_strcasecmp(etag, want) == 0;
}

/*
 * HEAD the object: its size must be size and its ETag one of want1/want2
 * (want2 may be NULL).
 */
static void
confirm_object(const ObsArchiveTarget *t, const char *key, uint64 size,
			   const char *want1, const char *want2)
{
	ObsHttpAnswer ans;

	s3_request(t, "HEAD", object_url(t, key, NULL), NULL, 0, NULL, &ans);
	check_answer(t, "confirm", key, &ans);
	if (ans.content_length != (int64) size)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive object \"%s\" at \"%s\" has %lld bytes, %llu were sent",
						key, t->location, (long long) ans.content_length,
						(unsigned long long) size)));
	if (!etag_is(ans.etag, want1) && !(want2 && etag_is(ans.etag, want2)))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive object \"%s\" at \"%s\" has ETag %s, expected \"%s\"",
						key, t->location, ans.etag[0] ? ans.etag : "(none)", want1)));
}

/* one PUT of the whole object, then HEAD */
void
obs_archive_s3_put_bytes(const ObsArchiveTarget *t, const char *key,
						 const char *data, size_t len, const char *content_type)
{
	ObsHttpAnswer ans;
	uint8		md5[16];
	uint8		sha[32];
	char		md5hex[33];

	digest_buf(data, len, md5, sha);
	obs_archive_hex(md5, 16, md5hex);
	s3_request(t, "PUT", object_url(t, key, NULL), data, len, content_type, &ans);
	check_answer(t, "upload", key, &ans);
	confirm_object(t, key, len, md5hex, NULL);
}

/* the text between <tag> and </tag> in xml, or NULL */
static char *
xml_value(const char *xml, const char *tag)
{
	char	   *open = psprintf("<%s>", tag);
	char	   *close = psprintf("</%s>", tag);
	const char *b = xml ? strstr(xml, open) : NULL;
	const char *e;

	if (b == NULL)
		return NULL;
	b += strlen(open);
	e = strstr(b, close);
	if (e == NULL)
		return NULL;
	return pnstrdup(b, e - b);
}

/* read exactly len bytes at offset of fd into buf */
static void
read_chunk(int fd, const char *path, char *buf, size_t len, off_t offset)
{
	size_t		done = 0;

	while (done < len)
	{
		ssize_t		n = pg_pread(fd, buf + done, Min(len - done, (size_t) 1 << 30),
								 offset + done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", path)));
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" is shorter than when it was written", path)));
		done += n;
	}
}

static void
abort_upload(const ObsArchiveTarget *t, const char *key, const char *upload_id)
{
	ObsHttpAnswer ans;
	StringInfoData q;

	initStringInfo(&q);
	appendStringInfoString(&q, "uploadId=");
	append_encoded(&q, upload_id, true);
	/* best effort, raising nothing: a failed abort leaves an invisible upload */
	s3_request_ext(t, "DELETE", object_url(t, key, q.data), NULL, 0, NULL, &ans, true);
}

/*
 * The file at path (size bytes, SHA-256 sha256 as the writer made it) to
 * key: one PUT up to part_size, else a multipart upload.  The bytes read
 * are hashed again and must give sha256: a staging file that changed is
 * never confirmed.
 */
void
obs_archive_s3_put_file(const ObsArchiveTarget *t, const char *key,
						const char *path, uint64 size, const uint8 *sha256)
{
	int			f;
	size_t		part = t->part_size;
	char	   *buf;
	pg_cryptohash_ctx *whole_md5;
	pg_cryptohash_ctx *whole_sha;
	pg_cryptohash_ctx *md5s;
	uint8		digest[32];
	char		hex_whole[33];
	char		hex_multi[48];
	char	   *upload_id = NULL;
	int			nparts;
	StringInfoData complete;

	/* a transient file: closed at the end of the transaction, on error too */
	f = OpenTransientFile(path, O_RDONLY | PG_BINARY);
	if (f < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\": %m", path)));
	buf = palloc(Min((uint64) part, Max(size, 1)));
	whole_md5 = hash_new(PG_MD5);
	whole_sha = hash_new(PG_SHA256);
	md5s = hash_new(PG_MD5);

	if (size <= part)
	{
		ObsHttpAnswer ans;

		read_chunk(f, path, buf, size, 0);
		hash_add(whole_md5, buf, size);
		hash_add(whole_sha, buf, size);
		hash_end(whole_sha, digest, 32);
		if (memcmp(digest, sha256, 32) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" changed after it was written", path)));
		hash_end(whole_md5, digest, 16);
		obs_archive_hex(digest, 16, hex_whole);
		s3_request(t, "PUT", object_url(t, key, NULL), buf, size,
				   "application/vnd.apache.parquet", &ans);
		check_answer(t, "upload", key, &ans);
		pg_cryptohash_free(md5s);
		CloseTransientFile(f);
		confirm_object(t, key, size, hex_whole, NULL);
		return;
	}

	nparts = (int) ((size + part - 1) / part);
	if (nparts > 10000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("archive file \"%s\" needs %d parts of %zu bytes; S3 takes at most 10000",
						path, nparts, part),
				 errhint("Raise part_size_mb with obs.set_archive().")));
	{
		ObsHttpAnswer ans;

		s3_request(t, "POST", object_url(t, key, "uploads="), "", 0,
				   "application/vnd.apache.parquet", &ans);
		check_answer(t, "start the multipart upload of", key, &ans);
		upload_id = xml_value(ans.body, "UploadId");
		if (upload_id == NULL || upload_id[0] == '\0')
			ereport(ERROR,
					(errcode(ERRCODE_EXTERNAL_ROUTINE_EXCEPTION),
					 errmsg("could not start the multipart upload of archive object \"%s\" at \"%s\": no UploadId in the answer",
							key, t->location)));
	}
	initStringInfo(&complete);
	appendStringInfoString(&complete, "<CompleteMultipartUpload>");
	PG_TRY();
	{
		for (int i = 0; i < nparts; i++)
		{
			size_t		n = (size_t) Min((uint64) part, size - (uint64) i * part);
			ObsHttpAnswer ans;
			StringInfoData q;
			uint8		pmd5[16];
			char		phex[33];
			pg_cryptohash_ctx *pm = hash_new(PG_MD5);

			read_chunk(f, path, buf, n, (off_t) i * part);
			hash_add(whole_md5, buf, n);
			hash_add(whole_sha, buf, n);
			hash_add(pm, buf, n);
			hash_end(pm, pmd5, 16);
			hash_add(md5s, pmd5, 16);
			obs_archive_hex(pmd5, 16, phex);
			initStringInfo(&q);
			appendStringInfo(&q, "partNumber=%d&uploadId=", i + 1);
			append_encoded(&q, upload_id, true);
			s3_request(t, "PUT", object_url(t, key, q.data), buf, n, NULL, &ans);
			check_answer(t, "upload a part of", key, &ans);
			if (!etag_is(ans.etag, phex))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("part %d of archive object \"%s\" at \"%s\" has ETag %s, expected \"%s\"",
								i + 1, key, t->location, ans.etag[0] ? ans.etag : "(none)", phex)));
			appendStringInfo(&complete, "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>",
							 i + 1, phex);
		}
		appendStringInfoString(&complete, "</CompleteMultipartUpload>");
		hash_end(whole_sha, digest, 32);
		whole_sha = NULL;
		if (memcmp(digest, sha256, 32) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("file \"%s\" changed after it was written", path)));
		{
			ObsHttpAnswer ans;
			StringInfoData q;

			initStringInfo(&q);
			appendStringInfoString(&q, "uploadId=");
			append_encoded(&q, upload_id, true);
			s3_request(t, "POST", object_url(t, key, q.data), complete.data, complete.len,
					   "application/xml", &ans);
			check_answer(t, "complete the multipart upload of", key, &ans);
		}
	}
	PG_CATCH();
	{
		abort_upload(t, key, upload_id);
		PG_RE_THROW();
	}
	PG_END_TRY();
	CloseTransientFile(f);
	hash_end(whole_md5, digest, 16);
	obs_archive_hex(digest, 16, hex_whole);
	hash_end(md5s, digest, 16);
	obs_archive_hex(digest, 16, hex_multi);
	snprintf(hex_multi + 32, sizeof(hex_multi) - 32, "-%d", nparts);
	confirm_object(t, key, size, hex_multi, hex_whole);
}

/* xml's text with its five predefined entities decoded */
static char *
xml_text(const char *xml)
{
	StringInfoData s;
	static const char *const ent[][2] = {
		{"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}
	};

	initStringInfo(&s);
	while (*xml)
	{
		int			i;

		for (i = 0; i < (int) lengthof(ent); i++)
			if (strncmp(xml, ent[i][0], strlen(ent[i][0])) == 0)
				break;
		if (i < (int) lengthof(ent))
		{
			appendStringInfoString(&s, ent[i][1]);
			xml += strlen(ent[i][0]);
		}
		else
			appendStringInfoChar(&s, *xml++);
	}
	return s.data;
}

/*
 * The keys (relative to the target's prefix) of the objects whose keys
 * start with prefix there: one ListObjectsV2 page, at most 1000 keys.
 */
List *
obs_archive_s3_list(const ObsArchiveTarget *t, const char *prefix)
{
	ObsHttpAnswer ans;
	StringInfoData q;
	List	   *keys = NIL;
	const char *p;
	size_t		plen = strlen(t->prefix);

	initStringInfo(&q);
	appendStringInfoString(&q, "list-type=2&prefix=");
	append_encoded(&q, t->prefix, false);
	append_encoded(&q, prefix, false);
	s3_request(t, "GET", bucket_url(t, q.data), NULL, 0, NULL, &ans);
	check_answer(t, "list", prefix, &ans);
	for (p = ans.body; (p = strstr(p, "<Key>")) != NULL; p++)
	{
		char	   *k = xml_value(p, "Key");

		if (k == NULL)
			break;
		k = xml_text(k);
		if (strncmp(k, t->prefix, plen) == 0)
			keys = lappend(keys, pstrdup(k + plen));
	}
	return keys;
}

/*
 * DELETE the object at key; one that is not there is no error.  With
 * nothrow, a failure raises nothing either (best effort).
 */
void
obs_archive_s3_delete(const ObsArchiveTarget *t, const char *key, bool nothrow)
{
	ObsHttpAnswer ans;

	s3_request_ext(t, "DELETE", object_url(t, key, NULL), NULL, 0, NULL, &ans, nothrow);
	if (nothrow || ans.status == 404)
		return;
	check_answer(t, "remove", key, &ans);
}

/*
 * Abort the multipart uploads in progress under prefix (relative to the
 * target's prefix) whose keys orphan() accepts: ListMultipartUploads, 100
 * at a time, at most 20 pages a call, then AbortMultipartUpload for each.
 * An upload already gone (NoSuchUpload) is no error.  Returns how many
 * were aborted; each gets a LOG line.
 */
int
obs_archive_s3_abort_uploads(const ObsArchiveTarget *t, const char *prefix,
							 bool (*orphan) (const char *key, void *arg), void *arg)
{
	char	   *key_marker = NULL;
	char	   *id_marker = NULL;
	size_t		plen = strlen(t->prefix);
	int			aborted = 0;

	for (int page = 0; page < 20; page++)
	{
		ObsHttpAnswer ans;
		StringInfoData q;
		const char *p;
		char	   *truncated;

		/* in SigV4's canonical (sorted) order */
		initStringInfo(&q);
		if (key_marker)
		{
			appendStringInfoString(&q, "key-marker=");
			append_encoded(&q, key_marker, false);
			appendStringInfoChar(&q, '&');
		}
		appendStringInfoString(&q, "max-uploads=100&prefix=");
		append_encoded(&q, t->prefix, false);
		append_encoded(&q, prefix, false);
		if (id_marker)
		{
			appendStringInfoString(&q, "&upload-id-marker=");
			append_encoded(&q, id_marker, false);
		}
		appendStringInfoString(&q, "&uploads=");
		s3_request(t, "GET", bucket_url(t, q.data), NULL, 0, NULL, &ans);
		check_answer(t, "list the multipart uploads under", prefix, &ans);

		for (p = ans.body; (p = strstr(p, "<Upload>")) != NULL; p++)
		{
			const char *end = strstr(p, "</Upload>");
			char	   *one;
			char	   *key;
			char	   *id;
			ObsHttpAnswer del;
			StringInfoData dq;

			if (end == NULL)
				break;
			one = pnstrdup(p, end - p);
			key = xml_value(one, "Key");
			id = xml_value(one, "UploadId");
			if (key == NULL || id == NULL)
				continue;
			key = xml_text(key);
			id = xml_text(id);
			if (strncmp(key, t->prefix, plen) != 0 || !orphan(key + plen, arg))
				continue;
			initStringInfo(&dq);
			appendStringInfoString(&dq, "uploadId=");
			append_encoded(&dq, id, false);
			s3_request(t, "DELETE", object_url(t, key + plen, dq.data), NULL, 0, NULL, &del);
			if (del.status == 404)
				continue;
			check_answer(t, "abort the multipart upload of", key + plen, &del);
			ereport(LOG,
					(errmsg("obs archive: aborted the unfinished multipart upload of \"%s\" at \"%s\", left by a crash",
							key + plen, t->location)));
			aborted++;
		}

		truncated = xml_value(ans.body, "IsTruncated");
		if (truncated == NULL || strcmp(truncated, "true") != 0)
			break;
		key_marker = xml_value(ans.body, "NextKeyMarker");
		id_marker = xml_value(ans.body, "NextUploadIdMarker");
		if (key_marker == NULL || key_marker[0] == '\0')
			break;
		key_marker = xml_text(key_marker);
		if (id_marker)
			id_marker = xml_text(id_marker);
	}
	return aborted;
}
