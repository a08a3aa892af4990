/*-------------------------------------------------------------------------
 * encoding.c
 *	  RLE/bit-packed hybrid encoding (levels, dictionary indices) and
 *	  PLAIN booleans.
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
