/*-------------------------------------------------------------------------
 * guc.c
 *	  Every obs.* setting, registered in one place (the variables are in
 *	  core/settings.c).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"

#include "core/core.h"
#include "instrument/instrument.h"
#include "ship/ship.h"
#include "trace/trace.h"

/* the variables behind the settings are in src/core/settings.c */

/* shipping credentials (see ship/creds.c): superuser-only, never shown */
char	   *obs_elastic_api_key = NULL;
char	   *obs_elastic_user = NULL;
char	   *obs_elastic_password = NULL;
char	   *obs_webhook_bearer_token = NULL;
char	   *obs_aws_access_key_id = NULL;
char	   *obs_aws_secret_access_key = NULL;
char	   *obs_aws_session_token = NULL;

static const struct config_enum_entry write_path_options[] = {
	{"buffered", OBS_WRITE_BUFFERED, false},
	{"transactional", OBS_WRITE_TRANSACTIONAL, false},
	{NULL, 0, false}
};

static const struct config_enum_entry full_action_options[] = {
	{"wait", OBS_FULL_WAIT, false},
	{"drop", OBS_FULL_DROP, false},
	{NULL, 0, false}
};

static const struct config_enum_entry log_level_options[] = {
	{"debug", OBS_LEVEL_DEBUG, false},
	{"info", OBS_LEVEL_INFO, false},
	{"warning", OBS_LEVEL_WARNING, false},
	{"error", OBS_LEVEL_ERROR, false},
	{"critical", OBS_LEVEL_CRITICAL, false},
	{NULL, 0, false}
};

/* obs.traceparent must be empty or a valid W3C traceparent header */
static bool
check_traceparent(char **newval, void **extra, GucSource source)
{
	ObsTraceparent tp;
	const char *why;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!obs_parse_traceparent_str(*newval, &tp, &why))
	{
		GUC_check_errcode(ERRCODE_INVALID_TEXT_REPRESENTATION);
		GUC_check_errmsg("invalid traceparent \"%s\"", *newval);
		GUC_check_errdetail("%s", why);
		return false;
	}
	return true;
}

/* the buffered write path needs the shared memory only preloading gives */
static bool
check_write_path(int *newval, void **extra, GucSource source)
{
	if (*newval == OBS_WRITE_BUFFERED && !obs_preloaded)
	{
		GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
		GUC_check_errmsg("obs.write_path cannot be \"buffered\" because obs is not loaded at server start");
		GUC_check_errhint("Add obs to shared_preload_libraries and restart the server.");
		return false;
	}
	return true;
}

/* instrumentation needs preloading too, and a well-formed list */
static bool
check_instrument_functions(char **newval, void **extra, GucSource source)
{
	const char *why;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	if (!obs_preloaded)
	{
		GUC_check_errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE);
		GUC_check_errmsg("obs.instrument_functions requires obs to be loaded at server start");
		GUC_check_errhint("Add obs to shared_preload_libraries and restart the server.");
		return false;
	}
	if (!obs_instrument_check_list(*newval, &why))
	{
		GUC_check_errcode(ERRCODE_INVALID_PARAMETER_VALUE);
		GUC_check_errmsg("invalid function list \"%s\"", *newval);
		GUC_check_errdetail("%s", why);
		return false;
	}
	return true;
}

/*
 * Credentials of the sinks: set in postgresql.conf (or ALTER SYSTEM) and
 * read at SIGHUP.  The setting itself only ever shows "********", set or
 * not: the check hook keeps the value in its extra ("" when empty) and
 * masks it, so that neither SHOW nor pg_settings can reveal it, and the
 * shown value never changes, so the server logs no "parameter changed to"
 * line at reload (that line quotes the file's text: it would print the
 * secret the first time one is set).  The assign hook hands the value to
 * obs_credential_values[] (defined and read in ship/creds.c).  They are
 * also GUC_SUPERUSER_ONLY and GUC_NO_SHOW_ALL.
 */
#define OBS_SECRET_MASK "********"

static bool
check_secret(char **newval, void **extra, GucSource source)
{
	char	   *copy;

	if (*newval != NULL && strcmp(*newval, OBS_SECRET_MASK) == 0)
	{
		/* the mask itself (a reset to the current value): keep */
		*extra = NULL;
		return true;
	}
	/* the value, or "" when empty */
	copy = malloc(*newval ? strlen(*newval) + 1 : 1);
	if (copy == NULL)
		return false;
	strcpy(copy, *newval ? *newval : "");
	*extra = copy;
	if (*newval)
	{
		explicit_bzero(*newval, strlen(*newval));
		free(*newval);
	}
	*newval = malloc(sizeof(OBS_SECRET_MASK));
	if (*newval == NULL)
		return false;
	strcpy(*newval, OBS_SECRET_MASK);
	return true;
}

