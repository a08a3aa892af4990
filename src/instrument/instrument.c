/*-------------------------------------------------------------------------
 * instrument.c
 *	  Automatic instrumentation of SQL functions (the seed's
 *	  @trace_execution and @monitor_performance) through the fmgr hooks.
 *
 * obs.instrument_functions names functions, e.g.
 * 'public.process_data, fetch_prices(text[])': a name without a schema
 * matches that name in every schema, a name without an argument list
 * matches every overload.  needs_fmgr_hook answers from a backend-local
 * hash of the matching oids, built on first use in a transaction and again
 * after the setting changes or pg_proc changes; with the setting empty it
 * returns at once, so functions not named pay nothing beyond that check
 * when their call site is set up (and calls of named SQL functions are no
 * longer inlined, since the planner asks the same hook).
 *
 * For a named function, FHET_START opens a span (operation = function
 * name, service CUSTOM, parent = the innermost open span, on the stack of
 * trace/stack.c);
 * FHET_END finishes it with status ok, FHET_ABORT with status error and
 * "SQLSTATE: message" taken from the error being thrown; both record the
 * metric <obs.instrument_metric_prefix>.<function> = duration in ms with
 * tags {"status": "ok"|"error"}.  Instrumented records always take the
 * buffered path, whatever obs.write_path says: nothing may throw or wait
 * while an error unwinds (FHET_ABORT drops and counts a record that does
 * not fit), and the span of a failing call must outlive its transaction.
 * After a normal return (FHET_END) a full buffer is waited for like by any
 * writer, interruptibly.  This is why instrumentation needs obs preloaded.
 *
 * The state of a call lives in the fmgr hook's private datum, not in a
 * backend-global stack, so a traced procedure that COMMITs still finishes
 * its span.  Nothing is traced in a database without extension obs (a
 * schema merely named obs does not count, see store/catalog.c), in a
 * parallel worker (its spans would have no parent) or during recovery.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "ingest/ingest.h"
#include "instrument/instrument.h"

typedef struct TracedFunc
{
	Oid			oid;			/* hash key */
	char		name[NAMEDATALEN];
} TracedFunc;

/*
 * One instrumented call in progress, hung off the call's fmgr private
 * datum (fcache->arg) and chained to an outer call of the same FmgrInfo
 * should that ever be re-entered.  Allocated in TopMemoryContext so that
 * it outlives COMMITs inside a traced procedure; freed at FHET_END or
 * FHET_ABORT.
 */
typedef struct Frame
{
	struct Frame *prev;
	bool		has_span;
	ObsSpanId	span;
	TimestampTz start;
	char		name[NAMEDATALEN];
} Frame;

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

static bool instrument_active = false;
static bool traced_valid = false;

static HTAB *traced = NULL;
static MemoryContext instr_cxt = NULL;
static MemoryContext abort_cxt = NULL;
static Jsonb *tags_ok = NULL;
static Jsonb *tags_error = NULL;

/* ------------------------------------------------------ parsing the list */

typedef struct FuncSpec
{
	char	   *schema;			/* NULL: any schema */
	char	   *name;
	bool		has_args;
	List	   *args;			/* of char *, type names */
} FuncSpec;

/* split s at commas outside parentheses and double quotes */
static List *
split_top(const char *s)
{
	List	   *out = NIL;
	int			depth = 0;
	bool		quoted = false;
	const char *start = s;

	for (const char *p = s;; p++)
	{
		if (*p == '"')
			quoted = !quoted;
		else if (!quoted && *p == '(')
			depth++;
		else if (!quoted && *p == ')')
			depth--;
		if (*p == '\0' || (*p == ',' && depth == 0 && !quoted))
		{
			char	   *item = pnstrdup(start, p - start);

			out = lappend(out, item);
			if (*p == '\0')
				break;
			start = p + 1;
		}
	}
	return out;
}

static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n'))
		*--e = '\0';
	return s;
}

/* a type name as obs accepts it: words, dots, quotes, a typmod, [] */
static bool
type_name_ok(const char *t)
{
	if (*t == '\0')
		return false;
	for (const char *p = t; *p; p++)
		if (!(isalnum((unsigned char) *p) || strchr("_ .\"[](),$", *p) != NULL ||
			  IS_HIGHBIT_SET(*p)))
			return false;
	return true;
}

