#include "container.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "cgroup.h"
#include "fs.h"
#include "seccomp.h"
#include "spawn.h"

extern char **environ;

/* ---- in the child: every failure is one line to the error pipe ---- */

struct child {
	const struct ct_spec *s;
	int err;		/* write end of the error pipe */
	int sync;		/* our end of the release socket */
	int root_tree;		/* id-mapped root from the parent, or -1 */
	int root;		/* O_PATH fd of the new root */
	char rootpath[4096];	/* where the new root is mounted */
	int devnull;		/* host /dev/null, for masking /proc files */
};

__attribute__((noreturn, format(printf, 2, 3))) static void
child_fail(struct child *c, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int n, e = errno;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(e));
	if ((size_t)n >= sizeof(msg))
		n = sizeof(msg) - 1;
	if (write(c->err, msg, (size_t)n) < 0) {
		/* nobody to tell */
	}
	_exit(127);
}

/* "/proc/self/fd/N": mount(2) on an fd opened inside the root, so a
 * symlink in the guest's tree cannot send a mount outside it. */
static const char *
fdpath(int fd, char buf[32])
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
	return buf;
}

enum { AT_DIR, AT_FILE };

/* Open (making it if missing) a mount point inside the new root. */
static int
target(struct child *c, const char *path, int kind)
{
	int fd;

	if (kind == AT_DIR) {
		fd = fs_mkdir_in_root(c->root, path, 0755);
		if (fd < 0)
			child_fail(c, "mkdir %s", path);
		return fd;
	}
	fd = fs_open_in_root(c->root, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0 && errno == ENOENT) {
		char dir[4096];
		const char *slash = strrchr(path, '/');
		int dfd, f;

		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 0, path);
		dfd = fs_mkdir_in_root(c->root, dir, 0755);
		if (dfd < 0)
			child_fail(c, "mkdir %s", dir);
		f = openat(dfd, slash ? slash + 1 : path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			   0644);
		if (f >= 0)
			close(f);
		close(dfd);
		fd = fs_open_in_root(c->root, path, O_PATH | O_NOFOLLOW, 0);
	}
	if (fd < 0)
		child_fail(c, "create %s", path);
	return fd;
}

static void
mount_in(struct child *c, const char *path, int kind, const char *src, const char *type,
	 unsigned long flags, const char *data)
{
	char p[32];
	int fd = target(c, path, kind);

	if (mount(src, fdpath(fd, p), type, flags, data) < 0)
		child_fail(c, "mount %s on /%s", type ? type : src, path);
	close(fd);
}

/* Bind-remount read-only, keeping the flags the mount already has (the
 * kernel refuses to drop locked ones). */
static void
remount_ro(struct child *c, const char *path)
{
	struct statvfs sv;
	unsigned long fl = MS_BIND | MS_REMOUNT | MS_RDONLY;
	char p[32];
	int fd = fs_open_in_root(c->root, path, O_PATH, 0);

	if (fd < 0 || fstatvfs(fd, &sv) < 0)
		child_fail(c, "read-only /%s", path);
	if (sv.f_flag & ST_NOSUID)
		fl |= MS_NOSUID;
	if (sv.f_flag & ST_NODEV)
		fl |= MS_NODEV;
	if (sv.f_flag & ST_NOEXEC)
		fl |= MS_NOEXEC;
	if (sv.f_flag & ST_NOATIME)
		fl |= MS_NOATIME;
	if (sv.f_flag & ST_NODIRATIME)
		fl |= MS_NODIRATIME;
	if (sv.f_flag & ST_RELATIME)
		fl |= MS_RELATIME;
	if (mount(NULL, fdpath(fd, p), NULL, fl, NULL) < 0)
		child_fail(c, "read-only /%s", path);
	close(fd);
}

static void
bind_in(struct child *c, const char *src_fd_path, const char *path, int kind, int ro)
{
	mount_in(c, path, kind, src_fd_path, NULL, MS_BIND | MS_REC, NULL);
	if (ro)
		remount_ro(c, path);
}

