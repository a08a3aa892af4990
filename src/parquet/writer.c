/*-------------------------------------------------------------------------
 * writer.c
 *	  Parquet files: column chunks, data pages, dictionaries, statistics
 *	  and the footer.
 *
 * Each column buffers the entries of its current data page: definition
 * and repetition levels, and either PLAIN-encoded values or indices into
 * the column chunk's dictionary.  A full page is encoded (data page v1:
 * levels as length-prefixed RLE, then values), compressed and appended to
 * the column's chunk buffer.  When the row group is closed, every column
 * writes its dictionary page (if any), its buffered pages and its last
 * page to the sink, column after column, releases its buffers, and the
 * row group's metadata is encoded and kept for the footer.
 *
 * Memory: every buffer of the open row group (each column's levels,
 * values, dictionary indices, dictionary entries and their hash table,
 * statistics and compressed pages, and the page scratch) lives in one
 * memory context, and what that context has allocated is what the row
 * group holds.  A buffer doubles only while that stays within the row
 * group byte limit; past it, it grows by what the current row needs, and
 * the row group is closed at the end of that row.  So the row group holds
 * at most the limit plus one row, plus one page (or dictionary) and its
 * compressed copy while it is written out; then the context is reset.  The
 * footer metadata of written row groups, the column descriptors and the
 * codec's state live outside it.
 *
 * Encodings are chosen per column chunk by what comes out smaller.  A
 * chunk starts dictionary-encoded (every type but BOOLEAN); once 4096
 * values are nearly all distinct, or its first 16384 values (or first
 * page, if smaller) are mostly distinct, the dictionary is dropped before
 * any page uses it.  At that point the encoding trial (every
 * TRIAL_EVERY_CHUNKS chunks) compresses those values PLAIN, with the
 * type's other encoding
 * (DELTA_BINARY_PACKED for INT32/INT64, its deltas packed at their bit
 * width and in whole bytes; BYTE_STREAM_SPLIT for FLOAT and DOUBLE;
 * DELTA_LENGTH_BYTE_ARRAY for BYTE_ARRAY) and,
 * if it still has one, as dictionary indices plus the
 * dictionary; the smallest wins, the dictionary keeping near ties.  The
 * chunks in between keep the choice and build no dictionary when it lost,
 * which saves the hash probe on high-cardinality columns.  A dictionary
 * that outgrows dict_bytes stops growing, and the rest of the chunk uses
 * the trial's better non-dictionary encoding.  Each page of dictionary
 * indices is compressed twice, with the indices packed at their bit width
 * and in whole bytes, and the smaller is written.
 *
 * Statistics follow the sort order of the column's type: signed for
 * integers, dates, times, timestamps and decimals; IEEE order without NaN
 * for floats; unsigned byte-wise for strings, binary and UUIDs.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/hashfn.h"
#include "port/pg_bswap.h"
#include "utils/memutils.h"

#include "pq_internal.h"

#ifdef WORDS_BIGENDIAN
#error "the Parquet writer assumes a little-endian machine"
#endif

/* Parquet enum values (parquet.thrift) */
#define ENC_PLAIN			0
#define ENC_RLE				3
#define ENC_DELTA_BINARY_PACKED 5
#define ENC_DELTA_LENGTH_BYTE_ARRAY 6
#define ENC_RLE_DICTIONARY	8
#define ENC_BYTE_STREAM_SPLIT 9
#define ENC_COUNT			10
#define PAGE_DATA			0
#define PAGE_DICTIONARY		2

/* chunks a column keeps its chosen encoding before it tries them again */
#define TRIAL_EVERY_CHUNKS	8
/* values of a chunk's first page after which the encoding is chosen */
#define TRIAL_VALUES		16384
/* at most the values a chunk is expected to hold, for the trial */
#define TRIAL_CHUNK_VALUES	131072
/* bytes of values the encoding trial compresses each way */
#define TRIAL_SAMPLE_BYTES	(128 * 1024)
/* bytes another encoding must save on a trial page to beat the dictionary */
#define DICT_MIN_GAIN		512
/* zstd's fast level, tried against the default when obs picks the level */
#define ZSTD_FAST_LEVEL		1
/* its hash table: 2^17 entries */
#define ZSTD_FAST_HASH_LOG	17
/* ... and matches at most 2^ZSTD_FAST_WINDOW_LOG bytes back (cheaper offsets) */
#define ZSTD_FAST_WINDOW_LOG 16
/* the default level with a longer shortest match, tried too */
#define ZSTD_LONG_MATCH		7
/*
 * For strings also lazy matching (ZSTD_lazy2, one search per
 * position, matches of 6 bytes or more), at most 2^15 bytes back or at
 * most 2^12 (cheaper offsets, for text repeating what the last few rows
 * said), at a third to a half of the default level's pace; the better is
 * taken when it saves at least 1/LAZY_MIN_GAIN of the best other way.
 */
#define ZSTD_LAZY_STRATEGY	5	/* ZSTD_lazy2 */
#define ZSTD_LAZY_MATCH		6
#define ZSTD_LAZY_WINDOW_LOG 15
#define ZSTD_LAZY_NEAR_WINDOW_LOG 12
#define LAZY_MIN_GAIN		50
/*
 * Ways with a hash table of only 2^ZSTD_TINY_HASH_LOG entries, which keeps
 * the latest positions of each hash only: their matches are the nearest,
 * with the cheapest offsets.  Text that repeats what the last rows said
 * with a few new digits (t14.note, logs.context) comes out 5% (level 1) to
 * 17% (greedy matching, about lazy matching's pace) smaller than with the
 * levels' tables; text that repeats phrases from further back (log lines
 * of a few phrases) comes out far larger, and keeps the other ways.
 */
#define ZSTD_TINY_HASH_LOG	6
#define ZSTD_GREEDY_STRATEGY 3	/* ZSTD_greedy */
#define ZSTD_TINY_WINDOW_LOG 17
/*
 * Greedy matching with the tiny table runs at about lazy matching's pace,
 * a third of level 1's.  When the trial's sample finds it the smallest,
 * the chunk's first page of values is compressed both ways, and it is
 * taken when it saves 1/GREEDY_MIN_GAIN of the best faster way on that
 * page (t14.note: 16%), not for less (logs.context: 8%, which would cost
 * about 10% more CPU for the whole obs.logs export).  The sample alone
 * cannot tell these apart: a chunk's first values may differ from the
 * rest (t14.note's numbers grow longer).
 */
#define GREEDY_MIN_GAIN		10
/*
 * DELTA_LENGTH_BYTE_ARRAY reads nearly as fast as PLAIN: it is taken when
 * it saves 1/DLBA_MIN_GAIN of PLAIN (the other encodings must save 1/32).
 */
#define DLBA_MIN_GAIN		128
/* a data page's levels of at least this many bytes are compressed apart */
#define PART_MIN_BYTES		64
/* values after which a dictionary of nearly all distinct values is dropped */
#define DICT_EARLY_VALUES	4096
/* most levels a data page buffers before it is written */
#define PAGE_MAX_LEVELS		(128 * 1024)
/*
 * A full page takes the rest of its row group too when that is expected to
 * come to at most 1/TAIL_MERGE of a page: one page instead of a small last
 * one, whose frame would start its codec's window and tables afresh.
 */
#define TAIL_MERGE			2
/* min/max statistics longer than this are left out of the footer */
#define MAX_STAT_BYTES		4096
/* hash slots of a new dictionary */
#define DICT_MIN_SLOTS		64

/* a dictionary entry: where its PLAIN bytes start in dict, and its hash */
typedef struct DictEnt
{
	uint32		off;
	uint32		hash;
} DictEnt;

typedef struct PqCol
{
	ObsPqColumn spec;
	int			max_def;
	int			max_rep;
	int			value_size;		/* bytes per fixed-size value; 0 = BYTE_ARRAY */

	/* current data page */
	PqBuf		defs;			/* definition levels, a byte each, if max_def > 0;
								 * empty while every level of the page is max_def
								 * in a column without repetition (defs_level) */
	PqBuf		reps;			/* repetition levels, a byte each, if max_rep > 0 */
	int			nlev;
	PqBuf		vals;			/* PLAIN values (booleans one byte each) */
	PqBuf		idx;			/* dictionary indices, uint32 each */
	int			page_nvals;
	int64		page_row0;		/* the row group's rows before this page's */

	/*
	 * encodings: alt_enc is DELTA_BINARY_PACKED, BYTE_STREAM_SPLIT,
	 * DELTA_LENGTH_BYTE_ARRAY or PLAIN
	 */
	int			alt_enc;		/* the type's other encoding (or ENC_PLAIN) */
	int			value_enc;		/* encoding of pages that hold values */
	bool		delta_bytes;	/* DELTA_BINARY_PACKED (lengths) in whole-byte widths */
	int			zway;			/* how its pages are compressed (zways) */
	int			zway_confirm;	/* a slower way the next page tries, or -1 */
	bool		decided;		/* this chunk's first values page chose */
	bool		trial_due;		/* this chunk tries every encoding */
	bool		last_dict;		/* the last trial chose the dictionary */
	int			trial_skip;		/* chunks left before the next trial */
	int			ndict_half;		/* dictionary entries at TRIAL_VALUES / 2 */

	/* dictionary of the current column chunk */
	bool		dict_allowed;
	bool		use_dict;		/* pages are dictionary-encoded now */
	bool		dict_written;	/* some page of this chunk uses it */
	PqBuf		dict;			/* PLAIN-encoded entries */
	int			ndict;
	PqBuf		ent;			/* DictEnt per entry */
	int32	   *slots;			/* open addressing: entry number or -1 */
	int			nslots;

	/* current column chunk */
	PqBuf		chunk;			/* page headers and compressed pages */
	int64		chunk_levels;
	int64		chunk_uncompressed;
	int			pages[ENC_COUNT];	/* data pages by encoding */

	/* statistics of the current column chunk */
	int64		null_count;
	int64		nan_count;
	bool		has_minmax;
	PqBuf		min;
	PqBuf		max;
	bool		defer_stats;	/* PLAIN-buffered values reach them per page */
	size_t		stats_done;		/* bytes of vals already in them */
} PqCol;

struct ObsPqWriter
{
	MemoryContext cxt;
	ObsPqOptions opts;
	int			ncols;
	PqCol	   *cols;
	ObsPqSink	sink;
	void	   *sink_arg;
	uint64		offset;
	int64		rg_rows;
	bool		last_row_group;	/* obs_pq_finish writes the last one */
	uint64		total_rows;
	int			nrg;
	MemoryContext rgcxt;		/* the open row group's buffers */
	PqBudget	budget;			/* caps rgcxt */
	bool		rg_reused;		/* rgcxt still holds the last row group's
								 * buffers, emptied (col_empty) */
	PqBuf		rgmeta;			/* encoded RowGroup structs, back to back */
	PqBuf		body;			/* scratch: an uncompressed page */
	PqBuf		zbuf;			/* scratch: a compressed page */
	PqBuf		hdr;			/* scratch: a page header */
	PqBuf		trial;			/* scratch: a candidate encoding */
	PqBuf		zbuf2;			/* scratch: the other candidate's page */
	PqBuf		hdr2;			/* ... and its header */
	PqCompressor *compressor;
	int			level;			/* the codec's level */
	bool		auto_level;		/* zstd at no given level: chosen per column */
	bool		finished;
};

