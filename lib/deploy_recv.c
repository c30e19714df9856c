/* `lab deploy --receive`: the target's end of the deploy protocol. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deploy.h"
#include "deploy_apply.h"
#include "deploy_proto.h"
#include "fs.h"
#include "hash.h"
#include "spawn.h"
#include "version.h"

struct recv {
	struct dp_io *io;
	struct dtarget t;
	struct manifest next;
	int have_next;
	int rollback_on_failure;
	char **argv;
	int out_fd;	/* the protocol's stdout, moved back to 1 before an upgrade's exec */
};

static void
send_log(void *arg, const char *line)
{
	struct recv *rv = arg;

	dp_send(rv->io, 'L', line, strlen(line));
}

static int
refuse(struct recv *rv, const char *what)
{
	dp_send(rv->io, 'Z', what, strlen(what));
	return 1;
}

static int
hello(struct recv *rv)
{
	uint8_t self[32];
	char hs[65], hm[65];

	if (dt_self_hash(&rv->t, self) < 0)
		memset(self, 0, sizeof(self));
	hex_encode(self, 32, hs);
	hex_encode(rv->t.curhash, 32, hm);
	return dp_sendf(rv->io, 'H', "proto=%d\nversion=%s\nself=%s\ngen=%llu\nmanifest=%s\nroot=%s\n",
			DP_PROTO, LAB_VERSION, hs, (unsigned long long)rv->t.gen, hm, rv->t.root);
}

static int
send_result(struct recv *rv, int ok, const struct dt_result *r)
{
	char line[600];

	snprintf(line, sizeof(line), "%s", ok ? "" : rv->t.err);
	line[strcspn(line, "\n")] = '\0';
	return dp_sendf(rv->io, 'R',
			"ok=%d\ngen=%llu\nwritten=%zu\nremoved=%zu\nmodes=%zu\nunits=%s\nerror=%s\n", ok,
			(unsigned long long)(ok ? r->gen : rv->t.gen), r->written, r->removed, r->modes,
			buf_cstr((struct buf *)&r->units), line);
}

/* Frames D* E into a callback. */
static int
recv_stream(struct recv *rv, int (*data)(void *, const void *, size_t), void *arg)
{
	struct buf f = BUF_INIT;
	uint8_t type;

	for (;;) {
		if (dp_recv(rv->io, &type, &f) < 0)
			break;
		if (type == 'E') {
			buf_free(&f);
			return 0;
		}
		if (type != 'D' || data(arg, f.data, f.len) < 0)
			break;
	}
	buf_free(&f);
	return -1;
}

static int
blob_data(void *arg, const void *p, size_t n)
{
	return dt_blob_data(arg, p, n);
}

static int
do_blob(struct recv *rv, const char *hdr)
{
	char hex[80], size[32];
	uint8_t h[32];
	uint64_t sz;
	struct dt_blob *b;

	if (!dp_kv(hdr, "hash", hex, sizeof(hex)) || hex_decode(hex, h, sizeof(h)) != 32 ||
	    !dp_kv(hdr, "size", size, sizeof(size)) || str_to_u64(size, 10, UINT64_MAX, &sz) < 0)
		return refuse(rv, "blob: bad header");
	b = dt_blob_begin(&rv->t, h, sz);
	if (!b)
		return refuse(rv, "blob: cannot store it");
	if (recv_stream(rv, blob_data, b) < 0) {
		dt_blob_abort(b);
		return refuse(rv, "blob: broken off or corrupt");
	}
	if (dt_blob_end(b) < 0)
		return refuse(rv, "blob: the content does not match its hash or size");
	return 0;
}

static int
do_apply(struct recv *rv, struct buf *msg)
{
	const char *text = buf_cstr(msg), *sep = strstr(text, "\n\n");
	char v[16], e[300];
	struct buf need = BUF_INIT;

	if (!sep && strncmp(text, "\n", 1))
		return refuse(rv, "apply: no manifest");
	if (!sep)
		sep = text - 1;	/* no options */
	rv->rollback_on_failure = dp_kv(text, "rollback_on_failure", v, sizeof(v)) && !strcmp(v, "1");
	if (rv->have_next)
		mf_free(&rv->next);
	rv->have_next = 0;
	if (mf_parse(&rv->next, sep + 2, msg->len - (size_t)(sep + 2 - text), e, sizeof(e)) < 0) {
		char m[400];

		snprintf(m, sizeof(m), "apply: %s", e);
		return refuse(rv, m);
	}
	rv->have_next = 1;
	if (dt_need(&rv->t, &rv->next, &need) < 0 || dp_send_long(rv->io, 'N', need.data, need.len) < 0) {
		buf_free(&need);
		return 1;
	}
	buf_free(&need);
	return 0;
}

