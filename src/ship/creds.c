/*-------------------------------------------------------------------------
 * creds.c
 *	  The credentials sinks send, and scrubbing them from any text.
 *
 * Each credential comes from, in this order: its setting (obs.elastic_api_key
 * ...: GUC_SUPERUSER_ONLY | GUC_NO_SHOW_ALL, and shown as ******** even to
 * superusers: see guc.c), the server's environment
 * (ELASTIC_API_KEY, AWS_ACCESS_KEY_ID, ...), or obs.credentials_file: lines
 * "name = value" with the settings' names without "obs.", in a file that
 * the server's user owns and that no one else may read (the file is
 * refused otherwise).  None is ever stored in a table.  Every text a sink
 * keeps or logs (answers, errors) goes through obs_scrub(), which replaces
 * each credential's value by "***".
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/stat.h>

#include "storage/fd.h"
#include "utils/memutils.h"

#include "ship.h"

typedef struct CredDef
{
	const char *file_name;		/* in obs.credentials_file */
	const char *env_name;
} CredDef;

/* in ObsCredential order; the settings' values: obs_credential_values[] */
static const CredDef cred_defs[OBS_NUM_CREDENTIALS] = {
	{"elastic_api_key", "ELASTIC_API_KEY"},
	{"elastic_user", "ELASTIC_USER"},
	{"elastic_password", "ELASTIC_PASSWORD"},
	{"webhook_bearer_token", "OBS_WEBHOOK_BEARER_TOKEN"},
	{"aws_access_key_id", "AWS_ACCESS_KEY_ID"},
	{"aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"},
	{"aws_session_token", "AWS_SESSION_TOKEN"},
};

/* values read from obs.credentials_file, in TopMemoryContext */
/*
 * The values of the credential settings (obs.elastic_api_key, ...) and the
 * credentials file's path.  guc.c registers the settings and its hooks
 * store here; they are defined in this layer so that nothing here reaches
 * up into guc.c.
 */
const char *obs_credential_values[OBS_NUM_CREDENTIALS];
char	   *obs_credentials_file = NULL;

static char *file_values[OBS_NUM_CREDENTIALS];
static bool file_loaded = false;

static char *
trim(char *s)
{
	char	   *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

/* read obs.credentials_file, unless anyone but its owner may read it */
static void
load_file(void)
{
	struct stat st;
	FILE	   *f;
	char		line[4096];
	int			lineno = 0;

	for (int i = 0; i < OBS_NUM_CREDENTIALS; i++)
	{
		if (file_values[i])
		{
			explicit_bzero(file_values[i], strlen(file_values[i]));
			pfree(file_values[i]);
		}
		file_values[i] = NULL;
	}
	file_loaded = true;
	if (obs_credentials_file == NULL || obs_credentials_file[0] == '\0')
		return;
	if (stat(obs_credentials_file, &st) != 0)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not stat credentials file \"%s\": %m", obs_credentials_file)));
		return;
	}
	if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
	{
		ereport(WARNING,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("credentials file \"%s\" is readable by others; it is ignored", obs_credentials_file),
				 errhint("Make it readable by the server's user only, e.g. chmod 600.")));
		return;
	}
	f = AllocateFile(obs_credentials_file, "r");
	if (f == NULL)
	{
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not open credentials file \"%s\": %m", obs_credentials_file)));
		return;
	}
	while (fgets(line, sizeof(line), f) != NULL)
	{
		char	   *eq;
		char	   *name;
		bool		known = false;

		lineno++;
		name = trim(line);
		if (*name == '\0' || *name == '#')
			continue;
		eq = strchr(name, '=');
		if (eq == NULL)
		{
			/* the line may hold a secret: say where, never what */
			ereport(WARNING,
					(errmsg("line %d of credentials file \"%s\" is not \"name = value\"",
							lineno, obs_credentials_file)));
			continue;
		}
		*eq = '\0';
		name = trim(name);
		for (int i = 0; i < OBS_NUM_CREDENTIALS; i++)
			if (strcmp(name, cred_defs[i].file_name) == 0)
			{
				file_values[i] = MemoryContextStrdup(TopMemoryContext, trim(eq + 1));
				known = true;
			}
		if (!known)
			ereport(WARNING,
					(errmsg("unknown name \"%s\" on line %d of credentials file \"%s\"",
							name, lineno, obs_credentials_file)));
	}
	explicit_bzero(line, sizeof(line));
	FreeFile(f);
}

/* re-read obs.credentials_file (after SIGHUP) */
void
obs_credentials_reload(void)
{
	load_file();
}

/* a credential's value, or NULL when none is set anywhere */
const char *
obs_credential(ObsCredential c)
{
	const char *v = obs_credential_values[c];

	if (v && v[0])
		return v;
	v = getenv(cred_defs[c].env_name);
	if (v && v[0])
		return v;
	if (!file_loaded)
		load_file();
	return file_values[c];
}

/* text with every credential value replaced by "***" (palloc'd) */
char *
obs_scrub(const char *text)
{
	char	   *out = pstrdup(text);

	for (int i = 0; i < OBS_NUM_CREDENTIALS; i++)
	{
		const char *v = obs_credential((ObsCredential) i);
		size_t		vlen;
		char	   *p;

		if (v == NULL || (vlen = strlen(v)) < 4)
			continue;
		while ((p = strstr(out, v)) != NULL)
		{
			StringInfoData s;

			initStringInfo(&s);
			appendBinaryStringInfo(&s, out, p - out);
			appendStringInfoString(&s, "***");
			appendStringInfoString(&s, p + vlen);
			pfree(out);
			out = s.data;
		}
	}
	return out;
}
