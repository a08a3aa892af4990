/*-------------------------------------------------------------------------
 * export.c
 *	  Run a query through the executor and write its rows as Parquet.
 *
 * The query is analysed, rewritten, planned and run exactly as core COPY
 * (query) TO runs it, so permissions and row-level security apply as they
 * would to the same SELECT.  A DestReceiver converts each row into Parquet
 * values (see map_type() for the type mapping) and hands them to the
 * writer, which streams row groups to the destination:
 *
 *	 - a server file: written to a temporary file in the same directory,
 *	   fsynced, then renamed over the target and the directory fsynced; on
 *	   any error the temporary file is closed and removed, so nothing ever
 *	   appears half-written under the target name;
 *	 - the client: CopyData messages after a binary CopyOutResponse, as
 *	   COPY ... TO STDOUT (FORMAT binary) would send them.
 *
 * Conversions allocate in a per-row memory context reset after each row.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>
#include <unistd.h>

#include "access/tupdesc.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "common/cryptohash.h"
#include "common/hashfn.h"
#include "common/int.h"
#include "executor/executor.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "storage/fd.h"
#include "storage/ipc.h"
#include "tcop/dest.h"
#include "tcop/tcopprot.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "core/core.h"
#include "trace/trace.h"
#include "pq_export.h"

/* how a PostgreSQL value becomes a Parquet value */
typedef enum ConvKind
{
	CK_BOOL,
	CK_INT2,
	CK_INT4,
	CK_INT8,
	CK_FLOAT4,
	CK_FLOAT8,
	CK_DECIMAL,					/* numeric with precision <= 38 */
	CK_TEXT,					/* text, varchar, bpchar, json: the bytes */
	CK_NAME,
	CK_BYTEA,
	CK_UUID,
	CK_DATE,
	CK_TIME,
	CK_TIMESTAMP,				/* timestamp and timestamptz */
	CK_JSONB,
	CK_OBS_ID,					/* obs.trace_id, obs.span_id: their bytes */
	CK_ENUM,					/* enums: their labels, cached */
	CK_OUTPUT					/* anything else: its text output */
} ConvKind;

/* labels of an enum column already written, by the value's OID */
#define ENUM_CACHE_SIZE 64

typedef struct EnumLabel
{
	Oid			oid;
	int			len;
	char	   *label;			/* in the label's server encoding */
} EnumLabel;

/*
 * jsonb columns: the text of recent values, by their stored bytes, so that
 * a column of few distinct values (tags, attributes) is turned to text
 * once per value, not once per row.  A column whose values rarely repeat
 * stops looking after JSONB_CACHE_TRIAL values, gives its memory back,
 * and tries again after JSONB_CACHE_PAUSE more.  All the columns' caches
 * of one export share JSONB_CACHE_BUDGET bytes: a value that does not fit
 * is not kept, a column that cannot get its slots caches nothing.
 */
#define JSONB_CACHE_SLOTS	256		/* a power of 2 */
#define JSONB_CACHE_MAX_BIN	512		/* larger values are not kept */
#define JSONB_CACHE_MAX_TEXT 2048
#define JSONB_CACHE_TRIAL	4096
#define JSONB_CACHE_PAUSE	65536
#define JSONB_CACHE_BUDGET	(4 * 1024 * 1024)
/* what an allocation is counted for besides its bytes */
#define JSONB_CACHE_CHUNK	16

typedef struct JsonbCacheEnt
{
	uint32		hash;
	uint16		binlen;			/* 0: empty */
	uint16		textlen;
	char	   *data;			/* binlen bytes of the value, then its text */
} JsonbCacheEnt;

typedef struct JsonbCache
{
	JsonbCacheEnt *ents;		/* JSONB_CACHE_SLOTS, or NULL */
	Size		bytes;			/* of the shared budget */
	uint32		seen;			/* values since the cache was (re)started or paused */
	uint32		hits;
	bool		paused;
} JsonbCache;

typedef struct ExportCol
{
	ConvKind	kind;
	bool		is_list;
	Oid			elemtype;		/* list columns: element type */
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	int			precision;		/* CK_DECIMAL */
	int			scale;
	ObsPqPhysical physical;
	int			type_length;
	FmgrInfo	out;			/* CK_OUTPUT and CK_ENUM */
	int			id_len;			/* CK_OBS_ID: bytes */
	EnumLabel  *enums;			/* CK_ENUM: ENUM_CACHE_SIZE slots */
	int			nenums;
	MemoryContext enumcxt;		/* ... where they live */
	JsonbCache *jcache;			/* CK_JSONB */
	const char *name;
} ExportCol;

typedef struct ExportState
{
	DestReceiver pub;
	ObsPqWriter *writer;
	int			ncols;
	ExportCol  *cols;
	MemoryContext rowcxt;
	bool		to_utf8;		/* server encoding needs converting */
	StringInfoData jbuf;		/* jsonb text, reused */
	union
	{
		int32		align;
		char		bytes[VARHDRSZ + VARATT_SHORT_MAX];
	}			jshort;			/* a short-header jsonb, aligned */
	MemoryContext jcxt;			/* the jsonb columns' caches (JsonbCache) */
	Size		jcache_bytes;	/* ... what they hold, at most JSONB_CACHE_BUDGET */
	uint64		rows;

	/* destination */
	const char *filename;		/* NULL: the client */
	char	   *tmppath;
	int			fd;
	ObsPqWritten *written;		/* NULL, or bytes and SHA-256 to report */
	pg_cryptohash_ctx *hash;	/* of the bytes written, when reported */
} ExportState;

