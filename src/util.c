/*-------------------------------------------------------------------------
 * util.c
 *	  Helpers shared by the signal modules: catalog look-ups, argument
 *	  checks, and the one direct insert path every signal uses today.
 *
 * obs_insert_row() is the transactional write path: it forms a heap tuple
 * and inserts it with index maintenance, without going through the
 * planner or executor, which is what lets obs.log() keep up with a bare
 * INSERT.  It bypasses table privileges, triggers and rules on purpose:
 * writing is governed by EXECUTE on obs's functions (see README,
 * Privileges), and obs's own tables carry no triggers.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/tableam.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "obs.h"

Oid
obs_schema_oid(void)
{
	Oid			nsp = get_namespace_oid("obs", true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_SCHEMA),
				 errmsg("schema \"obs\" does not exist"),
				 errhint("Run CREATE EXTENSION obs.")));
	return nsp;
}

Oid
obs_relation_oid(const char *relname)
{
	Oid			relid = get_relname_relid(relname, obs_schema_oid());

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"obs.%s\" does not exist", relname),
				 errhint("Run CREATE EXTENSION obs, or ALTER EXTENSION obs UPDATE.")));
	return relid;
}

Oid
obs_type_oid(const char *typname)
{
	Oid			typid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										CStringGetDatum(typname),
										ObjectIdGetDatum(obs_schema_oid()));

	if (!OidIsValid(typid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("type \"obs.%s\" does not exist", typname)));
	return typid;
}

/* the Datum (pg_enum oid) of label in enum type enumtypid */
Datum
obs_enum_datum(Oid enumtypid, const char *label)
{
	Oid			oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
									  ObjectIdGetDatum(enumtypid),
									  CStringGetDatum(label));

	if (!OidIsValid(oid))
		elog(ERROR, "enum label \"%s\" missing from type %u", label, enumtypid);
	return ObjectIdGetDatum(oid);
}

/* refuse to write where a plain INSERT would be refused */
void
obs_check_writable(const char *what)
{
	PreventCommandIfReadOnly(what);
	PreventCommandIfParallelMode(what);
}

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

/*
 * Insert one row into rel (opened with RowExclusiveLock) and its indexes.
 * Unique indexes are checked; a violation raises the usual 23505 error.
 */
void
obs_insert_row(Relation rel, Datum *values, bool *nulls)
{
	EState	   *estate = CreateExecutorState();
	ResultRelInfo *rri = makeNode(ResultRelInfo);
	TupleTableSlot *slot;
	HeapTuple	tuple;

	InitResultRelInfo(rri, rel, 1, NULL, 0);
	ExecOpenIndices(rri, false);

	tuple = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	slot = ExecInitExtraTupleSlot(estate, RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tuple, slot, false);

	simple_table_tuple_insert(rel, slot);
	if (rri->ri_NumIndices > 0)
		ExecInsertIndexTuples(rri, slot, estate, false, false, NULL, NIL);

	ExecCloseIndices(rri);
	ExecResetTupleTable(estate->es_tupleTable, false);
	FreeExecutorState(estate);
}