/* Bind a path of the new root onto itself (to remount it alone). */
static int
bind_self(struct child *c, const char *path, int ro)
{
	char p[32];
	int fd = fs_open_in_root(c->root, path, O_PATH | O_NOFOLLOW, 0);

	if (fd < 0)
		return -1;
	if (mount(fdpath(fd, p), fdpath(fd, p), NULL, MS_BIND | MS_REC, NULL) < 0)
		child_fail(c, "bind /%s", path);
	close(fd);
	if (ro)
		remount_ro(c, path);
	return 0;
}

static void
setup_root(struct child *c)
{
	const struct ct_spec *s = c->s;
	char opts[8192];

	if (s->lower && !s->upper) {
		/* one-shot: layers on a private tmpfs that dies with us */
		char sz[64] = "";

		if (s->tmpfs_upper_size)
			snprintf(sz, sizeof(sz), ",size=%llu", (unsigned long long)s->tmpfs_upper_size);
		snprintf(opts, sizeof(opts), "mode=0755%s", sz);
		if (mount("tmpfs", s->rootdir, "tmpfs", MS_NOSUID | MS_NODEV, opts) < 0)
			child_fail(c, "mount tmpfs on %s", s->rootdir);
		snprintf(c->rootpath, sizeof(c->rootpath), "%s/u", s->rootdir);
		if (mkdir(c->rootpath, 0755) < 0)
			child_fail(c, "mkdir %s", c->rootpath);
		snprintf(c->rootpath, sizeof(c->rootpath), "%s/w", s->rootdir);
		if (mkdir(c->rootpath, 0755) < 0)
			child_fail(c, "mkdir %s", c->rootpath);
		snprintf(c->rootpath, sizeof(c->rootpath), "%s/r", s->rootdir);
		if (mkdir(c->rootpath, 0755) < 0)
			child_fail(c, "mkdir %s", c->rootpath);
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/u,workdir=%s/w", s->lower,
			 s->rootdir, s->rootdir);
		if (mount("overlay", c->rootpath, "overlay", 0, opts) < 0)
			child_fail(c, "mount overlay on %s", c->rootpath);
	} else if (s->lower) {
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", s->lower, s->upper,
			 s->work);
		str_copy(c->rootpath, s->rootdir, sizeof(c->rootpath));
		if (mount("overlay", c->rootpath, "overlay", 0, opts) < 0)
			child_fail(c, "mount overlay on %s", c->rootpath);
	} else if (c->root_tree >= 0) {
		str_copy(c->rootpath, s->rootdir, sizeof(c->rootpath));
		if (syscall(SYS_move_mount, c->root_tree, "", AT_FDCWD, c->rootpath,
			    MOVE_MOUNT_F_EMPTY_PATH) < 0)
			child_fail(c, "attach the id-mapped root on %s", c->rootpath);
	} else {
		str_copy(c->rootpath, s->rootdir, sizeof(c->rootpath));
		if (mount(c->rootpath, c->rootpath, NULL, MS_BIND | MS_REC, NULL) < 0)
			child_fail(c, "bind %s", c->rootpath);
	}
	c->root = open(c->rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (c->root < 0)
		child_fail(c, "open %s", c->rootpath);
}

static void
mknod_in(struct child *c, const char *name, mode_t mode, dev_t dev)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "dev/%s", name);
	if (!c->s->userns) {
		int dfd = fs_open_in_root(c->root, "dev", O_PATH | O_DIRECTORY, 0);

		if (dfd < 0 || mknodat(dfd, name, mode, dev) < 0 || fchmodat(dfd, name, mode & 07777, 0) < 0)
			child_fail(c, "mknod /%s", path);
		close(dfd);
		return;
	}
	/* In a user namespace mknod is not allowed: bind the host's node. */
	{
		char host[80];

		snprintf(host, sizeof(host), "/%s", path);
		if (stat(host, &st) < 0)
			child_fail(c, "%s", host);
		mount_in(c, path, AT_FILE, host, NULL, MS_BIND, NULL);
	}
}