/*
 * The temporary file being written, removed at backend exit too: a FATAL
 * error (pg_terminate_backend) exits without running PG_CATCH blocks.
 * Only a path that fits whole is ever written here (obs_pq_check_path()).
 */
static char exit_tmppath[MAXPGPATH];
static bool exit_cleanup_registered = false;

/* the longest temporary name open_target() makes: .obs-<pid>-<n>-<hex>.tmp */
#define TMP_NAME_MAX	((int) sizeof(".obs-4294967295-4294967295-ffffffff.tmp") - 1)

static void
remove_tmp_at_exit(int code, Datum arg)
{
	if (exit_tmppath[0] != '\0')
		unlink(exit_tmppath);
	exit_tmppath[0] = '\0';
}

/* two's complement bytes needed for a decimal of this precision */
static int
decimal_bytes(int precision)
{
	unsigned __int128 limit = 1;
	int			n = 1;

	for (int i = 0; i < precision; i++)
		limit *= 10;
	/* need 10^p - 1 <= 2^(8n-1) - 1 */
	while (n < 16 && ((unsigned __int128) 1 << (8 * n - 1)) < limit)
		n++;
	return n;
}

/*
 * Choose the Parquet type of a scalar PostgreSQL type.  Domains are
 * replaced by their base type; the typmod picks DECIMAL for numeric.
 */
static void
map_scalar(Oid typid, int32 typmod, ExportCol *ec, ObsPqColumn *pc)
{
	Oid			outfunc;
	bool		varlena;

	typid = getBaseTypeAndTypmod(typid, &typmod);
	pc->logical = OBS_PQ_LT_NONE;
	switch (typid)
	{
		case BOOLOID:
			ec->kind = CK_BOOL;
			pc->physical = OBS_PQ_BOOLEAN;
			return;
		case INT2OID:
			ec->kind = CK_INT2;
			pc->physical = OBS_PQ_INT32;
			pc->logical = OBS_PQ_LT_INT;
			pc->int_bits = 16;
			return;
		case INT4OID:
			ec->kind = CK_INT4;
			pc->physical = OBS_PQ_INT32;
			pc->logical = OBS_PQ_LT_INT;
			pc->int_bits = 32;
			return;
		case INT8OID:
		case XID8OID:			/* full xids stay below 2^63 */
			ec->kind = CK_INT8;
			pc->physical = OBS_PQ_INT64;
			pc->logical = OBS_PQ_LT_INT;
			pc->int_bits = 64;
			return;
		case FLOAT4OID:
			ec->kind = CK_FLOAT4;
			pc->physical = OBS_PQ_FLOAT;
			return;
		case FLOAT8OID:
			ec->kind = CK_FLOAT8;
			pc->physical = OBS_PQ_DOUBLE;
			return;
		case NUMERICOID:
			if (typmod >= (int32) VARHDRSZ)
			{
				int			p = ((typmod - VARHDRSZ) >> 16) & 0xffff;
				int			s = (((typmod - VARHDRSZ) & 0x7ff) ^ 1024) - 1024;

				if (p >= 1 && p <= 38 && s >= 0 && s <= p)
				{
					ec->kind = CK_DECIMAL;
					ec->precision = pc->precision = p;
					ec->scale = pc->scale = s;
					pc->logical = OBS_PQ_LT_DECIMAL;
					if (p <= 9)
						pc->physical = OBS_PQ_INT32;
					else if (p <= 18)
						pc->physical = OBS_PQ_INT64;
					else
					{
						pc->physical = OBS_PQ_FIXED_LEN_BYTE_ARRAY;
						pc->type_length = decimal_bytes(p);
					}
					ec->physical = pc->physical;
					ec->type_length = pc->type_length;
					return;
				}
			}
			/* unconstrained numeric: its exact text, NaN and Infinity included */
			break;
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
			ec->kind = CK_TEXT;
			pc->physical = OBS_PQ_BYTE_ARRAY;
			pc->logical = OBS_PQ_LT_STRING;
			return;
		case NAMEOID:
			ec->kind = CK_NAME;
			pc->physical = OBS_PQ_BYTE_ARRAY;
			pc->logical = OBS_PQ_LT_STRING;
			return;
		case JSONOID:
			ec->kind = CK_TEXT;
			pc->physical = OBS_PQ_BYTE_ARRAY;
			pc->logical = OBS_PQ_LT_JSON;
			return;
		case JSONBOID:
			ec->kind = CK_JSONB;
			ec->jcache = palloc0(sizeof(JsonbCache));
			pc->physical = OBS_PQ_BYTE_ARRAY;
			pc->logical = OBS_PQ_LT_JSON;
			return;
		case BYTEAOID:
			ec->kind = CK_BYTEA;
			pc->physical = OBS_PQ_BYTE_ARRAY;
			return;
		case UUIDOID:
			ec->kind = CK_UUID;
			pc->physical = OBS_PQ_FIXED_LEN_BYTE_ARRAY;
			pc->type_length = UUID_LEN;
			pc->logical = OBS_PQ_LT_UUID;
			return;
		case DATEOID:
			ec->kind = CK_DATE;
			pc->physical = OBS_PQ_INT32;
			pc->logical = OBS_PQ_LT_DATE;
			return;
		case TIMEOID:
			ec->kind = CK_TIME;
			pc->physical = OBS_PQ_INT64;
			pc->logical = OBS_PQ_LT_TIME_MICROS;
			pc->utc_adjusted = false;
			return;
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			ec->kind = CK_TIMESTAMP;
			pc->physical = OBS_PQ_INT64;
			pc->logical = OBS_PQ_LT_TIMESTAMP_MICROS;
			pc->utc_adjusted = (typid == TIMESTAMPTZOID);
			return;
		default:
			break;
	}

	/* every other type (interval, enums, obs ids, ...): text output */
	ec->kind = CK_OUTPUT;
	pc->physical = OBS_PQ_BYTE_ARRAY;
	pc->logical = OBS_PQ_LT_STRING;
	getTypeOutputInfo(typid, &outfunc, &varlena);
	fmgr_info(outfunc, &ec->out);
	/*
	 * obs's own ids: their 16 or 8 bytes as FIXED_LEN_BYTE_ARRAY without a
	 * logical type (a trace id is no UUID): half the size of the hex text,
	 * and bytewise order is the order of the hex text.
	 */
	if (type_is_enum(typid))
	{
		/*
		 * An enum's output looks its label up in the catalog cache and
		 * copies it, for every value: the labels seen are kept instead.
		 */
		ec->kind = CK_ENUM;
		ec->enumcxt = CurrentMemoryContext;
		ec->enums = palloc(sizeof(EnumLabel) * ENUM_CACHE_SIZE);
		ec->nenums = 0;
	}
	else if (ec->out.fn_addr == obs_trace_id_out || ec->out.fn_addr == obs_span_id_out)
	{
		ec->kind = CK_OBS_ID;
		ec->id_len = (ec->out.fn_addr == obs_trace_id_out) ? OBS_TRACE_ID_LEN : OBS_SPAN_ID_LEN;
		pc->physical = OBS_PQ_FIXED_LEN_BYTE_ARRAY;
		pc->type_length = ec->id_len;
		pc->logical = OBS_PQ_LT_NONE;
	}
}

