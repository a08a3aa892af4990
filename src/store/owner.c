/*-------------------------------------------------------------------------
 * owner.c
 *	  Running a write as the owner of obs's table.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "miscadmin.h"
#include "utils/syscache.h"

#include "store/store.h"

/*
 * Run fn(arg) as the owner of relid, like a SECURITY DEFINER function with
 * a pinned search path would: used for the few writes done through SPI, so
 * that writing is governed by EXECUTE on obs's functions alone.  A failure
 * inside fn is unwound by transaction abort, which restores the user.
 */
void
obs_run_as_owner(Oid relid, void (*fn) (void *), void *arg)
{
	Oid			save_userid;
	int			save_sec;
	HeapTuple	tp;
	Oid			owner;

	tp = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tp))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tp))->relowner;
	ReleaseSysCache(tp);

	GetUserIdAndSecContext(&save_userid, &save_sec);
	SetUserIdAndSecContext(owner, save_sec | SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	fn(arg);
	SetUserIdAndSecContext(save_userid, save_sec);
}