static void
symlink_in(struct child *c, const char *target_, const char *path)
{
	char dir[64];
	const char *slash = strrchr(path, '/');
	int dfd;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	dfd = fs_open_in_root(c->root, dir, O_PATH | O_DIRECTORY, 0);
	if (dfd < 0 || symlinkat(target_, dfd, slash + 1) < 0)
		child_fail(c, "symlink /%s", path);
	close(dfd);
}

static void
setup_dev(struct child *c)
{
	static const struct {
		const char *name;
		unsigned minor;
	} mem[] = { { "null", 3 }, { "zero", 5 }, { "full", 7 }, { "random", 8 }, { "urandom", 9 } };
	const struct ct_spec *s = c->s;
	size_t i;

	mount_in(c, "dev", AT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME,
		 "mode=0755,size=4m");
	for (i = 0; i < sizeof(mem) / sizeof(mem[0]); i++)
		mknod_in(c, mem[i].name, S_IFCHR | 0666, makedev(1, mem[i].minor));
	mknod_in(c, "tty", S_IFCHR | 0666, makedev(5, 0));
	if (!s->userns) {	/* a VPN inside needs it; the devices cgroup allows it */
		int fd = fs_mkdir_in_root(c->root, "dev/net", 0755);

		if (fd < 0)
			child_fail(c, "mkdir /dev/net");
		close(fd);
		mknod_in(c, "net/tun", S_IFCHR | 0666, makedev(10, 200));
	}
	mount_in(c, "dev/pts", AT_DIR, "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		 "newinstance,ptmxmode=0666,mode=0620,gid=5");
	symlink_in(c, "pts/ptmx", "dev/ptmx");
	mount_in(c, "dev/shm", AT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	mount_in(c, "dev/mqueue", AT_DIR, "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		 NULL);
	symlink_in(c, "/proc/self/fd", "dev/fd");
	symlink_in(c, "/proc/self/fd/0", "dev/stdin");
	symlink_in(c, "/proc/self/fd/1", "dev/stdout");
	symlink_in(c, "/proc/self/fd/2", "dev/stderr");
	/* by path: a bind's source must be in our own mount namespace, which
	 * an fd opened before the clone is not */
	if (s->console >= 0 && s->console_path)
		bind_in(c, s->console_path, "dev/console", AT_FILE, 0);
	for (i = 0; i < s->ndevices; i++) {
		const char *dev = s->devices[i], *rel;
		size_t dl = strlen(s->devices_dir);
		char in[512];
		struct stat st;

		if (stat(dev, &st) < 0 || (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)))
			child_fail(c, "%s", dev);
		if (strncmp(dev, s->devices_dir, dl) || dev[dl] != '/')
			child_fail(c, "%s: not under %s", dev, s->devices_dir);
		rel = dev + dl + 1;
		snprintf(in, sizeof(in), "dev/%s", rel);	/* the same place under /dev */
		if (s->userns)
			mount_in(c, in, AT_FILE, dev, NULL, MS_BIND, NULL);
		else {
			char dir[512];
			const char *slash = strrchr(in, '/');
			int dfd;

			snprintf(dir, sizeof(dir), "%.*s", (int)(slash - in), in);
			dfd = fs_mkdir_in_root(c->root, dir, 0755);
			if (dfd < 0 || mknodat(dfd, slash + 1, st.st_mode, st.st_rdev) < 0 ||
			    fchmodat(dfd, slash + 1, st.st_mode & 07777, 0) < 0 ||
			    fchownat(dfd, slash + 1, st.st_uid, st.st_gid, 0) < 0)
				child_fail(c, "mknod /%s", in);
			close(dfd);
		}
	}
}

static void
mask_proc(struct child *c)
{
	static const char *const masked[] = { "proc/kcore", "proc/keys", "proc/timer_list",
					      "proc/sched_debug", "proc/latency_stats" };
	static const char *const ro[] = { "proc/sysrq-trigger", "proc/irq", "proc/bus", "proc/fs",
					  "proc/asound" };
	char p[32];
	size_t i;

	for (i = 0; i < sizeof(masked) / sizeof(masked[0]); i++) {
		int fd = fs_open_in_root(c->root, masked[i], O_PATH | O_NOFOLLOW, 0);

		if (fd < 0)
			continue;
		close(fd);
		bind_in(c, fdpath(c->devnull, p), masked[i], AT_FILE, 0);
	}
	/* /proc/sys read-only, but the namespace's own net settings writable */
	bind_self(c, "proc/sys/net", 0);
	if (bind_self(c, "proc/sys", 1) < 0)
		child_fail(c, "/proc/sys");
	for (i = 0; i < sizeof(ro) / sizeof(ro[0]); i++)
		bind_self(c, ro[i], 1);
}

static void
setup_mounts(struct child *c)
{
	const struct ct_spec *s = c->s;
	size_t i;

	mount_in(c, "proc", AT_DIR, "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_in(c, "sys", AT_DIR, "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
		 NULL);
	if (s->mount_cgroup)
		mount_in(c, "sys/fs/cgroup", AT_DIR, "cgroup2", "cgroup2",
			 MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	setup_dev(c);
	mount_in(c, "run", AT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_in(c, "tmp", AT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	if (s->notify_socket)
		mount_in(c, "run/host/notify", AT_FILE, s->notify_socket, NULL, MS_BIND, NULL);
	for (i = 0; i < s->ntmpfs; i++)
		mount_in(c, s->tmpfs[i], AT_DIR, "tmpfs", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	for (i = 0; i < s->nbinds; i++) {
		const struct ct_bind *b = &s->binds[i];
		struct stat st;

		if (stat(b->src, &st) < 0)
			child_fail(c, "bind %s", b->src);
		bind_in(c, b->src, b->dst, S_ISDIR(st.st_mode) ? AT_DIR : AT_FILE, b->ro);
	}
	mask_proc(c);
}

/* Keep exactly the capabilities of caps, for this process and what it
 * execs (as root, exec gives the bounding set). */
static int
drop_caps(uint64_t caps)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	int cap;

	for (cap = 0; cap < 64; cap++) {
		if (caps & CT_CAP(cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
			if (errno == EINVAL)
				break;	/* past the kernel's last capability */
			return -1;
		}
	}
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capget, &h, d) < 0)
		return -1;
	d[0].effective &= (uint32_t)caps;
	d[0].permitted &= (uint32_t)caps;
	d[0].inheritable = d[0].permitted;
	d[1].effective &= (uint32_t)(caps >> 32);
	d[1].permitted &= (uint32_t)(caps >> 32);
	d[1].inheritable = d[1].permitted;
	return (int)syscall(SYS_capset, &h, d);
}

int
ct_confine(uint64_t caps, int no_new_privs, int profile)
{
	/* seccomp needs CAP_SYS_ADMIN or no_new_privs: install it while the
	 * capability is still there, then drop. */
	if (profile >= 0 && !no_new_privs && seccomp_install(profile) < 0)
		return -1;
	if (drop_caps(caps) < 0)
		return -1;
	if (no_new_privs) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			return -1;
		if (profile >= 0 && seccomp_install(profile) < 0)
			return -1;
	}
	return 0;
}

int
ct_exec(char *const argv[], char *const envp[])
{
	environ = (char **)envp;	/* execvp searches the guest's PATH */
	execvp(argv[0], argv);
	return -1;
}

__attribute__((noreturn)) static void
child_main(struct child *c)
{
	const struct ct_spec *s = c->s;
	char go;
	int i, fds[1];
	size_t nfds = 1;
	ssize_t n;

	sigset_t all;

	if (s->die_with_parent)
		prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* The caller may block signals for its signalfd: the guest starts
	 * with a clean mask and default dispositions. */
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	/* exec resets caught signals; ignored ones it keeps */
	{
		static const int ign[] = { SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGCHLD,
					   SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH };

		for (i = 0; i < (int)(sizeof(ign) / sizeof(ign[0])); i++)
			signal(ign[i], SIG_DFL);
	}
	/* Wait until the caller has put us in our cgroup, mapped our ids and
	 * plugged in the network. */
	fds[0] = -1;
	n = spawn_recv_fds(c->sync, &go, 1, fds, &nfds);
	if (n != 1)
		_exit(127);	/* the caller gave up */
	c->root_tree = nfds ? fds[0] : -1;
	if (s->userns) {
		if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0)
			child_fail(c, "become root in the user namespace");
	}
	if (s->cgroup && cgroup_join_v1(s->cgroup) < 0)
		child_fail(c, "joining cgroup %s", s->cgroup);
	/* After the move into the cgroup, so that it is the namespace's root. */
	if (unshare(CLONE_NEWCGROUP) < 0)
		child_fail(c, "cgroup namespace");
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
		child_fail(c, "make / a slave mount");
	c->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c->devnull < 0)
		child_fail(c, "/dev/null");
	setup_root(c);
	if (s->resolv_conf &&
	    fs_write_in_root(c->root, "etc/resolv.conf", s->resolv_conf, strlen(s->resolv_conf),
			     0644) < 0)
		child_fail(c, "write /etc/resolv.conf");
	setup_mounts(c);
	if (s->readonly)
		remount_ro(c, "");
	if (s->hostname && sethostname(s->hostname, strlen(s->hostname)) < 0)
		child_fail(c, "sethostname");
	if (chdir(c->rootpath) < 0)
		child_fail(c, "chdir %s", c->rootpath);
	/* pivot_root(".", "."): the old root ends up on top of the new one
	 * and is detached at once; no directory for it is needed. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		child_fail(c, "pivot_root");
	if (umount2(".", MNT_DETACH) < 0)
		child_fail(c, "detach the old root");
	if (chdir("/") < 0)
		child_fail(c, "chdir /");
	setsid();
	if (s->console >= 0) {
		for (i = 0; i < 3; i++)
			if (dup2(s->console, i) < 0)
				child_fail(c, "console");
		if (ioctl(0, TIOCSCTTY, 0) < 0)
			child_fail(c, "controlling terminal");
	} else {
		int fd[3];

		/* dup above 2 first, so the mapping cannot overwrite itself */
		for (i = 0; i < 3; i++) {
			fd[i] = s->stdio[i] >= 0 ? fcntl(s->stdio[i], F_DUPFD_CLOEXEC, 3) : -1;
			if (s->stdio[i] >= 0 && fd[i] < 0)
				child_fail(c, "stdio");
		}
		for (i = 0; i < 3; i++)
			if (fd[i] >= 0 && dup2(fd[i], i) < 0)
				child_fail(c, "stdio");
	}
	if (s->workdir && chdir(s->workdir) < 0)
		child_fail(c, "chdir %s", s->workdir);
	/* everything else this process holds closes at exec */
	syscall(SYS_close_range, 3, ~0U, 4 /* CLOSE_RANGE_CLOEXEC */);
	if (ct_confine(s->caps, s->no_new_privs, s->seccomp) < 0)
		child_fail(c, "capabilities and seccomp");
	ct_exec(s->argv, s->envp);
	child_fail(c, "exec %s", s->argv[0]);
}