/* the Parquet column of one result column; arrays become LIST */
static void
map_type(Oid typid, int32 typmod, ExportCol *ec, ObsPqColumn *pc)
{
	int32		basemod = typmod;
	Oid			base = getBaseTypeAndTypmod(typid, &basemod);
	Oid			elem = get_element_type(base);

	if (OidIsValid(elem))
	{
		ec->is_list = true;
		pc->is_list = true;
		ec->elemtype = elem;
		get_typlenbyvalalign(elem, &ec->elmlen, &ec->elmbyval, &ec->elmalign);
		map_scalar(elem, basemod, ec, pc);
	}
	else
		map_scalar(base, basemod, ec, pc);
}

/* ---------------------------------------------------------------------
 * Values
 * --------------------------------------------------------------------- */

static void
append_text(ExportState *st, int col, int def, int rep, const char *s, int len)
{
	if (st->to_utf8)
	{
		char	   *u = pg_server_to_any(s, len, PG_UTF8);

		if (u != s)
		{
			s = u;
			len = strlen(u);
		}
	}
	obs_pq_append(st->writer, col, def, rep, s, (uint32) len);
}

/*
 * numeric's stored form, which pg_upgrade keeps as it is: a uint16 header
 * (short form: sign, display scale and a 6-bit weight; long form: sign
 * and display scale, then an int16 weight), then base-10000 digits, the
 * first of weight `weight`, with neither leading nor trailing zero digits.
 */
#define NUMH_SIGN_MASK		0xC000
#define NUMH_NEG			0x4000
#define NUMH_SHORT			0x8000
#define NUMH_SPECIAL		0xC000
#define NUMH_SHORT_NEG		0x2000
#define NUMH_SHORT_WSIGN	0x0040
#define NUMH_SHORT_WEIGHT	0x003F
#define NUM_BASE			10000

/* why a numeric does not go into a DECIMAL(precision, scale) column */
typedef enum
{
	DEC_OK,
	DEC_TOO_MANY_DECIMALS,
	DEC_TOO_LARGE
} DecFit;

static const uint32 small_pow10[4] = {1, 10, 100, 1000};

/* 10^e for 0 <= e <= 38 */
static unsigned __int128
pow10_u128(int e)
{
	static unsigned __int128 tab[39];
	static bool done = false;

	if (!done)
	{
		tab[0] = 1;
		for (int i = 1; i <= 38; i++)
			tab[i] = tab[i - 1] * 10;
		done = true;
	}
	return tab[e];
}

/*
 * The unscaled integer of a finite numeric (its stored bytes p, len) at
 * scale, read digit by digit from the stored form, into *v and *neg;
 * DEC_OK, or why it does not fit (too many decimals is what the value's
 * text would report first, so it is reported before too large).
 */
