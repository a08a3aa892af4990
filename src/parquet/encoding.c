/*-------------------------------------------------------------------------
 * encoding.c
 *	  RLE/bit-packed hybrid encoding (levels, dictionary indices), PLAIN
 *	  booleans, DELTA_BINARY_PACKED integers and BYTE_STREAM_SPLIT floats.
 *
 * The encoder sees a whole page's values at once.  A stretch of eight or
 * more equal values becomes an RLE run; everything between runs becomes
 * bit-packed groups of eight.  Bit-packed groups must hold exactly eight
 * values except at the very end, so a run lends the preceding literals the
 * values they need to fill their last group.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pq_internal.h"

/* bits needed to represent maxval (0 for 0) */
int
obs_pq_bit_width(uint32 maxval)
{
	int			w = 0;

	while (maxval)
	{
		w++;
		maxval >>= 1;
	}
	return w;
}

/*
 * The encoder reads levels (one byte each) and dictionary indices (four
 * bytes each); every function takes the element size and is inlined into
 * one entry point per size, so the loops see a constant.
 */
static pg_attribute_always_inline uint32
elem(const void *v, int i, int size)
{
	if (size == 1)
		return ((const uint8 *) v)[i];
	return ((const uint32 *) v)[i];
}

/* bit-pack n values (n a multiple of 8, padded by the caller) LSB first */
static pg_attribute_always_inline void
pack_bits(PqBuf *out, const void *v, int size, int n, int bw)
{
	uint64		acc = 0;
	int			nbits = 0;

	obs_pq_buf_reserve(out, (size_t) n * bw / 8 + 8);
	for (int i = 0; i < n; i++)
	{
		acc |= (uint64) elem(v, i, size) << nbits;
		nbits += bw;
		while (nbits >= 8)
		{
			out->data[out->len++] = (char) (acc & 0xff);
			acc >>= 8;
			nbits -= 8;
		}
	}
	Assert(nbits == 0);
}

/* literal values as bit-packed runs of at most 63 groups each */
static pg_attribute_always_inline void
emit_literals(PqBuf *out, const void *values, int size, int n, int bw)
{
	uint32		pad[8];
	const char *v = values;

	while (n > 0)
	{
		int			take = Min(n, 63 * 8);
		int			groups = (take + 7) / 8;
		int			full = take & ~7;

		pq_buf_varint(out, ((uint64) groups << 1) | 1);
		if (full > 0)
			pack_bits(out, v, size, full, bw);
		if (full < take)
		{
			/* only the last run of a page may end in a partial group */
			memset(pad, 0, sizeof(pad));
			for (int i = full; i < take; i++)
				pad[i - full] = elem(v, i, size);
			pack_bits(out, pad, 4, 8, bw);
		}
		v += (size_t) take * size;
		n -= take;
	}
}

static void
emit_run(PqBuf *out, uint32 value, int count, int bw)
{
	int			nbytes = (bw + 7) / 8;

	pq_buf_varint(out, (uint64) count << 1);
	for (int i = 0; i < nbytes; i++)
		pq_buf_byte(out, (uint8) (value >> (8 * i)));
}

static pg_attribute_always_inline void
rle_encode(PqBuf *out, const void *values, int size, int n, int bw)
{
	int			lit = 0;		/* first value not yet emitted */
	int			i = 0;

	while (i < n)
	{
		uint32		v = elem(values, i, size);
		int			j = i + 1;
		int			run;

		while (j < n && elem(values, j, size) == v)
			j++;
		run = j - i;
		if (run >= 8)
		{
			int			nlit = i - lit;
			int			borrow = (8 - nlit % 8) % 8;

			if (run - borrow >= 8)
			{
				i += borrow;
				emit_literals(out, (const char *) values + (size_t) lit * size, size,
							  nlit + borrow, bw);
				emit_run(out, v, j - i, bw);
				lit = j;
			}
		}
		i = j;
	}
	if (lit < n)
		emit_literals(out, (const char *) values + (size_t) lit * size, size, n - lit, bw);
}

/*
 * Append the RLE/bit-packed hybrid encoding of values[0..n) to out, with
 * no length prefix (the caller adds one for v1 data page levels).
 */
void
obs_pq_rle_encode(PqBuf *out, const uint32 *values, int n, int bw)
{
	rle_encode(out, values, 4, n, bw);
}

/* the same for byte-sized values: definition and repetition levels */
void
obs_pq_rle_encode_u8(PqBuf *out, const uint8 *values, int n, int bw)
{
	rle_encode(out, values, 1, n, bw);
}

