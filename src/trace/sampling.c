/*-------------------------------------------------------------------------
 * sampling.c
 *	  Sampling decisions: head sampling of traces, random sampling of logs
 *	  outside traces and of metric samples.
 *
 * A new root span is sampled when the low 8 bytes of its trace id, read
 * as a big-endian unsigned integer, are below rate * 2^64, which is
 * OpenTelemetry's TraceIdRatioBased rule: the decision follows from the
 * trace id alone, so every process that sees the id agrees, and it is
 * carried in the traceparent's sampled flag (01) to children and to other
 * services.  Spans and logs of an unsampled trace are not stored, once
 * sampling is on (obs.trace_sample_rate below 1).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/pg_prng.h"
#include "utils/builtins.h"

#include "trace/trace.h"

PG_FUNCTION_INFO_V1(obs_trace_id_sampled);

bool
obs_trace_sampled(const ObsTraceId *trace, double rate)
{
	uint64		low = 0;
	double		bound = rate * 18446744073709551616.0;	/* rate * 2^64 */

	if (bound >= 18446744073709551616.0)
		return true;
	if (bound <= 0.0)
		return false;
	for (int i = 8; i < OBS_TRACE_ID_LEN; i++)
		low = (low << 8) | trace->bytes[i];
	return low < (uint64) bound;
}

/*
 * Whether records of a trace with these traceparent flags are stored.
 * Sampling is off while obs.trace_sample_rate is 1 (the default): then
 * every span is stored, even of a trace an upstream service did not
 * sample.  Below 1 the sampled flag decides, whether obs set it (new
 * root spans) or a caller's traceparent did.
 */
bool
obs_flags_sampled(uint8 flags)
{
	return (flags & 0x01) != 0 || obs_trace_sample_rate >= 1.0;
}

/* an independent random decision at rate */
bool
obs_sample(double rate)
{
	if (rate >= 1.0)
		return true;
	if (rate <= 0.0)
		return false;
	return pg_prng_double(&pg_global_prng_state) < rate;
}

/* obs.trace_sampled(trace_id, rate): the head-sampling decision for a trace */
Datum
obs_trace_id_sampled(PG_FUNCTION_ARGS)
{
	ObsTraceId *trace = (ObsTraceId *) PG_GETARG_POINTER(0);
	double		rate = PG_GETARG_FLOAT8(1);

	if (isnan(rate) || rate < 0.0 || rate > 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sample rate must be between 0 and 1"),
				 errdetail("The rate given was %g.", rate)));
	PG_RETURN_BOOL(obs_trace_sampled(trace, rate));
}