static DecFit
numeric_unscaled(const char *p, size_t len, int precision, int scale,
				 unsigned __int128 *v, bool *neg)
{
	uint16		h;
	int			weight;
	size_t		hdr;
	int			ndigits;
	unsigned __int128 limit = pow10_u128(precision);
	unsigned __int128 acc = 0;
	bool		too_large = false;

	memcpy(&h, p, 2);
	if ((h & NUMH_SIGN_MASK) == NUMH_SHORT)
	{
		*neg = (h & NUMH_SHORT_NEG) != 0;
		weight = (h & NUMH_SHORT_WSIGN) ? (int) (h & NUMH_SHORT_WEIGHT) - 64
			: (int) (h & NUMH_SHORT_WEIGHT);
		hdr = 2;
	}
	else
	{
		int16		w16;

		*neg = (h & NUMH_SIGN_MASK) == NUMH_NEG;
		memcpy(&w16, p + 2, 2);
		weight = w16;
		hdr = 4;
	}
	ndigits = (len > hdr) ? (int) ((len - hdr) / 2) : 0;
	for (int i = 0; i < ndigits; i++)
	{
		int16		d16;
		uint32		d;
		int			e;

		memcpy(&d16, p + hdr + 2 * i, 2);
		d = (uint32) d16;
		if (d == 0)
			continue;
		/* the digit's value is d * 10^e in units of 10^-scale */
		e = 4 * (weight - i) + scale;
		if (e < 0)
		{
			if (e <= -4 || d % small_pow10[-e] != 0)
				return DEC_TOO_MANY_DECIMALS;
			d /= small_pow10[-e];
			e = 0;
		}
		if (too_large)
			continue;
		/* d * 10^e < 10^precision, checked before it is computed */
		if (e >= precision ||
			(precision - e < 4 && d >= small_pow10[precision - e]) ||
			(unsigned __int128) d * pow10_u128(e) >= limit - acc)
		{
			too_large = true;
			continue;
		}
		acc += (unsigned __int128) d * pow10_u128(e);
	}
	if (too_large)
		return DEC_TOO_LARGE;
	*v = acc;
	return DEC_OK;
}

/* numeric -> unscaled integer at the column's scale, big or small */
static void
append_decimal(ExportState *st, int col, ExportCol *ec, Datum d, int def, int rep)
{
	struct varlena *packed = PG_DETOAST_DATUM_PACKED(d);
	const char *p = VARDATA_ANY(packed);
	size_t		len = VARSIZE_ANY_EXHDR(packed);
	uint16		h = 0;
	unsigned __int128 u = 0;
	bool		neg = false;
	__int128	v;
	DecFit		fit;

	if (len >= 2)
		memcpy(&h, p, 2);
	if (len < 2 || (h & NUMH_SIGN_MASK) == NUMH_SPECIAL)
	{
		Numeric		num = DatumGetNumeric(d);

		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("cannot write numeric value \"%s\" to Parquet DECIMAL column \"%s\"",
						numeric_is_nan(num) ? "NaN" : "Infinity", ec->name),
				 errhint("Cast the column to text or to unconstrained numeric to export it as a string.")));
	}

	fit = numeric_unscaled(p, len, ec->precision, ec->scale, &u, &neg);
	if (fit == DEC_TOO_MANY_DECIMALS)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("numeric value %s has more than %d decimal digits for Parquet column \"%s\"",
						DatumGetCString(DirectFunctionCall1(numeric_out, d)),
						ec->scale, ec->name)));
	if (fit == DEC_TOO_LARGE)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("numeric value %s does not fit Parquet DECIMAL(%d,%d) column \"%s\"",
						DatumGetCString(DirectFunctionCall1(numeric_out, d)),
						ec->precision, ec->scale, ec->name)));
	v = neg ? -(__int128) u : (__int128) u;

	if (ec->physical == OBS_PQ_INT32)
	{
		int32		x = (int32) v;

		obs_pq_append(st->writer, col, def, rep, &x, 4);
	}
	else if (ec->physical == OBS_PQ_INT64)
	{
		int64		x = (int64) v;

		obs_pq_append(st->writer, col, def, rep, &x, 8);
	}
	else
	{
		uint8		b[16];
		int			n = ec->type_length;

		for (int i = 0; i < n; i++)
			b[n - 1 - i] = (uint8) (v >> (8 * i));
		obs_pq_append(st->writer, col, def, rep, b, n);
	}
	if ((Pointer) packed != DatumGetPointer(d))
		pfree(packed);
}

/*
 * An enum value: its label from the column's cache, or from the type's
 * output function, kept when the cache has room (an enum with more than
 * ENUM_CACHE_SIZE labels in use calls it for the others every time).
 */
static void
append_enum(ExportState *st, int col, ExportCol *ec, Datum d, int def, int rep)
{
	Oid			oid = DatumGetObjectId(d);
	char	   *s;
	int			len;

	for (int i = 0; i < ec->nenums; i++)
	{
		if (ec->enums[i].oid == oid)
		{
			append_text(st, col, def, rep, ec->enums[i].label, ec->enums[i].len);
			return;
		}
	}
	s = OutputFunctionCall(&ec->out, d);
	len = strlen(s);
	if (ec->nenums < ENUM_CACHE_SIZE)
	{
		EnumLabel  *e = &ec->enums[ec->nenums++];

		e->oid = oid;
		e->len = len;
		e->label = MemoryContextStrdup(ec->enumcxt, s);
	}
	append_text(st, col, def, rep, s, len);
}

/* the text of a jsonb value, made in st->jbuf */
static void
jsonb_text(ExportState *st, Datum d)
{
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	Jsonb	   *jb;

	if (VARATT_IS_SHORT(raw) && !VARATT_IS_EXTERNAL(raw))
	{
		/* inline with a short header: aligned in a buffer of the state */
		Size		n = VARSIZE_SHORT(raw) - VARHDRSZ_SHORT;

		jb = (Jsonb *) st->jshort.bytes;
		memcpy(VARDATA(jb), VARDATA_SHORT(raw), n);
		SET_VARSIZE(jb, n + VARHDRSZ);
	}
	else
		jb = DatumGetJsonbP(d);
	if (st->jbuf.maxlen > 8 * 1024 * 1024)
	{
		/* shrink it in its own long-lived context, not the per-row one */
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(st->jbuf.data));

		pfree(st->jbuf.data);
		initStringInfo(&st->jbuf);
		MemoryContextSwitchTo(old);
	}
	resetStringInfo(&st->jbuf);
	obs_jsonb_to_text(&st->jbuf, &jb->root);
}

