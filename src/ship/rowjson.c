/*-------------------------------------------------------------------------
 * rowjson.c
 *	  obs._ship_row_json(record): a row as JSON, byte for byte what
 *	  row_to_json() gives, for the rows the ship worker reads.
 *
 * row_to_json() works out how each column becomes JSON (its type's
 * category, output function, a cast to json) for every row it converts:
 * catalog lookups that took a third of its time in the ship worker, which
 * converts every row of every batch.  This function does the same per
 * column once per row type (kept in fn_extra for the query's life) and
 * then only converts values.  The categories and their output are those
 * of json.c (json_categorize_type(), datum_to_json(), composite_to_json()
 * without pretty printing); arrays and nested rows are handed to
 * array_to_json() and row_to_json().  The shipping regression test
 * compares it with row_to_json() on every type obs's tables use and more.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "common/jsonapi.h"
#include "fmgr.h"
#include "parser/parse_coerce.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

PG_FUNCTION_INFO_V1(obs_ship_row_json);

typedef enum RowJsonCategory
{
	RJ_NULL_NEVER_USED,
	RJ_BOOL,
	RJ_NUMERIC,
	RJ_DATE,
	RJ_TIMESTAMP,
	RJ_TIMESTAMPTZ,
	RJ_JSON,					/* json, jsonb: their text as is */
	RJ_ARRAY,
	RJ_COMPOSITE,
	RJ_CAST,					/* a cast to json */
	RJ_OTHER					/* the output text as a JSON string */
} RowJsonCategory;

typedef struct RowJsonColumn
{
	bool		skip;			/* a dropped column */
	RowJsonCategory cat;
	Oid			typid;			/* the base type */
	FmgrInfo	func;			/* output function, or the cast (RJ_CAST) */
} RowJsonColumn;

typedef struct RowJsonCache
{
	Oid			tuptype;
	int32		tuptypmod;
	TupleDesc	tupdesc;
	Datum	   *values;
	bool	   *nulls;
	RowJsonColumn cols[FLEXIBLE_ARRAY_MEMBER];
} RowJsonCache;

/* json.c's json_categorize_type(), once per column */
static void
categorize(Oid typoid, RowJsonColumn *col, MemoryContext cxt)
{
	Oid			funcoid = InvalidOid;
	bool		varlena;

	typoid = getBaseType(typoid);
	col->typid = typoid;
	switch (typoid)
	{
		case BOOLOID:
			col->cat = RJ_BOOL;
			break;
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case FLOAT4OID:
		case FLOAT8OID:
		case NUMERICOID:
			getTypeOutputInfo(typoid, &funcoid, &varlena);
			col->cat = RJ_NUMERIC;
			break;
		case DATEOID:
			col->cat = RJ_DATE;
			break;
		case TIMESTAMPOID:
			col->cat = RJ_TIMESTAMP;
			break;
		case TIMESTAMPTZOID:
			col->cat = RJ_TIMESTAMPTZ;
			break;
		case JSONOID:
		case JSONBOID:
			getTypeOutputInfo(typoid, &funcoid, &varlena);
			col->cat = RJ_JSON;
			break;
		default:
			if (OidIsValid(get_element_type(typoid)) || typoid == ANYARRAYOID ||
				typoid == ANYCOMPATIBLEARRAYOID || typoid == RECORDARRAYOID)
				col->cat = RJ_ARRAY;
			else if (type_is_rowtype(typoid))
				col->cat = RJ_COMPOSITE;
			else
			{
				col->cat = RJ_OTHER;
				if (typoid >= FirstNormalObjectId)
				{
					Oid			castfunc;

					if (find_coercion_pathway(JSONOID, typoid, COERCION_EXPLICIT, &castfunc) == COERCION_PATH_FUNC &&
						OidIsValid(castfunc))
					{
						col->cat = RJ_CAST;
						funcoid = castfunc;
					}
				}
				if (col->cat == RJ_OTHER)
					getTypeOutputInfo(typoid, &funcoid, &varlena);
			}
			break;
	}
	if (OidIsValid(funcoid))
		fmgr_info_cxt(funcoid, &col->func, cxt);
}

