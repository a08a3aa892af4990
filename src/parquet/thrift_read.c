/*-------------------------------------------------------------------------
 * thrift_read.c
 *	  Thrift compact protocol decoder for the Parquet footer and page
 *	  headers.
 *
 * Only the fields the reader uses are kept; every other field, known or
 * not, is skipped by its wire type.  Every read is checked against the
 * end of the buffer, nesting is capped, and a list's element count is
 * checked against the bytes left (an element takes at least one byte)
 * before anything is allocated for it, so a hostile footer can neither
 * read outside its buffer nor make the reader allocate more than a small
 * multiple of its own size.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pq_internal.h"
#include "pq_read.h"

#define TR_MAX_DEPTH	32
#define TC_DOUBLE		7
#define TC_SET			10
#define TC_MAP			11

typedef struct TRead
{
	const uint8 *p;
	const uint8 *end;
	int			depth;
} TRead;

void
obs_pq_bad_file(const char *fmt,...)
{
	char		buf[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
			 errmsg("invalid Parquet file"),
			 errdetail("%s", buf)));
}

static uint8
tr_byte(TRead *t)
{
	if (t->p >= t->end)
		obs_pq_bad_file("The file's metadata ends in the middle of a value.");
	return *t->p++;
}

static uint64
tr_varint(TRead *t)
{
	uint64		v = 0;

	for (int shift = 0; shift < 70; shift += 7)
	{
		uint8		b = tr_byte(t);

		v |= (uint64) (b & 0x7f) << shift;
		if ((b & 0x80) == 0)
			return v;
	}
	obs_pq_bad_file("The file's metadata has a varint longer than 10 bytes.");
}

static int64
tr_zigzag(TRead *t)
{
	uint64		v = tr_varint(t);

	return (int64) (v >> 1) ^ -(int64) (v & 1);
}

static int32
tr_i32(TRead *t, int type)
{
	int64		v;

	if (type != TC_I32 && type != TC_I16 && type != TC_I8)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where an integer belongs.", type);
	if (type == TC_I8)
		return (int8) tr_byte(t);
	v = tr_zigzag(t);
	if (v < PG_INT32_MIN || v > PG_INT32_MAX)
		obs_pq_bad_file("The file's metadata has a 32-bit integer out of range.");
	return (int32) v;
}

static int64
tr_i64(TRead *t, int type)
{
	if (type == TC_I8)
		return (int8) tr_byte(t);
	if (type != TC_I64 && type != TC_I32 && type != TC_I16)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where an integer belongs.", type);
	return tr_zigzag(t);
}

static void
tr_binary(TRead *t, int type, const uint8 **data, size_t *len)
{
	uint64		n;

	if (type != TC_BINARY)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where a string belongs.", type);
	n = tr_varint(t);
	if (n > (uint64) (t->end - t->p))
		obs_pq_bad_file("The file's metadata has a string longer than the metadata.");
	*data = t->p;
	*len = (size_t) n;
	t->p += n;
}

static char *
tr_string(TRead *t, int type)
{
	const uint8 *d;
	size_t		n;

	tr_binary(t, type, &d, &n);
	return pnstrdup((const char *) d, n);
}

/* a list header: element type and count, the count checked against the bytes left */
static int
tr_list(TRead *t, int type, int *elemtype)
{
	uint8		b;
	uint64		n;

	if (type != TC_LIST && type != TC_SET)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where a list belongs.", type);
	b = tr_byte(t);
	n = b >> 4;
	if (n == 15)
		n = tr_varint(t);
	*elemtype = b & 0x0f;
	if (n > (uint64) (t->end - t->p) || n > PG_INT32_MAX / 64)
		obs_pq_bad_file("The file's metadata has a list of %llu elements in %zu bytes.",
						(unsigned long long) n, (size_t) (t->end - t->p));
	return (int) n;
}

static void tr_skip(TRead *t, int type);

static void
tr_enter(TRead *t)
{
	if (++t->depth > TR_MAX_DEPTH)
		obs_pq_bad_file("The file's metadata nests more than %d levels deep.", TR_MAX_DEPTH);
}

