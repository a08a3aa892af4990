/*-------------------------------------------------------------------------
 * import.c
 *	  COPY table [(columns)] FROM 'file' | STDIN WITH (FORMAT parquet).
 *
 * The rows go into the table through core COPY FROM itself: the reader's
 * values are written as COPY text lines (one per Parquet row, columns
 * matched by name) and handed to BeginCopyFrom()/CopyFrom() through a
 * data source callback.  So everything core COPY FROM does applies
 * unchanged: the column types' input functions and domains, defaults for
 * the columns the file lacks, constraints, BEFORE/AFTER row and statement
 * triggers, partition routing, indexes, multi-insert batching, WHERE.
 * Checks come in core's order with core's messages: the privilege to
 * read a server file (pg_read_server_files), INSERT on the columns, no
 * row-level security, a writable transaction.
 *
 * Parquet needs its footer before any row, so COPY FROM STDIN first
 * receives the client's bytes (as a binary COPY, so that psql's \copy
 * sends the file as it is) into a temporary file, deleted at the end of
 * the transaction.
 *
 * Values: before any row is read, each Parquet column's type is checked
 * against its target column's (42804 when they cannot meet, e.g. a
 * TIMESTAMP into an integer).  Then each value is written as the text the
 * target type's input function reads exactly: integers and decimals as
 * digits, floats as their shortest exact decimal (a FLOAT into double
 * precision as the double it is), dates and timestamps in
 * ISO form (UTC-adjusted timestamps with "+00", so that a timestamptz is
 * the same instant whatever the session's TimeZone), strings converted
 * from UTF-8 to the database encoding, binary as bytea hex, UUIDs in
 * their canonical form, FIXED_LEN_BYTE_ARRAY into a fixed-length type of
 * the same size (obs.trace_id, obs.span_id) through that type's output
 * function, lists as array literals.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "common/shortest_dec.h"
#include "executor/executor.h"
/*
 * libpq/libpq.h pulls in the GSSAPI headers when the server was built with
 * them; nothing here touches the Port fields they declare.
 */
#undef ENABLE_GSS
#include "libpq/libpq.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_coerce.h"
#include "parser/parse_collate.h"
#include "parser/parse_expr.h"
#include "parser/parse_relation.h"
#include "pgstat.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/timestamp.h"

#include "pq_read.h"

/* how one Parquet value becomes the text of its target type */
typedef enum ImportMode
{
	IM_STRING,					/* UTF-8 bytes, converted to the database encoding */
	IM_BYTEA,					/* bytes as bytea hex: \x... */
	IM_HEX,						/* bytes as plain hex digits */
	IM_UUID,
	IM_RAW_FIXED,				/* bytes are the target type's own value */
	IM_BOOL,
	IM_INT,
	IM_FLOAT,
	IM_DOUBLE,
	IM_DECIMAL,
	IM_DATE,
	IM_TIME,
	IM_TIMESTAMP
} ImportMode;

typedef enum TargetKind
{
	TK_TEXT,					/* string category: anything goes */
	TK_BOOL,
	TK_NUMBER,					/* numeric category */
	TK_DATE,
	TK_TIMESTAMP,
	TK_TIMESTAMPTZ,
	TK_TIME,
	TK_UUID,
	TK_BYTEA,
	TK_OTHER
} TargetKind;

typedef struct ImportCol
{
	int			field;
	PqField    *pf;
	char	   *attname;
	Oid			atttype;
	bool		is_array;
	Oid			base;			/* scalar (element) base type */
	TargetKind	target;
	bool		target_float8;
	char		delim;			/* array element delimiter */
	ImportMode	mode;
	FmgrInfo	out;			/* IM_RAW_FIXED */
	int			fixed_len;		/* IM_RAW_FIXED: the target type's length */
	PqColData  *cd;
} ImportCol;

typedef struct ImportState
{
	PqReader   *reader;
	const char *filename;		/* for messages */
	int			ncols;
	ImportCol  *cols;
	int64		rg_rows;
	int64		rg_row;
	int			rg_index;
	int64		row;			/* rows produced so far */
	bool		eof;
	const char *cur_col;
	StringInfoData line;		/* COPY text not yet handed to COPY */
	int			linepos;
	StringInfoData val;
	StringInfoData arr;
	MemoryContext rowcxt;
} ImportState;

static ImportState *current_import = NULL;

/* ---------------------------------------------------------------------
 * Types
 * --------------------------------------------------------------------- */

static const char *
physical_name(int t)
{
	static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT",
	"DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};

	return (t >= 0 && t < (int) lengthof(names)) ? names[t] : "unknown";
}

