/*-------------------------------------------------------------------------
 * rows.c
 *	  Reading the fields of to_jsonb() rows for the shipping encoders, and
 *	  writing JSON values back out.
 *
 * to_jsonb() renders a timestamptz as ISO 8601 with the session's UTC
 * offset ("2026-11-30T22:36:22.123456+01:00", "0044-03-15T12:00:00+00:00
 * BC"); obs_ship_parse_timestamp() turns that into microseconds since the
 * Unix epoch exactly, with no rounding and no dependency on the TimeZone
 * setting.  Nothing here ereports on bad input (only palloc can throw):
 * the helpers return false and leave a message in *why.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/int.h"
#include "common/shortest_dec.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/json.h"

#include "encode.h"

/* n decimal digits at *p into *out; advances *p */
static bool
take_digits(const char **p, int n, int *out)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if ((*p)[i] < '0' || (*p)[i] > '9')
			return false;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += n;
	*out = v;
	return true;
}

/*
 * Parse the ISO 8601 text to_jsonb() gives a timestamptz:
 * YYYY-MM-DDTHH:MI:SS[.ffffff](Z|+HH[:MM[:SS]]|-HH[:MM[:SS]])[ BC], year
 * with 4 or more digits, a space accepted for the T.  "infinity" and
 * "-infinity" are refused.
 */
bool
obs_ship_parse_timestamp(const char *s, int64 *unix_us)
{
	const char *p = s;
	int			year = 0,
				ndig = 0,
				mon,
				mday,
				hour,
				min,
				sec,
				frac = 0,
				tzsec = 0;
	int64		days,
				secs,
				us;

	while (*p >= '0' && *p <= '9' && ndig < 8)
	{
		year = year * 10 + (*p++ - '0');
		ndig++;
	}
	if (ndig < 4 || ndig > 7 || *p++ != '-' || !take_digits(&p, 2, &mon) ||
		*p++ != '-' || !take_digits(&p, 2, &mday) ||
		(*p != 'T' && *p != ' ') || !(p++, take_digits(&p, 2, &hour)) ||
		*p++ != ':' || !take_digits(&p, 2, &min) || *p++ != ':' ||
		!take_digits(&p, 2, &sec))
		return false;
	if (*p == '.')
	{
		int			n = 0;

		p++;
		while (*p >= '0' && *p <= '9')
		{
			if (n == 6)
				return false;	/* timestamptz has microseconds at most */
			frac = frac * 10 + (*p++ - '0');
			n++;
		}
		if (n == 0)
			return false;
		for (; n < 6; n++)
			frac *= 10;
	}
	if (*p == 'Z')
		p++;
	else if (*p == '+' || *p == '-')
	{
		int			sign = (*p++ == '-') ? -1 : 1;
		int			tzh,
					tzm = 0,
					tzs = 0;

		if (!take_digits(&p, 2, &tzh))
			return false;
		if (*p == ':')
		{
			p++;
			if (!take_digits(&p, 2, &tzm))
				return false;
			if (*p == ':')
			{
				p++;
				if (!take_digits(&p, 2, &tzs))
					return false;
			}
		}
		if (tzm > 59 || tzs > 59)
			return false;
		tzsec = sign * (tzh * 3600 + tzm * 60 + tzs);
	}
	else
		return false;
	if (strcmp(p, " BC") == 0)
	{
		if (year == 0)
			return false;
		year = 1 - year;		/* astronomical numbering: 1 BC is year 0 */
		p += 3;
	}
	if (*p != '\0' || mon < 1 || mon > 12 || mday < 1 || mday > day_tab[isleap(year)][mon - 1] ||
		hour > 24 || min > 59 || sec > 60)
		return false;

	days = (int64) date2j(year, mon, mday) - UNIX_EPOCH_JDATE;
	secs = days * SECS_PER_DAY + hour * 3600 + min * 60 + sec - tzsec;
	if (pg_mul_s64_overflow(secs, USECS_PER_SEC, &us) ||
		pg_add_s64_overflow(us, frac, &us))
		return false;
	*unix_us = us;
	return true;
}

/* the member of row named field, or NULL when it is absent or JSON null */
static cJSON *
row_member(cJSON *row, const char *field)
{
	cJSON	   *item = cJSON_GetObjectItemCaseSensitive(row, field);

	return (item == NULL || cJSON_IsNull(item)) ? NULL : item;
}

/* a text member of a row; NULL in *out when absent and not required */
bool
obs_ship_row_string(cJSON *row, int rowno, const char *field, bool required,
					const char **out, char **why)
{
	cJSON	   *item = row_member(row, field);

	*out = NULL;
	if (item == NULL)
	{
		if (!required)
			return true;
		*why = psprintf("row %d has no \"%s\"", rowno, field);
		return false;
	}
	if (!cJSON_IsString(item) || item->valuestring == NULL)
	{
		*why = psprintf("\"%s\" of row %d is not a JSON string", field, rowno);
		return false;
	}
	*out = item->valuestring;
	return true;
}

/* a required timestamptz member of a row, in microseconds since 1970 */
bool
obs_ship_row_time(cJSON *row, int rowno, const char *field, int64 *unix_us,
				  char **why)
{
	const char *s;

	if (!obs_ship_row_string(row, rowno, field, true, &s, why))
		return false;
	if (!obs_ship_parse_timestamp(s, unix_us))
	{
		*why = psprintf("\"%s\" of row %d is not a finite timestamp: \"%s\"",
						field, rowno, s);
		return false;
	}
	return true;
}

