/* Starting an instance and cleaning up after it: what the supervisor and
 * a one-shot `vm run --rm` share. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/mount.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cgroup.h"
#include "container.h"
#include "fs.h"
#include "log.h"
#include "seccomp.h"
#include "spawn.h"
#include "vm.h"
#include "vm_run.h"

const char *
vm_gpu_dev_dir(void)
{
	const char *dir = getenv("LAB_GPU_DEV_DIR");

	return dir && *dir ? dir : "/dev";
}

int
vm_gpu_devices(char ***out, size_t *n)
{
	const char *dir = vm_gpu_dev_dir();
	static const char *const pats[] = { "nvidia*", "nvidia-caps/*", "dri/*" };
	char **v = NULL;
	size_t cnt = 0, i, j;

	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		char pat[512];
		glob_t g;

		snprintf(pat, sizeof(pat), "%s/%s", dir, pats[i]);
		if (glob(pat, 0, NULL, &g) != 0)
			continue;
		for (j = 0; j < g.gl_pathc; j++) {
			struct stat st;
			char **nv;

			if (stat(g.gl_pathv[j], &st) < 0 || !S_ISCHR(st.st_mode))
				continue;
			nv = realloc(v, (cnt + 1) * sizeof(*v));
			if (!nv)
				break;
			v = nv;
			v[cnt++] = strdup(g.gl_pathv[j]);
		}
		globfree(&g);
	}
	*out = v;
	*n = cnt;
	return cnt ? 0 : -1;
}

/* The pty whose slave is the guest's console; the master stays here. */
static int
open_console(int *master, int *slave, char *path, size_t size)
{
	struct termios t;
	char *name;
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), sl;

	if (m < 0)
		return -1;
	if (grantpt(m) < 0 || unlockpt(m) < 0 || !(name = ptsname(m)))
		goto fail;
	str_copy(path, name, size);
	sl = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (sl < 0)
		goto fail;
	/* the log gets "\n", not "\r\n" */
	if (tcgetattr(sl, &t) == 0) {
		t.c_oflag &= ~(tcflag_t)ONLCR;
		tcsetattr(sl, TCSANOW, &t);
	}
	*master = m;
	*slave = sl;
	return 0;
fail:
	close(m);
	return -1;
}

static int
notify_socket(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;

	if (fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		close(fd);
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sa.sun_path, path);
	unlink(path);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	chmod(path, 0666);	/* services inside write to it as any user */
	setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one));
	return fd;
}

/* An id-mapped copy of the root for a guest in its own user namespace:
 * its uid 0 reads and writes what the host's uid 0 owns. */