static char *
describe_leaf(const PqLeaf *l)
{
	static const char *const units[] = {"?", "MILLIS", "MICROS", "NANOS"};
	const char *unit = (l->unit >= 1 && l->unit <= 3) ? units[l->unit] : "?";
	const char *p = physical_name(l->physical);

	switch (l->kind)
	{
		case PQL_STRING:
			return psprintf("%s (STRING)", p);
		case PQL_JSON:
			return psprintf("%s (JSON)", p);
		case PQL_INT:
			return psprintf("%s (INT(%d, %s))", p, l->int_bits, l->int_signed ? "signed" : "unsigned");
		case PQL_DECIMAL:
			return psprintf("%s (DECIMAL(%d, %d))", p, l->precision, l->scale);
		case PQL_DATE:
			return psprintf("%s (DATE)", p);
		case PQL_TIME:
			return psprintf("%s (TIME(%s))", p, unit);
		case PQL_TIMESTAMP:
			return psprintf("%s (TIMESTAMP(%s%s))", p, unit, l->utc ? ", UTC" : "");
		case PQL_UUID:
			return psprintf("%s (UUID)", p);
		default:
			if (l->physical == 7)
				return psprintf("%s(%d)", p, l->type_length);
			return pstrdup(p);
	}
}

static TargetKind
target_kind(Oid base)
{
	switch (base)
	{
		case BOOLOID:
			return TK_BOOL;
		case DATEOID:
			return TK_DATE;
		case TIMESTAMPOID:
			return TK_TIMESTAMP;
		case TIMESTAMPTZOID:
			return TK_TIMESTAMPTZ;
		case TIMEOID:
			return TK_TIME;
		case UUIDOID:
			return TK_UUID;
		case BYTEAOID:
			return TK_BYTEA;
		case XID8OID:
			/* obs's txid columns, which the writer stores as INT64 */
			return TK_NUMBER;
		default:
			break;
	}
	switch (get_typtype(base) == TYPTYPE_BASE ? TypeCategory(base) : TYPCATEGORY_INVALID)
	{
		case TYPCATEGORY_STRING:
			return TK_TEXT;
		case TYPCATEGORY_NUMERIC:
			return TK_NUMBER;
		default:
			return TK_OTHER;
	}
}

/*
 * Can fixed-length bytes be the target type's own value?  A fixed-length,
 * by-reference type of the same size (obs.trace_id, obs.span_id) can.
 */
static bool
raw_fixed(ImportCol *ic, int length)
{
	Oid			outfunc;
	bool		varlena;

	if (get_typlen(ic->base) != length || get_typbyval(ic->base))
		return false;
	ic->mode = IM_RAW_FIXED;
	ic->fixed_len = length;
	getTypeOutputInfo(ic->base, &outfunc, &varlena);
	fmgr_info(outfunc, &ic->out);
	return true;
}

/* choose how the column's values are written, or say that they cannot be */
static void
choose_mode(ImportCol *ic)
{
	PqLeaf	   *l = &ic->pf->leaf;
	TargetKind	t = ic->target;
	bool		ok = false;

	switch (l->kind)
	{
		case PQL_STRING:
		case PQL_JSON:
			ic->mode = (t == TK_BYTEA) ? IM_BYTEA : IM_STRING;
			ok = (l->physical == 6 || l->physical == 7);
			break;
		case PQL_UUID:
			if (l->physical != 7 || l->type_length != 16)
				obs_pq_bad_file("UUID column \"%s\" is not a FIXED_LEN_BYTE_ARRAY(16).", ic->pf->name);
			ic->mode = (t == TK_BYTEA) ? IM_BYTEA : IM_UUID;
			ok = (t == TK_UUID || t == TK_TEXT || t == TK_BYTEA);
			if (!ok)
				ok = raw_fixed(ic, l->type_length);
			break;
		case PQL_INT:
			ic->mode = IM_INT;
			ok = (l->physical == 1 || l->physical == 2) && (t == TK_NUMBER || t == TK_TEXT);
			break;
		case PQL_DECIMAL:
			ic->mode = IM_DECIMAL;
			ok = (l->physical == 1 || l->physical == 2 || l->physical == 6 || l->physical == 7) &&
				(t == TK_NUMBER || t == TK_TEXT);
			if (l->scale < 0 || l->scale > 1000)
				obs_pq_bad_file("DECIMAL column \"%s\" has scale %d.", ic->pf->name, l->scale);
			break;
		case PQL_DATE:
			ic->mode = IM_DATE;
			ok = l->physical == 1 &&
				(t == TK_DATE || t == TK_TIMESTAMP || t == TK_TIMESTAMPTZ || t == TK_TEXT);
			break;
		case PQL_TIME:
			ic->mode = IM_TIME;
			ok = (l->physical == 1 || l->physical == 2) && (t == TK_TIME || t == TK_TEXT);
			break;
		case PQL_TIMESTAMP:
			ic->mode = IM_TIMESTAMP;
			ok = l->physical == 2 && (t == TK_TIMESTAMP || t == TK_TIMESTAMPTZ || t == TK_TEXT);
			break;
		case PQL_NONE:
			switch (l->physical)
			{
				case 0:
					ic->mode = IM_BOOL;
					ok = (t == TK_BOOL || t == TK_TEXT);
					break;
				case 1:
				case 2:
					ic->mode = IM_INT;
					ok = (t == TK_NUMBER || t == TK_TEXT);
					break;
				case 3:			/* legacy INT96 timestamps */
					ic->mode = IM_TIMESTAMP;
					ok = (t == TK_TIMESTAMP || t == TK_TIMESTAMPTZ || t == TK_TEXT);
					break;
				case 4:
					ic->mode = IM_FLOAT;
					ok = (t == TK_NUMBER || t == TK_TEXT);
					break;
				case 5:
					ic->mode = IM_DOUBLE;
					ok = (t == TK_NUMBER || t == TK_TEXT);
					break;
				case 6:
					/*
					 * binary: bytea; the bytes of a fixed-length type such
					 * as obs.trace_id (DuckDB re-writes obs's
					 * FIXED_LEN_BYTE_ARRAY ids as BLOB); or text from
					 * writers that leave strings unmarked
					 */
					ic->mode = (t == TK_BYTEA) ? IM_BYTEA : IM_STRING;
					ok = true;
					if (t != TK_BYTEA && t != TK_TEXT && get_typlen(ic->base) > 0)
						ok = raw_fixed(ic, get_typlen(ic->base)) || (ic->mode = IM_STRING, true);
					break;
				case 7:
					{
						if (t == TK_BYTEA)
						{
							ic->mode = IM_BYTEA;
							ok = true;
						}
						else if (t == TK_UUID && l->type_length == 16)
						{
							ic->mode = IM_UUID;
							ok = true;
						}
						else if (t == TK_TEXT)
						{
							ic->mode = IM_HEX;
							ok = true;
						}
						else
							ok = raw_fixed(ic, l->type_length);
						break;
					}
			}
			break;
		case PQL_UNSUPPORTED:
			break;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("Parquet column \"%s\" of type %s cannot be loaded into column \"%s\" of type %s",
						ic->pf->name, describe_leaf(l), ic->attname, format_type_be(ic->atttype)),
				 errhint("Load it into a column of a matching type, or of type text.")));
}

