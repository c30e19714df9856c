#include "cgroup.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "log.h"

/* The v1 hierarchies lab uses, in the order groups are made. */
static const char *const v1_ctrl[] = { "cpu", "memory", "pids", "devices" };
#define NV1 (sizeof(v1_ctrl) / sizeof(v1_ctrl[0]))

static const char *
root(void)
{
	const char *r = getenv("LAB_CGROUP_ROOT");

	return r && *r ? r : "/sys/fs/cgroup";
}

static int
exists(const char *fmt, const char *a, const char *b)
{
	char p[512];

	snprintf(p, sizeof(p), fmt, a, b);
	return access(p, F_OK) == 0;
}

enum cgroup_mode
cgroup_mode(void)
{
	static enum cgroup_mode m = CGROUP_NONE;
	static int known;

	if (known)
		return m;
	if (exists("%s/cgroup.controllers%s", root(), ""))
		m = CGROUP_V2;
	else if (exists("%s/memory/cgroup.procs%s", root(), ""))
		m = exists("%s/unified/cgroup.procs%s", root(), "") ? CGROUP_HYBRID : CGROUP_V1;
	known = 1;
	return m;
}

const char *
cgroup_mode_name(enum cgroup_mode m)
{
	switch (m) {
	case CGROUP_V1: return "v1";
	case CGROUP_HYBRID: return "hybrid (v1 controllers, empty v2)";
	case CGROUP_V2: return "v2";
	default: return "none";
	}
}

int
cgroup_can_limit_devices(void)
{
	enum cgroup_mode m = cgroup_mode();

	return (m == CGROUP_V1 || m == CGROUP_HYBRID) &&
	       exists("%s/devices/devices.allow%s", root(), "");
}

/* Which v1 hierarchies are mounted (once per process). */
static int
have_v1(size_t i)
{
	static signed char have[NV1];
	static int known;

	if (!known) {
		for (size_t k = 0; k < NV1; k++)
			have[k] = (signed char)exists("%s/%s/cgroup.procs", root(), v1_ctrl[k]);
		known = 1;
	}
	return have[i];
}

/* The directories of a group, one per hierarchy; returns how many. */
static size_t
dirs(const char *name, char out[][512], size_t max)
{
	enum cgroup_mode m = cgroup_mode();
	size_t n = 0, i;

	if (m == CGROUP_V2) {
		snprintf(out[n++], 512, "%s/%s", root(), name);
		return n;
	}
	if (m == CGROUP_NONE)
		return 0;
	for (i = 0; i < NV1 && n < max; i++)
		if (have_v1(i))
			snprintf(out[n++], 512, "%s/%s/%s", root(), v1_ctrl[i], name);
	if (m == CGROUP_HYBRID && n < max)
		snprintf(out[n++], 512, "%s/unified/%s", root(), name);
	return n;
}

static int
put(const char *dir, const char *file, const char *value, char *err, size_t errlen)
{
	char p[600];
	int fd, rc;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (err)
			snprintf(err, errlen, "%s: %s", p, strerror(errno));
		return -1;
	}
	rc = fs_write_full(fd, value, strlen(value));
	if (close(fd) < 0)
		rc = -1;
	if (rc < 0 && err)
		snprintf(err, errlen, "%s: %s (writing %s)", p, strerror(errno), value);
	return rc;
}

static void
dev_rule(char *out, size_t size, const struct cgroup_dev *d)
{
	char ma[16], mi[16];

	if (d->major < 0)
		snprintf(ma, sizeof(ma), "*");
	else
		snprintf(ma, sizeof(ma), "%d", d->major);
	if (d->minor < 0)
		snprintf(mi, sizeof(mi), "*");
	else
		snprintf(mi, sizeof(mi), "%d", d->minor);
	snprintf(out, size, "%c %s:%s %s", d->type, ma, mi, d->access);
}

/* What every instance may use: the nodes of its minimal /dev, a pty, and
 * mknod (opening what it makes is still checked here). */
static const struct cgroup_dev default_devs[] = {
	{ 'c', -1, -1, "m" }, { 'b', -1, -1, "m" },
	{ 'c', 1, 3, "rwm" },	/* null */
	{ 'c', 1, 5, "rwm" },	/* zero */
	{ 'c', 1, 7, "rwm" },	/* full */
	{ 'c', 1, 8, "rwm" },	/* random */
	{ 'c', 1, 9, "rwm" },	/* urandom */
	{ 'c', 5, 0, "rwm" },	/* tty */
	{ 'c', 5, 1, "rwm" },	/* console */
	{ 'c', 5, 2, "rwm" },	/* ptmx */
	{ 'c', 136, -1, "rwm" },	/* pts */
	{ 'c', 10, 200, "rwm" },	/* net/tun, for VPNs inside */
};