static void flush_page(ObsPqWriter *w, PqCol *c, bool to_sink);

/*
 * Where a data page's levels end, and the lengths of DELTA_LENGTH_BYTE_ARRAY
 * values, when they are compressed apart.
 */
typedef struct PageParts
{
	int			n;
	size_t		ends[3];
} PageParts;

/*
 * The levels encoded since the last part (up to end bytes into the page),
 * or the lengths of DELTA_LENGTH_BYTE_ARRAY values, are compressed apart
 * from what follows when they are PART_MIN_BYTES or more: mixed NULLs,
 * lists of varying length, strings.  Levels, lengths and values have
 * different byte statistics, and one entropy table for them all fits none.
 */
static void
page_part(PageParts *p, size_t end)
{
	size_t		from = p->n > 0 ? p->ends[p->n - 1] : 0;

	if (end - from >= PART_MIN_BYTES)
		p->ends[p->n++] = end;
}

static void page_decide(ObsPqWriter *w, PqCol *c);
static inline size_t page_bytes(PqCol *c);
static void page_presize(ObsPqWriter *w, PqCol *c);

/*
 * The ways a page can be compressed: at the file's level, and when obs
 * picks zstd's level, also at ZSTD_FAST_LEVEL (which takes only matches
 * of 6 bytes or more and looks for them once), with a hash table of
 * 2^ZSTD_FAST_HASH_LOG entries rather than the level's 2^13 (about 1%
 * smaller on text, as fast), and at the file's level taking only matches
 * of ZSTD_LONG_MATCH bytes or more.
 */
typedef struct ZWay
{
	bool		fast;			/* ZSTD_FAST_LEVEL, not the file's level */
	int			match;			/* shortest match; 0: the level's */
	int			hash_log;		/* log2 of the hash table's entries; 0: the level's */
	int			strategy;		/* zstd's ZSTD_strategy; 0: the level's */
	int			search_log;		/* log2 of the searches per position; 0: the level's */
	int			window_log;		/* log2 of the farthest match; 0: the level's */
	bool		literals;		/* no matches: the bytes entropy-coded only */
} ZWay;

static const ZWay zways[] = {
	{false, 0, 0, 0, 0, 0, false},
	{true, 0, ZSTD_FAST_HASH_LOG, 0, 0, ZSTD_FAST_WINDOW_LOG, false},
	{false, ZSTD_LONG_MATCH, 0, 0, 0, 0, false},
	{false, ZSTD_LAZY_MATCH, 0, ZSTD_LAZY_STRATEGY, 1, ZSTD_LAZY_WINDOW_LOG, false},
	{false, ZSTD_LAZY_MATCH, 0, ZSTD_LAZY_STRATEGY, 1, ZSTD_LAZY_NEAR_WINDOW_LOG, false},
	{false, 0, 0, 0, 0, 0, true},
	{true, 0, ZSTD_TINY_HASH_LOG, 0, 0, ZSTD_FAST_WINDOW_LOG, false},
	{false, ZSTD_LAZY_MATCH, ZSTD_TINY_HASH_LOG, ZSTD_GREEDY_STRATEGY, 1,
	ZSTD_TINY_WINDOW_LOG, false},
};

#define WAY_FAST	1
/* the ways every trial compares; the lazy ones are tried on strings only */
#define MAX_WAYS	3
#define WAY_LAZY	3
#define WAY_LAZY_NEAR 4
/*
 * Literals only, tried on every encoding: symbols of a small alphabet
 * (dictionary indices of a few distinct values in whole bytes) come out
 * near their entropy, where matching spends more on short repeats among
 * them than it saves.
 */
#define WAY_LITERALS 5
/* ZSTD_FAST_LEVEL with the tiny hash table, tried on every encoding */
#define WAY_FAST_TINY 6
/* greedy matching with the tiny hash table, tried on strings */
#define WAY_GREEDY_TINY 7
#define N_ZWAYS		8

static inline int
n_ways(ObsPqWriter *w)
{
	return (w->auto_level && w->level != ZSTD_FAST_LEVEL) ? (int) MAX_WAYS : 1;
}

static inline int
way_level(ObsPqWriter *w, int way)
{
	return zways[way].fast ? ZSTD_FAST_LEVEL : w->level;
}

void
obs_pq_default_options(ObsPqOptions *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->codec = OBS_PQ_ZSTD;
	opts->level = OBS_PQ_LEVEL_DEFAULT;
	opts->row_group_rows = 122880;
	opts->row_group_bytes = 128 * 1024 * 1024;
	opts->page_bytes = 1024 * 1024;
	opts->dict_bytes = 1024 * 1024;
	opts->created_by = "obs";
}

static void
sink_write(ObsPqWriter *w, const char *data, size_t len)
{
	if (len == 0)
		return;
	w->sink(w->sink_arg, data, len);
	w->offset += len;
}

ObsPqWriter *
obs_pq_writer_create(const ObsPqColumn *cols, int ncols, const ObsPqOptions *opts,
					 ObsPqSink sink, void *sink_arg)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext,
											  "obs parquet writer",
											  ALLOCSET_DEFAULT_SIZES);
	ObsPqWriter *w = MemoryContextAllocZero(cxt, sizeof(ObsPqWriter));

	w->cxt = cxt;
	w->opts = *opts;
	w->opts.created_by = MemoryContextStrdup(cxt, opts->created_by ? opts->created_by : "obs");
	if (opts->n_kv > 0)
	{
		char	  **k = MemoryContextAlloc(cxt, sizeof(char *) * opts->n_kv);
		char	  **v = MemoryContextAlloc(cxt, sizeof(char *) * opts->n_kv);

		for (int i = 0; i < opts->n_kv; i++)
		{
			k[i] = MemoryContextStrdup(cxt, opts->kv_keys[i]);
			v[i] = opts->kv_values[i] ? MemoryContextStrdup(cxt, opts->kv_values[i]) : NULL;
		}
		w->opts.kv_keys = (const char *const *) k;
		w->opts.kv_values = (const char *const *) v;
	}
	if (w->opts.row_group_rows <= 0)
		w->opts.row_group_rows = PG_INT64_MAX;
	if (w->opts.row_group_bytes <= 0)
		w->opts.row_group_bytes = PG_INT64_MAX;
	if (w->opts.page_bytes <= 0)
		w->opts.page_bytes = 1024 * 1024;
	if (w->opts.dict_bytes <= 0)
		w->opts.dict_bytes = 1024 * 1024;

	/*
	 * Small blocks for the row group: only requests of up to 128 bytes share
	 * them, so little lies unused in freed chunks when buffers grow.
	 */
	w->rgcxt = AllocSetContextCreate(cxt, "obs parquet row group", 0, 1024, 1024);
	w->budget.cxt = w->rgcxt;
	w->budget.limit = w->opts.row_group_bytes;
	w->sink = sink;
	w->sink_arg = sink_arg;
	w->ncols = ncols;
	w->cols = MemoryContextAllocZero(cxt, sizeof(PqCol) * Max(ncols, 1));

	for (int i = 0; i < ncols; i++)
	{
		PqCol	   *c = &w->cols[i];

		c->spec = cols[i];
		c->spec.name = MemoryContextStrdup(cxt, cols[i].name);
		if (c->spec.is_list)
		{
			c->max_def = 3;
			c->max_rep = 1;
		}
		else
			c->max_def = c->spec.required ? 0 : 1;
		switch (c->spec.physical)
		{
			case OBS_PQ_BOOLEAN:
				c->value_size = 1;
				break;
			case OBS_PQ_INT32:
			case OBS_PQ_FLOAT:
				c->value_size = 4;
				break;
			case OBS_PQ_INT64:
			case OBS_PQ_DOUBLE:
				c->value_size = 8;
				break;
			case OBS_PQ_BYTE_ARRAY:
				c->value_size = 0;
				break;
			case OBS_PQ_FIXED_LEN_BYTE_ARRAY:
				if (c->spec.type_length <= 0)
					elog(ERROR, "FIXED_LEN_BYTE_ARRAY column \"%s\" needs a length",
						 c->spec.name);
				c->value_size = c->spec.type_length;
				break;
		}
		c->defer_stats = (c->spec.physical == OBS_PQ_INT32 ||
						  c->spec.physical == OBS_PQ_INT64 ||
						  c->spec.physical == OBS_PQ_FLOAT ||
						  c->spec.physical == OBS_PQ_DOUBLE ||
						  (c->spec.physical == OBS_PQ_FIXED_LEN_BYTE_ARRAY &&
						   c->spec.logical != OBS_PQ_LT_DECIMAL &&
						   (c->value_size == 8 || c->value_size == 16)));
		c->dict_allowed = (c->spec.physical != OBS_PQ_BOOLEAN);
		c->use_dict = c->dict_allowed;
		c->last_dict = c->dict_allowed;
		c->trial_due = true;
		c->value_enc = ENC_PLAIN;
		c->zway_confirm = -1;
		switch (c->spec.physical)
		{
			case OBS_PQ_INT32:
			case OBS_PQ_INT64:
				c->alt_enc = ENC_DELTA_BINARY_PACKED;
				break;
			case OBS_PQ_FLOAT:
			case OBS_PQ_DOUBLE:
				c->alt_enc = ENC_BYTE_STREAM_SPLIT;
				break;
			case OBS_PQ_BYTE_ARRAY:
				c->alt_enc = ENC_DELTA_LENGTH_BYTE_ARRAY;
				break;
			default:
				c->alt_enc = ENC_PLAIN;
				break;
		}
		obs_pq_buf_init(&c->defs, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->reps, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->vals, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->idx, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->dict, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->ent, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->chunk, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->min, w->rgcxt, &w->budget);
		obs_pq_buf_init(&c->max, w->rgcxt, &w->budget);
		c->slots = NULL;
		c->nslots = 0;
	}
	/* the footer's metadata is not the row group's: it is not counted */
	obs_pq_buf_init(&w->rgmeta, cxt, NULL);
	obs_pq_buf_init(&w->body, w->rgcxt, &w->budget);
	obs_pq_buf_init(&w->zbuf, w->rgcxt, &w->budget);
	obs_pq_buf_init(&w->hdr, w->rgcxt, &w->budget);
	obs_pq_buf_init(&w->trial, w->rgcxt, &w->budget);
	obs_pq_buf_init(&w->zbuf2, w->rgcxt, &w->budget);
	obs_pq_buf_init(&w->hdr2, w->rgcxt, &w->budget);
	w->compressor = obs_pq_compressor_create(cxt, w->opts.codec, w->opts.level);
	w->level = obs_pq_compressor_level(w->compressor);
	w->auto_level = (w->opts.codec == OBS_PQ_ZSTD && w->opts.level == OBS_PQ_LEVEL_DEFAULT);

	sink_write(w, "PAR1", 4);
	return w;
}

void
obs_pq_writer_free(ObsPqWriter *w)
{
	MemoryContextDelete(w->cxt);
}

uint64
obs_pq_rows(ObsPqWriter *w)
{
	return w->total_rows;
}

/* ---------------------------------------------------------------------
 * Statistics
 * --------------------------------------------------------------------- */

