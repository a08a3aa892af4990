/*-------------------------------------------------------------------------
 * copy.c
 *	  COPY ... TO ... (FORMAT parquet): a ProcessUtility hook.
 *
 * The hook takes COPY TO statements that ask for FORMAT parquet, or that
 * write to a server file whose name ends in ".parquet" and give no FORMAT;
 * every other statement, COPY FROM and COPY in other formats included,
 * goes to the previous hook or to standard_ProcessUtility untouched.
 *
 * Checks follow core COPY's order and wording: the privilege to write a
 * server file first, then the options, then the path.  COPY table TO is
 * turned into SELECT columns FROM ONLY table (FROM table for partitioned
 * tables and views) and run by export.c like COPY (query) TO, so reading
 * needs SELECT and row-level security applies.
 *
 * The hook is installed when obs.so is loaded: by preloading it
 * (shared_preload_libraries or session_preload_libraries), by LOAD 'obs',
 * or by CREATE EXTENSION obs / the first call of an obs function in the
 * session.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parse_node.h"
#include "storage/lmgr.h"
#include "tcop/utility.h"
#include "utils/lsyscache.h"

#include "core/core.h"
#include "pq_export.h"
#include "pq_read.h"

static ProcessUtility_hook_type prev_process_utility = NULL;

static const char *const codec_names[] = {"uncompressed", "snappy", "gzip", "zstd"};
static const ObsPqCodec codec_values[] = {OBS_PQ_UNCOMPRESSED, OBS_PQ_SNAPPY, OBS_PQ_GZIP, OBS_PQ_ZSTD};

static bool
has_parquet_suffix(const char *filename)
{
	size_t		len = strlen(filename);

	return len >= 8 && pg_strcasecmp(filename + len - 8, ".parquet") == 0;
}

/* is this a COPY the hook should handle? never errors */
static bool
is_parquet_copy(CopyStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "format") == 0)
			return def->arg != NULL && IsA(def->arg, String) &&
				pg_strcasecmp(strVal(def->arg), "parquet") == 0;
	}
	return !stmt->is_program && stmt->filename != NULL &&
		has_parquet_suffix(stmt->filename);
}

/* an integer option value, given as a number or a string */
static int64
option_int64(ParseState *pstate, DefElem *def, int64 min, int64 max)
{
	char	   *s = defGetString(def);
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid value for option \"%s\": \"%s\"", def->defname, s),
				 errdetail("The value must be an integer."),
				 parser_errposition(pstate, def->location)));
	if (v < min || v > max)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("value %lld for option \"%s\" is out of range", v, def->defname),
				 errdetail("Valid values are from " INT64_FORMAT " to " INT64_FORMAT ".", min, max),
				 parser_errposition(pstate, def->location)));
	return (int64) v;
}

static void
parse_options(ParseState *pstate, List *options, ObsPqOptions *o)
{
	DefElem    *format = NULL;
	DefElem    *compression = NULL;
	DefElem    *level = NULL;
	DefElem    *rows = NULL;
	DefElem    *bytes = NULL;
	ListCell   *lc;

	obs_pq_default_options(o);
	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);
		DefElem   **slot;

		if (strcmp(def->defname, "format") == 0)
			slot = &format;
		else if (strcmp(def->defname, "compression") == 0)
			slot = &compression;
		else if (strcmp(def->defname, "compression_level") == 0)
			slot = &level;
		else if (strcmp(def->defname, "row_group_size") == 0)
			slot = &rows;
		else if (strcmp(def->defname, "row_group_size_bytes") == 0)
			slot = &bytes;
		else
			ereport(ERROR,
					(errcode(ERRCODE_SYNTAX_ERROR),
					 errmsg("option \"%s\" not recognized", def->defname),
					 errhint("FORMAT parquet takes the options COMPRESSION, COMPRESSION_LEVEL, ROW_GROUP_SIZE and ROW_GROUP_SIZE_BYTES."),
					 parser_errposition(pstate, def->location)));
		if (*slot != NULL)
			errorConflictingDefElem(def, pstate);
		*slot = def;
	}

	if (format)
	{
		char	   *f = defGetString(format);

		if (pg_strcasecmp(f, "parquet") != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("COPY format \"%s\" not recognized", f),
					 parser_errposition(pstate, format->location)));
	}
	if (compression)
	{
		char	   *c = defGetString(compression);
		int			i = obs_parse_choice(c, codec_names, lengthof(codec_names));

		if (i < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("COPY compression \"%s\" not recognized", c),
					 errhint("Valid values are zstd, snappy, gzip and uncompressed."),
					 parser_errposition(pstate, compression->location)));
		o->codec = codec_values[i];
	}
	if (level)
	{
		int			min,
					max;
		const char *name = "zstd";

		for (int i = 0; i < (int) lengthof(codec_values); i++)
			if (codec_values[i] == o->codec)
				name = codec_names[i];
		if (!obs_pq_codec_level_range(o->codec, &min, &max))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("COPY compression \"%s\" does not accept a compression level", name),
					 parser_errposition(pstate, level->location)));
		o->level = (int) option_int64(pstate, level, min, max);
	}
	if (rows)
		o->row_group_rows = option_int64(pstate, rows, 1, PG_INT64_MAX);
	if (bytes)
		o->row_group_bytes = option_int64(pstate, bytes, 1, PG_INT64_MAX);
}

