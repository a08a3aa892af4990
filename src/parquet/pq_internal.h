/*-------------------------------------------------------------------------
 * pq_internal.h
 *	  Building blocks of the Parquet writer: byte buffers, the Thrift
 *	  compact protocol encoder, RLE/bit-packed hybrid encoding and codecs.
 *-------------------------------------------------------------------------
 */
#ifndef OBS_PQ_INTERNAL_H
#define OBS_PQ_INTERNAL_H

#include "utils/memutils.h"

#include "parquet.h"

/*
 * The memory a writer's row group holds, and the cap its growth respects.
 * Every buffer of the row group lives in cxt, and what cxt has allocated
 * is what is held.  A buffer doubles while that keeps the held bytes within
 * limit; past it, it grows only by what is asked for and sets over, and
 * the writer closes its row group at the end of the row.
 */
typedef struct PqBudget
{
	MemoryContext cxt;
	int64		limit;
	bool		over;
} PqBudget;

static inline int64
pq_budget_held(const PqBudget *budget)
{
	return (int64) MemoryContextMemAllocated(budget->cxt, false);
}

/* a growable byte buffer in the memory context it was created in */
typedef struct PqBuf
{
	char	   *data;			/* NULL until the first append */
	size_t		len;
	size_t		cap;
	MemoryContext cxt;
	PqBudget   *budget;			/* NULL: growth is not capped */
} PqBuf;

/*
 * The buffer's functions are all inline here, so that this header needs no
 * file of the writer: an empty buffer allocates nothing until the first
 * append.
 */
static inline void
obs_pq_buf_init(PqBuf *b, MemoryContext cxt, PqBudget *budget)
{
	b->cxt = cxt;
	b->budget = budget;
	b->data = NULL;
	b->len = b->cap = 0;
}

/*
 * Make room for extra more bytes.  The buffer doubles while that keeps its
 * budget within the limit; past it, the buffer grows by just what is asked
 * and the budget is marked over, so that the writer closes its row group.
 */
static inline void
obs_pq_buf_reserve(PqBuf *b, size_t extra)
{
	size_t		need = b->len + extra;
	size_t		cap;

	if (need <= b->cap)
		return;
	cap = Max(b->cap, 32);
	while (cap < need)
		cap *= 2;
	if (b->budget != NULL &&
		pq_budget_held(b->budget) + (int64) (cap - b->cap) > b->budget->limit)
	{
		cap = need;
		b->budget->over = true;
	}
	if (b->data == NULL)
		b->data = MemoryContextAllocHuge(b->cxt, cap);
	else
		b->data = repalloc_huge(b->data, cap);
	b->cap = cap;
}

/* release the buffer's memory; it stays usable, empty */
static inline void
obs_pq_buf_free(PqBuf *b)
{
	if (b->data)
		pfree(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}


static inline void
pq_buf_append(PqBuf *b, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (b->len + len > b->cap)
		obs_pq_buf_reserve(b, len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
}

static inline void
pq_buf_byte(PqBuf *b, uint8 v)
{
	if (b->len + 1 > b->cap)
		obs_pq_buf_reserve(b, 1);
	b->data[b->len++] = (char) v;
}

static inline void
pq_buf_u32le(PqBuf *b, uint32 v)
{
	uint8		x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};

	pq_buf_append(b, x, 4);
}

static inline void
pq_buf_varint(PqBuf *b, uint64 v)
{
	while (v >= 0x80)
	{
		pq_buf_byte(b, (uint8) (v | 0x80));
		v >>= 7;
	}
	pq_buf_byte(b, (uint8) v);
}

/* thrift.c: Thrift compact protocol, just what the Parquet footer needs */
#define PQ_TC_MAX_DEPTH 16

/* compact protocol type ids */
#define TC_BOOL_TRUE	1
#define TC_BOOL_FALSE	2
#define TC_I8			3
#define TC_I16			4
#define TC_I32			5
#define TC_I64			6
#define TC_BINARY		8
#define TC_LIST			9
#define TC_STRUCT		12

typedef struct ThriftEnc
{
	PqBuf	   *out;
	int			depth;
	int16		last[PQ_TC_MAX_DEPTH];
} ThriftEnc;

extern void obs_tc_init(ThriftEnc *tc, PqBuf *out);
extern void obs_tc_struct_begin(ThriftEnc *tc);
extern void obs_tc_struct_end(ThriftEnc *tc);
extern void obs_tc_field_struct(ThriftEnc *tc, int16 fid);
extern void obs_tc_field_bool(ThriftEnc *tc, int16 fid, bool v);
extern void obs_tc_field_i8(ThriftEnc *tc, int16 fid, int8 v);
extern void obs_tc_field_i16(ThriftEnc *tc, int16 fid, int16 v);
extern void obs_tc_field_i32(ThriftEnc *tc, int16 fid, int32 v);
extern void obs_tc_field_i64(ThriftEnc *tc, int16 fid, int64 v);
extern void obs_tc_field_binary(ThriftEnc *tc, int16 fid, const void *data, size_t len);
extern void obs_tc_field_string(ThriftEnc *tc, int16 fid, const char *s);
extern void obs_tc_field_list(ThriftEnc *tc, int16 fid, int elemtype, int n);
extern void obs_tc_i32(ThriftEnc *tc, int32 v);
extern void obs_tc_binary(ThriftEnc *tc, const void *data, size_t len);
/* an empty struct as a union member: field header then stop */
extern void obs_tc_field_empty(ThriftEnc *tc, int16 fid);

/* encoding.c */
extern int	obs_pq_bit_width(uint32 maxval);
extern void obs_pq_rle_encode(PqBuf *out, const uint32 *values, int n, int bit_width);
extern void obs_pq_rle_encode_u8(PqBuf *out, const uint8 *values, int n, int bit_width);
extern void obs_pq_rle_encode_same(PqBuf *out, uint8 value, int n, int bit_width);
extern void obs_pq_pack_bools(PqBuf *out, const uint8 *values, int n);
extern void obs_pq_delta_encode_i32(PqBuf *out, const char *values, int n, bool bytes);
extern void obs_pq_delta_encode_i64(PqBuf *out, const char *values, int n, bool bytes);
extern void obs_pq_dlba_encode(PqBuf *out, const char *vals, size_t len, int n, bool bytes,
							   size_t *lengths_end);
extern void obs_pq_bss_encode(PqBuf *out, const char *values, int n, int width);

/* compress.c: never ereports; returns false with *err set on failure */
typedef struct PqCompressor PqCompressor;
extern PqCompressor *obs_pq_compressor_create(MemoryContext cxt, ObsPqCodec codec, int level);
extern int	obs_pq_compressor_level(PqCompressor *c);
extern void obs_pq_compressor_set_level(PqCompressor *c, int level, int min_match,
										int hash_log, int strategy, int search_log,
										int window_log, bool literals);
extern size_t obs_pq_compress_bound(PqCompressor *c, size_t len);
extern bool obs_pq_compress(PqCompressor *c, const char *src, size_t len,
							char *dst, size_t cap, size_t *outlen, const char **err);
extern bool obs_pq_compress_parts(PqCompressor *c, const char *src, size_t len,
								  const size_t *ends, int nparts, char *dst, size_t cap,
								  size_t *outlen, const char **err);

#endif							/* OBS_PQ_INTERNAL_H */