/* next field of a struct: false at its stop byte */
static bool
tr_field(TRead *t, int16 *last, int16 *fid, int *type)
{
	uint8		b = tr_byte(t);
	int			delta;

	if (b == 0)
		return false;
	*type = b & 0x0f;
	delta = b >> 4;
	if (delta != 0)
		*fid = *last + delta;
	else
	{
		int64		v = tr_zigzag(t);

		if (v < PG_INT16_MIN || v > PG_INT16_MAX)
			obs_pq_bad_file("The file's metadata has a field id out of range.");
		*fid = (int16) v;
	}
	*last = *fid;
	return true;
}

static void
tr_skip_struct(TRead *t)
{
	int16		last = 0,
				fid;
	int			type;

	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
		tr_skip(t, type);
	t->depth--;
}

/* skip a value of wire type type (in a field: booleans have no payload) */
static void
tr_skip(TRead *t, int type)
{
	switch (type)
	{
		case TC_BOOL_TRUE:
		case TC_BOOL_FALSE:
			break;
		case TC_I8:
			tr_byte(t);
			break;
		case TC_I16:
		case TC_I32:
		case TC_I64:
			tr_varint(t);
			break;
		case TC_DOUBLE:
			if (t->end - t->p < 8)
				obs_pq_bad_file("The file's metadata ends in the middle of a value.");
			t->p += 8;
			break;
		case TC_BINARY:
			{
				const uint8 *d;
				size_t		n;

				tr_binary(t, type, &d, &n);
				break;
			}
		case TC_LIST:
		case TC_SET:
			{
				int			et;
				int			n = tr_list(t, type, &et);

				tr_enter(t);
				for (int i = 0; i < n; i++)
				{
					if (et == TC_BOOL_TRUE || et == TC_BOOL_FALSE)
						tr_byte(t);
					else
						tr_skip(t, et);
				}
				t->depth--;
				break;
			}
		case TC_MAP:
			{
				uint64		n = tr_varint(t);
				uint8		kv;

				if (n == 0)
					break;
				if (n > (uint64) (t->end - t->p))
					obs_pq_bad_file("The file's metadata has a map larger than the metadata.");
				kv = tr_byte(t);
				tr_enter(t);
				for (uint64 i = 0; i < n; i++)
				{
					tr_skip(t, kv >> 4);
					tr_skip(t, kv & 0x0f);
				}
				t->depth--;
				break;
			}
		case TC_STRUCT:
			tr_skip_struct(t);
			break;
		default:
			obs_pq_bad_file("The file's metadata has an unknown wire type %d.", type);
	}
}

static bool
tr_bool(int type)
{
	if (type != TC_BOOL_TRUE && type != TC_BOOL_FALSE)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where a boolean belongs.", type);
	return type == TC_BOOL_TRUE;
}

static void
tr_expect_struct(int type)
{
	if (type != TC_STRUCT)
		obs_pq_bad_file("The file's metadata has a field of wire type %d where a struct belongs.", type);
}

/* TimeUnit union: the id of its member */
static int
parse_time_unit(TRead *t)
{
	int16		last = 0,
				fid;
	int			type;
	int			unit = 0;

	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
	{
		if (type == TC_STRUCT && fid >= 1 && fid <= 3)
			unit = fid;
		tr_skip(t, type);
	}
	t->depth--;
	return unit;
}

static void
parse_logical(TRead *t, PqSchemaElem *e)
{
	int16		last = 0,
				fid;
	int			type;

	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
	{
		int16		l2 = 0,
					f2;
		int			t2;

		if (type != TC_STRUCT)
		{
			tr_skip(t, type);
			continue;
		}
		e->logical = fid;
		switch (fid)
		{
			case 5:				/* DECIMAL */
			case 7:				/* TIME */
			case 8:				/* TIMESTAMP */
			case 10:			/* INTEGER */
				tr_enter(t);
				while (tr_field(t, &l2, &f2, &t2))
				{
					if (fid == 5 && f2 == 1)
						e->lt_scale = tr_i32(t, t2);
					else if (fid == 5 && f2 == 2)
						e->lt_precision = tr_i32(t, t2);
					else if ((fid == 7 || fid == 8) && f2 == 1)
						e->lt_utc = tr_bool(t2);
					else if ((fid == 7 || fid == 8) && f2 == 2)
					{
						tr_expect_struct(t2);
						e->lt_unit = parse_time_unit(t);
					}
					else if (fid == 10 && f2 == 1)
						e->lt_bits = tr_i32(t, t2);
					else if (fid == 10 && f2 == 2)
						e->lt_signed = tr_bool(t2);
					else
						tr_skip(t, t2);
				}
				t->depth--;
				break;
			default:
				tr_skip_struct(t);
				break;
		}
	}
	t->depth--;
}