/* ---------------------------------------------------------------------
 * Values as text
 * --------------------------------------------------------------------- */

static void
append_hex(StringInfo out, const uint8 *p, uint32 len)
{
	static const char hex[] = "0123456789abcdef";

	if (len > (MaxAllocSize - 1 - (Size) out->len) / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("a Parquet value of %u bytes is too long to load as hex", len)));
	enlargeStringInfo(out, (int) len * 2);
	for (uint32 i = 0; i < len; i++)
	{
		out->data[out->len++] = hex[p[i] >> 4];
		out->data[out->len++] = hex[p[i] & 15];
	}
	out->data[out->len] = '\0';
}

static void
append_int128(StringInfo out, __int128 v, int scale)
{
	char		digits[64];
	int			n = 0;
	unsigned __int128 u = v < 0 ? -(unsigned __int128) v : (unsigned __int128) v;

	do
	{
		digits[n++] = '0' + (int) (u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		appendStringInfoChar(out, '-');
	if (scale >= n)
	{
		appendStringInfoString(out, "0.");
		for (int i = 0; i < scale - n; i++)
			appendStringInfoChar(out, '0');
		for (int i = n - 1; i >= 0; i--)
			appendStringInfoChar(out, digits[i]);
		return;
	}
	for (int i = n - 1; i >= 0; i--)
	{
		appendStringInfoChar(out, digits[i]);
		if (i == scale && scale > 0)
			appendStringInfoChar(out, '.');
	}
}

/* a big-endian two's complement integer of up to 16 significant bytes */
static __int128
be_int128(ImportCol *ic, const uint8 *p, uint32 len)
{
	__int128	v;
	uint32		skip = 0;

	if (len == 0)
		obs_pq_bad_file("DECIMAL column \"%s\" has an empty value.", ic->pf->name);
	/* leading bytes that only extend the sign */
	while (len - skip > 16)
	{
		if (p[skip] != ((p[skip + 1] & 0x80) ? 0xff : 0x00))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("DECIMAL value of Parquet column \"%s\" has more than 38 digits", ic->pf->name)));
		skip++;
	}
	v = (p[skip] & 0x80) ? -1 : 0;
	for (uint32 i = skip; i < len; i++)
		v = (__int128) (((unsigned __int128) v << 8) | p[i]);
	return v;
}

static void
out_of_range(ImportCol *ic, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("%s out of range in Parquet column \"%s\"", what, ic->pf->name)));
}

