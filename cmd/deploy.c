/*
 * lab deploy: layered file sets built per machine, sent as a delta over
 * SSH by lab itself, applied atomically as a generation, converged, and
 * rolled back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "deploy.h"
#include "deploy_apply.h"
#include "deploy_client.h"
#include "deploy_proto.h"
#include "embedded.h"
#include "ev.h"
#include "fs.h"
#include "hash.h"
#include "json.h"
#include "manifest.h"
#include "sshc.h"
#include "udiff.h"

const char deploy_usage[] =
	"usage: lab deploy [-C DIR] [-m MACHINE]... [OPTIONS]\n"
	"       lab deploy init DIR\n"
	"       lab deploy build [-C DIR] [-m MACHINE]...\n"
	"       lab deploy --rollback [GEN] [-m MACHINE]...\n"
	"\n"
	"Build each machine's tree from the inventory in DIR (default: .), send\n"
	"what its target lacks over SSH (lab copies itself there first), and\n"
	"apply it as one generation: files staged and renamed into place, what\n"
	"left the tree removed, units reloaded or restarted, packages, hooks.\n"
	"\n"
	"  init DIR        write an example inventory (from lab's embedded layers)\n"
	"  build           build only: .lab/build/MACHINE/tree and its manifest\n"
	"  -m MACHINE      only these machines (repeatable; default: all)\n"
	"  --diff          show what would change (unified diffs), change nothing\n"
	"  --dry-run, -n   list what would change, change nothing\n"
	"  --exec -- CMD   run CMD on each machine after deploying (in its root)\n"
	"  --local         apply to this machine, without SSH\n"
	"  --rollback [GEN]  return to generation GEN (default: the one before)\n"
	"  --rollback-on-failure  a failed converge returns to the previous generation\n"
	"  --refresh       probe the machines' facts again\n"
	"  --accept-new    trust (and record) host keys seen for the first time\n"
	"  --watch         keep the connections, deploy every saved change\n"
	"  --json          results as JSON\n"
	"  --receive --root R   the target's end (started by lab over SSH)\n"
	"\n"
	"The inventory's layout, the template language and the facts' order are\n"
	"described in the README (lab deploy) and lib/deploy.h, lib/tpl.h.\n";

struct job {
	const struct inv_machine *m;
	pthread_t th;
	pthread_mutex_t mu;
	char status[160];
	int state;		/* 0 running, 1 done, 2 failed */
	int noop;
	uint64_t ms;
	struct ds_result res;
	char err[800];
	struct buf out;		/* --diff, --dry-run, --exec output */
	int exit_code;
	struct dsession s;
	int connected;
	/* --watch */
	pthread_cond_t cv;
	int pending;
	int quit;
	/* the first build runs while the connection is being made */
	pthread_t preth;
	int prebuilding, pre_rc;
	struct build pre;
	struct json *pre_facts;
};

struct deploy {
	struct inventory inv;
	struct job *jobs;
	size_t njobs;
	struct ds_opts o;
	int diff, dry, json, refresh, watch, rollback, rollback_on_failure, verbose;
	uint64_t rollback_gen;
	char **exec;
	int tty;
	/* a job that finishes wakes the main thread (which redraws meanwhile) */
	pthread_mutex_t mu;
	pthread_cond_t cv;
};

static struct deploy *D;

static void
job_end(struct job *j, int state)
{
	pthread_mutex_lock(&D->mu);
	j->state = state;
	pthread_cond_broadcast(&D->cv);
	pthread_mutex_unlock(&D->mu);
}

static void
set_status(struct job *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
set_status(struct job *j, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&j->mu);
	va_start(ap, fmt);
	vsnprintf(j->status, sizeof(j->status), fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&j->mu);
}

static void
job_log(void *arg, const char *line)
{
	struct job *j = arg;

	set_status(j, "%s", line);
	if (D->verbose)
		fprintf(stderr, "%s: %s\n", j->m->name, line);
}

/* ---- facts cache ---- */

static struct json *
facts_cached(struct job *j, int *have)
{
	char p[1300];
	struct buf b = BUF_INIT;
	struct json_err je;
	struct json *f = NULL;

	*have = 0;
	snprintf(p, sizeof(p), "%s/.lab/facts/%s.json", D->inv.dir, j->m->name);
	if (!D->refresh && fs_read_file(p, &b, 1 << 20) == 0) {
		f = json_parse(buf_cstr(&b), b.len, &je);
		*have = f != NULL;
	}
	buf_free(&b);
	return f;
}

