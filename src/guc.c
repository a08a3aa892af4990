/*-------------------------------------------------------------------------
 * guc.c
 *	  Every obs.* setting, defined in one place.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"

#include "obs.h"

int			obs_log_min_level = OBS_LEVEL_INFO;
int			obs_max_message_size = 64 * 1024;
int			obs_max_open_spans = 1000;
char	   *obs_service_name = NULL;
char	   *obs_traceparent_setting = NULL;

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

void
obs_guc_init(void)
{
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

	MarkGUCPrefixReserved("obs");
}
