/*-------------------------------------------------------------------------
 * reader.c
 *	  Parquet files: footer, schema and column chunks.
 *
 * obs_pq_reader_open() checks the magic bytes, reads and parses the
 * footer and turns the schema into top-level fields, each read through
 * one leaf column: a primitive, or a list of primitives (the standard
 * three-level LIST, the legacy two-level forms, or a repeated primitive).
 * Structs, maps and nested lists are listed too, marked unsupported, so
 * that the caller can say which field it cannot load.
 *
 * obs_pq_reader_next_row_group() reads the next row group's selected
 * column chunks whole: the chunk's bytes, each page decompressed, its
 * levels and its values decoded into arrays.  All of it lives in one
 * memory context, reset at the next row group, and is counted against
 * OBS_PQ_READ_MEM_LIMIT; every offset and size the footer or a page
 * header gives is checked against the file's size and the chunk's bytes.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "pgstat.h"
#include "port/pg_bitutils.h"
#include "utils/memutils.h"

#include "pq_read.h"

#define MAX_SCHEMA_DEPTH 16

struct PqReader
{
	File		file;
	const char *name;
	int64		size;
	PqFileMeta	fm;
	int			nleaves;
	int			nfields;
	PqField    *fields;
	bool	   *selected;
	PqColData **data;
	int			next_rg;
	MemoryContext rgcxt;
	PqReadBudget budget;
};

static void
read_at(PqReader *r, int64 offset, uint8 *buf, int64 len)
{
	while (len > 0)
	{
		int			want = (int) Min(len, (int64) (1 << 30));
		int			n = FileRead(r->file, (char *) buf, want, (off_t) offset,
								 WAIT_EVENT_COPY_FILE_READ);

		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read file \"%s\": %m", r->name)));
		if (n == 0)
			obs_pq_bad_file("The file ends at %lld bytes, before the data its footer describes.",
							(long long) offset);
		buf += n;
		offset += n;
		len -= n;
	}
}

/* the leaf's meaning from its logical or converted type */
static void
leaf_kind(const PqSchemaElem *e, PqLeaf *l)
{
	l->kind = PQL_NONE;
	l->unit = PQ_UNIT_MICROS;
	l->utc = true;
	l->int_bits = 0;
	l->int_signed = true;
	switch (e->logical)
	{
		case 1:
		case 4:
			l->kind = PQL_STRING;
			return;
		case 12:
			l->kind = PQL_JSON;
			return;
		case 5:
			l->kind = PQL_DECIMAL;
			l->scale = e->lt_scale;
			l->precision = e->lt_precision;
			return;
		case 6:
			l->kind = PQL_DATE;
			return;
		case 7:
		case 8:
			l->kind = e->logical == 7 ? PQL_TIME : PQL_TIMESTAMP;
			l->unit = e->lt_unit;
			l->utc = e->lt_utc;
			return;
		case 10:
			l->kind = PQL_INT;
			l->int_bits = e->lt_bits;
			l->int_signed = e->lt_signed;
			return;
		case 14:
			l->kind = PQL_UUID;
			return;
		case 11:
			return;
		case 0:
			break;
		default:
			l->kind = PQL_UNSUPPORTED;
			return;
	}
	switch (e->converted)
	{
		case -1:
			return;
		case 0:
		case 4:
			l->kind = PQL_STRING;
			return;
		case 19:
			l->kind = PQL_JSON;
			return;
		case 5:
			l->kind = PQL_DECIMAL;
			l->scale = e->scale;
			l->precision = e->precision;
			return;
		case 6:
			l->kind = PQL_DATE;
			return;
		case 7:
		case 8:
			l->kind = PQL_TIME;
			l->unit = e->converted == 7 ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
			return;
		case 9:
		case 10:
			l->kind = PQL_TIMESTAMP;
			l->unit = e->converted == 9 ? PQ_UNIT_MILLIS : PQ_UNIT_MICROS;
			return;
		case 11:
		case 12:
		case 13:
		case 14:
			l->kind = PQL_INT;
			l->int_bits = 8 << (e->converted - 11);
			l->int_signed = false;
			return;
		case 15:
		case 16:
		case 17:
		case 18:
			l->kind = PQL_INT;
			l->int_bits = 8 << (e->converted - 15);
			return;
		default:
			l->kind = PQL_UNSUPPORTED;
			return;
	}
}

