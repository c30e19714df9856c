/* lab deploy on the target: objects, generations, apply, rollback, converge. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "deploy.h"
#include "deploy_apply.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "spawn.h"
#include "tree.h"

__attribute__((format(printf, 2, 3))) static int
tfail(struct dtarget *t, const char *fmt, ...)
{
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	errno = e ? e : EIO;
	return -1;
}

__attribute__((format(printf, 2, 3))) static void
tlog(struct dtarget *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (t->log)
		t->log(t->logarg, line);
}

/* Contents are kept by hash for generations and rollbacks: objects/ab/cdef...
 * A content received (or displaced) in this deploy waits in objects/tmp/HASH
 * and joins the store once the file system has been synced (promote()):
 * a crash cannot leave a torn content under a name that claims it whole,
 * and no content needs an fsync of its own. */
static void
obj_path(const uint8_t hash[32], char out[80])
{
	char hex[65];

	hex_encode(hash, 32, hex);
	snprintf(out, 80, "objects/%.2s/%s", hex, hex + 2);
}

static void
obj_tmp_path(const uint8_t hash[32], char out[80])
{
	char hex[65];

	hex_encode(hash, 32, hex);
	snprintf(out, 80, "objects/tmp/%s", hex);
}

int
dt_object_open(struct dtarget *t, const uint8_t hash[32])
{
	char p[80];
	int fd;

	obj_path(hash, p);
	fd = openat(t->statefd, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		obj_tmp_path(hash, p);
		fd = openat(t->statefd, p, O_RDONLY | O_CLOEXEC);
	}
	return fd;
}

/* Name a verified content by its hash, in objects/tmp until promote(). */
static int
obj_name(struct dtarget *t, const char *tmp, const uint8_t hash[32])
{
	char dst[80];

	obj_tmp_path(hash, dst);
	return renameat(t->statefd, tmp, t->statefd, dst);
}

