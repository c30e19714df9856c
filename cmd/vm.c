/*
 * lab vm: instances on copy-on-write roots, with lab's own container
 * runtime, a supervisor per instance, network through lab net and names
 * in lab dns.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "btrfs.h"
#include "buf.h"
#include "cgroup.h"
#include "cmd.h"
#include "container.h"
#include "ev.h"
#include "fs.h"
#include "hash.h"
#include "json.h"
#include "spawn.h"
#include "tree.h"
#include "vm.h"
#include "vm_run.h"

const char vm_usage[] =
	"usage: lab vm COMMAND [ARGS...]\n"
	"\n"
	"Instances on copy-on-write roots (btrfs snapshots, reflink copies or\n"
	"overlayfs), run by lab's own container runtime, on a bridge with an\n"
	"address from lab net and a name in lab dns.\n"
	"\n"
	"  image import NAME SOURCE   a root directory or a tar / tar.gz archive\n"
	"  image ls [--json]\n"
	"  image rm NAME              refused while an instance uses it\n"
	"  new NAME --image IMG [OPTIONS] [-- CMD...]\n"
	"                             fork the root, write its identity, start it;\n"
	"                             returns once it is ready\n"
	"  start NAME | stop NAME [--timeout S] | restart NAME [--timeout S]\n"
	"  exec [-t|-T] [-e K=V]... [-w DIR] NAME [--] CMD...\n"
	"  run --rm [--name N] [OPTIONS] IMG [--] CMD...   a one-shot instance, gone\n"
	"                             when CMD exits; CMD's exit status is lab's\n"
	"  ls [--json]                state, address, image, uptime, pid\n"
	"  logs [-f] NAME             the console, kept per instance\n"
	"  rm [--force] NAME          refused for pinned (and, without --force,\n"
	"                             running) instances\n"
	"  pin NAME | unpin NAME\n"
	"  enable NAME | disable NAME a systemd unit that starts it at boot\n"
	"  info [--json]              the store, its backend, cgroups\n"
	"\n"
	"OPTIONS of new and run:\n"
	"  --cmd \"ARGV\"        the command (default: the image's /sbin/init, else /bin/sh)\n"
	"  --cpus N            CPU time (1.5 = one and a half CPUs)\n"
	"  --memory SIZE       e.g. 256M; beyond it the OOM killer, not swap\n"
	"  --pids N            most processes at once\n"
	"  --net bridge[:BR]|macvlan:IF|none   (default bridge:" VM_BRIDGE ")\n"
	"  --ip auto|ADDR      (macvlan: ADDR/PREFIX, with --gateway GW)\n"
	"  --ro                read-only root; /run, /tmp, --tmpfs and binds stay writable\n"
	"  --tmpfs PATH        another writable tmpfs\n"
	"  --bind SRC:DST[:ro] a host path inside (repeatable)\n"
	"  --env K=V           (repeatable)\n"
	"  --ssh-key FILE      authorized_keys of root\n"
	"  --gpu               the host's /dev/nvidia* and /dev/dri nodes, allowed\n"
	"  --userns            its own user namespace (ids 0-65535 mapped to a free\n"
	"                      host range) with an id-mapped root (btrfs, reflink)\n"
	"  --cap-add CAP       one more capability (repeatable)\n"
	"  --stop-timeout S    grace period of stop (default 10)\n"
	"  --pin               refuse rm until unpin\n"
	"\n"
	"Storage under $LAB_VM_ROOT (default " VM_ROOT "), run-time state under\n"
	"$LAB_RUN_DIR (default " VM_RUN "); $LAB_VM_BACKEND forces a backend.\n";


struct vm {
	struct vm_store store;
	int json;
};

static struct vm *V;

static void
need_root(void)
{
	if (geteuid() != 0)
		die("needs root (namespaces, mounts, cgroups, netlink)");
}

static void
open_store(int create)
{
	if (vm_store_open(&V->store, create) < 0)
		die("%s", V->store.err);
}

static void
check_name(const char *name)
{
	if (!vm_valid_name(name))
		die("%s: invalid name: a DNS label (a-z, 0-9, '-', at most 63)", name);
}

/* Per-instance lock, in its directory (gone with it). */
static int
lock_instance(const char *name)
{
	char p[1300];
	int fd;

	vm_dir(&V->store, name, p, sizeof(p));
	str_copy(p + strlen(p), "/lock", sizeof(p) - strlen(p));
	fd = fs_lock(p, 0);
	if (fd < 0 && errno == ENOENT)
		die("%s: no such instance", name);
	if (fd < 0)
		die_errno("%s", p);
	return fd;
}

/* The store-wide lock: names are taken and images used under it. */
static int
lock_store(void)
{
	char p[1200];
	int fd;

	snprintf(p, sizeof(p), "%s/vm/.lock", V->store.root);
	fd = fs_lock(p, 0);
	if (fd < 0)
		die_errno("%s", p);
	return fd;
}

static void
load_config(const char *name, struct vm_config *c)
{
	check_name(name);
	if (vm_config_load(&V->store, name, c) < 0)
		die("%s", V->store.err);
}

/* "a b 'c d'" -> argv, with '' "" and backslash as a shell reads them. */
static size_t
split_cmd(const char *s, char **argv, size_t max)
{
	struct buf w = BUF_INIT;
	size_t n = 0;
	int in_word = 0;
	char q = 0;

	for (;; s++) {
		char ch = *s;

		if (!ch || (!q && (ch == ' ' || ch == '\t' || ch == '\n'))) {
			if (in_word) {
				if (n == max - 1)
					die("--cmd: too many words");
				argv[n++] = xstrdup(buf_cstr(&w));
				buf_reset(&w);
				in_word = 0;
			}
			if (!ch)
				break;
			continue;
		}
		in_word = 1;
		if (q) {
			if (ch == q)
				q = 0;
			else if (ch == '\\' && q == '"' && s[1])
				buf_addc(&w, *++s);
			else
				buf_addc(&w, ch);
		} else if (ch == '\'' || ch == '"') {
			q = ch;
		} else if (ch == '\\' && s[1]) {
			buf_addc(&w, *++s);
		} else {
			buf_addc(&w, ch);
		}
	}
	if (q)
		die("--cmd: unterminated quote");
	buf_free(&w);
	argv[n] = NULL;
	return n;
}