/*
 * One subtree of the schema from element pos: counts its leaves, and
 * describes the first one in f->leaf.  Returns the element after it.
 */
static int
walk_schema(PqReader *r, int pos, int depth, int def, int rep, PqField *f, int *nleaves)
{
	PqSchemaElem *e;

	if (pos >= r->fm.nschema)
		obs_pq_bad_file("The file's schema has fewer elements than its groups declare.");
	if (depth > MAX_SCHEMA_DEPTH)
		obs_pq_bad_file("The file's schema nests more than %d levels deep.", MAX_SCHEMA_DEPTH);
	e = &r->fm.schema[pos++];
	if (e->repetition == PQ_OPTIONAL)
		def++;
	else if (e->repetition == PQ_REPEATED)
	{
		def++;
		rep++;
		if (rep == 1)
			f->leaf.d_rep = def;
	}
	else if (e->repetition != PQ_REQUIRED)
		obs_pq_bad_file("Schema element \"%s\" has no valid repetition.", e->name);
	if (depth == 1)
		f->leaf.d_top = (e->repetition == PQ_OPTIONAL) ? 1 : 0;
	if (e->logical == 2 || e->converted == 1 || e->converted == 2)
		f->unsupported = "a map";

	if (e->num_children > 0 || e->type < 0)
	{
		if (e->num_children <= 0)
			obs_pq_bad_file("Schema group \"%s\" has no children.", e->name);
		if (e->num_children > r->fm.nschema - pos)
			obs_pq_bad_file("Schema group \"%s\" has more children than the schema has elements.", e->name);
		if (depth == 1 && !(e->logical == 3 || e->converted == 3 || e->repetition == PQ_REPEATED))
			f->unsupported = "a struct";
		for (int c = e->num_children; c > 0; c--)
			pos = walk_schema(r, pos, depth + 1, def, rep, f, nleaves);
		return pos;
	}

	if (e->type < 0 || e->type > 7)
		obs_pq_bad_file("Schema element \"%s\" has the unknown physical type %d.", e->name, e->type);
	if (e->type == 7 && e->type_length <= 0)
		obs_pq_bad_file("FIXED_LEN_BYTE_ARRAY column \"%s\" has length %d.", e->name, e->type_length);
	if (*nleaves == 0)
	{
		PqLeaf	   *l = &f->leaf;

		l->column = r->nleaves;
		l->schema_index = pos - 1;
		l->physical = e->type;
		l->type_length = e->type_length;
		l->max_def = def;
		l->max_rep = rep;
		leaf_kind(e, l);
	}
	(*nleaves)++;
	r->nleaves++;
	return pos;
}

static void
build_fields(PqReader *r)
{
	PqSchemaElem *root = &r->fm.schema[0];
	int			pos = 1;

	if (root->num_children < 0 || root->num_children > r->fm.nschema - 1)
		obs_pq_bad_file("The file's schema root has %d children in a schema of %d elements.",
						root->num_children, r->fm.nschema);
	r->nfields = root->num_children;
	r->fields = palloc0(sizeof(PqField) * Max(r->nfields, 1));
	for (int i = 0; i < r->nfields; i++)
	{
		PqField    *f = &r->fields[i];
		int			nleaves = 0;

		f->name = r->fm.schema[pos].name;
		pos = walk_schema(r, pos, 1, 0, 0, f, &nleaves);
		if (f->unsupported == NULL)
		{
			if (nleaves != 1)
				f->unsupported = "a struct";
			else if (f->leaf.max_rep > 1)
				f->unsupported = "a nested list";
			else if (f->leaf.kind == PQL_UNSUPPORTED)
				f->unsupported = "a logical type obs does not read";
		}
		f->is_list = (f->leaf.max_rep == 1);
		if (f->leaf.max_def > 32000)
			obs_pq_bad_file("The file's schema nests too deeply.");
	}
	if (pos != r->fm.nschema)
		obs_pq_bad_file("The file's schema has %d elements, but its groups hold %d.",
						r->fm.nschema, pos);
}

