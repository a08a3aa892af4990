/*-------------------------------------------------------------------------
 * compress.c
 *	  Page compression: zstd, snappy, gzip (zlib) or none.
 *
 * Library state (a zstd context, a zlib stream) is created once per writer
 * and freed by a reset callback on the writer's memory context.  These
 * functions never ereport: they return false and an error string, and the
 * caller reports it once the library has returned.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <snappy-c.h>
#include <zlib.h>
/* ZSTD_compressSequences, for pages compressed as literals only */
#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#include "utils/memutils.h"

#include "pq_internal.h"

struct PqCompressor
{
	ObsPqCodec	codec;
	int			level;
	int			min_match;		/* zstd's shortest match, 0 = the level's */
	int			hash_log;		/* zstd's hash table size, 0 = the level's */
	int			strategy;		/* zstd's strategy, 0 = the level's */
	int			search_log;		/* zstd's searches per position, 0 = the level's */
	int			window_log;		/* zstd's window, 0 = the level's */
	bool		literals;		/* zstd: no matches, literals only */
	ZSTD_CCtx  *zstd;
	z_stream	zs;
	bool		zs_ready;
};

static void
compressor_release(void *arg)
{
	PqCompressor *c = (PqCompressor *) arg;

	if (c->zstd)
		ZSTD_freeCCtx(c->zstd);
	c->zstd = NULL;
	if (c->zs_ready)
		deflateEnd(&c->zs);
	c->zs_ready = false;
}

/* valid levels for a codec; false when the codec takes no level */
bool
obs_pq_codec_level_range(ObsPqCodec codec, int *min, int *max)
{
	switch (codec)
	{
		case OBS_PQ_ZSTD:
			*min = 1;
			*max = ZSTD_maxCLevel();
			return true;
		case OBS_PQ_GZIP:
			*min = 0;
			*max = 9;
			return true;
		default:
			return false;
	}
}

PqCompressor *
obs_pq_compressor_create(MemoryContext cxt, ObsPqCodec codec, int level)
{
	PqCompressor *c = MemoryContextAllocZero(cxt, sizeof(PqCompressor));
	MemoryContextCallback *cb = MemoryContextAllocZero(cxt, sizeof(MemoryContextCallback));
	bool		failed = false;

	c->codec = codec;
	c->level = level;
	cb->func = compressor_release;
	cb->arg = c;
	MemoryContextRegisterResetCallback(cxt, cb);

	if (codec == OBS_PQ_ZSTD)
	{
		if (c->level == OBS_PQ_LEVEL_DEFAULT)
			c->level = 3;
		c->zstd = ZSTD_createCCtx();
		failed = (c->zstd == NULL);
	}
	else if (codec == OBS_PQ_GZIP)
	{
		if (c->level == OBS_PQ_LEVEL_DEFAULT)
			c->level = Z_DEFAULT_COMPRESSION;
		/* windowBits 15 + 16: gzip framing, as Parquet's GZIP codec is */
		if (deflateInit2(&c->zs, c->level, Z_DEFLATED, 15 + 16, 8,
						 Z_DEFAULT_STRATEGY) == Z_OK)
			c->zs_ready = true;
		else
			failed = true;
	}
	if (failed)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("could not initialize Parquet page compression")));
	return c;
}

/* the codec's level (after the default is resolved) */
int
obs_pq_compressor_level(PqCompressor *c)
{
	return c->level;
}

/*
 * The level of the compressions that follow, zstd's shortest match and
 * the log2 of its hash table's entries (0: the level's own); zstd only,
 * other codecs keep theirs.  With literals, zstd looks for no matches and
 * only entropy-codes the bytes (Huffman), the level aside.
 */
void
obs_pq_compressor_set_level(PqCompressor *c, int level, int min_match, int hash_log,
							int strategy, int search_log, int window_log, bool literals)
{
	if (c->codec != OBS_PQ_ZSTD)
		return;
	c->literals = literals;
	c->level = level;
	c->min_match = min_match;
	c->hash_log = hash_log;
	c->strategy = strategy;
	c->search_log = search_log;
	c->window_log = window_log;
}