/* three-way comparison of two non-null values of column c */
static int
stat_cmp(PqCol *c, const char *a, uint32 alen, const char *b, uint32 blen)
{
	switch (c->spec.physical)
	{
		case OBS_PQ_BOOLEAN:
			return (int) (uint8) a[0] - (int) (uint8) b[0];
		case OBS_PQ_INT32:
			{
				int32		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return (x > y) - (x < y);
			}
		case OBS_PQ_INT64:
			{
				int64		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return (x > y) - (x < y);
			}
		case OBS_PQ_FLOAT:
			{
				float		x,
							y;

				memcpy(&x, a, 4);
				memcpy(&y, b, 4);
				return (x > y) - (x < y);
			}
		case OBS_PQ_DOUBLE:
			{
				double		x,
							y;

				memcpy(&x, a, 8);
				memcpy(&y, b, 8);
				return (x > y) - (x < y);
			}
		case OBS_PQ_FIXED_LEN_BYTE_ARRAY:
			if (c->spec.logical == OBS_PQ_LT_DECIMAL)
			{
				/* big-endian two's complement: the sign byte is signed */
				int8		x = (int8) a[0];
				int8		y = (int8) b[0];

				if (x != y)
					return (x > y) - (x < y);
				return memcmp(a + 1, b + 1, alen - 1);
			}
			return memcmp(a, b, alen);
		case OBS_PQ_BYTE_ARRAY:
			{
				int			r = memcmp(a, b, Min(alen, blen));

				if (r != 0)
					return r;
				return (alen > blen) - (alen < blen);
			}
	}
	return 0;
}

/* a statistics bound: the value's bytes, in a buffer that always exists */
static void
stat_set(PqBuf *b, const char *v, uint32 len)
{
	b->len = 0;
	obs_pq_buf_reserve(b, Max(len, 1));
	if (len > 0)
		memcpy(b->data, v, len);
	b->len = len;
}

static void
stat_update(PqCol *c, const char *v, uint32 len)
{
	if (c->spec.physical == OBS_PQ_FLOAT)
	{
		float		f;

		memcpy(&f, v, 4);
		if (isnan(f))
		{
			c->nan_count++;
			return;
		}
	}
	else if (c->spec.physical == OBS_PQ_DOUBLE)
	{
		double		d;

		memcpy(&d, v, 8);
		if (isnan(d))
		{
			c->nan_count++;
			return;
		}
	}
	if (!c->has_minmax)
	{
		stat_set(&c->min, v, len);
		stat_set(&c->max, v, len);
		c->has_minmax = true;
		return;
	}
	if (stat_cmp(c, v, len, c->min.data, c->min.len) < 0)
		stat_set(&c->min, v, len);
	else if (stat_cmp(c, v, len, c->max.data, c->max.len) > 0)
		stat_set(&c->max, v, len);
}

/* a big-endian 64-bit word: FIXED_LEN_BYTE_ARRAY bounds order bytes unsigned */
static inline uint64
be64_at(const char *p)
{
	uint64		x;

	memcpy(&x, p, 8);
	return pg_ntoh64(x);
}

/*
 * The statistics of the values PLAIN-buffered since the last scan, for the
 * columns that defer them (defer_stats): one loop per page instead of a
 * comparison call per value.  The bounds and NaN count come out as
 * stat_update gives them value by value: the first of equal bounds stays.
 */
#define SCAN_NO_NAN(x)	false
#define SCAN_MINMAX(T, is_nan) \
	do { \
		T			lo = 0, hi = 0, x; \
		bool		any = false; \
		for (size_t i = 0; i < n; i++) \
		{ \
			memcpy(&x, p + i * sizeof(T), sizeof(T)); \
			if (is_nan(x)) \
			{ \
				c->nan_count++; \
				continue; \
			} \
			if (!any) \
			{ \
				lo = hi = x; \
				any = true; \
			} \
			else if (x < lo) \
				lo = x; \
			else if (x > hi) \
				hi = x; \
		} \
		if (any) \
		{ \
			stat_update(c, (const char *) &lo, sizeof(T)); \
			stat_update(c, (const char *) &hi, sizeof(T)); \
		} \
	} while (0)

static void
stats_scan(PqCol *c)
{
	const char *p = c->vals.data + c->stats_done;
	size_t		n;

	if (!c->defer_stats || c->vals.len <= c->stats_done)
		return;
	n = (c->vals.len - c->stats_done) / c->value_size;
	c->stats_done = c->vals.len;
	switch (c->spec.physical)
	{
		case OBS_PQ_INT32:
			SCAN_MINMAX(int32, SCAN_NO_NAN);
			break;
		case OBS_PQ_INT64:
			SCAN_MINMAX(int64, SCAN_NO_NAN);
			break;
		case OBS_PQ_FLOAT:
			SCAN_MINMAX(float, isnan);
			break;
		case OBS_PQ_DOUBLE:
			SCAN_MINMAX(double, isnan);
			break;
		default:
			{
				/* 8 or 16 bytes compared as big-endian words */
				int			w = c->value_size;
				const char *lo = NULL,
						   *hi = NULL;
				uint64		lo0 = 0,
							lo1 = 0,
							hi0 = 0,
							hi1 = 0;

				for (size_t i = 0; i < n; i++)
				{
					const char *v = p + i * w;
					uint64		x0 = be64_at(v);
					uint64		x1 = (w == 16) ? be64_at(v + 8) : 0;

					if (lo == NULL)
					{
						lo = hi = v;
						lo0 = hi0 = x0;
						lo1 = hi1 = x1;
					}
					else if (x0 < lo0 || (x0 == lo0 && x1 < lo1))
					{
						lo = v;
						lo0 = x0;
						lo1 = x1;
					}
					else if (x0 > hi0 || (x0 == hi0 && x1 > hi1))
					{
						hi = v;
						hi0 = x0;
						hi1 = x1;
					}
				}
				if (lo != NULL)
				{
					stat_update(c, lo, w);
					stat_update(c, hi, w);
				}
				break;
			}
	}
}

/* legacy min/max fields are written only where their signed order is right */
static bool
legacy_order_ok(PqCol *c)
{
	switch (c->spec.physical)
	{
		case OBS_PQ_BOOLEAN:
		case OBS_PQ_INT32:
		case OBS_PQ_INT64:
		case OBS_PQ_FLOAT:
		case OBS_PQ_DOUBLE:
			return true;
		default:
			return false;
	}
}

/* the fields of a Statistics struct; the caller opens and closes it */
static void
encode_statistics(ThriftEnc *tc, PqCol *c)
{
	bool		minmax = c->has_minmax &&
		c->min.len <= MAX_STAT_BYTES && c->max.len <= MAX_STAT_BYTES;
	char		minv[8];
	char		maxv[8];
	const char *minp = c->min.data;
	const char *maxp = c->max.data;

	/* zero bounds: -0.0 for the minimum, +0.0 for the maximum */
	if (minmax && c->spec.physical == OBS_PQ_FLOAT)
	{
		float		lo,
					hi;

		memcpy(&lo, minp, 4);
		memcpy(&hi, maxp, 4);
		if (lo == 0.0f)
			lo = -0.0f;
		if (hi == 0.0f)
			hi = 0.0f;
		memcpy(minv, &lo, 4);
		memcpy(maxv, &hi, 4);
		minp = minv;
		maxp = maxv;
	}
	else if (minmax && c->spec.physical == OBS_PQ_DOUBLE)
	{
		double		lo,
					hi;

		memcpy(&lo, minp, 8);
		memcpy(&hi, maxp, 8);
		if (lo == 0.0)
			lo = -0.0;
		if (hi == 0.0)
			hi = 0.0;
		memcpy(minv, &lo, 8);
		memcpy(maxv, &hi, 8);
		minp = minv;
		maxp = maxv;
	}

	if (minmax && legacy_order_ok(c))
	{
		obs_tc_field_binary(tc, 1, maxp, c->max.len);
		obs_tc_field_binary(tc, 2, minp, c->min.len);
	}
	obs_tc_field_i64(tc, 3, c->null_count);
	if (minmax)
	{
		obs_tc_field_binary(tc, 5, maxp, c->max.len);
		obs_tc_field_binary(tc, 6, minp, c->min.len);
	}
	if (c->spec.physical == OBS_PQ_FLOAT || c->spec.physical == OBS_PQ_DOUBLE)
		obs_tc_field_i64(tc, 9, c->nan_count);
}

/* ---------------------------------------------------------------------
 * Dictionary
 * --------------------------------------------------------------------- */

#define DICT_ENTS(c)	((DictEnt *) (c)->ent.data)

/*
 * Double the dictionary's hash table (or make its first one).  When the
 * budget cannot afford that, the row group is closed at the end of the row
 * and the table runs fuller until then; it grows regardless once it is
 * 7/8 full, which only a row adding that many distinct values can cause.
 */
static void
dict_grow_slots(ObsPqWriter *w, PqCol *c)
{
	int			n = c->nslots ? c->nslots * 2 : DICT_MIN_SLOTS;
	size_t		bytes = sizeof(int32) * n;
	int32	   *slots;

	if (c->nslots > 0 &&
		pq_budget_held(&w->budget) + (int64) (bytes / 2) > w->budget.limit)
	{
		w->budget.over = true;
		if ((int64) c->ndict * 8 < (int64) c->nslots * 7)
			return;
	}
	slots = MemoryContextAllocHuge(w->rgcxt, bytes);
	memset(slots, 0xff, sizeof(int32) * n);
	for (int e = 0; e < c->ndict; e++)
	{
		uint32		pos = DICT_ENTS(c)[e].hash & (n - 1);

		while (slots[pos] >= 0)
			pos = (pos + 1) & (n - 1);
		slots[pos] = e;
	}
	if (c->slots)
		pfree(c->slots);
	c->slots = slots;
	c->nslots = n;
}

/* a dictionary hash: a multiply-shift mix for 4- and 8-byte values */
static inline uint32
value_hash(PqCol *c, const char *v, uint32 len)
{
	uint64		x;

	if (c->value_size == 4)
	{
		uint32		y;

		memcpy(&y, v, 4);
		x = y;
	}
	else if (c->value_size == 8)
		memcpy(&x, v, 8);
	else
		return hash_bytes((const unsigned char *) v, (int) len);
	x ^= x >> 31;
	x *= UINT64CONST(0xbf58476d1ce4e5b9);
	x ^= x >> 29;
	return (uint32) (x >> 32);
}

/* the dictionary index of a value, adding it when new */
static uint32
dict_index(ObsPqWriter *w, PqCol *c, const char *v, uint32 len)
{
	uint32		h = value_hash(c, v, len);
	uint32		mask;
	uint32		pos;
	int32		e;
	DictEnt		ent;

	if (c->nslots == 0)
		dict_grow_slots(w, c);
	mask = c->nslots - 1;
	pos = h & mask;
	while ((e = c->slots[pos]) >= 0)
	{
		if (DICT_ENTS(c)[e].hash == h)
		{
			const char *p = c->dict.data + DICT_ENTS(c)[e].off;

			if (c->value_size == 0)
			{
				uint32		elen;

				memcpy(&elen, p, 4);
				if (elen == len && memcmp(p + 4, v, len) == 0)
					return (uint32) e;
			}
			else if (len == 4)
			{
				uint32		a,
							b;

				memcpy(&a, p, 4);
				memcpy(&b, v, 4);
				if (a == b)
					return (uint32) e;
			}
			else if (len == 8)
			{
				uint64		a,
							b;

				memcpy(&a, p, 8);
				memcpy(&b, v, 8);
				if (a == b)
					return (uint32) e;
			}
			else if (memcmp(p, v, len) == 0)
				return (uint32) e;
		}
		pos = (pos + 1) & mask;
	}

	e = c->ndict++;
	ent.off = (uint32) c->dict.len;
	ent.hash = h;
	pq_buf_append(&c->ent, &ent, sizeof(ent));
	if (c->value_size == 0)
		pq_buf_u32le(&c->dict, len);
	pq_buf_append(&c->dict, v, len);
	c->slots[pos] = e;
	if ((int64) c->ndict * 2 > c->nslots)
		dict_grow_slots(w, c);
	return (uint32) e;
}