/* take bytes from the caches' shared budget; false when it cannot afford them */
static bool
jcache_take(ExportState *st, JsonbCache *jc, Size bytes)
{
	if (st->jcache_bytes + bytes > JSONB_CACHE_BUDGET)
		return false;
	st->jcache_bytes += bytes;
	jc->bytes += bytes;
	return true;
}

/* a column's cache gives all its memory back */
static void
jcache_drop(ExportState *st, JsonbCache *jc)
{
	if (jc->ents)
	{
		for (int i = 0; i < JSONB_CACHE_SLOTS; i++)
			if (jc->ents[i].data)
				pfree(jc->ents[i].data);
		pfree(jc->ents);
		jc->ents = NULL;
	}
	st->jcache_bytes -= jc->bytes;
	jc->bytes = 0;
}

/* a jsonb value as its text, from the column's cache when it is there */
static void
append_jsonb(ExportState *st, int col, ExportCol *ec, Datum d, int def, int rep)
{
	JsonbCache *jc = ec->jcache;
	struct varlena *raw = (struct varlena *) DatumGetPointer(d);
	JsonbCacheEnt *e;
	const char *bin;
	uint32		len;
	uint32		h;

	jc->seen++;
	if (jc->paused)
	{
		if (jc->seen >= JSONB_CACHE_PAUSE)
		{
			jc->paused = false;
			jc->seen = jc->hits = 0;
		}
	}
	else if (jc->seen >= JSONB_CACHE_TRIAL)
	{
		/* judged on each window of values: pause when a quarter did not hit */
		if (jc->hits < JSONB_CACHE_TRIAL / 4)
		{
			jc->paused = true;
			jcache_drop(st, jc);
		}
		jc->seen = jc->hits = 0;
	}
	if (!jc->paused && jc->ents == NULL)
	{
		Size		need = sizeof(JsonbCacheEnt) * JSONB_CACHE_SLOTS + JSONB_CACHE_CHUNK;

		if (st->jcxt == NULL)
			st->jcxt = AllocSetContextCreate(GetMemoryChunkContext(st->jbuf.data),
											 "obs jsonb text cache", ALLOCSET_DEFAULT_SIZES);
		if (jcache_take(st, jc, need))
			jc->ents = MemoryContextAllocZero(st->jcxt, need - JSONB_CACHE_CHUNK);
	}
	if (jc->ents == NULL || VARATT_IS_EXTERNAL(raw) || VARATT_IS_COMPRESSED(raw) ||
		VARSIZE_ANY_EXHDR(raw) > JSONB_CACHE_MAX_BIN)
	{
		jsonb_text(st, d);
		append_text(st, col, def, rep, st->jbuf.data, st->jbuf.len);
		return;
	}

	bin = VARDATA_ANY(raw);
	len = VARSIZE_ANY_EXHDR(raw);
	h = hash_bytes((const unsigned char *) bin, (int) len);
	e = &jc->ents[h & (JSONB_CACHE_SLOTS - 1)];
	if (e->binlen == len && e->hash == h && memcmp(e->data, bin, len) == 0)
	{
		jc->hits++;
		append_text(st, col, def, rep, e->data + len, (int) e->textlen);
		return;
	}
	jsonb_text(st, d);
	if (st->jbuf.len <= JSONB_CACHE_MAX_TEXT)
	{
		/* the slot takes the new value, in memory of its size */
		Size		need = len + st->jbuf.len + JSONB_CACHE_CHUNK;

		if (e->data)
		{
			Size		had = e->binlen + e->textlen + JSONB_CACHE_CHUNK;

			pfree(e->data);
			e->data = NULL;
			e->binlen = 0;
			st->jcache_bytes -= had;
			jc->bytes -= had;
		}
		if (jcache_take(st, jc, need))
		{
			e->data = MemoryContextAlloc(st->jcxt, need - JSONB_CACHE_CHUNK);
			memcpy(e->data, bin, len);
			memcpy(e->data + len, st->jbuf.data, st->jbuf.len);
			e->hash = h;
			e->binlen = (uint16) len;
			e->textlen = (uint16) st->jbuf.len;
		}
	}
	append_text(st, col, def, rep, st->jbuf.data, st->jbuf.len);
}