#define SECRET_ASSIGN(fn, idx) \
static void \
fn(const char *newval, void *extra) \
{ \
	if (extra != NULL) \
		obs_credential_values[idx] = ((const char *) extra)[0] ? extra : NULL; \
}
SECRET_ASSIGN(assign_elastic_api_key, OBS_CRED_ELASTIC_API_KEY)
SECRET_ASSIGN(assign_elastic_user, OBS_CRED_ELASTIC_USER)
SECRET_ASSIGN(assign_elastic_password, OBS_CRED_ELASTIC_PASSWORD)
SECRET_ASSIGN(assign_webhook_token, OBS_CRED_WEBHOOK_TOKEN)
SECRET_ASSIGN(assign_aws_key_id, OBS_CRED_AWS_KEY_ID)
SECRET_ASSIGN(assign_aws_secret, OBS_CRED_AWS_SECRET)
SECRET_ASSIGN(assign_aws_token, OBS_CRED_AWS_TOKEN)

static void
define_ship_gucs(void)
{
	static const struct
	{
		const char *name;
		const char *desc;
		char	  **var;
		GucStringAssignHook assign;
	}			creds[] = {
		{"obs.elastic_api_key", "Elasticsearch API key sinks send (Authorization: ApiKey).", &obs_elastic_api_key, assign_elastic_api_key},
		{"obs.elastic_user", "Elasticsearch user for basic authentication.", &obs_elastic_user, assign_elastic_user},
		{"obs.elastic_password", "Elasticsearch password for basic authentication.", &obs_elastic_password, assign_elastic_password},
		{"obs.webhook_bearer_token", "Bearer token webhook sinks send (Authorization: Bearer).", &obs_webhook_bearer_token, assign_webhook_token},
		{"obs.aws_access_key_id", "AWS access key id of CloudWatch sinks.", &obs_aws_access_key_id, assign_aws_key_id},
		{"obs.aws_secret_access_key", "AWS secret access key of CloudWatch sinks.", &obs_aws_secret_access_key, assign_aws_secret},
		{"obs.aws_session_token", "AWS session token of CloudWatch sinks (X-Amz-Security-Token).", &obs_aws_session_token, assign_aws_token},
	};

	for (int i = 0; i < (int) lengthof(creds); i++)
		DefineCustomStringVariable(creds[i].name, creds[i].desc,
								   "Empty: taken from the server's environment, then from obs.credentials_file. Shown as ********.",
								   creds[i].var, "", PGC_SIGHUP,
								   GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL,
								   check_secret, creds[i].assign, NULL);
	DefineCustomStringVariable("obs.credentials_file",
							   "File of sink credentials, lines \"name = value\"; ignored unless only the server's user may read it.",
							   NULL, &obs_credentials_file, "", PGC_SIGHUP,
							   GUC_SUPERUSER_ONLY, NULL, NULL, NULL);
}