/* Options shared by new and run; returns 1 if argv[*i] was one. */
static int
instance_opt(struct vm_config *c, int argc, char **argv, int *i, const char **ssh_key)
{
	const char *o = argv[*i], *v = *i + 1 < argc ? argv[*i + 1] : NULL;

#define ARG()                                             \
	do {                                              \
		if (!v)                                   \
			die_usage("%s needs a value", o); \
		(*i)++;                                   \
	} while (0)
	if (!strcmp(o, "--image")) {
		ARG();
		str_copy(c->image, v, sizeof(c->image));
	} else if (!strcmp(o, "--cmd")) {
		ARG();
		vm_config_free(c);
		c->argc = split_cmd(v, c->argv, VM_MAX_LIST);
		if (!c->argc)
			die_usage("--cmd: empty command");
	} else if (!strcmp(o, "--cpus")) {
		double d;
		char *end;

		ARG();
		d = strtod(v, &end);
		if (*end || d <= 0 || d > 4096)
			die_usage("--cpus %s: expected a number of CPUs (0.5, 2)", v);
		c->cpu_millis = (uint32_t)(d * 1000 + 0.5);
		if (!c->cpu_millis)
			c->cpu_millis = 1;
	} else if (!strcmp(o, "--memory")) {
		ARG();
		if (str_to_size(v, &c->memory) < 0 || c->memory < (4u << 20))
			die_usage("--memory %s: expected a size of at least 4M (256M, 2G)", v);
	} else if (!strcmp(o, "--pids")) {
		ARG();
		if (str_to_u64(v, 10, 1u << 22, &c->pids) < 0 || !c->pids)
			die_usage("--pids %s: expected a number", v);
	} else if (!strcmp(o, "--net")) {
		ARG();
		if (!strcmp(v, "none")) {
			c->net = VM_NET_NONE;
			c->link[0] = '\0';
		} else if (!strcmp(v, "bridge")) {
			c->net = VM_NET_BRIDGE;
		} else if (!strncmp(v, "bridge:", 7) && v[7] && strlen(v + 7) < IFNAMSIZ) {
			c->net = VM_NET_BRIDGE;
			str_copy(c->link, v + 7, sizeof(c->link));
		} else if (!strncmp(v, "macvlan:", 8) && v[8] && strlen(v + 8) < IFNAMSIZ) {
			c->net = VM_NET_MACVLAN;
			str_copy(c->link, v + 8, sizeof(c->link));
		} else {
			die_usage("--net %s: expected bridge[:BR], macvlan:IF or none", v);
		}
	} else if (!strcmp(o, "--ip")) {
		ARG();
		str_copy(c->ip, v, sizeof(c->ip));
	} else if (!strcmp(o, "--gateway")) {
		ARG();
		str_copy(c->gateway, v, sizeof(c->gateway));
	} else if (!strcmp(o, "--ro")) {
		c->readonly = 1;
	} else if (!strcmp(o, "--tmpfs")) {
		ARG();
		if (v[0] != '/' || c->ntmpfs == 16)
			die_usage("--tmpfs %s: expected an absolute path (at most 16)", v);
		c->tmpfs[c->ntmpfs++] = xstrdup(v);
	} else if (!strcmp(o, "--bind")) {
		char tmp[1100], *dst, *ro;
		struct vm_bind *b;

		ARG();
		if (c->nbinds == 16)
			die_usage("--bind: at most 16");
		str_copy(tmp, v, sizeof(tmp));
		dst = strchr(tmp, ':');
		if (!dst || tmp[0] != '/' || dst[1] != '/')
			die_usage("--bind %s: expected SRC:DST[:ro] with absolute paths", v);
		*dst++ = '\0';
		ro = strchr(dst, ':');
		b = &c->binds[c->nbinds];
		b->ro = 0;
		if (ro) {
			*ro++ = '\0';
			if (strcmp(ro, "ro") && strcmp(ro, "rw"))
				die_usage("--bind %s: the third part is ro or rw", v);
			b->ro = !strcmp(ro, "ro");
		}
		if (access(tmp, F_OK) < 0)
			die("--bind %s: %s", tmp, strerror(errno));
		str_copy(b->src, tmp, sizeof(b->src));
		str_copy(b->dst, dst, sizeof(b->dst));
		c->nbinds++;
	} else if (!strcmp(o, "--env") || !strcmp(o, "-e")) {
		ARG();
		if (!strchr(v, '=') || v[0] == '=' || c->nenv == VM_MAX_LIST)
			die_usage("--env %s: expected K=V", v);
		c->env[c->nenv++] = xstrdup(v);
	} else if (!strcmp(o, "--ssh-key")) {
		ARG();
		*ssh_key = v;
	} else if (!strcmp(o, "--gpu")) {
		c->gpu = 1;
	} else if (!strcmp(o, "--pin")) {
		c->pinned = 1;
	} else if (!strcmp(o, "--userns")) {
		c->userns = 1;
	} else if (!strcmp(o, "--cap-add")) {
		ARG();
		if (ct_cap_from_name(v) < 0 || c->ncaps_add == 16)
			die_usage("--cap-add %s: not a capability (net_admin, sys_ptrace, ...)", v);
		c->caps_add[c->ncaps_add++] = xstrdup(v);
	} else if (!strcmp(o, "--stop-timeout")) {
		uint32_t t;

		ARG();
		if (str_to_u32(v, 3600, &t) < 0)
			die_usage("--stop-timeout %s: expected seconds", v);
		c->stop_timeout = (int)t;
	} else {
		return 0;
	}
#undef ARG
	return 1;
}

/* ---- start and stop ---- */

/* Start through a supervisor; 0 once the guest is ready, else -1 with
 * the reason in err. */
static int
start_instance(const char *name, char *err, size_t errlen)
{
	char msg[800], *args[2] = { (char *)name, NULL };
	struct vm_state st;
	ssize_t n;
	pid_t pid;
	int sock, status;

	if (vm_running(&V->store, name, &st)) {
		snprintf(err, errlen, "already running (pid %d)", (int)st.init);
		return -1;
	}
	if (spawn_self("vm", "supervise", args, &sock, &pid) < 0) {
		snprintf(err, errlen, "starting the supervisor: %s", strerror(errno));
		return -1;
	}
	do
		n = recv(sock, msg, sizeof(msg) - 1, 0);
	while (n < 0 && errno == EINTR);
	close(sock);
	if (n <= 0) {
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "the supervisor exited before the instance was ready");
		return -1;
	}
	msg[n] = '\0';
	if (!strncmp(msg, "error: ", 7)) {
		waitpid(pid, &status, 0);
		snprintf(err, errlen, "%s", msg + 7);
		return -1;
	}
	/* the supervisor goes on on its own; it is not ours to reap */
	if (!strncmp(msg, "ok warning: ", 12))
		warnx_("%s: %s", name, msg + 12);
	return 0;
}