/* the level and the parameters set apart from it, on a reset context */
static size_t
zstd_set_parameters(PqCompressor *c)
{
	size_t		r;

	ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_and_parameters);
	r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, c->level);
	if (!ZSTD_isError(r) && c->strategy != 0)
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_strategy, c->strategy);
	if (!ZSTD_isError(r) && c->search_log != 0)
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_searchLog, c->search_log);
	if (!ZSTD_isError(r) && c->window_log != 0)
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_windowLog, c->window_log);
	if (!ZSTD_isError(r) && c->min_match != 0)
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_minMatch, c->min_match);
	if (!ZSTD_isError(r) && c->hash_log != 0)
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_hashLog, c->hash_log);
	return r;
}

size_t
obs_pq_compress_bound(PqCompressor *c, size_t len)
{
	switch (c->codec)
	{
		case OBS_PQ_ZSTD:
			return ZSTD_compressBound(len);
		case OBS_PQ_SNAPPY:
			return snappy_max_compressed_length(len);
		case OBS_PQ_GZIP:
			return deflateBound(&c->zs, len) + 32;
		default:
			return len;
	}
}

/*
 * zstd: compress len bytes at src as one frame in which each of the first
 * nparts parts (ends[i] bytes from src, ascending) ends a block of its own,
 * so that each part (a page's repetition levels, its definition levels)
 * and the rest (its values) get entropy tables of their own.
 */
static bool
zstd_compress_parts(PqCompressor *c, const char *src, size_t len, const size_t *ends,
					int nparts, char *dst, size_t cap, size_t *outlen, const char **err)
{
	ZSTD_outBuffer out = {dst, cap, 0};
	size_t		from = 0;
	size_t		r;

	r = zstd_set_parameters(c);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setPledgedSrcSize(c->zstd, len);
	for (int i = 0; i <= nparts && !ZSTD_isError(r); i++)
	{
		size_t		to = (i < nparts) ? ends[i] : len;
		ZSTD_EndDirective how = (i < nparts) ? ZSTD_e_flush : ZSTD_e_end;
		ZSTD_inBuffer in = {src + from, to - from, 0};

		r = ZSTD_compressStream2(c->zstd, &out, &in, how);
		/* with cap >= ZSTD_compressBound(len), each call ends with all done */
		if (!ZSTD_isError(r) && (r != 0 || in.pos != in.size))
		{
			*err = "zstd did not compress a page part whole";
			return false;
		}
		from = to;
	}
	if (ZSTD_isError(r))
	{
		*err = ZSTD_getErrorName(r);
		return false;
	}
	*outlen = out.pos;
	return true;
}

/*
 * zstd with no matches: the bytes as literals only, entropy-coded in
 * blocks that end where the parts do (and every ZSTD_BLOCKSIZE_MAX bytes).
 * Symbols of a small alphabet, such as dictionary indices of a few
 * distinct values in whole bytes, come out near their entropy: matching
 * finds many short repeats among them, each of which costs more than the
 * bytes it covers would as literals.  zstd takes the blocks from a list of
 * sequences that holds only block delimiters (ZSTD_compressSequences).
 */
