/*-------------------------------------------------------------------------
 * payload.c
 *	  obs.otlp_payload() and obs.cloudwatch_payloads(): the shipping
 *	  encoders called from SQL, to see (and test) what a sink would send.
 *
 * The jsonb argument is printed and parsed with cJSON, the encoders' input
 * type.  The cJSON tree is malloc'd: it is freed in PG_FINALLY, and no
 * ereport happens while a cJSON call runs.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"

#include "core/core.h"
#include "encode.h"

PG_FUNCTION_INFO_V1(obs_otlp_payload);
PG_FUNCTION_INFO_V1(obs_cloudwatch_payloads);

/* rows: a jsonb array, as a cJSON tree (the caller frees it) */
static cJSON *
rows_to_cjson(Jsonb *jb)
{
	char	   *text;
	cJSON	   *tree;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("rows must be a JSON array"),
				 errhint("Pass the rows as one array, e.g. jsonb_agg(to_jsonb(l)) of the rows l of obs.logs.")));
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("shipping payloads need a UTF8 database"),
				 errdetail("OTLP and CloudWatch Logs carry UTF-8 text.")));
	text = JsonbToCString(NULL, &jb->root, VARSIZE(jb));
	tree = cJSON_ParseWithLength(text, strlen(text));
	pfree(text);
	if (tree == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("rows could not be read as JSON"),
				 errdetail("The JSON is nested more deeply than 1000 levels, or memory ran out.")));
	return tree;
}

/*
 * obs.otlp_payload(signal text, rows jsonb, protobuf boolean DEFAULT false,
 * service_name text DEFAULT NULL) RETURNS bytea: one OTLP/HTTP request body.
 */
Datum
obs_otlp_payload(PG_FUNCTION_ARGS)
{
	char	   *signal;
	bool		protobuf;
	char	   *volatile service = NULL;
	cJSON	   *rows;
	StringInfoData body;
	const char *content_type;
	char	   *why = NULL;
	volatile bool ok = false;
	bytea	   *result;

	obs_require_arg(fcinfo, 0, "signal");
	obs_require_arg(fcinfo, 1, "rows");
	obs_require_arg(fcinfo, 2, "protobuf");
	signal = text_to_cstring(PG_GETARG_TEXT_PP(0));
	protobuf = PG_GETARG_BOOL(2);
	if (!PG_ARGISNULL(3))
		service = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (strcmp(signal, "traces") != 0 && strcmp(signal, "logs") != 0 &&
		strcmp(signal, "metrics") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown signal \"%s\"", signal),
				 errhint("The signals are traces, logs and metrics.")));

	rows = rows_to_cjson(PG_GETARG_JSONB_P(1));
	initStringInfo(&body);
	PG_TRY();
	{
		ok = obs_otlp_encode(signal, rows, protobuf, service, &body,
							 &content_type, &why);
	}
	PG_FINALLY();
	{
		cJSON_Delete(rows);
	}
	PG_END_TRY();
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", why),
				 errdetail("Each element of rows must be to_jsonb() of a row of the signal's table.")));

	result = palloc(VARHDRSZ + body.len);
	SET_VARSIZE(result, VARHDRSZ + body.len);
	memcpy(VARDATA(result), body.data, body.len);
	pfree(body.data);
	PG_RETURN_BYTEA_P(result);
}

/*
 * obs.cloudwatch_payloads(rows jsonb, log_group text, log_stream text)
 * RETURNS SETOF text: the PutLogEvents request bodies, in sending order.
 */
Datum
obs_cloudwatch_payloads(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *log_group;
	char	   *log_stream;
	cJSON	   *rows;
	StringInfo *bodies = NULL;
	char	   *why = NULL;
	volatile int n = -1;

	obs_require_arg(fcinfo, 0, "rows");
	obs_require_arg(fcinfo, 1, "log_group");
	obs_require_arg(fcinfo, 2, "log_stream");
	log_group = text_to_cstring(PG_GETARG_TEXT_PP(1));
	log_stream = text_to_cstring(PG_GETARG_TEXT_PP(2));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	rows = rows_to_cjson(PG_GETARG_JSONB_P(0));
	PG_TRY();
	{
		n = obs_cloudwatch_encode(rows, log_group, log_stream, &bodies, NULL, &why);
	}
	PG_FINALLY();
	{
		cJSON_Delete(rows);
	}
	PG_END_TRY();
	if (n < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s", why)));

	for (int i = 0; i < n; i++)
	{
		Datum		value = PointerGetDatum(cstring_to_text_with_len(bodies[i]->data,
																	 bodies[i]->len));
		bool		isnull = false;

		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &value, &isnull);
	}
	return (Datum) 0;
}