static int
pidfd_open_(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Wait for a pidfd to say the process ended; 1 if it did within ms. */
static int
wait_gone(int pfd, int ms)
{
	struct pollfd p = { pfd, POLLIN, 0 };
	int r;

	do
		r = poll(&p, 1, ms);
	while (r < 0 && errno == EINTR);
	return r > 0;
}

/* When the supervisor is gone (killed), what it would have cleaned. */
static void
cleanup_orphan(const char *name, const struct vm_state *st)
{
	struct vm_inst in;
	struct vm_config c;

	vm_inst_init(&in);
	vm_config_init(&c);
	str_copy(c.name, name, sizeof(c.name));
	in.c = &c;
	in.st = *st;
	in.net.net = VM_NET_BRIDGE;
	str_copy(in.net.veth, st->veth, sizeof(in.net.veth));
	in.have_net = st->veth[0] != 0;
	snprintf(in.cgroup, sizeof(in.cgroup), "lab/%s", name);
	in.have_cgroup = 1;
	vm_instance_cleanup(&V->store, &in);
}

static void
stop_instance(const char *name, int timeout)
{
	struct vm_state st;
	int ip, sp;

	if (vm_state_load(&V->store, name, &st) < 0)
		return;	/* not running */
	ip = st.init > 0 ? pidfd_open_(st.init) : -1;
	sp = st.supervisor > 0 ? pidfd_open_(st.supervisor) : -1;
	/* the pid may have been reused since the state was written */
	if (ip >= 0 && vm_proc_start(st.init) != st.init_start) {
		close(ip);
		ip = -1;
	}
	if (ip >= 0) {
		int sig = st.systemd ? VM_SIG_SYSTEMD_HALT : SIGTERM;

		if (syscall(SYS_pidfd_send_signal, ip, sig, NULL, 0) < 0 && errno != ESRCH)
			die_errno("%s: signal", name);
		if (!wait_gone(ip, timeout * 1000)) {
			warnx_("%s: still running after %d s, SIGKILL", name, timeout);
			syscall(SYS_pidfd_send_signal, ip, SIGKILL, NULL, 0);
			wait_gone(ip, 10000);
		}
		close(ip);
	}
	/* the supervisor cleans up (name, link, cgroup) and leaves */
	if (sp >= 0) {
		if (!wait_gone(sp, 15000))
			warnx_("%s: the supervisor is still cleaning up", name);
		close(sp);
	} else {
		cleanup_orphan(name, &st);
	}
}

static int
parse_timeout(int argc, char **argv, int *i, int def)
{
	uint32_t t;

	if (*i + 1 < argc && (!strcmp(argv[*i], "--timeout") || !strcmp(argv[*i], "-t"))) {
		if (str_to_u32(argv[*i + 1], 3600, &t) < 0)
			die_usage("--timeout %s: expected seconds", argv[*i + 1]);
		*i += 2;
		return (int)t;
	}
	return def;
}

/* ---- commands ---- */

static int
cmd_new(int argc, char **argv)
{
	struct vm_config c;
	struct vm_image im;
	struct vm_netplan net;
	struct vm_identity id;
	struct vm_probe pr;
	struct buf key = BUF_INIT;
	const char *ssh_key = NULL, *name = NULL;
	char d[1200];
	int i, lk, ilk;

	vm_config_init(&c);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			vm_config_free(&c);
			for (i++; i < argc && c.argc < VM_MAX_LIST - 1; i++)
				c.argv[c.argc++] = xstrdup(argv[i]);
			break;
		}
		if (instance_opt(&c, argc, argv, &i, &ssh_key))
			continue;
		if (argv[i][0] == '-')
			die_usage("new: unknown option %s", argv[i]);
		if (name)
			die_usage("new: one NAME (a command goes after --cmd or --)");
		name = argv[i];
	}
	if (!name)
		die_usage("new needs NAME --image IMG");
	check_name(name);
	if (!c.image[0])
		die_usage("new %s: --image IMG is required", name);
	need_root();
	open_store(1);
	if (ssh_key && fs_read_file(ssh_key, &key, 1 << 20) < 0)
		die_errno("--ssh-key %s", ssh_key);
	str_copy(c.name, name, sizeof(c.name));
	c.created = (int64_t)time(NULL);

	lk = lock_store();
	if (vm_image_get(&V->store, c.image, &im) < 0)
		die("%s", V->store.err);
	c.backend = im.backend;
	if (c.userns && c.backend == VM_OVERLAY)
		die("--userns needs the btrfs or reflink backend (an id-mapped root); this store is on overlayfs");
	vm_run_dir(&V->store, name, d, sizeof(d));
	if (!vm_exists(&V->store, name) && access(d, F_OK) == 0)
		die("%s: the name is taken by a one-shot instance (lab vm ls)", name);
	vm_dir(&V->store, name, d, sizeof(d));
	if (mkdir(d, 0755) < 0) {
		if (errno == EEXIST)
			die("%s: the name is taken (lab vm ls)", name);
		die_errno("%s", d);
	}
	ilk = lock_instance(name);
	if (c.userns) {
		/* the lowest 64k block from 0x10000*2 that no other instance uses */
		char **names;
		size_t n, k;
		uid_t base;

		if (vm_list(&V->store, &names, &n) < 0)
			goto fail;
		for (base = 0x20000;; base += 0x10000) {
			int used = 0;

			for (k = 0; k < n && !used; k++) {
				struct vm_config o;

				if (strcmp(names[k], name) && vm_config_load(&V->store, names[k], &o) == 0) {
					used = o.userns && o.id_base == base;
					vm_config_free(&o);
				}
			}
			if (!used)
				break;
		}
		for (k = 0; k < n; k++)
			free(names[k]);
		free(names);
		c.id_base = base;
	}
	fs_unlock(lk);
	lk = -1;

	if (vm_root_create(&V->store, &c) < 0)
		goto fail;
	/* what the command is, read from the image (the fork is the same) */
	memset(&pr, 0, sizeof(pr));
	{
		char img[1300];
		int rfd;

		vm_image_rootfs(&V->store, c.image, img, sizeof(img));
		rfd = open(img, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rfd < 0)
			die_errno("%s", img);
		pr.cmd = c.argc ? c.argv[0] : "/sbin/init";
		if (pr.cmd[0] == '/')
			vm_probe_cmd(rfd, &pr);
		close(rfd);
		if (!c.argc)
			c.argv[c.argc++] = xstrdup(pr.exists ? "/sbin/init" : "/bin/sh");
	}
	c.systemd = pr.systemd;
	if (vm_net_prepare(&V->store, &c, &net) < 0)
		goto fail;
	id.c = &c;
	id.net = c.net == VM_NET_NONE ? NULL : &net;
	id.ssh_key = ssh_key ? buf_cstr(&key) : NULL;
	if (vm_with_root(&V->store, &c, vm_identity_write, &id) < 0)
		goto fail;
	if (vm_config_save(&V->store, &c) < 0)
		goto fail;
	buf_free(&key);
	if (start_instance(name, V->store.err, sizeof(V->store.err)) < 0)
		goto fail;
	fs_unlock(ilk);
	vm_config_free(&c);
	return 0;