static void
dict_reset(PqCol *c)
{
	c->ndict = 0;
	c->dict.len = 0;
	c->ent.len = 0;
	if (c->slots)
		memset(c->slots, 0xff, sizeof(int32) * c->nslots);
	c->dict_written = false;
}

/*
 * A new column chunk: every few chunks it tries every encoding again; in
 * between it keeps what the last trial chose, and builds no dictionary
 * when that was not one.
 */
static void
dict_chunk_start(PqCol *c)
{
	dict_reset(c);
	c->decided = false;
	if (c->trial_skip > 0)
	{
		c->trial_skip--;
		c->trial_due = false;
		c->use_dict = c->dict_allowed && c->last_dict;
	}
	else
	{
		c->trial_due = true;
		c->use_dict = c->dict_allowed;
	}
}

/* the current page's values, PLAIN-encoded from the dictionary, onto out */
static void
page_indices_to_plain(PqCol *c, PqBuf *out)
{
	const uint32 *idx = (const uint32 *) c->idx.data;
	int			nidx = (int) (c->idx.len / sizeof(uint32));

	for (int i = 0; i < nidx; i++)
	{
		const char *p = c->dict.data + DICT_ENTS(c)[idx[i]].off;
		uint32		len = c->value_size;

		if (c->value_size == 0)
		{
			memcpy(&len, p, 4);
			len += 4;
		}
		pq_buf_append(out, p, len);
	}
}

/*
 * The current page goes PLAIN-buffered and the chunk drops its dictionary
 * (no page has used it yet); the next chunks build none until the next
 * encoding trial.
 */
static void
page_drop_dict(PqCol *c)
{
	Assert(!c->dict_written);
	c->vals.len = 0;
	page_indices_to_plain(c, &c->vals);
	c->stats_done = c->vals.len;
	/* give the dictionary's memory back: the values now take its place */
	obs_pq_buf_free(&c->idx);
	obs_pq_buf_free(&c->dict);
	obs_pq_buf_free(&c->ent);
	if (c->slots)
		pfree(c->slots);
	c->slots = NULL;
	c->nslots = 0;
	dict_reset(c);
	c->use_dict = false;
	c->last_dict = false;
}

/* ---------------------------------------------------------------------
 * Values and pages
 * --------------------------------------------------------------------- */

void
obs_pq_append(ObsPqWriter *w, int col, int def, int rep, const void *value, uint32 len)
{
	PqCol	   *c = &w->cols[col];

	if (c->max_def > 0 && c->max_rep == 0 && def == c->max_def && c->defs.len == 0)
	{
		/*
		 * Not stored, but the buffer's room grows as if it were: the row
		 * group's byte budget, and so where row groups end and the memory
		 * they peak at, stay as they were.  Its bytes are never touched.
		 */
		if ((size_t) c->nlev + 1 > c->defs.cap)
		{
			obs_pq_buf_free(&c->defs);
			obs_pq_buf_reserve(&c->defs, (size_t) c->nlev + 1);
		}
	}
	else if (c->max_def > 0)
	{
		/* the levels so far were all max_def and not written out: write them */
		if (c->defs.len < (size_t) c->nlev)
		{
			obs_pq_buf_reserve(&c->defs, c->nlev - c->defs.len + 1);
			memset(c->defs.data + c->defs.len, c->max_def, c->nlev - c->defs.len);
			c->defs.len = c->nlev;
		}
		pq_buf_byte(&c->defs, (uint8) def);
	}
	if (c->max_rep > 0)
		pq_buf_byte(&c->reps, (uint8) rep);
	c->nlev++;

	if (def < c->max_def)
	{
		c->null_count++;
		return;
	}
	if (c->value_size > 0)
		len = c->value_size;

	c->page_nvals++;
	if (c->use_dict)
	{
		int			ndict = c->ndict;
		uint32		e = dict_index(w, c, value, len);

		/* a value already in the chunk's dictionary moves no bound (NaNs count) */
		if (c->ndict != ndict || c->spec.physical == OBS_PQ_FLOAT ||
			c->spec.physical == OBS_PQ_DOUBLE)
			stat_update(c, value, len);
		pq_buf_append(&c->idx, &e, sizeof(e));
		/* nearly every value new: stop paying for the hash probe now */
		if (c->page_nvals == DICT_EARLY_VALUES && !c->dict_written &&
			c->ndict > DICT_EARLY_VALUES - DICT_EARLY_VALUES / 16)
			page_drop_dict(c);
	}
	else if (c->value_size > 0)
	{
		char	   *dst;

		if (!c->defer_stats)
			stat_update(c, value, len);
		if (c->vals.len + len > c->vals.cap)
			obs_pq_buf_reserve(&c->vals, len);
		dst = c->vals.data + c->vals.len;
		/* the common widths copied inline, not through a memcpy call */
		switch (len)
		{
			case 4:
				memcpy(dst, value, 4);
				break;
			case 8:
				memcpy(dst, value, 8);
				break;
			case 16:
				memcpy(dst, value, 16);
				break;
			default:
				memcpy(dst, value, len);
				break;
		}
		c->vals.len += len;
	}
	else
	{
		stat_update(c, value, len);
		pq_buf_u32le(&c->vals, len);
		pq_buf_append(&c->vals, value, len);
	}
	/* choose on the first values, not after a page of dictionary probes */
	if (c->page_nvals == TRIAL_VALUES / 2 && !c->decided)
		c->ndict_half = c->ndict;
	else if (c->page_nvals == TRIAL_VALUES && !c->decided)
	{
		page_decide(w, c);
		page_presize(w, c);
	}
}

void
obs_pq_append_null(ObsPqWriter *w, int col)
{
	obs_pq_append(w, col, 0, 0, NULL, 0);
}

/*
 * Compress a page body of len bytes at src into w->zbuf and encode its
 * header into w->hdr; returns where the page's stored bytes are (w->zbuf,
 * or src itself when uncompressed) and sets *stored_len.
 */
