#include "deploy_client.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "deploy_apply.h"
#include "fs.h"
#include "hash.h"
#include "spawn.h"

static uint8_t self_hash[32];
static struct buf self_bin = BUF_INIT;
static int self_ok;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void
load_self(void)
{
	if (fs_read_file("/proc/self/exe", &self_bin, 256u << 20) == 0) {
		hash_sha256(self_bin.data, self_bin.len, self_hash);
		self_ok = 1;
	}
}

__attribute__((format(printf, 2, 3))) static int
sfail(struct dsession *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

static void
remote_paths(const struct inv_machine *m, char *bin, char *dir, size_t size)
{
	const char *sep = m->root[strlen(m->root) - 1] == '/' ? "" : "/";

	snprintf(bin, size, "%s%s" DEPLOY_REMOTE_LAB, m->root, sep);
	snprintf(dir, size, "%s", bin);
	*strrchr(dir, '/') = '\0';
}

static int
start_remote(struct dsession *s)
{
	char bin[1200], dir[1200], qb[2500], qr[2500], cmd[6000];

	remote_paths(s->m, bin, dir, sizeof(bin));
	sshc_quote(qb, sizeof(qb), bin);
	sshc_quote(qr, sizeof(qr), s->m->root);
	snprintf(cmd, sizeof(cmd), "exec %s deploy --receive --root %s", qb, qr);
	s->ch = sshc_exec(s->ssh, cmd, s->err, sizeof(s->err));
	if (!s->ch)
		return -1;
	dp_io_free(&s->io);
	dp_io_init(&s->io, sshc_read, sshc_write, s->ch);
	return 0;
}

/* lab is not on the target yet: copy ours there. */
static int
install(struct dsession *s)
{
	char bin[1200], dir[1200], qd[2500], cmd[14000];
	struct sshc_chan *ch;
	int st;

	remote_paths(s->m, bin, dir, sizeof(bin));
	sshc_quote(qd, sizeof(qd), dir);
	snprintf(cmd, sizeof(cmd),
		 "umask 022 && mkdir -p %s && cat > %s/.lab.upload.$$ && chmod 755 %s/.lab.upload.$$ && "
		 "mv -f %s/.lab.upload.$$ %s/lab",
		 qd, qd, qd, qd, qd);
	ch = sshc_exec(s->ssh, cmd, s->err, sizeof(s->err));
	if (!ch)
		return -1;
	if (sshc_write(ch, self_bin.data, self_bin.len) < 0 || sshc_send_eof(ch) < 0) {
		sshc_chan_close(ch);
		return sfail(s, "copying lab to %s: the connection broke", bin);
	}
	st = sshc_exit_status(ch);
	if (st != 0) {
		sfail(s, "copying lab to %s failed: %s", bin, sshc_stderr(ch));
		s->err[strcspn(s->err, "\n")] = '\0';
		sshc_chan_close(ch);
		return -1;
	}
	sshc_chan_close(ch);
	s->installed = 1;
	return 0;
}

static int
read_hello(struct dsession *s)
{
	struct buf f = BUF_INIT;
	uint8_t type;
	char v[128];

	if (dp_recv(&s->io, &type, &f) < 0) {
		buf_free(&f);
		return -2;	/* no receiver there */
	}
	buf_addc(&f, '\0');
	if (type == 'Z') {
		sfail(s, "%s", f.data);
		buf_free(&f);
		return -1;
	}
	if (type != 'H' || !dp_kv(f.data, "proto", v, sizeof(v))) {
		buf_free(&f);
		return sfail(s, "the target did not greet as lab deploy");
	}
	if (atoi(v) != DP_PROTO) {
		buf_free(&f);
		return sfail(s, "the target speaks protocol %s, we speak %d", v, DP_PROTO);
	}
	s->gen = dp_kv(f.data, "gen", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	if (!dp_kv(f.data, "manifest", v, sizeof(v)) || hex_decode(v, s->manifest, 32) != 32) {
		buf_free(&f);
		return sfail(s, "the target's hello has no manifest hash");
	}
	{
		uint8_t theirs[32];

		if (!dp_kv(f.data, "self", v, sizeof(v)) || hex_decode(v, theirs, 32) != 32)
			memset(theirs, 0, sizeof(theirs));
		buf_free(&f);
		return memcmp(theirs, self_hash, 32) ? 1 : 0;	/* 1: another binary */
	}
}

static int
upgrade(struct dsession *s)
{
	char hex[65];
	size_t off;

	hex_encode(self_hash, 32, hex);
	if (dp_sendf(&s->io, 'U', "size=%zu\nsha256=%s\n", self_bin.len, hex) < 0)
		return sfail(s, "upgrade: %s", s->io.err);
	for (off = 0; off < self_bin.len; off += DP_CHUNK) {
		size_t k = self_bin.len - off > DP_CHUNK ? DP_CHUNK : self_bin.len - off;

		if (dp_send(&s->io, 'D', self_bin.data + off, k) < 0)
			return sfail(s, "upgrade: %s", s->io.err);
	}
	if (dp_send(&s->io, 'E', NULL, 0) < 0)
		return sfail(s, "upgrade: %s", s->io.err);
	s->upgraded = 1;
	return 0;
}

static int
start_local(struct dsession *s)
{
	char *argv[] = { "lab", "deploy", "--receive", "--root", (char *)s->m->root, NULL };
	struct spawn sp;

	memset(&sp, 0, sizeof(sp));
	sp.path = "/proc/self/exe";
	sp.argv = argv;
	sp.io[0].mode = SPAWN_PIPE;
	sp.io[1].mode = SPAWN_PIPE;
	if (spawn_start(&sp) < 0)
		return sfail(s, "starting the local receiver: %s", strerror(errno));
	s->pid = sp.pid;
	s->fd_out = sp.io[0].fd;	/* we write its stdin */
	s->fd_in = sp.io[1].fd;		/* and read its stdout */
	dp_io_init(&s->io, dp_fd_read, dp_fd_write, NULL);
	return 0;
}

/* fd-pair io for the local receiver */
static ssize_t
local_read(void *arg, void *p, size_t n)
{
	return dp_fd_read(&((struct dsession *)arg)->fd_in, p, n);
}

static int
local_write(void *arg, const void *p, size_t n)
{
	return dp_fd_write(&((struct dsession *)arg)->fd_out, p, n);
}

int
ds_open(struct dsession *s, const struct inv_machine *m, const struct ds_opts *o)
{
	int r, tries;

	void (*log)(void *, const char *) = s->log;
	void *arg = s->arg;

	memset(s, 0, sizeof(*s));
	s->log = log;
	s->arg = arg;
	s->m = m;
	s->fd_in = s->fd_out = -1;
	pthread_once(&self_once, load_self);
	if (!self_ok)
		return sfail(s, "cannot read this lab binary (/proc/self/exe)");
	if (o->local || !strcmp(m->host, "local")) {
		if (start_local(s) < 0)
			return -1;
		dp_io_init(&s->io, local_read, local_write, s);
	} else {
		struct sshc_target t;

		memset(&t, 0, sizeof(t));
		t.host = m->host;
		t.port = m->port;
		t.user = m->user;
		t.identity = m->identity[0] ? m->identity : NULL;
		t.known_hosts = o->known_hosts;
		t.accept_new = o->accept_new;
		t.timeout_s = o->timeout_s;
		s->ssh = sshc_connect(&t, s->err, sizeof(s->err));
		if (!s->ssh)
			return -1;
		if (start_remote(s) < 0)
			return -1;
	}
	for (tries = 0; tries < 3; tries++) {
		r = read_hello(s);
		if (r == 0)
			return 0;
		if (r == -1)
			return -1;
		if (r == 1) {
			/* another lab there: ours replaces it and takes over */
			if (upgrade(s) < 0)
				return -1;
			continue;
		}
		/* r == -2: nothing answered; install lab (over SSH) and retry */
		if (!s->ssh) {
			return sfail(s, "the local receiver did not start: %s", s->io.err);
		}
		{
			int st = sshc_exit_status(s->ch);

			if (st != 127 && st != 126) {
				sfail(s, "the receiver failed (exit %d): %s", st, sshc_stderr(s->ch));
				s->err[strcspn(s->err, "\n")] = '\0';
				return -1;
			}
		}
		sshc_chan_close(s->ch);
		s->ch = NULL;
		if (install(s) < 0 || start_remote(s) < 0)
			return -1;
	}
	return sfail(s, "the target's lab does not settle on our version");
}

/* One frame, with logs passed on and errors turned into s->err. */
static int
expect(struct dsession *s, uint8_t want, struct buf *f)
{
	uint8_t type;

	for (;;) {
		if (dp_recv(&s->io, &type, f) < 0)
			return sfail(s, "%s", s->io.err);
		if (type == 'L') {
			buf_addc(f, '\0');
			if (s->log)
				s->log(s->arg, f->data);
			continue;
		}
		if (type == 'Z') {
			buf_addc(f, '\0');
			return sfail(s, "the target refused: %s", f->data);
		}
		if (type != want)
			return sfail(s, "unexpected answer '%c' (wanted '%c')", type, want);
		return 0;
	}
}

int
ds_probe(struct dsession *s, struct buf *json)
{
	if (dp_send(&s->io, 'P', NULL, 0) < 0)
		return sfail(s, "%s", s->io.err);
	return expect(s, 'F', json);
}

int
ds_manifest(struct dsession *s, struct manifest *out)
{
	struct buf f = BUF_INIT;
	char e[300];
	int rc = -1;

	if (dp_send(&s->io, 'G', NULL, 0) < 0) {
		sfail(s, "%s", s->io.err);
		goto out;
	}
	if (expect(s, 'M', &f) < 0 || (f.len && dp_recv_long_rest(&s->io, 'M', &f) < 0)) {
		if (!s->err[0])
			sfail(s, "%s", s->io.err);
		goto out;
	}
	if (mf_parse(out, buf_cstr(&f), f.len, e, sizeof(e)) < 0) {
		sfail(s, "the target's manifest: %s", e);
		goto out;
	}
	rc = 0;
out:
	buf_free(&f);
	return rc;
}

int
ds_fetch(struct dsession *s, const uint8_t hash[32], struct buf *out)
{
	struct buf f = BUF_INIT;
	uint8_t type;
	char hex[65];

	hex_encode(hash, 32, hex);
	if (dp_sendf(&s->io, 'S', "hash=%s\n", hex) < 0)
		return sfail(s, "%s", s->io.err);
	for (;;) {
		if (dp_recv(&s->io, &type, &f) < 0) {
			buf_free(&f);
			return sfail(s, "%s", s->io.err);
		}
		if (type == 'E')
			break;
		if (type != 'D') {
			buf_free(&f);
			return sfail(s, "unexpected answer to a fetch");
		}
		buf_add(out, f.data, f.len);
	}
	type = f.len != 0;	/* "missing" */
	buf_free(&f);
	return type ? -1 : 0;
}

/* Send one content, zlib-compressed, as B D* E. */
static int
send_blob(struct dsession *s, const char *path, const struct mf_entry *e, size_t *bytes)
{
	unsigned char in[65536], out[65536];
	z_stream z;
	char hex[65];
	int fd = open(path, O_RDONLY | O_CLOEXEC), flush, zr;
	ssize_t k;

	if (fd < 0)
		return sfail(s, "%s: %s", path, strerror(errno));
	hex_encode(e->hash, 32, hex);
	if (dp_sendf(&s->io, 'B', "hash=%s\nsize=%llu\n", hex, (unsigned long long)e->size) < 0) {
		close(fd);
		return sfail(s, "%s", s->io.err);
	}
	memset(&z, 0, sizeof(z));
	if (deflateInit(&z, 1) != Z_OK) {
		close(fd);
		return sfail(s, "zlib: out of memory");
	}
	do {
		k = read(fd, in, sizeof(in));
		if (k < 0) {
			deflateEnd(&z);
			close(fd);
			return sfail(s, "%s: %s", path, strerror(errno));
		}
		flush = k == 0 ? Z_FINISH : Z_NO_FLUSH;
		z.next_in = in;
		z.avail_in = (uInt)k;
		do {
			z.next_out = out;
			z.avail_out = sizeof(out);
			zr = deflate(&z, flush);
			if (sizeof(out) - z.avail_out) {
				*bytes += sizeof(out) - z.avail_out;
				if (dp_send(&s->io, 'D', out, sizeof(out) - z.avail_out) < 0) {
					deflateEnd(&z);
					close(fd);
					return sfail(s, "%s", s->io.err);
				}
			}
		} while (z.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&z);
	close(fd);
	(void)zr;
	if (dp_send(&s->io, 'E', NULL, 0) < 0)
		return sfail(s, "%s", s->io.err);
	return 0;
}

static void
parse_result(const char *text, struct ds_result *r)
{
	char v[600];

	r->ok = dp_kv(text, "ok", v, sizeof(v)) && !strcmp(v, "1");
	r->gen = dp_kv(text, "gen", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	r->written = dp_kv(text, "written", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	r->removed = dp_kv(text, "removed", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	r->modes = dp_kv(text, "modes", v, sizeof(v)) ? strtoull(v, NULL, 10) : 0;
	if (dp_kv(text, "units", v, sizeof(v)))
		str_copy(r->units, v, sizeof(r->units));
	if (dp_kv(text, "error", v, sizeof(v)))
		str_copy(r->error, v, sizeof(r->error));
}

static int
wait_result(struct dsession *s, struct ds_result *r)
{
	struct buf f = BUF_INIT;

	if (expect(s, 'R', &f) < 0) {
		buf_free(&f);
		return -1;
	}
	buf_addc(&f, '\0');
	parse_result(f.data, r);
	buf_free(&f);
	if (r->ok)
		s->gen = r->gen;
	return r->ok ? 0 : sfail(s, "%s", r->error[0] ? r->error : "failed");
}

int
ds_apply(struct dsession *s, const struct build *b, int rollback_on_failure, struct ds_result *r)
{
	struct buf msg = BUF_INIT, need = BUF_INIT;
	char *line, *save = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	buf_addf(&msg, "rollback_on_failure=%d\n\n", rollback_on_failure);
	mf_serialize(&b->mf, &msg);
	if (buf_err(&msg) < 0 || dp_send_long(&s->io, 'A', msg.data, msg.len) < 0) {
		sfail(s, "%s", s->io.err[0] ? s->io.err : "out of memory");
		goto out;
	}
	if (expect(s, 'N', &need) < 0 || (need.len && dp_recv_long_rest(&s->io, 'N', &need) < 0)) {
		if (!s->err[0])
			sfail(s, "%s", s->io.err);
		goto out;
	}
	for (line = strtok_r(need.len ? need.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		uint8_t h[32];
		size_t i;
		const struct mf_entry *e = NULL;
		char path[2000];

		if (hex_decode(line, h, 32) != 32) {
			sfail(s, "the target asked for a bad hash");
			goto out;
		}
		for (i = 0; i < b->mf.n && !e; i++)
			if (b->mf.v[i].type == MF_FILE && !memcmp(b->mf.v[i].hash, h, 32))
				e = &b->mf.v[i];
		if (!e) {
			sfail(s, "the target asked for a content we do not have");
			goto out;
		}
		snprintf(path, sizeof(path), "%s/%s", b->tree, e->path);
		if (send_blob(s, path, e, &r->bytes) < 0)
			goto out;
		r->sent++;
	}
	if (dp_send(&s->io, 'C', NULL, 0) < 0) {
		sfail(s, "%s", s->io.err);
		goto out;
	}
	rc = wait_result(s, r);
	if (rc == 0)
		memcpy(s->manifest, b->hash, 32);
out:
	buf_free(&msg);
	buf_free(&need);
	return rc;
}

int
ds_rollback(struct dsession *s, uint64_t gen, struct ds_result *r)
{
	memset(r, 0, sizeof(*r));
	if (gen ? dp_sendf(&s->io, 'K', "gen=%llu\n", (unsigned long long)gen) < 0
		: dp_send(&s->io, 'K', NULL, 0) < 0)
		return sfail(s, "%s", s->io.err);
	return wait_result(s, r);
}

int
ds_exec(struct dsession *s, char *const argv[], struct buf *out, int *code)
{
	struct buf msg = BUF_INIT, f = BUF_INIT;
	uint8_t type;
	char v[32];
	int i;

	for (i = 0; argv[i]; i++)
		buf_add(&msg, argv[i], strlen(argv[i]) + 1);
	if (dp_send_long(&s->io, 'X', msg.data, msg.len) < 0) {
		buf_free(&msg);
		return sfail(s, "%s", s->io.err);
	}
	buf_free(&msg);
	for (;;) {
		if (dp_recv(&s->io, &type, &f) < 0) {
			buf_free(&f);
			return sfail(s, "%s", s->io.err);
		}
		if (type == 'O') {
			buf_add(out, f.data, f.len);
			continue;
		}
		break;
	}
	buf_addc(&f, '\0');
	if (type != 'R') {
		sfail(s, "exec: %s", type == 'Z' ? f.data : "unexpected answer");
		buf_free(&f);
		return -1;
	}
	*code = dp_kv(f.data, "exit", v, sizeof(v)) ? atoi(v) : -1;
	buf_free(&f);
	return 0;
}

void
ds_close(struct dsession *s)
{
	if (s->ch || s->pid > 0)
		dp_send(&s->io, 'Q', NULL, 0);
	if (s->ch) {
		sshc_send_eof(s->ch);
		sshc_chan_close(s->ch);
		s->ch = NULL;
	}
	sshc_close(s->ssh);
	s->ssh = NULL;
	if (s->pid > 0) {
		int st;

		close(s->fd_out);
		close(s->fd_in);
		spawn_wait(s->pid, &st);
		s->pid = 0;
	}
	dp_io_free(&s->io);
}
