#include "netns.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "log.h"

int
netns_valid_name(const char *name)
{
	const char *p;

	if (!name || !*name || strlen(name) >= 64 || !strcmp(name, ".") || !strcmp(name, ".."))
		return 0;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("._-", *p))
			return 0;
	return 1;
}

static int
ns_path(const char *name, char *out, size_t size)
{
	if (strchr(name, '/'))
		return str_copy(out, name, size) < size ? 0 : (errno = ENAMETOOLONG, -1);
	if (!netns_valid_name(name)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(out, size, "%s/%s", NETNS_RUN_DIR, name);
	return 0;
}

int
netns_open(const char *name)
{
	char path[4096];

	if (ns_path(name, path, sizeof(path)) < 0)
		return -1;
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* /run/netns must be a shared mount so that namespaces mounted there show
 * in every mount namespace (ip does the same). */
static int
run_dir_shared(void)
{
	int made = 0;

	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -1;
	while (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0) {
		if (errno != EINVAL || made)
			return -1;
		if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
			return -1;
		made = 1;
	}
	return 0;
}

int
netns_add(const char *name)
{
	char path[4096];
	int fd, st, err = 0;
	pid_t pid;

	if (ns_path(name, path, sizeof(path)) < 0 || strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	if (run_dir_shared() < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	close(fd);
	/* A child makes the namespace and mounts it: this process stays where it is. */
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0 ||
		    mount("/proc/self/ns/net", path, "none", MS_BIND, NULL) < 0)
			_exit(errno & 0xff);
		_exit(0);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			goto fail;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		errno = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
		goto fail;
	}
	return 0;
fail:
	err = errno;
	unlink(path);
	errno = err;
	return -1;
}

int
netns_del(const char *name)
{
	char path[4096];
	struct stat st;

	if (ns_path(name, path, sizeof(path)) < 0 || strchr(name, '/')) {
		errno = EINVAL;
		return -1;
	}
	if (stat(path, &st) < 0)
		return -1;
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL)
		return -1;
	return unlink(path);
}

int
netns_enter(const char *name)
{
	int fd = netns_open(name), r, saved;

	if (fd < 0)
		return -1;
	r = setns(fd, CLONE_NEWNET);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

static void
bind_etc(const char *name)
{
	char dir[4096], src[4096 + 256], dst[4096 + 256];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "/etc/netns/%s", name);
	d = opendir(dir);
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, e->d_name);
		snprintf(dst, sizeof(dst), "/etc/%s", e->d_name);
		if (mount(src, dst, "none", MS_BIND, NULL) < 0)
			log_debug("netns: bind %s on %s: %s", src, dst, strerror(errno));
	}
	closedir(d);
}

int
netns_exec_prepare(const char *name)
{
	unsigned long flags = 0;
	struct statvfs sv;

	if (netns_enter(name) < 0)
		return -1;
	if (unshare(CLONE_NEWNS) < 0)
		return -1;
	/* Our mounts must not propagate back to the rest of the system. */
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		return -1;
	/* sysfs shows the devices of the namespace that mounted it. */
	if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY))
		flags |= MS_RDONLY;
	if (umount2("/sys", MNT_DETACH) == 0 || errno == EINVAL) {
		if (mount(strchr(name, '/') ? "sysfs" : name, "/sys", "sysfs", flags, NULL) < 0)
			log_debug("netns: mount /sys: %s", strerror(errno));
	}
	if (!strchr(name, '/'))
		bind_etc(name);
	return 0;
}

int
netns_list(char ***names, size_t *n)
{
	return fs_list(NETNS_RUN_DIR, names, n);
}

void
netns_list_free(char **names, size_t n)
{
	fs_list_free(names, n);
}
