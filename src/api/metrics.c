/*-------------------------------------------------------------------------
 * metrics.c
 *	  Performance metrics: obs.record_metric().
 *
 * Arguments are checked here and become an ObsMetricRecord, handed to
 * obs_emit_metric() (ingest); the series and the point are written by
 * store/metrics.c.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "utils/builtins.h"

#include "ingest/ingest.h"

PG_FUNCTION_INFO_V1(obs_record_metric);

/* obs.record_metric(name, value, tags, kind, ts) */
Datum
obs_record_metric(PG_FUNCTION_ARGS)
{
	ObsMetricRecord rec;
	char	   *kind;

	obs_require_arg(fcinfo, 0, "name");
	obs_require_arg(fcinfo, 1, "value");
	obs_require_arg(fcinfo, 3, "kind");
	rec.name = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (rec.name[0] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("metric name must not be empty")));
	rec.value = PG_GETARG_FLOAT8(1);
	if (isnan(rec.value) || isinf(rec.value))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("metric value must be a finite number"),
				 errdetail("Metric \"%s\" was given %s.", rec.name,
						   isnan(rec.value) ? "NaN" : (rec.value > 0 ? "Infinity" : "-Infinity"))));
	kind = text_to_cstring(PG_GETARG_TEXT_PP(3));
	rec.kind = obs_parse_choice(kind, obs_metric_kind_labels, OBS_NUM_METRIC_KINDS);
	if (rec.kind < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid metric kind \"%s\"", kind),
				 errhint("Valid kinds are gauge and counter.")));
	if (rec.kind == 1 && rec.value < 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("counter increment must not be negative"),
				 errdetail("Counter \"%s\" was given %g.", rec.name, rec.value)));
	rec.tags = PG_ARGISNULL(2)
		? DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}")))
		: obs_check_object(PG_GETARG_JSONB_P(2), "tags");
	if (PG_ARGISNULL(4))
		rec.ts = GetCurrentTimestamp();
	else
	{
		rec.ts = PG_GETARG_TIMESTAMPTZ(4);
		if (TIMESTAMP_NOT_FINITE(rec.ts))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("metric timestamp must be finite")));
		obs_check_timestamp(rec.ts, "ts");
	}
	obs_emit_metric(&rec);
	PG_RETURN_VOID();
}