/*
 * A number member of a row.  to_jsonb() renders the float8 values NaN,
 * Infinity and -Infinity as strings, so those strings are numbers too.
 */
bool
obs_ship_row_number(cJSON *row, int rowno, const char *field, bool required,
					double *out, bool *isnull, char **why)
{
	cJSON	   *item = row_member(row, field);

	*isnull = false;
	if (item == NULL)
	{
		*isnull = true;
		if (!required)
			return true;
		*why = psprintf("row %d has no \"%s\"", rowno, field);
		return false;
	}
	if (cJSON_IsNumber(item))
	{
		*out = item->valuedouble;
		return true;
	}
	if (cJSON_IsString(item) && item->valuestring != NULL)
	{
		if (strcmp(item->valuestring, "NaN") == 0)
		{
			*out = get_float8_nan();
			return true;
		}
		if (strcmp(item->valuestring, "Infinity") == 0)
		{
			*out = get_float8_infinity();
			return true;
		}
		if (strcmp(item->valuestring, "-Infinity") == 0)
		{
			*out = -get_float8_infinity();
			return true;
		}
	}
	*why = psprintf("\"%s\" of row %d is not a number", field, rowno);
	return false;
}

/* nbytes bytes from exactly 2 * nbytes hex digits */
bool
obs_ship_hex_id(const char *hex, int nbytes, uint8 *out)
{
	if (strlen(hex) != (size_t) nbytes * 2)
		return false;
	for (int i = 0; i < nbytes * 2; i++)
	{
		char		c = hex[i];
		int			v;

		if (c >= '0' && c <= '9')
			v = c - '0';
		else if (c >= 'a' && c <= 'f')
			v = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v = c - 'A' + 10;
		else
			return false;
		if (i % 2 == 0)
			out[i / 2] = (uint8) (v << 4);
		else
			out[i / 2] |= (uint8) v;
	}
	return true;
}

/*
 * A double as a JSON number: integral values below 2^63 in plain decimal
 * digits ("1234567890"), others in the shortest form that reads back as
 * the same double ("0.1", "1e+300").  JSON has no infinity: a jsonb number
 * too large for a double (1e400) becomes the string "Infinity".
 */
void
obs_ship_append_number(StringInfo buf, double v)
{
	if (isnan(v))
		appendStringInfoString(buf, "\"NaN\"");
	else if (isinf(v))
		appendStringInfoString(buf, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else if (v == floor(v) && fabs(v) < 9.2e18)
		appendStringInfo(buf, "%.0f", v);
	else
	{
		char		tmp[DOUBLE_SHORTEST_DECIMAL_LEN];

		double_to_shortest_decimal_buf(v, tmp);
		appendStringInfoString(buf, tmp);
	}
}

/* a cJSON value as compact JSON text */
void
obs_ship_append_json(StringInfo buf, const cJSON *item)
{
	const cJSON *c;

	if (item == NULL || cJSON_IsNull(item))
		appendStringInfoString(buf, "null");
	else if (cJSON_IsTrue(item))
		appendStringInfoString(buf, "true");
	else if (cJSON_IsFalse(item))
		appendStringInfoString(buf, "false");
	else if (cJSON_IsNumber(item))
		obs_ship_append_number(buf, item->valuedouble);
	else if (cJSON_IsString(item))
		escape_json(buf, item->valuestring ? item->valuestring : "");
	else if (cJSON_IsArray(item))
	{
		appendStringInfoChar(buf, '[');
		for (c = item->child; c != NULL; c = c->next)
		{
			if (c != item->child)
				appendStringInfoChar(buf, ',');
			obs_ship_append_json(buf, c);
		}
		appendStringInfoChar(buf, ']');
	}
	else if (cJSON_IsObject(item))
	{
		appendStringInfoChar(buf, '{');
		for (c = item->child; c != NULL; c = c->next)
		{
			if (c != item->child)
				appendStringInfoChar(buf, ',');
			escape_json(buf, c->string ? c->string : "");
			appendStringInfoChar(buf, ':');
			obs_ship_append_json(buf, c);
		}
		appendStringInfoChar(buf, '}');
	}
	else
		appendStringInfoString(buf, "null");
}

/* microseconds since 1970 as "YYYY-MM-DDTHH:MI:SS.ffffffZ" (UTC) */
void
obs_ship_append_utc(StringInfo buf, int64 unix_us)
{
	int64		days = unix_us / USECS_PER_DAY;
	int64		rem = unix_us % USECS_PER_DAY;
	int			year,
				mon,
				mday;

	if (rem < 0)
	{
		rem += USECS_PER_DAY;
		days--;
	}
	j2date((int) (days + UNIX_EPOCH_JDATE), &year, &mon, &mday);
	appendStringInfo(buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
					 year, mon, mday,
					 (int) (rem / USECS_PER_HOUR),
					 (int) (rem / USECS_PER_MINUTE % 60),
					 (int) (rem / USECS_PER_SEC % 60),
					 (int) (rem % USECS_PER_SEC));
}
