/*-------------------------------------------------------------------------
 * args.c
 *	  Argument checks shared by the SQL entry points.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "core/core.h"

/* context and tags must be JSON objects; NULL passes through */
Jsonb *
obs_check_object(Jsonb *jb, const char *argname)
{
	if (jb != NULL && !JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a JSON object", argname),
				 errdetail("obs stores %s as key/value pairs, e.g. '{\"env\": \"production\"}'.",
						   argname)));
	return jb;
}

/*
 * The latest timestamp obs stores.  Parquet export writes microseconds
 * since 1970 in 64 bits (with INT64_MAX kept for infinity), which ends in
 * year 294247, before PostgreSQL's own limit in 294276; a row past it
 * could be written but never exported.
 */
#define OBS_MAX_TIMESTAMP \
	(PG_INT64_MAX - 1 - (int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)

/* refuse a finite timestamp argument that obs could store but not export */
void
obs_check_timestamp(TimestampTz ts, const char *argname)
{
	if (!TIMESTAMP_NOT_FINITE(ts) && ts > OBS_MAX_TIMESTAMP)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range for obs", argname),
				 errdetail("obs stores timestamps up to 294247-01-10 04:00:54.775806+00, the latest its Parquet export can represent.")));
}

/*
 * end_time - start_time must fit in a 64-bit count of microseconds (about
 * 292,000 years): obs stores a span's duration_us that way, and
 * PostgreSQL 15 subtracts timestamps without an overflow check (a run's
 * duration_seconds).  Both times are finite and end_time >= start_time.
 */
void
obs_check_duration(TimestampTz start_time, TimestampTz end_time)
{
	int64		duration;

	if (pg_sub_s64_overflow(end_time, start_time, &duration))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("end_time is too far after start_time"),
				 errdetail("A duration is kept in microseconds as a 64-bit integer, which holds about 292,000 years.")));
}

/* error out when a required argument is NULL */
void
obs_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

/*
 * Index of input among choices, compared case-insensitively, or -1.
 */
int
obs_parse_choice(const char *input, const char *const *choices, int nchoices)
{
	for (int i = 0; i < nchoices; i++)
		if (pg_strcasecmp(input, choices[i]) == 0)
			return i;
	return -1;
}

/* logger name when the caller gives none: application_name, else "postgres" */
char *
obs_default_logger(void)
{
	const char *app = GetConfigOption("application_name", true, false);

	if (app != NULL && app[0] != '\0')
		return pstrdup(app);
	return pstrdup("postgres");
}