PqReader *
obs_pq_reader_open(File file, const char *name)
{
	PqReader   *r = palloc0(sizeof(PqReader));
	uint8		head[4];
	uint8		tail[8];
	uint32		flen;
	uint8	   *footer;

	r->file = file;
	r->name = name;
	r->size = (int64) FileSize(file);
	if (r->size < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not determine the size of file \"%s\": %m", name)));
	if (r->size < 12)
		obs_pq_bad_file("The file has %lld bytes, too few for a Parquet file.", (long long) r->size);
	read_at(r, 0, head, 4);
	read_at(r, r->size - 8, tail, 8);
	if (memcmp(tail + 4, "PARE", 4) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("encrypted Parquet files are not supported")));
	if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
		obs_pq_bad_file("The file does not start and end with the Parquet magic bytes \"PAR1\".");
	memcpy(&flen, tail, 4);
	if ((int64) flen > r->size - 12)
		obs_pq_bad_file("The footer's length of %u bytes exceeds the file's %lld bytes.",
						flen, (long long) r->size);
	if ((int64) flen > OBS_PQ_READ_MEM_LIMIT)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Parquet footer of %u bytes is too large", flen)));
	footer = MemoryContextAllocHuge(CurrentMemoryContext, Max(flen, 1));
	read_at(r, r->size - 8 - flen, footer, flen);
	obs_pq_parse_footer(footer, flen, &r->fm);
	pfree(footer);

	build_fields(r);
	for (int g = 0; g < r->fm.nrg; g++)
		if (r->fm.rgs[g].ncols != r->nleaves)
			obs_pq_bad_file("Row group %d has %d columns, but the schema has %d.",
							g, r->fm.rgs[g].ncols, r->nleaves);
	r->selected = palloc0(sizeof(bool) * Max(r->nfields, 1));
	r->data = palloc0(sizeof(PqColData *) * Max(r->nfields, 1));
	r->rgcxt = AllocSetContextCreate(CurrentMemoryContext, "obs parquet read row group",
									 ALLOCSET_DEFAULT_SIZES);
	r->budget.cxt = r->rgcxt;
	r->budget.limit = OBS_PQ_READ_MEM_LIMIT;
	return r;
}

int
obs_pq_reader_nfields(PqReader *r)
{
	return r->nfields;
}

PqField *
obs_pq_reader_field(PqReader *r, int i)
{
	return &r->fields[i];
}

void
obs_pq_reader_select(PqReader *r, int field, bool wanted)
{
	r->selected[field] = wanted;
}

PqColData *
obs_pq_reader_column(PqReader *r, int field)
{
	return r->data[field];
}

/* a page's body, decompressed when the chunk's codec says so */
static const uint8 *
page_body(PqReader *r, int codec, const uint8 *src, int32 clen, int32 ulen)
{
	uint8	   *dst;

	if (codec == 0)
	{
		if (clen != ulen)
			obs_pq_bad_file("An uncompressed page declares %d bytes but stores %d.", ulen, clen);
		return src;
	}
	dst = obs_pq_read_alloc(&r->budget, (size_t) ulen);
	obs_pq_decompress(codec, src, (size_t) clen, dst, (size_t) ulen);
	return dst;
}