fail:
	{
		char e[sizeof(V->store.err)];

		memcpy(e, V->store.err, sizeof(e));
		vm_net_release(&V->store, &c);
		vm_remove_dir(&V->store, name);
		die("%s: %s", name, e);
	}
}

static int
cmd_start(int argc, char **argv)
{
	char e[800];
	int lk;

	if (argc != 2)
		die_usage("start NAME");
	check_name(argv[1]);
	need_root();
	open_store(0);
	if (!vm_exists(&V->store, argv[1]))
		die("%s: no such instance", argv[1]);
	lk = lock_instance(argv[1]);
	if (start_instance(argv[1], e, sizeof(e)) < 0)
		die("%s: %s", argv[1], e);
	fs_unlock(lk);
	return 0;
}

static int
cmd_stop(int argc, char **argv, int restart)
{
	struct vm_config c;
	const char *name = NULL;
	char e[800];
	int i = 1, timeout = -1, lk;

	while (i < argc) {
		int t = parse_timeout(argc, argv, &i, -2);

		if (t != -2) {
			timeout = t;
			continue;
		}
		if (argv[i][0] == '-' || name)
			die_usage("%s NAME [--timeout S]", restart ? "restart" : "stop");
		name = argv[i++];
	}
	if (!name)
		die_usage("%s NAME [--timeout S]", restart ? "restart" : "stop");
	need_root();
	open_store(0);
	load_config(name, &c);
	lk = lock_instance(name);
	stop_instance(name, timeout >= 0 ? timeout : c.stop_timeout);
	if (restart && start_instance(name, e, sizeof(e)) < 0)
		die("%s: %s", name, e);
	fs_unlock(lk);
	vm_config_free(&c);
	return 0;
}

/* ---- exec ---- */