static void
append_timestamp(ImportCol *ic, StringInfo out, const PqVal *v)
{
	PqLeaf	   *l = &ic->pf->leaf;
	int64		us;
	Timestamp	ts;
	struct pg_tm tm;
	fsec_t		fsec;
	char		buf[MAXDATELEN + 1];
	bool		utc = l->utc;

	if (l->physical == 3)
	{
		int64		nanos;
		int32		jd;

		memcpy(&nanos, v->p, 8);
		memcpy(&jd, v->p + 8, 4);
		utc = true;
		if (nanos < 0 || nanos >= USECS_PER_DAY * INT64CONST(1000) ||
			pg_mul_s64_overflow((int64) jd - UNIX_EPOCH_JDATE, USECS_PER_DAY, &us) ||
			pg_add_s64_overflow(us, nanos / 1000, &us))
			out_of_range(ic, "timestamp");
	}
	else
	{
		us = v->i;
		if (us == PG_INT64_MAX || us == -PG_INT64_MAX)
		{
			appendStringInfoString(out, us > 0 ? "infinity" : "-infinity");
			return;
		}
		if (l->unit == PQ_UNIT_MILLIS)
		{
			if (pg_mul_s64_overflow(us, 1000, &us))
				out_of_range(ic, "timestamp");
		}
		else if (l->unit == PQ_UNIT_NANOS)
			us = (us >= 0) ? us / 1000 : -((-(us + 1)) / 1000) - 1;
	}
	if (pg_sub_s64_overflow(us, (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY, &ts) ||
		!IS_VALID_TIMESTAMP(ts))
		out_of_range(ic, "timestamp");
	if (utc && ic->target == TK_TIMESTAMP)
	{
		/* an instant into timestamp without time zone: as the cast does it */
		ts = DatumGetTimestamp(DirectFunctionCall1(timestamptz_timestamp, TimestampTzGetDatum(ts)));
		utc = false;
		if (TIMESTAMP_NOT_FINITE(ts))
		{
			appendStringInfoString(out, TIMESTAMP_IS_NOBEGIN(ts) ? "-infinity" : "infinity");
			return;
		}
	}
	if (timestamp2tm(ts, NULL, &tm, &fsec, NULL, NULL) != 0)
		out_of_range(ic, "timestamp");
	/* an instant: printed in UTC with "+00" (EncodeDateTime wants a zone) */
	tm.tm_isdst = 0;
	EncodeDateTime(&tm, fsec, utc, 0, NULL, USE_ISO_DATES, buf);
	appendStringInfoString(out, buf);
}

/* one non-null value, unescaped, onto out */
static void
append_value(ImportCol *ic, StringInfo out, const PqVal *v)
{
	PqLeaf	   *l = &ic->pf->leaf;

	switch (ic->mode)
	{
		case IM_STRING:
			{
				const char *s = (const char *) v->p;
				char	   *conv;

				/* valid UTF-8 without NUL bytes, then the database's encoding */
				pg_verify_mbstr(PG_UTF8, s, (int) v->len, false);
				conv = pg_any_to_server(s, (int) v->len, PG_UTF8);
				if (conv == s)
					appendBinaryStringInfo(out, s, (int) v->len);
				else
					appendStringInfoString(out, conv);
				break;
			}
		case IM_BYTEA:
			if (l->physical != 6 && l->physical != 7)
				elog(ERROR, "unexpected physical type for bytea");
			appendStringInfoString(out, "\\x");
			append_hex(out, v->p, v->len);
			break;
		case IM_HEX:
			append_hex(out, v->p, v->len);
			break;
		case IM_UUID:
			for (int i = 0; i < 16; i++)
			{
				if (i == 4 || i == 6 || i == 8 || i == 10)
					appendStringInfoChar(out, '-');
				append_hex(out, v->p + i, 1);
			}
			break;
		case IM_RAW_FIXED:
			{
				char	   *copy;

				if ((int) v->len != ic->fixed_len)
					obs_pq_bad_file("A value of column \"%s\" has %d bytes; its target type takes %d.",
									ic->pf->name, (int) v->len, ic->fixed_len);
				copy = palloc(v->len);

				memcpy(copy, v->p, v->len);
				appendStringInfoString(out, OutputFunctionCall(&ic->out, PointerGetDatum(copy)));
				break;
			}
		case IM_BOOL:
			appendStringInfoChar(out, v->i ? 't' : 'f');
			break;
		case IM_INT:
			if (!l->int_signed && l->physical == 1)
				appendStringInfo(out, "%u", (uint32) v->i);
			else if (!l->int_signed)
				appendStringInfo(out, UINT64_FORMAT, (uint64) v->i);
			else
				appendStringInfo(out, INT64_FORMAT, v->i);
			break;
		case IM_FLOAT:
		case IM_DOUBLE:
			{
				double		d;
				char		buf[64];

				if (ic->mode == IM_FLOAT)
				{
					uint32		bits = (uint32) v->i;
					float		f;

					memcpy(&f, &bits, 4);
					d = f;
					/* the float's own shortest digits, but its exact value as a double */
					if (!isnan(f) && !isinf(f) && !ic->target_float8)
					{
						float_to_shortest_decimal_buf(f, buf);
						appendStringInfoString(out, buf);
						break;
					}
				}
				else
					memcpy(&d, &v->i, 8);
				if (isnan(d))
					appendStringInfoString(out, "NaN");
				else if (isinf(d))
					appendStringInfoString(out, d > 0 ? "Infinity" : "-Infinity");
				else
				{
					double_to_shortest_decimal_buf(d, buf);
					appendStringInfoString(out, buf);
				}
				break;
			}
		case IM_DECIMAL:
			{
				__int128	x;

				if (l->physical == 1 || l->physical == 2)
					x = v->i;
				else
					x = be_int128(ic, v->p, v->len);
				append_int128(out, x, l->scale);
				break;
			}
		case IM_DATE:
			{
				int64		days = (int32) v->i;
				struct pg_tm tm;
				char		buf[MAXDATELEN + 1];

				if (days == PG_INT32_MAX || days == -PG_INT32_MAX)
				{
					appendStringInfoString(out, days > 0 ? "infinity" : "-infinity");
					break;
				}
				days -= (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE);
				if (!IS_VALID_DATE(days))
					out_of_range(ic, "date");
				j2date((int) days + POSTGRES_EPOCH_JDATE, &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
				EncodeDateOnly(&tm, USE_ISO_DATES, buf);
				appendStringInfoString(out, buf);
				break;
			}
		case IM_TIME:
			{
				int64		us = v->i;

				if (l->unit == PQ_UNIT_MILLIS)
					us = (int64) (int32) v->i * 1000;
				else if (l->unit == PQ_UNIT_NANOS)
					us = v->i / 1000;
				if (us < 0 || us > USECS_PER_DAY)
					out_of_range(ic, "time");
				appendStringInfo(out, "%02d:%02d:%02d.%06d",
								 (int) (us / USECS_PER_HOUR),
								 (int) (us / USECS_PER_MINUTE % 60),
								 (int) (us / USECS_PER_SEC % 60),
								 (int) (us % USECS_PER_SEC));
				break;
			}
		case IM_TIMESTAMP:
			append_timestamp(ic, out, v);
			break;
	}
}

/* text onto a COPY text line, escaped */
static void
append_escaped(StringInfo line, const char *s, int len)
{
	enlargeStringInfo(line, len);
	for (int i = 0; i < len; i++)
	{
		char		c = s[i];

		switch (c)
		{
			case '\\':
				appendBinaryStringInfo(line, "\\\\", 2);
				break;
			case '\n':
				appendBinaryStringInfo(line, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(line, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(line, "\\t", 2);
				break;
			default:
				appendStringInfoCharMacro(line, c);
		}
	}
}

/* an array element, quoted for array_in */
static void
append_quoted(StringInfo out, const char *s, int len)
{
	appendStringInfoChar(out, '"');
	for (int i = 0; i < len; i++)
	{
		if (s[i] == '"' || s[i] == '\\')
			appendStringInfoChar(out, '\\');
		appendStringInfoCharMacro(out, s[i]);
	}
	appendStringInfoChar(out, '"');
}

static int16
level(const int16 *levels, int64 at, int dflt)
{
	return levels ? levels[at] : dflt;
}

/* the field's value in the current row, onto the line */
static void
append_field(ImportState *st, ImportCol *ic)
{
	PqColData  *cd = ic->cd;
	PqLeaf	   *l = &ic->pf->leaf;
	int16		def;
	bool		first = true;

	if (cd->at_lev >= cd->nlev)
		obs_pq_bad_file("Column \"%s\" has fewer values than its row group has rows.", ic->pf->name);
	if (!ic->pf->is_list)
	{
		def = level(cd->defs, cd->at_lev++, l->max_def);
		if (def < l->max_def)
		{
			appendBinaryStringInfo(&st->line, "\\N", 2);
			return;
		}
		resetStringInfo(&st->val);
		append_value(ic, &st->val, &cd->vals[cd->at_val++]);
		append_escaped(&st->line, st->val.data, st->val.len);
		return;
	}

	if (cd->reps[cd->at_lev] != 0)
		obs_pq_bad_file("Column \"%s\" does not start a row where its row group does.", ic->pf->name);
	def = level(cd->defs, cd->at_lev, l->max_def);
	if (def < l->d_top)
	{
		cd->at_lev++;
		appendBinaryStringInfo(&st->line, "\\N", 2);
		return;
	}
	resetStringInfo(&st->arr);
	appendStringInfoChar(&st->arr, '{');
	if (def < l->d_rep)
		cd->at_lev++;			/* an empty list */
	else
	{
		while (cd->at_lev < cd->nlev && (first || cd->reps[cd->at_lev] != 0))
		{
			def = level(cd->defs, cd->at_lev, l->max_def);
			if (def < l->d_rep)
				obs_pq_bad_file("Column \"%s\" has an empty list inside a list.", ic->pf->name);
			if (!first)
				appendStringInfoChar(&st->arr, ic->delim);
			if (def < l->max_def)
				appendStringInfoString(&st->arr, "NULL");
			else
			{
				resetStringInfo(&st->val);
				append_value(ic, &st->val, &cd->vals[cd->at_val++]);
				append_quoted(&st->arr, st->val.data, st->val.len);
			}
			cd->at_lev++;
			first = false;
		}
	}
	appendStringInfoChar(&st->arr, '}');
	append_escaped(&st->line, st->arr.data, st->arr.len);
}

static void
import_error_context(void *arg)
{
	ImportState *st = (ImportState *) arg;

	if (st->cur_col)
		errcontext("Parquet file \"%s\", row %lld, column \"%s\"",
				   st->filename, (long long) st->row + 1, st->cur_col);
}

/* the next row as a COPY text line; false after the last */
static bool
produce_row(ImportState *st)
{
	ErrorContextCallback errcb;
	MemoryContext old;

	if (st->eof)
		return false;
	while (st->rg_row >= st->rg_rows)
	{
		for (int i = 0; i < st->ncols && st->rg_index > 0; i++)
		{
			PqColData  *cd = st->cols[i].cd;

			if (cd->at_lev != cd->nlev)
				obs_pq_bad_file("Column \"%s\" has more values than its row group has rows.",
								st->cols[i].pf->name);
		}
		/* the next row group replaces the last one's data */
		for (int i = 0; i < st->ncols; i++)
			st->cols[i].cd = NULL;
		if (!obs_pq_reader_next_row_group(st->reader, &st->rg_rows))
		{
			st->eof = true;
			return false;
		}
		st->rg_index++;
		st->rg_row = 0;
		for (int i = 0; i < st->ncols; i++)
			st->cols[i].cd = obs_pq_reader_column(st->reader, st->cols[i].field);
	}

	errcb.callback = import_error_context;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	old = MemoryContextSwitchTo(st->rowcxt);
	for (int i = 0; i < st->ncols; i++)
	{
		st->cur_col = st->cols[i].pf->name;
		if (i > 0)
			appendStringInfoChar(&st->line, '\t');
		append_field(st, &st->cols[i]);
	}
	appendStringInfoChar(&st->line, '\n');
	st->cur_col = NULL;
	MemoryContextSwitchTo(old);
	MemoryContextReset(st->rowcxt);
	error_context_stack = errcb.previous;
	st->rg_row++;
	st->row++;
	return true;
}

/* COPY's data source: text lines made from the Parquet rows */
static int
import_read_cb(void *outbuf, int minread, int maxread)
{
	ImportState *st = current_import;
	int			copied = 0;

	while (copied < maxread)
	{
		int			n;

		if (st->linepos >= st->line.len)
		{
			if (copied >= minread)
				break;
			resetStringInfo(&st->line);
			st->linepos = 0;
			while (st->line.len < 65536 && produce_row(st))
				CHECK_FOR_INTERRUPTS();
			if (st->line.len == 0)
				break;
		}
		n = Min(maxread - copied, st->line.len - st->linepos);
		memcpy((char *) outbuf + copied, st->line.data + st->linepos, n);
		copied += n;
		st->linepos += n;
	}
	return copied;
}

/* ---------------------------------------------------------------------
 * Sources
 * --------------------------------------------------------------------- */

static File
open_server_file(const char *filename)
{
	struct stat stbuf;
	File		f;

	f = PathNameOpenFile(filename, O_RDONLY | PG_BINARY);
	if (f < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open file \"%s\" for reading: %m", filename)));
	if (stat(filename, &stbuf) == 0 && S_ISDIR(stbuf.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is a directory", filename)));
	return f;
}

/* the client's COPY data, as a binary COPY, into a temporary file */
static File
receive_stdin(int natts)
{
	File		f = OpenTemporaryFile(false);
	StringInfoData buf;
	off_t		off = 0;

	pq_beginmessage(&buf, 'G');
	pq_sendbyte(&buf, 1);
	pq_sendint16(&buf, natts);
	for (int i = 0; i < natts; i++)
		pq_sendint16(&buf, 1);
	pq_endmessage(&buf);
	pq_flush();

	initStringInfo(&buf);
	for (;;)
	{
		int			mtype;
		int			maxmsglen;

		HOLD_CANCEL_INTERRUPTS();
		pq_startmsgread();
		mtype = pq_getbyte();
		if (mtype == EOF)
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		switch (mtype)
		{
			case 'd':
				maxmsglen = PQ_LARGE_MESSAGE_LIMIT;
				break;
			case 'c':
			case 'f':
			case 'H':
			case 'S':
				maxmsglen = PQ_SMALL_MESSAGE_LIMIT;
				break;
			default:
				ereport(ERROR,
						(errcode(ERRCODE_PROTOCOL_VIOLATION),
						 errmsg("unexpected message type 0x%02X during COPY from stdin", mtype)));
				maxmsglen = 0;	/* keep compiler quiet */
		}
		if (pq_getmessage(&buf, maxmsglen))
			ereport(ERROR,
					(errcode(ERRCODE_CONNECTION_FAILURE),
					 errmsg("unexpected EOF on client connection with an open transaction")));
		RESUME_CANCEL_INTERRUPTS();

		if (mtype == 'c')
			break;
		if (mtype == 'f')
			ereport(ERROR,
					(errcode(ERRCODE_QUERY_CANCELED),
					 errmsg("COPY from stdin failed: %s", pq_getmsgstring(&buf))));
		if (mtype == 'd')
		{
			int			done = 0;

			while (done < buf.len)
			{
				int			n = FileWrite(f, buf.data + done, buf.len - done, off,
										  WAIT_EVENT_COPY_FILE_WRITE);

				if (n <= 0)
				{
					if (n == 0)
						errno = ENOSPC;
					ereport(ERROR,
							(errcode_for_file_access(),
							 errmsg("could not write to temporary file: %m")));
				}
				done += n;
				off += n;
			}
		}
		CHECK_FOR_INTERRUPTS();
	}
	pfree(buf.data);
	return f;
}

/* ---------------------------------------------------------------------
 * COPY FROM
 * --------------------------------------------------------------------- */

static void
check_options(ParseState *pstate, List *options)
{
	ListCell   *lc;
	DefElem    *format = NULL;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "format") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("option \"%s\" not recognized", def->defname),
					 errhint("COPY FROM with FORMAT parquet takes no other options."),
					 parser_errposition(pstate, def->location)));
		if (format != NULL)
			errorConflictingDefElem(def, pstate);
		format = def;
		if (pg_strcasecmp(defGetString(def), "parquet") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("COPY format \"%s\" not recognized", defGetString(def)),
					 parser_errposition(pstate, def->location)));
	}
}