/* levels of a v1 page: a 4-byte length, then the RLE hybrid; returns bytes used */
static size_t
levels_v1(const uint8 *p, size_t len, int maxlevel, int64 n, int16 *out)
{
	uint32		l;

	if (len < 4)
		obs_pq_bad_file("A data page ends before its levels.");
	memcpy(&l, p, 4);
	if (l > len - 4)
		obs_pq_bad_file("A data page's levels run past its end.");
	obs_pq_rle_decode(p + 4, l, pg_leftmost_one_pos32((uint32) maxlevel) + 1, n,
					  (uint32) maxlevel, out, NULL);
	return 4 + (size_t) l;
}

static int64
count_present(const int16 *defs, int64 n, int max_def)
{
	int64		c = 0;

	if (defs == NULL)
		return n;
	for (int64 i = 0; i < n; i++)
		c += (defs[i] == max_def);
	return c;
}

static PqColData *
read_chunk(PqReader *r, PqRowGroup *rg, PqField *f)
{
	PqLeaf	   *leaf = &f->leaf;
	PqColMeta  *m = &rg->cols[leaf->column];
	PqColData  *cd;
	int64		start;
	int64		len;
	uint8	   *buf;
	size_t		pos = 0;
	PqVal	   *dict = NULL;
	int64		ndict = 0;
	int64		total;

	if (!m->has_meta)
		obs_pq_bad_file("Column \"%s\" has no metadata in a row group.", f->name);
	if (m->external)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("Parquet column chunks in other files are not supported")));
	if (m->type != leaf->physical)
		obs_pq_bad_file("Column \"%s\" has physical type %d in a row group but %d in the schema.",
						f->name, m->type, leaf->physical);
	start = m->data_page_offset;
	if (m->dict_page_offset > 0 && m->dict_page_offset < start)
		start = m->dict_page_offset;
	len = m->total_compressed;
	total = m->num_values;
	if (start < 4 || start > r->size || len < 0 || len > r->size - start)
		obs_pq_bad_file("Column \"%s\" has a chunk of %lld bytes at offset %lld, outside the file's %lld bytes.",
						f->name, (long long) len, (long long) start, (long long) r->size);
	if (total < 0)
		obs_pq_bad_file("Column \"%s\" has a negative value count.", f->name);

	buf = obs_pq_read_alloc(&r->budget, (size_t) len);
	read_at(r, start, buf, len);

	cd = obs_pq_read_alloc(&r->budget, sizeof(PqColData));
	memset(cd, 0, sizeof(*cd));
	if (leaf->max_def > 0)
		cd->defs = obs_pq_read_alloc_array(&r->budget, total, sizeof(int16));
	if (leaf->max_rep > 0)
		cd->reps = obs_pq_read_alloc_array(&r->budget, total, sizeof(int16));
	cd->vals = obs_pq_read_alloc_array(&r->budget, total, sizeof(PqVal));

	while (cd->nlev < total)
	{
		PqPageHeader ph;
		const uint8 *page;
		int64		n;

		CHECK_FOR_INTERRUPTS();
		if (pos >= (size_t) len)
			obs_pq_bad_file("The chunk of column \"%s\" ends after %lld of its %lld values.",
							f->name, (long long) cd->nlev, (long long) total);
		pos += obs_pq_parse_page_header(buf + pos, len - pos, &ph);
		if ((int64) ph.compressed > len - (int64) pos)
			obs_pq_bad_file("A page of column \"%s\" runs past the end of its chunk.", f->name);
		page = buf + pos;
		pos += ph.compressed;
		n = ph.num_values;

		if (ph.type == PQ_PAGE_DICTIONARY)
		{
			const uint8 *body;

			if (dict != NULL)
				obs_pq_bad_file("The chunk of column \"%s\" has two dictionary pages.", f->name);
			if (ph.encoding != PQ_ENC_PLAIN && ph.encoding != PQ_ENC_PLAIN_DICTIONARY)
				obs_pq_bad_file("The dictionary of column \"%s\" has encoding %d.", f->name, ph.encoding);
			if (n > (int64) ph.uncompressed * 8)
				obs_pq_bad_file("The dictionary of column \"%s\" holds fewer values than it declares.", f->name);
			body = page_body(r, m->codec, page, ph.compressed, ph.uncompressed);
			dict = obs_pq_read_alloc_array(&r->budget, Max(n, 1), sizeof(PqVal));
			obs_pq_decode_values(&r->budget, leaf->physical, leaf->type_length, PQ_ENC_PLAIN,
								 body, ph.uncompressed, n, NULL, 0, dict);
			ndict = n;
		}
		else if (ph.type == PQ_PAGE_DATA || ph.type == PQ_PAGE_DATA_V2)
		{
			const uint8 *vals;
			size_t		vlen;
			int64		present;

			if (!ph.has_data)
				obs_pq_bad_file("A data page of column \"%s\" has no data page header.", f->name);
			if (n > total - cd->nlev)
				obs_pq_bad_file("The pages of column \"%s\" hold more values than its chunk declares.", f->name);
			if (ph.type == PQ_PAGE_DATA)
			{
				const uint8 *body = page_body(r, m->codec, page, ph.compressed, ph.uncompressed);
				size_t		bpos = 0;

				if (leaf->max_rep > 0)
					bpos += levels_v1(body, ph.uncompressed, leaf->max_rep, n, cd->reps + cd->nlev);
				if (leaf->max_def > 0)
					bpos += levels_v1(body + bpos, ph.uncompressed - bpos, leaf->max_def, n,
									  cd->defs + cd->nlev);
				vals = body + bpos;
				vlen = ph.uncompressed - bpos;
			}
			else
			{
				int64		lv = (int64) ph.rep_len + ph.def_len;
				int			bw;

				if (lv > ph.compressed || lv > ph.uncompressed)
					obs_pq_bad_file("The levels of a page of column \"%s\" are longer than the page.", f->name);
				if (leaf->max_rep > 0)
				{
					bw = pg_leftmost_one_pos32((uint32) leaf->max_rep) + 1;
					obs_pq_rle_decode(page, ph.rep_len, bw, n, leaf->max_rep, cd->reps + cd->nlev, NULL);
				}
				if (leaf->max_def > 0)
				{
					bw = pg_leftmost_one_pos32((uint32) leaf->max_def) + 1;
					obs_pq_rle_decode(page + ph.rep_len, ph.def_len, bw, n, leaf->max_def,
									  cd->defs + cd->nlev, NULL);
				}
				if (ph.is_compressed)
					vals = page_body(r, m->codec, page + lv, ph.compressed - (int32) lv,
									 ph.uncompressed - (int32) lv);
				else
				{
					if (ph.compressed != ph.uncompressed)
						obs_pq_bad_file("An uncompressed page of column \"%s\" declares two sizes.", f->name);
					vals = page + lv;
				}
				vlen = ph.uncompressed - lv;
			}
			if (leaf->max_rep > 0 && n > 0 && cd->nlev == 0 && cd->reps[0] != 0)
				obs_pq_bad_file("The chunk of column \"%s\" does not start a row.", f->name);
			present = count_present(cd->defs ? cd->defs + cd->nlev : NULL, n, leaf->max_def);
			obs_pq_decode_values(&r->budget, leaf->physical, leaf->type_length, ph.encoding,
								 vals, vlen, present, dict, ndict, cd->vals + cd->nvals);
			cd->nvals += present;
			cd->nlev += n;
		}
		/* index pages and pages of unknown types are skipped */
	}
	return cd;
}

bool
obs_pq_reader_next_row_group(PqReader *r, int64 *nrows)
{
	PqRowGroup *rg;

	MemoryContextReset(r->rgcxt);
	r->budget.used = 0;
	memset(r->data, 0, sizeof(PqColData *) * Max(r->nfields, 1));
	if (r->next_rg >= r->fm.nrg)
		return false;
	rg = &r->fm.rgs[r->next_rg++];
	for (int i = 0; i < r->nfields; i++)
		if (r->selected[i])
			r->data[i] = read_chunk(r, rg, &r->fields[i]);
	*nrows = rg->num_rows;
	return true;
}
