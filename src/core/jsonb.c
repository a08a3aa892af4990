/*-------------------------------------------------------------------------
 * jsonb.c
 *	  A jsonb object built from C strings, and jsonb's text written fast.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/fmgrprotos.h"

#include "core/core.h"

/* Jsonb object from parallel arrays of keys and cstring values; NULL values skipped */
Jsonb *
obs_jsonb_from_pairs(const char *const *keys, char *const *values, int n)
{
	JsonbParseState *state = NULL;
	JsonbValue *res;
	int			used = 0;

	pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	for (int i = 0; i < n; i++)
	{
		JsonbValue	k,
					v;

		if (values[i] == NULL)
			continue;
		k.type = jbvString;
		k.val.string.val = (char *) keys[i];
		k.val.string.len = strlen(keys[i]);
		v.type = jbvString;
		v.val.string.val = values[i];
		v.val.string.len = strlen(values[i]);
		pushJsonbValue(&state, WJB_KEY, &k);
		pushJsonbValue(&state, WJB_VALUE, &v);
		used++;
	}
	res = pushJsonbValue(&state, WJB_END_OBJECT, NULL);
	return used > 0 ? JsonbValueToJsonb(res) : NULL;
}

/*
 * A JSON string of len bytes (no NUL: jsonb holds none), escaped exactly as
 * escape_json() does: the runs of bytes that need no escape are copied
 * whole instead of one character at a time.
 */
static void
put_escaped(StringInfo out, const char *s, int len)
{
	const char *end = s + len;

	enlargeStringInfo(out, len + 2);
	out->data[out->len++] = '"';
	while (s < end)
	{
		const char *run = s;

		while (s < end && (unsigned char) *s >= ' ' && *s != '"' && *s != '\\')
			s++;
		if (s > run)
			appendBinaryStringInfo(out, run, s - run);
		if (s == end)
			break;
		switch (*s)
		{
			case '\b':
				appendBinaryStringInfo(out, "\\b", 2);
				break;
			case '\f':
				appendBinaryStringInfo(out, "\\f", 2);
				break;
			case '\n':
				appendBinaryStringInfo(out, "\\n", 2);
				break;
			case '\r':
				appendBinaryStringInfo(out, "\\r", 2);
				break;
			case '\t':
				appendBinaryStringInfo(out, "\\t", 2);
				break;
			case '"':
				appendBinaryStringInfo(out, "\\\"", 2);
				break;
			case '\\':
				appendBinaryStringInfo(out, "\\\\", 2);
				break;
			default:
				appendStringInfo(out, "\\u%04x", (int) *s);
				break;
		}
		s++;
	}
	appendStringInfoCharMacro(out, '"');
}

static void
put_scalar(StringInfo out, const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvNull:
			appendBinaryStringInfo(out, "null", 4);
			break;
		case jbvString:
			put_escaped(out, v->val.string.val, v->val.string.len);
			break;
		case jbvNumeric:
			appendStringInfoString(out,
								   DatumGetCString(DirectFunctionCall1(numeric_out,
																	   PointerGetDatum(v->val.numeric))));
			break;
		case jbvBool:
			if (v->val.boolean)
				appendBinaryStringInfo(out, "true", 4);
			else
				appendBinaryStringInfo(out, "false", 5);
			break;
		default:
			elog(ERROR, "unknown jsonb scalar type");
	}
}

/*
 * Append the text of a jsonb container to out: the same text as
 * JsonbToCString(), byte for byte (", " and ": " between items, strings
 * escaped as escape_json() does, numbers by numeric_out), for the writers
 * that turn many values to text (the Parquet export).
 */
void
obs_jsonb_to_text(StringInfo out, JsonbContainer *jc)
{
	JsonbIterator *it = JsonbIteratorInit(jc);
	JsonbIteratorToken type;
	JsonbValue	v;
	bool		first = true;
	bool		raw_scalar = false;

	while ((type = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		switch (type)
		{
			case WJB_BEGIN_ARRAY:
				if (!first)
					appendBinaryStringInfo(out, ", ", 2);
				if (v.val.array.rawScalar)
					raw_scalar = true;
				else
					appendStringInfoCharMacro(out, '[');
				first = true;
				break;
			case WJB_BEGIN_OBJECT:
				if (!first)
					appendBinaryStringInfo(out, ", ", 2);
				appendStringInfoCharMacro(out, '{');
				first = true;
				break;
			case WJB_KEY:
				if (!first)
					appendBinaryStringInfo(out, ", ", 2);
				put_escaped(out, v.val.string.val, v.val.string.len);
				appendBinaryStringInfo(out, ": ", 2);
				/* a container value opens next, with no ", " before it */
				first = true;
				break;
			case WJB_VALUE:
				put_scalar(out, &v);
				first = false;
				break;
			case WJB_ELEM:
				if (!first)
					appendBinaryStringInfo(out, ", ", 2);
				put_scalar(out, &v);
				first = false;
				break;
			case WJB_END_ARRAY:
				if (!raw_scalar)
					appendStringInfoCharMacro(out, ']');
				first = false;
				break;
			case WJB_END_OBJECT:
				appendStringInfoCharMacro(out, '}');
				first = false;
				break;
			default:
				elog(ERROR, "unknown jsonb iterator token type");
		}
	}
}