static struct json *
facts_probe(struct job *j)
{
	char p[1400], dir[1300];
	struct buf b = BUF_INIT;
	struct json_err je;
	struct json *f;

	if (ds_probe(&j->s, &b) < 0) {
		buf_free(&b);
		return NULL;
	}
	f = json_parse(buf_cstr(&b), b.len, &je);
	snprintf(dir, sizeof(dir), "%s/.lab/facts", D->inv.dir);
	snprintf(p, sizeof(p), "%s/%s.json", dir, j->m->name);
	if (f && fs_mkdir_p(dir, 0755) == 0)
		fs_write_atomic(p, b.data, b.len, 0644);
	buf_free(&b);
	return f;
}

/* ---- the target's manifest, cached by its hash ---- */

static int
target_manifest(struct job *j, struct manifest *m)
{
	char p[1400], dir[1300];
	struct buf b = BUF_INIT;
	char e[200];
	uint8_t h[32];

	snprintf(dir, sizeof(dir), "%s/.lab/state/%s", D->inv.dir, j->m->name);
	snprintf(p, sizeof(p), "%s/manifest", dir);
	if (fs_read_file(p, &b, 512u << 20) == 0 && mf_parse(m, buf_cstr(&b), b.len, e, sizeof(e)) == 0) {
		mf_hash(m, h);
		if (!memcmp(h, j->s.manifest, 32)) {
			buf_free(&b);
			return 0;
		}
		mf_free(m);
	}
	buf_free(&b);
	if (ds_manifest(&j->s, m) < 0)
		return -1;
	buf_reset(&b);
	mf_serialize(m, &b);
	if (fs_mkdir_p(dir, 0755) == 0)
		fs_write_atomic(p, b.data ? b.data : "", b.len, 0644);
	buf_free(&b);
	return 0;
}

static void
cache_manifest(struct job *j, const struct manifest *m)
{
	char p[1400], dir[1300];
	struct buf b = BUF_INIT;

	snprintf(dir, sizeof(dir), "%s/.lab/state/%s", D->inv.dir, j->m->name);
	snprintf(p, sizeof(p), "%s/manifest", dir);
	mf_serialize(m, &b);
	if (fs_mkdir_p(dir, 0755) == 0)
		fs_write_atomic(p, b.data ? b.data : "", b.len, 0644);
	buf_free(&b);
}

/* ---- one machine ---- */