/* shared memory sizes: PGC_POSTMASTER, so defined only when preloaded */
static void
define_size_gucs(void)
{
	DefineCustomIntVariable("obs.max_databases",
							"Number of databases that can use the buffered write path at once.",
							NULL,
							&obs_max_databases,
							4, 1, 256,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

	DefineCustomIntVariable("obs.buffer_size",
							"Size of the shared-memory buffer of each database.",
							NULL,
							&obs_buffer_size,
							8192, 16, 1024 * 1024,
							PGC_POSTMASTER, GUC_UNIT_KB,
							NULL, NULL, NULL);

	DefineCustomIntVariable("obs.flushers_per_database",
							"Number of flusher workers (and rings sharing obs.buffer_size) of each database.",
							"Records of one session, and of one run, go through one flusher, in order.",
							&obs_flushers_per_database,
							1, 1, 8,
							PGC_POSTMASTER, 0,
							NULL, NULL, NULL);

}

/* settings of the buffered write path, sampling and instrumentation */
static void
define_ingest_gucs(void)
{
	DefineCustomEnumVariable("obs.write_path",
							 "How obs functions store records: buffered (through a background worker) or transactional.",
							 "buffered needs obs in shared_preload_libraries and is then the default.",
							 &obs_write_path,
							 obs_preloaded ? OBS_WRITE_BUFFERED : OBS_WRITE_TRANSACTIONAL,
							 write_path_options,
							 PGC_USERSET, 0,
							 check_write_path, NULL, NULL);

	/* sizes of shared memory exist only when it is allocated at start */
	if (obs_preloaded)
		define_size_gucs();

	DefineCustomEnumVariable("obs.buffer_full_action",
							 "What a writer does when the buffer is full: wait (up to obs.buffer_full_timeout) or drop.",
							 "A record that is finally not buffered is counted in obs.ingest_stats.",
							 &obs_buffer_full_action,
							 OBS_FULL_WAIT,
							 full_action_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("obs.buffer_full_timeout",
							"How long a writer waits for room in a full buffer before it drops the record.",
							NULL,
							&obs_buffer_full_timeout,
							1000, 0, 600000,
							PGC_USERSET, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("obs.flush_interval",
							"Longest time a buffered record waits before the worker stores it.",
							NULL,
							&obs_flush_interval,
							200, 10, 60000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomIntVariable("obs.batch_size",
							"Most records the worker stores in one transaction.",
							NULL,
							&obs_batch_size,
							1000, 1, 100000,
							PGC_SIGHUP, 0,
							NULL, NULL, NULL);

	DefineCustomBoolVariable("obs.debug_corrupt_records",
							 "For tests only: buffered records get an unreadable header.",
							 "The flusher discards what follows such a record and counts it as dropped_other.",
							 &obs_debug_corrupt_records,
							 false,
							 PGC_SUSET, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE,
							 NULL, NULL, NULL);

	DefineCustomBoolVariable("obs.debug_store_error",
							 "For tests only: the flusher fails to store log records with a transient error (53100).",
							 "The flusher retries such a batch with growing pauses, then dead-letters its records.",
							 &obs_debug_store_error,
							 false,
							 PGC_SIGHUP, GUC_NO_SHOW_ALL | GUC_NOT_IN_SAMPLE | GUC_SUPERUSER_ONLY,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("obs.shutdown_timeout",
							"How long the worker keeps storing buffered records after a shutdown request.",
							NULL,
							&obs_shutdown_timeout,
							10000, 0, 600000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);

	DefineCustomRealVariable("obs.trace_sample_rate",
							 "Fraction of new traces whose spans are stored (head sampling by trace id).",
							 NULL,
							 &obs_trace_sample_rate,
							 1.0, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("obs.log_sample_rate",
							 "Fraction of log records written outside any trace that are stored.",
							 NULL,
							 &obs_log_sample_rate,
							 1.0, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomRealVariable("obs.metric_sample_rate",
							 "Fraction of metric samples that are stored.",
							 NULL,
							 &obs_metric_sample_rate,
							 1.0, 0.0, 1.0,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomStringVariable("obs.instrument_functions",
							   "Functions to trace automatically: comma-separated names, optionally schema-qualified and with argument types.",
							   "Each call records a span and a duration metric. Needs obs in shared_preload_libraries.",
							   &obs_instrument_functions,
							   "",
							   PGC_SUSET, GUC_LIST_INPUT,
							   check_instrument_functions, obs_instrument_assign, NULL);

	DefineCustomStringVariable("obs.instrument_metric_prefix",
							   "Prefix of the duration metric of instrumented functions (<prefix>.<function>); empty records none.",
							   NULL,
							   &obs_instrument_metric_prefix,
							   "function",
							   PGC_SUSET, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("obs.instrument_metric_interval",
							"Aggregate the duration metric of instrumented functions over this interval in each session; 0 records a point per call.",
							"Each interval, and at the end of each transaction, a session records the mean duration and the number of calls per function and status.",
							&obs_instrument_metric_interval,
							0, 0, PG_INT32_MAX,
							PGC_SUSET, GUC_UNIT_MS,
							NULL, NULL, NULL);
}

void
obs_guc_init(void)
{
	obs_preloaded = process_shared_preload_libraries_in_progress;
	DefineCustomEnumVariable("obs.log_min_level",
							 "Log records below this level are dropped without being stored.",
							 NULL,
							 &obs_log_min_level,
							 OBS_LEVEL_INFO,
							 log_level_options,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);

	DefineCustomIntVariable("obs.max_message_size",
							"Log messages longer than this are truncated and marked.",
							NULL,
							&obs_max_message_size,
							64 * 1024, 256, 64 * 1024 * 1024,
							PGC_SUSET, GUC_UNIT_BYTE,
							NULL, NULL, NULL);

	DefineCustomIntVariable("obs.max_open_spans",
							"Maximum number of spans one session may have open at once.",
							NULL,
							&obs_max_open_spans,
							1000, 1, 1000000,
							PGC_USERSET, 0,
							NULL, NULL, NULL);

	DefineCustomStringVariable("obs.service_name",
							   "Service name stored with spans when start_span() is not given one.",
							   "Empty means application_name, or \"postgres\" when that is empty too.",
							   &obs_service_name,
							   "",
							   PGC_USERSET, 0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("obs.traceparent",
							   "W3C traceparent of an external trace that new root spans continue.",
							   NULL,
							   &obs_traceparent_setting,
							   "",
							   PGC_USERSET, 0,
							   check_traceparent, NULL, NULL);

	define_ingest_gucs();
	define_ship_gucs();

	MarkGUCPrefixReserved("obs");
}