/* clone3's arguments (CLONE_ARGS_SIZE_VER2). */
struct clone_args3 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

#define CLONE_INTO_CGROUP_ 0x200000000ULL

/* Like fork (the child returns 0 on a copy of this stack), with
 * namespace flags, born into cgroup2 directory cgfd when it is >= 0. */
static long
clone_into(unsigned long flags, int cgfd)
{
	struct clone_args3 a;
	long pid;

	if (cgfd >= 0) {
		memset(&a, 0, sizeof(a));
		a.flags = (flags & ~0xffUL) | CLONE_INTO_CGROUP_;
		a.exit_signal = flags & 0xff;
		a.cgroup = (uint64_t)cgfd;
		pid = syscall(SYS_clone3, &a, sizeof(a));
		if (pid >= 0 || (errno != ENOSYS && errno != E2BIG))
			return pid;
	}
	return syscall(SYS_clone, flags, 0, 0, 0, 0);
}

pid_t
ct_fork_into(int cgfd)
{
	return (pid_t)clone_into(SIGCHLD, cgfd);
}

int
ct_start(const struct ct_spec *s, struct ct_proc *p)
{
	struct child c;
	int sv[2], ep[2], saved;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC |
			      CLONE_NEWNET | SIGCHLD;
	long pid;

	if (s->userns)
		flags |= CLONE_NEWUSER;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	if (pipe2(ep, O_CLOEXEC) < 0) {
		saved = errno;
		close(sv[0]);
		close(sv[1]);
		errno = saved;
		return -1;
	}
	/* fork-like clone: the child goes on on a copy of this stack */
	pid = clone_into(flags, s->cgroup_fd);
	if (pid == 0) {
		memset(&c, 0, sizeof(c));
		c.s = s;
		c.err = ep[1];
		c.sync = sv[1];
		close(ep[0]);
		close(sv[0]);
		child_main(&c);
	}
	saved = errno;
	close(ep[1]);
	close(sv[1]);
	if (pid < 0) {
		close(ep[0]);
		close(sv[0]);
		errno = saved;
		return -1;
	}
	p->pid = (pid_t)pid;
	p->sync = sv[0];
	p->err = ep[0];
	return 0;
}

