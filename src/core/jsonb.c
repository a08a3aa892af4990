/*-------------------------------------------------------------------------
 * jsonb.c
 *	  A jsonb object built from C strings, and jsonb's text written fast.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

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

/*
 * A numeric's text, the same as numeric_out's for finite values, written
 * from its stored form (which pg_upgrade keeps as it is): a uint16 header
 * (short form: sign, display scale, 6-bit weight; long form: sign and
 * display scale, then an int16 weight), then base-10000 digits, the first
 * of weight `weight`.  NaN and the infinities, which jsonb never holds,
 * go through numeric_out.
 */
static void
put_numeric(StringInfo out, Numeric num)
{
	const char *p = VARDATA_ANY(num);
	size_t		len = VARSIZE_ANY_EXHDR(num);
	uint16		h = 0;
	bool		neg;
	int			weight;
	int			dscale;
	int			hdr;
	int			ndigits;
	int			d;
	char	   *cp;

	if (len >= 2)
		memcpy(&h, p, 2);
	if (len < 2 || (h & 0xC000) == 0xC000 || ((h & 0xC000) != 0x8000 && len < 4))
	{
		appendStringInfoString(out,
							   DatumGetCString(DirectFunctionCall1(numeric_out,
																   PointerGetDatum(num))));
		return;
	}
	if ((h & 0xC000) == 0x8000)
	{
		neg = (h & 0x2000) != 0;
		dscale = (h & 0x1F80) >> 7;
		weight = (h & 0x0040) ? (int) (h & 0x003F) - 64 : (int) (h & 0x003F);
		hdr = 2;
	}
	else
	{
		int16		w16;

		neg = (h & 0xC000) == 0x4000;
		dscale = h & 0x3FFF;
		memcpy(&w16, p + 2, 2);
		weight = w16;
		hdr = 4;
	}
	ndigits = (int) ((len - hdr) / 2);

	/* sign, 4 characters per digit of the integer part, point, dscale + 3 */
	enlargeStringInfo(out, 1 + 4 * (Max(weight, 0) + 1) + 1 + dscale + 4);
	cp = out->data + out->len;
	if (neg)
		*cp++ = '-';
	if (weight < 0)
	{
		d = weight + 1;
		*cp++ = '0';
	}
	else
	{
		for (d = 0; d <= weight; d++)
		{
			int16		dig16 = 0;
			int			dig;
			bool		putit = (d > 0);
			int			d1;

			if (d < ndigits)
				memcpy(&dig16, p + hdr + 2 * d, 2);
			dig = dig16;
			/* the first digit without leading zeros */
			d1 = dig / 1000;
			dig -= d1 * 1000;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = (char) (d1 + '0');
			d1 = dig / 100;
			dig -= d1 * 100;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = (char) (d1 + '0');
			d1 = dig / 10;
			dig -= d1 * 10;
			putit |= (d1 > 0);
			if (putit)
				*cp++ = (char) (d1 + '0');
			*cp++ = (char) (dig + '0');
		}
	}
	if (dscale > 0)
	{
		char	   *endcp;

		*cp++ = '.';
		endcp = cp + dscale;
		for (int i = 0; i < dscale; d++, i += 4)
		{
			int16		dig16 = 0;
			int			dig;

			if (d >= 0 && d < ndigits)
				memcpy(&dig16, p + hdr + 2 * d, 2);
			dig = dig16;
			cp[0] = (char) ('0' + dig / 1000);
			cp[1] = (char) ('0' + dig / 100 % 10);
			cp[2] = (char) ('0' + dig / 10 % 10);
			cp[3] = (char) ('0' + dig % 10);
			cp += 4;
		}
		cp = endcp;
	}
	out->len = (int) (cp - out->data);
	out->data[out->len] = '\0';
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
			put_numeric(out, v->val.numeric);
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
