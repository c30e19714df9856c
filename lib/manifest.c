#include "manifest.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "hash.h"

void
mf_init(struct manifest *m)
{
	memset(m, 0, sizeof(*m));
}

void
mf_free(struct manifest *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].path);
		free(m->v[i].target);
	}
	free(m->v);
	mf_init(m);
}

int
mf_path_ok(const char *p)
{
	const char *c = p;

	if (!*p || *p == '/' || strlen(p) >= MF_PATH_MAX)
		return 0;
	while (*c) {
		size_t n = strcspn(c, "/");

		if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		c += n;
		if (*c == '/') {
			c++;
			if (!*c)
				return 0;	/* trailing slash */
		}
	}
	return 1;
}

int
mf_add(struct manifest *m, const char *path, char type, mode_t mode, uint64_t size,
       const uint8_t hash[32], const char *target)
{
	struct mf_entry *e;

	if (!mf_path_ok(path) || (type != MF_FILE && type != MF_LINK && type != MF_DIR) ||
	    (type == MF_LINK && (!target || !*target))) {
		errno = EINVAL;
		return -1;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 64;

		e = realloc(m->v, cap * sizeof(*e));
		if (!e)
			return -1;
		m->v = e;
		m->cap = cap;
	}
	e = &m->v[m->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	e->target = target ? strdup(target) : NULL;
	if (!e->path || (target && !e->target)) {
		free(e->path);
		free(e->target);
		errno = ENOMEM;
		return -1;
	}
	e->type = type;
	e->mode = type == MF_LINK ? 0777 : (mode & 07777);
	e->size = type == MF_DIR ? 0 : size;
	if (hash && type != MF_DIR)
		memcpy(e->hash, hash, 32);
	m->n++;
	return 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct mf_entry *)a)->path, ((const struct mf_entry *)b)->path);
}

int
mf_sort(struct manifest *m, char *err, size_t errlen)
{
	size_t i;

	if (m->n > 1)
		qsort(m->v, m->n, sizeof(m->v[0]), cmp_entry);
	for (i = 1; i < m->n; i++)
		if (!strcmp(m->v[i - 1].path, m->v[i].path)) {
			if (err)
				snprintf(err, errlen, "%s: twice in the tree", m->v[i].path);
			errno = EEXIST;
			return -1;
		}
	return 0;
}

const struct mf_entry *
mf_find(const struct manifest *m, const char *path)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, m->v[mid].path);

		if (c == 0)
			return &m->v[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

void
mf_escape(struct buf *out, const char *s)
{
	while (*s) {
		const char *run = s;

		while (*s > ' ' && *s < 0x7f && *s != '\\')
			s++;
		if (s > run)
			buf_add(out, run, (size_t)(s - run));
		if (*s) {
			unsigned char c = (unsigned char)*s++;
			char o[4] = { '\\', (char)('0' + (c >> 6)), (char)('0' + ((c >> 3) & 7)),
				      (char)('0' + (c & 7)) };

			buf_add(out, o, 4);
		}
	}
}

int
mf_unescape(const char *s, size_t len, char *out, size_t size)
{
	size_t i, o = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '\\') {
			unsigned v;

			if (len - i < 4 || s[i + 1] < '0' || s[i + 1] > '3' || s[i + 2] < '0' ||
			    s[i + 2] > '7' || s[i + 3] < '0' || s[i + 3] > '7')
				return -1;
			v = (unsigned)(s[i + 1] - '0') << 6 | (unsigned)(s[i + 2] - '0') << 3 |
			    (unsigned)(s[i + 3] - '0');
			if (v == 0)
				return -1;
			c = (unsigned char)v;
			i += 3;
		} else if (c <= ' ' || c >= 0x7f) {
			return -1;
		}
		if (o + 1 >= size)
			return -1;
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return (int)o;
}

int
mf_serialize(const struct manifest *m, struct buf *out)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		const struct mf_entry *e = &m->v[i];
		/* "T MMMM SIZE HASH " by hand: this runs for every entry of every
		 * tree on both ends */
		char line[128], num[24];
		size_t k = 0, nl = 0;
		uint64_t v = e->size;

		line[k++] = e->type;
		line[k++] = ' ';
		line[k++] = (char)('0' + ((e->mode >> 9) & 7));
		line[k++] = (char)('0' + ((e->mode >> 6) & 7));
		line[k++] = (char)('0' + ((e->mode >> 3) & 7));
		line[k++] = (char)('0' + (e->mode & 7));
		line[k++] = ' ';
		if (e->type == MF_DIR) {
			memcpy(line + k, "0 - ", 4);
			k += 4;
		} else {
			do
				num[nl++] = (char)('0' + v % 10);
			while ((v /= 10));
			while (nl)
				line[k++] = num[--nl];
			line[k++] = ' ';
			hex_encode(e->hash, 32, line + k);
			k += 64;
			line[k++] = ' ';
		}
		buf_add(out, line, k);
		mf_escape(out, e->path);
		if (e->type == MF_LINK) {
			buf_addc(out, ' ');
			mf_escape(out, e->target);
		}
		buf_addc(out, '\n');
	}
	return buf_err(out);
}