static int
find_field(PqReader *r, const char *name)
{
	int			found = -1;

	for (int i = 0; i < obs_pq_reader_nfields(r); i++)
	{
		PqField    *f = obs_pq_reader_field(r, i);
		char	   *local = pg_any_to_server(f->name, strlen(f->name), PG_UTF8);

		if (strcmp(local, name) == 0)
		{
			if (found >= 0)
				obs_pq_bad_file("The file has two columns named \"%s\".", name);
			found = i;
		}
	}
	return found;
}

static void
add_column(ImportState *st, Relation rel, int field, const char *attname, List **attnames)
{
	ImportCol  *ic = &st->cols[st->ncols++];
	AttrNumber	attnum = get_attnum(RelationGetRelid(rel), attname);
	Form_pg_attribute att;
	int32		typmod;
	Oid			base;
	Oid			elem;

	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						attname, RelationGetRelationName(rel))));
	att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	ic->field = field;
	ic->pf = obs_pq_reader_field(st->reader, field);
	ic->attname = pstrdup(attname);
	ic->atttype = att->atttypid;
	typmod = att->atttypmod;
	base = getBaseTypeAndTypmod(att->atttypid, &typmod);
	elem = get_element_type(base);
	ic->is_array = OidIsValid(elem) && get_typlen(base) == -1;
	ic->base = ic->is_array ? getBaseType(elem) : base;
	ic->target = target_kind(ic->base);
	ic->target_float8 = (ic->base == FLOAT8OID);
	ic->delim = ',';
	if (ic->is_array)
	{
		int16		typlen;
		bool		typbyval;
		char		typalign;
		Oid			typioparam;
		Oid			func;

		get_type_io_data(elem, IOFunc_input, &typlen, &typbyval, &typalign,
						 &ic->delim, &typioparam, &func);
	}

	if (ic->pf->unsupported)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("Parquet column \"%s\" is %s, which COPY FROM cannot load",
						ic->pf->name, ic->pf->unsupported)));
	if (ic->pf->is_list && !ic->is_array)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("Parquet column \"%s\" is a list, but column \"%s\" of type %s is not an array",
						ic->pf->name, attname, format_type_be(att->atttypid))));
	if (!ic->pf->is_list && ic->is_array)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("Parquet column \"%s\" is not a list, but column \"%s\" of type %s is an array",
						ic->pf->name, attname, format_type_be(att->atttypid))));
	choose_mode(ic);
	obs_pq_reader_select(st->reader, field, true);
	*attnames = lappend(*attnames, makeString(ic->attname));
}