/* one non-null scalar (or list element) of column col */
static void
append_value(ExportState *st, int col, ExportCol *ec, Datum d, int def, int rep)
{
	ObsPqWriter *w = st->writer;

	switch (ec->kind)
	{
		case CK_BOOL:
			{
				bool		b = DatumGetBool(d);

				obs_pq_append(w, col, def, rep, &b, 1);
				break;
			}
		case CK_INT2:
			{
				int32		x = DatumGetInt16(d);

				obs_pq_append(w, col, def, rep, &x, 4);
				break;
			}
		case CK_INT4:
			{
				int32		x = DatumGetInt32(d);

				obs_pq_append(w, col, def, rep, &x, 4);
				break;
			}
		case CK_INT8:
			{
				int64		x = DatumGetInt64(d);

				obs_pq_append(w, col, def, rep, &x, 8);
				break;
			}
		case CK_FLOAT4:
			{
				float4		x = DatumGetFloat4(d);

				obs_pq_append(w, col, def, rep, &x, 4);
				break;
			}
		case CK_FLOAT8:
			{
				float8		x = DatumGetFloat8(d);

				obs_pq_append(w, col, def, rep, &x, 8);
				break;
			}
		case CK_DECIMAL:
			append_decimal(st, col, ec, d, def, rep);
			break;
		case CK_TEXT:
			{
				text	   *t = DatumGetTextPP(d);

				append_text(st, col, def, rep, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
				break;
			}
		case CK_NAME:
			{
				const char *s = NameStr(*DatumGetName(d));

				append_text(st, col, def, rep, s, strlen(s));
				break;
			}
		case CK_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(d);

				obs_pq_append(w, col, def, rep, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
				break;
			}
		case CK_UUID:
			obs_pq_append(w, col, def, rep, DatumGetUUIDP(d)->data, UUID_LEN);
			break;
		case CK_DATE:
			{
				DateADT		x = DatumGetDateADT(d);
				int32		days;

				/* infinities as DuckDB stores them */
				if (DATE_IS_NOBEGIN(x))
					days = -PG_INT32_MAX;
				else if (DATE_IS_NOEND(x))
					days = PG_INT32_MAX;
				else
					days = x + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
				obs_pq_append(w, col, def, rep, &days, 4);
				break;
			}
		case CK_TIME:
			{
				int64		x = DatumGetTimeADT(d);

				obs_pq_append(w, col, def, rep, &x, 8);
				break;
			}
		case CK_TIMESTAMP:
			{
				Timestamp	x = DatumGetTimestamp(d);
				int64		us;

				if (TIMESTAMP_IS_NOBEGIN(x))
					us = -PG_INT64_MAX;
				else if (TIMESTAMP_IS_NOEND(x))
					us = PG_INT64_MAX;
				else if (pg_add_s64_overflow(x,
											 (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY,
											 &us) || us == PG_INT64_MAX)
					ereport(ERROR,
							(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
							 errmsg("timestamp out of range for Parquet column \"%s\"", ec->name),
							 errdetail("Parquet stores microseconds since 1970-01-01 in 64 bits.")));
				obs_pq_append(w, col, def, rep, &us, 8);
				break;
			}
		case CK_JSONB:
			append_jsonb(st, col, ec, d, def, rep);
			break;
		case CK_OBS_ID:
			obs_pq_append(w, col, def, rep, DatumGetPointer(d), ec->id_len);
			break;
		case CK_ENUM:
			append_enum(st, col, ec, d, def, rep);
			break;
		case CK_OUTPUT:
			{
				char	   *s = OutputFunctionCall(&ec->out, d);

				append_text(st, col, def, rep, s, strlen(s));
				break;
			}
	}
}

static bool
export_receive(TupleTableSlot *slot, DestReceiver *self)
{
	ExportState *st = (ExportState *) self;
	MemoryContext old = MemoryContextSwitchTo(st->rowcxt);

	slot_getallattrs(slot);
	for (int i = 0; i < st->ncols; i++)
	{
		ExportCol  *ec = &st->cols[i];
		Datum		d = slot->tts_values[i];
		ArrayType  *arr;
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (slot->tts_isnull[i])
		{
			obs_pq_append(st->writer, i, 0, 0, NULL, 0);
			continue;
		}
		if (!ec->is_list)
		{
			append_value(st, i, ec, d, 1, 0);
			continue;
		}

		arr = DatumGetArrayTypeP(d);
		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("cannot write a %d-dimensional array to Parquet column \"%s\"",
							ARR_NDIM(arr), ec->name),
					 errdetail("Parquet LIST columns hold one-dimensional arrays."),
					 errhint("Cast the column to text to export it as a string.")));
		if (ARR_NDIM(arr) == 0)
		{
			obs_pq_append(st->writer, i, 1, 0, NULL, 0);	/* empty list */
			continue;
		}
		deconstruct_array(arr, ec->elemtype, ec->elmlen, ec->elmbyval, ec->elmalign,
						  &elems, &nulls, &n);
		for (int j = 0; j < n; j++)
		{
			if (nulls[j])
				obs_pq_append(st->writer, i, 2, j == 0 ? 0 : 1, NULL, 0);
			else
				append_value(st, i, ec, elems[j], 3, j == 0 ? 0 : 1);
		}
	}
	MemoryContextSwitchTo(old);
	obs_pq_end_row(st->writer);
	MemoryContextReset(st->rowcxt);
	st->rows++;
	return true;
}

static void
export_startup(DestReceiver *self, int operation, TupleDesc typeinfo)
{
}

static void
export_shutdown(DestReceiver *self)
{
}

static void
export_destroy(DestReceiver *self)
{
}

/* ---------------------------------------------------------------------
 * Destinations
 * --------------------------------------------------------------------- */

static void
file_sink(void *arg, const char *data, size_t len)
{
	ExportState *st = (ExportState *) arg;

	if (st->written)
	{
		st->written->bytes += len;
		if (pg_cryptohash_update(st->hash, (const uint8 *) data, len) < 0)
			elog(ERROR, "could not update a SHA-256 hash");
	}
	while (len > 0)
	{
		ssize_t		n;

		errno = 0;
		n = write(st->fd, data, Min(len, (size_t) 1 << 30));
		if (n <= 0)
		{
			if (errno == EINTR)
				continue;
			/* a short write without errno set means the disk is full */
			if (errno == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write to file \"%s\": %m", st->tmppath)));
		}
		data += n;
		len -= n;
	}
}

