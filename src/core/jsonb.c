/*-------------------------------------------------------------------------
 * jsonb.c
 *	  A jsonb object built from C strings.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

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