/* match the file's columns to the table's; returns COPY's column list */
static List *
map_columns(ImportState *st, Relation rel, List *attlist)
{
	int			nfields = obs_pq_reader_nfields(st->reader);
	List	   *attnames = NIL;
	ListCell   *lc;
	AttrNumber	attnum;

	if (nfields == 0)
		obs_pq_bad_file("The file has no columns.");
	st->cols = palloc0(sizeof(ImportCol) * Max(nfields, list_length(attlist)) + 1);
	if (attlist == NIL)
	{
		for (int i = 0; i < nfields; i++)
		{
			PqField    *f = obs_pq_reader_field(st->reader, i);
			char	   *name = pg_any_to_server(f->name, strlen(f->name), PG_UTF8);

			if (find_field(st->reader, name) != i)
				obs_pq_bad_file("The file has two columns named \"%s\".", name);
			attnum = get_attnum(RelationGetRelid(rel), name);
			if (attnum <= 0)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("column \"%s\" of the Parquet file does not exist in relation \"%s\"",
								name, RelationGetRelationName(rel)),
						 errhint("Give COPY a column list to load only the columns the table has.")));
			/* a generated column's value is computed again, as on INSERT */
			if (TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attgenerated)
				continue;
			add_column(st, rel, i, name, &attnames);
		}
		if (attnames == NIL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("no column of the Parquet file can be loaded into relation \"%s\"",
							RelationGetRelationName(rel))));
		return attnames;
	}
	foreach(lc, attlist)
	{
		const char *name = strVal(lfirst(lc));
		int			field = find_field(st->reader, name);

		for (int j = 0; j < st->ncols; j++)
			if (strcmp(st->cols[j].attname, name) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" specified more than once", name)));
		if (field < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" is not in the Parquet file", name)));
		add_column(st, rel, field, name, &attnames);
	}
	return attnames;
}