static void
show_changes(struct job *j, const struct build *b, const struct manifest *old, int diffs)
{
	struct mf_change *ch;
	size_t n, i;

	if (mf_diff(old, &b->mf, &ch, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		const struct mf_entry *o = ch[i].old, *e = ch[i].new;
		const char *path = e ? e->path : o->path;

		switch (ch[i].kind) {
		case MF_ADD:
			buf_addf(&j->out, "+ /%s%s\n", path, e->type == MF_DIR ? "/" : "");
			break;
		case MF_REMOVE:
			buf_addf(&j->out, "- /%s%s\n", path, o->type == MF_DIR ? "/" : "");
			break;
		case MF_MODE:
			buf_addf(&j->out, "m /%s (%04o -> %04o)\n", path, (unsigned)o->mode, (unsigned)e->mode);
			break;
		case MF_MODIFY:
			buf_addf(&j->out, "~ /%s\n", path);
			break;
		}
		if (!diffs)
			continue;
		if (e && e->type == MF_LINK)
			buf_addf(&j->out, "  link -> %s%s%s\n", e->target, o && o->type == MF_LINK ? " (was " : "",
				 o && o->type == MF_LINK ? o->target : "");
		if ((ch[i].kind == MF_MODIFY || ch[i].kind == MF_ADD) && e->type == MF_FILE &&
		    (!o || o->type == MF_FILE)) {
			struct buf a = BUF_INIT, nb = BUF_INIT;
			char path2[2000], an[MF_PATH_MAX + 8], bn[MF_PATH_MAX + 8];

			if (o && ds_fetch(&j->s, o->hash, &a) < 0)
				buf_reset(&a);
			snprintf(path2, sizeof(path2), "%s/%s", b->tree, e->path);
			fs_read_file(path2, &nb, 64u << 20);
			if (udiff_is_binary(buf_cstr(&a), a.len) || udiff_is_binary(buf_cstr(&nb), nb.len)) {
				buf_addf(&j->out, "  binary files differ\n");
			} else {
				snprintf(an, sizeof(an), "a/%s", path);
				snprintf(bn, sizeof(bn), "b/%s", path);
				if (udiff(buf_cstr(&a), a.len, buf_cstr(&nb), nb.len, o ? an : "/dev/null", bn,
					  &j->out) < 0)
					buf_addf(&j->out, "  (too large to compare line by line)\n");
			}
			buf_free(&a);
			buf_free(&nb);
		}
	}
	if (!n)
		buf_addf(&j->out, "(no changes)\n");
	free(ch);
}

/* Build and apply over the open session. */
static void *
prebuild(void *arg)
{
	struct job *j = arg;

	j->pre_rc = deploy_build(&j->pre);
	return NULL;
}

/* With the machine's facts already known, build while SSH connects. */
static void
prebuild_start(struct job *j)
{
	pthread_attr_t at;
	int have;

	j->pre_facts = facts_cached(j, &have);
	if (!have)
		return;
	memset(&j->pre, 0, sizeof(j->pre));
	j->pre.inv = D->inv.dir;
	j->pre.machine = j->m->name;
	j->pre.probed = j->pre_facts;
	pthread_attr_init(&at);
	pthread_attr_setstacksize(&at, 8u << 20);
	if (pthread_create(&j->preth, &at, prebuild, j) == 0)
		j->prebuilding = 1;
	else {
		json_free(j->pre_facts);
		j->pre_facts = NULL;
	}
	pthread_attr_destroy(&at);
}

/* The prebuilt result (0 with *b filled, facts handed over), or -1: none. */
static int
prebuild_take(struct job *j, struct build *b, struct json **facts)
{
	if (!j->prebuilding)
		return -1;
	pthread_join(j->preth, NULL);
	j->prebuilding = 0;
	*b = j->pre;
	*facts = j->pre_facts;
	j->pre_facts = NULL;
	return 0;
}

static int
deploy_once(struct job *j)
{
	struct build b;
	struct json *facts;
	int have, rc = -1;
	uint64_t t0 = mono_ms();

	memset(&b, 0, sizeof(b));
	j->noop = 0;
	if (prebuild_take(j, &b, &facts) == 0) {
		if (j->pre_rc < 0) {
			snprintf(j->err, sizeof(j->err), "%s", b.err);
			goto out;
		}
	} else {
		facts = facts_cached(j, &have);
		if (!have) {
			set_status(j, "probing");
			facts = facts_probe(j);
			if (!facts) {
				snprintf(j->err, sizeof(j->err), "%s", j->s.err);
				return -1;
			}
		}
		set_status(j, "building");
		b.inv = D->inv.dir;
		b.machine = j->m->name;
		b.probed = facts;
		if (deploy_build(&b) < 0) {
			snprintf(j->err, sizeof(j->err), "%s", b.err);
			goto out;
		}
	}
	if (D->diff || D->dry) {
		struct manifest old;

		set_status(j, "comparing");
		if (target_manifest(j, &old) < 0) {
			snprintf(j->err, sizeof(j->err), "%s", j->s.err);
			goto out;
		}
		show_changes(j, &b, &old, D->diff);
		mf_free(&old);
		rc = 0;
		goto out;
	}
	if (!memcmp(b.hash, j->s.manifest, 32)) {
		j->noop = 1;	/* the target already has exactly this */
		memset(&j->res, 0, sizeof(j->res));
		j->res.ok = 1;
		j->res.gen = j->s.gen;
		rc = 0;
	} else {
		set_status(j, "sending and applying");
		rc = ds_apply(&j->s, &b, D->rollback_on_failure, &j->res);
		if (rc < 0)
			snprintf(j->err, sizeof(j->err), "%s", j->s.err);
		else
			cache_manifest(j, &b.mf);
	}
out:
	j->ms = mono_ms() - t0;
	deploy_build_free(&b);
	json_free(facts);
	return rc;
}

static void *
run_job(void *arg)
{
	struct job *j = arg;
	uint64_t t0 = mono_ms();
	int rc;

	set_status(j, "connecting");
	j->s.log = job_log;
	j->s.arg = j;
	if (!D->rollback)
		prebuild_start(j);
	if (ds_open(&j->s, j->m, &D->o) < 0) {
		struct build b;
		struct json *f;

		snprintf(j->err, sizeof(j->err), "%s", j->s.err);
		if (prebuild_take(j, &b, &f) == 0) {
			deploy_build_free(&b);
			json_free(f);
		}
		ds_close(&j->s);
		j->ms = mono_ms() - t0;
		job_end(j, 2);
		return NULL;
	}
	j->connected = 1;
	if (D->rollback) {
		set_status(j, "rolling back");
		rc = ds_rollback(&j->s, D->rollback_gen, &j->res);
		if (rc < 0)
			snprintf(j->err, sizeof(j->err), "%s", j->s.err);
	} else {
		rc = deploy_once(j);
	}
	if (rc == 0 && D->exec) {
		set_status(j, "running %s", D->exec[0]);
		if (ds_exec(&j->s, D->exec, &j->out, &j->exit_code) < 0) {
			snprintf(j->err, sizeof(j->err), "%s", j->s.err);
			rc = -1;
		} else if (j->exit_code != 0) {
			snprintf(j->err, sizeof(j->err), "%s exited with status %d", D->exec[0], j->exit_code);
			rc = -1;
		}
	}
	j->ms = mono_ms() - t0;
	job_end(j, rc == 0 ? 1 : 2);
	if (!D->watch || rc < 0) {
		ds_close(&j->s);
		j->connected = 0;
		return NULL;
	}
	/* --watch: deploy again whenever the main thread asks */
	for (;;) {
		pthread_mutex_lock(&j->mu);
		while (!j->pending && !j->quit)
			pthread_cond_wait(&j->cv, &j->mu);
		if (j->quit) {
			pthread_mutex_unlock(&j->mu);
			break;
		}
		j->pending = 0;
		pthread_mutex_unlock(&j->mu);
		j->err[0] = '\0';
		t0 = mono_ms();
		rc = deploy_once(j);
		j->ms = mono_ms() - t0;
		if (rc == 0)
			fprintf(stderr, "%s: %s in %llu ms (generation %llu)\n", j->m->name,
				j->noop ? "up to date" : "applied", (unsigned long long)j->ms,
				(unsigned long long)j->res.gen);
		else
			fprintf(stderr, "%s: failed: %s\n", j->m->name, j->err);
	}
	ds_close(&j->s);
	return NULL;
}

/* ---- output ---- */

static void
draw(int final)
{
	static int drawn;
	size_t i;

	if (!D->tty) {
		/* without a terminal: one line per machine when it ends */
		static char *said;

		if (!said)
			said = xcalloc(D->njobs, 1);
		for (i = 0; i < D->njobs; i++) {
			struct job *j = &D->jobs[i];

			if (j->state && !said[i]) {
				said[i] = 1;
				if (j->state == 1)
					fprintf(stderr, "%s: %s in %llu ms\n", j->m->name,
						j->noop ? "up to date" : D->diff || D->dry ? "compared" : "done",
						(unsigned long long)j->ms);
				else
					fprintf(stderr, "%s: failed: %s\n", j->m->name, j->err);
			}
		}
		return;
	}
	if (drawn)
		fprintf(stderr, "\033[%dA", drawn);
	for (i = 0; i < D->njobs; i++) {
		struct job *j = &D->jobs[i];
		char st[200];

		pthread_mutex_lock(&j->mu);
		if (j->state == 1)
			snprintf(st, sizeof(st), "%s in %llu ms", j->noop ? "up to date" : "done",
				 (unsigned long long)j->ms);
		else if (j->state == 2)
			snprintf(st, sizeof(st), "failed: %.150s", j->err);
		else
			snprintf(st, sizeof(st), "%s", j->status);
		pthread_mutex_unlock(&j->mu);
		fprintf(stderr, "\r\033[K%-16s %s\n", j->m->name, st);
	}
	drawn = (int)D->njobs;
	(void)final;
}

static void
summary(void)
{
	struct buf out = BUF_INIT;
	size_t i;

	for (i = 0; i < D->njobs; i++) {
		struct job *j = &D->jobs[i];

		if (j->out.len && !D->json) {
			if (D->njobs > 1)
				buf_addf(&out, "=== %s\n", j->m->name);
			buf_add(&out, j->out.data, j->out.len);
		}
	}
	if (D->json) {
		struct json_writer w;

		json_writer_init(&w, &out, 1);
		json_begin_arr(&w);
		for (i = 0; i < D->njobs; i++) {
			struct job *j = &D->jobs[i];

			json_begin_obj(&w);
			json_key(&w, "machine");
			json_str(&w, j->m->name);
			json_key(&w, "ok");
			json_bool(&w, j->state == 1);
			json_key(&w, "noop");
			json_bool(&w, j->noop);
			json_key(&w, "generation");
			json_uint(&w, j->res.gen);
			json_key(&w, "sent");
			json_uint(&w, j->res.sent);
			json_key(&w, "bytes");
			json_uint(&w, j->res.bytes);
			json_key(&w, "written");
			json_uint(&w, j->res.written);
			json_key(&w, "removed");
			json_uint(&w, j->res.removed);
			json_key(&w, "units");
			json_str(&w, j->res.units);
			json_key(&w, "ms");
			json_uint(&w, j->ms);
			if (j->state == 2) {
				json_key(&w, "error");
				json_str(&w, j->err);
			}
			if (D->exec || D->diff || D->dry) {
				json_key(&w, "output");
				json_strn(&w, j->out.data ? j->out.data : "", j->out.len);
			}
			json_end_obj(&w);
		}
		json_end_arr(&w);
		json_writer_finish(&w);
		buf_addc(&out, '\n');
	} else if (!D->diff && !D->dry) {
		buf_addf(&out, "%-16s %-7s %5s %6s %8s %7s %7s  %s\n", "MACHINE", "STATUS", "GEN", "SENT",
			 "BYTES", "WRITTEN", "MS", "UNITS");
		for (i = 0; i < D->njobs; i++) {
			struct job *j = &D->jobs[i];

			buf_addf(&out, "%-16s %-7s %5llu %6zu %8zu %7zu %7llu  %s\n", j->m->name,
				 j->state == 2 ? "failed" : j->noop ? "same" : "ok",
				 (unsigned long long)j->res.gen, j->res.sent, j->res.bytes,
				 j->res.written + j->res.removed + j->res.modes, (unsigned long long)j->ms,
				 j->state == 2 ? j->err : j->res.units);
		}
	}
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
}

/* ---- --watch ---- */

static int
add_watches(int in, const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;

	if (inotify_add_watch(in, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE |
					      IN_DELETE | IN_ATTRIB) < 0)
		return -1;
	if (depth > 32 || !(d = opendir(dir)))
		return 0;
	while ((de = readdir(d))) {
		char p[4096];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (depth == 0 && (!strcmp(de->d_name, ".lab") || !strcmp(de->d_name, ".git"))))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			add_watches(in, p, depth + 1);
	}
	closedir(d);
	return 0;
}