static int
cmd_exec(int argc, char **argv)
{
	struct vm_config c;
	struct vm_state st;
	char *envp[VM_MAX_LIST * 2 + 8], *cmdv[VM_MAX_LIST + 1], term[128];
	const char *workdir = NULL, *name = NULL;
	int i, tty = -1, ne = 0, nc = 0, master = -1, slave = -1, status, cgfd;
	size_t k;
	pid_t pid;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "-t"))
			tty = 1;
		else if (!strcmp(argv[i], "-T"))
			tty = 0;
		else if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			if (!strchr(argv[i + 1], '=') || nc > VM_MAX_LIST)
				die_usage("-e %s: expected K=V", argv[i + 1]);
			envp[ne++] = argv[++i];
		} else if (!strcmp(argv[i], "-w") && i + 1 < argc)
			workdir = argv[++i];
		else if (argv[i][0] == '-')
			die_usage("exec: unknown option %s", argv[i]);
		else if (!name)
			name = argv[i];
		else
			break;
	}
	if (!name)
		die_usage("exec NAME [--] CMD...");
	for (; i < argc && nc < VM_MAX_LIST; i++)
		cmdv[nc++] = argv[i];
	if (!nc)
		cmdv[nc++] = "/bin/sh";
	cmdv[nc] = NULL;
	need_root();
	open_store(0);
	load_config(name, &c);
	if (!vm_running(&V->store, name, &st))
		die("%s: not running (lab vm start %s)", name, name);
	if (tty < 0)
		tty = isatty(0);
	/* the instance's environment, then -e over it */
	{
		char *base[VM_MAX_LIST * 2 + 8];
		int nb = 0, j;

		base[nb++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
		base[nb++] = "HOME=/root";
		base[nb++] = "container=lab";
		if (tty) {
			const char *t = getenv("TERM");

			snprintf(term, sizeof(term), "TERM=%s", t && *t ? t : "xterm");
			base[nb++] = term;
		}
		for (k = 0; k < c.nenv; k++)
			base[nb++] = c.env[k];
		for (j = 0; j < ne; j++)
			base[nb++] = envp[j];
		memcpy(envp, base, (size_t)nb * sizeof(char *));
		ne = nb;
		envp[ne] = NULL;
	}
	/* the instance's cgroup: v1 by moving this (single-threaded) process,
	 * cgroup2 by forking the command into it */
	cgfd = -1;
	if (st.cgroup[0] && st.userns) {
		/* clone3 into a cgroup is checked against the guest's ids:
		 * move this process instead, while it is still the host's root */
		if (cgroup_attach(st.cgroup, 0) < 0)
			die_errno("%s: joining cgroup %s", name, st.cgroup);
	} else if (st.cgroup[0]) {
		if (cgroup_join_v1(st.cgroup) < 0)
			die_errno("%s: joining cgroup %s", name, st.cgroup);
		cgfd = cgroup_dfl_open(st.cgroup);
	}
	if (ct_enter(st.init, st.userns) < 0)
		die_errno("%s: joining its namespaces", name);
	if (tty) {
		/* a pty of the instance's own devpts */
		master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || unlockpt(master) < 0)
			die_errno("%s: pty", name);
		{
			int n;

			if (ioctl(master, TIOCGPTN, &n) < 0)
				die_errno("%s: pty", name);
			snprintf(term, sizeof(term), "/dev/pts/%d", n);
		}
		slave = open(term, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			die_errno("%s: %s", name, term);
	}
	pid = ct_fork_into(cgfd);
	if (pid < 0)
		die_errno("fork");
	if (pid == 0) {
		if (tty) {
			setsid();
			if (ioctl(slave, TIOCSCTTY, 0) < 0)
				_exit(126);
			dup2(slave, 0);
			dup2(slave, 1);
			dup2(slave, 2);
		}
		if (chdir(workdir ? workdir : "/") < 0) {
			fprintf(stderr, "lab vm: %s: %s\n", workdir, strerror(errno));
			_exit(126);
		}
		if (ct_confine(st.caps, st.no_new_privs, st.seccomp) < 0) {
			fprintf(stderr, "lab vm: confining: %s\n", strerror(errno));
			_exit(126);
		}
		ct_exec(cmdv, envp);
		fprintf(stderr, "lab vm: %s: %s\n", cmdv[0], strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	if (tty) {
		close(slave);
		status = vm_pty_relay(master, pid);
	} else {
		signal(SIGINT, SIG_IGN);	/* the child gets the terminal's signals */
		signal(SIGQUIT, SIG_IGN);
		spawn_wait(pid, &status);
	}
	vm_config_free(&c);
	return spawn_exit_code(status);
}

/* ---- run --rm ---- */

static struct vm_inst *run_inst;
static volatile sig_atomic_t run_signal;

static void
on_run_signal(int sig)
{
	run_signal = sig;
	if (run_inst && run_inst->proc.pid > 0)
		kill(run_inst->proc.pid, sig);
}

static int
cmd_run(int argc, char **argv)
{
	struct vm_config c;
	struct vm_image im;
	struct vm_start_opts o;
	struct vm_inst in;
	struct vm_state st;
	struct sigaction sa;
	const char *ssh_key = NULL, *name = NULL;
	char genname[32], term[128], d[1200];
	char *cmdv[VM_MAX_LIST + 1];
	int i, rm = 0, nc = 0, status = 0, r;

	vm_config_init(&c);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		}
		if (!strcmp(argv[i], "--rm")) {
			rm = 1;
			continue;
		}
		if (!strcmp(argv[i], "--name") && i + 1 < argc) {
			name = argv[++i];
			continue;
		}
		if (instance_opt(&c, argc, argv, &i, &ssh_key))
			continue;
		if (argv[i][0] == '-')
			die_usage("run: unknown option %s", argv[i]);
		if (!c.image[0])
			str_copy(c.image, argv[i], sizeof(c.image));
		else
			break;
	}
	if (!rm)
		die_usage("run makes one-shot instances: run --rm IMG -- CMD (new makes lasting ones)");
	if (!c.image[0])
		die_usage("run --rm IMG [--] CMD...");
	if (c.userns)
		die_usage("run --rm: --userns needs a lasting instance (new)");
	if (ssh_key)
		die_usage("run --rm: --ssh-key is for lasting instances (new)");
	for (; i < argc && nc < VM_MAX_LIST; i++)
		cmdv[nc++] = argv[i];
	cmdv[nc] = NULL;
	if (name)
		check_name(name);
	else {
		uint8_t rnd[4];
		char hex[9];

		rand_bytes(rnd, sizeof(rnd));
		hex_encode(rnd, sizeof(rnd), hex);
		snprintf(genname, sizeof(genname), "run-%s", hex);
		name = genname;
	}
	need_root();
	open_store(0);
	if (vm_image_get(&V->store, c.image, &im) < 0)
		die("%s", V->store.err);
	str_copy(c.name, name, sizeof(c.name));
	c.ephemeral = 1;
	c.backend = VM_OVERLAY;
	c.created = (int64_t)time(NULL);
	if (!nc) {
		if (c.argc)
			memcpy(cmdv, c.argv, (c.argc + 1) * sizeof(char *));
		else {
			cmdv[0] = "/bin/sh";
			cmdv[1] = NULL;
		}
	}
	/* the name: neither a lasting instance nor another running one */
	vm_run_dir(&V->store, name, d, sizeof(d));
	if (fs_mkdir_p(V->store.run, 0755) < 0)
		die_errno("%s", V->store.run);
	{
		char vmrun[1200];

		snprintf(vmrun, sizeof(vmrun), "%s/vm", V->store.run);
		fs_mkdir_p(vmrun, 0755);
	}
	if (vm_exists(&V->store, name) || mkdir(d, 0755) < 0) {
		if (vm_exists(&V->store, name) || errno == EEXIST)
			die("%s: the name is taken (lab vm ls)", name);
		die_errno("%s", d);
	}
	vm_inst_init(&in);
	memset(&o, 0, sizeof(o));
	o.console = isatty(0);
	o.stdio[0] = 0;
	o.stdio[1] = 1;
	o.stdio[2] = 2;
	o.die_with_parent = 1;
	o.argv = cmdv;
	if (o.console) {
		const char *t = getenv("TERM");

		snprintf(term, sizeof(term), "TERM=%s", t && *t ? t : "xterm");
		o.term = term;
	}
	run_inst = &in;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_run_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (vm_instance_start(&V->store, &c, &o, &in) < 0) {
		char e[sizeof(V->store.err)];

		memcpy(e, V->store.err, sizeof(e));
		vm_net_release(&V->store, &c);
		rmdir(d);
		die("%s: %s", name, e);
	}
	r = vm_instance_register(&V->store, &in);
	if (r < 0)
		warnx_("%s: %s", name, V->store.err);
	st = in.st;
	if (vm_state_save(&V->store, name, &st) < 0)
		warnx_("%s", V->store.err);
	if (o.console)
		status = vm_pty_relay(in.console, in.proc.pid);
	else
		spawn_wait(in.proc.pid, &status);
	in.proc.pid = 0;
	run_inst = NULL;
	vm_instance_cleanup(&V->store, &in);
	vm_net_release(&V->store, &c);
	rmdir(d);
	vm_config_free(&c);
	return spawn_exit_code(status);
}

/* ---- ls, logs ---- */

static void
uptime_str(int64_t started, char *out, size_t size)
{
	int64_t s = (int64_t)time(NULL) - started;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, size, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, size, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, size, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, size, "%lldd", (long long)(s / 86400));
}

struct row {
	char name[64], state[32], ipv4[IPADDR_STRLEN], ipv6[IPADDR_STRLEN], image[64];
	char uptime[24], fqdn[256];
	int64_t started;
	pid_t pid;
	int pinned, ephemeral;
	int exit_code;
};

static void
row_fill(struct row *r, const char *name, const struct vm_config *c)
{
	struct vm_state st;
	char p[1300];
	struct buf b = BUF_INIT;

	memset(r, 0, sizeof(*r));
	str_copy(r->name, name, sizeof(r->name));
	r->exit_code = -1;
	if (c) {
		str_copy(r->image, c->image, sizeof(r->image));
		r->pinned = c->pinned;
		if (c->v4.family)
			ipaddr_str_addr(&c->v4, r->ipv4);
		if (c->v6.family)
			ipaddr_str_addr(&c->v6, r->ipv6);
	} else {
		r->ephemeral = 1;
	}
	if (vm_running(&V->store, name, &st)) {
		str_copy(r->state, "running", sizeof(r->state));
		r->pid = st.init;
		r->started = st.started;
		uptime_str(st.started, r->uptime, sizeof(r->uptime));
		str_copy(r->fqdn, st.fqdn, sizeof(r->fqdn));
		if (st.v4.family)
			ipaddr_str_addr(&st.v4, r->ipv4);
		if (st.v6.family)
			ipaddr_str_addr(&st.v6, r->ipv6);
		return;
	}
	str_copy(r->state, "stopped", sizeof(r->state));
	vm_dir(&V->store, name, p, sizeof(p));
	str_copy(p + strlen(p), "/exit", sizeof(p) - strlen(p));
	if (c && fs_read_file(p, &b, 256) == 0 && b.data) {
		r->exit_code = atoi(b.data);
		snprintf(r->state, sizeof(r->state), "exited (%d)", r->exit_code);
	}
	buf_free(&b);
}

