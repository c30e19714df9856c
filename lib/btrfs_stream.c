/* btrfs send streams: the reader and a userspace receiver. */
#include "btrfs_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "btrfs.h"
#include "buf.h"
#include "fs.h"
#include "hash.h"

static const char magic[13] = "btrfs-stream";	/* with its NUL */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t
le64(const uint8_t *p)
{
	return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32;
}

__attribute__((format(printf, 2, 3))) static int
rerr(struct bs_reader *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(r->err, sizeof(r->err), "offset %llu: ", (unsigned long long)r->offset);
	va_start(ap, fmt);
	vsnprintf(r->err + n, sizeof(r->err) - (size_t)n, fmt, ap);
	va_end(ap);
	errno = EPROTO;
	return -1;
}

/* n bytes, or fewer at the end of input; -1 on a read error. */
static ssize_t
read_full(struct bs_reader *r, uint8_t *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t k = r->read(r->arg, p + got, n - got);

		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0)
			break;
		got += (size_t)k;
	}
	r->offset += got;
	return (ssize_t)got;
}

static const char *const cmd_names[] = {
	"unspec", "subvol", "snapshot", "mkfile", "mkdir", "mknod", "mkfifo", "mksock",
	"symlink", "rename", "link", "unlink", "rmdir", "set_xattr", "remove_xattr", "write",
	"clone", "truncate", "chmod", "chown", "utimes", "end", "update_extent",
};

const char *
bs_cmd_name(int cmd)
{
	return cmd >= 0 && cmd <= BS_C_MAX ? cmd_names[cmd] : "unknown";
}

int
bs_next(struct bs_reader *r, struct bs_cmd *c)
{
	uint8_t *h = r->buf;
	uint32_t len, crc;
	size_t pos;
	ssize_t n;

	if (!r->in_stream) {
		uint8_t sh[17];

		n = read_full(r, sh, sizeof(sh));
		if (n < 0)
			return rerr(r, "read: %s", strerror(errno));
		if (n == 0 && r->offset)
			return 0;	/* the end, after whole streams */
		if (n != (ssize_t)sizeof(sh) || memcmp(sh, magic, sizeof(magic)))
			return rerr(r, "not a btrfs send stream");
		if (le32(sh + 13) != 1)
			return rerr(r, "send stream version %u (only version 1 is read)", le32(sh + 13));
		r->in_stream = 1;
	}
	n = read_full(r, h, 10);
	if (n < 0)
		return rerr(r, "read: %s", strerror(errno));
	if (n != 10)
		return rerr(r, "the stream ends without an end command");
	len = le32(h);
	c->cmd = le16(h + 4);
	crc = le32(h + 6);
	if (len > BS_MAX_CMD)
		return rerr(r, "a command of %u bytes", len);
	n = read_full(r, h + 10, len);
	if (n < 0)
		return rerr(r, "read: %s", strerror(errno));
	if (n != (ssize_t)len)
		return rerr(r, "truncated %s command", bs_cmd_name(c->cmd));
	memset(h + 6, 0, 4);
	if (hash_crc32c(0, h, 10 + len) != crc)
		return rerr(r, "crc mismatch in a %s command", bs_cmd_name(c->cmd));
	if (c->cmd < 1 || c->cmd > BS_C_MAX)
		return rerr(r, "unknown command %u", c->cmd);
	memset(c->a, 0, sizeof(c->a));
	for (pos = 0; pos < len;) {
		uint16_t type, alen;

		if (len - pos < 4)
			return rerr(r, "a %s command with a broken attribute", bs_cmd_name(c->cmd));
		type = le16(h + 10 + pos);
		alen = le16(h + 10 + pos + 2);
		pos += 4;
		if (alen > len - pos)
			return rerr(r, "a %s command with a broken attribute", bs_cmd_name(c->cmd));
		if (type < 1 || type > BS_A_MAX)
			return rerr(r, "unknown attribute %u in a %s command", type, bs_cmd_name(c->cmd));
		if (c->a[type].set)
			return rerr(r, "attribute %u twice in a %s command", type, bs_cmd_name(c->cmd));
		c->a[type].set = 1;
		c->a[type].p = h + 10 + pos;
		c->a[type].len = alen;
		pos += alen;
	}
	if (c->cmd == BS_C_END)
		r->in_stream = 0;
	return 1;
}

int
bs_u64(const struct bs_cmd *c, int a, uint64_t *v)
{
	if (!c->a[a].set || c->a[a].len != 8)
		return -1;
	*v = le64(c->a[a].p);
	return 0;
}

