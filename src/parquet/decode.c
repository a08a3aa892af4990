/*-------------------------------------------------------------------------
 * decode.c
 *	  Parquet page decoding: decompression, the RLE/bit-packed hybrid,
 *	  PLAIN, dictionary indices, DELTA_BINARY_PACKED,
 *	  DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and BYTE_STREAM_SPLIT.
 *
 * Every decoder is given the exact bytes it may read and the number of
 * values it must produce; anything that would read past the bytes, a
 * dictionary index past the dictionary, a level above its maximum or a
 * count that does not add up is a 22P04 error.  Memory a decoder needs
 * beyond its output (DELTA_BYTE_ARRAY's rebuilt values, split
 * FIXED_LEN_BYTE_ARRAY values) is counted against the row group's budget.
 * The compression libraries are called with buffers whose sizes they are
 * told, and errors are reported only after they have returned.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "pq_read.h"

#ifdef WORDS_BIGENDIAN
#error "the Parquet reader assumes a little-endian machine"
#endif

void *
obs_pq_read_alloc(PqReadBudget *b, size_t n)
{
	if (n > (size_t) (b->limit - b->used))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet row group needs more than %lld MB of memory to read",
						(long long) (b->limit / (1024 * 1024))),
				 errdetail("Reading it needs another %zu bytes after %lld.",
						   n, (long long) b->used),
				 errhint("Write the file with smaller row groups.")));
	b->used += n;
	return MemoryContextAllocExtended(b->cxt, Max(n, 1), MCXT_ALLOC_HUGE);
}

/* an array of n elements of size bytes, n checked before it is multiplied */
void *
obs_pq_read_alloc_array(PqReadBudget *b, int64 n, size_t size)
{
	if (n < 0 || (uint64) n > (uint64) b->limit / size)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet row group needs more than %lld MB of memory to read",
						(long long) (b->limit / (1024 * 1024))),
				 errdetail("A column chunk declares %lld values.", (long long) n),
				 errhint("Write the file with smaller row groups.")));
	return obs_pq_read_alloc(b, (size_t) n * size);
}

const char *
obs_pq_codec_name(int codec)
{
	static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
	"BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};

	if (codec >= 0 && codec < (int) lengthof(names))
		return names[codec];
	return "unknown";
}

/* decompress a page into exactly dstlen bytes */
void
obs_pq_decompress(int codec, const uint8 *src, size_t srclen, uint8 *dst, size_t dstlen)
{
	const char *err = NULL;

	switch (codec)
	{
		case 0:
			if (srclen != dstlen)
				obs_pq_bad_file("An uncompressed page declares %zu bytes but stores %zu.", dstlen, srclen);
			memcpy(dst, src, srclen);
			return;
		case 1:
			{
				size_t		n;

				if (snappy_uncompressed_length((const char *) src, srclen, &n) != SNAPPY_OK)
					err = "the snappy header is invalid";
				else if (n != dstlen)
					err = "the snappy data does not have the declared size";
				else if (snappy_uncompress((const char *) src, srclen, (char *) dst, &n) != SNAPPY_OK ||
						 n != dstlen)
					err = "the snappy data is corrupt";
				break;
			}
		case 2:
			{
				z_stream	zs;
				int			r;

				memset(&zs, 0, sizeof(zs));
				/* 15 + 32: gzip or zlib framing, detected from the header */
				if (inflateInit2(&zs, 15 + 32) != Z_OK)
					ereport(ERROR,
							(errcode(ERRCODE_OUT_OF_MEMORY),
							 errmsg("could not initialize Parquet page decompression")));
				zs.next_in = (Bytef *) src;
				zs.avail_in = (uInt) Min(srclen, (size_t) UINT_MAX);
				zs.next_out = (Bytef *) dst;
				zs.avail_out = (uInt) Min(dstlen, (size_t) UINT_MAX);
				r = inflate(&zs, Z_FINISH);
				if (r != Z_STREAM_END)
					err = (r == Z_BUF_ERROR) ? "the gzip data is larger than declared or truncated" :
						"the gzip data is corrupt";
				else if (zs.total_out != dstlen)
					err = "the gzip data is smaller than declared";
				inflateEnd(&zs);
				break;
			}
		case 6:
			{
				size_t		r = ZSTD_decompress(dst, dstlen, src, srclen);

				if (ZSTD_isError(r))
					err = ZSTD_getErrorName(r);
				else if (r != dstlen)
					err = "the zstd data is smaller than declared";
				break;
			}
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("Parquet compression codec %s is not supported", obs_pq_codec_name(codec)),
					 errhint("obs reads uncompressed, SNAPPY, GZIP and ZSTD pages.")));
	}
	if (err)
		obs_pq_bad_file("A %s page could not be decompressed: %s.", obs_pq_codec_name(codec), err);
}