static int
cmd_ls(int argc, char **argv)
{
	char **names, **runs = NULL, p[1200];
	size_t n, nr = 0, i, j;
	struct row *rows;
	size_t cnt = 0;
	struct buf out = BUF_INIT;

	for (i = 1; i < (size_t)argc; i++) {
		if (!strcmp(argv[i], "--json"))
			V->json = 1;
		else
			die_usage("ls [--json]");
	}
	open_store(0);
	if (vm_list(&V->store, &names, &n) < 0)
		die("%s", V->store.err);
	/* one-shot instances only have run-time state */
	snprintf(p, sizeof(p), "%s/vm", V->store.run);
	{
		DIR *d = opendir(p);
		struct dirent *de;

		while (d && (de = readdir(d))) {
			if (de->d_name[0] == '.' || !vm_valid_name(de->d_name) ||
			    vm_exists(&V->store, de->d_name))
				continue;
			runs = xrealloc(runs, (nr + 1) * sizeof(*runs));
			runs[nr++] = xstrdup(de->d_name);
		}
		if (d)
			closedir(d);
	}
	rows = xcalloc(n + nr + 1, sizeof(*rows));
	for (i = 0; i < n; i++) {
		struct vm_config c;

		if (vm_config_load(&V->store, names[i], &c) < 0)
			continue;
		row_fill(&rows[cnt++], names[i], &c);
		vm_config_free(&c);
	}
	for (j = 0; j < nr; j++) {
		struct vm_state st;

		if (!vm_running(&V->store, runs[j], &st))
			continue;
		row_fill(&rows[cnt], runs[j], NULL);
		str_copy(rows[cnt].image, "(run --rm)", sizeof(rows[cnt].image));
		cnt++;
	}
	if (V->json) {
		struct json_writer w;

		json_writer_init(&w, &out, 1);
		json_begin_arr(&w);
		for (i = 0; i < cnt; i++) {
			struct row *r = &rows[i];

			json_begin_obj(&w);
			json_key(&w, "name");
			json_str(&w, r->name);
			json_key(&w, "state");
			json_str(&w, r->pid ? "running" : r->exit_code >= 0 ? "exited" : "stopped");
			if (r->exit_code >= 0) {
				json_key(&w, "exit_code");
				json_int(&w, r->exit_code);
			}
			json_key(&w, "image");
			json_str(&w, r->ephemeral ? "" : r->image);
			json_key(&w, "ipv4");
			json_str(&w, r->ipv4);
			json_key(&w, "ipv6");
			json_str(&w, r->ipv6);
			json_key(&w, "fqdn");
			json_str(&w, r->fqdn);
			json_key(&w, "pid");
			json_int(&w, r->pid);
			json_key(&w, "started");
			json_int(&w, r->started);
			json_key(&w, "pinned");
			json_bool(&w, r->pinned);
			json_key(&w, "ephemeral");
			json_bool(&w, r->ephemeral);
			json_end_obj(&w);
		}
		json_end_arr(&w);
		json_writer_finish(&w);
		buf_addc(&out, '\n');
	} else {
		buf_addf(&out, "%-20s %-12s %-16s %-16s %-7s %s\n", "NAME", "STATE", "ADDRESS", "IMAGE",
			 "UPTIME", "PID");
		for (i = 0; i < cnt; i++) {
			struct row *r = &rows[i];
			char pid[16] = "-";

			if (r->pid)
				snprintf(pid, sizeof(pid), "%d", (int)r->pid);
			buf_addf(&out, "%-20s %-12s %-16s %-16s %-7s %s%s\n", r->name, r->state,
				 r->ipv4[0] ? r->ipv4 : "-", r->image, r->uptime[0] ? r->uptime : "-", pid,
				 r->pinned ? " pinned" : "");
		}
	}
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	for (j = 0; j < nr; j++)
		free(runs[j]);
	free(runs);
	free(rows);
	return 0;
}

static off_t
cat_from(const char *path, off_t off)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return off;
	if (lseek(fd, 0, SEEK_END) < off)
		off = 0;	/* rotated */
	lseek(fd, off, SEEK_SET);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fs_write_full(1, buf, (size_t)n);
		off += n;
	}
	close(fd);
	return off;
}

static int
cmd_logs(int argc, char **argv)
{
	const char *name = NULL;
	char path[1300], old[1400];
	struct vm_config c;
	struct vm_state st;
	off_t off;
	int i, follow = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-f") || !strcmp(argv[i], "--follow"))
			follow = 1;
		else if (argv[i][0] == '-' || name)
			die_usage("logs [-f] NAME");
		else
			name = argv[i];
	}
	if (!name)
		die_usage("logs [-f] NAME");
	open_store(0);
	load_config(name, &c);
	vm_config_free(&c);
	vm_dir(&V->store, name, path, sizeof(path));
	str_copy(path + strlen(path), "/console.log", sizeof(path) - strlen(path));
	snprintf(old, sizeof(old), "%s.1", path);
	cat_from(old, 0);
	off = cat_from(path, 0);
	if (follow && vm_running(&V->store, name, &st)) {
		int sp = pidfd_open_(st.supervisor), in = inotify_init1(IN_CLOEXEC);

		if (sp < 0 || in < 0)
			die_errno("%s: follow", name);
		inotify_add_watch(in, path, IN_MODIFY | IN_MOVE_SELF);
		for (;;) {
			struct pollfd p[2] = { { in, POLLIN, 0 }, { sp, POLLIN, 0 } };
			char ev[4096];

			if (poll(p, 2, -1) < 0 && errno != EINTR)
				break;
			if (p[0].revents) {
				if (read(in, ev, sizeof(ev)) < 0 && errno != EINTR)
					break;
				off = cat_from(path, off);
				inotify_add_watch(in, path, IN_MODIFY | IN_MOVE_SELF);
			}
			if (p[1].revents) {
				cat_from(path, off);	/* the last words */
				break;
			}
		}
	}
	return 0;
}

/* ---- rm, pin, enable ---- */

