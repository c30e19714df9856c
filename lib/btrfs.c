/* btrfs ioctls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
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
#include "fs.h"

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

int
btrfs_subvol_info_fd(int fd, struct btrfs_subvol_info *si)
{
	struct btrfs_ioctl_get_subvol_info_args a;

	memset(&a, 0, sizeof(a));
	if (ioctl(fd, BTRFS_IOC_GET_SUBVOL_INFO, &a) < 0)
		return -1;
	memset(si, 0, sizeof(*si));
	si->treeid = a.treeid;
	si->generation = a.generation;
	si->ctransid = a.ctransid;
	si->otransid = a.otransid;
	si->stransid = a.stransid;
	si->rtransid = a.rtransid;
	si->otime = a.otime.sec;
	{
		/* the root item's flags are not the ioctl's: ask for those */
		__u64 fl = 0;

		if (ioctl(fd, BTRFS_IOC_SUBVOL_GETFLAGS, &fl) < 0)
			return -1;
		si->readonly = (fl & BTRFS_SUBVOL_RDONLY) != 0;
	}
	memcpy(si->uuid, a.uuid, 16);
	memcpy(si->parent_uuid, a.parent_uuid, 16);
	memcpy(si->received_uuid, a.received_uuid, 16);
	return 0;
}

int
btrfs_subvol_info(const char *path, struct btrfs_subvol_info *si)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc;

	if (fd < 0)
		return -1;
	rc = btrfs_subvol_info_fd(fd, si);
	close(fd);
	return rc;
}

int
btrfs_set_received(int fd, const uint8_t uuid[16], uint64_t stransid)
{
	struct btrfs_ioctl_received_subvol_args a;

	memset(&a, 0, sizeof(a));
	memcpy(a.uuid, uuid, 16);
	a.stransid = stransid;
	return ioctl(fd, BTRFS_IOC_SET_RECEIVED_SUBVOL, &a);
}

int
btrfs_send(int fd, int out_fd, uint64_t parent_root)
{
	struct btrfs_ioctl_send_args a;
	__u64 clone = parent_root;

	memset(&a, 0, sizeof(a));
	a.send_fd = out_fd;
	a.parent_root = parent_root;
	if (parent_root) {
		/* the parent is also where unchanged extents may be cloned from */
		a.clone_sources = &clone;
		a.clone_sources_count = 1;
	}
	return ioctl(fd, BTRFS_IOC_SEND, &a);
}

int
btrfs_sync(int fd)
{
	return ioctl(fd, BTRFS_IOC_SYNC, NULL);
}

void
btrfs_uuid_str(const uint8_t u[16], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12],
		 u[13], u[14], u[15]);
}

int
btrfs_uuid_parse(const char *s, uint8_t u[16])
{
	char hex[33];
	size_t i, k = 0;

	for (i = 0; s[i] && k < 32; i++)
		if (s[i] != '-')
			hex[k++] = s[i];
	hex[k] = '\0';
	if (s[i] || k != 32 || hex_decode(hex, u, 16) != 16) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
btrfs_uuid_empty(const uint8_t u[16])
{
	static const uint8_t zero[16];

	return !memcmp(u, zero, 16);
}

struct sender {
	int fd, out;
	uint64_t parent;
	int rc, err;
};

static void *
send_thread(void *arg)
{
	struct sender *sd = arg;

	sd->rc = btrfs_send(sd->fd, sd->out, sd->parent);
	sd->err = errno;
	close(sd->out);
	return NULL;
}

int
btrfs_send_stream(int fd, uint64_t parent_root, int out, int (*wr)(void *arg, const void *p, size_t n),
		  void *arg)
{
	static __thread char buf[1 << 16];
	struct sender sd;
	pthread_t th;
	ssize_t r;
	int pfd[2], werr = 0;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fcntl(pfd[1], F_SETPIPE_SZ, 1 << 20);	/* fewer round trips (best effort) */
	sd.fd = fd;
	sd.out = pfd[1];
	sd.parent = parent_root;
	if (pthread_create(&th, NULL, send_thread, &sd) != 0) {
		close(pfd[0]);
		close(pfd[1]);
		errno = EAGAIN;
		return -1;
	}
	for (;;) {
		/* splice moves the pages on; read and write where it cannot */
		if (!wr && !werr) {
			r = splice(pfd[0], NULL, out, NULL, 1 << 20, SPLICE_F_MOVE | SPLICE_F_MORE);
			if (r == 0)
				break;
			if (r > 0)
				continue;
			if (errno != EINVAL)
				werr = errno;
		}
		r = read(pfd[0], buf, sizeof(buf));
		if (r <= 0)
			break;
		if (werr)
			continue;	/* keep draining so that the send ends */
		if (wr ? wr(arg, buf, (size_t)r) < 0 : fs_write_full(out, buf, (size_t)r) < 0)
			werr = wr ? EPIPE : errno;
	}
	close(pfd[0]);
	pthread_join(th, NULL);
	if (sd.rc < 0) {
		errno = sd.err;
		return -1;
	}
	if (werr) {
		errno = werr;
		return -1;
	}
	return 0;
}