/* After a sync: the contents received in this deploy join the store. */
static void
promote(struct dtarget *t)
{
	char dir[1300], **names, from[100], to[80], dd[16];
	uint8_t h[32];
	size_t n, i;

	snprintf(dir, sizeof(dir), "%s/objects/tmp", t->state);
	if (fs_list(dir, &names, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (strlen(names[i]) != 64 || hex_decode(names[i], h, 32) != 32)
			continue;
		snprintf(from, sizeof(from), "objects/tmp/%s", names[i]);
		obj_path(h, to);
		snprintf(dd, sizeof(dd), "%.10s", to);	/* objects/ab */
		mkdirat(t->statefd, dd, 0700);
		if (renameat(t->statefd, from, t->statefd, to) < 0)
			tlog(t, "store %s: %s", names[i], strerror(errno));
	}
	fs_list_free(names, n);
}

static int
read_gen(struct dtarget *t, uint64_t gen, const char *ext, struct manifest *m)
{
	char p[64];
	struct buf b = BUF_INIT;
	int fd, rc;

	mf_init(m);
	snprintf(p, sizeof(p), "gens/%llu.%s", (unsigned long long)gen, ext);
	fd = openat(t->statefd, p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fs_read_fd(fd, &b, 512u << 20);
	close(fd);
	if (rc == 0)
		rc = mf_parse(m, buf_cstr(&b), b.len, t->err, sizeof(t->err));
	buf_free(&b);
	return rc;
}

int
dt_open(struct dtarget *t, const char *root)
{
	struct buf b = BUF_INIT;
	char p[1300];
	int fd;

	memset(t, 0, sizeof(*t));
	t->rootfd = t->statefd = t->lock = -1;
	mf_init(&t->cur);
	str_copy(t->root, root, sizeof(t->root));
	/* a root that is not there yet is made, as rsync makes its destination */
	if (fs_mkdir_p(root, 0755) < 0 ||
	    (t->rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return tfail(t, "root %s: %s", root, strerror(errno));
	snprintf(t->state, sizeof(t->state), "%s%s" DEPLOY_STATE_DIR,
		 root, root[strlen(root) - 1] == '/' ? "" : "/");
	snprintf(p, sizeof(p), "%s/objects/tmp", t->state);
	if (fs_mkdir_p(p, 0700) < 0)
		return tfail(t, "%s: %s", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/gens", t->state);
	if (fs_mkdir_p(p, 0700) < 0)
		return tfail(t, "%s: %s", p, strerror(errno));
	t->statefd = open(t->state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->statefd < 0)
		return tfail(t, "%s: %s", t->state, strerror(errno));
	snprintf(p, sizeof(p), "%s/lock", t->state);
	t->lock = fs_lock(p, FS_LOCK_NB);
	if (t->lock < 0)
		return tfail(t, "%s: %s", p,
			     errno == EWOULDBLOCK ? "another deploy holds it" : strerror(errno));
	/* contents a broken-off deploy left half-received */
	snprintf(p, sizeof(p), "%s/objects/tmp", t->state);
	tree_remove(p);
	fs_mkdir_p(p, 0700);
	fd = openat(t->statefd, "current", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		fs_read_fd(fd, &b, 64);
		close(fd);
		t->gen = strtoull(buf_cstr(&b), NULL, 10);
		buf_free(&b);
	}
	if (t->gen && read_gen(t, t->gen, "manifest", &t->cur) < 0)
		return tfail(t, "generation %llu: %s", (unsigned long long)t->gen,
			     t->err[0] ? t->err : strerror(errno));
	mf_hash(&t->cur, t->curhash);
	t->systemd = !strcmp(root, "/") && access("/run/systemd/system", F_OK) == 0;
	return 0;
}

void
dt_close(struct dtarget *t)
{
	mf_free(&t->cur);
	if (t->rootfd >= 0)
		close(t->rootfd);
	if (t->statefd >= 0)
		close(t->statefd);
	fs_unlock(t->lock);
	t->rootfd = t->statefd = t->lock = -1;
}

int
dt_have(struct dtarget *t, const uint8_t hash[32])
{
	char p[80];

	obj_path(hash, p);
	if (faccessat(t->statefd, p, F_OK, 0) == 0)
		return 1;
	obj_tmp_path(hash, p);
	return faccessat(t->statefd, p, F_OK, 0) == 0;
}

static int
cmp_hash(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

/* The contents of m this target lacks, each once, as hex lines. */
int
dt_need(struct dtarget *t, const struct manifest *m, struct buf *out)
{
	uint8_t (*v)[32] = malloc((m->n ? m->n : 1) * 32);
	size_t i, n = 0;
	char hex[65];

	if (!v)
		return -1;
	for (i = 0; i < m->n; i++)
		if (m->v[i].type == MF_FILE)
			memcpy(v[n++], m->v[i].hash, 32);
	if (n)
		qsort(v, n, 32, cmp_hash);
	for (i = 0; i < n; i++) {
		if ((i && !memcmp(v[i], v[i - 1], 32)) || dt_have(t, v[i]))
			continue;
		hex_encode(v[i], 32, hex);
		buf_addf(out, "%s\n", hex);
	}
	free(v);
	return buf_err(out);
}

/* ---- blobs ---- */

struct dt_blob {
	struct dtarget *t;
	uint8_t want[32];
	uint64_t size, got;
	struct hash_sha256 h;
	z_stream z;
	int fd;
	char tmp[64];
	int zend;
};

struct dt_blob *
dt_blob_begin(struct dtarget *t, const uint8_t hash[32], uint64_t size)
{
	struct dt_blob *b = calloc(1, sizeof(*b));
	static unsigned seq;

	if (!b)
		return NULL;
	b->t = t;
	memcpy(b->want, hash, 32);
	b->size = size;
	hash_sha256_init(&b->h);
	if (inflateInit(&b->z) != Z_OK) {
		free(b);
		errno = ENOMEM;
		return NULL;
	}
	snprintf(b->tmp, sizeof(b->tmp), "objects/tmp/%d.%u", (int)getpid(), seq++);
	b->fd = openat(t->statefd, b->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (b->fd < 0) {
		inflateEnd(&b->z);
		free(b);
		return NULL;
	}
	return b;
}

int
dt_blob_data(struct dt_blob *b, const void *p, size_t n)
{
	unsigned char out[65536];

	b->z.next_in = (unsigned char *)p;
	b->z.avail_in = (uInt)n;
	while (b->z.avail_in && !b->zend) {
		int zr;
		size_t k;

		b->z.next_out = out;
		b->z.avail_out = sizeof(out);
		zr = inflate(&b->z, Z_NO_FLUSH);
		if (zr != Z_OK && zr != Z_STREAM_END && zr != Z_BUF_ERROR) {
			errno = EPROTO;
			return -1;
		}
		k = sizeof(out) - b->z.avail_out;
		b->got += k;
		if (b->got > b->size) {
			errno = EPROTO;
			return -1;	/* more than announced */
		}
		hash_sha256_update(&b->h, out, k);
		if (fs_write_full(b->fd, out, k) < 0)
			return -1;
		if (zr == Z_STREAM_END)
			b->zend = 1;
		if (zr == Z_BUF_ERROR && k == 0)
			break;
	}
	if (b->z.avail_in) {
		errno = EPROTO;
		return -1;	/* data past the end of the stream */
	}
	return 0;
}

void
dt_blob_abort(struct dt_blob *b)
{
	if (!b)
		return;
	if (b->fd >= 0)
		close(b->fd);
	unlinkat(b->t->statefd, b->tmp, 0);
	inflateEnd(&b->z);
	free(b);
}

int
dt_blob_end(struct dt_blob *b)
{
	uint8_t h[32];

	hash_sha256_final(&b->h, h);
	if (!b->zend || b->got != b->size || memcmp(h, b->want, 32)) {
		dt_blob_abort(b);
		errno = EPROTO;
		return -1;
	}
	if (close(b->fd) < 0) {
		b->fd = -1;
		dt_blob_abort(b);
		return -1;
	}
	b->fd = -1;
	if (obj_name(b->t, b->tmp, b->want) < 0) {
		dt_blob_abort(b);
		return -1;
	}
	inflateEnd(&b->z);
	free(b);
	return 0;
}

/* Store the content of an open file as an object (for displaced files). */
static int
store_fd(struct dtarget *t, int fd, uint8_t hash[32], uint64_t *size)
{
	struct hash_sha256 h;
	char tmp[64], buf[65536];
	ssize_t n;
	int out;

	snprintf(tmp, sizeof(tmp), "objects/tmp/%d.displaced", (int)getpid());
	out = openat(t->statefd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0)
		return -1;
	hash_sha256_init(&h);
	*size = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		hash_sha256_update(&h, buf, (size_t)n);
		if (fs_write_full(out, buf, (size_t)n) < 0) {
			close(out);
			return -1;
		}
		*size += (uint64_t)n;
	}
	hash_sha256_final(&h, hash);
	if (n < 0 || close(out) < 0)
		return -1;
	return obj_name(t, tmp, hash);
}

/* ---- apply ---- */

struct staged {
	int dirfd;
	char *tmp, *name;	/* in dirfd */
	const char *path;	/* for messages */
};

/* The directory holding path (made, with the manifest's modes, when missing). */
static int
open_parent(struct dtarget *t, const struct manifest *m, const char *path, const char **leaf)
{
	char dir[MF_PATH_MAX];
	const char *slash = strrchr(path, '/');
	char *c;
	int fd;

	if (!slash) {
		*leaf = path;
		return fs_open_in_root(t->rootfd, ".", O_PATH | O_DIRECTORY, 0);
	}
	*leaf = slash + 1;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = fs_open_in_root(t->rootfd, dir, O_PATH | O_DIRECTORY, 0);
	if (fd >= 0 || errno != ENOENT)
		return fd;
	/* make each missing level with its mode from the manifest */
	for (c = dir;; c++) {
		if (*c == '/' || !*c) {
			char save = *c;
			const struct mf_entry *e;
			int pfd;
			const char *lf;

			*c = '\0';
			e = mf_find(m, dir);
			pfd = open_parent(t, m, dir, &lf);
			if (pfd < 0)
				return -1;
			if (mkdirat(pfd, lf, e && e->type == MF_DIR ? e->mode : 0755) < 0 &&
			    errno != EEXIST) {
				close(pfd);
				return -1;
			}
			if (e && e->type == MF_DIR)
				fchmodat(pfd, lf, e->mode, 0);
			close(pfd);
			*c = save;
			if (!save)
				break;
		}
	}
	return fs_open_in_root(t->rootfd, dir, O_PATH | O_DIRECTORY, 0);
}

static int
copy_object(struct dtarget *t, const uint8_t hash[32], int out)
{
	char buf[65536];
	ssize_t n;
	int in = dt_object_open(t, hash);

	if (in < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (fs_write_full(out, buf, (size_t)n) < 0) {
			close(in);
			return -1;
		}
	close(in);
	return n < 0 ? -1 : 0;
}

static int
write_gen(struct dtarget *t, uint64_t gen, const char *ext, const struct manifest *m)
{
	struct buf b = BUF_INIT;
	char p[1400];
	int rc;

	mf_serialize(m, &b);
	snprintf(p, sizeof(p), "%s/gens/%llu.%s", t->state, (unsigned long long)gen, ext);
	rc = buf_err(&b) < 0 ? -1 : fs_write_atomic(p, b.data ? b.data : "", b.len, 0600);
	buf_free(&b);
	return rc;
}

/* What a path is to systemd: a unit file, a drop-in, a .wants link, or a
 * file of /usr/local/opt/UNIT/; its unit name into unit. 0: none. */
enum { U_NONE, U_FILE, U_DROPIN, U_WANTS, U_OPT };

/* Whether name ends in a unit type systemctl knows. */
static int
unit_name(const char *name, size_t n)
{
	static const char *const types[] = { ".service", ".socket", ".timer", ".target", ".path",
					     ".mount", ".automount", ".swap", ".slice", ".scope",
					     ".device" };
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t tl = strlen(types[i]);

		if (n > tl && !memcmp(name + n - tl, types[i], tl))
			return 1;
	}
	return 0;
}

static int
unit_of(const char *path, char *unit, size_t size)
{
	static const char *const dirs[] = { "etc/systemd/system/", "usr/local/lib/systemd/system/",
					     "lib/systemd/system/", "usr/lib/systemd/system/" };
	size_t i;

	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		size_t dl = strlen(dirs[i]), n;
		const char *rest, *slash;

		if (strncmp(path, dirs[i], dl))
			continue;
		rest = path + dl;
		slash = strchr(rest, '/');
		n = slash ? (size_t)(slash - rest) : strlen(rest);
		if (slash && strchr(slash + 1, '/'))
			return U_NONE;
		/* UNIT.d/ holds drop-ins: the directory or a file in it */
		if (n > 2 && !memcmp(rest + n - 2, ".d", 2) && unit_name(rest, n - 2)) {
			snprintf(unit, size, "%.*s", (int)(n - 2), rest);
			return U_DROPIN;
		}
		/* X.wants/ and X.requires/ hold links that enable units */
		if ((n > 6 && !memcmp(rest + n - 6, ".wants", 6)) ||
		    (n > 9 && !memcmp(rest + n - 9, ".requires", 9))) {
			if (!slash || !unit_name(slash + 1, strlen(slash + 1)))
				return U_NONE;
			str_copy(unit, slash + 1, size);
			return U_WANTS;
		}
		if (slash || !unit_name(rest, n))
			return U_NONE;
		str_copy(unit, rest, size);
		return U_FILE;
	}
	if (!strncmp(path, "usr/local/opt/", 14)) {
		const char *rest = path + 14, *slash = strchr(rest, '/');
		size_t n = slash ? (size_t)(slash - rest) : strlen(rest);

		if (!n)
			return U_NONE;
		snprintf(unit, size, "%.*s%s", (int)n, rest, memchr(rest, '.', n) ? "" : ".service");
		return U_OPT;
	}
	return U_NONE;
}

static void
add_word(struct buf *list, const char *w)
{
	const char *p = buf_cstr(list);
	size_t wl = strlen(w);

	while ((p = strstr(p, w))) {
		if ((p == list->data || p[-1] == ' ') && (p[wl] == ' ' || !p[wl]))
			return;
		p += wl;
	}
	if (list->len)
		buf_addc(list, ' ');
	buf_adds(list, w);
}

/* Run a converge step with stdout and stderr captured together; a failure
 * names the command, its exit and the last line it printed. */
static int
run_cmd(struct dtarget *t, struct dt_result *r, char *const argv[])
{
	struct buf out = BUF_INIT, line = BUF_INIT;
	struct spawn sp;
	int st = -1, i, pfd[2], rc = 0;

	for (i = 0; argv[i]; i++)
		buf_addf(&line, "%s%s", i ? " " : "", argv[i]);
	tlog(t, "%s", buf_cstr(&line));
	buf_addf(&r->steps, "%s\n", buf_cstr(&line));
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return tfail(t, "%s: %s", buf_cstr(&line), strerror(errno)), buf_free(&line), -1;
	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.io[0].mode = SPAWN_NULL;
	sp.io[1].mode = sp.io[2].mode = SPAWN_FD;
	sp.io[1].fd = sp.io[2].fd = pfd[1];
	if (spawn_start(&sp) < 0) {
		tfail(t, "%s: %s", buf_cstr(&line), strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		buf_free(&line);
		return -1;
	}
	close(pfd[1]);
	fs_read_fd(pfd[0], &out, 1 << 20);
	close(pfd[0]);
	if (spawn_wait(sp.pid, &st) < 0 || spawn_exit_code(st) != 0) {
		char *o = (char *)buf_cstr(&out), *last;

		while (out.len && (o[out.len - 1] == '\n' || o[out.len - 1] == ' '))
			o[--out.len] = '\0';
		last = strrchr(o, '\n');
		last = last ? last + 1 : o;
		tfail(t, "%s: exit %d%s%s", buf_cstr(&line), st >= 0 ? spawn_exit_code(st) : -1,
		      *last ? ": " : "", last);
		rc = -1;
	}
	buf_free(&out);
	buf_free(&line);
	return rc;
}

static int
read_meta(struct dtarget *t, const char *name, struct buf *out)
{
	char p[256];
	int fd, rc;

	snprintf(p, sizeof(p), DEPLOY_META_DIR "/%s", name);
	fd = fs_open_in_root(t->rootfd, p, O_RDONLY, 0);
	if (fd < 0)
		return -1;
	rc = fs_read_fd(fd, out, 16 << 20);
	close(fd);
	return rc;
}

static int
systemctl(struct dtarget *t, struct dt_result *r, const char *verb, const struct buf *units)
{
	char *argv[130], *copy, *tok, *save = NULL;
	int n = 0, rc;

	if (!units->len)
		return 0;
	copy = strdup(buf_cstr((struct buf *)units));
	argv[n++] = "systemctl";
	argv[n++] = (char *)verb;
	for (tok = strtok_r(copy, " ", &save); tok && n < 128; tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	rc = run_cmd(t, r, argv);
	free(copy);
	return rc;
}

static int
apt(struct dtarget *t, struct dt_result *r, const char *verb, const struct buf *pkgs)
{
	char *argv[140], *copy = strdup(buf_cstr((struct buf *)pkgs)), *tok, *save = NULL;
	int n = 0, rc;

	argv[n++] = "apt-get";
	argv[n++] = (char *)verb;
	argv[n++] = "-y";
	argv[n++] = "-q";
	if (!strcmp(verb, "install"))
		argv[n++] = "--no-install-recommends";
	for (tok = strtok_r(copy, " ", &save); tok && n < 138; tok = strtok_r(NULL, " ", &save))
		argv[n++] = tok;
	argv[n] = NULL;
	rc = run_cmd(t, r, argv);
	free(copy);
	return rc;
}

/* Packages: "+ pkg" / "- pkg" lines into the two lists. */
static void
packages(const struct buf *meta, struct buf *inst, struct buf *rm)
{
	char *copy = strdup(buf_cstr((struct buf *)meta)), *line, *save = NULL;

	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if ((line[0] == '+' || line[0] == '-') && line[1] == ' ')
			add_word(line[0] == '+' ? inst : rm, line + 2);
	free(copy);
}

static int
converge(struct dtarget *t, const struct mf_change *ch, size_t n, struct dt_result *r,
	 const struct buf *old_packages)
{
	struct buf restart = BUF_INIT, start = BUF_INIT, rules = BUF_INIT, pk = BUF_INIT;
	struct buf changed = BUF_INIT;
	int reload = 0, rc = -1;
	size_t i;
	char unit[256];

	for (i = 0; i < n; i++) {
		const char *path = ch[i].new ? ch[i].new->path : ch[i].old->path;
		int k = unit_of(path, unit, sizeof(unit));

		buf_addf(&changed, "%s\n", path);
		if (k == U_FILE || k == U_DROPIN || k == U_WANTS)
			reload = 1;
		if (k == U_WANTS && ch[i].kind == MF_ADD)
			add_word(&start, unit);
		else if ((k == U_FILE || k == U_DROPIN || k == U_OPT) && ch[i].kind != MF_REMOVE)
			add_word(&restart, unit);
	}
	if (read_meta(t, "restart-on", &rules) == 0) {
		char *copy = strdup(buf_cstr(&rules)), *line, *save = NULL;

		for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char u[256], g[1024];

			if (sscanf(line, "%255s %1023s", u, g) != 2)
				continue;
			for (i = 0; i < n; i++) {
				const char *path = ch[i].new ? ch[i].new->path : ch[i].old->path;

				if (fnmatch(g, path, 0) == 0) {
					add_word(&restart, u);
					break;
				}
			}
		}
		free(copy);
	}
	read_meta(t, "packages", &pk);
	if (t->systemd) {
		if (reload && run_cmd(t, r, (char *[]){ "systemctl", "daemon-reload", NULL }) < 0)
			goto out;
		if (systemctl(t, r, "try-reload-or-restart", &restart) < 0 ||
		    systemctl(t, r, "start", &start) < 0)
			goto out;
		{
			/* what was touched, each unit once */
			struct buf *lists[] = { &restart, &start };
			size_t l;

			for (l = 0; l < 2; l++) {
				char *copy = strdup(buf_cstr(lists[l])), *w, *save = NULL;

				for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
					add_word(&r->units, w);
				free(copy);
			}
		}
	} else if (reload || restart.len || start.len) {
		tlog(t, "units: not touched (%s)", strcmp(t->root, "/") ? "root is not /" : "no systemd");
		buf_addf(&r->steps, "units not touched: %s%s%s\n", buf_cstr(&restart),
			 start.len ? " " : "", buf_cstr(&start));
	}
	/*
	 * Without systemd the hooks are the machine's service manager: they are
	 * told which units a change concerns, and once they all succeed those
	 * units count as restarted (a hook that cannot restart one must fail).
	 */
	if (!t->systemd) {
		struct buf both = BUF_INIT;

		buf_addf(&both, "%s%s%s", buf_cstr(&restart), restart.len && start.len ? " " : "",
			 buf_cstr(&start));
		setenv("LAB_DEPLOY_RESTART", buf_cstr(&both), 1);
		buf_free(&both);
	} else {
		unsetenv("LAB_DEPLOY_RESTART");
	}
	if (strcmp(buf_cstr(&pk), buf_cstr((struct buf *)old_packages))) {
		struct buf inst = BUF_INIT, rm = BUF_INIT;

		packages(&pk, &inst, &rm);
		if (strcmp(t->root, "/")) {
			tlog(t, "packages: not touched (root is not /)");
			buf_addf(&r->steps, "packages not touched: + %s - %s\n", buf_cstr(&inst),
				 buf_cstr(&rm));
		} else {
			setenv("DEBIAN_FRONTEND", "noninteractive", 1);
			if ((inst.len && apt(t, r, "install", &inst) < 0) ||
			    (rm.len && apt(t, r, "remove", &rm) < 0)) {
				buf_free(&inst);
				buf_free(&rm);
				goto out;
			}
		}
		buf_free(&inst);
		buf_free(&rm);
	}
	/* hooks, in layer order (NN-layer) */
	{
		char hdir[1400], chpath[1400], path[1700], gen[32];
		char **names;
		size_t nn, k;

		snprintf(hdir, sizeof(hdir), "%s%s" DEPLOY_META_DIR "/hooks", t->root,
			 t->root[strlen(t->root) - 1] == '/' ? "" : "/");
		if (fs_list(hdir, &names, &nn) < 0) {
			tfail(t, "%s: %s", hdir, strerror(errno));
			goto out;
		}
		snprintf(chpath, sizeof(chpath), "%s/changed", t->state);
		fs_write_atomic(chpath, changed.data ? changed.data : "", changed.len, 0600);
		snprintf(gen, sizeof(gen), "%llu", (unsigned long long)r->gen);
		setenv("LAB_DEPLOY_ROOT", t->root, 1);
		setenv("LAB_DEPLOY_GEN", gen, 1);
		setenv("LAB_DEPLOY_CHANGED", chpath, 1);
		for (k = 0; k < nn; k++) {
			char *argv[] = { path, NULL };

			snprintf(path, sizeof(path), "%s/%s", hdir, names[k]);
			if (run_cmd(t, r, argv) < 0) {
				fs_list_free(names, nn);
				goto out;
			}
		}
		if (nn && !t->systemd) {
			struct buf *lists[] = { &restart, &start };
			size_t l;

			for (l = 0; l < 2; l++) {
				char *copy = strdup(buf_cstr(lists[l])), *w, *save = NULL;

				for (w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save))
					add_word(&r->units, w);
				free(copy);
			}
		}
		fs_list_free(names, nn);
	}
	rc = 0;
out:
	buf_free(&restart);
	buf_free(&start);
	buf_free(&rules);
	buf_free(&pk);
	buf_free(&changed);
	return rc;
}

static void
unstage(struct staged *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		unlinkat(s[i].dirfd, s[i].tmp, 0);
		close(s[i].dirfd);
		free(s[i].tmp);
		free(s[i].name);
	}
	free(s);
}

/*
 * Make the tree under root go from old to new: stage, sync, rename, then
 * remove. Displaced unmanaged files are saved into disp.
 */
static int
apply_tree(struct dtarget *t, const struct manifest *new, const struct mf_change *ch, size_t n,
	   struct manifest *disp, struct dt_result *r)
{
	struct staged *st = calloc(n ? n : 1, sizeof(*st));
	size_t ns = 0, i;
	unsigned seq = 0;

	if (!st)
		return tfail(t, "out of memory");
	/* 1. directories first, then new contents under temporary names */
	for (i = 0; i < n; i++) {
		const struct mf_entry *e = ch[i].new;
		const char *leaf;
		struct stat sb;
		int dfd;

		if (!e || ch[i].kind == MF_MODE)
			continue;
		dfd = open_parent(t, new, e->path, &leaf);
		if (dfd < 0) {
			tfail(t, "%s: %s", e->path, strerror(errno));
			goto fail;
		}
		if (e->type == MF_DIR) {
			if (fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISDIR(sb.st_mode) &&
			    (!ch[i].old || ch[i].old->type != MF_DIR))
				unlinkat(dfd, leaf, 0);	/* a file or link gives way */
			if (mkdirat(dfd, leaf, e->mode) < 0 && errno != EEXIST) {
				tfail(t, "%s: %s", e->path, strerror(errno));
				close(dfd);
				goto fail;
			}
			fchmodat(dfd, leaf, e->mode, 0);
			close(dfd);
			continue;
		}
		if (ch[i].kind == MF_ADD && fstatat(dfd, leaf, &sb, AT_SYMLINK_NOFOLLOW) == 0) {
			/* lab did not manage this one: keep it for a rollback */
			uint8_t h[32];
			uint64_t size = 0;

			if (S_ISREG(sb.st_mode)) {
				int fd = openat(dfd, leaf, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

				if (fd >= 0 && store_fd(t, fd, h, &size) == 0)
					mf_add(disp, e->path, MF_FILE, sb.st_mode, size, h, NULL);
				if (fd >= 0)
					close(fd);
			} else if (S_ISLNK(sb.st_mode)) {
				char tg[MF_PATH_MAX];
				ssize_t k = readlinkat(dfd, leaf, tg, sizeof(tg) - 1);

				if (k > 0) {
					tg[k] = '\0';
					hash_sha256(tg, (size_t)k, h);
					mf_add(disp, e->path, MF_LINK, 0777, (uint64_t)k, h, tg);
				}
			}
		}
		st[ns].dirfd = dfd;
		st[ns].name = strdup(leaf);
		st[ns].path = e->path;
		st[ns].tmp = malloc(strlen(leaf) + 40);
		if (!st[ns].name || !st[ns].tmp) {
			close(dfd);
			tfail(t, "out of memory");
			goto fail;
		}
		sprintf(st[ns].tmp, ".#lab.%s.%d.%u", leaf, (int)getpid(), seq++);
		ns++;
		if (e->type == MF_LINK) {
			if (symlinkat(e->target, dfd, st[ns - 1].tmp) < 0) {
				tfail(t, "%s: %s", e->path, strerror(errno));
				goto fail;
			}
		} else {
			int fd = openat(dfd, st[ns - 1].tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);

			if (fd < 0 || copy_object(t, e->hash, fd) < 0 || fchmod(fd, e->mode) < 0) {
				tfail(t, "%s: %s", e->path, strerror(errno));
				if (fd >= 0)
					close(fd);
				goto fail;
			}
			close(fd);
		}
	}
	/* 2. durable before anything visible changes */
	if (syncfs(t->rootfd) < 0 || syncfs(t->statefd) < 0) {
		tfail(t, "%s: sync: %s", t->root, strerror(errno));
		goto fail;
	}
	promote(t);
	/* 3. into place */
	for (i = 0; i < ns; i++) {
		if (renameat(st[i].dirfd, st[i].tmp, st[i].dirfd, st[i].name) < 0) {
			if ((errno == EISDIR || errno == ENOTEMPTY) &&
			    unlinkat(st[i].dirfd, st[i].name, AT_REMOVEDIR) == 0 &&
			    renameat(st[i].dirfd, st[i].tmp, st[i].dirfd, st[i].name) == 0)
				goto renamed;
			tfail(t, "%s: %s", st[i].path, strerror(errno));
			goto fail;
		}
renamed:
		r->written++;
		close(st[i].dirfd);
		free(st[i].tmp);
		free(st[i].name);
		st[i].tmp = st[i].name = NULL;
		st[i].dirfd = -1;
	}
	free(st);
	st = NULL;
	ns = 0;
	for (i = 0; i < n; i++)
		if (ch[i].kind == MF_MODE) {
			const char *leaf;
			int dfd = open_parent(t, new, ch[i].new->path, &leaf);

			if (dfd < 0 || fchmodat(dfd, leaf, ch[i].new->mode, 0) < 0) {
				if (dfd >= 0)
					close(dfd);
				return tfail(t, "%s: %s", ch[i].new->path, strerror(errno));
			}
			close(dfd);
			r->modes++;
		}
	/* 4. what left the tree: files first, then directories deepest first */
	for (i = n; i-- > 0;) {
		const struct mf_entry *o = ch[i].old;
		const char *leaf;
		char dir[MF_PATH_MAX];
		const char *slash;
		int dfd;

		if (!o || (ch[i].kind != MF_REMOVE && !(ch[i].kind == MF_MODIFY &&
							o->type == MF_DIR && ch[i].new->type != MF_DIR)))
			continue;
		if (ch[i].kind == MF_MODIFY)
			continue;	/* already replaced */
		slash = strrchr(o->path, '/');
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - o->path) : 1,
			 slash ? o->path : ".");
		leaf = slash ? slash + 1 : o->path;
		dfd = fs_open_in_root(t->rootfd, dir, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			continue;	/* its directory is gone already */
		if (unlinkat(dfd, leaf, o->type == MF_DIR ? AT_REMOVEDIR : 0) == 0)
			r->removed++;
		else if (errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
			tlog(t, "remove %s: %s", o->path, strerror(errno));
		close(dfd);
	}
	syncfs(t->rootfd);
	syncfs(t->statefd);	/* the promoted contents, before the generation names them */
	return 0;
fail:
	if (st)
		unstage(st, ns);
	return -1;
}

/* Units whose unit files (or .wants links) leave the tree are stopped
 * before their files go. */
static void
stop_removed(struct dtarget *t, const struct mf_change *ch, size_t n, struct dt_result *r)
{
	struct buf stop = BUF_INIT;
	size_t i;
	char unit[256];

	for (i = 0; i < n; i++) {
		int k = ch[i].kind == MF_REMOVE ? unit_of(ch[i].old->path, unit, sizeof(unit)) : U_NONE;

		if (k == U_FILE || k == U_WANTS)
			add_word(&stop, unit);
	}
	if (t->systemd)
		systemctl(t, r, "stop", &stop);
	buf_free(&stop);
}

/* Generations past the newest DT_KEEP_GENS go, and the contents that no
 * kept generation holds. */
static void
gc(struct dtarget *t)
{
	uint8_t (*keep)[32] = NULL, h[32];
	size_t nkeep = 0, cap = 0;
	uint64_t g;
	DIR *d;
	struct dirent *de;
	int dfd;

	if (t->gen <= DT_KEEP_GENS)
		return;
	for (g = 1; g + DT_KEEP_GENS <= t->gen; g++) {
		char p[64];

		snprintf(p, sizeof(p), "gens/%llu.manifest", (unsigned long long)g);
		unlinkat(t->statefd, p, 0);
		snprintf(p, sizeof(p), "gens/%llu.displaced", (unsigned long long)g);
		unlinkat(t->statefd, p, 0);
	}
	/* every content a kept generation holds */
	for (g = t->gen + 1 - DT_KEEP_GENS; g <= t->gen; g++) {
		static const char *const ext[] = { "manifest", "displaced" };
		size_t k, i;

		for (k = 0; k < 2; k++) {
			struct manifest m;

			if (read_gen(t, g, ext[k], &m) < 0)
				continue;
			for (i = 0; i < m.n; i++) {
				if (m.v[i].type != MF_FILE)
					continue;
				if (nkeep == cap) {
					void *nk = realloc(keep, (cap = cap ? cap * 2 : 1024) * 32);

					if (!nk) {	/* keep everything rather than guess */
						mf_free(&m);
						free(keep);
						return;
					}
					keep = nk;
				}
				memcpy(keep[nkeep++], m.v[i].hash, 32);
			}
			mf_free(&m);
		}
	}
	if (nkeep)
		qsort(keep, nkeep, 32, cmp_hash);
	dfd = openat(t->statefd, "objects", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	d = dfd >= 0 ? fdopendir(dfd) : NULL;
	while (d && (de = readdir(d))) {
		DIR *sd;
		struct dirent *se;
		int sfd;

		if (strlen(de->d_name) != 2)
			continue;
		sfd = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		sd = sfd >= 0 ? fdopendir(sfd) : NULL;
		while (sd && (se = readdir(sd))) {
			char hex[65];

			if (strlen(se->d_name) != 62)
				continue;
			snprintf(hex, sizeof(hex), "%.2s%.62s", de->d_name, se->d_name);
			if (hex_decode(hex, h, 32) == 32 && !bsearch(h, keep, nkeep, 32, cmp_hash))
				unlinkat(dirfd(sd), se->d_name, 0);
		}
		if (sd)
			closedir(sd);
	}
	if (d)
		closedir(d);
	free(keep);
}

static int
set_current(struct dtarget *t, uint64_t gen, const struct manifest *m,
	    const struct manifest *disp)
{
	char p[1400], v[32];
	size_t i;

	if (write_gen(t, gen, "manifest", m) < 0 ||
	    (disp->n && write_gen(t, gen, "displaced", disp) < 0))
		return tfail(t, "generation %llu: %s", (unsigned long long)gen, strerror(errno));
	snprintf(p, sizeof(p), "%s/current", t->state);
	snprintf(v, sizeof(v), "%llu\n", (unsigned long long)gen);
	if (fs_write_atomic(p, v, strlen(v), 0600) < 0)
		return tfail(t, "%s: %s", p, strerror(errno));
	/* a fresh copy: the caller still holds (and frees) the old one,
	 * whose entries its change list points at */
	mf_init(&t->cur);
	for (i = 0; i < m->n; i++)
		mf_add(&t->cur, m->v[i].path, m->v[i].type, m->v[i].mode, m->v[i].size, m->v[i].hash,
		       m->v[i].target);
	t->gen = gen;
	mf_hash(&t->cur, t->curhash);
	return 0;
}

/* From the current generation to tree (recorded as manifest rec). */
static int
move_to(struct dtarget *t, const struct manifest *tree, const struct manifest *rec,
	int do_converge, struct dt_result *r)
{
	struct mf_change *ch = NULL;
	struct manifest disp, prev = t->cur;
	struct buf oldpk = BUF_INIT;
	size_t n;
	int rc = -1, moved = 0;

	mf_init(&disp);
	if (mf_diff(&prev, tree, &ch, &n) < 0)
		return tfail(t, "out of memory");
	read_meta(t, "packages", &oldpk);
	if (do_converge)
		stop_removed(t, ch, n, r);
	if (apply_tree(t, tree, ch, n, &disp, r) < 0)
		goto out;
	mf_sort(&disp, NULL, 0);
	if (set_current(t, t->gen + 1, rec, &disp) < 0)
		goto out;
	moved = 1;
	r->gen = t->gen;
	if (do_converge && n && converge(t, ch, n, r, &oldpk) < 0)
		goto out;
	rc = 0;
out:
	free(ch);
	if (moved)
		mf_free(&prev);
	mf_free(&disp);
	buf_free(&oldpk);
	return rc;
}

int
dt_commit(struct dtarget *t, const struct manifest *m, int rollback_on_failure,
	  struct dt_result *r)
{
	size_t i;
	uint8_t h[32];

	memset(r, 0, sizeof(*r));
	mf_hash(m, h);
	if (!memcmp(h, t->curhash, 32)) {
		r->ok = 1;
		r->gen = t->gen;
		return 0;	/* nothing to do */
	}
	for (i = 0; i < m->n; i++)
		if (m->v[i].type == MF_FILE && !dt_have(t, m->v[i].hash))
			return tfail(t, "%s: its content never arrived", m->v[i].path);
	if (move_to(t, m, m, 1, r) == 0) {
		r->ok = 1;
		gc(t);
		return 0;
	}
	if (rollback_on_failure && t->gen > 1) {
		char why[sizeof(t->err)];
		struct dt_result rr;

		memcpy(why, t->err, sizeof(why));
		tlog(t, "converge failed: back to generation %llu", (unsigned long long)(t->gen - 1));
		if (dt_rollback(t, t->gen - 1, &rr) < 0)
			tlog(t, "rollback failed too: %s", t->err);
		dt_result_free(&rr);
		snprintf(t->err, sizeof(t->err), "%.400s (rolled back)", why);
	}
	return -1;
}

int
dt_rollback(struct dtarget *t, uint64_t gen, struct dt_result *r)
{
	struct manifest want, tree;
	uint64_t g;
	size_t i;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!gen)
		gen = t->gen > 1 ? t->gen - 1 : 0;
	if (!gen || gen >= t->gen + 1)
		return tfail(t, "no generation %llu to go back to (current %llu)",
			     (unsigned long long)gen, (unsigned long long)t->gen);
	if (read_gen(t, gen, "manifest", &want) < 0)
		return tfail(t, "generation %llu is not kept any more", (unsigned long long)gen);
	for (i = 0; i < want.n; i++)
		if (want.v[i].type == MF_FILE && !dt_have(t, want.v[i].hash)) {
			mf_free(&want);
			return tfail(t, "generation %llu: the content of %s is gone",
				     (unsigned long long)gen, want.v[i].path);
		}
	/* the tree to restore: that generation, and the unmanaged files lab
	 * replaced after it, where it does not have them */
	mf_init(&tree);
	for (i = 0; i < want.n; i++)
		mf_add(&tree, want.v[i].path, want.v[i].type, want.v[i].mode, want.v[i].size,
		       want.v[i].hash, want.v[i].target);
	for (g = gen + 1; g <= t->gen; g++) {
		struct manifest d;

		if (read_gen(t, g, "displaced", &d) < 0)
			continue;
		for (i = 0; i < d.n; i++)
			if (!mf_find(&tree, d.v[i].path) && mf_find(&t->cur, d.v[i].path) &&
			    (d.v[i].type != MF_FILE || dt_have(t, d.v[i].hash)))
				mf_add(&tree, d.v[i].path, d.v[i].type, d.v[i].mode, d.v[i].size,
				       d.v[i].hash, d.v[i].target);
		mf_free(&d);
		mf_sort(&tree, NULL, 0);
	}
	mf_sort(&tree, NULL, 0);
	tlog(t, "rolling back to generation %llu", (unsigned long long)gen);
	rc = move_to(t, &tree, &want, 1, r);
	if (rc == 0)
		r->ok = 1;
	mf_free(&tree);
	mf_free(&want);
	return rc;
}

void
dt_result_free(struct dt_result *r)
{
	buf_free(&r->units);
	buf_free(&r->steps);
}

/* The running binary's SHA-256. With a target, the hash is remembered in
 * its state directory for this file (device, inode, size, change time),
 * so that a connection does not read a megabyte before saying hello. */
int
dt_self_hash(struct dtarget *t, uint8_t out[32])
{
	struct hash_sha256 h;
	struct stat st;
	struct buf c = BUF_INIT;
	char buf[65536], id[160];
	ssize_t n;
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	id[0] = '\0';
	if (t && t->statefd >= 0 && fstat(fd, &st) == 0) {
		int cfd;

		snprintf(id, sizeof(id), "%llx %llx %lld %lld.%09ld ", (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino, (long long)st.st_size,
			 (long long)st.st_ctim.tv_sec, st.st_ctim.tv_nsec);
		cfd = openat(t->statefd, "self", O_RDONLY | O_CLOEXEC);
		if (cfd >= 0 && fs_read_fd(cfd, &c, 512) == 0 && c.len == strlen(id) + 64 &&
		    !strncmp(buf_cstr(&c), id, strlen(id)) &&
		    hex_decode(buf_cstr(&c) + strlen(id), out, 32) == 32) {
			close(cfd);
			close(fd);
			buf_free(&c);
			return 0;
		}
		if (cfd >= 0)
			close(cfd);
		buf_free(&c);
	}
	hash_sha256_init(&h);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		hash_sha256_update(&h, buf, (size_t)n);
	close(fd);
	if (n < 0)
		return -1;
	hash_sha256_final(&h, out);
	if (id[0]) {
		char line[240], hex[65], p[1300];

		hex_encode(out, 32, hex);
		snprintf(line, sizeof(line), "%s%s", id, hex);
		snprintf(p, sizeof(p), "%s/self", t->state);
		fs_write_atomic(p, line, strlen(line), 0600);
	}
	return 0;
}
