#include "tar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <zlib.h>

#include "buf.h"
#include "fs.h"
#include "log.h"

#define BLOCK 512
#define INBUF 65536
#define PAX_MAX (1u << 20)	/* an extended header larger than this is refused */
#define XATTR_MAX 64

struct tar_reader {
	tar_read_fn *fn;
	void *arg;
	int gz;			/* inflating */
	int src_eof;
	int gz_end;		/* the last gzip member ended */
	z_stream z;
	unsigned char *in;
	size_t in_off, in_len;	/* plain input waiting in in[] */
	uint64_t data_left;	/* of the current entry */
	uint64_t pad;		/* bytes up to the next header */
	char err[160];
	/* pending from GNU long names and pax headers, for the next entry */
	char *long_path, *long_link;
	char *pax_path, *pax_link;
	int has_pax_size, has_pax_uid, has_pax_gid, has_pax_mtime;
	uint64_t pax_size, pax_uid, pax_gid;
	int64_t pax_mtime;
	struct tar_xattr xa[XATTR_MAX];
	size_t nxa;
	size_t nxa_given;	/* in the last entry (freed on the next) */
};

static int
fail(struct tar_reader *r, const char *fmt, const char *arg)
{
	snprintf(r->err, sizeof(r->err), fmt, arg);
	errno = EINVAL;
	return -1;
}

