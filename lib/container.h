/*
 * lab's container runtime: a process in new mount, pid, uts, ipc, net and
 * cgroup namespaces (and optionally a user namespace), pivoted into its
 * root with /proc, a read-only /sys, a minimal /dev, tmpfs /run and /tmp,
 * with a bounded capability set, no_new_privs and a seccomp filter.
 *
 *	ct_start      clone; the child waits
 *	(caller)      cgroup, id maps, network, through the child's pid
 *	ct_release    the child sets up its root and execs
 *	ct_wait_exec  0 once the command is exec'd, or the child's error
 *
 * The child reports a failure as one line ("mount /proc: Permission
 * denied") over a close-on-exec pipe, so exec success is the pipe's end.
 */
#ifndef LAB_CONTAINER_H
#define LAB_CONTAINER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct ct_bind {
	const char *src;	/* host path */
	const char *dst;	/* path inside */
	int ro;
};

struct ct_spec {
	const char *hostname;
	/* The root: rootdir itself (a snapshot, a copy), or with lower an
	 * overlay of lower with upper/work, mounted on rootdir; lower
	 * without upper: the upper layer is a tmpfs (one-shot instances). */
	const char *rootdir;
	const char *lower, *upper, *work;
	uint64_t tmpfs_upper_size;	/* 0: the kernel's default (half of RAM) */
	int readonly;			/* root read-only (tmpfs and binds stay writable) */
	const struct ct_bind *binds;
	size_t nbinds;
	char *const *tmpfs;		/* more writable tmpfs mounts */
	size_t ntmpfs;
	char *const *devices;		/* host device nodes made inside (--gpu), */
	size_t ndevices;
	const char *devices_dir;	/* at their path below this, under /dev */
	const char *notify_socket;	/* host socket bound at /run/host/notify */
	int mount_cgroup;		/* cgroup2 at /sys/fs/cgroup (systemd guests) */
	const char *resolv_conf;	/* written to /etc/resolv.conf; NULL: left alone */
	const char *workdir;		/* NULL: / */
	char *const *argv;		/* argv[0] searched in the guest's PATH */
	char *const *envp;
	uint64_t caps;			/* capability bounding set (CT_CAPS_*) */
	int seccomp;			/* SECCOMP_LAB_* or -1: none */
	int no_new_privs;
	int console;			/* pty slave: stdio, controlling tty */
	const char *console_path;	/* its /dev/pts/N, bound on /dev/console */
	int stdio[3];			/* without console: the child's fd 0, 1, 2 */
	int userns;			/* own user namespace, ids 0.. mapped from id_base */
	uid_t id_base;
	uint32_t id_count;
	int die_with_parent;		/* SIGKILL when the caller exits */
	/* The cgroup: born into its cgroup2 directory (cgroup_fd, -1: none),
	 * and the child moves itself into the v1 hierarchies of cgroup
	 * (NULL: the caller attaches it, as it must for a user namespace). */
	int cgroup_fd;
	const char *cgroup;
};

#define CT_CAP(c) (1ULL << (c))
/* Docker's default set. */
#define CT_CAPS_DEFAULT                                                                   \
	(CT_CAP(0) /* chown */ | CT_CAP(1) /* dac_override */ | CT_CAP(3) /* fowner */ |    \
	 CT_CAP(4) /* fsetid */ | CT_CAP(5) /* kill */ | CT_CAP(6) /* setgid */ |           \
	 CT_CAP(7) /* setuid */ | CT_CAP(8) /* setpcap */ | CT_CAP(10) /* net_bind_service */ | \
	 CT_CAP(13) /* net_raw */ | CT_CAP(18) /* sys_chroot */ | CT_CAP(27) /* mknod */ |  \
	 CT_CAP(29) /* audit_write */ | CT_CAP(31) /* setfcap */)
/* What a systemd guest needs (systemd-nspawn's set). */
#define CT_CAPS_SYSTEMD                                                                   \
	(CT_CAPS_DEFAULT | CT_CAP(2) /* dac_read_search */ | CT_CAP(9) /* linux_immutable */ | \
	 CT_CAP(11) /* net_broadcast */ | CT_CAP(12) /* net_admin */ | CT_CAP(15) /* ipc_owner */ | \
	 CT_CAP(19) /* sys_ptrace */ | CT_CAP(21) /* sys_admin */ | CT_CAP(22) /* sys_boot */ | \
	 CT_CAP(23) /* sys_nice */ | CT_CAP(24) /* sys_resource */ | CT_CAP(26) /* sys_tty_config */ | \
	 CT_CAP(28) /* lease */ | CT_CAP(30) /* audit_control */)

struct ct_proc {
	pid_t pid;	/* in the caller's pid namespace */
	int sync;	/* our end of the release socket */
	int err;	/* read end of the error pipe */
};

int ct_start(const struct ct_spec *s, struct ct_proc *p);
/* With userns: write the child's uid and gid maps. */
int ct_map_ids(const struct ct_proc *p, uid_t base, uint32_t count);
/* Let the child go on; passes the root fd the caller prepared (an
 * id-mapped mount tree), or -1. */
int ct_release(struct ct_proc *p, int root_tree_fd);
/* Wait for the exec: 0, or -1 with the child's reason in err (the child
 * has exited then; the caller reaps it). */
int ct_wait_exec(struct ct_proc *p, char *err, size_t errlen);
/* Give up on a child that was not released: kill and reap it. */
void ct_abort(struct ct_proc *p);

/*
 * Join a running instance (for exec): its namespaces, through its pid 1.
 * The calling process must be single-threaded; its children are born in
 * the instance's pid namespace, and its root and cwd are the instance's.
 */
int ct_enter(pid_t init, int userns);
/* fork(), born into the cgroup2 directory cgfd (-1: like fork). */
pid_t ct_fork_into(int cgfd);
/* Capabilities, no_new_privs and seccomp, as in ct_start's child. */
int ct_confine(uint64_t caps, int no_new_privs, int seccomp);
/* Exec argv with PATH looked up in envp. Returns only on failure. */
int ct_exec(char *const argv[], char *const envp[]);

/* Capability names ("net_admin", "CAP_NET_ADMIN") to numbers; -1 if unknown. */
int ct_cap_from_name(const char *name);

#endif
