/*-------------------------------------------------------------------------
 * files.c
 *	  Writing a whole file so that readers see all of it or none of it.
 *
 * obs.export_jaeger() and the Parquet lake's local archive both write a
 * body from memory to a temporary name beside the target, make it
 * readable by the group and others (as COPY TO's files are), fsync it and
 * rename it over the target (durable_rename: the directory is fsynced
 * too).  On any error the temporary file is closed and removed, and the
 * error is raised again.
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/fd.h"

#include "core.h"

void
obs_write_file_durably(const char *tmp, const char *path, const char *body, size_t len,
					   int open_flags)
{
	int			fd;

	fd = OpenTransientFile(tmp, O_WRONLY | O_CREAT | PG_BINARY | open_flags);
	if (fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create file \"%s\": %m", tmp)));
	PG_TRY();
	{
		size_t		done = 0;

		if (fchmod(fd, S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not change permissions of file \"%s\": %m", tmp)));
		while (done < len)
		{
			ssize_t		n = write(fd, body + done, len - done);

			if (n <= 0)
			{
				if (n < 0 && errno == EINTR)
					continue;
				if (n == 0)
					errno = ENOSPC;
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not write to file \"%s\": %m", tmp)));
			}
			done += n;
		}
		if (pg_fsync(fd) != 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not fsync file \"%s\": %m", tmp)));
		if (CloseTransientFile(fd) != 0)
		{
			fd = -1;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not close file \"%s\": %m", tmp)));
		}
		fd = -1;
		durable_rename(tmp, path, ERROR);
	}
	PG_CATCH();
	{
		if (fd >= 0)
			CloseTransientFile(fd);
		unlink(tmp);
		PG_RE_THROW();
	}
	PG_END_TRY();
}
