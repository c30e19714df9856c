#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <libgen.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

ssize_t
fs_read_full(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

int
fs_write_full(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p = (const char *)p + r;
		n -= (size_t)r;
	}
	return 0;
}

int
fs_read_fd(int fd, struct buf *out, size_t max)
{
	size_t start = out->len;

	for (;;) {
		ssize_t r;

		if (buf_reserve(out, 4096) < 0)
			return -1;
		r = read(fd, out->data + out->len, out->cap - out->len - 1);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			break;
		out->len += (size_t)r;
		out->data[out->len] = '\0';
		if (out->len - start > max) {
			buf_truncate(out, start);
			errno = EFBIG;
			return -1;
		}
	}
	return 0;
}

int
fs_read_file(const char *path, struct buf *out, size_t max)
{
	int fd, r, saved;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fs_read_fd(fd, out, max);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int
fs_fsync_dir(const char *path)
{
	char dir[4096];
	int fd, r;

	if (str_copy(dir, path, sizeof(dir)) >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

int
fs_atomic_open(struct fs_atomic *a, const char *path, mode_t mode)
{
	char *slash;
	int n;

	a->fd = -1;
	a->nosync = 0;
	if (str_copy(a->path, path, sizeof(a->path)) >= sizeof(a->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* ".NAME.XXXXXX" next to NAME: same filesystem, so rename is atomic. */
	slash = strrchr(a->path, '/');
	if (slash)
		n = snprintf(a->tmp, sizeof(a->tmp), "%.*s.%s.XXXXXX",
			     (int)(slash - a->path + 1), a->path, slash + 1);
	else
		n = snprintf(a->tmp, sizeof(a->tmp), ".%s.XXXXXX", a->path);
	if (n < 0 || (size_t)n >= sizeof(a->tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	a->fd = mkostemp(a->tmp, O_CLOEXEC);
	if (a->fd < 0)
		return -1;
	if (fchmod(a->fd, mode) < 0) {
		fs_atomic_abort(a);
		return -1;
	}
	return a->fd;
}

int
fs_atomic_commit(struct fs_atomic *a)
{
	int saved;

	if ((!a->nosync && fsync(a->fd) < 0) || close(a->fd) < 0) {
		saved = errno;
		a->fd = -1;
		fs_atomic_abort(a);
		errno = saved;
		return -1;
	}
	a->fd = -1;
	if (rename(a->tmp, a->path) < 0) {
		saved = errno;
		unlink(a->tmp);
		errno = saved;
		return -1;
	}
	return a->nosync ? 0 : fs_fsync_dir(a->path);
}

void
fs_atomic_abort(struct fs_atomic *a)
{
	int saved = errno;

	if (a->fd >= 0)
		close(a->fd);
	a->fd = -1;
	unlink(a->tmp);
	errno = saved;
}

int
fs_write_atomic(const char *path, const void *p, size_t n, mode_t mode)
{
	struct fs_atomic a;

	if (fs_atomic_open(&a, path, mode) < 0)
		return -1;
	if (fs_write_full(a.fd, p, n) < 0) {
		fs_atomic_abort(&a);
		return -1;
	}
	return fs_atomic_commit(&a);
}

int
fs_write_replace(const char *path, const void *p, size_t n, mode_t mode)
{
	struct fs_atomic a;

	if (fs_atomic_open(&a, path, mode) < 0)
		return -1;
	a.nosync = 1;
	if (fs_write_full(a.fd, p, n) < 0) {
		fs_atomic_abort(&a);
		return -1;
	}
	return fs_atomic_commit(&a);
}

int
fs_mkdir_p(const char *path, mode_t mode)
{
	char tmp[4096];
	struct stat st;
	char *p;

	if (str_copy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;

		*p = '\0';
		if (mkdir(tmp, mode) < 0) {
			if (errno != EEXIST)
				return -1;
			if (stat(tmp, &st) < 0)
				return -1;
			if (!S_ISDIR(st.st_mode)) {
				errno = ENOTDIR;
				return -1;
			}
		}
		*p = c;
		if (c == '\0')
			break;
		while (p[1] == '/')
			p++;
		if (p[1] == '\0')
			break;
	}
	return 0;
}

int
fs_lock(const char *path, int flags)
{
	int fd, op, saved;

	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -1;
	op = (flags & FS_LOCK_SHARED) ? LOCK_SH : LOCK_EX;
	if (flags & FS_LOCK_NB)
		op |= LOCK_NB;
	while (flock(fd, op) < 0) {
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void
fs_unlock(int fd)
{
	if (fd >= 0)
		close(fd);
}

static int
open_resolve(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how;
	long fd;

	memset(&how, 0, sizeof(how));
	how.flags = (uint64_t)(unsigned)flags | O_CLOEXEC;
	how.mode = (flags & (O_CREAT | O_TMPFILE)) ? mode : 0;
	how.resolve = resolve;
	while (*path == '/')
		path++;
	if (!*path)
		path = ".";
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return (int)fd;
}

int
fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode)
{
	return open_resolve(rootfd, path, flags, mode, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
}

int
fs_open_beneath(int dirfd, const char *path, int flags, mode_t mode)
{
	return open_resolve(dirfd, path, flags, mode,
			    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
				    RESOLVE_NO_XDEV);
}

int
fs_mkdir_in_root(int rootfd, const char *path, mode_t mode)
{
	char tmp[4096], *p, *next;
	int dfd, nfd;

	if (str_copy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	dfd = fs_open_in_root(rootfd, "/", O_PATH | O_DIRECTORY, 0);
	for (p = tmp; dfd >= 0 && *p; p = next) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		next = p + strcspn(p, "/");
		if (*next)
			*next++ = '\0';
		nfd = fs_open_in_root(dfd, p, O_PATH | O_DIRECTORY, 0);
		if (nfd < 0 && errno == ENOENT) {
			if (mkdirat(dfd, p, mode) < 0 && errno != EEXIST) {
				close(dfd);
				return -1;
			}
			nfd = fs_open_in_root(dfd, p, O_PATH | O_DIRECTORY, 0);
		}
		close(dfd);
		dfd = nfd;
	}
	return dfd;
}

int
fs_write_in_root(int rootfd, const char *path, const void *p, size_t n, mode_t mode)
{
	char dir[4096];
	const char *leaf = strrchr(path, '/');
	int dfd, fd, saved;

	if (!leaf) {
		dir[0] = '\0';
		leaf = path;
	} else {
		if ((size_t)(leaf - path) >= sizeof(dir)) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(dir, path, (size_t)(leaf - path));
		dir[leaf - path] = '\0';
		leaf++;
	}
	dfd = fs_mkdir_in_root(rootfd, dir, 0755);
	if (dfd < 0)
		return -1;
	fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC,
		    mode);
	if (fd < 0 && (errno == ELOOP || errno == ENXIO || errno == EISDIR || errno == ETXTBSY)) {
		/* A symlink (or a socket, a fifo): replace it, never follow. */
		if (unlinkat(dfd, leaf, 0) == 0)
			fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				    mode);
	}
	close(dfd);
	if (fd < 0)
		return -1;
	if (fs_write_full(fd, p, n) < 0 || fchmod(fd, mode) < 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return close(fd);
}

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
fs_list(const char *dir, char ***out, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cnt = 0;

	*out = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv || !(nv[cnt] = strdup(de->d_name))) {
			fs_list_free(nv ? nv : v, cnt);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		v = nv;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_name);
	*out = v;
	*n = cnt;
	return 0;
}

void
fs_list_free(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}
