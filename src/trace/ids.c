/*-------------------------------------------------------------------------
 * ids.c
 *	  The obs.trace_id (16 bytes) and obs.span_id (8 bytes) types and the
 *	  random ids obs hands out.
 *
 * Both are fixed-length, pass-by-reference byte strings.  Text form is
 * lowercase hex (input also accepts uppercase); they order as unsigned byte
 * strings, so btree and hash opclasses are straightforward.  New ids come
 * from pg_strong_random() or a per-process generator (the trace ids of
 * traces obs opens start with the time, see obs_fast_trace_id()) and are
 * never all zeros, which W3C trace context reserves as invalid.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "common/pg_prng.h"
#include "miscadmin.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "trace/trace.h"

static const char hexdigits[] = "0123456789abcdef";

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode exactly 2*outlen hex digits; false on a non-hex digit */
bool
obs_hex_decode(const char *hex, int hexlen, uint8 *out, int outlen)
{
	if (hexlen != outlen * 2)
		return false;
	for (int i = 0; i < outlen; i++)
	{
		int			hi = hexval(hex[2 * i]);
		int			lo = hexval(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8) ((hi << 4) | lo);
	}
	return true;
}

/* write 2*inlen lowercase hex digits, no terminator */
void
obs_hex_encode(const uint8 *in, int inlen, char *out)
{
	for (int i = 0; i < inlen; i++)
	{
		out[2 * i] = hexdigits[in[i] >> 4];
		out[2 * i + 1] = hexdigits[in[i] & 0x0f];
	}
}

static bool
all_zero(const uint8 *b, int n)
{
	for (int i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

bool
obs_trace_id_is_zero(const ObsTraceId *id)
{
	return all_zero(id->bytes, OBS_TRACE_ID_LEN);
}

bool
obs_span_id_is_zero(const ObsSpanId *id)
{
	return all_zero(id->bytes, OBS_SPAN_ID_LEN);
}

static void
random_bytes(uint8 *buf, int n)
{
	do
	{
		if (!pg_strong_random(buf, n))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not generate a random id")));
	} while (all_zero(buf, n));
}

void
obs_random_trace_id(ObsTraceId *id)
{
	random_bytes(id->bytes, OBS_TRACE_ID_LEN);
}

void
obs_random_span_id(ObsSpanId *id)
{
	random_bytes(id->bytes, OBS_SPAN_ID_LEN);
}

/*
 * Ids of the spans obs opens: from a per-process xoroshiro128** generator
 * seeded from pg_strong_random(), because a strong random read costs
 * microseconds and every instrumented call opens a span.  Such ids are
 * unique with overwhelming probability but not unpredictable;
 * obs.new_trace_id() and obs.new_span_id() keep the strong source.
 */
static void
fast_bytes(uint8 *buf, int n)
{
	static pg_prng_state state;
	static int	seeded_pid = 0;

	if (seeded_pid != MyProcPid)
	{
		if (!pg_prng_strong_seed(&state))
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not seed the span id generator")));
		seeded_pid = MyProcPid;
	}
	do
	{
		for (int i = 0; i < n; i += 8)
		{
			uint64		v = pg_prng_uint64(&state);

			memcpy(buf + i, &v, Min(8, n - i));
		}
	} while (all_zero(buf, n));
}

/*
 * Trace ids of the traces obs opens lead with the time in microseconds
 * since 1970 (7 bytes, big-endian: like a UUIDv7, at microsecond
 * precision) and end with 9 random bytes (W3C trace context asks
 * for the rightmost 7 to be random).  So they order by time: obs.spans'
 * key (trace_id, span_id, start_time) and obs.logs' trace index take new
 * rows at their right edge, where a btree insert is cheapest.  With
 * milliseconds, the hundreds of traces a busy server opens in one
 * millisecond landed in random order, and the pages they filled split in
 * halves: that key was a third larger (252 against 189 MB for 4M spans)
 * and cost the flusher about a third more CPU per span.
 */
void
obs_fast_trace_id(ObsTraceId *id)
{
	uint64		us = (uint64) (GetCurrentTimestamp() +
							   (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY * USECS_PER_SEC);

	fast_bytes(id->bytes, OBS_TRACE_ID_LEN);
	for (int i = 0; i < 7; i++)
		id->bytes[i] = (uint8) (us >> (8 * (6 - i)));
}

void
obs_fast_span_id(ObsSpanId *id)
{
	fast_bytes(id->bytes, OBS_SPAN_ID_LEN);
}

/*
 * Type support of obs.trace_id and obs.span_id: fixed-length byte strings,
 * hex in text.  The shared bodies take the length and the type's name;
 * each SQL-callable function below is written out so that grep finds it.
 */
static void ereturn_invalid(const char *s, const char *label, int len) pg_attribute_noreturn();

static void
ereturn_invalid(const char *s, const char *label, int len)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"", label, s),
			 errdetail("A %s is %d hexadecimal digits.", label, 2 * len)));
}

static Datum
id_in(const char *s, int len, const char *label)
{
	uint8	   *id = palloc(len);
	size_t		slen = strlen(s);

	if (slen != (size_t) (2 * len) || !obs_hex_decode(s, (int) slen, id, len))
		ereturn_invalid(s, label, len);
	PG_RETURN_POINTER(id);
}

static Datum
id_out(const uint8 *id, int len)
{
	char	   *out = palloc(2 * len + 1);

	obs_hex_encode(id, len, out);
	out[2 * len] = '\0';
	PG_RETURN_CSTRING(out);
}