int
ct_map_ids(const struct ct_proc *p, uid_t base, uint32_t count)
{
	char path[64], map[64];
	const char *f[2] = { "uid_map", "gid_map" };
	int i;

	snprintf(map, sizeof(map), "0 %u %u\n", (unsigned)base, count);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "/proc/%d/%s", (int)p->pid, f[i]);
		int fd = open(path, O_WRONLY | O_CLOEXEC), rc;

		if (fd < 0)
			return -1;
		rc = fs_write_full(fd, map, strlen(map));	/* one write, as the kernel wants */
		if (close(fd) < 0 || rc < 0)
			return -1;
	}
	return 0;
}

int
ct_release(struct ct_proc *p, int root_tree_fd)
{
	char go = 'g';
	int rc = spawn_send_fds(p->sync, &go, 1, &root_tree_fd, root_tree_fd >= 0 ? 1 : 0);

	close(p->sync);
	p->sync = -1;
	return rc;
}

int
ct_wait_exec(struct ct_proc *p, char *err, size_t errlen)
{
	ssize_t n;

	do
		n = read(p->err, err, errlen - 1);
	while (n < 0 && errno == EINTR);
	close(p->err);
	p->err = -1;
	if (n == 0) {
		err[0] = '\0';
		return 0;
	}
	if (n < 0)
		snprintf(err, errlen, "%s", strerror(errno));
	else
		err[n] = '\0';
	errno = EINVAL;
	return -1;
}

