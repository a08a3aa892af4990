/*-------------------------------------------------------------------------
 * encoding.c
 *	  RLE/bit-packed hybrid encoding (levels, dictionary indices), PLAIN
 *	  booleans, DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY
 *	  strings and BYTE_STREAM_SPLIT floats.
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
 *
 * A page whose deltas all take about the same width goes as one block of
 * one miniblock instead: every delta at one width from one min delta, a
 * single bit-packed run.  That is taken when it is no longer than the
 * blocks of 128 (see delta_encode), and always for the lengths of byte
 * arrays: their compressed pages come out smaller that way (the lengths of
 * t14.note, 3-4 bits wide by miniblock, 1.2% smaller with their strings),
 * as the run's bits pack the same way throughout.
 *
 * The same encoder writes the lengths of DELTA_LENGTH_BYTE_ARRAY: it reads
 * its values through a cursor, from an array of int32 or int64 or from the
 * lengths of PLAIN byte arrays (a 4-byte length before each).
 */
#define DELTA_BLOCK			128
#define DELTA_MINIBLOCKS	4
#define DELTA_MINI			(DELTA_BLOCK / DELTA_MINIBLOCKS)
/*
 * The most values a single run holds: a page's usual most levels.  A page
 * holds more only when one row brings them (an array of millions of
 * elements), and then keeps blocks of DELTA_BLOCK, which every reader
 * takes (obs's own refuses blocks of more than 2^20 values).
 */
#define DELTA_SINGLE_MAX	(128 * 1024)

typedef enum DeltaSrc
{
	DELTA_I32,					/* int32 values back to back */
	DELTA_I64,					/* int64 values back to back */
	DELTA_LENGTHS				/* the lengths of PLAIN byte arrays */
} DeltaSrc;

static inline uint64
zigzag64(int64 v)
{
	return ((uint64) v << 1) ^ (uint64) (v >> 63);
}