static Datum
id_recv(StringInfo buf, int len, const char *label)
{
	uint8	   *id = palloc(len);

	if (buf->len - buf->cursor != len)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid %s length in binary input", label)));
	pq_copymsgbytes(buf, (char *) id, len);
	PG_RETURN_POINTER(id);
}

static Datum
id_send(const uint8 *id, int len)
{
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendbytes(&buf, (const char *) id, len);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* memcmp of the two arguments */
static inline int
id_cmp(FunctionCallInfo fcinfo, int len)
{
	return memcmp(PG_GETARG_POINTER(0), PG_GETARG_POINTER(1), len);
}

/* ---- obs.trace_id */
PG_FUNCTION_INFO_V1(obs_trace_id_in);
Datum
obs_trace_id_in(PG_FUNCTION_ARGS)
{
	return id_in(PG_GETARG_CSTRING(0), OBS_TRACE_ID_LEN, "trace_id");
}

PG_FUNCTION_INFO_V1(obs_trace_id_out);
Datum
obs_trace_id_out(PG_FUNCTION_ARGS)
{
	return id_out(((const ObsTraceId *) PG_GETARG_POINTER(0))->bytes, OBS_TRACE_ID_LEN);
}

PG_FUNCTION_INFO_V1(obs_trace_id_recv);
Datum
obs_trace_id_recv(PG_FUNCTION_ARGS)
{
	return id_recv((StringInfo) PG_GETARG_POINTER(0), OBS_TRACE_ID_LEN, "trace_id");
}

PG_FUNCTION_INFO_V1(obs_trace_id_send);
Datum
obs_trace_id_send(PG_FUNCTION_ARGS)
{
	return id_send(((const ObsTraceId *) PG_GETARG_POINTER(0))->bytes, OBS_TRACE_ID_LEN);
}

PG_FUNCTION_INFO_V1(obs_trace_id_cmp);
Datum
obs_trace_id_cmp(PG_FUNCTION_ARGS)
{
	int			c = id_cmp(fcinfo, OBS_TRACE_ID_LEN);

	PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

PG_FUNCTION_INFO_V1(obs_trace_id_eq);
Datum
obs_trace_id_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) == 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_ne);
Datum
obs_trace_id_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) != 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_lt);
Datum
obs_trace_id_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) < 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_le);
Datum
obs_trace_id_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) <= 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_gt);
Datum
obs_trace_id_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) > 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_ge);
Datum
obs_trace_id_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_TRACE_ID_LEN) >= 0);
}

PG_FUNCTION_INFO_V1(obs_trace_id_hash);
Datum
obs_trace_id_hash(PG_FUNCTION_ARGS)
{
	return hash_any(((const ObsTraceId *) PG_GETARG_POINTER(0))->bytes, OBS_TRACE_ID_LEN);
}

/* ---- obs.span_id */
PG_FUNCTION_INFO_V1(obs_span_id_in);
Datum
obs_span_id_in(PG_FUNCTION_ARGS)
{
	return id_in(PG_GETARG_CSTRING(0), OBS_SPAN_ID_LEN, "span_id");
}

PG_FUNCTION_INFO_V1(obs_span_id_out);
Datum
obs_span_id_out(PG_FUNCTION_ARGS)
{
	return id_out(((const ObsSpanId *) PG_GETARG_POINTER(0))->bytes, OBS_SPAN_ID_LEN);
}

PG_FUNCTION_INFO_V1(obs_span_id_recv);
Datum
obs_span_id_recv(PG_FUNCTION_ARGS)
{
	return id_recv((StringInfo) PG_GETARG_POINTER(0), OBS_SPAN_ID_LEN, "span_id");
}

PG_FUNCTION_INFO_V1(obs_span_id_send);
Datum
obs_span_id_send(PG_FUNCTION_ARGS)
{
	return id_send(((const ObsSpanId *) PG_GETARG_POINTER(0))->bytes, OBS_SPAN_ID_LEN);
}

PG_FUNCTION_INFO_V1(obs_span_id_cmp);
Datum
obs_span_id_cmp(PG_FUNCTION_ARGS)
{
	int			c = id_cmp(fcinfo, OBS_SPAN_ID_LEN);

	PG_RETURN_INT32(c < 0 ? -1 : (c > 0 ? 1 : 0));
}

PG_FUNCTION_INFO_V1(obs_span_id_eq);
Datum
obs_span_id_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) == 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_ne);
Datum
obs_span_id_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) != 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_lt);
Datum
obs_span_id_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) < 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_le);
Datum
obs_span_id_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) <= 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_gt);
Datum
obs_span_id_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) > 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_ge);
Datum
obs_span_id_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(id_cmp(fcinfo, OBS_SPAN_ID_LEN) >= 0);
}

PG_FUNCTION_INFO_V1(obs_span_id_hash);
Datum
obs_span_id_hash(PG_FUNCTION_ARGS)
{
	return hash_any(((const ObsSpanId *) PG_GETARG_POINTER(0))->bytes, OBS_SPAN_ID_LEN);
}

PG_FUNCTION_INFO_V1(obs_new_trace_id);
Datum
obs_new_trace_id(PG_FUNCTION_ARGS)
{
	ObsTraceId *id = palloc(sizeof(ObsTraceId));

	obs_random_trace_id(id);
	PG_RETURN_POINTER(id);
}

PG_FUNCTION_INFO_V1(obs_new_span_id);
Datum
obs_new_span_id(PG_FUNCTION_ARGS)
{
	ObsSpanId  *id = palloc(sizeof(ObsSpanId));

	obs_random_span_id(id);
	PG_RETURN_POINTER(id);
}