/* the same as obs_pq_rle_encode_u8 of n values that all equal value */
void
obs_pq_rle_encode_same(PqBuf *out, uint8 value, int n, int bw)
{
	if (n >= 8)
		emit_run(out, value, n, bw);
	else if (n > 0)
	{
		uint8		v[8];

		memset(v, value, n);
		rle_encode(out, v, 1, n, bw);
	}
}

/* PLAIN booleans: one bit each, LSB first */
void
obs_pq_pack_bools(PqBuf *out, const uint8 *values, int n)
{
	int			nbytes = (n + 7) / 8;

	obs_pq_buf_reserve(out, nbytes);
	memset(out->data + out->len, 0, nbytes);
	for (int i = 0; i < n; i++)
		if (values[i])
			out->data[out->len + i / 8] |= (char) (1 << (i % 8));
	out->len += nbytes;
}

/*
 * DELTA_BINARY_PACKED: blocks of 128 values, each in 4 miniblocks of 32.
 * Deltas wrap around in the column's own width (32 or 64 bits), as every
 * reader adds them back, so an INT32 miniblock never needs more than 32
 * bits whatever the values.  A monotone column with a constant step
 * (ids) packs to zero bits per value.
 *
 * With bytes, each miniblock's bit width is rounded up to whole bytes (8,
 * 16, 24, ...; 0 stays 0): readers take any width up to the type's, and
 * the codec then sees each delta as bytes of its own.  Deltas that take
 * few distinct values spread over many bits (timestamps in milliseconds
 * stored as microseconds) compress far better that way than packed.
 */
#define DELTA_BLOCK			128
#define DELTA_MINIBLOCKS	4
#define DELTA_MINI			(DELTA_BLOCK / DELTA_MINIBLOCKS)