static void
parse_schema_elem(TRead *t, PqSchemaElem *e)
{
	int16		last = 0,
				fid;
	int			type;

	memset(e, 0, sizeof(*e));
	e->type = -1;
	e->repetition = -1;
	e->converted = -1;
	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
	{
		switch (fid)
		{
			case 1:
				e->type = tr_i32(t, type);
				break;
			case 2:
				e->type_length = tr_i32(t, type);
				break;
			case 3:
				e->repetition = tr_i32(t, type);
				break;
			case 4:
				e->name = tr_string(t, type);
				break;
			case 5:
				e->num_children = tr_i32(t, type);
				break;
			case 6:
				e->converted = tr_i32(t, type);
				break;
			case 7:
				e->scale = tr_i32(t, type);
				break;
			case 8:
				e->precision = tr_i32(t, type);
				break;
			case 10:
				tr_expect_struct(type);
				parse_logical(t, e);
				break;
			default:
				tr_skip(t, type);
		}
	}
	t->depth--;
	if (e->name == NULL)
		e->name = pstrdup("");
}

static void
parse_column_meta(TRead *t, PqColMeta *m)
{
	int16		last = 0,
				fid;
	int			type;

	tr_enter(t);
	m->has_meta = true;
	while (tr_field(t, &last, &fid, &type))
	{
		switch (fid)
		{
			case 1:
				m->type = tr_i32(t, type);
				break;
			case 4:
				m->codec = tr_i32(t, type);
				break;
			case 5:
				m->num_values = tr_i64(t, type);
				break;
			case 6:
				m->total_uncompressed = tr_i64(t, type);
				break;
			case 7:
				m->total_compressed = tr_i64(t, type);
				break;
			case 9:
				m->data_page_offset = tr_i64(t, type);
				break;
			case 11:
				m->dict_page_offset = tr_i64(t, type);
				break;
			default:
				tr_skip(t, type);
		}
	}
	t->depth--;
}

static void
parse_column_chunk(TRead *t, PqColMeta *m)
{
	int16		last = 0,
				fid;
	int			type;

	memset(m, 0, sizeof(*m));
	m->dict_page_offset = -1;
	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
	{
		if (fid == 1 && type == TC_BINARY)
		{
			m->external = true;
			tr_skip(t, type);
		}
		else if (fid == 3)
		{
			tr_expect_struct(type);
			parse_column_meta(t, m);
		}
		else
			tr_skip(t, type);
	}
	t->depth--;
}

static void
parse_row_group(TRead *t, PqRowGroup *rg)
{
	int16		last = 0,
				fid;
	int			type;
	bool		have_cols = false;

	memset(rg, 0, sizeof(*rg));
	rg->num_rows = -1;
	tr_enter(t);
	while (tr_field(t, &last, &fid, &type))
	{
		if (fid == 1 && !have_cols)
		{
			int			et;

			rg->ncols = tr_list(t, type, &et);
			if (et != TC_STRUCT && rg->ncols > 0)
				obs_pq_bad_file("The file's row group lists its columns with wire type %d.", et);
			rg->cols = palloc0(sizeof(PqColMeta) * Max(rg->ncols, 1));
			for (int i = 0; i < rg->ncols; i++)
				parse_column_chunk(t, &rg->cols[i]);
			have_cols = true;
		}
		else if (fid == 3)
			rg->num_rows = tr_i64(t, type);
		else
			tr_skip(t, type);
	}
	t->depth--;
	if (rg->num_rows < 0)
		obs_pq_bad_file("A row group of the file has no row count.");
}