/* the bytes of a varint */
static inline int
varint_len(uint64 v)
{
	int			n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

/* bits needed to represent v (0 for 0) */
static inline int
bit_width64(uint64 v)
{
	int			w = 0;

	while (v)
	{
		w++;
		v >>= 1;
	}
	return w;
}

/* the value at p (as its column's width, sign-extended) */
static pg_attribute_always_inline int64
src_value(const char *p, DeltaSrc src)
{
	if (src == DELTA_I64)
	{
		int64		x;

		memcpy(&x, p, 8);
		return x;
	}
	else if (src == DELTA_I32)
	{
		int32		x;

		memcpy(&x, p, 4);
		return x;
	}
	else
	{
		uint32		x;

		memcpy(&x, p, 4);
		return (int64) x;
	}
}

/* where the value after the one at p starts */
static pg_attribute_always_inline const char *
src_next(const char *p, DeltaSrc src)
{
	if (src == DELTA_I64)
		return p + 8;
	else if (src == DELTA_I32)
		return p + 4;
	else
	{
		uint32		l;

		memcpy(&l, p, 4);
		return p + 4 + l;
	}
}

/* the delta from a to b, wrapped in the column's width */
static pg_attribute_always_inline int64
src_delta(int64 a, int64 b, DeltaSrc src)
{
	if (src == DELTA_I64)
		return (int64) ((uint64) b - (uint64) a);
	return (int32) ((uint32) b - (uint32) a);
}

/* d - base, unsigned in the column's width (base <= d) */
static pg_attribute_always_inline uint64
delta_offset(int64 d, int64 base, bool is64)
{
	return is64 ? (uint64) d - (uint64) base
		: (uint64) (uint32) ((uint32) d - (uint32) base);
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

/* the miniblock widths of m deltas d over base; bytes: whole bytes */
static pg_attribute_always_inline void
delta_widths(const int64 *d, int m, int64 base, bool is64, bool bytes,
			 uint8 *widths)
{
	for (int k = 0; k < DELTA_MINIBLOCKS; k++)
	{
		uint64		or = 0;
		int			w;

		for (int j = k * DELTA_MINI; j < Min(m, (k + 1) * DELTA_MINI); j++)
			or |= delta_offset(d[j], base, is64);
		w = bit_width64(or);
		if (bytes)
			w = (w + 7) & ~7;
		widths[k] = (uint8) w;
	}
}

/*
 * The deltas of n values (n >= 2) from values, as blocks of DELTA_BLOCK.
 * The spec asks of a block's min delta only that no delta of the block is
 * below it.  Each block takes the page's smallest delta pmin instead of
 * its own when that widens no miniblock (packed) or by at most a byte
 * (whole bytes): the packed deltas of every block are then offsets from
 * one base, the same values as the same bytes, which the codec finds
 * across blocks, and not shifted by each block's own minimum.
 */
static pg_attribute_always_inline void
delta_blocks(PqBuf *out, const char *values, int n, DeltaSrc src, bool bytes,
			 int64 pmin)
{
	bool		is64 = (src == DELTA_I64);
	int64		d[DELTA_BLOCK];
	uint64		u[DELTA_BLOCK];
	int			slack = bytes ? 8 : 0;
	const char *p = src_next(values, src);
	int64		prev = src_value(values, src);

	for (int i = 1; i < n; i += DELTA_BLOCK)
	{
		int			m = Min(DELTA_BLOCK, n - i);
		int			nmini = (m + DELTA_MINI - 1) / DELTA_MINI;
		int64		mind;
		uint8		widths[DELTA_MINIBLOCKS];
		uint8		pwidths[DELTA_MINIBLOCKS];
		bool		page_base = true;

		for (int j = 0; j < m; j++)
		{
			int64		v = src_value(p, src);

			d[j] = src_delta(prev, v, src);
			prev = v;
			p = src_next(p, src);
		}
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

/*
 * The deltas of n values (n >= 2) as one block of one miniblock: offsets
 * from pmin at width bw, packed LSB first, then zeros up to the block's
 * nblock values (a multiple of DELTA_BLOCK), as the spec pads a miniblock.
 */
static pg_attribute_always_inline void
delta_single(PqBuf *out, const char *values, int n, DeltaSrc src, int64 pmin, int bw,
			 int nblock)
{
	bool		is64 = (src == DELTA_I64);
	size_t		nbytes = (size_t) nblock * bw / 8;
	unsigned __int128 acc = 0;
	int			nbits = 0;
	const char *p = src_next(values, src);
	int64		prev = src_value(values, src);
	char	   *dst;
	char	   *end;

	pq_buf_varint(out, zigzag64(pmin));
	pq_buf_byte(out, (uint8) bw);
	if (bw == 0)
		return;
	obs_pq_buf_reserve(out, nbytes);
	dst = out->data + out->len;
	end = dst + nbytes;
	for (int i = 1; i < n; i++)
	{
		int64		v = src_value(p, src);

		acc |= (unsigned __int128) delta_offset(src_delta(prev, v, src), pmin, is64) << nbits;
		nbits += bw;
		while (nbits >= 8)
		{
			*dst++ = (char) (uint8) acc;
			acc >>= 8;
			nbits -= 8;
		}
		prev = v;
		p = src_next(p, src);
	}
	if (nbits > 0)
		*dst++ = (char) (uint8) acc;
	memset(dst, 0, end - dst);
	out->len += nbytes;
}

/*
 * DELTA_BINARY_PACKED of n values read from values.  The page's smallest
 * and largest deltas give the width of a single run (delta_single); the
 * blocks of DELTA_BLOCK are written, and replaced by the single run when
 * that is no longer (a page of deltas of about one width: the blocks'
 * headers cost bytes, and break the run the codec sees); lengths of byte
 * arrays always take the single run.  A single run holds at most
 * DELTA_SINGLE_MAX values.
 */
static pg_attribute_always_inline void
delta_encode(PqBuf *out, const char *values, int n, DeltaSrc src, bool bytes)
{
	bool		is64 = (src == DELTA_I64);
	size_t		start = out->len;
	int64		pmin = 0;
	int64		pmax = 0;
	int			bw;
	int			nblock;
	size_t		single_len;

	pq_buf_varint(out, DELTA_BLOCK);
	pq_buf_varint(out, DELTA_MINIBLOCKS);
	pq_buf_varint(out, (uint64) n);
	if (n == 0)
	{
		pq_buf_varint(out, 0);
		return;
	}
	pq_buf_varint(out, zigzag64(src_value(values, src)));
	if (n == 1)
		return;

	{
		const char *p = src_next(values, src);
		int64		prev = src_value(values, src);

		for (int i = 1; i < n; i++)
		{
			int64		v = src_value(p, src);
			int64		x = src_delta(prev, v, src);

			if (i == 1 || x < pmin)
				pmin = x;
			if (i == 1 || x > pmax)
				pmax = x;
			prev = v;
			p = src_next(p, src);
		}
	}
	bw = bit_width64(delta_offset(pmax, pmin, is64));
	if (bytes)
		bw = (bw + 7) & ~7;
	nblock = (n - 1 + DELTA_BLOCK - 1) / DELTA_BLOCK * DELTA_BLOCK;
	single_len = varint_len(nblock) + 1 + varint_len((uint64) n) +
		varint_len(zigzag64(src_value(values, src))) +
		varint_len(zigzag64(pmin)) + 1 + (size_t) nblock * bw / 8;

	/* lengths always go as a single run: they come out smaller so */
	if (src != DELTA_LENGTHS || nblock > DELTA_SINGLE_MAX)
		delta_blocks(out, values, n, src, bytes, pmin);
	if (nblock <= DELTA_SINGLE_MAX &&
		(src == DELTA_LENGTHS || single_len <= out->len - start))
	{
		out->len = start;
		pq_buf_varint(out, (uint64) nblock);
		pq_buf_varint(out, 1);
		pq_buf_varint(out, (uint64) n);
		pq_buf_varint(out, zigzag64(src_value(values, src)));
		delta_single(out, values, n, src, pmin, bw, nblock);
	}
}

/* DELTA_BINARY_PACKED of n little-endian int32 values; bytes: whole-byte widths */
void
obs_pq_delta_encode_i32(PqBuf *out, const char *values, int n, bool bytes)
{
	if (bytes)
		delta_encode(out, values, n, DELTA_I32, true);
	else
		delta_encode(out, values, n, DELTA_I32, false);
}

/* DELTA_BINARY_PACKED of n little-endian int64 values; bytes: whole-byte widths */
void
obs_pq_delta_encode_i64(PqBuf *out, const char *values, int n, bool bytes)
{
	if (bytes)
		delta_encode(out, values, n, DELTA_I64, true);
	else
		delta_encode(out, values, n, DELTA_I64, false);
}

/*
 * DELTA_LENGTH_BYTE_ARRAY of n PLAIN byte arrays (len bytes at vals, a
 * 4-byte length before each): their lengths DELTA_BINARY_PACKED (bytes:
 * in whole-byte widths), then their bytes back to back.  Without the
 * lengths between them, the bytes of one value run on into the next, and
 * the codec finds matches across values (the end of one log line and the
 * start of the next) that a length in between would break.  *lengths_end
 * is set to where the lengths end in out, so that the caller can compress
 * them in a zstd block of their own.
 */
void
obs_pq_dlba_encode(PqBuf *out, const char *vals, size_t len, int n, bool bytes,
				   size_t *lengths_end)
{
	const char *end = vals + len;
	char	   *dst;

	if (bytes)
		delta_encode(out, vals, n, DELTA_LENGTHS, true);
	else
		delta_encode(out, vals, n, DELTA_LENGTHS, false);
	*lengths_end = out->len;

	obs_pq_buf_reserve(out, len - (size_t) n * 4);
	dst = out->data + out->len;
	for (const char *p = vals; p < end;)
	{
		uint32		l;

		memcpy(&l, p, 4);
		memcpy(dst, p + 4, l);
		dst += l;
		p += 4 + l;
	}
	out->len = dst - out->data;
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
