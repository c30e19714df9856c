/*
 * lab demo: a whole home cloud on this machine, from the demo inventory
 * built into lab; also the end-to-end test (--json).
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "demo.h"
#include "json.h"
#include "netns.h"

const char demo_usage[] =
    "usage: lab demo [--json] [--keep] [--dir DIR] [-v]\n"
    "       lab demo --down [--dir DIR]\n"
    "       lab demo exec MACHINE [CMD...]\n"
    "\n"
    "Build a home cloud on this machine and check each step's real outcome:\n"
    "  1 machines  router, alpha, beta: network namespaces " DEMO_NS_PREFIX "NAME, wired\n"
    "              router<->alpha, router<->beta, each with its root folder and\n"
    "              an OpenSSH sshd (openssh-server)\n"
    "  2 deploy    lab deploy sends the demo inventory (embedded-layers/demo) to\n"
    "              all three over SSH: lab installs itself, lays down dns,\n"
    "              firewall, vpn and snapshot configuration; a hook starts lab dns\n"
    "              and applies the firewall (the machines have no systemd)\n"
    "  3 dns       each machine serves its zone; router delegates alpha and beta\n"
    "  4 firewall  router: masquerade for the lans, a port forward to web\n"
    "  5 web       alpha: a container web (busybox httpd, busybox-static) on a\n"
    "              btrfs store, named web.lab0.alpha.home.arpa\n"
    "  6 reach     beta resolves web and GETs its page through the router; from\n"
    "              the router's uplink side (namespace " DEMO_NS_PREFIX "wan), its port\n"
    "              8080 forwards to web\n"
    "  7 vpn       alpha and beta bring up lab vpn; the same GET goes through it\n"
    "  8 snapshot  web's root: snapshot, change the page, roll back: old page\n"
    "  9 redeploy  one inventory file changes: one file sent, one service reloaded\n"
    "then a summary. Everything lives in DIR (default " DEMO_DIR ") and in the\n"
    "namespaces; it is all removed at the end, on a failure, and on SIGINT or\n"
    "SIGTERM, unless --keep.\n"
    "\n"
    "  --json     the report as JSON (each step: name, ok, ms, evidence)\n"
    "  --keep     leave it running (explore with lab demo exec MACHINE)\n"
    "  --down     remove what a --keep left\n"
    "  exec       a shell (or CMD) inside MACHINE: its network and mount\n"
    "             namespaces, where its root folder is /usr/local, /var/lib, /run\n"
    "  -v         print each step's evidence as it happens\n";

static volatile sig_atomic_t stopped;
static int verbose, json_out;

static void
on_signal(int sig)
{
	(void)sig;
	stopped = 1;
	demo_interrupt();
}

static void
progress(struct demo *d, const struct demo_step *s)
{
	int i, n = (int)(s - d->step) + 1;
	FILE *f = json_out ? stderr : stdout;

	if (!s->ran) {
		if (!json_out) {
			fprintf(f, "%2d %-9s %-48s ", n, s->name, s->title);
			fflush(f);
		}
		return;
	}
	if (json_out)
		fprintf(f, "%2d %-9s %s %6llu ms%s%s\n", n, s->name, s->ok ? "ok  " : "FAIL",
			(unsigned long long)s->ms, s->ok ? "" : "  ", s->err);
	else
		fprintf(f, "%s %6llu ms%s%s\n", s->ok ? "ok  " : "FAIL", (unsigned long long)s->ms,
			s->ok ? "" : "\n   ", s->ok ? "" : s->err);
	if (verbose)
		for (i = 0; i < s->nkv; i++) {
			char v[120];
			size_t l;

			str_copy(v, s->kv[i].val, sizeof(v));
			l = strcspn(v, "\n");
			v[l] = '\0';
			fprintf(f, "      %-10s %s\n", s->kv[i].key, v);
		}
	fflush(f);
}

static void
report_json(const struct demo *d, int ok, const char *dir, int kept, const struct buf *down)
{
	struct buf out = BUF_INIT;
	struct json_writer w;
	int i, k;

	json_writer_init(&w, &out, 1);
	json_begin_obj(&w);
	json_key(&w, "ok");
	json_bool(&w, ok);
	json_key(&w, "dir");
	json_str(&w, dir);
	json_key(&w, "kept");
	json_bool(&w, kept);
	json_key(&w, "steps");
	json_begin_arr(&w);
	for (i = 0; i < d->nstep; i++) {
		const struct demo_step *s = &d->step[i];

		json_begin_obj(&w);
		json_key(&w, "step");
		json_int(&w, i + 1);
		json_key(&w, "name");
		json_str(&w, s->name);
		json_key(&w, "ok");
		json_bool(&w, s->ok);
		json_key(&w, "ms");
		json_uint(&w, s->ms);
		json_key(&w, "where");
		json_str(&w, s->where);
		if (s->err[0]) {
			json_key(&w, "error");
			json_str(&w, s->err);
		}
		json_key(&w, "details");
		json_begin_obj(&w);
		for (k = 0; k < s->nkv; k++) {
			json_key(&w, s->kv[k].key);
			if (s->kv[k].num)
				json_uint(&w, strtoull(s->kv[k].val, NULL, 10));
			else
				json_str(&w, s->kv[k].val);
		}
		json_end_obj(&w);
		json_end_obj(&w);
	}
	json_end_arr(&w);
	json_key(&w, "cleanup");
	json_strn(&w, down->data ? down->data : "", down->len);
	json_end_obj(&w);
	json_writer_finish(&w);
	fwrite(out.data, 1, out.len, stdout);
	buf_free(&out);
}

static void
summary(const struct demo *d, const char *dir, int kept)
{
	int i;
	uint64_t total = 0;

	printf("\n%-3s %-9s %-5s %8s  %s\n", "", "step", "", "ms", "where it lives");
	for (i = 0; i < d->nstep; i++) {
		const struct demo_step *s = &d->step[i];
		const char *w = s->where;

		total += s->ms;
		printf("%-3d %-9s %-5s %8llu  %s\n", i + 1, s->name, s->ok ? "ok" : "FAIL",
		       (unsigned long long)s->ms, w);
	}
	printf("%-3s %-9s %-5s %8llu  (DIR: %s)\n", "", "total", "", (unsigned long long)total,
	       dir);
	if (kept)
		printf("\nLeft running (work folder %s, namespaces " DEMO_NS_PREFIX
		       "router, -alpha, -beta):\n"
		       "  lab demo exec alpha lab vm ls        the guest\n"
		       "  lab demo exec beta wget -qO- http://192.168.0.2/\n"
		       "  lab net ns exec " DEMO_NS_PREFIX "router lab net fw show\n"
		       "  lab demo exec alpha lab vpn show\n"
		       "  lab demo --down                      remove it all\n",
		       dir);
}

static int
demo_exec_main(const char *dir, int argc, char **argv)
{
	char pidns[64], mnt[64];
	pid_t pid;

	if (argc < 2)
		die_usage("exec: which machine (router, alpha, beta)?");
	if (!(pid = demo_machine_pid(dir, argv[1])))
		die("%s: not running (lab demo --keep first)", argv[1]);
	snprintf(pidns, sizeof(pidns), "/proc/%d/ns/net", (int)pid);
	snprintf(mnt, sizeof(mnt), "/proc/%d/ns/mnt", (int)pid);
	{
		char *sh[] = {"/bin/sh", NULL};
		char **cmd = argc > 2 ? argv + 2 : sh;
		int nfd = xopen(pidns, O_RDONLY, 0), mfd = xopen(mnt, O_RDONLY, 0);

		if (setns(nfd, CLONE_NEWNET) < 0 || setns(mfd, CLONE_NEWNS) < 0)
			die_errno("entering %s", argv[1]);
		if (chdir("/") < 0)
			die_errno("/");
		setenv("PATH",
		       "/usr/local/libexec:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/"
		       "sbin:/bin",
		       1);
		execvp(cmd[0], cmd);
		die_errno("%s", cmd[0]);
	}
}

int
demo_main(int argc, char **argv)
{
	struct demo d;
	struct buf down = BUF_INIT;
	const char *dir = DEMO_DIR;
	char self[1024];
	int i, keep = 0, only_down = 0, rc, k;
	ssize_t n;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json_out = 1;
		else if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (!strcmp(argv[i], "--down"))
			only_down = 1;
		else if (!strcmp(argv[i], "-v"))
			verbose++;
		else if (!strcmp(argv[i], "--dir") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "exec"))
			return demo_exec_main(dir, argc - i, argv + i);
		else
			die_usage("unknown argument %s", argv[i]);
	}
	if (dir[0] != '/' ||
	    strspn(dir, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-") !=
		strlen(dir))
		die_usage("--dir %s: an absolute path of letters, digits, / . _ -", dir);
	if (geteuid() != 0)
		die("needs root (namespaces, mounts, sshd)");
	if (only_down) {
		rc = demo_down(dir, &down);
		fwrite(down.data ? down.data : "", 1, down.len, stdout);
		if (!down.len)
			printf("nothing to remove\n");
		buf_free(&down);
		return rc < 0 ? EXIT_FAIL : EXIT_OK;
	}
	if (access(dir, F_OK) == 0 || demo_machine_pid(dir, "router"))
		die("%s exists: a demo is running or was left (lab demo --down first)", dir);
	{
		/* the namespaces' names are fixed: one demo at a time */
		char **names;
		size_t nn, j;

		if (netns_list(&names, &nn) == 0) {
			for (j = 0; j < nn; j++)
				if (!strncmp(names[j], DEMO_NS_PREFIX, strlen(DEMO_NS_PREFIX)))
					die("namespace %s exists: a demo is running or was left "
					    "(lab "
					    "demo --down first)",
					    names[j]);
			netns_list_free(names, nn);
		}
	}
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) < 0)
		die_errno("/proc/self/exe");
	self[n] = '\0';
	memset(&d, 0, sizeof(d));
	d.dir = dir;
	d.self = self;
	d.stop = &stopped;
	d.progress = progress;
	{
		struct sigaction sa;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
	}
	rc = demo_run(&d);
	if (rc < 0 && d.nstep == 0 && !stopped)
		die_errno("%s", dir); /* its work folder could not be made: nothing else was */
	if (stopped && !json_out)
		printf("\ninterrupted: removing everything\n");
	k = keep && !stopped; /* a failed step is left to look at, too */
	if (!k && demo_down(dir, &down) < 0) {
		fprintf(stderr, "lab demo: cleanup incomplete:\n%s", buf_cstr(&down));
		rc = -1;
	}
	if (json_out)
		report_json(&d, rc == 0, dir, k, &down);
	else {
		summary(&d, dir, k);
		if (!k)
			printf("\nremoved: namespaces " DEMO_NS_PREFIX
			       "*, their processes and mounts, %s\n",
			       dir);
	}
	buf_free(&down);
	if (stopped)
		return 130;
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