void
obs_pq_parse_footer(const uint8 *buf, size_t len, PqFileMeta *fm)
{
	TRead		t = {buf, buf + len, 0};
	int16		last = 0,
				fid;
	int			type;
	bool		have_schema = false,
				have_rgs = false;

	memset(fm, 0, sizeof(*fm));
	fm->num_rows = -1;
	tr_enter(&t);
	while (tr_field(&t, &last, &fid, &type))
	{
		int			et;

		switch (fid)
		{
			case 2:
				if (have_schema)
					obs_pq_bad_file("The file's metadata has two schemas.");
				fm->nschema = tr_list(&t, type, &et);
				if (et != TC_STRUCT && fm->nschema > 0)
					obs_pq_bad_file("The file's schema has elements of wire type %d.", et);
				fm->schema = palloc0(sizeof(PqSchemaElem) * Max(fm->nschema, 1));
				for (int i = 0; i < fm->nschema; i++)
					parse_schema_elem(&t, &fm->schema[i]);
				have_schema = true;
				break;
			case 3:
				fm->num_rows = tr_i64(&t, type);
				break;
			case 4:
				if (have_rgs)
					obs_pq_bad_file("The file's metadata has two lists of row groups.");
				fm->nrg = tr_list(&t, type, &et);
				if (et != TC_STRUCT && fm->nrg > 0)
					obs_pq_bad_file("The file's row groups have wire type %d.", et);
				fm->rgs = palloc0(sizeof(PqRowGroup) * Max(fm->nrg, 1));
				for (int i = 0; i < fm->nrg; i++)
					parse_row_group(&t, &fm->rgs[i]);
				have_rgs = true;
				break;
			case 6:
				fm->created_by = tr_string(&t, type);
				break;
			default:
				tr_skip(&t, type);
		}
	}
	if (!have_schema || fm->nschema < 1)
		obs_pq_bad_file("The file's metadata has no schema.");
}

size_t
obs_pq_parse_page_header(const uint8 *buf, size_t len, PqPageHeader *ph)
{
	TRead		t = {buf, buf + len, 0};
	int16		last = 0,
				fid;
	int			type;
	bool		have_type = false,
				have_usize = false,
				have_csize = false;

	memset(ph, 0, sizeof(*ph));
	ph->is_compressed = true;
	tr_enter(&t);
	while (tr_field(&t, &last, &fid, &type))
	{
		int16		l2 = 0,
					f2;
		int			t2;

		switch (fid)
		{
			case 1:
				ph->type = tr_i32(&t, type);
				have_type = true;
				break;
			case 2:
				ph->uncompressed = tr_i32(&t, type);
				have_usize = true;
				break;
			case 3:
				ph->compressed = tr_i32(&t, type);
				have_csize = true;
				break;
			case 5:				/* DataPageHeader */
			case 7:				/* DictionaryPageHeader */
			case 8:				/* DataPageHeaderV2 */
				tr_expect_struct(type);
				ph->has_data = true;
				tr_enter(&t);
				while (tr_field(&t, &l2, &f2, &t2))
				{
					if (f2 == 1)
						ph->num_values = tr_i32(&t, t2);
					else if (f2 == 2 && fid != 8)
						ph->encoding = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 2)
						ph->num_nulls = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 3)
						ph->num_rows = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 4)
						ph->encoding = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 5)
						ph->def_len = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 6)
						ph->rep_len = tr_i32(&t, t2);
					else if (fid == 8 && f2 == 7)
						ph->is_compressed = tr_bool(t2);
					else
						tr_skip(&t, t2);
				}
				t.depth--;
				break;
			default:
				tr_skip(&t, type);
		}
	}
	if (!have_type || !have_usize || !have_csize)
		obs_pq_bad_file("A page header of the file lacks its type or sizes.");
	if (ph->uncompressed < 0 || ph->compressed < 0 || ph->num_values < 0 ||
		ph->def_len < 0 || ph->rep_len < 0)
		obs_pq_bad_file("A page header of the file has a negative size or count.");
	return (size_t) (t.p - buf);
}