static int
idmapped_root(struct vm_store *s, const char *root, pid_t pid)
{
	struct mount_attr attr;
	char p[64];
	int fd, ns;

	fd = (int)syscall(SYS_open_tree, AT_FDCWD, root,
			  OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (fd < 0)
		return vm_fail(s, errno, "open_tree %s: %s", root, strerror(errno));
	snprintf(p, sizeof(p), "/proc/%d/ns/user", (int)pid);
	ns = open(p, O_RDONLY | O_CLOEXEC);
	if (ns < 0) {
		close(fd);
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	}
	memset(&attr, 0, sizeof(attr));
	attr.attr_set = MOUNT_ATTR_IDMAP;
	attr.userns_fd = (uint64_t)ns;
	if (syscall(SYS_mount_setattr, fd, "", AT_EMPTY_PATH | AT_RECURSIVE, &attr,
		    sizeof(attr)) < 0) {
		int e = errno;

		close(ns);
		close(fd);
		return vm_fail(s, e, "id-mapped mount of %s: %s", root,
			    e == EINVAL ? "the file system does not support it" : strerror(e));
	}
	close(ns);
	return fd;
}

void
vm_inst_init(struct vm_inst *in)
{
	memset(in, 0, sizeof(*in));
	in->console = in->notify = -1;
	in->proc.sync = in->proc.err = -1;
	in->proc.pid = 0;
}

int
vm_instance_start(struct vm_store *s, struct vm_config *c, const struct vm_start_opts *o,
		  struct vm_inst *in)
{
	struct ct_spec sp;
	struct ct_bind binds[16];
	struct cgroup_limits lim;
	struct cgroup_dev devs[64];
	char root[1300], lower[1300], upper[1300], work[1300], rundir[1200], notify[1300];
	char cgerr[600], e[512], ptyname[64], *envp[VM_MAX_LIST + 8], **gpu = NULL;
	char *const *argv;
	size_t ngpu = 0, i, ne = 0;
	int slave = -1, tree = -1, rc = -1;

	in->c = c;
	vm_run_dir(s, c->name, rundir, sizeof(rundir));
	if (fs_mkdir_p(rundir, 0755) < 0)
		return vm_fail(s, errno, "%s: %s", rundir, strerror(errno));
	if (vm_net_prepare(s, c, &in->net) < 0)
		goto fail;
	in->have_net = 1;

	memset(&lim, 0, sizeof(lim));
	lim.cpu_millis = c->cpu_millis;
	lim.memory = c->memory;
	lim.pids = c->pids;
	lim.devices = 1;
	if (c->gpu) {
		if (vm_gpu_devices(&gpu, &ngpu) < 0) {
			vm_fail(s, ENODEV, "--gpu: no /dev/nvidia* or /dev/dri nodes on this host");
			goto fail;
		}
		for (i = 0; i < ngpu && i < 64; i++) {
			struct stat st;

			if (stat(gpu[i], &st) < 0)
				continue;
			devs[lim.ndev].type = 'c';
			devs[lim.ndev].major = (int)major(st.st_rdev);
			devs[lim.ndev].minor = (int)minor(st.st_rdev);
			str_copy(devs[lim.ndev].access, "rwm", sizeof(devs[lim.ndev].access));
			lim.ndev++;
		}
		lim.dev = devs;
	}
	snprintf(in->cgroup, sizeof(in->cgroup), "lab/%s", c->name);
	cgroup_destroy(in->cgroup);	/* a leftover of a crash */
	if (cgroup_create(in->cgroup, &lim, cgerr, sizeof(cgerr)) < 0) {
		vm_fail(s, errno, "cgroup: %s", cgerr);
		goto fail;
	}
	in->have_cgroup = 1;

	if (o->console && open_console(&in->console, &slave, ptyname, sizeof(ptyname)) < 0) {
		vm_fail(s, errno, "console pty: %s", strerror(errno));
		goto fail;
	}
	if (c->systemd) {
		snprintf(notify, sizeof(notify), "%s/notify", rundir);
		in->notify = notify_socket(notify);
		if (in->notify < 0) {
			vm_fail(s, errno, "%s: %s", notify, strerror(errno));
			goto fail;
		}
	}

	vm_root_paths(s, c, root, lower, upper, work, sizeof(root));
	if (c->ephemeral && mkdir(root, 0755) < 0 && errno != EEXIST) {
		vm_fail(s, errno, "%s: %s", root, strerror(errno));
		goto fail;
	}
	memset(&sp, 0, sizeof(sp));
	sp.hostname = c->name;
	sp.rootdir = root;
	sp.lower = lower[0] ? lower : NULL;
	sp.upper = upper[0] ? upper : NULL;
	sp.work = work[0] ? work : NULL;
	sp.tmpfs_upper_size = c->ephemeral && c->memory ? c->memory : 0;
	sp.readonly = c->readonly;
	for (i = 0; i < c->nbinds; i++) {
		binds[i].src = c->binds[i].src;
		binds[i].dst = c->binds[i].dst;
		binds[i].ro = c->binds[i].ro;
	}
	sp.binds = binds;
	sp.nbinds = c->nbinds;
	sp.tmpfs = c->tmpfs;
	sp.ntmpfs = c->ntmpfs;
	sp.devices = gpu;
	sp.ndevices = ngpu;
	sp.devices_dir = vm_gpu_dev_dir();
	sp.notify_socket = c->systemd ? notify : NULL;
	sp.mount_cgroup = c->systemd && cgroup_mode() != CGROUP_V1;
	sp.resolv_conf = in->net.resolv[0] ? in->net.resolv : NULL;
	sp.workdir = o->workdir;
	argv = o->argv ? o->argv : c->argv;
	sp.argv = argv;
	envp[ne++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	envp[ne++] = "HOME=/root";
	envp[ne++] = "container=lab";
	if (o->term)
		envp[ne++] = (char *)o->term;
	else if (o->console)
		envp[ne++] = "TERM=vt220";
	if (c->systemd)
		envp[ne++] = "NOTIFY_SOCKET=/run/host/notify";
	for (i = 0; i < c->nenv && ne < VM_MAX_LIST + 6; i++)
		envp[ne++] = c->env[i];
	envp[ne] = NULL;
	sp.envp = envp;
	sp.caps = c->systemd ? CT_CAPS_SYSTEMD : CT_CAPS_DEFAULT;
	if (!cgroup_can_limit_devices())
		sp.caps &= ~CT_CAP(27);	/* mknod, with nothing to stop opening what it makes */
	for (i = 0; i < c->ncaps_add; i++) {
		int cap = ct_cap_from_name(c->caps_add[i]);

		if (cap >= 0)
			sp.caps |= CT_CAP(cap);
	}
	sp.seccomp = c->systemd ? SECCOMP_LAB_SYSTEMD : SECCOMP_LAB_DEFAULT;
	sp.no_new_privs = !c->systemd;	/* a systemd guest runs su, sudo, ping */
	sp.console = o->console ? slave : -1;
	sp.console_path = o->console ? ptyname : NULL;
	for (i = 0; i < 3; i++)
		sp.stdio[i] = o->stdio[i];
	sp.userns = c->userns;
	sp.id_base = c->id_base;
	sp.id_count = 65536;
	sp.die_with_parent = o->die_with_parent;

	/* Into the cgroup without the kernel's global migration lock: born
	 * into the cgroup2 directory, and the child moves itself in v1. */
	sp.cgroup_fd = cgroup_dfl_open(in->cgroup);
	sp.cgroup = c->userns ? NULL : in->cgroup;
	rc = ct_start(&sp, &in->proc);
	if (sp.cgroup_fd >= 0)
		close(sp.cgroup_fd);
	if (rc < 0) {
		vm_fail(s, errno, "clone: %s", strerror(errno));
		goto fail;
	}
	rc = -1;
	if (c->userns && cgroup_attach(in->cgroup, in->proc.pid) < 0) {
		vm_fail(s, errno, "cgroup %s: %s", in->cgroup, strerror(errno));
		goto fail;
	}
	if (c->userns) {
		if (ct_map_ids(&in->proc, c->id_base, 65536) < 0) {
			vm_fail(s, errno, "id maps: %s", strerror(errno));
			goto fail;
		}
		tree = idmapped_root(s, root, in->proc.pid);
		if (tree < 0)
			goto fail;
	}
	if (vm_net_attach(s, &in->net, in->proc.pid) < 0)
		goto fail;
	if (ct_release(&in->proc, tree) < 0) {
		vm_fail(s, errno, "starting the guest: %s", strerror(errno));
		goto fail;
	}
	if (ct_wait_exec(&in->proc, e, sizeof(e)) < 0) {
		vm_fail(s, EINVAL, "%s", e);
		goto fail;
	}

	memset(&in->st, 0, sizeof(in->st));
	in->st.supervisor = getpid();
	in->st.init = in->proc.pid;
	in->st.init_start = vm_proc_start(in->proc.pid);
	in->st.started = (int64_t)time(NULL);
	if (c->net == VM_NET_BRIDGE) {
		str_copy(in->st.veth, in->net.veth, sizeof(in->st.veth));
		str_copy(in->st.link, in->net.link, sizeof(in->st.link));
	}
	in->st.v4 = in->net.v4;
	in->st.v6 = in->net.v6;
	in->st.caps = sp.caps;
	in->st.seccomp = sp.seccomp;
	in->st.no_new_privs = sp.no_new_privs;
	in->st.userns = c->userns;
	in->st.systemd = c->systemd;
	str_copy(in->st.cgroup, in->cgroup, sizeof(in->st.cgroup));
	rc = 0;
	goto out;
fail:
	if (in->proc.pid > 0)
		ct_abort(&in->proc);
	{
		char saved[sizeof(s->err)];
		int se = errno;

		memcpy(saved, s->err, sizeof(saved));
		vm_instance_cleanup(s, in);
		memcpy(s->err, saved, sizeof(saved));
		errno = se;
	}
out:
	if (slave >= 0)
		close(slave);
	if (tree >= 0)
		close(tree);
	for (i = 0; i < ngpu; i++)
		free(gpu[i]);
	free(gpu);
	return rc;
}

int
vm_instance_register(struct vm_store *s, struct vm_inst *in)
{
	int r = vm_dns_register(s, &in->net);

	if (r == 0)
		str_copy(in->st.fqdn, in->net.fqdn, sizeof(in->st.fqdn));
	return r;
}

void
vm_instance_cleanup(struct vm_store *s, struct vm_inst *in)
{
	char rundir[1200], p[1300];

	if (in->st.fqdn[0]) {
		if (vm_dns_unregister(s, in->st.fqdn) < 0)
			log_debug("%s", s->err);
		in->st.fqdn[0] = '\0';
	}
	if (in->have_net) {
		vm_net_detach(&in->net);
		in->have_net = 0;
	}
	if (in->have_cgroup) {
		if (cgroup_destroy(in->cgroup) < 0)
			log_debug("cgroup %s: %s", in->cgroup, strerror(errno));
		in->have_cgroup = 0;
	}
	if (in->console >= 0) {
		close(in->console);
		in->console = -1;
	}
	if (in->notify >= 0) {
		close(in->notify);
		in->notify = -1;
	}
	if (in->c) {
		vm_run_dir(s, in->c->name, rundir, sizeof(rundir));
		snprintf(p, sizeof(p), "%s/notify", rundir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/state", rundir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/supervisor.pid", rundir);
		unlink(p);
		snprintf(p, sizeof(p), "%s/root", rundir);
		rmdir(p);
		rmdir(rundir);
	}
}

/* ---- a terminal for exec and run ---- */

static volatile sig_atomic_t winch;

static void
on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

/* Copy between our terminal and the pty master until the child is gone;
 * returns its wait status. */
int
vm_pty_relay(int master, pid_t child)
{
	struct termios saved, raw;
	struct winsize ws;
	struct sigaction sa;
	char buf[16384];
	int status = 0, have_term, in_open = 1, done = 0;

	have_term = tcgetattr(0, &saved) == 0;
	if (have_term) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
		if (ioctl(0, TIOCGWINSZ, &ws) == 0)
			ioctl(master, TIOCSWINSZ, &ws);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigaction(SIGWINCH, &sa, NULL);
	while (!done) {
		struct pollfd p[2] = { { master, POLLIN, 0 }, { 0, POLLIN, 0 } };
		int r = poll(p, in_open ? 2 : 1, -1);

		if (winch) {
			winch = 0;
			if (ioctl(0, TIOCGWINSZ, &ws) == 0)
				ioctl(master, TIOCSWINSZ, &ws);
		}
		if (r < 0)
			continue;
		if (p[0].revents) {
			ssize_t n = read(master, buf, sizeof(buf));

			if (n > 0)
				fs_write_full(1, buf, (size_t)n);
			else if (n < 0 && errno == EINTR)
				continue;
			else
				done = 1;	/* EIO: the other side is closed */
		}
		if (in_open && p[1].revents) {
			ssize_t n = read(0, buf, sizeof(buf));

			if (n > 0)
				fs_write_full(master, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				in_open = 0;
		}
	}
	if (have_term)
		tcsetattr(0, TCSANOW, &saved);
	spawn_wait(child, &status);
	return status;
}
