/*-------------------------------------------------------------------------
 * settings.c
 *	  The variables behind every obs.* setting, with their boot values.
 *
 * They live in the bottom layer because every layer reads them; src/guc.c
 * (the top layer) registers them with PostgreSQL and checks new values.
 * Defining them here keeps the link-time graph of src/ acyclic as well as
 * the include graph: no lower layer refers to a symbol of a higher one
 * (test/suites/layers.sh checks both).
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "core/core.h"

int			obs_log_min_level = OBS_LEVEL_INFO;
int			obs_max_message_size = 64 * 1024;
int			obs_max_open_spans = 1000;
char	   *obs_service_name = NULL;
char	   *obs_traceparent_setting = NULL;

/* buffered ingest, sampling and instrumentation (see ingest.h) */
bool		obs_preloaded = false;
int			obs_write_path = OBS_WRITE_TRANSACTIONAL;
int			obs_max_databases = 4;
int			obs_buffer_size = 8192;
int			obs_flushers_per_database = 1;
int			obs_buffer_full_action = OBS_FULL_WAIT;
int			obs_buffer_full_timeout = 1000;
int			obs_flush_interval = 200;
int			obs_batch_size = 1000;
int			obs_shutdown_timeout = 10000;
double		obs_trace_sample_rate = 1.0;
double		obs_log_sample_rate = 1.0;
double		obs_metric_sample_rate = 1.0;
char	   *obs_instrument_functions = NULL;
char	   *obs_instrument_metric_prefix = NULL;
int			obs_instrument_metric_interval = 0;
bool		obs_debug_corrupt_records = false;
bool		obs_debug_store_error = false;