/* the WHERE clause, prepared as DoCopy prepares it */
static Node *
where_clause(ParseState *pstate, ParseNamespaceItem *nsitem, Node *raw)
{
	Node	   *w;

	addNSItemToQuery(pstate, nsitem, false, true, true);
	w = transformExpr(pstate, raw, EXPR_KIND_COPY_WHERE);
	w = coerce_to_boolean(pstate, w, "WHERE");
	assign_expr_collations(pstate, w);
	w = eval_const_expressions(NULL, w);
	w = (Node *) canonicalize_qual((Expr *) w, false);
	return (Node *) make_ands_implicit((Expr *) w);
}

/* core COPY FROM, its data source being st */
static pg_noinline uint64
run_copy(ImportState *st, ParseState *pstate, Relation rel, Node *whereClause,
		 List *attnames, List *copy_options)
{
	ImportState *saved = current_import;
	CopyFromState cstate;
	uint64		processed = 0;

	current_import = st;
	PG_TRY();
	{
		cstate = BeginCopyFrom(pstate, rel, whereClause, NULL, false, import_read_cb,
							   attnames, copy_options);
		processed = CopyFrom(cstate);
		EndCopyFrom(cstate);
	}
	PG_FINALLY();
	{
		current_import = saved;
	}
	PG_END_TRY();
	return processed;
}