struct upgrade {
	int fd;
	struct hash_sha256 h;
	uint64_t got, size;
};

static int
up_data(void *arg, const void *p, size_t n)
{
	struct upgrade *u = arg;

	u->got += n;
	if (u->got > u->size)
		return -1;
	hash_sha256_update(&u->h, p, n);
	return fs_write_full(u->fd, p, n);
}

static int
do_upgrade(struct recv *rv, const char *hdr)
{
	char size[32], hex[80], path[1300], tmp[1400];
	uint8_t want[32], got[32];
	struct upgrade u;

	if (!dp_kv(hdr, "size", size, sizeof(size)) || str_to_u64(size, 10, 1u << 30, &u.size) < 0 ||
	    !dp_kv(hdr, "sha256", hex, sizeof(hex)) || hex_decode(hex, want, 32) != 32)
		return refuse(rv, "upgrade: bad header");
	snprintf(path, sizeof(path), "%s%s" DEPLOY_REMOTE_LAB, rv->t.root,
		 rv->t.root[strlen(rv->t.root) - 1] == '/' ? "" : "/");
	snprintf(tmp, sizeof(tmp), "%s.new.%d", path, (int)getpid());
	u.fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
	if (u.fd < 0)
		return refuse(rv, "upgrade: cannot write the new binary");
	hash_sha256_init(&u.h);
	u.got = 0;
	if (recv_stream(rv, up_data, &u) < 0 || u.got != u.size) {
		close(u.fd);
		unlink(tmp);
		return refuse(rv, "upgrade: broken off");
	}
	hash_sha256_final(&u.h, got);
	if (memcmp(got, want, 32) || fchmod(u.fd, 0755) < 0 || fsync(u.fd) < 0 || close(u.fd) < 0 ||
	    rename(tmp, path) < 0) {
		unlink(tmp);
		return refuse(rv, "upgrade: the binary does not match its checksum");
	}
	/* the new one takes over this connection */
	{
		char root[1024];
		char *argv[] = { path, "deploy", "--receive", "--root", root, NULL };

		str_copy(root, rv->t.root, sizeof(root));
		dt_close(&rv->t);
		if (rv->out_fd >= 0 && rv->out_fd != 1 && dup2(rv->out_fd, 1) < 0)
			return refuse(rv, "upgrade: cannot hand over the connection");
		execv(path, argv);
	}
	return refuse(rv, "upgrade: cannot run the new binary");
}

static int
do_exec(struct recv *rv, struct buf *msg)
{
	char *argv[256], *p = msg->data, *end = msg->data + msg->len, buf[16384];
	struct spawn sp;
	int pfd[2], st, n = 0;
	ssize_t k;

	while (p && p < end && n < 255) {
		argv[n++] = p;
		p = memchr(p, '\0', (size_t)(end - p));
		if (p)
			p++;
	}
	argv[n] = NULL;
	if (!n || pipe2(pfd, O_CLOEXEC) < 0)
		return refuse(rv, "exec: no command");
	memset(&sp, 0, sizeof(sp));
	sp.argv = argv;
	sp.cwd = rv->t.root;
	sp.io[0].mode = SPAWN_NULL;
	sp.io[1].mode = sp.io[2].mode = SPAWN_FD;
	sp.io[1].fd = sp.io[2].fd = pfd[1];
	if (spawn_start(&sp) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		snprintf(buf, sizeof(buf), "%s: %s\n", argv[0], strerror(errno));
		dp_send(rv->io, 'O', buf, strlen(buf));
		return dp_sendf(rv->io, 'R', "ok=0\nexit=127\n") < 0;
	}
	close(pfd[1]);
	while ((k = read(pfd[0], buf, sizeof(buf))) > 0)
		dp_send(rv->io, 'O', buf, (size_t)k);
	close(pfd[0]);
	spawn_wait(sp.pid, &st);
	return dp_sendf(rv->io, 'R', "ok=%d\nexit=%d\n", spawn_exit_code(st) == 0,
			spawn_exit_code(st)) < 0;
}