void
mf_hash(const struct manifest *m, uint8_t out[32])
{
	struct buf b = BUF_INIT;

	mf_serialize(m, &b);
	hash_sha256(b.data ? b.data : "", b.len, out);
	buf_free(&b);
}

void
mf_hash_empty(uint8_t out[32])
{
	hash_sha256("", 0, out);
}

static int
perr(char *err, size_t errlen, int line, const char *what)
{
	if (err)
		snprintf(err, errlen, "manifest line %d: %s", line, what);
	errno = EINVAL;
	return -1;
}

int
mf_parse(struct manifest *m, const char *text, size_t len, char *err, size_t errlen)
{
	const char *p = text, *end = text + len;
	char *path = malloc(MF_PATH_MAX), *target = malloc(MF_PATH_MAX);
	int line = 0, rc = -1;

	mf_init(m);
	if (!path || !target)
		goto out;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *f[6];
		size_t fl[6], nf = 0;
		const char *q;
		char type;
		unsigned long mode;
		unsigned long long size = 0;
		uint8_t hash[32];
		char *e;
		char num[32];

		line++;
		if (!nl) {
			perr(err, errlen, line, "no newline at the end");
			goto fail;
		}
		/* split on single spaces */
		for (q = p; q < nl && nf < 6;) {
			const char *s = memchr(q, ' ', (size_t)(nl - q));

			f[nf] = q;
			fl[nf] = (size_t)((s ? s : nl) - q);
			nf++;
			q = s ? s + 1 : nl;
		}
		if (q < nl || nf < 5) {
			perr(err, errlen, line, "wrong number of fields");
			goto fail;
		}
		type = fl[0] == 1 ? f[0][0] : 0;
		if ((type != MF_FILE && type != MF_DIR && type != MF_LINK) ||
		    (type == MF_LINK) != (nf == 6)) {
			perr(err, errlen, line, "bad type");
			goto fail;
		}
		if (fl[1] != 4 || f[1][0] < '0' || f[1][0] > '7') {
			perr(err, errlen, line, "bad mode");
			goto fail;
		}
		memcpy(num, f[1], 4);
		num[4] = '\0';
		mode = strtoul(num, &e, 8);
		if (*e || (type == MF_LINK && mode != 0777)) {
			perr(err, errlen, line, "bad mode");
			goto fail;
		}
		if (fl[2] == 0 || fl[2] >= sizeof(num)) {
			perr(err, errlen, line, "bad size");
			goto fail;
		}
		memcpy(num, f[2], fl[2]);
		num[fl[2]] = '\0';
		if (str_to_u64(num, 10, UINT64_MAX, (uint64_t *)&size) < 0 ||
		    (type == MF_DIR && size != 0)) {
			perr(err, errlen, line, "bad size");
			goto fail;
		}
		if (type == MF_DIR) {
			if (fl[3] != 1 || f[3][0] != '-') {
				perr(err, errlen, line, "a directory has no hash");
				goto fail;
			}
			memset(hash, 0, sizeof(hash));
		} else {
			char hex[65];

			if (fl[3] != 64) {
				perr(err, errlen, line, "bad hash");
				goto fail;
			}
			memcpy(hex, f[3], 64);
			hex[64] = '\0';
			if (hex_decode(hex, hash, sizeof(hash)) != 32) {
				perr(err, errlen, line, "bad hash");
				goto fail;
			}
		}
		if (mf_unescape(f[4], fl[4], path, MF_PATH_MAX) < 0 || !mf_path_ok(path)) {
			perr(err, errlen, line, "bad path");
			goto fail;
		}
		if (type == MF_LINK && mf_unescape(f[5], fl[5], target, MF_PATH_MAX) <= 0) {
			perr(err, errlen, line, "bad link target");
			goto fail;
		}
		if (m->n && strcmp(m->v[m->n - 1].path, path) >= 0) {
			perr(err, errlen, line, "not sorted, or a path twice");
			goto fail;
		}
		if (mf_add(m, path, type, (mode_t)mode, size, hash, type == MF_LINK ? target : NULL) < 0)
			goto fail;
		p = nl + 1;
	}
	rc = 0;
	goto out;
fail:
	mf_free(m);
out:
	free(path);
	free(target);
	return rc;
}

/* ---- scanning a tree ---- */