void
ct_abort(struct ct_proc *p)
{
	int st;

	if (p->sync >= 0)
		close(p->sync);
	if (p->err >= 0)
		close(p->err);
	p->sync = p->err = -1;
	if (p->pid > 0) {
		kill(p->pid, SIGKILL);
		spawn_wait(p->pid, &st);
		p->pid = 0;
	}
}

int
ct_enter(pid_t init, int userns)
{
	int fd = (int)syscall(SYS_pidfd_open, init, 0), saved, rc;
	int flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET |
		    CLONE_NEWCGROUP;

	if (fd < 0)
		return -1;
	if (userns)
		flags |= CLONE_NEWUSER;
	/* all at once (5.8+): no half-joined state */
	rc = setns(fd, flags);
	saved = errno;
	close(fd);
	errno = saved;
	/* our ids mean nothing in the guest's user namespace: become its root */
	if (rc == 0 && userns &&
	    (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0 || setgroups(0, NULL) < 0))
		return -1;
	return rc;
}

int
ct_cap_from_name(const char *name)
{
	static const char *const names[] = {
		"chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid",
		"setuid", "setpcap", "linux_immutable", "net_bind_service", "net_broadcast",
		"net_admin", "net_raw", "ipc_lock", "ipc_owner", "sys_module", "sys_rawio",
		"sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
		"sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write",
		"audit_control", "setfcap", "mac_override", "mac_admin", "syslog", "wake_alarm",
		"block_suspend", "audit_read", "perfmon", "bpf", "checkpoint_restore",
	};
	size_t i;

	if (!strncasecmp(name, "cap_", 4))
		name += 4;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcasecmp(name, names[i]))
			return (int)i;
	return -1;
}
