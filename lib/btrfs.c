/* btrfs ioctls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <linux/btrfs.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "btrfs.h"
#include "buf.h"

int
btrfs_is_btrfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == BTRFS_SUPER_MAGIC;
}

int
btrfs_is_subvol(const char *path)
{
	struct stat st;

	/* A subvolume's root directory is inode 256 (BTRFS_FIRST_FREE_OBJECTID). */
	return btrfs_is_btrfs(path) && stat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_ino == 256;
}

/* Split path into an open fd of its parent and its last component. */
static int
parent_of(const char *path, char *name, size_t size)
{
	char tmp[4096], tmp2[4096];
	int fd;

	if (str_copy(tmp, path, sizeof(tmp)) >= sizeof(tmp) || str_copy(tmp2, path, sizeof(tmp2)) >= sizeof(tmp2)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (str_copy(name, basename(tmp), size) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (!*name || !strcmp(name, "/") || !strcmp(name, ".") || !strcmp(name, "..")) {
		errno = EINVAL;
		return -1;
	}
	fd = open(dirname(tmp2), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd;
}

/* An ioctl on path's parent directory that names path's last component. */
static int
parent_ioctl(const char *path, unsigned long req)
{
	struct btrfs_ioctl_vol_args a;
	int fd, r, saved;

	memset(&a, 0, sizeof(a));
	fd = parent_of(path, a.name, sizeof(a.name));
	if (fd < 0)
		return -1;
	r = ioctl(fd, req, &a);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

int
btrfs_subvol_create(const char *path)
{
	return parent_ioctl(path, BTRFS_IOC_SUBVOL_CREATE);
}

int
btrfs_snapshot(const char *src, const char *dst, int readonly)
{
	struct btrfs_ioctl_vol_args_v2 a;
	int sfd, dfd, r, saved;

	memset(&a, 0, sizeof(a));
	sfd = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sfd < 0)
		return -1;
	dfd = parent_of(dst, a.name, sizeof(a.name));
	if (dfd < 0) {
		saved = errno;
		close(sfd);
		errno = saved;
		return -1;
	}
	a.fd = sfd;
	a.flags = readonly ? BTRFS_SUBVOL_RDONLY : 0;
	r = ioctl(dfd, BTRFS_IOC_SNAP_CREATE_V2, &a);
	saved = errno;
	close(sfd);
	close(dfd);
	errno = saved;
	return r;
}

int
btrfs_get_readonly(const char *path, int *ro)
{
	uint64_t f = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, saved;

	if (fd < 0)
		return -1;
	r = ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &f);
	saved = errno;
	close(fd);
	errno = saved;
	if (r == 0)
		*ro = !!(f & BTRFS_SUBVOL_RDONLY);
	return r;
}

int
btrfs_set_readonly(const char *path, int ro)
{
	uint64_t f = 0;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), r, saved;

	if (fd < 0)
		return -1;
	r = ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &f);
	if (r == 0) {
		f = ro ? f | BTRFS_SUBVOL_RDONLY : f & ~(uint64_t)BTRFS_SUBVOL_RDONLY;
		r = ioctl(fd, BTRFS_IOC_SUBVOL_SETFLAGS, &f);
	}
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

/* Subvolumes nested below path go first: a subvolume with others inside
 * cannot be deleted. */
static void
delete_nested(const char *path, int depth)
{
	DIR *d;
	struct dirent *e;
	char p[4096];

	if (depth > 32 || !(d = opendir(path)))
		return;
	while ((e = readdir(d))) {
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if ((size_t)snprintf(p, sizeof(p), "%s/%s", path, e->d_name) >= sizeof(p))
			continue;
		if (lstat(p, &st) < 0 || !S_ISDIR(st.st_mode))
			continue;
		if (st.st_ino == 256)
			btrfs_subvol_delete(p);
		else
			delete_nested(p, depth + 1);
	}
	closedir(d);
}

int
btrfs_subvol_delete(const char *path)
{
	int ro = 0;

	if (!btrfs_is_subvol(path)) {
		errno = EINVAL;
		return -1;
	}
	/* A read-only snapshot's nested entries cannot be touched: only its
	 * own deletion is needed then. */
	if (btrfs_get_readonly(path, &ro) == 0 && !ro)
		delete_nested(path, 0);
	return parent_ioctl(path, BTRFS_IOC_SNAP_DESTROY);
}