int
bs_uuid(const struct bs_cmd *c, int a, uint8_t uuid[16])
{
	if (!c->a[a].set || c->a[a].len != 16)
		return -1;
	memcpy(uuid, c->a[a].p, 16);
	return 0;
}

int
bs_time(const struct bs_cmd *c, int a, struct timespec *ts)
{
	uint32_t ns;

	if (!c->a[a].set || c->a[a].len != 12)
		return -1;
	ts->tv_sec = (time_t)le64(c->a[a].p);
	ns = le32(c->a[a].p + 8);
	if (ns >= 1000000000u)
		return -1;
	ts->tv_nsec = ns;
	return 0;
}

int
bs_path(const struct bs_cmd *c, int a, char *out, size_t size)
{
	const uint8_t *p = c->a[a].p;
	size_t n = c->a[a].len, i, start = 0;

	if (!c->a[a].set || n + 1 > size || memchr(p, '\0', n))
		return -1;
	if (!n) {
		/* the subvolume's own root directory */
		snprintf(out, size, ".");
		return 0;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && p[i] != '/')
			continue;
		if (i == start || (i - start == 1 && p[start] == '.') ||
		    (i - start == 2 && p[start] == '.' && p[start + 1] == '.'))
			return -1;	/* "", "." or ".." */
		start = i + 1;
	}
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* ---- the receiver ---- */

#define RPATH 4096