static void
watch_loop(void)
{
	int in = inotify_init1(IN_CLOEXEC);
	char ev[65536];
	size_t i;

	if (in < 0 || add_watches(in, D->inv.dir, 0) < 0)
		die_errno("--watch: inotify on %s", D->inv.dir);
	fprintf(stderr, "watching %s (^C to stop)\n", D->inv.dir);
	for (;;) {
		struct pollfd p = { in, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
		n = read(in, ev, sizeof(ev));
		if (n <= 0)
			continue;
		/* a save is several events: take them all, then a short quiet */
		for (;;) {
			p.revents = 0;
			if (poll(&p, 1, 15) <= 0)
				break;
			if (read(in, ev, sizeof(ev)) <= 0)
				break;
		}
		add_watches(in, D->inv.dir, 0);	/* new directories */
		for (i = 0; i < D->njobs; i++) {
			struct job *j = &D->jobs[i];

			if (!j->connected)
				continue;
			pthread_mutex_lock(&j->mu);
			j->pending = 1;
			pthread_cond_signal(&j->cv);
			pthread_mutex_unlock(&j->mu);
		}
	}
}

/* ---- init, build, receive ---- */

static int
cmd_init(const char *dir)
{
	size_t i;

	if (fs_mkdir_p(dir, 0755) < 0)
		die_errno("%s", dir);
	{
		char p[1200];

		snprintf(p, sizeof(p), "%s/inventory", dir);
		if (access(p, F_OK) == 0)
			die("%s: an inventory is there already", dir);
	}
	for (i = 0; i < embedded_nfiles; i++) {
		const struct embedded_file *f = &embedded_files[i];
		char p[2000];

		if (!strncmp(f->path, "demo", 4) && (!f->path[4] || f->path[4] == '/'))
			continue;	/* lab demo's inventory */
		snprintf(p, sizeof(p), "%s/%s", dir, f->path);
		if (f->type == 'd') {
			if (fs_mkdir_p(p, f->mode) < 0)
				die_errno("%s", p);
		} else if (f->type == 'l') {
			if (symlink(f->data, p) < 0)
				die_errno("%s", p);
		} else if (fs_write_atomic(p, f->data, f->len, f->mode) < 0) {
			die_errno("%s", p);
		}
	}
	printf("wrote an example inventory to %s: edit %s/inventory, then run lab deploy -C %s\n", dir,
	       dir, dir);
	return 0;
}

static int
cmd_build(char **machines, size_t nm)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < D->inv.n; i++) {
		struct build b;
		char hex[65];
		size_t k;
		int want = !nm;

		for (k = 0; k < nm; k++)
			want |= !strcmp(machines[k], D->inv.m[i].name);
		if (!want)
			continue;
		memset(&b, 0, sizeof(b));
		b.inv = D->inv.dir;
		b.machine = D->inv.m[i].name;
		{
			int have;
			struct job j;

			memset(&j, 0, sizeof(j));
			j.m = &D->inv.m[i];
			b.probed = facts_cached(&j, &have);
		}
		if (deploy_build(&b) < 0) {
			warnx_("%s: %s", D->inv.m[i].name, b.err);
			rc = 1;
		} else {
			hex_encode(b.hash, 32, hex);
			printf("%s: %zu entries, %zu rebuilt, manifest %.16s\n", b.machine, b.files, b.rebuilt,
			       hex);
		}
		json_free((struct json *)b.probed);
		deploy_build_free(&b);
	}
	return rc;
}

