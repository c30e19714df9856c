/*
 * Files: whole-file reads with a bound, atomic replacement, directories,
 * advisory locks.
 */
#ifndef LAB_FS_H
#define LAB_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* Read or write everything, retrying on EINTR and short transfers.
 * fs_read_full returns bytes read (less than n only at end of file). */
ssize_t fs_read_full(int fd, void *p, size_t n);
int fs_write_full(int fd, const void *p, size_t n);

/* Append the whole content of fd or path to out; -1 with EFBIG past max. */
int fs_read_fd(int fd, struct buf *out, size_t max);
int fs_read_file(const char *path, struct buf *out, size_t max);

/*
 * Atomic replacement: the new content goes to a temporary file in the same
 * directory, is fsync'ed, renamed over the target, and the directory is
 * fsync'ed, so a crash leaves either the old file or the new one.
 */
struct fs_atomic {
	int fd;
	int nosync;	/* run-time state: replaced atomically, not made durable */
	char path[4096];
	char tmp[4096];
};
int fs_atomic_open(struct fs_atomic *a, const char *path, mode_t mode);
int fs_atomic_commit(struct fs_atomic *a);	/* closes fd */
void fs_atomic_abort(struct fs_atomic *a);	/* removes the temporary */
int fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode);
int fs_fsync_dir(const char *path);		/* fsync the directory holding path */
/* Atomic replacement without the fsyncs, for run-time state (/run) that
 * must never be seen half-written but need not survive a crash. */
int fs_write_replace(const char *path, const void *p, size_t n, mode_t mode);

/* mkdir -p; existing directories are fine, other existing files are not. */
int fs_mkdir_p(const char *path, mode_t mode);

/* The names in directory dir that do not start with '.', sorted; a missing
 * directory is an empty list. Free with fs_list_free. */
int fs_list(const char *dir, char ***out, size_t *n);
void fs_list_free(char **v, size_t n);

/*
 * Paths inside a directory tree that belongs to someone else (an image, a
 * container's root): symlinks and ".." are resolved as if rootfd were "/",
 * so nothing outside it is reached (openat2 RESOLVE_IN_ROOT).
 */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* Strictly below dirfd: no symlink, no "..", no other mount or subvolume on
 * the way (for paths from an untrusted stream). */
int fs_open_beneath(int dirfd, const char *path, int flags, mode_t mode);
/* mkdir -p below rootfd, each step resolved inside it; returns an O_PATH
 * fd of the last directory. */
int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode);
/* Replace the file path (below rootfd) with content: a symlink or other
 * non-directory there is removed first, never followed. */
int fs_write_in_root(int rootfd, const char *path, const void *p, size_t n, mode_t mode);

/*
 * Advisory locks (flock) on a lock file, created if missing. Returns the
 * fd that holds the lock; closing it (fs_unlock) releases it. With
 * FS_LOCK_NB a held lock fails at once with EWOULDBLOCK.
 */
#define FS_LOCK_SHARED 1
#define FS_LOCK_NB 2
int fs_lock(const char *path, int flags);
void fs_unlock(int fd);

#endif