static bool
zstd_compress_literals(PqCompressor *c, const char *src, size_t len, const size_t *ends,
					   int nparts, char *dst, size_t cap, size_t *outlen, const char **err)
{
	ZSTD_Sequence *seqs;
	size_t		nseqs = 0;
	size_t		from = 0;
	size_t		r;

	/* at most one block per part, and one per ZSTD_BLOCKSIZE_MAX bytes */
	seqs = malloc(sizeof(ZSTD_Sequence) * (len / ZSTD_BLOCKSIZE_MAX + nparts + 2));
	if (seqs == NULL)
	{
		*err = "out of memory";
		return false;
	}
	for (int i = 0; i <= nparts; i++)
	{
		size_t		to = (i < nparts) ? ends[i] : len;

		do
		{
			size_t		piece = Min(to - from, (size_t) ZSTD_BLOCKSIZE_MAX);

			memset(&seqs[nseqs], 0, sizeof(ZSTD_Sequence));
			seqs[nseqs++].litLength = (unsigned int) piece;
			from += piece;
		} while (from < to);
	}
	ZSTD_CCtx_reset(c->zstd, ZSTD_reset_session_and_parameters);
	r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, c->level);
	/* blocks of up to ZSTD_BLOCKSIZE_MAX bytes, whatever the input's size */
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_windowLog, ZSTD_BLOCKSIZELOG_MAX);
	if (!ZSTD_isError(r))
		r = ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_blockDelimiters,
								   ZSTD_sf_explicitBlockDelimiters);
	if (!ZSTD_isError(r))
		r = ZSTD_compressSequences(c->zstd, dst, cap, seqs, nseqs, src, len);
	free(seqs);
	if (ZSTD_isError(r))
	{
		*err = ZSTD_getErrorName(r);
		return false;
	}
	*outlen = r;
	return true;
}

/*
 * obs_pq_compress, with the page's parts kept apart as above (zstd only;
 * other codecs, and no parts, compress the whole as one).
 */
bool
obs_pq_compress_parts(PqCompressor *c, const char *src, size_t len, const size_t *ends,
					  int nparts, char *dst, size_t cap, size_t *outlen, const char **err)
{
	if (c->codec != OBS_PQ_ZSTD || nparts == 0)
		return obs_pq_compress(c, src, len, dst, cap, outlen, err);
	*err = NULL;
	if (c->literals)
		return zstd_compress_literals(c, src, len, ends, nparts, dst, cap, outlen, err);
	return zstd_compress_parts(c, src, len, ends, nparts, dst, cap, outlen, err);
}

bool
obs_pq_compress(PqCompressor *c, const char *src, size_t len,
				char *dst, size_t cap, size_t *outlen, const char **err)
{
	*err = NULL;
	switch (c->codec)
	{
		case OBS_PQ_ZSTD:
			{
				size_t		r;

				if (c->literals)
					return zstd_compress_literals(c, src, len, NULL, 0, dst, cap, outlen, err);
				if (c->min_match == 0 && c->hash_log == 0 && c->strategy == 0 &&
					c->search_log == 0 && c->window_log == 0)
					r = ZSTD_compressCCtx(c->zstd, dst, cap, src, len, c->level);
				else
				{
					/* the level's parameters for this size, but these */
					r = zstd_set_parameters(c);
					if (!ZSTD_isError(r))
						r = ZSTD_compress2(c->zstd, dst, cap, src, len);
				}

				if (ZSTD_isError(r))
				{
					*err = ZSTD_getErrorName(r);
					return false;
				}
				*outlen = r;
				return true;
			}
		case OBS_PQ_SNAPPY:
			{
				size_t		n = cap;

				if (snappy_compress(src, len, dst, &n) != SNAPPY_OK)
				{
					*err = "snappy_compress failed";
					return false;
				}
				*outlen = n;
				return true;
			}
		case OBS_PQ_GZIP:
			{
				int			r;

				if (deflateReset(&c->zs) != Z_OK)
				{
					*err = "deflateReset failed";
					return false;
				}
				c->zs.next_in = (Bytef *) src;
				c->zs.avail_in = (uInt) len;
				c->zs.next_out = (Bytef *) dst;
				c->zs.avail_out = (uInt) cap;
				r = deflate(&c->zs, Z_FINISH);
				if (r != Z_STREAM_END)
				{
					*err = c->zs.msg ? c->zs.msg : "deflate did not finish";
					return false;
				}
				*outlen = cap - c->zs.avail_out;
				return true;
			}
		default:
			if (cap < len)
			{
				*err = "output buffer too small";
				return false;
			}
			memcpy(dst, src, len);
			*outlen = len;
			return true;
	}
}