struct rcv {
	int dirfd;		/* where subvolumes are made */
	int subfd;		/* the subvolume being received, or -1 */
	char name[256];
	uint8_t uuid[16];	/* its sender's uuid and transid */
	uint64_t ctransid;
	int wfd;		/* the file last written to */
	char wpath[RPATH];
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int
fail(struct rcv *v, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(v->err, v->errlen, fmt, ap);
	va_end(ap);
	errno = e ? e : EPROTO;
	return -1;
}

static void
close_write(struct rcv *v)
{
	if (v->wfd >= 0)
		close(v->wfd);
	v->wfd = -1;
	v->wpath[0] = '\0';
}

/* The directory holding path (inside the subvolume) and the last name. */
static int
parent(struct rcv *v, const char *path, char *leaf, size_t size)
{
	char dir[RPATH];
	const char *slash = strrchr(path, '/');

	if (!strcmp(path, ".")) {
		snprintf(leaf, size, ".");
		return fs_open_beneath(v->subfd, ".", O_PATH | O_DIRECTORY, 0);
	}
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
	if (str_copy(leaf, slash ? slash + 1 : path, size) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return fs_open_beneath(v->subfd, dir, O_PATH | O_DIRECTORY, 0);
}

/* A subvolume in dir whose received uuid (or, else, own uuid) is uuid. */
static int
find_subvol(struct rcv *v, const uint8_t uuid[16], char *name, size_t size)
{
	char dir[64], **names;
	size_t n, i;
	int pass;

	snprintf(dir, sizeof(dir), "/proc/self/fd/%d", v->dirfd);
	if (fs_list(dir, &names, &n) < 0)
		return -1;
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < n; i++) {
			struct btrfs_subvol_info si;
			int fd = openat(v->dirfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (fd < 0)
				continue;
			if (btrfs_subvol_info_fd(fd, &si) == 0 &&
			    !memcmp(pass ? si.uuid : si.received_uuid, uuid, 16)) {
				close(fd);
				str_copy(name, names[i], size);
				fs_list_free(names, n);
				return 0;
			}
			close(fd);
		}
	fs_list_free(names, n);
	errno = ENOENT;
	return -1;
}

static int
begin(struct rcv *v, const struct bs_cmd *c, struct buf *names)
{
	char name[RPATH];
	struct stat st;

	if (v->subfd >= 0)
		return fail(v, "a second subvolume before the end of the first");
	if (bs_path(c, BS_A_PATH, name, sizeof(name)) < 0 || strchr(name, '/') || !strcmp(name, "."))
		return fail(v, "%s: a subvolume name that is not one plain name", bs_cmd_name(c->cmd));
	if (bs_uuid(c, BS_A_UUID, v->uuid) < 0 || bs_u64(c, BS_A_CTRANSID, &v->ctransid) < 0)
		return fail(v, "%s %s: no uuid or transid", bs_cmd_name(c->cmd), name);
	if (fstatat(v->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		return fail(v, "%s: exists already", name);
	}
	if (c->cmd == BS_C_SUBVOL) {
		char p[RPATH + 64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", v->dirfd, name);
		if (btrfs_subvol_create(p) < 0)
			return fail(v, "%s: %s", name, strerror(errno));
	} else {
		uint8_t pu[16];
		char pname[256], src[RPATH + 64], dst[RPATH + 64], us[37];

		if (bs_uuid(c, BS_A_CLONE_UUID, pu) < 0)
			return fail(v, "snapshot %s: no parent uuid", name);
		if (find_subvol(v, pu, pname, sizeof(pname)) < 0) {
			btrfs_uuid_str(pu, us);
			return fail(v, "snapshot %s: its parent (uuid %s) is not in this directory", name,
				    us);
		}
		snprintf(src, sizeof(src), "/proc/self/fd/%d/%s", v->dirfd, pname);
		snprintf(dst, sizeof(dst), "/proc/self/fd/%d/%s", v->dirfd, name);
		if (btrfs_snapshot(src, dst, 0) < 0)
			return fail(v, "%s: snapshot of %s: %s", name, pname, strerror(errno));
	}
	str_copy(v->name, name, sizeof(v->name));
	v->subfd = openat(v->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (v->subfd < 0)
		return fail(v, "%s: %s", name, strerror(errno));
	if (names)
		buf_addf(names, "%s\n", name);
	return 0;
}

static int
finish(struct rcv *v)
{
	close_write(v);
	if (v->subfd < 0)
		return fail(v, "an end command with no subvolume");
	if (btrfs_set_received(v->subfd, v->uuid, v->ctransid) < 0)
		return fail(v, "%s: marking it received: %s", v->name, strerror(errno));
	close(v->subfd);
	v->subfd = -1;
	{
		char p[RPATH + 64];

		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", v->dirfd, v->name);
		if (btrfs_set_readonly(p, 1) < 0)
			return fail(v, "%s: read-only: %s", v->name, strerror(errno));
	}
	v->name[0] = '\0';
	return 0;
}

/* The open file at path, for writing (kept open for the next write). */
static int
wfile(struct rcv *v, const char *path)
{
	if (v->wfd >= 0 && !strcmp(v->wpath, path))
		return v->wfd;
	close_write(v);
	v->wfd = fs_open_beneath(v->subfd, path, O_WRONLY | O_NOFOLLOW, 0);
	if (v->wfd >= 0)
		str_copy(v->wpath, path, sizeof(v->wpath));
	return v->wfd;
}

/* A file to clone from: in this subvolume or in the one with that uuid. */
static int
clone_source(struct rcv *v, const struct bs_cmd *c, const char *path)
{
	uint8_t u[16];
	char name[256];
	int sfd, fd;

	if (bs_uuid(c, BS_A_CLONE_UUID, u) < 0)
		return -1;
	if (!memcmp(u, v->uuid, 16))
		return fs_open_beneath(v->subfd, path, O_RDONLY | O_NOFOLLOW, 0);
	if (find_subvol(v, u, name, sizeof(name)) < 0)
		return -1;
	sfd = openat(v->dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0)
		return -1;
	fd = fs_open_beneath(sfd, path, O_RDONLY | O_NOFOLLOW, 0);
	close(sfd);
	return fd;
}

static int
apply(struct rcv *v, const struct bs_cmd *c)
{
	char path[RPATH], p2[RPATH], leaf[256], leaf2[256];
	const char *what = bs_cmd_name(c->cmd);
	uint64_t mode = 0, rdev = 0, off, len, uid, gid;
	int dfd = -1, dfd2 = -1, rc = -1, fd;

	if (v->subfd < 0)
		return fail(v, "a %s command before any subvolume", what);
	if (bs_path(c, BS_A_PATH, path, sizeof(path)) < 0)
		return fail(v, "%s: a missing or unsafe path", what);
	if (c->cmd != BS_C_WRITE && c->cmd != BS_C_CLONE)
		close_write(v);
	switch (c->cmd) {
	case BS_C_MKFILE:
	case BS_C_MKDIR:
	case BS_C_MKNOD:
	case BS_C_MKFIFO:
	case BS_C_MKSOCK:
	case BS_C_SYMLINK:
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0 || !strcmp(leaf, "."))
			break;
		if (c->cmd == BS_C_MKFILE) {
			fd = openat(dfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
			rc = fd < 0 ? -1 : close(fd);
		} else if (c->cmd == BS_C_MKDIR) {
			rc = mkdirat(dfd, leaf, 0700);
		} else if (c->cmd == BS_C_SYMLINK) {
			/* a link's target is data, never resolved here */
			if (!c->a[BS_A_PATH_LINK].set || !c->a[BS_A_PATH_LINK].len ||
			    c->a[BS_A_PATH_LINK].len >= sizeof(p2) ||
			    memchr(c->a[BS_A_PATH_LINK].p, '\0', c->a[BS_A_PATH_LINK].len)) {
				errno = EPROTO;
				break;
			}
			memcpy(p2, c->a[BS_A_PATH_LINK].p, c->a[BS_A_PATH_LINK].len);
			p2[c->a[BS_A_PATH_LINK].len] = '\0';
			rc = symlinkat(p2, dfd, leaf);
		} else {
			if (bs_u64(c, BS_A_MODE, &mode) < 0) {
				errno = EPROTO;
				break;
			}
			if (c->cmd == BS_C_MKNOD && bs_u64(c, BS_A_RDEV, &rdev) < 0) {
				errno = EPROTO;
				break;
			}
			mode &= S_IFMT | 07777;
			if ((c->cmd == BS_C_MKFIFO && !S_ISFIFO(mode)) ||
			    (c->cmd == BS_C_MKSOCK && !S_ISSOCK(mode)) ||
			    (c->cmd == BS_C_MKNOD && !S_ISCHR(mode) && !S_ISBLK(mode) &&
			     !S_ISFIFO(mode) && !S_ISSOCK(mode))) {
				errno = EPROTO;
				break;
			}
			rc = mknodat(dfd, leaf, (mode_t)mode, (dev_t)rdev);
		}
		break;
	case BS_C_RENAME:
	case BS_C_LINK:
		if (bs_path(c, c->cmd == BS_C_RENAME ? BS_A_PATH_TO : BS_A_PATH_LINK, p2, sizeof(p2)) < 0) {
			errno = EPROTO;
			break;
		}
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0 ||
		    (dfd2 = parent(v, p2, leaf2, sizeof(leaf2))) < 0 || !strcmp(leaf, ".") ||
		    !strcmp(leaf2, "."))
			break;
		if (c->cmd == BS_C_RENAME)
			rc = renameat(dfd, leaf, dfd2, leaf2);
		else
			rc = linkat(dfd2, leaf2, dfd, leaf, 0);	/* path is the new name */
		break;
	case BS_C_UNLINK:
	case BS_C_RMDIR:
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0 || !strcmp(leaf, "."))
			break;
		rc = unlinkat(dfd, leaf, c->cmd == BS_C_RMDIR ? AT_REMOVEDIR : 0);
		break;
	case BS_C_SET_XATTR:
	case BS_C_REMOVE_XATTR: {
		char xname[256], proc[64];

		if (!c->a[BS_A_XATTR_NAME].set || !c->a[BS_A_XATTR_NAME].len ||
		    c->a[BS_A_XATTR_NAME].len >= sizeof(xname) ||
		    memchr(c->a[BS_A_XATTR_NAME].p, '\0', c->a[BS_A_XATTR_NAME].len) ||
		    (c->cmd == BS_C_SET_XATTR && !c->a[BS_A_XATTR_DATA].set)) {
			errno = EPROTO;
			break;
		}
		memcpy(xname, c->a[BS_A_XATTR_NAME].p, c->a[BS_A_XATTR_NAME].len);
		xname[c->a[BS_A_XATTR_NAME].len] = '\0';
		fd = fs_open_beneath(v->subfd, path, O_PATH | O_NOFOLLOW, 0);
		if (fd < 0)
			break;
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (c->cmd == BS_C_SET_XATTR)
			rc = setxattr(proc, xname, c->a[BS_A_XATTR_DATA].p, c->a[BS_A_XATTR_DATA].len, 0);
		else
			rc = removexattr(proc, xname);
		close(fd);
		break;
	}
	case BS_C_WRITE:
		if (bs_u64(c, BS_A_FILE_OFFSET, &off) < 0 || !c->a[BS_A_DATA].set) {
			errno = EPROTO;
			break;
		}
		if ((fd = wfile(v, path)) < 0)
			break;
		{
			/* a short write is followed by the one that says why (ENOSPC) */
			size_t done = 0, dlen = c->a[BS_A_DATA].len;

			rc = 0;
			while (done < dlen) {
				ssize_t k = pwrite(fd, c->a[BS_A_DATA].p + done, dlen - done,
						   (off_t)(off + done));

				if (k < 0 && errno == EINTR)
					continue;
				if (k <= 0) {
					if (k == 0)
						errno = EIO;
					rc = -1;
					break;
				}
				done += (size_t)k;
			}
		}
		break;
	case BS_C_CLONE: {
		struct file_clone_range fcr;
		uint64_t coff;
		int src;

		if (bs_u64(c, BS_A_FILE_OFFSET, &off) < 0 || bs_u64(c, BS_A_CLONE_LEN, &len) < 0 ||
		    bs_u64(c, BS_A_CLONE_OFFSET, &coff) < 0 ||
		    bs_path(c, BS_A_CLONE_PATH, p2, sizeof(p2)) < 0) {
			errno = EPROTO;
			break;
		}
		if ((fd = wfile(v, path)) < 0)
			break;
		if ((src = clone_source(v, c, p2)) < 0)
			break;
		memset(&fcr, 0, sizeof(fcr));
		fcr.src_fd = src;
		fcr.src_offset = coff;
		fcr.src_length = len;
		fcr.dest_offset = off;
		rc = ioctl(fd, FICLONERANGE, &fcr);
		close(src);
		break;
	}
	case BS_C_TRUNCATE:
		if (bs_u64(c, BS_A_SIZE, &len) < 0) {
			errno = EPROTO;
			break;
		}
		if ((fd = fs_open_beneath(v->subfd, path, O_WRONLY | O_NOFOLLOW, 0)) < 0)
			break;
		rc = ftruncate(fd, (off_t)len);
		close(fd);
		break;
	case BS_C_CHMOD:
		if (bs_u64(c, BS_A_MODE, &mode) < 0) {
			errno = EPROTO;
			break;
		}
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0)
			break;
		rc = fchmodat(dfd, leaf, (mode_t)(mode & 07777), 0);
		break;
	case BS_C_CHOWN:
		if (bs_u64(c, BS_A_UID, &uid) < 0 || bs_u64(c, BS_A_GID, &gid) < 0) {
			errno = EPROTO;
			break;
		}
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0)
			break;
		rc = fchownat(dfd, leaf, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
		break;
	case BS_C_UTIMES: {
		struct timespec ts[2];

		if (bs_time(c, BS_A_ATIME, &ts[0]) < 0 || bs_time(c, BS_A_MTIME, &ts[1]) < 0) {
			errno = EPROTO;
			break;
		}
		if ((dfd = parent(v, path, leaf, sizeof(leaf))) < 0)
			break;
		rc = utimensat(dfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
		break;
	}
	case BS_C_UPDATE_EXTENT:
		errno = EPROTO;
		return fail(v, "%s: a stream without file data (update_extent) cannot be received",
			    path);
	default:
		errno = EPROTO;
		break;
	}
	if (dfd >= 0)
		close(dfd);
	if (dfd2 >= 0)
		close(dfd2);
	if (rc < 0)
		return fail(v, "%s %s: %s", what, path, strerror(errno));
	return 0;
}

int
bs_receive(struct bs_reader *r, const char *dir, struct buf *names, char *err, size_t errlen)
{
	struct rcv v;
	struct bs_cmd c;
	int k, rc = -1;

	memset(&v, 0, sizeof(v));
	v.subfd = v.wfd = -1;
	v.err = err;
	v.errlen = errlen;
	err[0] = '\0';
	v.dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v.dirfd < 0)
		return fail(&v, "%s: %s", dir, strerror(errno));
	if (!btrfs_is_btrfs(dir)) {
		errno = EXDEV;
		fail(&v, "%s: not on btrfs", dir);
		close(v.dirfd);
		return -1;
	}
	while ((k = bs_next(r, &c)) > 0) {
		if (c.cmd == BS_C_SUBVOL || c.cmd == BS_C_SNAPSHOT) {
			if (begin(&v, &c, names) < 0)
				goto out;
		} else if (c.cmd == BS_C_END) {
			if (finish(&v) < 0)
				goto out;
		} else if (apply(&v, &c) < 0) {
			goto out;
		}
	}
	if (k < 0) {
		fail(&v, "%s", r->err);
		goto out;
	}
	rc = 0;
out:
	close_write(&v);
	if (v.subfd >= 0) {
		/* nothing half-received stays */
		char p[RPATH + 64];
		int e = errno;

		close(v.subfd);
		snprintf(p, sizeof(p), "/proc/self/fd/%d/%s", v.dirfd, v.name);
		btrfs_subvol_delete(p);
		errno = e;
		if (rc == 0) {
			fail(&v, "%s: the stream ended inside it", v.name);
			rc = -1;
		}
	}
	close(v.dirfd);
	return rc;
}