uint64
obs_pq_import(CopyStmt *stmt, const char *query_string)
{
	ParseState *pstate = make_parsestate(NULL);
	Relation	rel;
	ParseNamespaceItem *nsitem;
	RangeTblEntry *rte;
	Node	   *whereClause = NULL;
	List	   *attnums;
	ListCell   *cur;
	File		file;
	ImportState *st;
	List	   *attnames;
	uint64		processed;
	List	   *copy_options;

	pstate->p_sourcetext = query_string;

	if (stmt->is_program)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM PROGRAM is not supported with FORMAT parquet"),
				 errhint("Read from a file or from STDIN.")));
	if (stmt->filename != NULL &&
		!has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("must be superuser or have privileges of the pg_read_server_files role to COPY from a file"),
				 errhint("Anyone can COPY to stdout or from stdin. "
						 "psql's \\copy command also works for anyone.")));
	check_options(pstate, stmt->options);
	if (stmt->filename == NULL && whereToSendOutput != DestRemote)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM STDIN with FORMAT parquet needs a client connection")));

	/* the relation and its privileges, as DoCopy checks them */
	rel = table_openrv(stmt->relation, RowExclusiveLock);
	nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock, NULL, false, false);
	rte = nsitem->p_rte;
	rte->requiredPerms = ACL_INSERT;
	if (stmt->whereClause)
		whereClause = where_clause(pstate, nsitem, stmt->whereClause);
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist);
	foreach(cur, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(cur) - FirstLowInvalidHeapAttributeNumber);
	ExecCheckRTPerms(pstate->p_rtable, true);
	if (check_enable_rls(rte->relid, InvalidOid, false) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY FROM not supported with row-level security"),
				 errhint("Use INSERT statements instead.")));
	if (XactReadOnly && !rel->rd_islocaltemp)
		PreventCommandIfReadOnly("COPY FROM");

	if (stmt->filename)
		file = open_server_file(stmt->filename);
	else
		file = receive_stdin(list_length(attnums));

	st = palloc0(sizeof(ImportState));
	st->filename = stmt->filename ? stmt->filename : "STDIN";
	st->reader = obs_pq_reader_open(file, st->filename);
	attnames = map_columns(st, rel, stmt->attlist);
	st->rowcxt = AllocSetContextCreate(CurrentMemoryContext, "obs parquet import row",
									   ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&st->line);
	initStringInfo(&st->val);
	initStringInfo(&st->arr);

	/* text lines in the database's own encoding */
	copy_options = list_make1(makeDefElem("encoding",
										  (Node *) makeString((char *) GetDatabaseEncodingName()), -1));

	processed = run_copy(st, pstate, rel, whereClause, attnames, copy_options);

	FileClose(file);
	MemoryContextDelete(st->rowcxt);
	table_close(rel, NoLock);
	free_parsestate(pstate);
	return processed;
}