static ssize_t
src_read(struct tar_reader *r, void *p, size_t n)
{
	ssize_t k;

	do
		k = r->fn(r->arg, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

struct tar_reader *
tar_reader_new(tar_read_fn *fn, void *arg)
{
	struct tar_reader *r = calloc(1, sizeof(*r));
	ssize_t k;

	if (!r)
		return NULL;
	r->fn = fn;
	r->arg = arg;
	r->in = malloc(INBUF);
	if (!r->in) {
		free(r);
		return NULL;
	}
	/* Enough to see the gzip magic. */
	while (r->in_len < 2) {
		k = src_read(r, r->in + r->in_len, INBUF - r->in_len);
		if (k < 0)
			goto fail;
		if (k == 0) {
			r->src_eof = 1;
			break;
		}
		r->in_len += (size_t)k;
	}
	if (r->in_len >= 2 && r->in[0] == 0x1f && r->in[1] == 0x8b) {
		if (inflateInit2(&r->z, 16 + MAX_WBITS) != Z_OK) {
			errno = ENOMEM;
			goto fail;
		}
		r->gz = 1;
		r->z.next_in = r->in;
		r->z.avail_in = (uInt)r->in_len;
	}
	return r;
fail:
	free(r->in);
	free(r);
	return NULL;
}

static void
clear_pending(struct tar_reader *r)
{
	size_t i;

	free(r->long_path);
	free(r->long_link);
	free(r->pax_path);
	free(r->pax_link);
	r->long_path = r->long_link = r->pax_path = r->pax_link = NULL;
	r->has_pax_size = r->has_pax_uid = r->has_pax_gid = r->has_pax_mtime = 0;
	for (i = 0; i < r->nxa; i++) {
		free(r->xa[i].name);
		free(r->xa[i].value);
	}
	r->nxa = 0;
}

void
tar_reader_free(struct tar_reader *r)
{
	if (!r)
		return;
	clear_pending(r);
	if (r->gz)
		inflateEnd(&r->z);
	free(r->in);
	free(r);
}

const char *
tar_reader_error(const struct tar_reader *r)
{
	return r->err[0] ? r->err : "malformed archive";
}

/* More compressed input when inflate has used all it had. */
static int
refill(struct tar_reader *r)
{
	ssize_t k;

	if (r->z.avail_in || r->src_eof)
		return 0;
	k = src_read(r, r->in, INBUF);
	if (k < 0)
		return -1;
	if (k == 0)
		r->src_eof = 1;
	r->z.next_in = r->in;
	r->z.avail_in = (uInt)k;
	return 0;
}

/* Up to n bytes of the (inflated) stream; 0 at its end. */
static ssize_t
stream_read(struct tar_reader *r, unsigned char *p, size_t n)
{
	ssize_t k;

	if (!r->gz) {
		if (r->in_off < r->in_len) {
			size_t m = r->in_len - r->in_off;

			if (m > n)
				m = n;
			memcpy(p, r->in + r->in_off, m);
			r->in_off += m;
			return (ssize_t)m;
		}
		if (r->src_eof)
			return 0;
		k = src_read(r, p, n);
		if (k == 0)
			r->src_eof = 1;
		return k;
	}
	r->z.next_out = p;
	r->z.avail_out = (uInt)(n > (1u << 30) ? (1u << 30) : n);
	while (r->z.next_out == p) {	/* until something came out */
		int zr;

		if (r->gz_end)
			return 0;
		if (refill(r) < 0)
			return -1;
		zr = inflate(&r->z, Z_NO_FLUSH);
		if (zr == Z_STREAM_END) {
			/* Another gzip member may follow (concatenated .gz). */
			if (refill(r) < 0)
				return -1;
			if (r->z.avail_in == 0)
				r->gz_end = 1;
			else if (inflateReset(&r->z) != Z_OK)
				return fail(r, "%s", "gzip: cannot restart");
			continue;
		}
		if (zr == Z_BUF_ERROR && r->z.avail_in == 0 && r->src_eof)
			return fail(r, "%s", "gzip: unexpected end of data");
		if (zr != Z_OK && zr != Z_BUF_ERROR)
			return fail(r, "gzip: %s", r->z.msg ? r->z.msg : "corrupt data");
	}
	return (ssize_t)(r->z.next_out - p);
}

/* Exactly n bytes, or fewer only at the end of the stream. */
static ssize_t
stream_full(struct tar_reader *r, void *p, size_t n)
{
	size_t got = 0;
	ssize_t k;

	while (got < n) {
		k = stream_read(r, (unsigned char *)p + got, n - got);
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static int
skip(struct tar_reader *r, uint64_t n)
{
	unsigned char tmp[8192];

	while (n > 0) {
		size_t m = n > sizeof(tmp) ? sizeof(tmp) : (size_t)n;
		ssize_t k = stream_full(r, tmp, m);

		if (k < 0)
			return -1;
		if ((size_t)k < m)
			return fail(r, "%s", "truncated archive");
		n -= m;
	}
	return 0;
}

/* A numeric field: octal (space or NUL terminated), or base-256 when the
 * high bit of the first byte is set (GNU, star). */
static int
number(const unsigned char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (f[0] & 0x80) {
		if (f[0] & 0x40)
			return -1;	/* negative */
		v = f[0] & 0x3f;
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | f[i];
		}
		*out = v;
		return 0;
	}
	while (i < len && (f[i] == ' ' || f[i] == '\0'))
		i++;
	if (i == len) {
		*out = 0;
		return 0;
	}
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v << 3 | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != '\0')
			return -1;
	*out = v;
	return 0;
}

/* The data of a metadata entry (long name, pax header), NUL-terminated. */
static char *
read_meta(struct tar_reader *r, uint64_t size, uint64_t max)
{
	char *p;

	if (size > max) {
		fail(r, "%s", "oversized extended header");
		return NULL;
	}
	p = malloc((size_t)size + 1);
	if (!p)
		return NULL;
	if (stream_full(r, p, (size_t)size) != (ssize_t)size) {
		free(p);
		fail(r, "%s", "truncated archive");
		return NULL;
	}
	p[size] = '\0';
	if (skip(r, (BLOCK - size % BLOCK) % BLOCK) < 0) {
		free(p);
		return NULL;
	}
	return p;
}

static int
set_str(char **dst, const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		return -1;
	memcpy(p, s, n);
	p[n] = '\0';
	free(*dst);
	*dst = p;
	return 0;
}

static int
pax_u64(const char *v, size_t n, uint64_t *out)
{
	char tmp[32];

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, v, n);
	tmp[n] = '\0';
	return str_to_u64(tmp, 10, UINT64_MAX, out);
}

/* "LEN key=value\n" records (POSIX pax). */
static int
parse_pax(struct tar_reader *r, const char *p, size_t len)
{
	size_t off = 0;

	while (off < len) {
		size_t reclen = 0, i = off, klen;
		const char *key, *val, *eq, *end;

		while (i < len && p[i] >= '0' && p[i] <= '9') {
			reclen = reclen * 10 + (size_t)(p[i] - '0');
			if (reclen > len)
				return fail(r, "%s", "bad pax record length");
			i++;
		}
		if (i == off || i >= len || p[i] != ' ' || reclen > len - off ||
		    reclen < i - off + 3 || p[off + reclen - 1] != '\n')
			return fail(r, "%s", "bad pax record");
		key = p + i + 1;
		end = p + off + reclen - 1;
		eq = memchr(key, '=', (size_t)(end - key));
		if (!eq)
			return fail(r, "%s", "bad pax record");
		klen = (size_t)(eq - key);
		val = eq + 1;
		off += reclen;
		size_t vlen = (size_t)(end - val);
		uint64_t u;

		if (klen == 4 && !memcmp(key, "path", 4)) {
			if (vlen >= TAR_PATH_MAX || set_str(&r->pax_path, val, vlen) < 0)
				return fail(r, "%s", "pax path too long");
		} else if (klen == 8 && !memcmp(key, "linkpath", 8)) {
			if (vlen >= TAR_PATH_MAX || set_str(&r->pax_link, val, vlen) < 0)
				return fail(r, "%s", "pax linkpath too long");
		} else if (klen == 4 && !memcmp(key, "size", 4)) {
			if (pax_u64(val, vlen, &u) < 0)
				return fail(r, "%s", "bad pax size");
			r->pax_size = u;
			r->has_pax_size = 1;
		} else if (klen == 3 && !memcmp(key, "uid", 3)) {
			if (pax_u64(val, vlen, &u) < 0 || u > 0xfffffffe)
				return fail(r, "%s", "bad pax uid");
			r->pax_uid = u;
			r->has_pax_uid = 1;
		} else if (klen == 3 && !memcmp(key, "gid", 3)) {
			if (pax_u64(val, vlen, &u) < 0 || u > 0xfffffffe)
				return fail(r, "%s", "bad pax gid");
			r->pax_gid = u;
			r->has_pax_gid = 1;
		} else if (klen == 5 && !memcmp(key, "mtime", 5)) {
			/* seconds[.fraction]; the fraction is dropped */
			size_t d = 0;

			while (d < vlen && val[d] != '.')
				d++;
			if (pax_u64(val, d, &u) < 0 || u > INT64_MAX)
				return fail(r, "%s", "bad pax mtime");
			r->pax_mtime = (int64_t)u;
			r->has_pax_mtime = 1;
		} else if (klen > 12 && !memcmp(key, "SCHILY.xattr.", 13) && klen > 13) {
			struct tar_xattr *x;

			if (r->nxa == XATTR_MAX)
				return fail(r, "%s", "too many xattrs");
			x = &r->xa[r->nxa];
			x->name = NULL;
			x->value = NULL;
			if (set_str(&x->name, key + 13, klen - 13) < 0 ||
			    !(x->value = malloc(vlen ? vlen : 1))) {
				free(x->name);
				return -1;
			}
			memcpy(x->value, val, vlen);
			x->len = vlen;
			r->nxa++;
		}
		/* Other keys (atime, ctime, uname, charset, ...) do not matter here. */
	}
	return 0;
}

static void
field(char *dst, const unsigned char *f, size_t len)
{
	size_t n = strnlen((const char *)f, len);

	memcpy(dst, f, n);
	dst[n] = '\0';
}

int
tar_next(struct tar_reader *r, struct tar_entry *e)
{
	unsigned char h[BLOCK];
	ssize_t k;

	if (r->nxa_given) {
		/* the previous entry's xattrs */
		clear_pending(r);
		r->nxa_given = 0;
	}
	if (skip(r, r->data_left + r->pad) < 0)
		return -1;
	r->data_left = r->pad = 0;
	for (;;) {
		uint64_t sum, hsize, size, v;
		unsigned calc = 0;
		int i, ustar;
		char name[256], prefix[160];

		k = stream_full(r, h, BLOCK);
		if (k < 0)
			return -1;
		if (k == 0)
			return 0;	/* no end blocks: accepted, as GNU tar does */
		if (k < BLOCK)
			return fail(r, "%s", "truncated archive");
		for (i = 0; i < BLOCK && !h[i]; i++)
			;
		if (i == BLOCK)
			return 0;	/* end of archive */
		for (i = 0; i < BLOCK; i++)
			calc += (i >= 148 && i < 156) ? ' ' : h[i];
		if (number(h + 148, 8, &sum) < 0 || sum != calc)
			return fail(r, "%s", "header checksum mismatch (not a tar archive?)");
		if (number(h + 124, 12, &hsize) < 0)
			return fail(r, "%s", "bad size field");
		/* a pax size is for the next real entry, not for metadata */
		size = r->has_pax_size ? r->pax_size : hsize;
		ustar = !memcmp(h + 257, "ustar", 5);

		switch (h[156]) {
		case 'L':
		case 'K': {
			char *s = read_meta(r, hsize, TAR_PATH_MAX - 1);

			if (!s)
				return -1;
			free(h[156] == 'L' ? r->long_path : r->long_link);
			if (h[156] == 'L')
				r->long_path = s;
			else
				r->long_link = s;
			continue;
		}
		case 'x': {
			char *s = read_meta(r, hsize, PAX_MAX);
			int rc;

			if (!s)
				return -1;
			rc = parse_pax(r, s, (size_t)hsize);
			free(s);
			if (rc < 0)
				return -1;
			continue;
		}
		case 'g':	/* global pax header: nothing here needs it */
			if (skip(r, hsize + (BLOCK - hsize % BLOCK) % BLOCK) < 0)
				return -1;
			continue;
		case '0': case '\0': case '7':
			e->type = TAR_FILE;
			break;
		case '1': e->type = TAR_HARDLINK; break;
		case '2': e->type = TAR_SYMLINK; break;
		case '3': e->type = TAR_CHAR; break;
		case '4': e->type = TAR_BLOCK; break;
		case '5': e->type = TAR_DIR; break;
		case '6': e->type = TAR_FIFO; break;
		default: {
			char t[8];

			snprintf(t, sizeof(t), "%c", h[156] >= 0x20 && h[156] < 0x7f ? h[156] : '?');
			return fail(r, "unsupported entry type '%s'", t);
		}
		}

		field(name, h, 100);
		prefix[0] = '\0';
		if (ustar && !memcmp(h + 257, "ustar\0", 6))
			field(prefix, h + 345, 155);
		if (r->pax_path)
			str_copy(e->path, r->pax_path, sizeof(e->path));
		else if (r->long_path)
			str_copy(e->path, r->long_path, sizeof(e->path));
		else if (prefix[0])
			snprintf(e->path, sizeof(e->path), "%s/%s", prefix, name);
		else
			str_copy(e->path, name, sizeof(e->path));
		if (r->pax_link)
			str_copy(e->link, r->pax_link, sizeof(e->link));
		else if (r->long_link)
			str_copy(e->link, r->long_link, sizeof(e->link));
		else
			field(e->link, h + 157, 100);
		if (!e->path[0])
			return fail(r, "%s", "entry without a name");
		if ((e->type == TAR_SYMLINK || e->type == TAR_HARDLINK) && !e->link[0])
			return fail(r, "%s: link without a target", e->path);

		if (number(h + 100, 8, &v) < 0)
			return fail(r, "%s: bad mode", e->path);
		e->mode = (mode_t)(v & 07777);
		if (number(h + 108, 8, &v) < 0 || v > 0xfffffffe)
			return fail(r, "%s: bad uid", e->path);
		e->uid = (uid_t)(r->has_pax_uid ? r->pax_uid : v);
		if (number(h + 116, 8, &v) < 0 || v > 0xfffffffe)
			return fail(r, "%s: bad gid", e->path);
		e->gid = (gid_t)(r->has_pax_gid ? r->pax_gid : v);
		if (number(h + 136, 12, &v) < 0 || v > INT64_MAX)
			return fail(r, "%s: bad mtime", e->path);
		e->mtime = r->has_pax_mtime ? r->pax_mtime : (int64_t)v;
		e->devmajor = e->devminor = 0;
		if (e->type == TAR_CHAR || e->type == TAR_BLOCK) {
			if (number(h + 329, 8, &v) < 0 || v > 0xfff)
				return fail(r, "%s: bad device major", e->path);
			e->devmajor = (unsigned)v;
			if (number(h + 337, 8, &v) < 0 || v > 0xfffff)
				return fail(r, "%s: bad device minor", e->path);
			e->devminor = (unsigned)v;
		}
		/* Only regular files carry data; anything else's is skipped. */
		e->size = e->type == TAR_FILE ? size : 0;
		r->data_left = size;
		r->pad = (BLOCK - size % BLOCK) % BLOCK;
		e->xattrs = r->nxa ? r->xa : NULL;
		e->nxattrs = r->nxa;
		/* The names are copied; the xattrs live until the next call. */
		{
			size_t keep = r->nxa;

			r->nxa = 0;
			clear_pending(r);
			r->nxa = keep;
			r->nxa_given = keep;
		}
		if (e->type != TAR_FILE) {
			/* drop data a non-file might carry */
			if (skip(r, r->data_left + r->pad) < 0)
				return -1;
			r->data_left = r->pad = 0;
		}
		return 1;
	}
}

ssize_t
tar_read_data(struct tar_reader *r, void *p, size_t n)
{
	ssize_t k;

	if (r->data_left == 0)
		return 0;
	if (n > r->data_left)
		n = (size_t)r->data_left;
	k = stream_read(r, p, n);
	if (k < 0)
		return -1;
	if (k == 0)
		return fail(r, "%s", "truncated archive");
	r->data_left -= (uint64_t)k;
	return k;
}

/* ---- extraction ---- */

struct dirmeta {
	char *path;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	int64_t mtime;
};

struct extract {
	int root;
	struct tar_reader *r;
	struct dirmeta *dirs;
	size_t ndirs, capdirs;
	char *err;
	size_t errlen;
};

/* A path of the archive made relative and clean: no "", "." or ".."
 * components ("." and leading "/" dropped, ".." refused). */
static int
clean_path(const char *in, char *out, size_t size)
{
	const char *p = in;
	size_t len = 0;

	while (*p) {
		const char *c;
		size_t n;

		while (*p == '/')
			p++;
		c = p;
		while (*p && *p != '/')
			p++;
		n = (size_t)(p - c);
		if (n == 0 || (n == 1 && c[0] == '.'))
			continue;
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return -1;
		if (len + n + 2 > size)
			return -1;
		if (len)
			out[len++] = '/';
		memcpy(out + len, c, n);
		len += n;
	}
	out[len] = '\0';
	return 0;
}

/* The parent directory of a clean path (created if missing), and its last
 * component. */
static int
parent_of(struct extract *x, char *path, const char **leaf)
{
	char *slash = strrchr(path, '/');
	int fd;

	if (!slash) {
		*leaf = path;
		return fs_open_in_root(x->root, ".", O_PATH | O_DIRECTORY, 0);
	}
	*slash = '\0';
	fd = fs_open_in_root(x->root, path, O_PATH | O_DIRECTORY, 0);
	if (fd < 0 && errno == ENOENT)
		fd = fs_mkdir_in_root(x->root, path, 0755);
	*slash = '/';
	*leaf = slash + 1;
	return fd;
}

static int
remember_dir(struct extract *x, const char *path, const struct tar_entry *e)
{
	struct dirmeta *d;

	if (x->ndirs == x->capdirs) {
		size_t cap = x->capdirs ? x->capdirs * 2 : 64;

		d = realloc(x->dirs, cap * sizeof(*d));
		if (!d)
			return -1;
		x->dirs = d;
		x->capdirs = cap;
	}
	d = &x->dirs[x->ndirs];
	d->path = strdup(path);
	if (!d->path)
		return -1;
	d->mode = e->mode;
	d->uid = e->uid;
	d->gid = e->gid;
	d->mtime = e->mtime;
	x->ndirs++;
	return 0;
}

static void
set_xattrs(int fd, const struct tar_entry *e)
{
	size_t i;

	for (i = 0; i < e->nxattrs; i++)
		if (fsetxattr(fd, e->xattrs[i].name, e->xattrs[i].value, e->xattrs[i].len, 0) < 0)
			log_debug("%s: xattr %s: %s", e->path, e->xattrs[i].name, strerror(errno));
}

static int
write_file(struct extract *x, int pfd, const char *leaf, const struct tar_entry *e)
{
	char data[65536];
	struct timespec ts[2];
	ssize_t k;
	int fd, rc = -1;

	fd = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while ((k = tar_read_data(x->r, data, sizeof(data))) > 0)
		if (fs_write_full(fd, data, (size_t)k) < 0)
			goto out;
	if (k < 0)
		goto out;
	/* chown first: it clears set-id bits that chmod then puts back. */
	if (fchown(fd, e->uid, e->gid) < 0 || fchmod(fd, e->mode) < 0)
		goto out;
	set_xattrs(fd, e);
	ts[0].tv_sec = ts[1].tv_sec = (time_t)e->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (futimens(fd, ts) < 0)
		goto out;
	rc = 0;
out:
	if (close(fd) < 0)
		rc = -1;
	return rc;
}

static int
extract_entry(struct extract *x, struct tar_entry *e)
{
	char path[TAR_PATH_MAX], target[TAR_PATH_MAX];
	const char *leaf, *tleaf;
	struct timespec ts[2];
	struct stat st;
	int pfd, tfd, rc = -1;

	if (clean_path(e->path, path, sizeof(path)) < 0) {
		snprintf(x->err, x->errlen, "%s: path leaves the target directory", e->path);
		errno = EINVAL;
		return -1;
	}
	if (!path[0]) {
		if (e->type == TAR_DIR)
			return remember_dir(x, "", e);	/* the root itself */
		snprintf(x->err, x->errlen, "%s: not a directory name", e->path);
		errno = EINVAL;
		return -1;
	}
	pfd = parent_of(x, path, &leaf);
	if (pfd < 0)
		goto fail;
	if (fstatat(pfd, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Like tar: a later entry replaces an earlier one (a directory
		 * only by a directory, which is kept). */
		if (S_ISDIR(st.st_mode)) {
			if (e->type == TAR_DIR) {
				close(pfd);
				return remember_dir(x, path, e);
			}
			errno = EISDIR;
			goto fail;
		}
		if (unlinkat(pfd, leaf, 0) < 0)
			goto fail;
	}
	ts[0].tv_sec = ts[1].tv_sec = (time_t)e->mtime;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	switch (e->type) {
	case TAR_FILE:
		if (write_file(x, pfd, leaf, e) < 0)
			goto fail;
		break;
	case TAR_DIR:
		if (mkdirat(pfd, leaf, 0700) < 0)
			goto fail;
		if (e->nxattrs) {
			int dfd = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (dfd >= 0) {
				set_xattrs(dfd, e);
				close(dfd);
			}
		}
		close(pfd);
		return remember_dir(x, path, e);
	case TAR_SYMLINK:
		if (symlinkat(e->link, pfd, leaf) < 0 ||
		    fchownat(pfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0)
			goto fail;
		utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
		break;
	case TAR_HARDLINK:
		if (clean_path(e->link, target, sizeof(target)) < 0 || !target[0]) {
			snprintf(x->err, x->errlen, "%s: link target %s leaves the target directory",
				 e->path, e->link);
			close(pfd);
			errno = EINVAL;
			return -1;
		}
		tfd = parent_of(x, target, &tleaf);
		if (tfd < 0)
			goto fail;
		rc = linkat(tfd, tleaf, pfd, leaf, 0);
		close(tfd);
		if (rc < 0)
			goto fail;
		break;
	case TAR_CHAR:
	case TAR_BLOCK:
	case TAR_FIFO: {
		mode_t kind = e->type == TAR_CHAR ? S_IFCHR : e->type == TAR_BLOCK ? S_IFBLK : S_IFIFO;

		if (mknodat(pfd, leaf, kind | 0600, makedev(e->devmajor, e->devminor)) < 0 ||
		    fchownat(pfd, leaf, e->uid, e->gid, AT_SYMLINK_NOFOLLOW) < 0 ||
		    fchmodat(pfd, leaf, e->mode, 0) < 0)
			goto fail;
		utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
		break;
	}
	}
	close(pfd);
	return 0;
fail:
	if (errno == EINVAL && x->r->err[0])
		snprintf(x->err, x->errlen, "%s", x->r->err);
	else
		snprintf(x->err, x->errlen, "%s: %s", e->path, strerror(errno));
	if (pfd >= 0)
		close(pfd);
	return -1;
}

/* Directory modes and times last: entries written into a directory change
 * its mtime, and a read-only mode would stop them. */
static void
finish_dirs(struct extract *x)
{
	size_t i = x->ndirs;

	while (i-- > 0) {
		struct dirmeta *d = &x->dirs[i];
		struct timespec ts[2];
		int fd = fs_open_in_root(x->root, d->path[0] ? d->path : ".",
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0);

		if (fd < 0)
			continue;
		ts[0].tv_sec = ts[1].tv_sec = (time_t)d->mtime;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (fchown(fd, d->uid, d->gid) < 0 || fchmod(fd, d->mode) < 0 ||
		    futimens(fd, ts) < 0)
			log_debug("%s: %s", d->path, strerror(errno));
		close(fd);
	}
}

static ssize_t
fd_read(void *arg, void *p, size_t n)
{
	return read(*(int *)arg, p, n);
}

int
tar_extract_fd(int fd, const char *dir, char *err, size_t errlen)
{
	struct extract x;
	struct tar_entry *e;
	int r, rc = -1, saved;
	size_t i;

	memset(&x, 0, sizeof(x));
	x.err = err;
	x.errlen = errlen;
	err[0] = '\0';
	e = malloc(sizeof(*e));
	x.root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (!e || x.root < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	x.r = tar_reader_new(fd_read, &fd);
	if (!x.r) {
		snprintf(err, errlen, "reading the archive: %s", strerror(errno));
		goto out;
	}
	while ((r = tar_next(x.r, e)) > 0)
		if (extract_entry(&x, e) < 0)
			goto out;
	if (r < 0) {
		if (errno == EINVAL)
			snprintf(err, errlen, "%s", tar_reader_error(x.r));
		else
			snprintf(err, errlen, "reading the archive: %s", strerror(errno));
		goto out;
	}
	finish_dirs(&x);
	rc = 0;
out:
	saved = errno;
	if (rc < 0 && !err[0])
		snprintf(err, errlen, "%s", x.r ? tar_reader_error(x.r) : strerror(saved));
	tar_reader_free(x.r);
	for (i = 0; i < x.ndirs; i++)
		free(x.dirs[i].path);
	free(x.dirs);
	if (x.root >= 0)
		close(x.root);
	free(e);
	errno = saved;
	return rc;
}