/* parse one list into FuncSpecs; false with *why on a syntax error */
static bool
parse_list(const char *list, List **specs, const char **why)
{
	ListCell   *lc;

	*specs = NIL;
	foreach(lc, split_top(list))
	{
		char	   *item = trim((char *) lfirst(lc));
		char	   *paren;
		List	   *names;
		FuncSpec   *f = palloc0(sizeof(FuncSpec));

		if (*item == '\0')
		{
			*why = "A function name is empty.";
			return false;
		}
		paren = strchr(item, '(');
		if (paren != NULL)
		{
			char	   *close = item + strlen(item) - 1;
			char	   *args;

			if (*close != ')')
			{
				*why = "An argument list must end with \")\".";
				return false;
			}
			*close = '\0';
			*paren = '\0';
			args = trim(paren + 1);
			f->has_args = true;
			if (*args != '\0')
			{
				ListCell   *ac;

				foreach(ac, split_top(args))
				{
					char	   *t = trim((char *) lfirst(ac));

					if (!type_name_ok(t))
					{
						*why = "An argument type is empty or not a type name.";
						return false;
					}
					f->args = lappend(f->args, t);
				}
			}
		}
		if (!SplitIdentifierString(trim(item), '.', &names) ||
			list_length(names) < 1 || list_length(names) > 2)
		{
			*why = "A function is named as name or schema.name, optionally followed by (argument types).";
			return false;
		}
		if (list_length(names) == 2)
		{
			f->schema = pstrdup(linitial(names));
			f->name = pstrdup(lsecond(names));
		}
		else
			f->name = pstrdup(linitial(names));
		*specs = lappend(*specs, f);
	}
	return true;
}

bool
obs_instrument_check_list(const char *list, const char **why)
{
	List	   *specs;

	return parse_list(list, &specs, why);
}

void
obs_instrument_assign(const char *newval, void *extra)
{
	instrument_active = newval != NULL && newval[0] != '\0';
	traced_valid = false;
}

/* ---------------------------------------------------- resolving the oids */

/* SQL spellings of built-in types that are not their catalog names */
static const char *const type_aliases[][2] = {
	{"int", "int4"}, {"integer", "int4"}, {"smallint", "int2"}, {"bigint", "int8"},
	{"real", "float4"}, {"float", "float8"}, {"double precision", "float8"},
	{"boolean", "bool"}, {"decimal", "numeric"}, {"dec", "numeric"},
	{"character varying", "varchar"}, {"char varying", "varchar"},
	{"character", "bpchar"}, {"char", "bpchar"},
	{"timestamp with time zone", "timestamptz"}, {"timestamp without time zone", "timestamp"},
	{"time with time zone", "timetz"}, {"time without time zone", "time"},
	{"bit varying", "varbit"}
};

/*
 * Oid of a type name as written in the list, without the SQL grammar
 * (which may throw): [schema.]name, SQL aliases, a typmod, [] suffixes.
 * InvalidOid when there is no such type.
 */
static Oid
lookup_type(const char *spec)
{
	char	   *s = pstrdup(spec);
	int			ndims = 0;
	char	   *p;
	List	   *names;
	Oid			typid = InvalidOid;

	for (;;)
	{
		char	   *e = trim(s);

		s = e;
		if (strlen(s) >= 2 && strcmp(s + strlen(s) - 2, "[]") == 0)
		{
			s[strlen(s) - 2] = '\0';
			ndims++;
			continue;
		}
		if (strlen(s) > 0 && s[strlen(s) - 1] == ')' && (p = strrchr(s, '(')) != NULL)
		{
			*p = '\0';
			continue;
		}
		break;
	}
	/* collapse runs of blanks so the alias table matches */
	{
		char	   *w = s;
		bool		blank = false;

		for (char *r = s; *r; r++)
		{
			if (*r == ' ' || *r == '\t' || *r == '\n')
			{
				blank = true;
				continue;
			}
			if (blank && w != s)
				*w++ = ' ';
			blank = false;
			*w++ = *r;
		}
		*w = '\0';
	}
	for (int i = 0; i < (int) lengthof(type_aliases); i++)
		if (pg_strcasecmp(s, type_aliases[i][0]) == 0)
		{
			s = pstrdup(type_aliases[i][1]);
			break;
		}
	if (!SplitIdentifierString(s, '.', &names))
		return InvalidOid;
	if (list_length(names) == 1)
		typid = TypenameGetTypid(linitial(names));
	else if (list_length(names) == 2)
	{
		Oid			nsp = get_namespace_oid(linitial(names), true);

		if (OidIsValid(nsp))
			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum(lsecond(names)), ObjectIdGetDatum(nsp));
	}
	while (OidIsValid(typid) && ndims-- > 0)
		typid = get_array_type(typid);
	return typid;
}