/* SELECT columns FROM [ONLY] relation, for COPY relation TO */
static Node *
relation_query(CopyStmt *stmt)
{
	Oid			relid = RangeVarGetRelid(stmt->relation, AccessShareLock, false);
	char		relkind = get_rel_relkind(relid);
	SelectStmt *select = makeNode(SelectStmt);
	RangeVar   *from;
	ListCell   *lc;

	from = makeRangeVar(get_namespace_name(get_rel_namespace(relid)),
						get_rel_name(relid), stmt->relation->location);
	/* like core COPY: a table's own rows, not its inheritance children */
	from->inh = (relkind != RELKIND_RELATION);

	if (stmt->attlist == NIL)
	{
		ColumnRef  *cr = makeNode(ColumnRef);
		ResTarget  *rt = makeNode(ResTarget);

		cr->fields = list_make1(makeNode(A_Star));
		cr->location = -1;
		rt->val = (Node *) cr;
		rt->location = -1;
		select->targetList = list_make1(rt);
	}
	else
	{
		foreach(lc, stmt->attlist)
		{
			ColumnRef  *cr = makeNode(ColumnRef);
			ResTarget  *rt = makeNode(ResTarget);
			ListCell   *prev;

			foreach(prev, stmt->attlist)
			{
				if (prev == lc)
					break;
				if (strcmp(strVal(lfirst(prev)), strVal(lfirst(lc))) == 0)
					ereport(ERROR,
							(errcode(ERRCODE_DUPLICATE_COLUMN),
							 errmsg("column \"%s\" specified more than once",
									strVal(lfirst(lc)))));
			}

			/* like core COPY: only the relation's own user columns */
			{
				AttrNumber	attnum = get_attnum(relid, strVal(lfirst(lc)));

				if (attnum <= 0)
					ereport(ERROR,
							(errcode(ERRCODE_UNDEFINED_COLUMN),
							 errmsg("column \"%s\" of relation \"%s\" does not exist",
									strVal(lfirst(lc)), get_rel_name(relid))));
			}
			/* qualified by the relation, so no name can resolve to anything else */
			cr->fields = list_make2(makeString(get_rel_name(relid)),
									makeString(strVal(lfirst(lc))));
			cr->location = -1;
			rt->name = pstrdup(strVal(lfirst(lc)));
			rt->val = (Node *) cr;
			rt->location = -1;
			select->targetList = lappend(select->targetList, rt);
		}
	}
	select->fromClause = list_make1(from);
	return (Node *) select;
}

static uint64
parquet_copy(CopyStmt *stmt, const char *query_string)
{
	ParseState *pstate = make_parsestate(NULL);
	ObsPqOptions opts;
	Node	   *query;

	pstate->p_sourcetext = query_string;

	if (stmt->is_program)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("COPY TO PROGRAM is not supported with FORMAT parquet"),
				 errhint("Write to a file or to STDOUT.")));
	if (stmt->filename != NULL)
		obs_pq_check_write_privilege();
	if (stmt->whereClause)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("WHERE clause not allowed with COPY TO"),
				 parser_errposition(pstate, exprLocation(stmt->whereClause))));

	parse_options(pstate, stmt->options, &opts);

	if (stmt->filename != NULL && !is_absolute_path(stmt->filename))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("relative path not allowed for COPY to file")));

	if (stmt->relation)
		query = relation_query(stmt);
	else
		query = stmt->query;

	return obs_pq_export(query, query_string, stmt->filename, &opts);
}

static void
parquet_process_utility(PlannedStmt *pstmt, const char *queryString,
						bool readOnlyTree, ProcessUtilityContext context,
						ParamListInfo params, QueryEnvironment *queryEnv,
						DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;

	if (IsA(parsetree, CopyStmt) && is_parquet_copy((CopyStmt *) parsetree))
	{
		CopyStmt   *stmt = copyObject((CopyStmt *) parsetree);
		uint64		processed;

		if (stmt->is_from)
			processed = obs_pq_import(stmt, queryString);
		else
			processed = parquet_copy(stmt, queryString);

		if (qc)
			SetQueryCompletion(qc, CMDTAG_COPY, processed);
		return;
	}

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
obs_parquet_init(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = parquet_process_utility;
}