static void
unit_paths(const char *name, char *unit, char *wants, size_t size)
{
	const char *dir = getenv("LAB_SYSTEMD_DIR");

	if (!dir || !*dir)
		dir = "/etc/systemd/system";
	snprintf(unit, size, "%s/lab-vm-%s.service", dir, name);
	snprintf(wants, size, "%s/multi-user.target.wants/lab-vm-%s.service", dir, name);
}

static void
daemon_reload(void)
{
	char *argv[] = { "systemctl", "daemon-reload", NULL };
	struct buf out = BUF_INIT;
	int st;

	/* only where systemd is the running init */
	if (access("/run/systemd/system", F_OK) < 0 || getenv("LAB_SYSTEMD_DIR"))
		return;
	if (spawn_run(argv, &out, 65536, &st) < 0 || spawn_exit_code(st) != 0)
		warnx_("systemctl daemon-reload failed; run it by hand");
	buf_free(&out);
}

static int
disable_unit(const char *name)
{
	char unit[1200], wants[1200];
	int had;

	unit_paths(name, unit, wants, sizeof(unit));
	had = access(unit, F_OK) == 0;
	unlink(wants);
	unlink(unit);
	if (had)
		daemon_reload();
	return had;
}

static int
cmd_rm(int argc, char **argv)
{
	struct vm_config c;
	struct vm_state st;
	const char *name = NULL;
	char d[1200];
	int i, force = 0, lk, have_conf;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force") || !strcmp(argv[i], "-f"))
			force = 1;
		else if (argv[i][0] == '-' || name)
			die_usage("rm [--force] NAME");
		else
			name = argv[i];
	}
	if (!name)
		die_usage("rm [--force] NAME");
	check_name(name);
	need_root();
	open_store(0);
	vm_dir(&V->store, name, d, sizeof(d));
	if (access(d, F_OK) < 0) {
		/* a one-shot instance has only run-time state */
		vm_run_dir(&V->store, name, d, sizeof(d));
		if (access(d, F_OK) < 0)
			die("%s: no such instance", name);
		if (vm_running(&V->store, name, &st)) {
			if (!force)
				die("%s: running (rm --force stops it)", name);
			stop_instance(name, 10);
		} else if (vm_state_load(&V->store, name, &st) == 0) {
			cleanup_orphan(name, &st);
		}
		if (st.link[0]) {
			struct vm_config c1;

			vm_config_init(&c1);
			str_copy(c1.name, name, sizeof(c1.name));
			str_copy(c1.link, st.link, sizeof(c1.link));
			if (vm_net_release(&V->store, &c1) < 0)
				warnx_("%s", V->store.err);
		}
		tree_remove(d);
		return 0;
	}
	lk = lock_instance(name);
	have_conf = vm_config_load(&V->store, name, &c) == 0;
	if (have_conf && c.pinned)
		die("%s: pinned (lab vm unpin %s first)", name, name);
	if (vm_running(&V->store, name, &st)) {
		if (!force)
			die("%s: running (stop it first, or rm --force)", name);
		stop_instance(name, have_conf ? c.stop_timeout : 10);
	} else if (vm_state_load(&V->store, name, &st) == 0) {
		cleanup_orphan(name, &st);	/* left by a crash */
	}
	disable_unit(name);
	cgroup_destroy((snprintf(d, sizeof(d), "lab/%s", name), d));
	if (have_conf && vm_net_release(&V->store, &c) < 0)
		warnx_("%s", V->store.err);
	if (vm_remove_dir(&V->store, name) < 0)
		die("%s", V->store.err);
	vm_run_dir(&V->store, name, d, sizeof(d));
	tree_remove(d);
	fs_unlock(lk);
	if (have_conf)
		vm_config_free(&c);
	return 0;
}

static int
cmd_pin(int argc, char **argv, int pin)
{
	struct vm_config c;
	int lk;

	if (argc != 2)
		die_usage("%s NAME", pin ? "pin" : "unpin");
	need_root();
	open_store(0);
	load_config(argv[1], &c);
	lk = lock_instance(argv[1]);
	vm_config_free(&c);
	load_config(argv[1], &c);	/* again, under the lock */
	c.pinned = pin;
	if (vm_config_save(&V->store, &c) < 0)
		die("%s", V->store.err);
	fs_unlock(lk);
	vm_config_free(&c);
	return 0;
}

