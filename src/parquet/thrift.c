/*-------------------------------------------------------------------------
 * thrift.c
 *	  Thrift compact protocol encoder for Parquet page headers and footer.
 *
 * Field headers carry the delta from the previous field id of the same
 * struct when it fits in four bits, else the type and a zigzag varint id;
 * integers are zigzag varints, binaries a varint length and the bytes,
 * lists a size/type byte (or 0xF- and a varint size); a struct ends with
 * a stop byte.  Booleans in fields live in the header's type nibble.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "pq_internal.h"

static inline uint64
zigzag64(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

void
obs_tc_init(ThriftEnc *tc, PqBuf *out)
{
	tc->out = out;
	tc->depth = 0;
	tc->last[0] = 0;
}

static void
tc_field_header(ThriftEnc *tc, int16 fid, int type)
{
	int16		delta = fid - tc->last[tc->depth];

	if (delta > 0 && delta <= 15)
		pq_buf_byte(tc->out, (uint8) ((delta << 4) | type));
	else
	{
		pq_buf_byte(tc->out, (uint8) type);
		pq_buf_varint(tc->out, zigzag64(fid));
	}
	tc->last[tc->depth] = fid;
}

void
obs_tc_struct_begin(ThriftEnc *tc)
{
	if (tc->depth + 1 >= PQ_TC_MAX_DEPTH)
		elog(ERROR, "thrift structs nested too deeply");
	tc->depth++;
	tc->last[tc->depth] = 0;
}

void
obs_tc_struct_end(ThriftEnc *tc)
{
	pq_buf_byte(tc->out, 0);
	tc->depth--;
}

void
obs_tc_field_struct(ThriftEnc *tc, int16 fid)
{
	tc_field_header(tc, fid, TC_STRUCT);
	obs_tc_struct_begin(tc);
}

void
obs_tc_field_empty(ThriftEnc *tc, int16 fid)
{
	obs_tc_field_struct(tc, fid);
	obs_tc_struct_end(tc);
}

void
obs_tc_field_bool(ThriftEnc *tc, int16 fid, bool v)
{
	tc_field_header(tc, fid, v ? TC_BOOL_TRUE : TC_BOOL_FALSE);
}

void
obs_tc_field_i8(ThriftEnc *tc, int16 fid, int8 v)
{
	tc_field_header(tc, fid, TC_I8);
	pq_buf_byte(tc->out, (uint8) v);
}

void
obs_tc_field_i16(ThriftEnc *tc, int16 fid, int16 v)
{
	tc_field_header(tc, fid, TC_I16);
	pq_buf_varint(tc->out, zigzag64(v));
}

void
obs_tc_field_i32(ThriftEnc *tc, int16 fid, int32 v)
{
	tc_field_header(tc, fid, TC_I32);
	pq_buf_varint(tc->out, zigzag64(v));
}

void
obs_tc_field_i64(ThriftEnc *tc, int16 fid, int64 v)
{
	tc_field_header(tc, fid, TC_I64);
	pq_buf_varint(tc->out, zigzag64(v));
}

void
obs_tc_binary(ThriftEnc *tc, const void *data, size_t len)
{
	pq_buf_varint(tc->out, len);
	pq_buf_append(tc->out, data, len);
}

void
obs_tc_field_binary(ThriftEnc *tc, int16 fid, const void *data, size_t len)
{
	tc_field_header(tc, fid, TC_BINARY);
	obs_tc_binary(tc, data, len);
}

void
obs_tc_field_string(ThriftEnc *tc, int16 fid, const char *s)
{
	obs_tc_field_binary(tc, fid, s, strlen(s));
}

/* list header; the caller then writes n elements of elemtype */
void
obs_tc_field_list(ThriftEnc *tc, int16 fid, int elemtype, int n)
{
	tc_field_header(tc, fid, TC_LIST);
	if (n < 15)
		pq_buf_byte(tc->out, (uint8) ((n << 4) | elemtype));
	else
	{
		pq_buf_byte(tc->out, (uint8) (0xf0 | elemtype));
		pq_buf_varint(tc->out, (uint64) n);
	}
}

void
obs_tc_i32(ThriftEnc *tc, int32 v)
{
	pq_buf_varint(tc->out, zigzag64(v));
}