static int
limit_v1(const char *name, const struct cgroup_limits *l, char *err, size_t errlen)
{
	char d[600], v[64];
	size_t i;

	if (l->cpu_millis) {
		snprintf(d, sizeof(d), "%s/cpu/%s", root(), name);
		snprintf(v, sizeof(v), "%u", l->cpu_millis * 100);
		if (put(d, "cpu.cfs_period_us", "100000", err, errlen) < 0 ||
		    put(d, "cpu.cfs_quota_us", v, err, errlen) < 0)
			return -1;
	}
	if (l->memory) {
		snprintf(d, sizeof(d), "%s/memory/%s", root(), name);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if (put(d, "memory.limit_in_bytes", v, err, errlen) < 0)
			return -1;
		/* memory + swap at the same bound: over it, the OOM killer,
		 * not swapping (the file is absent without swap accounting) */
		put(d, "memory.memsw.limit_in_bytes", v, NULL, 0);
		put(d, "memory.swappiness", "0", NULL, 0);
	}
	if (l->pids) {
		snprintf(d, sizeof(d), "%s/pids/%s", root(), name);
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
		if (put(d, "pids.max", v, err, errlen) < 0)
			return -1;
	}
	if (l->devices && cgroup_can_limit_devices()) {
		snprintf(d, sizeof(d), "%s/devices/%s", root(), name);
		if (put(d, "devices.deny", "a", err, errlen) < 0)
			return -1;
		for (i = 0; i < sizeof(default_devs) / sizeof(default_devs[0]); i++) {
			dev_rule(v, sizeof(v), &default_devs[i]);
			if (put(d, "devices.allow", v, err, errlen) < 0)
				return -1;
		}
		for (i = 0; i < l->ndev; i++) {
			dev_rule(v, sizeof(v), &l->dev[i]);
			if (put(d, "devices.allow", v, err, errlen) < 0)
				return -1;
		}
	}
	return 0;
}

static int
limit_v2(const char *name, const struct cgroup_limits *l, char *err, size_t errlen)
{
	char d[600], v[64];
	size_t i;

	/* Controllers must be enabled in the subtree_control of every
	 * ancestor (the root's is usually done by systemd already). */
	put(root(), "cgroup.subtree_control", "+cpu +memory +pids", NULL, 0);
	for (i = 0; name[i]; i++)
		if (name[i] == '/') {
			snprintf(d, sizeof(d), "%s/%.*s", root(), (int)i, name);
			put(d, "cgroup.subtree_control", "+cpu +memory +pids", NULL, 0);
		}
	snprintf(d, sizeof(d), "%s/%s", root(), name);
	if (l->cpu_millis) {
		snprintf(v, sizeof(v), "%u 100000", l->cpu_millis * 100);
		if (put(d, "cpu.max", v, err, errlen) < 0)
			return -1;
	}
	if (l->memory) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->memory);
		if (put(d, "memory.max", v, err, errlen) < 0)
			return -1;
		put(d, "memory.swap.max", "0", NULL, 0);
	}
	if (l->pids) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)l->pids);
		if (put(d, "pids.max", v, err, errlen) < 0)
			return -1;
	}
	return 0;
}

int
cgroup_create(const char *name, const struct cgroup_limits *l, char *err, size_t errlen)
{
	char d[8][512];
	size_t n = dirs(name, d, 8), i;
	int saved;

	err[0] = '\0';
	if (n == 0) {
		snprintf(err, errlen, "%s: no cgroup file system", root());
		errno = ENOENT;
		return -1;
	}
	for (i = 0; i < n; i++)
		if (fs_mkdir_p(d[i], 0755) < 0) {
			snprintf(err, errlen, "%s: %s", d[i], strerror(errno));
			goto fail;
		}
	if ((cgroup_mode() == CGROUP_V2 ? limit_v2 : limit_v1)(name, l, err, errlen) < 0)
		goto fail;
	return 0;
fail:
	saved = errno;
	cgroup_destroy(name);
	errno = saved;
	return -1;
}