static void
add_matches(FuncSpec *f)
{
	Oid			nsp = InvalidOid;
	Oid		   *argtypes = NULL;
	int			nargs = list_length(f->args);
	CatCList   *catlist;

	if (f->schema != NULL)
	{
		nsp = get_namespace_oid(f->schema, true);
		if (!OidIsValid(nsp))
			return;
	}
	if (f->has_args)
	{
		ListCell   *lc;
		int			i = 0;

		argtypes = palloc(Max(nargs, 1) * sizeof(Oid));
		foreach(lc, f->args)
		{
			argtypes[i] = lookup_type(lfirst(lc));
			if (!OidIsValid(argtypes[i]))
				return;
			i++;
		}
	}

	catlist = SearchSysCacheList1(PROCNAMEARGSNSP, CStringGetDatum(f->name));
	for (int i = 0; i < catlist->n_members; i++)
	{
		HeapTuple	tup = &catlist->members[i]->tuple;
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		TracedFunc *e;
		bool		found;

		if (OidIsValid(nsp) && proc->pronamespace != nsp)
			continue;
		if (f->has_args &&
			(proc->pronargs != nargs ||
			 memcmp(proc->proargtypes.values, argtypes, nargs * sizeof(Oid)) != 0))
			continue;
		e = hash_search(traced, &proc->oid, HASH_ENTER, &found);
		strlcpy(e->name, NameStr(proc->proname), NAMEDATALEN);
	}
	ReleaseSysCacheList(catlist);
}

/* (re)build the hash of traced oids; needs catalog access */
static void
resolve(void)
{
	HASHCTL		ctl;
	List	   *specs;
	const char *why;
	ListCell   *lc;
	MemoryContext old;

	/* valid first: an invalidation during the lookups makes us go again */
	do
	{
		traced_valid = true;
		MemoryContextReset(instr_cxt);
		traced = NULL;
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(TracedFunc);
		ctl.hcxt = instr_cxt;
		traced = hash_create("obs instrumented functions", 16, &ctl,
							 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);

		/* nothing is traced in a database without obs */
		if (!obs_extension_installed())
			break;

		old = MemoryContextSwitchTo(instr_cxt);
		if (parse_list(obs_instrument_functions, &specs, &why))
			foreach(lc, specs)
				add_matches((FuncSpec *) lfirst(lc));
		MemoryContextSwitchTo(old);
	} while (!traced_valid);
}

static void
proc_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	traced_valid = false;
}

static void
namespace_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	traced_valid = false;
}

/* no instrumentation in parallel workers (their spans would be orphans) or on a standby */
static bool
instrument_here(void)
{
	return instrument_active && !IsParallelWorker() && !RecoveryInProgress();
}

static TracedFunc *
lookup_traced(Oid fn_oid)
{
	if (!traced_valid)
	{
		if (!IsTransactionState())
			return NULL;
		resolve();
	}
	return hash_search(traced, &fn_oid, HASH_FIND, NULL);
}

/* ------------------------------------------------------------- the hooks */

static bool
obs_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	if (!instrument_here())
		return false;
	return lookup_traced(fn_oid) != NULL;
}

/* one sample of the duration metric, or of its call count (an aggregate) */
static void
put_metric(const char *prefix, const char *fname, const char *suffix, int kind, double value,
		   bool failed, bool in_abort)
{
	ObsMetricRecord m;

	if (!obs_sample(obs_metric_sample_rate))
	{
		obs_count_sampled_out(OBS_SIGNAL_METRIC);
		return;
	}
	m.name = psprintf("%s.%s%s", prefix, fname, suffix);
	m.kind = kind;
	m.value = value;
	m.tags = failed ? tags_error : tags_ok;
	m.ts = GetCurrentTimestamp();
	(void) obs_enqueue_metric(&m, in_abort);
}

/*
 * With obs.instrument_metric_interval > 0 a session aggregates the
 * durations of its traced calls per function and status, and records, once
 * the interval since the first call of the aggregate has passed (at the
 * next call) and at the end of each transaction: <prefix>.<function> =
 * the mean duration in ms (a gauge) and <prefix>.<function>.calls = the
 * number of calls (a counter), tagged with the status.  A traced call then
 * costs the flusher one span row instead of a span and a metric row.
 * An aggregate keeps the prefix of its first call: a call under another
 * prefix (the setting changed, say by SET LOCAL) first records the
 * aggregate under its own, and a call while the prefix is empty is not
 * counted, as without an interval.
 */
typedef struct DurationAgg
{
	char		key[NAMEDATALEN + 1];	/* hash key: status byte, then function name */
	int64		calls;
	double		sum_ms;
	TimestampTz since;			/* first call of the aggregate */
	char	   *prefix;			/* obs.instrument_metric_prefix at that call
								 * (TopMemoryContext) */
	bool		mean_sent;		/* the mean is in the buffer, the count not yet */
} DurationAgg;