static const char *
encode_page(ObsPqWriter *w, const char *src, size_t len, const PageParts *parts, int page_type,
			int num_values, int encoding, int way, size_t *stored_len)
{
	ThriftEnc	tc;
	size_t		zlen = 0;
	const char *stored = src;
	const char *err;
	bool		ok;

	if (len > (size_t) PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet page of %zu bytes is too large", len)));
	if (w->opts.codec == OBS_PQ_UNCOMPRESSED)
	{
		zlen = len;
	}
	else
	{
		w->zbuf.len = 0;
		obs_pq_buf_reserve(&w->zbuf, obs_pq_compress_bound(w->compressor, len));
		obs_pq_compressor_set_level(w->compressor, way_level(w, way), zways[way].match,
									zways[way].hash_log, zways[way].strategy,
									zways[way].search_log, zways[way].window_log,
									zways[way].literals);
		ok = obs_pq_compress_parts(w->compressor, src, len, parts ? parts->ends : NULL,
								   parts ? parts->n : 0, w->zbuf.data, w->zbuf.cap,
								   &zlen, &err);
		if (!ok)
			ereport(ERROR,
					(errcode(ERRCODE_INTERNAL_ERROR),
					 errmsg("could not compress Parquet page: %s", err)));
		w->zbuf.len = zlen;
		stored = w->zbuf.data;
	}

	w->hdr.len = 0;
	obs_tc_init(&tc, &w->hdr);
	obs_tc_struct_begin(&tc);
	obs_tc_field_i32(&tc, 1, page_type);
	obs_tc_field_i32(&tc, 2, (int32) len);
	obs_tc_field_i32(&tc, 3, (int32) zlen);
	if (page_type == PAGE_DATA)
	{
		obs_tc_field_struct(&tc, 5);
		obs_tc_field_i32(&tc, 1, num_values);
		obs_tc_field_i32(&tc, 2, encoding);
		obs_tc_field_i32(&tc, 3, ENC_RLE);
		obs_tc_field_i32(&tc, 4, ENC_RLE);
		obs_tc_struct_end(&tc);
	}
	else
	{
		obs_tc_field_struct(&tc, 7);
		obs_tc_field_i32(&tc, 1, num_values);
		obs_tc_field_i32(&tc, 2, encoding);
		obs_tc_struct_end(&tc);
	}
	obs_tc_struct_end(&tc);

	*stored_len = zlen;
	return stored;
}

/* levels as a v1 data page wants them: 4-byte length, then RLE */
static void
encode_levels(PqBuf *out, const PqBuf *levels, int n, int maxlevel)
{
	size_t		at = out->len;
	uint32		len;

	pq_buf_u32le(out, 0);
	if (levels->len == 0)		/* definition levels all maxlevel (defs) */
		obs_pq_rle_encode_same(out, (uint8) maxlevel, n, obs_pq_bit_width(maxlevel));
	else
		obs_pq_rle_encode_u8(out, (const uint8 *) levels->data, n, obs_pq_bit_width(maxlevel));
	len = (uint32) (out->len - at - 4);
	out->data[at] = len & 0xff;
	out->data[at + 1] = (len >> 8) & 0xff;
	out->data[at + 2] = (len >> 16) & 0xff;
	out->data[at + 3] = (len >> 24) & 0xff;
}

/*
 * Encode n PLAIN-buffered values of column c onto out with encoding enc;
 * bytes: DELTA_BINARY_PACKED (and DELTA_LENGTH_BYTE_ARRAY's lengths) in
 * whole-byte widths.  The lengths of DELTA_LENGTH_BYTE_ARRAY end a part of
 * parts, to be compressed apart from the bytes that follow them.
 */
static void
encode_values(PqCol *c, int enc, bool bytes, const char *vals, size_t len, int n,
			  PqBuf *out, PageParts *parts)
{
	if (enc == ENC_DELTA_LENGTH_BYTE_ARRAY)
	{
		size_t		lengths_end;

		obs_pq_dlba_encode(out, vals, len, n, bytes, &lengths_end);
		page_part(parts, lengths_end);
	}
	else if (enc == ENC_DELTA_BINARY_PACKED && c->value_size == 8)
		obs_pq_delta_encode_i64(out, vals, n, bytes);
	else if (enc == ENC_DELTA_BINARY_PACKED)
		obs_pq_delta_encode_i32(out, vals, n, bytes);
	else if (enc == ENC_BYTE_STREAM_SPLIT)
		obs_pq_bss_encode(out, vals, n, c->value_size);
	else if (c->spec.physical == OBS_PQ_BOOLEAN)
		obs_pq_pack_bools(out, (const uint8 *) vals, (int) len);
	else
		pq_buf_append(out, vals, len);
}

/* the bit width of the current dictionary's indices */
static inline int
index_bit_width(PqCol *c)
{
	return Max(1, obs_pq_bit_width(c->ndict > 0 ? c->ndict - 1 : 0));
}

/*
 * Dictionary indices as a data page holds them: bit width, then RLE.  With
 * bytes, the bit width is rounded up to whole bytes: readers take any
 * width the page names, and the codec then sees each index as a byte (or
 * two) of its own, which it entropy-codes far better than indices packed
 * across byte boundaries when some entries are much more frequent than
 * others, or when the indices of neighbouring values are close.
 */
static void
encode_indices(PqCol *c, PqBuf *out, bool bytes)
{
	int			bw = index_bit_width(c);

	if (bytes)
		bw = (bw + 7) & ~7;
	pq_buf_byte(out, (uint8) bw);
	obs_pq_rle_encode(out, (const uint32 *) c->idx.data,
					  (int) (c->idx.len / sizeof(uint32)), bw);
}

/*
 * What len bytes come to once compressed the given way, parts (if any)
 * apart as a page's are (trials only).
 */
static size_t
trial_size(ObsPqWriter *w, const char *src, size_t len, const PageParts *parts, int way)
{
	size_t		zlen;
	const char *err;

	if (w->opts.codec == OBS_PQ_UNCOMPRESSED || len == 0)
		return len;
	w->zbuf.len = 0;
	obs_pq_buf_reserve(&w->zbuf, obs_pq_compress_bound(w->compressor, len));
	obs_pq_compressor_set_level(w->compressor, way_level(w, way), zways[way].match,
								zways[way].hash_log, zways[way].strategy,
								zways[way].search_log, zways[way].window_log,
								zways[way].literals);
	if (!obs_pq_compress_parts(w->compressor, src, len, parts ? parts->ends : NULL,
							   parts ? parts->n : 0, w->zbuf.data, w->zbuf.cap, &zlen, &err))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compress Parquet page: %s", err)));
	return zlen;
}

/*
 * The part of the dictionary page's size that the trial's values bear.
 * The dictionary page is written once per chunk: when the second half of
 * the trial's values added few entries, the dictionary is nearly whole
 * and the rest of the chunk shares its cost; when they added as many as
 * the first half, it grows with the chunk and the trial's values bear it
 * all.  The chunk is taken to hold the row group's row count of values,
 * at most TRIAL_CHUNK_VALUES.
 */
static double
dict_share(ObsPqWriter *w, PqCol *c)
{
	double		n = c->page_nvals;
	double		chunk;
	double		rate;
	double		final;

	if (c->page_nvals < TRIAL_VALUES || c->ndict == 0)
		return 1.0;
	chunk = Max(n, (double) Min(w->opts.row_group_rows, TRIAL_CHUNK_VALUES));
	rate = (double) (c->ndict - c->ndict_half) / (n - TRIAL_VALUES / 2);
	final = c->ndict + rate * (chunk - n);
	return Min(1.0, (final / c->ndict) * (n / chunk));
}

/*
 * The way to compress a trial's candidate of len bytes that came to z[way]
 * each way.  The fast level when the others hardly compress it (bytes
 * without redundancy, as random ids: the same size, in half the time or
 * less), or when it saves 1/64 on them: the sample is smaller than a page,
 * and the default level's larger tables and window gain more on a whole
 * page.  Otherwise the smaller of the others.  With lazy (strings), the
 * better lazy way (or, with greedy, greedy matching with the tiny table)
 * when it saves 1/LAZY_MIN_GAIN on that.  Last, literals
 * only when they come out smaller still: they are the cheapest way to
 * write and to read.
 */
static int
best_way(ObsPqWriter *w, size_t len, const size_t *z, bool lazy, bool greedy)
{
	int			other = 0;
	int			fast;
	int			way;

	if (n_ways(w) == 1)
		return 0;
	for (int i = 0; i < (int) MAX_WAYS; i++)
		if (i != WAY_FAST && z[i] < z[other])
			other = i;
	fast = (z[WAY_FAST_TINY] < z[WAY_FAST]) ? WAY_FAST_TINY : WAY_FAST;
	if (z[other] >= len - len / 64 || z[fast] + z[fast] / 64 <= z[other])
		way = fast;
	else
		way = other;
	if (lazy)
	{
		int			l = (z[WAY_LAZY_NEAR] < z[WAY_LAZY]) ? WAY_LAZY_NEAR : WAY_LAZY;

		if (greedy && z[WAY_GREEDY_TINY] < z[l])
			l = WAY_GREEDY_TINY;
		if (z[l] < z[way] - z[way] / LAZY_MIN_GAIN)
			way = l;
	}
	if (z[WAY_LITERALS] < z[way])
		way = WAY_LITERALS;
	return way;
}

/*
 * len bytes at src (with its parts, if any) compressed the ways [from, to)
 * into z[]; from the second way on, also level 1 with the tiny table and
 * literals only.
 */
static void
trial_ways(ObsPqWriter *w, const char *src, size_t len, const PageParts *parts,
		   size_t *z, int from, int to)
{
	for (int i = from; i < to; i++)
		z[i] = trial_size(w, src, len, parts, i);
	if (to > 1)
	{
		z[WAY_LITERALS] = trial_size(w, src, len, parts, WAY_LITERALS);
		z[WAY_FAST_TINY] = trial_size(w, src, len, parts, WAY_FAST_TINY);
	}
}

/* the same the slower ways of strings: lazy matching, greedy with the tiny table */
static void
trial_slow_ways(ObsPqWriter *w, const char *src, size_t len, const PageParts *parts,
				size_t *z)
{
	z[WAY_LAZY] = trial_size(w, src, len, parts, WAY_LAZY);
	z[WAY_LAZY_NEAR] = trial_size(w, src, len, parts, WAY_LAZY_NEAR);
	z[WAY_GREEDY_TINY] = trial_size(w, src, len, parts, WAY_GREEDY_TINY);
}

/* the smallest of z[] over the faster ways, all tried (trial_ways to MAX_WAYS) */
static size_t
fast_ways_min(const size_t *z)
{
	size_t		m = Min(z[WAY_LITERALS], z[WAY_FAST_TINY]);

	for (int i = 0; i < (int) MAX_WAYS; i++)
		m = Min(m, z[i]);
	return m;
}

/*
 * The current page's indices compressed the ways [from, to) into z[] (as
 * trial_ways), packed or in whole bytes (the smaller, as flush_page
 * chooses); returns the length of the packed indices.
 */
static size_t
trial_indices(ObsPqWriter *w, PqCol *c, size_t *z, int from, int to)
{
	size_t		zb[N_ZWAYS];
	size_t		len;

	w->trial.len = 0;
	encode_indices(c, &w->trial, false);
	len = w->trial.len;
	trial_ways(w, w->trial.data, w->trial.len, NULL, z, from, to);
	if (index_bit_width(c) % 8 != 0)
	{
		w->trial.len = 0;
		encode_indices(c, &w->trial, true);
		trial_ways(w, w->trial.data, w->trial.len, NULL, zb, from, to);
		for (int i = from; i < to; i++)
			z[i] = Min(z[i], zb[i]);
		if (to > 1)
		{
			z[WAY_LITERALS] = Min(z[WAY_LITERALS], zb[WAY_LITERALS]);
			z[WAY_FAST_TINY] = Min(z[WAY_FAST_TINY], zb[WAY_FAST_TINY]);
		}
	}
	return len;
}

/*
 * The encoding trial, on a chunk's first values (its first TRIAL_VALUES,
 * or its first page holding values if that has fewer): the first
 * TRIAL_SAMPLE_BYTES of them are encoded PLAIN and with the
 * type's other encoding (DELTA_BINARY_PACKED for integers, both packed and
 * in whole-byte widths; BYTE_STREAM_SPLIT for floats;
 * DELTA_LENGTH_BYTE_ARRAY for strings and binary, its lengths both packed
 * and in whole bytes), and compressed with the file's codec;
 * the sizes are scaled to the page, and the other encoding must save 1/32
 * (DELTA_LENGTH_BYTE_ARRAY 1/DLBA_MIN_GAIN).
 * When the page is still dictionary-encoded, its indices (the smaller of
 * packed and whole bytes, as flush_page chooses) and the dictionary are
 * compressed whole, the dictionary counted for the share of it these
 * values bear (dict_share), and the dictionary stays unless the
 * better of the others saves 1/64 and DICT_MIN_GAIN bytes: readers filter
 * and decode dictionary pages cheaply.  Pages without the dictionary use
 * the better of PLAIN and the other encoding for the rest of the chunk,
 * and the choice holds for the next TRIAL_EVERY_CHUNKS chunks, which build
 * no dictionary if it lost.  When obs picks zstd's way, every encoding is
 * first compressed the default way; those within 1/4 of the best are then
 * compressed the other ways too, and compared at their best ways.
 */
static void
encoding_trial(ObsPqWriter *w, PqCol *c)
{
	const char *plain;
	size_t		plain_len;
	int			k;				/* values in the sample */
	double		scale;
	size_t		zp[N_ZWAYS];	/* PLAIN, each way */
	size_t		za[N_ZWAYS];	/* the other encoding */
	size_t		zi[N_ZWAYS];	/* dictionary indices */
	PageParts	aparts;			/* the other encoding's parts */
	size_t		z_plain;
	size_t		z_alt = SIZE_MAX;
	size_t		z_dict = SIZE_MAX;
	size_t		z_other;
	size_t		best0;
	size_t		dict_part = 0;
	size_t		idx_len = 0;
	int			way_plain = 0;
	int			way_alt = 0;
	int			way_dict = 0;
	int			alt_gain;
	bool		strings = (c->value_size == 0 && !c->use_dict);
	bool		slow_plain = false;	/* the slower ways were tried on PLAIN */
	bool		slow_alt = false;	/* ... on the other encoding */

	if (!c->use_dict && c->alt_enc == ENC_PLAIN && n_ways(w) == 1)
		return;					/* nothing to choose from */

	/* the sample: the first whole values, about TRIAL_SAMPLE_BYTES */
	w->body.len = 0;
	if (c->use_dict)
	{
		/* PLAIN from the dictionary, one value at a time */
		const uint32 *idx = (const uint32 *) c->idx.data;

		k = 0;
		while (k < c->page_nvals && w->body.len < TRIAL_SAMPLE_BYTES)
		{
			const char *p = c->dict.data + DICT_ENTS(c)[idx[k]].off;
			uint32		l = c->value_size;

			if (l == 0)
			{
				memcpy(&l, p, 4);
				l += 4;
			}
			pq_buf_append(&w->body, p, l);
			k++;
		}
		plain = w->body.data;
		plain_len = w->body.len;
	}
	else
	{
		/* the PLAIN values buffered: a prefix of them */
		const char *p = c->vals.data;

		k = 0;
		while (k < c->page_nvals && p - c->vals.data < TRIAL_SAMPLE_BYTES)
		{
			uint32		l = c->value_size;

			if (l == 0)
			{
				memcpy(&l, p, 4);
				l += 4;
			}
			p += l;
			k++;
		}
		plain = c->vals.data;
		plain_len = p - c->vals.data;
	}
	scale = (k > 0) ? (double) c->page_nvals / k : 1.0;

	/* every encoding at the file's level ... */
	trial_ways(w, plain, plain_len, NULL, zp, 0, 1);
	z_plain = (size_t) (zp[0] * scale);
	best0 = z_plain;
	c->delta_bytes = false;
	if (c->alt_enc != ENC_PLAIN)
	{
		w->trial.len = 0;
		aparts.n = 0;
		encode_values(c, c->alt_enc, false, plain, plain_len, k, &w->trial, &aparts);
		trial_ways(w, w->trial.data, w->trial.len, &aparts, za, 0, 1);
		if (c->alt_enc == ENC_DELTA_BINARY_PACKED ||
			c->alt_enc == ENC_DELTA_LENGTH_BYTE_ARRAY)
		{
			size_t		zb[1];

			w->trial.len = 0;
			aparts.n = 0;
			encode_values(c, c->alt_enc, true, plain, plain_len, k, &w->trial, &aparts);
			trial_ways(w, w->trial.data, w->trial.len, &aparts, zb, 0, 1);
			c->delta_bytes = (zb[0] < za[0]);
			za[0] = Min(za[0], zb[0]);
		}
		z_alt = (size_t) (za[0] * scale);
		best0 = Min(best0, z_alt);
	}
	if (c->use_dict)
	{
		dict_part = (size_t) (trial_size(w, c->dict.data, c->dict.len, NULL, 0) *
							  dict_share(w, c));
		idx_len = trial_indices(w, c, zi, 0, 1);
		z_dict = zi[0] + dict_part;
		best0 = Min(best0, z_dict);
	}

	/*
	 * ... then the other ways, for the encodings within 1/4 of the best:
	 * a level saves less than that on the others.  Strings also try the
	 * slower ways, when they pay for their slower pace; only on the
	 * encoding that the faster ways find smaller (on both within 1/32):
	 * the slower ways rank PLAIN and DELTA_LENGTH_BYTE_ARRAY about alike.
	 */
	if (n_ways(w) > 1)
	{
		int			nw = n_ways(w);
		bool		try_plain = (z_plain <= best0 + best0 / 4);
		bool		try_alt = (c->alt_enc != ENC_PLAIN && z_alt <= best0 + best0 / 4);
		size_t		fp = 0;
		size_t		fa = 0;

		if (try_plain)
		{
			trial_ways(w, plain, plain_len, NULL, zp, 1, nw);
			fp = fast_ways_min(zp);
		}
		if (try_alt)
		{
			w->trial.len = 0;
			aparts.n = 0;
			encode_values(c, c->alt_enc, c->delta_bytes, plain, plain_len, k, &w->trial,
						  &aparts);
			trial_ways(w, w->trial.data, w->trial.len, &aparts, za, 1, nw);
			fa = fast_ways_min(za);
		}
		slow_plain = strings && try_plain && (!try_alt || fp <= fa + fa / 32);
		slow_alt = strings && try_alt && (!try_plain || fa <= fp + fp / 32);
		if (slow_plain)
			trial_slow_ways(w, plain, plain_len, NULL, zp);
		if (slow_alt)
			trial_slow_ways(w, w->trial.data, w->trial.len, &aparts, za);
		if (try_plain)
		{
			way_plain = best_way(w, plain_len, zp, slow_plain, true);
			z_plain = (size_t) (zp[way_plain] * scale);
		}
		if (try_alt)
		{
			way_alt = best_way(w, w->trial.len, za, slow_alt, true);
			z_alt = (size_t) (za[way_alt] * scale);
		}
		if (c->use_dict && z_dict <= best0 + best0 / 4)
		{
			trial_indices(w, c, zi, 1, nw);
			way_dict = best_way(w, idx_len, zi, false, false);
			z_dict = zi[way_dict] + dict_part;
		}
	}

	/* PLAIN reads fastest: the other must save 1/32 of it (or less) */
	alt_gain = (c->alt_enc == ENC_DELTA_LENGTH_BYTE_ARRAY) ? DLBA_MIN_GAIN : 32;
	if (z_alt < z_plain - z_plain / alt_gain)
	{
		c->value_enc = c->alt_enc;
		z_other = z_alt;
		c->zway = way_alt;
	}
	else
	{
		c->value_enc = ENC_PLAIN;
		z_other = z_plain;
		c->zway = way_plain;
	}
	if (c->use_dict)
	{
		if (z_other < z_dict && z_dict - z_other >= Max(z_dict / 64, DICT_MIN_GAIN))
			page_drop_dict(c);
		else
			c->zway = way_dict;
	}
	/* greedy matching with the tiny table: the first page confirms it */
	c->zway_confirm = -1;
	if (!c->use_dict && c->zway == WAY_GREEDY_TINY)
	{
		if (c->value_enc == ENC_PLAIN)
			c->zway = best_way(w, plain_len, zp, slow_plain, false);
		else
			c->zway = best_way(w, w->trial.len, za, slow_alt, false);
		c->zway_confirm = WAY_GREEDY_TINY;
	}
	c->last_dict = c->use_dict;
	c->trial_skip = TRIAL_EVERY_CHUNKS;
}

/* make room for n bytes in b when the row group's budget has room to spare */
static void
presize(ObsPqWriter *w, PqBuf *b, size_t n)
{
	if (n <= b->cap ||
		pq_budget_held(&w->budget) + (int64) (n - b->cap) > w->budget.limit / 4)
		return;
	obs_pq_buf_reserve(b, n - b->len);
}

/*
 * The page buffers sized once for the page's expected length, from what
 * its first TRIAL_VALUES values took per level: doubling them from a few bytes copied
 * each about once more, into memory never touched before (realloc), 7% of
 * a t14 export.  The page ends at PAGE_MAX_LEVELS levels, at page_bytes,
 * or with the row group; the slack covers the row that crosses the line.
 */
static void
page_presize(ObsPqWriter *w, PqCol *c)
{
	double		rows = Max(w->rg_rows, 1);
	double		levels;

	if (c->nlev < 1024)
		return;
	levels = Min((double) PAGE_MAX_LEVELS,
				 (double) c->nlev / rows * (double) w->opts.row_group_rows);
	levels = Min(levels, (double) c->nlev * w->opts.page_bytes / page_bytes(c));
	levels = levels * 17 / 16 + 64;
	if (levels <= c->nlev)
		return;
	presize(w, &c->defs, (size_t) (c->defs.len / (double) c->nlev * levels));
	presize(w, &c->reps, (size_t) (c->reps.len / (double) c->nlev * levels));
	presize(w, &c->vals, (size_t) (c->vals.len / (double) c->nlev * levels));
	presize(w, &c->idx, (size_t) (c->idx.len / (double) c->nlev * levels));
}

/*
 * Before the chunk's first page with values is written: drop a dictionary
 * of mostly distinct values, and run the encoding trial when it is due.
 */
static void
page_decide(ObsPqWriter *w, PqCol *c)
{
	if (c->decided || c->page_nvals == 0)
		return;
	c->decided = true;
	if (c->use_dict && !c->dict_written && (int64) c->ndict * 2 > c->page_nvals)
		page_drop_dict(c);
	if (c->trial_due)
		encoding_trial(w, c);
}

/* will the current page be dictionary-encoded? */
static inline bool
page_uses_dict(PqCol *c)
{
	return c->use_dict && c->idx.len > 0;
}

/* the page buffers' bytes in use */
static inline size_t
page_bytes(PqCol *c)
{
	/* a level a byte, whether written out yet or not (defs) */
	return (c->max_def > 0 ? (size_t) c->nlev : 0) + c->reps.len + c->vals.len + c->idx.len;
}

/* exchange two buffers (their bytes stay where they are) */
static inline void
buf_swap(PqBuf *a, PqBuf *b)
{
	PqBuf		tmp = *a;

	*a = *b;
	*b = tmp;
}

/*
 * Encode and compress the current page; append it to the column chunk, or
 * write it to the sink when the chunk is being written out.
 */
static void
flush_page(ObsPqWriter *w, PqCol *c, bool to_sink)
{
	int			encoding;
	const char *stored;
	size_t		stored_len;
	bool		try_bytes = false;
	PageParts	parts;

	if (c->nlev == 0)
		return;
	page_decide(w, c);
	stats_scan(c);

	w->body.len = 0;
	parts.n = 0;
	if (c->max_rep > 0)
	{
		encode_levels(&w->body, &c->reps, c->nlev, c->max_rep);
		page_part(&parts, w->body.len);
	}
	if (c->max_def > 0)
	{
		encode_levels(&w->body, &c->defs, c->nlev, c->max_def);
		page_part(&parts, w->body.len);
	}
	if (page_uses_dict(c))
	{
		size_t		levels_len = w->body.len;

		encode_indices(c, &w->body, false);
		encoding = ENC_RLE_DICTIONARY;
		c->dict_written = true;
		/* the indices in whole bytes too, when that differs */
		try_bytes = (w->opts.codec != OBS_PQ_UNCOMPRESSED &&
					 index_bit_width(c) % 8 != 0);
		if (try_bytes)
		{
			w->trial.len = 0;
			pq_buf_append(&w->trial, w->body.data, levels_len);
			encode_indices(c, &w->trial, true);
		}
	}
	else
	{
		/* a page of NULLs only holds no values: PLAIN says that best */
		encoding = c->page_nvals > 0 ? c->value_enc : ENC_PLAIN;
		encode_values(c, encoding, c->delta_bytes, c->vals.data, c->vals.len,
					  c->page_nvals, &w->body, &parts);
	}
	c->pages[encoding]++;

	stored = encode_page(w, w->body.data, w->body.len, &parts, PAGE_DATA, c->nlev,
						 encoding, c->zway, &stored_len);
	if (try_bytes)
	{
		/*
		 * Keep the smaller page: the packed one moves to zbuf2 and hdr2
		 * while the whole-byte one is compressed into zbuf and hdr.
		 */
		const char *stored_bytes;
		size_t		bytes_len;

		buf_swap(&w->zbuf, &w->zbuf2);
		buf_swap(&w->hdr, &w->hdr2);
		stored_bytes = encode_page(w, w->trial.data, w->trial.len, &parts, PAGE_DATA,
								   c->nlev, encoding, c->zway, &bytes_len);
		if (bytes_len < stored_len)
		{
			stored = stored_bytes;
			stored_len = bytes_len;
			buf_swap(&w->body, &w->trial);
		}
		else
		{
			buf_swap(&w->zbuf, &w->zbuf2);
			buf_swap(&w->hdr, &w->hdr2);
		}
	}
	else if (c->zway_confirm >= 0 && encoding != ENC_RLE_DICTIONARY && c->page_nvals > 0)
	{
		/*
		 * The first page of values tries the slower way the trial found
		 * smallest (GREEDY_MIN_GAIN), the way try_bytes does: it keeps
		 * the way for the rest of the chunks if it pays on this page.
		 */
		const char *stored_slow;
		size_t		slow_len;

		buf_swap(&w->zbuf, &w->zbuf2);
		buf_swap(&w->hdr, &w->hdr2);
		stored_slow = encode_page(w, w->body.data, w->body.len, &parts, PAGE_DATA,
								  c->nlev, encoding, c->zway_confirm, &slow_len);
		if (slow_len < stored_len - stored_len / GREEDY_MIN_GAIN)
		{
			stored = stored_slow;
			stored_len = slow_len;
			c->zway = c->zway_confirm;
		}
		else
		{
			buf_swap(&w->zbuf, &w->zbuf2);
			buf_swap(&w->hdr, &w->hdr2);
		}
		c->zway_confirm = -1;
	}
	if (to_sink)
	{
		sink_write(w, w->hdr.data, w->hdr.len);
		sink_write(w, stored, stored_len);
	}
	else
	{
		/* the chunk's first page: room for the pages the row group will add */
		if (c->chunk.len == 0 && c->nlev > 0 && w->rg_rows > 0 &&
			w->opts.row_group_rows > w->rg_rows &&
			w->opts.row_group_rows < (int64) w->rg_rows * 64)
			presize(w, &c->chunk,
					(size_t) ((double) (w->hdr.len + stored_len) *
							  ((double) w->opts.row_group_rows / w->rg_rows) * 17 / 16));
		pq_buf_append(&c->chunk, w->hdr.data, w->hdr.len);
		pq_buf_append(&c->chunk, stored, stored_len);
	}
	c->chunk_uncompressed += w->body.len + w->hdr.len;
	c->chunk_levels += c->nlev;

	c->nlev = 0;
	c->defs.len = 0;
	c->reps.len = 0;
	c->idx.len = 0;
	c->vals.len = 0;
	c->stats_done = 0;
	c->page_nvals = 0;
	c->page_row0 = w->rg_rows;
}

/* empty a buffer whose memory goes with a reset of the row group context */
static inline void
buf_forget(PqBuf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

/* the bytes a column's buffers hold */
static size_t
col_capacity(PqCol *c)
{
	return c->defs.cap + c->reps.cap + c->vals.cap + c->idx.cap + c->dict.cap +
		c->ent.cap + c->chunk.cap + c->min.cap + c->max.cap;
}

/* a column's buffers emptied, their memory freed */
static void
col_free(PqCol *c)
{
	c->stats_done = 0;
	obs_pq_buf_free(&c->defs);
	obs_pq_buf_free(&c->reps);
	obs_pq_buf_free(&c->vals);
	obs_pq_buf_free(&c->idx);
	obs_pq_buf_free(&c->dict);
	obs_pq_buf_free(&c->ent);
	obs_pq_buf_free(&c->chunk);
	obs_pq_buf_free(&c->min);
	obs_pq_buf_free(&c->max);
}

/*
 * A column's buffers emptied, their memory kept.  The next row group then
 * writes into memory that is already mapped: growing buffers afresh for
 * each row group took a page fault for every 4 kB of them again, about 10%
 * of an export's CPU where page faults are dear (virtual machines).
 */
static void
col_empty(PqCol *c)
{
	c->stats_done = 0;
	c->defs.len = c->reps.len = c->vals.len = 0;
	c->idx.len = c->dict.len = c->ent.len = 0;
	c->chunk.len = c->min.len = c->max.len = 0;
}

/* a column's buffers emptied, their memory going with a context reset */
static void
col_forget(PqCol *c)
{
	c->stats_done = 0;
	buf_forget(&c->defs);
	buf_forget(&c->reps);
	buf_forget(&c->vals);
	buf_forget(&c->idx);
	buf_forget(&c->dict);
	buf_forget(&c->ent);
	buf_forget(&c->chunk);
	buf_forget(&c->min);
	buf_forget(&c->max);
}

/* has the row group reached its byte limit? */
static inline bool
budget_spent(ObsPqWriter *w)
{
	return w->budget.over || pq_budget_held(&w->budget) >= w->budget.limit;
}

/* give back what a buffer holds beyond its bytes, all of it when empty */
static void
buf_trim(PqBuf *b)
{
	if (b->data == NULL || b->cap == b->len)
		return;
	if (b->len == 0)
		obs_pq_buf_free(b);
	else
	{
		b->data = repalloc_huge(b->data, b->len);
		b->cap = b->len;
	}
}

/*
 * Has the row group reached its byte limit with its own data?  Buffers kept
 * from the last row group (rg_reused) count as held, but they are only room
 * to grow into: a column that was wide in the last row group and is narrow
 * in this one would otherwise spend the limit with empty capacity, and the
 * row group would close after a row or two.  So the first time the limit is
 * reached, the kept capacity no buffer uses is given back and the limit is
 * checked again against what the row group's own rows take.
 */
static bool
budget_reached(ObsPqWriter *w)
{
	if (!budget_spent(w))
		return false;
	if (!w->rg_reused)
		return true;
	w->rg_reused = false;
	for (int i = 0; i < w->ncols; i++)
	{
		PqCol	   *c = &w->cols[i];

		buf_trim(&c->defs);
		buf_trim(&c->reps);
		buf_trim(&c->vals);
		buf_trim(&c->idx);
		buf_trim(&c->dict);
		buf_trim(&c->ent);
		buf_trim(&c->chunk);
		buf_trim(&c->min);
		buf_trim(&c->max);
	}
	buf_trim(&w->body);
	buf_trim(&w->zbuf);
	buf_trim(&w->hdr);
	buf_trim(&w->trial);
	buf_trim(&w->zbuf2);
	buf_trim(&w->hdr2);
	/* over may stand for a capped growth: the check below decides anew */
	w->budget.over = false;
	return budget_spent(w);
}

/*
 * Will the full current page take the rest of the row group (TAIL_MERGE)?
 * The rows left are expected to take what the page's rows took per row,
 * and the page must stay within PAGE_MAX_LEVELS.  A row group that ends
 * early (its byte limit) just ends the page early too.
 */
static bool
page_takes_tail(ObsPqWriter *w, PqCol *c)
{
	int64		rows = w->rg_rows - c->page_row0;
	int64		left = w->opts.row_group_rows - w->rg_rows;
	double		per_row;

	if (rows <= 0 || left <= 0 || left > rows)
		return false;
	per_row = (double) page_bytes(c) / rows;
	return per_row * left <= (double) w->opts.page_bytes / TAIL_MERGE &&
		(double) c->nlev / rows * (rows + left) < PAGE_MAX_LEVELS;
}

void
obs_pq_end_row(ObsPqWriter *w)
{
	w->rg_rows++;
	w->total_rows++;

	if (w->rg_rows >= w->opts.row_group_rows || budget_reached(w))
	{
		obs_pq_flush_row_group(w);
		return;
	}
	for (int i = 0; i < w->ncols; i++)
	{
		PqCol	   *c = &w->cols[i];

		if (c->use_dict && c->dict.len > (size_t) w->opts.dict_bytes)
		{
			/* dictionary full: pages so far keep it, the rest go PLAIN */
			flush_page(w, c, false);
			c->use_dict = false;
		}
		else if (c->nlev >= PAGE_MAX_LEVELS ||
				 (page_bytes(c) >= (size_t) w->opts.page_bytes && !page_takes_tail(w, c)))
			flush_page(w, c, false);
		else
			continue;
		/* no more pages into memory once the limit is reached */
		if (budget_reached(w))
		{
			obs_pq_flush_row_group(w);
			return;
		}
	}
}

/* ---------------------------------------------------------------------
 * Row groups and footer
 * --------------------------------------------------------------------- */

static void
encode_column_chunk(ObsPqWriter *w, ThriftEnc *tc, PqCol *c, int64 start,
					int64 dict_off, int64 data_off, int64 compressed)
{
	int			encs[ENC_COUNT];
	int			nenc = 0;
	bool		levels = (c->max_def > 0 || c->max_rep > 0);
	int			nstats = 0;

	/* each encoding once: the dictionary page's PLAIN, levels, data pages */
	for (int e = 0; e < ENC_COUNT; e++)
		if (c->pages[e] > 0 || (e == ENC_PLAIN && c->dict_written) ||
			(e == ENC_RLE && levels))
			encs[nenc++] = e;

	obs_tc_struct_begin(tc);	/* ColumnChunk */
	obs_tc_field_i64(tc, 2, start);
	obs_tc_field_struct(tc, 3); /* ColumnMetaData */
	obs_tc_field_i32(tc, 1, c->spec.physical);
	obs_tc_field_list(tc, 2, TC_I32, nenc);
	for (int i = 0; i < nenc; i++)
		obs_tc_i32(tc, encs[i]);
	if (c->spec.is_list)
	{
		obs_tc_field_list(tc, 3, TC_BINARY, 3);
		obs_tc_binary(tc, c->spec.name, strlen(c->spec.name));
		obs_tc_binary(tc, "list", 4);
		obs_tc_binary(tc, "element", 7);
	}
	else
	{
		obs_tc_field_list(tc, 3, TC_BINARY, 1);
		obs_tc_binary(tc, c->spec.name, strlen(c->spec.name));
	}
	obs_tc_field_i32(tc, 4, w->opts.codec);
	obs_tc_field_i64(tc, 5, c->chunk_levels);
	obs_tc_field_i64(tc, 6, c->chunk_uncompressed);
	obs_tc_field_i64(tc, 7, compressed);
	obs_tc_field_i64(tc, 9, data_off);
	if (dict_off >= 0)
		obs_tc_field_i64(tc, 11, dict_off);
	obs_tc_field_struct(tc, 12);
	encode_statistics(tc, c);
	obs_tc_struct_end(tc);

	/* encoding_stats: PageEncodingStats per (page type, encoding) */
	nstats = c->dict_written ? 1 : 0;
	for (int e = 0; e < ENC_COUNT; e++)
		nstats += c->pages[e] > 0 ? 1 : 0;
	obs_tc_field_list(tc, 13, TC_STRUCT, nstats);
	if (c->dict_written)
	{
		obs_tc_struct_begin(tc);
		obs_tc_field_i32(tc, 1, PAGE_DICTIONARY);
		obs_tc_field_i32(tc, 2, ENC_PLAIN);
		obs_tc_field_i32(tc, 3, 1);
		obs_tc_struct_end(tc);
	}
	for (int e = 0; e < ENC_COUNT; e++)
	{
		if (c->pages[e] == 0)
			continue;
		obs_tc_struct_begin(tc);
		obs_tc_field_i32(tc, 1, PAGE_DATA);
		obs_tc_field_i32(tc, 2, e);
		obs_tc_field_i32(tc, 3, c->pages[e]);
		obs_tc_struct_end(tc);
	}
	obs_tc_struct_end(tc);		/* ColumnMetaData */
	obs_tc_struct_end(tc);		/* ColumnChunk */
}

/*
 * Write the open row group: column after column, its dictionary page, the
 * pages it has buffered and its last page go to the sink, and its buffers
 * are released.  Encoded ColumnChunk structs are kept for the footer.
 */
void
obs_pq_flush_row_group(ObsPqWriter *w)
{
	PqBuf		chunks;
	ThriftEnc	tc;
	int64		rg_start = (int64) w->offset;
	int64		total_uncompressed = 0;
	int64		total_compressed = 0;
	bool		keep;

	if (w->rg_rows == 0)
		return;

	/*
	 * A row group that stayed under half its byte limit keeps its buffers
	 * for the next one (col_empty); the last one, and one that came near
	 * the limit, frees each
	 * column's as soon as it is written, so that what later columns take
	 * while written out reuses them, and gives back everything at the end.
	 */
	keep = !w->last_row_group && !w->budget.over &&
		pq_budget_held(&w->budget) <= w->budget.limit / 2;
	obs_pq_buf_init(&chunks, w->cxt, NULL);
	obs_tc_init(&tc, &chunks);

	for (int i = 0; i < w->ncols; i++)
	{
		PqCol	   *c = &w->cols[i];
		int64		start = (int64) w->offset;
		int64		data_off;
		int64		dict_off = -1;
		int64		uncompressed_dict = 0;
		int64		compressed;

		size_t		held_before = col_capacity(c);

		/* the last page may be the first: decide before the dictionary */
		if (c->nlev > 0)
			page_decide(w, c);
		if (c->dict_written || (c->nlev > 0 && page_uses_dict(c)))
		{
			const char *stored;
			size_t		stored_len;

			/* values, not indices: literals only is the indices' way */
			stored = encode_page(w, c->dict.data, c->dict.len, NULL, PAGE_DICTIONARY,
								 c->ndict, ENC_PLAIN,
								 c->zway == WAY_LITERALS ? 0 : c->zway, &stored_len);
			uncompressed_dict = c->dict.len + w->hdr.len;
			dict_off = start;
			sink_write(w, w->hdr.data, w->hdr.len);
			sink_write(w, stored, stored_len);
		}
		data_off = (int64) w->offset;
		sink_write(w, c->chunk.data, c->chunk.len);
		flush_page(w, c, true);
		compressed = (int64) w->offset - start;
		c->chunk_uncompressed += uncompressed_dict;
		encode_column_chunk(w, &tc, c, start, dict_off, data_off, compressed);
		total_uncompressed += c->chunk_uncompressed;
		total_compressed += compressed;

		/*
		 * Fresh chunk state.  A column whose buffers grew while it was
		 * written out (a page made PLAIN) frees them now, not with the
		 * context reset below, so that such growth never adds up over the
		 * columns; the others keep their memory when the row group does.
		 */
		if (!keep || col_capacity(c) > held_before)
			col_free(c);
		else
			col_empty(c);
		if (c->slots)
			pfree(c->slots);
		c->slots = NULL;
		c->nslots = 0;
		c->chunk_levels = 0;
		c->chunk_uncompressed = 0;
		c->page_row0 = 0;
		memset(c->pages, 0, sizeof(c->pages));
		c->null_count = c->nan_count = 0;
		c->has_minmax = false;
		dict_chunk_start(c);
	}
	if (!keep)
	{
		/* a row group near its byte limit gives back all its memory */
		for (int i = 0; i < w->ncols; i++)
			col_forget(&w->cols[i]);
		buf_forget(&w->body);
		buf_forget(&w->zbuf);
		buf_forget(&w->hdr);
		buf_forget(&w->trial);
		buf_forget(&w->zbuf2);
		buf_forget(&w->hdr2);
		MemoryContextReset(w->rgcxt);
	}
	else
	{
		w->body.len = w->zbuf.len = w->hdr.len = 0;
		w->trial.len = w->zbuf2.len = w->hdr2.len = 0;
	}
	w->budget.over = false;
	w->rg_reused = keep;

	/* the RowGroup struct, with the column chunks spliced in */
	obs_tc_init(&tc, &w->rgmeta);
	obs_tc_struct_begin(&tc);
	obs_tc_field_list(&tc, 1, TC_STRUCT, w->ncols);
	pq_buf_append(&w->rgmeta, chunks.data, chunks.len);
	obs_tc_field_i64(&tc, 2, total_uncompressed);
	obs_tc_field_i64(&tc, 3, w->rg_rows);
	obs_tc_field_i64(&tc, 5, rg_start);
	obs_tc_field_i64(&tc, 6, total_compressed);
	if (w->nrg <= PG_INT16_MAX)	/* the optional ordinal is an i16 */
		obs_tc_field_i16(&tc, 7, (int16) w->nrg);
	obs_tc_struct_end(&tc);
	obs_pq_buf_free(&chunks);

	w->nrg++;
	w->rg_rows = 0;
}

/* converted type (or -1) and logical type of a leaf */
static void
encode_leaf_types(ThriftEnc *tc, const ObsPqColumn *s)
{
	int			converted = -1;

	switch (s->logical)
	{
		case OBS_PQ_LT_STRING:
			converted = 0;		/* UTF8 */
			break;
		case OBS_PQ_LT_JSON:
			converted = 19;
			break;
		case OBS_PQ_LT_INT:
			converted = s->int_bits == 8 ? 15 : s->int_bits == 16 ? 16 :
				s->int_bits == 32 ? 17 : 18;
			break;
		case OBS_PQ_LT_DECIMAL:
			converted = 5;
			break;
		case OBS_PQ_LT_DATE:
			converted = 6;
			break;
		case OBS_PQ_LT_TIME_MICROS:
			/* the legacy annotation implies UTC adjustment */
			converted = s->utc_adjusted ? 8 : -1;
			break;
		case OBS_PQ_LT_TIMESTAMP_MICROS:
			converted = s->utc_adjusted ? 10 : -1;
			break;
		default:
			break;
	}
	if (converted >= 0)
		obs_tc_field_i32(tc, 6, converted);
	if (s->logical == OBS_PQ_LT_DECIMAL)
	{
		obs_tc_field_i32(tc, 7, s->scale);
		obs_tc_field_i32(tc, 8, s->precision);
	}
	if (s->logical == OBS_PQ_LT_NONE)
		return;

	obs_tc_field_struct(tc, 10);	/* LogicalType union */
	switch (s->logical)
	{
		case OBS_PQ_LT_STRING:
			obs_tc_field_empty(tc, 1);
			break;
		case OBS_PQ_LT_JSON:
			obs_tc_field_empty(tc, 12);
			break;
		case OBS_PQ_LT_INT:
			obs_tc_field_struct(tc, 10);
			obs_tc_field_i8(tc, 1, (int8) s->int_bits);
			obs_tc_field_bool(tc, 2, true);
			obs_tc_struct_end(tc);
			break;
		case OBS_PQ_LT_DECIMAL:
			obs_tc_field_struct(tc, 5);
			obs_tc_field_i32(tc, 1, s->scale);
			obs_tc_field_i32(tc, 2, s->precision);
			obs_tc_struct_end(tc);
			break;
		case OBS_PQ_LT_DATE:
			obs_tc_field_empty(tc, 6);
			break;
		case OBS_PQ_LT_TIME_MICROS:
		case OBS_PQ_LT_TIMESTAMP_MICROS:
			obs_tc_field_struct(tc, s->logical == OBS_PQ_LT_TIME_MICROS ? 7 : 8);
			obs_tc_field_bool(tc, 1, s->utc_adjusted);
			obs_tc_field_struct(tc, 2); /* TimeUnit union */
			obs_tc_field_empty(tc, 2);	/* MICROS */
			obs_tc_struct_end(tc);
			obs_tc_struct_end(tc);
			break;
		case OBS_PQ_LT_UUID:
			obs_tc_field_empty(tc, 14);
			break;
		default:
			break;
	}
	obs_tc_struct_end(tc);
}

static void
encode_schema(ThriftEnc *tc, ObsPqWriter *w)
{
	int			n = 1;

	for (int i = 0; i < w->ncols; i++)
		n += w->cols[i].spec.is_list ? 3 : 1;
	obs_tc_field_list(tc, 2, TC_STRUCT, n);

	obs_tc_struct_begin(tc);	/* root */
	obs_tc_field_string(tc, 4, "schema");
	obs_tc_field_i32(tc, 5, w->ncols);
	obs_tc_struct_end(tc);

	for (int i = 0; i < w->ncols; i++)
	{
		const ObsPqColumn *s = &w->cols[i].spec;

		if (s->is_list)
		{
			obs_tc_struct_begin(tc);
			obs_tc_field_i32(tc, 3, 1);	/* OPTIONAL */
			obs_tc_field_string(tc, 4, s->name);
			obs_tc_field_i32(tc, 5, 1);
			obs_tc_field_i32(tc, 6, 3);	/* LIST */
			obs_tc_field_struct(tc, 10);
			obs_tc_field_empty(tc, 3);
			obs_tc_struct_end(tc);
			obs_tc_struct_end(tc);

			obs_tc_struct_begin(tc);
			obs_tc_field_i32(tc, 3, 2);	/* REPEATED */
			obs_tc_field_string(tc, 4, "list");
			obs_tc_field_i32(tc, 5, 1);
			obs_tc_struct_end(tc);
		}
		obs_tc_struct_begin(tc);
		obs_tc_field_i32(tc, 1, s->physical);
		if (s->physical == OBS_PQ_FIXED_LEN_BYTE_ARRAY)
			obs_tc_field_i32(tc, 2, s->type_length);
		obs_tc_field_i32(tc, 3, (s->required && !s->is_list) ? 0 : 1);
		obs_tc_field_string(tc, 4, s->is_list ? "element" : s->name);
		encode_leaf_types(tc, s);
		obs_tc_struct_end(tc);
	}
}

/*
 * Flush what is left and write the footer.  The row groups' metadata goes
 * to the sink from where it was kept, not through another copy.
 */
uint64
obs_pq_finish(ObsPqWriter *w)
{
	PqBuf		foot;
	ThriftEnc	tc;
	uint64		foot_start;
	uint64		flen;
	char		tail[8];

	if (w->finished)
		return w->offset;
	w->last_row_group = true;
	obs_pq_flush_row_group(w);

	foot_start = w->offset;
	obs_pq_buf_init(&foot, w->cxt, NULL);
	obs_tc_init(&tc, &foot);
	obs_tc_struct_begin(&tc);
	obs_tc_field_i32(&tc, 1, 2);	/* version */
	encode_schema(&tc, w);
	obs_tc_field_i64(&tc, 3, (int64) w->total_rows);
	obs_tc_field_list(&tc, 4, TC_STRUCT, w->nrg);
	sink_write(w, foot.data, foot.len);
	sink_write(w, w->rgmeta.data, w->rgmeta.len);
	obs_pq_buf_free(&w->rgmeta);
	foot.len = 0;
	if (w->opts.n_kv > 0)
	{
		obs_tc_field_list(&tc, 5, TC_STRUCT, w->opts.n_kv);
		for (int i = 0; i < w->opts.n_kv; i++)
		{
			obs_tc_struct_begin(&tc);
			obs_tc_field_string(&tc, 1, w->opts.kv_keys[i]);
			if (w->opts.kv_values[i])
				obs_tc_field_string(&tc, 2, w->opts.kv_values[i]);
			obs_tc_struct_end(&tc);
		}
	}
	obs_tc_field_string(&tc, 6, w->opts.created_by);
	obs_tc_field_list(&tc, 7, TC_STRUCT, w->ncols);
	for (int i = 0; i < w->ncols; i++)
	{
		obs_tc_struct_begin(&tc);	/* ColumnOrder union */
		obs_tc_field_empty(&tc, 1); /* TYPE_ORDER */
		obs_tc_struct_end(&tc);
	}
	obs_tc_struct_end(&tc);
	sink_write(w, foot.data, foot.len);
	obs_pq_buf_free(&foot);

	flen = w->offset - foot_start;
	if (flen > PG_UINT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet footer of " UINT64_FORMAT " bytes is too large", flen),
				 errhint("Export fewer columns, or raise ROW_GROUP_SIZE_BYTES for fewer row groups.")));
	for (int i = 0; i < 4; i++)
		tail[i] = (char) ((flen >> (8 * i)) & 0xff);
	memcpy(tail + 4, "PAR1", 4);
	sink_write(w, tail, 8);
	w->finished = true;
	return w->offset;
}