static inline uint64
zigzag64(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

/* n (<= 32) values of bw bits each, LSB first, padded to 32 values */
static void
pack_mini(PqBuf *out, const uint64 *v, int n, int bw)
{
	unsigned __int128 acc = 0;
	int			nbits = 0;
	size_t		bytes = (size_t) DELTA_MINI * bw / 8;
	char	   *dst;

	if (bw == 0)
		return;
	obs_pq_buf_reserve(out, bytes);
	dst = out->data + out->len;
	for (int i = 0; i < DELTA_MINI; i++)
	{
		acc |= (unsigned __int128) (i < n ? v[i] : 0) << nbits;
		nbits += bw;
		while (nbits >= 8)
		{
			*dst++ = (char) (uint8) acc;
			acc >>= 8;
			nbits -= 8;
		}
	}
	Assert(nbits == 0);
	out->len += bytes;
}

/* the delta from value i - 1 to value i, wrapped in the column's width */
static pg_attribute_always_inline int64
delta_at(const char *values, int i, bool is64)
{
	if (is64)
	{
		int64		a,
					b;

		memcpy(&a, values + (size_t) (i - 1) * 8, 8);
		memcpy(&b, values + (size_t) i * 8, 8);
		return (int64) ((uint64) b - (uint64) a);
	}
	else
	{
		int32		a,
					b;

		memcpy(&a, values + (size_t) (i - 1) * 4, 4);
		memcpy(&b, values + (size_t) i * 4, 4);
		return (int32) ((uint32) b - (uint32) a);
	}
}

/* d - base, unsigned in the column's width (base <= d) */
static pg_attribute_always_inline uint64
delta_offset(int64 d, int64 base, bool is64)
{
	return is64 ? (uint64) d - (uint64) base
		: (uint64) (uint32) ((uint32) d - (uint32) base);
}

/* the miniblock widths of m deltas d over base; bytes: whole bytes */
static pg_attribute_always_inline void
delta_widths(const int64 *d, int m, int64 base, bool is64, bool bytes,
			 uint8 *widths)
{
	for (int k = 0; k < DELTA_MINIBLOCKS; k++)
	{
		uint64		or = 0;
		int			w = 0;

		for (int j = k * DELTA_MINI; j < Min(m, (k + 1) * DELTA_MINI); j++)
			or |= delta_offset(d[j], base, is64);
		while (or)
		{
			w++;
			or >>= 1;
		}
		if (bytes)
			w = (w + 7) & ~7;
		widths[k] = (uint8) w;
	}
}

/*
 * The spec asks of a block's min delta only that no delta of the block is
 * below it.  Each block takes the page's smallest delta instead of its own
 * when that widens no miniblock (packed) or by at most a byte (whole
 * bytes): the packed deltas of every block are then offsets from one base,
 * the same values as the same bytes, which the codec finds across blocks,
 * and not shifted by each block's own minimum.
 */
static pg_attribute_always_inline void
delta_encode(PqBuf *out, const char *values, int n, bool is64, bool bytes)
{
	int64		d[DELTA_BLOCK];
	uint64		u[DELTA_BLOCK];
	int64		first;
	int64		pmin;
	int			slack = bytes ? 8 : 0;

	pq_buf_varint(out, DELTA_BLOCK);
	pq_buf_varint(out, DELTA_MINIBLOCKS);
	pq_buf_varint(out, (uint64) n);
	if (n == 0)
	{
		pq_buf_varint(out, 0);
		return;
	}
	if (is64)
		memcpy(&first, values, 8);
	else
	{
		int32		x;

		memcpy(&x, values, 4);
		first = x;
	}
	pq_buf_varint(out, zigzag64(first));

	pmin = (n > 1) ? delta_at(values, 1, is64) : 0;
	for (int i = 2; i < n; i++)
	{
		int64		x = delta_at(values, i, is64);

		if (x < pmin)
			pmin = x;
	}

	for (int i = 1; i < n; i += DELTA_BLOCK)
	{
		int			m = Min(DELTA_BLOCK, n - i);
		int			nmini = (m + DELTA_MINI - 1) / DELTA_MINI;
		int64		mind;
		uint8		widths[DELTA_MINIBLOCKS];
		uint8		pwidths[DELTA_MINIBLOCKS];
		bool		page_base = true;

		for (int j = 0; j < m; j++)
			d[j] = delta_at(values, i + j, is64);
		mind = d[0];
		for (int j = 1; j < m; j++)
			if (d[j] < mind)
				mind = d[j];
		delta_widths(d, m, mind, is64, bytes, widths);
		if (pmin != mind)
		{
			delta_widths(d, m, pmin, is64, bytes, pwidths);
			for (int k = 0; k < nmini; k++)
				if (pwidths[k] > widths[k] + slack)
					page_base = false;
			if (page_base)
			{
				mind = pmin;
				memcpy(widths, pwidths, sizeof(widths));
			}
		}
		/* miniblocks past the values have no bits; say 0 */
		for (int k = nmini; k < DELTA_MINIBLOCKS; k++)
			widths[k] = 0;
		for (int j = 0; j < m; j++)
			u[j] = delta_offset(d[j], mind, is64);
		pq_buf_varint(out, zigzag64(mind));
		pq_buf_append(out, widths, DELTA_MINIBLOCKS);
		for (int k = 0; k < nmini; k++)
			pack_mini(out, u + k * DELTA_MINI, Min(DELTA_MINI, m - k * DELTA_MINI), widths[k]);
	}
}

/* DELTA_BINARY_PACKED of n little-endian int32 values; bytes: whole-byte widths */
void
obs_pq_delta_encode_i32(PqBuf *out, const char *values, int n, bool bytes)
{
	if (bytes)
		delta_encode(out, values, n, false, true);
	else
		delta_encode(out, values, n, false, false);
}

/* DELTA_BINARY_PACKED of n little-endian int64 values; bytes: whole-byte widths */
void
obs_pq_delta_encode_i64(PqBuf *out, const char *values, int n, bool bytes)
{
	if (bytes)
		delta_encode(out, values, n, true, true);
	else
		delta_encode(out, values, n, true, false);
}

/*
 * BYTE_STREAM_SPLIT: byte k of every value goes to stream k.  Floats of
 * one column share sign and exponent bytes, which the codec then finds.
 */
void
obs_pq_bss_encode(PqBuf *out, const char *values, int n, int width)
{
	char	   *dst;

	obs_pq_buf_reserve(out, (size_t) n * width);
	dst = out->data + out->len;
	if (width == 4)
	{
		for (int i = 0; i < n; i++)
		{
			const char *v = values + (size_t) i * 4;

			dst[i] = v[0];
			dst[n + i] = v[1];
			dst[2 * (size_t) n + i] = v[2];
			dst[3 * (size_t) n + i] = v[3];
		}
	}
	else
	{
		for (int i = 0; i < n; i++)
			for (int k = 0; k < width; k++)
				dst[(size_t) k * n + i] = values[(size_t) i * width + k];
	}
	out->len += (size_t) n * width;
}
