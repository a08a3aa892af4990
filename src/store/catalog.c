/*-------------------------------------------------------------------------
 * catalog.c
 *	  obs's own objects, found by extension membership, and the table
 *	  descriptors every write goes through.
 *
 * "Installed" means: extension obs exists in this database.  Its schema is
 * pg_extension.extnamespace, and every table and type obs writes through
 * must be a member of the extension (a pg_depend entry of type 'e').  A
 * schema that is merely named obs, with lookalike tables and types, is
 * never written to: forming a tuple against a type obs did not create
 * would store garbage or crash.
 *
 * The extension's oid and schema are cached per backend and dropped on
 * any pg_namespace or pg_type invalidation (CREATE and DROP EXTENSION
 * always create or drop obs's types); a table descriptor checks
 * membership again whenever its relation oid or that cache changes.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_am_d.h"
#include "catalog/pg_class.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "tcop/utility.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "store/store.h"

/* extension obs in this database: valid until the next invalidation */
static bool ext_valid = false;
static Oid	ext_oid = InvalidOid;
static Oid	ext_schema = InvalidOid;
static uint32 ext_generation = 1;	/* bumped at each invalidation */

static void
ext_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	ext_valid = false;
	ext_generation++;
}

/*
 * Enum labels obs writes, by type and label: the flusher needs two or
 * three per row.  Emptied by any change to pg_enum or pg_type.
 */
#define ENUM_CACHE_SIZE 64
typedef struct EnumCacheEntry
{
	Oid			typid;
	Oid			oid;
	char		label[NAMEDATALEN];
} EnumCacheEntry;
static EnumCacheEntry enum_cache[ENUM_CACHE_SIZE];
static int	enum_cache_used = 0;
static int	enum_cache_next = 0;

static void
enum_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	enum_cache_used = 0;
	enum_cache_next = 0;
}

/* register the invalidation callbacks; called once from _PG_init */
void
obs_store_init(void)
{
	CacheRegisterSyscacheCallback(NAMESPACEOID, ext_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, ext_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(ENUMOID, enum_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(TYPEOID, enum_inval, (Datum) 0);
}

/* oid and schema of extension obs, from pg_extension (no syscache there) */
static void
ext_lookup(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;

	if (ext_valid)
		return;
	ext_oid = InvalidOid;
	ext_schema = InvalidOid;
	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("obs"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		ext_oid = ((Form_pg_extension) GETSTRUCT(tup))->oid;
		ext_schema = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	ext_valid = true;
}

/* is extension obs installed in this database?  Needs a transaction */
bool
obs_extension_installed(void)
{
	ext_lookup();
	return OidIsValid(ext_oid);
}

/* the schema of extension obs; error when it is not installed */
Oid
obs_schema_oid(void)
{
	ext_lookup();
	if (!OidIsValid(ext_oid) || !OidIsValid(ext_schema))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"obs\" is not installed in this database"),
				 errhint("Run CREATE EXTENSION obs.")));
	return ext_schema;
}

/* error unless object (classid, objid) belongs to extension obs */
static void
check_member(Oid classid, Oid objid, const char *what, const char *name)
{
	if (getExtensionOfObject(classid, objid) != ext_oid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s \"%s\" is not a member of extension \"obs\"", what, name),
				 errhint("Drop the object, or reinstall the extension.")));
}

/* a relation of obs's schema by name; membership is checked by the caller */
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

/* a type of extension obs by name */
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
	check_member(TypeRelationId, typid, "type", typname);
	return typid;
}

/* the Datum (pg_enum oid) of label in enum type enumtypid */
Datum
obs_enum_datum(Oid enumtypid, const char *label)
{
	Oid			oid;
	EnumCacheEntry *e;

	for (int i = 0; i < enum_cache_used; i++)
		if (enum_cache[i].typid == enumtypid && strcmp(enum_cache[i].label, label) == 0)
			return ObjectIdGetDatum(enum_cache[i].oid);
	oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
						  ObjectIdGetDatum(enumtypid),
						  CStringGetDatum(label));
	if (!OidIsValid(oid))
		elog(ERROR, "enum label \"%s\" missing from type %u", label, enumtypid);
	/* a label is shorter than NAMEDATALEN, or it would not have been found */
	e = &enum_cache[enum_cache_next];
	e->typid = enumtypid;
	e->oid = oid;
	strlcpy(e->label, label, NAMEDATALEN);
	enum_cache_next = (enum_cache_next + 1) % ENUM_CACHE_SIZE;
	enum_cache_used = Max(enum_cache_used, enum_cache_next == 0 ? ENUM_CACHE_SIZE : enum_cache_next);
	return ObjectIdGetDatum(oid);
}