static int
hash_fd(int fd, uint8_t out[32], uint64_t *size)
{
	struct hash_sha256 h;
	char buf[65536];
	ssize_t n;

	hash_sha256_init(&h);
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		hash_sha256_update(&h, buf, (size_t)n);
		*size += (uint64_t)n;
	}
	if (n < 0)
		return -1;
	hash_sha256_final(&h, out);
	return 0;
}

static int
scan(struct manifest *m, int dfd, char *rel, size_t len, char *err, size_t errlen, int depth)
{
	DIR *d;
	struct dirent *de;
	int fd, rc = 0;

	if (depth > 64) {
		snprintf(err, errlen, "%s: too deep", rel);
		errno = ELOOP;
		return -1;
	}
	fd = dup(dfd);
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", len ? rel : ".", strerror(errno));
		return -1;
	}
	while (rc == 0 && (de = readdir(d))) {
		struct stat st;
		size_t nl = strlen(de->d_name), l2 = len ? len + 1 + nl : nl;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l2 >= MF_PATH_MAX) {
			snprintf(err, errlen, "%s/%s: path too long", rel, de->d_name);
			errno = ENAMETOOLONG;
			rc = -1;
			break;
		}
		if (len)
			rel[len] = '/';
		memcpy(rel + (len ? len + 1 : 0), de->d_name, nl + 1);
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			snprintf(err, errlen, "%s: %s", rel, strerror(errno));
			rc = -1;
		} else if (S_ISREG(st.st_mode)) {
			uint8_t h[32];
			uint64_t size;
			int f = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

			if (f < 0 || hash_fd(f, h, &size) < 0 ||
			    mf_add(m, rel, MF_FILE, st.st_mode, size, h, NULL) < 0) {
				snprintf(err, errlen, "%s: %s", rel, strerror(errno));
				rc = -1;
			}
			if (f >= 0)
				close(f);
		} else if (S_ISLNK(st.st_mode)) {
			char t[MF_PATH_MAX];
			ssize_t n = readlinkat(dfd, de->d_name, t, sizeof(t) - 1);
			uint8_t h[32];

			if (n <= 0) {
				snprintf(err, errlen, "%s: %s", rel, strerror(errno));
				rc = -1;
			} else {
				t[n] = '\0';
				hash_sha256(t, (size_t)n, h);
				if (mf_add(m, rel, MF_LINK, 0777, (uint64_t)n, h, t) < 0) {
					snprintf(err, errlen, "%s: %s", rel, strerror(errno));
					rc = -1;
				}
			}
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0 || mf_add(m, rel, MF_DIR, st.st_mode, 0, NULL, NULL) < 0) {
				snprintf(err, errlen, "%s: %s", rel, strerror(errno));
				rc = -1;
			} else {
				rc = scan(m, sub, rel, l2, err, errlen, depth + 1);
			}
			if (sub >= 0)
				close(sub);
		} else {
			snprintf(err, errlen, "%s: not a file, directory or symlink", rel);
			errno = EINVAL;
			rc = -1;
		}
		rel[len] = '\0';
	}
	closedir(d);
	return rc;
}

int
mf_scan(struct manifest *m, const char *dir, char *err, size_t errlen)
{
	char *rel = malloc(MF_PATH_MAX);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = -1;

	mf_init(m);
	if (!rel || fd < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		goto out;
	}
	rel[0] = '\0';
	rc = scan(m, fd, rel, 0, err, errlen, 0);
	if (rc == 0)
		rc = mf_sort(m, err, errlen);
out:
	if (fd >= 0)
		close(fd);
	free(rel);
	if (rc < 0)
		mf_free(m);
	return rc;
}

/* ---- differences ---- */

int
mf_diff(const struct manifest *old, const struct manifest *new, struct mf_change **out,
	size_t *n)
{
	struct mf_change *v = NULL, *nv;
	size_t i = 0, j = 0, cnt = 0, cap = 0;

	while (i < old->n || j < new->n) {
		const struct mf_entry *a = i < old->n ? &old->v[i] : NULL;
		const struct mf_entry *b = j < new->n ? &new->v[j] : NULL;
		int c = !a ? 1 : !b ? -1 : strcmp(a->path, b->path);
		struct mf_change ch;

		memset(&ch, 0, sizeof(ch));
		if (c < 0) {
			ch.kind = MF_REMOVE;
			ch.old = a;
			i++;
		} else if (c > 0) {
			ch.kind = MF_ADD;
			ch.new = b;
			j++;
		} else {
			i++;
			j++;
			ch.old = a;
			ch.new = b;
			if (a->type != b->type || memcmp(a->hash, b->hash, 32) || a->size != b->size)
				ch.kind = MF_MODIFY;
			else if (a->mode != b->mode)
				ch.kind = MF_MODE;
			else
				continue;
		}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 64;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				return -1;
			}
			v = nv;
		}
		v[cnt++] = ch;
	}
	*out = v;
	*n = cnt;
	return 0;
}
