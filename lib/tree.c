/* Tree copy and removal. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "btrfs.h"
#include "fs.h"
#include "tree.h"

struct link {
	dev_t dev;
	ino_t ino;
	char *path;	/* relative to the destination */
};

struct copy {
	int sroot, droot;
	unsigned flags;
	struct link *links;
	size_t nlinks, cap;
	char path[4096];	/* current relative path */
};

static void
copy_xattrs(int sfd, int dfd)
{
	char names[8192], val[65536];
	ssize_t n = flistxattr(sfd, names, sizeof(names)), i;

	for (i = 0; n > 0 && i < n; i += (ssize_t)strlen(names + i) + 1) {
		ssize_t v = fgetxattr(sfd, names + i, val, sizeof(val));

		if (v >= 0)
			fsetxattr(dfd, names + i, val, (size_t)v, 0);
	}
}

static int
copy_data(int sfd, int dfd, off_t size, unsigned flags)
{
	if (ioctl(dfd, FICLONE, sfd) == 0)
		return 0;
	if (flags & TREE_REFLINK) {
		errno = EOPNOTSUPP;
		return -1;
	}
	while (size > 0) {
		ssize_t n = copy_file_range(sfd, NULL, dfd, NULL, (size_t)size, 0);

		if (n < 0) {
			char b[65536];

			if (errno != EXDEV && errno != ENOSYS && errno != EINVAL)
				return -1;
			/* an old kernel or a cross-device copy: by hand */
			n = read(sfd, b, sizeof(b));
			if (n <= 0)
				return n < 0 ? -1 : 0;
			if (fs_write_full(dfd, b, (size_t)n) < 0)
				return -1;
		} else if (n == 0) {
			break;
		}
		size -= n;
	}
	return 0;
}

static void
set_meta(int droot, const char *rel, const struct stat *st, int is_link)
{
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	int fl = is_link ? AT_SYMLINK_NOFOLLOW : 0;

	fchownat(droot, rel, st->st_uid, st->st_gid, fl);
	if (!is_link)
		fchmodat(droot, rel, st->st_mode & 07777, 0);
	utimensat(droot, rel, ts, fl);
}

static int copy_dir(struct copy *c, size_t len, int depth);