/* CopyData messages of at most 64kB */
static void
client_sink(void *arg, const char *data, size_t len)
{
	while (len > 0)
	{
		size_t		n = Min(len, (size_t) 65536);
		StringInfoData buf;

		pq_beginmessage(&buf, 'd');
		pq_sendbytes(&buf, data, (int) n);
		pq_endmessage(&buf);
		data += n;
		len -= n;
	}
}

/* bytes of filename up to and including its last slash */
static size_t
dir_length(const char *filename)
{
	const char *slash = strrchr(filename, '/');

	return slash ? (size_t) (slash - filename) + 1 : 0;
}

/*
 * Refuse a target whose path, or that of the temporary file beside it,
 * would not fit in MAXPGPATH: such a path could only be remembered cut
 * short, and removing the cut path at exit would remove another file.
 */
void
obs_pq_check_path(const char *filename)
{
	size_t		len = strlen(filename);
	size_t		dirlen = dir_length(filename);

	if (len >= MAXPGPATH || dirlen + TMP_NAME_MAX >= MAXPGPATH)
		ereport(ERROR,
				(errcode(ERRCODE_NAME_TOO_LONG),
				 errmsg("file path too long for a Parquet export"),
				 errdetail("The path has %zu bytes, %zu of them up to the file name; at most %d and %d fit, to leave room for the name of the temporary file written beside it.",
						   len, dirlen, MAXPGPATH - 1, MAXPGPATH - 1 - TMP_NAME_MAX)));
}

static void
open_target(ExportState *st)
{
	static uint32 counter = 0;
	int			dirlen = (int) dir_length(st->filename);
	struct stat stbuf;

	obs_pq_check_path(st->filename);

	if (stat(st->filename, &stbuf) == 0 && S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", st->filename)));
	if (!exit_cleanup_registered)
	{
		before_shmem_exit(remove_tmp_at_exit, (Datum) 0);
		exit_cleanup_registered = true;
	}

	/*
	 * A short, unpredictable temporary name in the target's directory,
	 * created exclusively and never through a symbolic link: nobody who can
	 * write to that directory can make the server overwrite another file.
	 */
	st->fd = -1;
	for (int attempt = 0; attempt < 10 && st->fd < 0; attempt++)
	{
		uint32		rnd;

		if (!pg_strong_random(&rnd, sizeof(rnd)))
			rnd = (uint32) random();
		st->tmppath = psprintf("%.*s.obs-%d-%u-%08x.tmp", dirlen, st->filename,
							   MyProcPid, ++counter, rnd);
		if (strlen(st->tmppath) >= MAXPGPATH)
			elog(ERROR, "temporary path \"%s\" is too long", st->tmppath);
		st->fd = OpenTransientFile(st->tmppath,
								   O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | PG_BINARY);
		if (st->fd < 0 && errno != EEXIST)
			break;
	}
	if (st->fd >= 0)
		memcpy(exit_tmppath, st->tmppath, strlen(st->tmppath) + 1);
	if (st->fd < 0)
	{
		int			save_errno = errno;

		st->tmppath = NULL;		/* nothing to remove */
		exit_tmppath[0] = '\0';
		errno = save_errno;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for writing: %m", st->filename)));
	}
	/* like core COPY's files: readable by all, since the server's umask is 077 */
	if (fchmod(st->fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not change permissions of file \"%s\": %m", st->tmppath)));
}

/* the temporary file is complete: make it durable under the target name */
static void
commit_target(ExportState *st)
{
	if (pg_fsync(st->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not fsync file \"%s\": %m", st->tmppath)));
	if (CloseTransientFile(st->fd) != 0)
	{
		st->fd = -1;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close file \"%s\": %m", st->tmppath)));
	}
	st->fd = -1;
	durable_rename(st->tmppath, st->filename, ERROR);
	st->tmppath = NULL;
	exit_tmppath[0] = '\0';
}

static void
send_copy_begin(int natts)
{
	StringInfoData buf;

	pq_beginmessage(&buf, 'H');
	pq_sendbyte(&buf, 1);		/* binary overall format */
	pq_sendint16(&buf, natts);
	for (int i = 0; i < natts; i++)
		pq_sendint16(&buf, 1);
	pq_endmessage(&buf);
}

/* ---------------------------------------------------------------------
 * The query
 * --------------------------------------------------------------------- */

static PlannedStmt *
plan_query(Node *raw_query, const char *query_string)
{
	RawStmt    *raw = makeNode(RawStmt);
	List	   *rewritten;
	Query	   *query;

	raw->stmt = raw_query;
	raw->stmt_location = -1;
	raw->stmt_len = 0;
	rewritten = pg_analyze_and_rewrite_fixedparams(raw, query_string, NULL, 0, NULL);

	if (rewritten == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("DO INSTEAD NOTHING rules are not supported for COPY")));
	if (list_length(rewritten) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("multi-statement DO INSTEAD rules are not supported for COPY")));
	query = linitial_node(Query, rewritten);
	if (query->utilityStmt != NULL && IsA(query->utilityStmt, CreateTableAsStmt))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY (SELECT INTO) is not supported")));
	if (query->commandType == CMD_UTILITY)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY query must not be a utility command")));
	if (query->commandType != CMD_SELECT && query->returningList == NIL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY query must have a RETURNING clause")));

	return pg_plan_query(query, query_string, CURSOR_OPT_PARALLEL_OK, NULL);
}