static HTAB *aggs = NULL;
static int	naggs_pending = 0;

static void
emit_agg(DurationAgg *agg, bool in_abort)
{
	bool		failed = agg->key[0] == 'e';

	/*
	 * put_metric() may throw (not in_abort): the buffer wait cancelled, a
	 * record too large.  The aggregate stays until both points are in the
	 * buffer, and the abort's flush sends only what is missing: no point
	 * is lost, none written twice.
	 */
	if (agg->calls > 0)
	{
		if (!agg->mean_sent)
		{
			put_metric(agg->prefix, agg->key + 1, "", 0, agg->sum_ms / agg->calls, failed, in_abort);
			agg->mean_sent = true;
		}
		put_metric(agg->prefix, agg->key + 1, ".calls", 1, (double) agg->calls, failed, in_abort);
		naggs_pending--;
	}
	agg->calls = 0;
	agg->sum_ms = 0;
	agg->mean_sent = false;
}

/* at the end of a transaction: record every aggregate still open */
static void
flush_aggs(bool in_abort)
{
	HASH_SEQ_STATUS st;
	DurationAgg *agg;
	MemoryContext old;

	if (aggs == NULL || naggs_pending == 0)
		return;
	old = MemoryContextSwitchTo(abort_cxt);
	hash_seq_init(&st, aggs);
	while ((agg = hash_seq_search(&st)) != NULL)
		emit_agg(agg, in_abort);
	MemoryContextSwitchTo(old);
	MemoryContextReset(abort_cxt);
}

static void
aggs_xact_callback(XactEvent event, void *arg)
{
	/* before commit a record may still wait for room; after an abort never */
	if (event == XACT_EVENT_PRE_COMMIT || event == XACT_EVENT_PARALLEL_PRE_COMMIT ||
		event == XACT_EVENT_PRE_PREPARE)
		flush_aggs(false);
	else if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		flush_aggs(true);
}

static void
record_duration(const char *fname, TimestampTz start, bool failed, bool in_abort)
{
	TimestampTz now;
	double		ms;
	char		key[NAMEDATALEN + 1];
	DurationAgg *agg;
	bool		found;

	if (obs_instrument_metric_prefix == NULL || obs_instrument_metric_prefix[0] == '\0')
		return;
	now = GetCurrentTimestamp();
	ms = (double) (now - start) / 1000.0;
	if (obs_instrument_metric_interval <= 0)
	{
		put_metric(obs_instrument_metric_prefix, fname, "", 0, ms, failed, in_abort);
		return;
	}
	if (aggs == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN + 1;
		ctl.entrysize = sizeof(DurationAgg);
		ctl.hcxt = TopMemoryContext;
		aggs = hash_create("obs instrumented durations", 16, &ctl,
						   HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	}
	key[0] = failed ? 'e' : 'o';
	strlcpy(key + 1, fname, NAMEDATALEN);
	agg = hash_search(aggs, key, HASH_ENTER, &found);
	if (!found)
	{
		agg->calls = 0;
		agg->prefix = NULL;
		agg->mean_sent = false;
	}
	/* the calls so far belong to the prefix they were made under */
	if (agg->calls > 0 && strcmp(agg->prefix, obs_instrument_metric_prefix) != 0)
		emit_agg(agg, in_abort);
	if (agg->calls == 0)
	{
		if (agg->prefix == NULL || strcmp(agg->prefix, obs_instrument_metric_prefix) != 0)
		{
			char	   *p = MemoryContextStrdup(TopMemoryContext, obs_instrument_metric_prefix);

			if (agg->prefix != NULL)
				pfree(agg->prefix);
			agg->prefix = p;
		}
		agg->sum_ms = 0;
		agg->since = now;
		naggs_pending++;
	}
	agg->calls++;
	agg->sum_ms += ms;
	if (TimestampDifferenceExceeds(agg->since, now, obs_instrument_metric_interval))
		emit_agg(agg, in_abort);
}

/*
 * Open a span for an instrumented function call: service CUSTOM, parent
 * from the stack.  False (and nothing opened) when obs.max_open_spans is
 * reached: instrumentation never fails the call it observes.
 */
static bool
span_begin(const char *operation, ObsSpanId *out)
{
	ObsOpenSpan s;

	if (obs_span_count() >= obs_max_open_spans)
		return false;
	obs_span_inherit_context(&s);
	obs_fast_span_id(&s.span_id);
	s.service_type = "CUSTOM";
	s.tags = NULL;
	s.start_time = GetCurrentTimestamp();
	s.operation = obs_span_strdup(operation);
	s.service_name = obs_span_strdup(obs_service_name != NULL && obs_service_name[0] != '\0'
									  ? obs_service_name : obs_default_logger());
	obs_span_push(&s);
	*out = s.span_id;
	return true;
}

/*
 * Finish a span opened by span_begin(), wherever it is on the stack,
 * with status ok or error.  Returns its duration in microseconds, or -1
 * when it is no longer open.
 */
static int64
span_end(const ObsSpanId *id, bool failed, const char *error, bool in_abort)
{
	int			pos = obs_span_find(id);
	ObsOpenSpan s;
	ObsSpanRecord rec;

	if (pos < 0)
		return -1;
	s = *obs_span_at(pos);
	obs_span_record(&s, failed ? "error" : "ok", error, &rec);

	/*
	 * Pop first: if the buffer wait is cancelled, the call's span must not
	 * stay open for the rest of the session.  Instrumentation always takes
	 * the buffered path, whatever obs.write_path says; in_abort (a traced
	 * call that raised) also makes it never throw nor wait, since the
	 * caller's transaction is going away.
	 */
	obs_span_pop(pos, false);
	if (!obs_flags_sampled(s.flags))
		obs_count_sampled_out(OBS_SIGNAL_SPAN);
	else
		(void) obs_enqueue_span(&rec, in_abort);
	obs_span_free(&s);
	return rec.end_time - rec.start_time;
}

static void
begin_call(TracedFunc *f, Datum *private)
{
	Frame	   *fr;

	/* claim the ring now, where errors are still allowed */
	if (!obs_buffer_ready())
		return;
	if (tags_ok == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		tags_ok = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"status\": \"ok\"}")));
		tags_error = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{\"status\": \"error\"}")));
		MemoryContextSwitchTo(old);
	}
	fr = MemoryContextAllocZero(TopMemoryContext, sizeof(Frame));
	strlcpy(fr->name, f->name, NAMEDATALEN);
	fr->start = GetCurrentTimestamp();
	fr->has_span = span_begin(f->name, &fr->span);
	fr->prev = (Frame *) DatumGetPointer(*private);
	*private = PointerGetDatum(fr);
}