/* refuse to write where a plain INSERT would be refused */
void
obs_check_writable(const char *what)
{
	PreventCommandIfReadOnly(what);
	PreventCommandIfParallelMode(what);
}

/*
 * Refuse to write into a table whose shape is not the one obs was built
 * for: a missing, added, renamed or retyped column, a table that is
 * neither a heap table nor partitioned (a partition is checked against its
 * parent when a row is routed to it, see insert.c).  Forming a tuple against another shape would store
 * garbage or crash, so this runs on every open; it is a few comparisons.
 * Dropped columns are skipped: they hold no value, and obs's rows leave
 * them null (see store/insert.c).
 */
static void
check_table_shape(ObsTable *t, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i = 0;			/* logical column: what obs writes */
	int			a = 0;			/* physical attribute */

	/* a partitioned table: rows are routed to its partitions (insert.c) */
	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE &&
		(rel->rd_rel->relkind != RELKIND_RELATION || rel->rd_rel->relam != HEAP_TABLE_AM_OID))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("obs cannot write into \"obs.%s\"", t->relname),
				 errdetail("obs writes into heap tables and partitioned tables of heap tables; this one is %s.",
						   rel->rd_rel->relkind != RELKIND_RELATION ? "not a table"
						   : "of another access method")));
	for (;;)
	{
		Form_pg_attribute att;
		const ObsColumn *col;

		while (a < desc->natts && TupleDescAttr(desc, a)->attisdropped)
			a++;
		if (a >= desc->natts && i >= t->ncolumns)
			break;
		/* an older install's table ends before obs's optional columns */
		if (a >= desc->natts && t->columns[i].optional)
		{
			i++;
			continue;
		}
		att = a < desc->natts ? TupleDescAttr(desc, a) : NULL;
		col = i < t->ncolumns ? &t->columns[i] : NULL;
		if (att == NULL || col == NULL ||
			att->atttypid != t->typids[i] || att->attgenerated != '\0' ||
			strcmp(NameStr(att->attname), col->name) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("table \"obs.%s\" does not have the columns obs writes", t->relname),
					 errdetail("Column %d is %s; obs %s expects %s.", i + 1,
							   att == NULL ? "missing"
							   : psprintf("\"%s\" of type %s", NameStr(att->attname),
										  format_type_be(att->atttypid)),
							   OBS_VERSION,
							   col == NULL ? "no more columns" : psprintf("\"%s\"", col->name)),
					 errhint("Undo the change to the table, or reinstall the extension.")));
		i++;
		a++;
	}
}

/*
 * Resolve one of obs's tables.  The oid is looked up through the syscache
 * on every call (cheap) so that DROP/CREATE EXTENSION in the same session
 * is harmless; membership in the extension, the identity sequence (found
 * through pg_depend) and the expected column types are checked and cached
 * for as long as the oid and the extension are unchanged.
 */
Oid
obs_table_resolve(ObsTable *t)
{
	Oid			relid = obs_relation_oid(t->relname);
	uint32		generation = ext_generation;

	Assert(t->ncolumns <= OBS_MAX_COLUMNS);
	if (relid != t->relid || t->generation != generation)
	{
		t->relid = InvalidOid;
		check_member(RelationRelationId, relid, "relation", t->relname);
		t->seqid = InvalidOid;
		if (t->seq_column != NULL)
		{
			AttrNumber	attnum = get_attnum(relid, t->seq_column);

			if (attnum == InvalidAttrNumber)
				elog(ERROR, "column \"%s\" of obs.%s is missing", t->seq_column, t->relname);
			t->seqid = getIdentitySequence(relid, attnum, false);
		}
		for (int i = 0; i < t->ncolumns; i++)
			t->typids[i] = OidIsValid(t->columns[i].typid) ? t->columns[i].typid
				: obs_type_oid(t->columns[i].obs_type);
		t->relid = relid;
		t->generation = generation;
	}
	return relid;
}

/* open one of obs's tables for insert, its shape checked */
Relation
obs_open_table(ObsTable *t)
{
	Relation	rel = table_open(obs_table_resolve(t), RowExclusiveLock);

	check_table_shape(t, rel);
	return rel;
}

/* next value of the table's identity column */
int64
obs_table_nextval(ObsTable *t)
{
	Assert(OidIsValid(t->seqid));
	return nextval_internal(t->seqid, false);
}