/* Parquet columns for the query's result; names made unique */
static ObsPqColumn *
build_columns(ExportState *st, TupleDesc tupdesc)
{
	ObsPqColumn *pcs = palloc0(sizeof(ObsPqColumn) * Max(tupdesc->natts, 1));

	st->ncols = tupdesc->natts;
	st->cols = palloc0(sizeof(ExportCol) * Max(tupdesc->natts, 1));
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		/* Parquet names are UTF-8, whatever the database encoding */
		char	   *base = pg_server_to_any(NameStr(att->attname),
											strlen(NameStr(att->attname)), PG_UTF8);
		char	   *name = pstrdup(base);

		for (int suffix = 2;; suffix++)
		{
			bool		dup = false;

			for (int j = 0; j < i && !dup; j++)
				dup = (strcmp(pcs[j].name, name) == 0);
			if (!dup)
				break;
			name = psprintf("%s_%d", base, suffix);
		}
		pcs[i].name = name;
		st->cols[i].name = name;
		map_type(att->atttypid, att->atttypmod, &st->cols[i], &pcs[i]);
	}
	return pcs;
}

void
obs_pq_check_write_privilege(void)
{
	if (!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser or have privileges of the pg_write_server_files role to COPY to a file"),
				 errhint("Anyone can COPY to stdout or from stdin. "
						 "psql's \\copy command also works for anyone.")));
}

uint64
obs_pq_export(Node *raw_query, const char *query_string, const char *filename,
			  const ObsPqOptions *opts)
{
	return obs_pq_export_file(raw_query, query_string, filename, opts, NULL);
}

/*
 * obs_pq_export() that also reports, in *written (when not NULL and
 * filename is set), the bytes written and their SHA-256: what a caller
 * reading the file back must find.
 */
uint64
obs_pq_export_file(Node *raw_query, const char *query_string, const char *filename,
				   const ObsPqOptions *opts, ObsPqWritten *written)
{
	ExportState *st = palloc0(sizeof(ExportState));

	st->pub.receiveSlot = export_receive;
	st->pub.rStartup = export_startup;
	st->pub.rShutdown = export_shutdown;
	st->pub.rDestroy = export_destroy;
	st->pub.mydest = DestCopyOut;
	st->filename = filename;
	st->fd = -1;
	if (written && filename)
	{
		memset(written, 0, sizeof(*written));
		st->written = written;
		st->hash = pg_cryptohash_create(PG_SHA256);
		if (st->hash == NULL || pg_cryptohash_init(st->hash) < 0)
			elog(ERROR, "could not initialize a SHA-256 hash");
	}
	st->to_utf8 = (GetDatabaseEncoding() != PG_UTF8 &&
				   GetDatabaseEncoding() != PG_SQL_ASCII);

	if (filename != NULL)
		obs_pq_check_path(filename);
	if (filename == NULL && whereToSendOutput != DestRemote)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY TO STDOUT with FORMAT parquet needs a client connection")));

	PG_TRY();
	{
		PlannedStmt *plan = plan_query(raw_query, query_string);
		QueryDesc  *qd;
		ObsPqColumn *pcs;
		const char *kv_keys[] = {"obs.writer", "obs.version"};
		const char *kv_values[] = {"obs", OBS_VERSION};
		ObsPqOptions o = *opts;

		PushCopiedSnapshot(ActiveSnapshotSet() ? GetActiveSnapshot() : GetTransactionSnapshot());
		UpdateActiveSnapshotCommandId();
		qd = CreateQueryDesc(plan, query_string, GetActiveSnapshot(), InvalidSnapshot,
							 &st->pub, NULL, NULL, 0);
		ExecutorStart(qd, 0);

		if (qd->tupDesc->natts == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("COPY with FORMAT parquet needs at least one column")));
		pcs = build_columns(st, qd->tupDesc);
		st->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "obs parquet row",
										   ALLOCSET_DEFAULT_SIZES);
		initStringInfo(&st->jbuf);
		o.created_by = "obs version " OBS_VERSION;
		o.n_kv = 2;
		o.kv_keys = kv_keys;
		o.kv_values = kv_values;

		if (filename)
			open_target(st);
		else
			send_copy_begin(st->ncols);
		st->writer = obs_pq_writer_create(pcs, st->ncols, &o,
										  filename ? file_sink : client_sink, st);

		ExecutorRun(qd, ForwardScanDirection, 0, true);
		obs_pq_finish(st->writer);
		ExecutorFinish(qd);
		ExecutorEnd(qd);
		FreeQueryDesc(qd);
		PopActiveSnapshot();

		if (filename)
			commit_target(st);
		else
			pq_putemptymessage('c');
		if (st->written)
		{
			if (pg_cryptohash_final(st->hash, st->written->sha256,
									sizeof(st->written->sha256)) < 0)
				elog(ERROR, "could not finish a SHA-256 hash");
			pg_cryptohash_free(st->hash);
			st->hash = NULL;
		}
		obs_pq_writer_free(st->writer);
		st->writer = NULL;
		MemoryContextDelete(st->rowcxt);
	}
	PG_CATCH();
	{
		if (st->fd >= 0)
			CloseTransientFile(st->fd);
		st->fd = -1;
		if (st->tmppath)
			unlink(st->tmppath);
		exit_tmppath[0] = '\0';
		if (st->hash)
			pg_cryptohash_free(st->hash);
		PG_RE_THROW();
	}
	PG_END_TRY();

	return st->rows;
}