static int recv_fds[2];

static ssize_t
recv_read(void *arg, void *p, size_t n)
{
	(void)arg;
	return dp_fd_read(&recv_fds[0], p, n);
}

static int
recv_write(void *arg, const void *p, size_t n)
{
	(void)arg;
	return dp_fd_write(&recv_fds[1], p, n);
}

static int
cmd_receive(int argc, char **argv, char **full_argv)
{
	const char *root = "/";
	struct dp_io io;
	int i, rc, nul;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (strcmp(argv[i], "--receive"))
			die_usage("--receive [--root ROOT]");
	}
	if (root[0] != '/')
		die_usage("--root %s: not an absolute path", root);
	signal(SIGPIPE, SIG_IGN);
	/* stdout carries the protocol: whatever else writes there (a hook, a
	 * command) gets /dev/null instead */
	recv_fds[0] = 0;
	recv_fds[1] = fcntl(1, F_DUPFD_CLOEXEC, 3);
	if (recv_fds[1] < 0)
		die_errno("dup");
	nul = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 1);
		close(nul);
	}
	dp_io_init(&io, recv_read, recv_write, NULL);
	rc = dt_serve(&io, recv_fds[1], root, full_argv);
	dp_io_free(&io);
	return rc;
}

int
deploy_main(int argc, char **argv)
{
	char **machines = NULL;
	size_t nm = 0, i;
	const char *dir = ".";
	struct conf_err err;
	int k, failed = 0, build_only = 0;
	char **full_argv = argv - 0;

	D = xcalloc(1, sizeof(*D));
	pthread_mutex_init(&D->mu, NULL);
	pthread_cond_init(&D->cv, NULL);
	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--receive"))
			return cmd_receive(argc, argv, full_argv);
	if (argc >= 2 && !strcmp(argv[1], "init")) {
		if (argc != 3)
			die_usage("init DIR");
		return cmd_init(argv[2]);
	}
	machines = xcalloc((size_t)argc, sizeof(char *));
	D->o.timeout_s = 10;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "build") && !build_only)
			build_only = 1;
		else if ((!strcmp(a, "-C") || !strcmp(a, "--inventory")) && k + 1 < argc)
			dir = argv[++k];
		else if ((!strcmp(a, "-m") || !strcmp(a, "--machine")) && k + 1 < argc)
			machines[nm++] = argv[++k];
		else if (!strcmp(a, "--diff"))
			D->diff = 1;
		else if (!strcmp(a, "--dry-run") || !strcmp(a, "-n"))
			D->dry = 1;
		else if (!strcmp(a, "--json"))
			D->json = 1;
		else if (!strcmp(a, "--local"))
			D->o.local = 1;
		else if (!strcmp(a, "--refresh"))
			D->refresh = 1;
		else if (!strcmp(a, "--accept-new"))
			D->o.accept_new = 1;
		else if (!strcmp(a, "--watch"))
			D->watch = 1;
		else if (!strcmp(a, "-v"))
			D->verbose = 1;
		else if (!strcmp(a, "--rollback-on-failure"))
			D->rollback_on_failure = 1;
		else if (!strcmp(a, "--rollback")) {
			D->rollback = 1;
			if (k + 1 < argc && argv[k + 1][0] >= '0' && argv[k + 1][0] <= '9') {
				if (str_to_u64(argv[++k], 10, UINT64_MAX, &D->rollback_gen) < 0 || !D->rollback_gen)
					die_usage("--rollback %s: expected a generation number", argv[k]);
			}
		} else if (!strcmp(a, "--exec")) {
			if (k + 1 < argc && !strcmp(argv[k + 1], "--"))
				k++;
			if (k + 1 >= argc)
				die_usage("--exec -- CMD [ARGS...]");
			D->exec = argv + k + 1;
			break;
		} else
			die_usage("unknown argument \"%s\"", a);
	}
	if (D->diff && D->dry)
		die_usage("--diff or --dry-run, not both");
	if ((D->diff || D->dry) && (D->rollback || D->exec || D->watch))
		die_usage("--diff and --dry-run change nothing: no --rollback, --exec or --watch with them");
	if (inv_load(&D->inv, dir, &err) < 0) {
		if (err.line > 0)
			die("%s:%d: %s", err.file, err.line, err.msg);
		die("%s: %s", err.file, err.msg);
	}
	{
		char real[1024];

		/* the receiver and the caches want one spelling of the directory */
		if (realpath(D->inv.dir, real))
			str_copy(D->inv.dir, real, sizeof(D->inv.dir));
	}
	for (i = 0; i < nm; i++)
		if (!inv_find(&D->inv, machines[i]))
			die("%s: no such machine in %s/inventory", machines[i], dir);
	if (build_only)
		return cmd_build(machines, nm);
	D->o.known_hosts = D->inv.known_hosts;
	D->tty = isatty(2) && !D->verbose;
	if (sshc_init() < 0)
		die("libssh: cannot initialise");
	signal(SIGPIPE, SIG_IGN);
	D->jobs = xcalloc(D->inv.n, sizeof(*D->jobs));
	for (i = 0; i < D->inv.n; i++) {
		size_t q;
		int want = !nm;

		for (q = 0; q < nm; q++)
			want |= !strcmp(machines[q], D->inv.m[i].name);
		if (!want)
			continue;
		D->jobs[D->njobs].m = &D->inv.m[i];
		pthread_mutex_init(&D->jobs[D->njobs].mu, NULL);
		pthread_cond_init(&D->jobs[D->njobs].cv, NULL);
		D->njobs++;
	}
	if (!D->njobs)
		die("%s/inventory: no machines", dir);
	{
		pthread_attr_t at;

		/* musl's default thread stack (128 KiB) is too small for a build */
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 8u << 20);
		for (i = 0; i < D->njobs; i++)
			if (pthread_create(&D->jobs[i].th, &at, run_job, &D->jobs[i]) != 0)
				die("cannot start a thread per machine");
		pthread_attr_destroy(&at);
	}
	for (;;) {
		int running = 0;
		struct timespec until;

		pthread_mutex_lock(&D->mu);
		for (i = 0; i < D->njobs; i++)
			running += D->jobs[i].state == 0;
		if (running) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 100 * 1000000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&D->cv, &D->mu, &until);
		}
		pthread_mutex_unlock(&D->mu);
		draw(0);
		if (!running)
			break;
	}
	if (D->watch) {
		summary();
		watch_loop();
	}
	for (i = 0; i < D->njobs; i++) {
		pthread_join(D->jobs[i].th, NULL);
		failed += D->jobs[i].state == 2;
	}
	draw(1);
	summary();
	return failed ? 1 : 0;
}