int
cgroup_attach(const char *name, pid_t pid)
{
	char d[8][512], v[32];
	size_t n = dirs(name, d, 8), i;

	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	snprintf(v, sizeof(v), "%d", (int)pid);
	for (i = 0; i < n; i++)
		if (put(d[i], "cgroup.procs", v, NULL, 0) < 0)
			return -1;
	return 0;
}

int
cgroup_join_v1(const char *name)
{
	enum cgroup_mode m = cgroup_mode();
	size_t i;
	char d[512];

	if (m != CGROUP_V1 && m != CGROUP_HYBRID)
		return 0;
	for (i = 0; i < NV1; i++) {
		if (!have_v1(i))
			continue;
		snprintf(d, sizeof(d), "%s/%s/%s", root(), v1_ctrl[i], name);
		if (put(d, "tasks", "0", NULL, 0) < 0)
			return -1;
	}
	return 0;
}

int
cgroup_dfl_open(const char *name)
{
	char d[600];

	if (cgroup_unified_path(name, d, sizeof(d)) < 0)
		return -1;
	return open(d, O_PATH | O_DIRECTORY | O_CLOEXEC);
}

int
cgroup_exists(const char *name)
{
	char d[8][512];
	size_t n = dirs(name, d, 8);

	return n > 0 && access(d[0], F_OK) == 0;
}

int
cgroup_unified_path(const char *name, char *out, size_t size)
{
	enum cgroup_mode m = cgroup_mode();

	if (m == CGROUP_V2)
		snprintf(out, size, "%s/%s", root(), name);
	else if (m == CGROUP_HYBRID)
		snprintf(out, size, "%s/unified/%s", root(), name);
	else {
		errno = ENOENT;
		return -1;
	}
	return 0;
}

/* SIGKILL every process listed in dir/cgroup.procs; how many were there. */
static int
kill_procs(const char *dir)
{
	struct buf b = BUF_INIT;
	char p[600], *s, *end;
	int n = 0;

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	if (fs_read_file(p, &b, 1 << 20) < 0) {
		buf_free(&b);
		return 0;
	}
	for (s = b.data; s && *s; s = end) {
		long pid = strtol(s, &end, 10);

		if (end == s)
			break;
		if (pid > 1 && kill((pid_t)pid, SIGKILL) == 0)
			n++;
		while (*end == '\n')
			end++;
	}
	buf_free(&b);
	return n;
}

int
cgroup_destroy(const char *name)
{
	char d[8][512];
	size_t n = dirs(name, d, 8), i;
	int tries, rc = 0;

	if (cgroup_mode() == CGROUP_V2 && access(d[0], F_OK) == 0)
		put(d[0], "cgroup.kill", "1", NULL, 0);	/* 5.14+; else the loop below */
	for (i = 0; i < n; i++) {
		for (tries = 0; tries < 200; tries++) {
			if (rmdir(d[i]) == 0 || errno == ENOENT)
				break;
			if (errno != EBUSY) {
				rc = -1;
				break;
			}
			/* Processes left, or dying ones not yet gone. */
			kill_procs(d[i]);
			struct timespec ts = { 0, 5 * 1000 * 1000 };

			nanosleep(&ts, NULL);
		}
		if (tries == 200) {
			errno = EBUSY;
			rc = -1;
		}
	}
	/* The "lab" parent stays: other groups come and go under it. */
	return rc;
}

static int
read_u64(const char *dir, const char *file, const char *key, uint64_t *out)
{
	struct buf b = BUF_INIT;
	char p[600];
	const char *s;
	int rc = -1;

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (fs_read_file(p, &b, 65536) < 0)
		goto out;
	s = buf_cstr(&b);
	if (key) {
		size_t kl = strlen(key);

		for (; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
			if (!strncmp(s, key, kl) && s[kl] == ' ')
				break;
		if (!s || !*s)
			goto out;
		s += kl + 1;
	}
	*out = strtoull(s, NULL, 10);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
cgroup_memory_stats(const char *name, uint64_t *current, uint64_t *oom_kills)
{
	char d[600];

	*current = *oom_kills = 0;
	if (cgroup_mode() == CGROUP_V2) {
		snprintf(d, sizeof(d), "%s/%s", root(), name);
		read_u64(d, "memory.events", "oom_kill", oom_kills);
		return read_u64(d, "memory.current", NULL, current);
	}
	snprintf(d, sizeof(d), "%s/memory/%s", root(), name);
	read_u64(d, "memory.oom_control", "oom_kill", oom_kills);
	return read_u64(d, "memory.usage_in_bytes", NULL, current);
}