int
dt_serve(struct dp_io *io, int out_fd, const char *root, char **argv)
{
	struct recv rv;
	struct buf f = BUF_INIT;
	uint8_t type;
	int rc = 1;

	memset(&rv, 0, sizeof(rv));
	rv.io = io;
	rv.argv = argv;
	rv.out_fd = out_fd;
	mf_init(&rv.next);
	if (dt_open(&rv.t, root) < 0) {
		refuse(&rv, rv.t.err);
		dt_close(&rv.t);
		return 1;
	}
	rv.t.log = send_log;
	rv.t.logarg = &rv;
	if (hello(&rv) < 0)
		goto out;
	for (;;) {
		if (dp_recv(io, &type, &f) < 0)
			goto out;	/* gone, or a broken frame: nothing applied */
		switch (type) {
		case 'Q':
			rc = 0;
			goto out;
		case 'P':
			buf_reset(&f);
			deploy_probe(&f);
			if (dp_send(io, 'F', f.data, f.len) < 0)
				goto out;
			break;
		case 'G':
			buf_reset(&f);
			mf_serialize(&rv.t.cur, &f);
			if (dp_send_long(io, 'M', f.data, f.len) < 0)
				goto out;
			break;
		case 'A':
			if (f.len && dp_recv_long_rest(io, 'A', &f) < 0)
				goto out;
			if (do_apply(&rv, &f))
				goto out;
			break;
		case 'B':
			buf_addc(&f, '\0');
			if (do_blob(&rv, f.data))
				goto out;
			break;
		case 'C': {
			struct dt_result r;
			int ok;

			if (!rv.have_next) {
				refuse(&rv, "commit: nothing to apply");
				goto out;
			}
			ok = dt_commit(&rv.t, &rv.next, rv.rollback_on_failure, &r) == 0;
			mf_free(&rv.next);
			rv.have_next = 0;
			if (send_result(&rv, ok, &r) < 0) {
				dt_result_free(&r);
				goto out;
			}
			dt_result_free(&r);
			break;
		}
		case 'K': {
			struct dt_result r;
			char g[32];
			uint64_t gen = 0;
			int ok;

			buf_addc(&f, '\0');
			if (dp_kv(f.data, "gen", g, sizeof(g)) && *g && str_to_u64(g, 10, UINT64_MAX, &gen) < 0) {
				refuse(&rv, "rollback: bad generation");
				goto out;
			}
			ok = dt_rollback(&rv.t, gen, &r) == 0;
			if (send_result(&rv, ok, &r) < 0) {
				dt_result_free(&r);
				goto out;
			}
			dt_result_free(&r);
			break;
		}
		case 'X':
			if (f.len && dp_recv_long_rest(io, 'X', &f) < 0)
				goto out;
			if (do_exec(&rv, &f))
				goto out;
			break;
		case 'S': {
			/* a content, for --diff */
			char hex[80];
			uint8_t h[32];
			int fd;

			buf_addc(&f, '\0');
			if (!dp_kv(f.data, "hash", hex, sizeof(hex)) || hex_decode(hex, h, 32) != 32) {
				refuse(&rv, "fetch: bad hash");
				goto out;
			}
			fd = dt_object_open(&rv.t, h);
			if (fd >= 0) {
				char chunk[65536];
				ssize_t k;

				while ((k = read(fd, chunk, sizeof(chunk))) > 0)
					if (dp_send(io, 'D', chunk, (size_t)k) < 0)
						break;
				close(fd);
			}
			if (dp_send(io, 'E', fd < 0 ? "missing" : "", fd < 0 ? 7 : 0) < 0)
				goto out;
			break;
		}
		case 'U':
			buf_addc(&f, '\0');
			do_upgrade(&rv, f.data);
			goto out;	/* reached only when the upgrade failed */
		default:
			refuse(&rv, "unexpected frame");
			goto out;
		}
	}
out:
	buf_free(&f);
	if (rv.have_next)
		mf_free(&rv.next);
	dt_close(&rv.t);
	return rc;
}