/* ---------------------------------------------------------------------
 * Bits and varints
 * --------------------------------------------------------------------- */

static uint64
read_varint(const uint8 *p, size_t len, size_t *pos)
{
	uint64		v = 0;

	for (int shift = 0; shift < 64; shift += 7)
	{
		uint8		b;

		if (*pos >= len)
			obs_pq_bad_file("A page ends in the middle of a varint.");
		b = p[(*pos)++];
		v |= (uint64) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	obs_pq_bad_file("A page has a varint longer than 64 bits.");
}

static inline int64
unzigzag(uint64 v)
{
	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

/* bw bits (LSB first) at bit offset bit of p; the caller checked the bounds */
static inline uint64
unpack_bits(const uint8 *p, uint64 bit, int bw)
{
	uint64		v = 0;
	int			got = 0;

	while (got < bw)
	{
		int			off = (int) (bit & 7);
		int			take = Min(8 - off, bw - got);
		uint64		byte = p[bit >> 3];

		v |= ((byte >> off) & ((1u << take) - 1)) << got;
		got += take;
		bit += take;
	}
	return v;
}

void
obs_pq_rle_decode(const uint8 *p, size_t len, int bw, int64 n, uint32 maxval,
				  int16 *out16, uint32 *out32)
{
	size_t		pos = 0;
	int64		got = 0;
	int			bytes = (bw + 7) / 8;

	if (bw < 0 || bw > 32)
		obs_pq_bad_file("A page has a bit width of %d.", bw);
	if (bw == 0)
	{
		for (int64 i = 0; i < n; i++)
		{
			if (out16)
				out16[i] = 0;
			else
				out32[i] = 0;
		}
		return;
	}
	while (got < n)
	{
		uint64		header = read_varint(p, len, &pos);

		if (header & 1)
		{
			uint64		groups = header >> 1;
			uint64		count;

			if (groups == 0 || groups > (len - pos) / (size_t) bw)
				obs_pq_bad_file("A page's bit-packed run is longer than its data.");
			count = groups * 8;
			for (uint64 i = 0; i < count && got < n; i++)
			{
				uint64		v = unpack_bits(p + pos, i * bw, bw);

				if (v > maxval)
					obs_pq_bad_file("A page has a level or index of %llu, above its maximum of %u.",
									(unsigned long long) v, maxval);
				if (out16)
					out16[got++] = (int16) v;
				else
					out32[got++] = (uint32) v;
			}
			pos += groups * bw;
		}
		else
		{
			uint64		count = header >> 1;
			uint64		v = 0;

			if (count == 0)
				obs_pq_bad_file("A page has an empty RLE run.");
			if (len - pos < (size_t) bytes)
				obs_pq_bad_file("A page's RLE run is longer than its data.");
			for (int i = 0; i < bytes; i++)
				v |= (uint64) p[pos + i] << (8 * i);
			pos += bytes;
			if (v > maxval)
				obs_pq_bad_file("A page has a level or index of %llu, above its maximum of %u.",
								(unsigned long long) v, maxval);
			for (uint64 i = 0; i < count && got < n; i++)
			{
				if (out16)
					out16[got++] = (int16) v;
				else
					out32[got++] = (uint32) v;
			}
		}
	}
}

/* ---------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

static int
fixed_width(int physical, int type_length)
{
	switch (physical)
	{
		case 1:
		case 4:
			return 4;
		case 2:
		case 5:
			return 8;
		case 3:
			return 12;
		case 7:
			if (type_length <= 0)
				obs_pq_bad_file("A FIXED_LEN_BYTE_ARRAY column has length %d.", type_length);
			return type_length;
		default:
			return 0;
	}
}

/* a fixed-width value's bytes as the reader keeps it */
static inline void
set_fixed(PqVal *v, int physical, const uint8 *src, int width)
{
	v->p = NULL;
	v->len = 0;
	switch (physical)
	{
		case 1:
			{
				int32		x;

				memcpy(&x, src, 4);
				v->i = x;
				break;
			}
		case 4:
			{
				uint32		x;

				memcpy(&x, src, 4);
				v->i = x;
				break;
			}
		case 2:
		case 5:
			memcpy(&v->i, src, 8);
			break;
		default:
			v->i = 0;
			v->p = src;
			v->len = width;
	}
}

static size_t
decode_plain(int physical, int type_length, const uint8 *p, size_t len, int64 n, PqVal *out)
{
	if (physical == 0)
	{
		if ((uint64) n > (uint64) len * 8)
			obs_pq_bad_file("A page holds fewer booleans than it declares.");
		for (int64 i = 0; i < n; i++)
		{
			out[i].i = (p[i >> 3] >> (i & 7)) & 1;
			out[i].p = NULL;
			out[i].len = 0;
		}
		return (size_t) ((n + 7) / 8);
	}
	if (physical == 6)
	{
		size_t		pos = 0;

		for (int64 i = 0; i < n; i++)
		{
			uint32		l;

			if (len - pos < 4)
				obs_pq_bad_file("A page holds fewer byte arrays than it declares.");
			memcpy(&l, p + pos, 4);
			pos += 4;
			if (l > len - pos)
				obs_pq_bad_file("A byte array of %u bytes runs past the end of its page.", l);
			out[i].i = 0;
			out[i].p = p + pos;
			out[i].len = l;
			pos += l;
		}
		return pos;
	}
	{
		int			w = fixed_width(physical, type_length);

		if (w == 0)
			obs_pq_bad_file("A column has the unknown physical type %d.", physical);
		if ((uint64) n > (uint64) len / w)
			obs_pq_bad_file("A page holds fewer values than it declares.");
		for (int64 i = 0; i < n; i++)
			set_fixed(&out[i], physical, p + i * w, w);
		return (size_t) n * w;
	}
}

/*
 * DELTA_BINARY_PACKED: exactly n values into out (64-bit arithmetic that
 * wraps, which gives INT32 columns their 32-bit wrap once truncated);
 * returns the bytes used.
 */
static size_t
decode_delta(const uint8 *p, size_t len, int64 n, int64 *out)
{
	size_t		pos = 0;
	uint64		block = read_varint(p, len, &pos);
	uint64		nmini = read_varint(p, len, &pos);
	uint64		total = read_varint(p, len, &pos);
	int64		first = unzigzag(read_varint(p, len, &pos));
	uint64		per_mini;
	uint64		last;
	int64		got;

	if (block == 0 || block % 128 != 0 || block > (1 << 20) ||
		nmini == 0 || block % nmini != 0 || (block / nmini) % 32 != 0)
		obs_pq_bad_file("A DELTA_BINARY_PACKED page has a block of %llu values in %llu miniblocks.",
						(unsigned long long) block, (unsigned long long) nmini);
	if (total != (uint64) n)
		obs_pq_bad_file("A DELTA_BINARY_PACKED page holds %llu values where %lld belong.",
						(unsigned long long) total, (long long) n);
	per_mini = block / nmini;
	if (n == 0)
		return pos;
	out[0] = first;
	last = (uint64) first;
	got = 1;
	while (got < n)
	{
		uint64		min_delta = (uint64) unzigzag(read_varint(p, len, &pos));
		const uint8 *widths;

		if (len - pos < nmini)
			obs_pq_bad_file("A DELTA_BINARY_PACKED page ends in a block header.");
		widths = p + pos;
		pos += nmini;
		for (uint64 m = 0; m < nmini && got < n; m++)
		{
			int			bw = widths[m];
			size_t		bytes;

			if (bw > 64)
				obs_pq_bad_file("A DELTA_BINARY_PACKED page has a bit width of %d.", bw);
			bytes = (size_t) (per_mini * bw / 8);
			if (len - pos < bytes)
				obs_pq_bad_file("A DELTA_BINARY_PACKED page ends in a miniblock.");
			for (uint64 j = 0; j < per_mini && got < n; j++)
			{
				uint64		d = bw ? unpack_bits(p + pos, j * bw, bw) : 0;

				last = last + min_delta + d;
				out[got++] = (int64) last;
			}
			pos += bytes;
		}
	}
	return pos;
}

/* n lengths, then the bytes: values point into p; returns the bytes used */
static size_t
decode_delta_length(PqReadBudget *budget, const uint8 *p, size_t len, int64 n, PqVal *out)
{
	int64	   *lens = obs_pq_read_alloc_array(budget, Max(n, 1), sizeof(int64));
	size_t		pos = decode_delta(p, len, n, lens);

	for (int64 i = 0; i < n; i++)
	{
		if (lens[i] < 0 || (uint64) lens[i] > len - pos)
			obs_pq_bad_file("A DELTA_LENGTH_BYTE_ARRAY value of %lld bytes runs past the end of its page.",
							(long long) lens[i]);
		out[i].i = 0;
		out[i].p = p + pos;
		out[i].len = (uint32) lens[i];
		pos += lens[i];
	}
	return pos;
}

static void
decode_delta_byte_array(PqReadBudget *budget, int physical, int type_length,
						const uint8 *p, size_t len, int64 n, PqVal *out)
{
	int64	   *prefix = obs_pq_read_alloc_array(budget, Max(n, 1), sizeof(int64));
	size_t		pos = decode_delta(p, len, n, prefix);
	uint64		total = 0;
	uint8	   *buf;
	const uint8 *prev = NULL;
	uint32		prevlen = 0;

	decode_delta_length(budget, p + pos, len - pos, n, out);
	for (int64 i = 0; i < n; i++)
	{
		if (prefix[i] < 0 || (uint64) prefix[i] > (i == 0 ? 0 : (uint64) PG_INT32_MAX))
			obs_pq_bad_file("A DELTA_BYTE_ARRAY page has a prefix of %lld bytes.", (long long) prefix[i]);
		total += (uint64) prefix[i] + out[i].len;
		if (total > (uint64) budget->limit)
			obs_pq_bad_file("A DELTA_BYTE_ARRAY page rebuilds more bytes than a row group may hold.");
	}
	buf = obs_pq_read_alloc(budget, (size_t) total);
	for (int64 i = 0; i < n; i++)
	{
		uint32		pl = (uint32) prefix[i];
		uint32		sl = out[i].len;

		if (pl > prevlen)
			obs_pq_bad_file("A DELTA_BYTE_ARRAY value shares %u bytes with a value of %u.", pl, prevlen);
		if ((uint64) pl + sl > PG_INT32_MAX)
			obs_pq_bad_file("A DELTA_BYTE_ARRAY value is too long.");
		if (pl > 0)
			memcpy(buf, prev, pl);
		if (sl > 0)
			memcpy(buf + pl, out[i].p, sl);
		out[i].p = buf;
		out[i].len = pl + sl;
		prev = buf;
		prevlen = pl + sl;
		buf += pl + sl;
		if (physical == 7 && out[i].len != (uint32) type_length)
			obs_pq_bad_file("A FIXED_LEN_BYTE_ARRAY value has %u bytes, not %d.", out[i].len, type_length);
	}
}

static void
decode_byte_stream_split(PqReadBudget *budget, int physical, int type_length,
						 const uint8 *p, size_t len, int64 n, PqVal *out)
{
	int			w = fixed_width(physical, type_length);
	uint8	   *buf;

	if (w == 0 || physical == 3)
		obs_pq_bad_file("BYTE_STREAM_SPLIT is used on a column of physical type %d.", physical);
	if ((uint64) n > (uint64) len / w)
		obs_pq_bad_file("A BYTE_STREAM_SPLIT page holds fewer values than it declares.");
	buf = obs_pq_read_alloc(budget, (size_t) n * w);
	for (int64 i = 0; i < n; i++)
		for (int k = 0; k < w; k++)
			buf[i * w + k] = p[(int64) k * n + i];
	for (int64 i = 0; i < n; i++)
		set_fixed(&out[i], physical, buf + i * w, w);
}

void
obs_pq_decode_values(PqReadBudget *budget, int physical, int type_length, int encoding,
					 const uint8 *p, size_t len, int64 n, const PqVal *dict, int64 ndict,
					 PqVal *out)
{
	if (n == 0)
		return;
	switch (encoding)
	{
		case PQ_ENC_PLAIN:
			decode_plain(physical, type_length, p, len, n, out);
			break;
		case PQ_ENC_PLAIN_DICTIONARY:
		case PQ_ENC_RLE_DICTIONARY:
			{
				uint32	   *idx;

				if (dict == NULL || ndict == 0)
					obs_pq_bad_file("A dictionary-encoded page has no dictionary before it.");
				if (len < 1)
					obs_pq_bad_file("A dictionary-encoded page has no bit width.");
				idx = obs_pq_read_alloc_array(budget, n, sizeof(uint32));
				obs_pq_rle_decode(p + 1, len - 1, p[0], n, (uint32) Min(ndict - 1, (int64) PG_UINT32_MAX),
								  NULL, idx);
				for (int64 i = 0; i < n; i++)
					out[i] = dict[idx[i]];
				break;
			}
		case PQ_ENC_RLE:
			{
				uint32		l;
				int16	   *bits;

				if (physical != 0)
					obs_pq_bad_file("RLE is used for values of physical type %d.", physical);
				if (len < 4)
					obs_pq_bad_file("An RLE boolean page has no length.");
				memcpy(&l, p, 4);
				if (l > len - 4)
					obs_pq_bad_file("An RLE boolean page is shorter than it declares.");
				bits = obs_pq_read_alloc_array(budget, n, sizeof(int16));
				obs_pq_rle_decode(p + 4, l, 1, n, 1, bits, NULL);
				for (int64 i = 0; i < n; i++)
				{
					out[i].i = bits[i];
					out[i].p = NULL;
					out[i].len = 0;
				}
				break;
			}
		case PQ_ENC_DELTA_BINARY_PACKED:
			{
				int64	   *v;

				if (physical != 1 && physical != 2)
					obs_pq_bad_file("DELTA_BINARY_PACKED is used on a column of physical type %d.", physical);
				v = obs_pq_read_alloc_array(budget, n, sizeof(int64));
				decode_delta(p, len, n, v);
				for (int64 i = 0; i < n; i++)
				{
					out[i].i = (physical == 1) ? (int64) (int32) (uint32) v[i] : v[i];
					out[i].p = NULL;
					out[i].len = 0;
				}
				break;
			}
		case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY:
			if (physical != 6)
				obs_pq_bad_file("DELTA_LENGTH_BYTE_ARRAY is used on a column of physical type %d.", physical);
			decode_delta_length(budget, p, len, n, out);
			break;
		case PQ_ENC_DELTA_BYTE_ARRAY:
			if (physical != 6 && physical != 7)
				obs_pq_bad_file("DELTA_BYTE_ARRAY is used on a column of physical type %d.", physical);
			decode_delta_byte_array(budget, physical, type_length, p, len, n, out);
			break;
		case PQ_ENC_BYTE_STREAM_SPLIT:
			decode_byte_stream_split(budget, physical, type_length, p, len, n, out);
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("Parquet encoding %d is not supported", encoding)));
	}
}