static RowJsonCache *
build_cache(Oid tuptype, int32 tuptypmod, MemoryContext cxt)
{
	TupleDesc	td = lookup_rowtype_tupdesc(tuptype, tuptypmod);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	RowJsonCache *c = palloc0(offsetof(RowJsonCache, cols) + sizeof(RowJsonColumn) * Max(td->natts, 1));

	c->tuptype = tuptype;
	c->tuptypmod = tuptypmod;
	c->tupdesc = CreateTupleDescCopy(td);
	c->values = palloc(sizeof(Datum) * Max(td->natts, 1));
	c->nulls = palloc(sizeof(bool) * Max(td->natts, 1));
	MemoryContextSwitchTo(old);
	ReleaseTupleDesc(td);
	for (int i = 0; i < c->tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(c->tupdesc, i);

		c->cols[i].skip = att->attisdropped;
		if (!att->attisdropped)
			categorize(att->atttypid, &c->cols[i], cxt);
	}
	return c;
}

/* json.c's datum_to_json() for a value that is not null */
static void
value_to_json(StringInfo buf, Datum val, RowJsonColumn *col)
{
	char	   *s;
	char		dt[MAXDATELEN + 1];

	switch (col->cat)
	{
		case RJ_BOOL:
			appendStringInfoString(buf, DatumGetBool(val) ? "true" : "false");
			break;
		case RJ_NUMERIC:
			s = OutputFunctionCall(&col->func, val);
			if (IsValidJsonNumber(s, strlen(s)))
				appendStringInfoString(buf, s);
			else
				escape_json(buf, s);
			pfree(s);
			break;
		case RJ_DATE:
		case RJ_TIMESTAMP:
		case RJ_TIMESTAMPTZ:
			JsonEncodeDateTime(dt, val, col->typid, NULL);
			appendStringInfo(buf, "\"%s\"", dt);
			break;
		case RJ_JSON:
			s = OutputFunctionCall(&col->func, val);
			appendStringInfoString(buf, s);
			pfree(s);
			break;
		case RJ_ARRAY:
			{
				text	   *t = DatumGetTextPP(DirectFunctionCall1(array_to_json, val));

				appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case RJ_COMPOSITE:
			{
				text	   *t = DatumGetTextPP(DirectFunctionCall1(row_to_json, val));

				appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		case RJ_CAST:
			{
				text	   *t = DatumGetTextPP(FunctionCall1(&col->func, val));

				appendBinaryStringInfo(buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
			}
			break;
		default:
			s = OutputFunctionCall(&col->func, val);
			escape_json(buf, s);
			pfree(s);
			break;
	}
}

/* obs._ship_row_json(record) RETURNS json */
Datum
obs_ship_row_json(PG_FUNCTION_ARGS)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(0);
	Oid			tuptype = HeapTupleHeaderGetTypeId(rec);
	int32		tuptypmod = HeapTupleHeaderGetTypMod(rec);
	RowJsonCache *c = fcinfo->flinfo->fn_extra;
	HeapTupleData tuple;
	StringInfoData buf;
	bool		first = true;

	if (c == NULL || c->tuptype != tuptype || c->tuptypmod != tuptypmod)
	{
		c = build_cache(tuptype, tuptypmod, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = c;
	}
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	heap_deform_tuple(&tuple, c->tupdesc, c->values, c->nulls);

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	for (int i = 0; i < c->tupdesc->natts; i++)
	{
		if (c->cols[i].skip)
			continue;
		if (!first)
			appendStringInfoChar(&buf, ',');
		first = false;
		escape_json(&buf, NameStr(TupleDescAttr(c->tupdesc, i)->attname));
		appendStringInfoChar(&buf, ':');
		if (c->nulls[i])
			appendStringInfoString(&buf, "null");
		else
			value_to_json(&buf, c->values[i], &c->cols[i]);
	}
	appendStringInfoChar(&buf, '}');
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