/*
 * Finish the call's span and record its duration.  Only FHET_ABORT is
 * in_abort (nothing may throw or wait); after a normal return the records
 * go through the buffer like any caller's, waiting as
 * obs.buffer_full_action says.
 */
static void
end_call(Datum *private, bool failed)
{
	Frame	   *fr = (Frame *) DatumGetPointer(*private);
	Frame		copy;
	MemoryContext old;
	char	   *error = NULL;

	if (fr == NULL)
		return;
	/* pop first: whatever happens next, the frame is gone */
	copy = *fr;
	*private = PointerGetDatum(fr->prev);
	pfree(fr);

	/* never in ErrorContext: CopyErrorData() refuses it */
	old = MemoryContextSwitchTo(abort_cxt);
	if (failed)
	{
		ErrorData  *edata = CopyErrorData();

		error = psprintf("%s: %s", unpack_sql_state(edata->sqlerrcode),
						 edata->message ? edata->message : "");
		if (strlen(error) > 8192)
			error[pg_mbcliplen(error, strlen(error), 8192)] = '\0';
	}
	if (copy.has_span)
		(void) span_end(&copy.span, failed, error, failed);
	record_duration(copy.name, copy.start, failed, failed);
	MemoryContextSwitchTo(old);
	MemoryContextReset(abort_cxt);
}

static void
obs_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);

	switch (event)
	{
		case FHET_START:
			{
				TracedFunc *f;

				if (!instrument_here())
					return;
				f = lookup_traced(flinfo->fn_oid);
				if (f != NULL)
					begin_call(f, private);
				break;
			}
		case FHET_END:
			end_call(private, false);
			break;
		case FHET_ABORT:
			end_call(private, true);
			break;
	}
}

void
obs_instrument_init(void)
{
	instr_cxt = AllocSetContextCreate(TopMemoryContext, "obs instrumentation",
									  ALLOCSET_SMALL_SIZES);
	abort_cxt = AllocSetContextCreate(TopMemoryContext, "obs instrumentation call",
									  ALLOCSET_SMALL_SIZES);
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = obs_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = obs_fmgr_hook;
	RegisterXactCallback(aggs_xact_callback, NULL);
	CacheRegisterSyscacheCallback(PROCOID, proc_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, namespace_inval, (Datum) 0);
}
