/*
 * Control groups for instances, on cgroup v2 (one unified hierarchy) and
 * on v1 or hybrid hosts (one hierarchy per controller, plus the empty
 * unified one of a hybrid host). A group is a relative name such as
 * "lab/web"; it exists in every hierarchy lab uses:
 *
 *	v2       /sys/fs/cgroup/NAME                   cpu memory pids
 *	v1       /sys/fs/cgroup/{cpu,memory,pids,devices}/NAME
 *	hybrid   the v1 set, and /sys/fs/cgroup/unified/NAME (what a systemd
 *	         guest mounts as its cgroup2 file system)
 *
 * Device access is limited through the v1 devices controller; on a pure
 * v2 host that needs an eBPF program, which lab does not load: callers
 * drop CAP_MKNOD there instead (cgroup_can_limit_devices says which).
 */
#ifndef LAB_CGROUP_H
#define LAB_CGROUP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum cgroup_mode { CGROUP_NONE, CGROUP_V1, CGROUP_HYBRID, CGROUP_V2 };

struct cgroup_dev {
	char type;		/* 'c' or 'b' */
	int major, minor;	/* -1: any */
	char access[4];		/* "rwm", "m", ... */
};

struct cgroup_limits {
	uint32_t cpu_millis;	/* 1000 = one CPU; 0: no limit */
	uint64_t memory;	/* bytes, 0: none; swap is not allowed on top */
	uint64_t pids;		/* 0: none */
	int devices;		/* restrict devices to the default set + dev[] */
	const struct cgroup_dev *dev;
	size_t ndev;
};

/* What this host has; LAB_CGROUP_ROOT overrides /sys/fs/cgroup (tests). */
enum cgroup_mode cgroup_mode(void);
const char *cgroup_mode_name(enum cgroup_mode m);
int cgroup_can_limit_devices(void);

/* Create the group with its limits; err gets the file that refused. Part
 * of a group made before a failure is removed. */
int cgroup_create(const char *name, const struct cgroup_limits *l, char *err, size_t errlen);
/* Move pid (0: the calling process) into the group, in every hierarchy.
 * Through cgroup.procs: the kernel's global threadgroup lock, which waits
 * for an RCU grace period (milliseconds). */
int cgroup_attach(const char *name, pid_t pid);
/* The fast way for a single-threaded process to move itself: the v1
 * hierarchies' "tasks" files, which do not take that lock. The cgroup2
 * hierarchy (v2, or a hybrid host's unified one) is joined by being
 * cloned into it (CLONE_INTO_CGROUP, cgroup_dfl_open). */
int cgroup_join_v1(const char *name);
/* An fd of the group's directory in the cgroup2 hierarchy, for
 * CLONE_INTO_CGROUP; -1 with ENOENT where there is none. */
int cgroup_dfl_open(const char *name);
/* SIGKILL everything in the group, then remove it (absent is fine). */
int cgroup_destroy(const char *name);
/* Whether the group exists (in the first hierarchy). */
int cgroup_exists(const char *name);
/* The path of the group's directory in the cgroup2 hierarchy (v2 or hybrid),
 * for a guest's /sys/fs/cgroup; -1 with ENOENT where there is none. */
int cgroup_unified_path(const char *name, char *out, size_t size);
/* Memory in use, and how many times the OOM killer fired in the group. */
int cgroup_memory_stats(const char *name, uint64_t *current, uint64_t *oom_kills);

#endif