static int
cmd_enable(int argc, char **argv, int enable)
{
	struct vm_config c;
	struct buf u = BUF_INIT;
	char unit[1200], wants[1200], self[4096], run[1300], dir[1200];
	ssize_t n;

	if (argc != 2)
		die_usage("%s NAME", enable ? "enable" : "disable");
	need_root();
	open_store(0);
	load_config(argv[1], &c);
	if (!enable) {
		if (!disable_unit(argv[1]))
			warnx_("%s: was not enabled", argv[1]);
		return 0;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		die_errno("/proc/self/exe");
	self[n] = '\0';
	unit_paths(argv[1], unit, wants, sizeof(unit));
	vm_run_dir(&V->store, argv[1], run, sizeof(run));
	buf_addf(&u,
		 "# written by lab vm enable %s\n"
		 "[Unit]\n"
		 "Description=lab vm instance %s\n"
		 "Wants=network-online.target\n"
		 "After=network-online.target lab-dns.service\n"
		 "\n"
		 "[Service]\n"
		 "Type=forking\n"
		 "PIDFile=%s/supervisor.pid\n"
		 "Environment=LAB_VM_ROOT=%s LAB_RUN_DIR=%s\n"
		 "ExecStart=%s vm start %s\n"
		 "ExecStop=%s vm stop %s\n"
		 "TimeoutStartSec=%d\n"
		 "TimeoutStopSec=%d\n"
		 "Delegate=yes\n"
		 "\n"
		 "[Install]\n"
		 "WantedBy=multi-user.target\n",
		 argv[1], argv[1], run, V->store.root, V->store.run, self, argv[1], self, argv[1],
		 VM_READY_TIMEOUT_S + 10, c.stop_timeout + 15);
	str_copy(dir, wants, sizeof(dir));
	*strrchr(dir, '/') = '\0';
	if (fs_mkdir_p(dir, 0755) < 0)
		die_errno("%s", dir);
	if (buf_err(&u) < 0 || fs_write_atomic(unit, u.data, u.len, 0644) < 0)
		die_errno("%s", unit);
	unlink(wants);
	if (symlink(unit, wants) < 0)
		die_errno("%s", wants);
	daemon_reload();
	printf("%s\n", unit);
	buf_free(&u);
	vm_config_free(&c);
	return 0;
}

/* ---- images, info ---- */

static int
cmd_image(int argc, char **argv)
{
	const char *act = argc > 1 ? argv[1] : "";
	int lk;

	if (!strcmp(act, "import")) {
		if (argc != 4)
			die_usage("image import NAME DIR|TAR[.gz]");
		need_root();
		open_store(1);
		lk = lock_store();
		if (vm_image_import(&V->store, argv[2], argv[3]) < 0)
			die("%s", V->store.err);
		fs_unlock(lk);
		return 0;
	}
	if (!strcmp(act, "rm")) {
		if (argc != 3)
			die_usage("image rm NAME");
		need_root();
		open_store(0);
		lk = lock_store();
		if (vm_image_remove(&V->store, argv[2]) < 0)
			die("%s", V->store.err);
		fs_unlock(lk);
		return 0;
	}
	if (!strcmp(act, "ls")) {
		struct vm_image *v;
		struct buf out = BUF_INIT;
		size_t n, i;

		if (argc == 3 && !strcmp(argv[2], "--json"))
			V->json = 1;
		else if (argc != 2)
			die_usage("image ls [--json]");
		open_store(0);
		if (vm_image_list(&V->store, &v, &n) < 0)
			die("%s", V->store.err);
		if (V->json) {
			struct json_writer w;

			json_writer_init(&w, &out, 1);
			json_begin_arr(&w);
			for (i = 0; i < n; i++) {
				json_begin_obj(&w);
				json_key(&w, "name");
				json_str(&w, v[i].name);
				json_key(&w, "backend");
				json_str(&w, vm_backend_name(v[i].backend));
				json_key(&w, "bytes");
				json_int(&w, v[i].bytes);
				json_key(&w, "created");
				json_int(&w, v[i].created);
				json_key(&w, "source");
				json_str(&w, v[i].source);
				json_end_obj(&w);
			}
			json_end_arr(&w);
			json_writer_finish(&w);
			buf_addc(&out, '\n');
		} else {
			buf_addf(&out, "%-20s %-8s %10s  %s\n", "NAME", "BACKEND", "SIZE", "SOURCE");
			for (i = 0; i < n; i++)
				buf_addf(&out, "%-20s %-8s %9.1fM  %s\n", v[i].name,
					 vm_backend_name(v[i].backend), (double)v[i].bytes / (1 << 20),
					 v[i].source);
		}
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		free(v);
		return 0;
	}
	die_usage("image import|ls|rm");
}

static int
cmd_info(int argc, char **argv)
{
	struct vm_image *imgs;
	char **names;
	size_t ni, nn, i, running = 0;
	struct buf out = BUF_INIT;
	enum cgroup_mode cm = cgroup_mode();

	if (argc == 2 && !strcmp(argv[1], "--json"))
		V->json = 1;
	else if (argc != 1)
		die_usage("info [--json]");
	/* the store is made here so that the backend can be tried */
	if (geteuid() == 0)
		open_store(1);
	else
		open_store(0);
	if (vm_image_list(&V->store, &imgs, &ni) < 0 || vm_list(&V->store, &names, &nn) < 0)
		die("%s", V->store.err);
	for (i = 0; i < nn; i++) {
		struct vm_state st;

		if (vm_running(&V->store, names[i], &st))
			running++;
		free(names[i]);
	}
	free(names);
	free(imgs);
	if (V->json) {
		struct json_writer w;

		json_writer_init(&w, &out, 1);
		json_begin_obj(&w);
		json_key(&w, "root");
		json_str(&w, V->store.root);
		json_key(&w, "run");
		json_str(&w, V->store.run);
		json_key(&w, "backend");
		json_str(&w, vm_backend_name(V->store.backend));
		json_key(&w, "cgroup");
		json_str(&w, cm == CGROUP_V2 ? "v2" : cm == CGROUP_HYBRID ? "hybrid" :
			     cm == CGROUP_V1 ? "v1" : "none");
		json_key(&w, "device_control");
		json_bool(&w, cgroup_can_limit_devices());
		json_key(&w, "images");
		json_uint(&w, ni);
		json_key(&w, "instances");
		json_uint(&w, nn);
		json_key(&w, "running");
		json_uint(&w, running);
		json_end_obj(&w);
		json_writer_finish(&w);
		buf_addc(&out, '\n');
	} else {
		buf_addf(&out,
			 "store:     %s\n"
			 "backend:   %s\n"
			 "run-time:  %s/vm\n"
			 "cgroups:   %s, devices %s\n"
			 "images:    %zu\n"
			 "instances: %zu (%zu running)\n",
			 V->store.root, vm_backend_name(V->store.backend), V->store.run,
			 cgroup_mode_name(cm),
			 cgroup_can_limit_devices() ? "limited (v1 controller)"
						    : "not limited by cgroup (no CAP_MKNOD instead)",
			 ni, nn, running);
	}
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	return 0;
}

int
vm_main(int argc, char **argv)
{
	const char *sub;

	V = xcalloc(1, sizeof(*V));
	if (argc < 2)
		die_usage("missing command");
	sub = argv[1];
	if (!strcmp(sub, "--child")) {
		if (argc != 4 || strcmp(argv[2], "supervise"))
			die_usage("--child supervise NAME");
		log_init("lab vm", 0);
		open_store(0);
		return vm_supervise(&V->store, argv[3], 3);
	}
	argc--;
	argv++;
	if (!strcmp(sub, "image"))
		return cmd_image(argc, argv);
	if (!strcmp(sub, "new"))
		return cmd_new(argc, argv);
	if (!strcmp(sub, "start"))
		return cmd_start(argc, argv);
	if (!strcmp(sub, "stop"))
		return cmd_stop(argc, argv, 0);
	if (!strcmp(sub, "restart"))
		return cmd_stop(argc, argv, 1);
	if (!strcmp(sub, "exec"))
		return cmd_exec(argc, argv);
	if (!strcmp(sub, "run"))
		return cmd_run(argc, argv);
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return cmd_ls(argc, argv);
	if (!strcmp(sub, "logs"))
		return cmd_logs(argc, argv);
	if (!strcmp(sub, "rm"))
		return cmd_rm(argc, argv);
	if (!strcmp(sub, "pin"))
		return cmd_pin(argc, argv, 1);
	if (!strcmp(sub, "unpin"))
		return cmd_pin(argc, argv, 0);
	if (!strcmp(sub, "enable"))
		return cmd_enable(argc, argv, 1);
	if (!strcmp(sub, "disable"))
		return cmd_enable(argc, argv, 0);
	if (!strcmp(sub, "info"))
		return cmd_info(argc, argv);
	die_usage("unknown command \"%s\"", sub);
}
