/*-------------------------------------------------------------------------
 * instrument.h
 *	  Automatic instrumentation of SQL functions through the fmgr hooks
 *	  (obs.instrument_functions).  A top layer beside src/api: it uses the
 *	  span stack (trace) and the buffered path (ingest).
 *-------------------------------------------------------------------------
 */
#ifndef OBS_INSTRUMENT_H
#define OBS_INSTRUMENT_H

#include "core/core.h"

extern void obs_instrument_init(void);
extern bool obs_instrument_check_list(const char *list, const char **why);
extern void obs_instrument_assign(const char *newval, void *extra);

#endif							/* OBS_INSTRUMENT_H */