static int
copy_entry(struct copy *c, const char *name, size_t len, int depth)
{
	struct stat st;
	size_t n = strlen(name);
	const char *rel;
	size_t i;

	if (len + 1 + n >= sizeof(c->path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (len)
		c->path[len++] = '/';
	memcpy(c->path + len, name, n + 1);
	rel = c->path;
	if (fstatat(c->sroot, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	/* A hard link to something copied already. */
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		for (i = 0; i < c->nlinks; i++)
			if (c->links[i].dev == st.st_dev && c->links[i].ino == st.st_ino)
				return linkat(c->droot, c->links[i].path, c->droot, rel, 0);
		if (c->nlinks == c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 64;
			struct link *l = realloc(c->links, cap * sizeof(*l));

			if (!l)
				return -1;
			c->links = l;
			c->cap = cap;
		}
		c->links[c->nlinks].dev = st.st_dev;
		c->links[c->nlinks].ino = st.st_ino;
		c->links[c->nlinks].path = strdup(rel);
		if (!c->links[c->nlinks].path)
			return -1;
		c->nlinks++;
	}
	if (S_ISDIR(st.st_mode)) {
		if (mkdirat(c->droot, rel, 0700) < 0 && errno != EEXIST)
			return -1;
		if (copy_dir(c, len + n, depth + 1) < 0)
			return -1;
		c->path[len + n] = '\0';
		set_meta(c->droot, rel, &st, 0);
	} else if (S_ISREG(st.st_mode)) {
		int sfd = openat(c->sroot, rel, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		int dfd, r, saved;

		if (sfd < 0)
			return -1;
		dfd = openat(c->droot, rel, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dfd < 0) {
			saved = errno;
			close(sfd);
			errno = saved;
			return -1;
		}
		r = copy_data(sfd, dfd, st.st_size, c->flags);
		saved = errno;
		if (r == 0)
			copy_xattrs(sfd, dfd);
		close(sfd);
		close(dfd);
		if (r < 0) {
			errno = saved;
			return -1;
		}
		set_meta(c->droot, rel, &st, 0);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t l = readlinkat(c->sroot, rel, target, sizeof(target) - 1);

		if (l < 0)
			return -1;
		target[l] = '\0';
		if (symlinkat(target, c->droot, rel) < 0)
			return -1;
		set_meta(c->droot, rel, &st, 1);
	} else {
		/* devices, fifos, sockets */
		if (mknodat(c->droot, rel, st.st_mode, st.st_rdev) < 0)
			return -1;
		set_meta(c->droot, rel, &st, 0);
	}
	return 0;
}

static int
copy_dir(struct copy *c, size_t len, int depth)
{
	int fd;
	DIR *d;
	struct dirent *e;
	int r = 0;

	if (depth > 256) {
		errno = ELOOP;
		return -1;
	}
	fd = openat(c->sroot, len ? c->path : ".", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (copy_entry(c, e->d_name, len, depth) < 0) {
			r = -1;
			break;
		}
		c->path[len] = '\0';
	}
	{
		int saved = errno;

		closedir(d);
		errno = saved;
	}
	return r;
}

int
tree_copy(const char *src, const char *dst, unsigned flags)
{
	struct copy c;
	struct stat st;
	size_t i;
	int r, saved;

	memset(&c, 0, sizeof(c));
	c.flags = flags;
	c.sroot = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.sroot < 0)
		return -1;
	if (mkdir(dst, 0700) < 0 && errno != EEXIST) {
		saved = errno;
		close(c.sroot);
		errno = saved;
		return -1;
	}
	c.droot = open(dst, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (c.droot < 0) {
		saved = errno;
		close(c.sroot);
		errno = saved;
		return -1;
	}
	r = copy_dir(&c, 0, 0);
	saved = errno;
	if (r == 0 && fstat(c.sroot, &st) == 0) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		fchown(c.droot, st.st_uid, st.st_gid);
		fchmod(c.droot, st.st_mode & 07777);
		futimens(c.droot, ts);
	}
	for (i = 0; i < c.nlinks; i++)
		free(c.links[i].path);
	free(c.links);
	close(c.sroot);
	close(c.droot);
	errno = saved;
	return r;
}

static int
remove_at(int dirfd, const char *name, int depth)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (S_ISDIR(st.st_mode)) {
		int fd;
		DIR *d;
		struct dirent *e;

		if (depth > 256) {
			errno = ELOOP;
			return -1;
		}
		fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 || !(d = fdopendir(fd))) {
			if (fd >= 0)
				close(fd);
			return -1;
		}
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				remove_at(fd, e->d_name, depth + 1);
		closedir(d);
		if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
			/* a btrfs subvolume is not an ordinary directory */
			if (st.st_ino == 256) {
				char p[64];

				snprintf(p, sizeof(p), "/proc/self/fd/%d", dirfd);
				{
					char dir[4096], full[4200];
					ssize_t l = readlink(p, dir, sizeof(dir) - 1);

					if (l > 0) {
						dir[l] = '\0';
						snprintf(full, sizeof(full), "%s/%s", dir, name);
						return btrfs_subvol_delete(full);
					}
				}
			}
			return -1;
		}
		return 0;
	}
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
}

int
tree_remove(const char *path)
{
	if (btrfs_is_subvol(path) && btrfs_subvol_delete(path) == 0)
		return 0;
	return remove_at(AT_FDCWD, path, 0);
}

int
tree_can_reflink(const char *dir)
{
	char a[4096], b[4096];
	int fa, fb, ok = 0;

	snprintf(a, sizeof(a), "%s/.lab-reflink-a.%d", dir, (int)getpid());
	snprintf(b, sizeof(b), "%s/.lab-reflink-b.%d", dir, (int)getpid());
	fa = open(a, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fb = open(b, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fa >= 0 && fb >= 0 && write(fa, "lab", 3) == 3)
		ok = ioctl(fb, FICLONE, fa) == 0;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	unlink(a);
	unlink(b);
	return ok;
}

static long long
size_at(int dirfd, const char *name, int depth)
{
	struct stat st;
	long long total;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return 0;
	total = (long long)st.st_blocks * 512;
	if (S_ISDIR(st.st_mode) && depth < 256) {
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
		struct dirent *e;

		if (!d) {
			if (fd >= 0)
				close(fd);
			return total;
		}
		while ((e = readdir(d)))
			if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
				total += size_at(fd, e->d_name, depth + 1);
		closedir(d);
	}
	return total;
}

long long
tree_size(const char *path)
{
	return size_at(AT_FDCWD, path, 0);
}
