/*
 * lab snap: snapshots of btrfs subvolumes (reflink copies on xfs), named
 * by time, kept by policies, sent and received as btrfs send streams.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "btrfs.h"
#include "btrfs_stream.h"
#include "buf.h"
#include "cmd.h"
#include "fs.h"
#include "json.h"
#include "snap.h"
#include "sshc.h"
#include "tree.h"

const char snap_usage[] =
	"usage: lab snap create PATH... [--label L] [--group NAME] [--now TIME]\n"
	"       lab snap ls [PATH] [--json]\n"
	"       lab snap rm SNAPSHOT... [--force]\n"
	"       lab snap rollback PATH SNAPSHOT\n"
	"       lab snap clone SNAPSHOT NEWPATH\n"
	"       lab snap subvol create|rm PATH | subvol ls DIR\n"
	"       lab snap run [-c DIR] [--dry-run] [--now TIME]\n"
	"       lab snap send SNAPSHOT [--parent SNAPSHOT] > STREAM\n"
	"       lab snap receive DIR < STREAM\n"
	"       lab snap replicate PATH [USER@]HOST:DIR [--port N] [--identity F]\n"
	"                 [--known-hosts F] [--accept-new] [--remote-lab PATH] [--full]\n"
	"\n"
	"Snapshots of PARENT/NAME are read-only subvolumes in PARENT/.snapshots/NAME/,\n"
	"named by UTC time and label (2026-11-24T19:00:00Z-hourly). On a file system\n"
	"that is not btrfs they are reflink copies where it has them (xfs), and\n"
	"refused otherwise. rollback swaps PATH with a writable copy of the snapshot\n"
	"in one rename and keeps what was there as a -pre-rollback snapshot.\n"
	"\n"
	"  --label L      a snapshot's label (default manual)\n"
	"  --group NAME   snapshots of every PATH at one time, labelled NAME\n"
	"  --now TIME     the time to use (2026-11-24T19:00:00Z), for runs and tests\n"
	"  -c DIR         policy files (default /usr/local/etc/lab/snap, $LAB_SNAP_CONF):\n"
	"                 path = /srv/data, hourly = 24, daily = 7, weekly = 4,\n"
	"                 monthly = 12, yearly = 0 (keep the newest N of each)\n"
	"  --dry-run      print what run would take and prune\n"
	"\n"
	"replicate sends PATH's newest snapshot to DIR on HOST (over SSH, to lab\n"
	"snap receive there), relative to the one it sent last, which stays held\n"
	"(never pruned) until a newer one has arrived.\n";

/* ---- file systems ---- */

static const char *
fs_name(const char *path)
{
	static const struct {
		long magic;
		const char *name;
	} names[] = {
		{ 0x9123683e, "btrfs" }, { 0xef53, "ext4" },	 { 0x58465342, "xfs" },
		{ 0x01021994, "tmpfs" }, { 0x794c7630, "overlayfs" }, { 0x6969, "nfs" },
		{ 0x2fc12fc1, "zfs" },	 { 0xf2f52010, "f2fs" },	 { 0x4d44, "vfat" },
	};
	struct statfs sf;
	size_t i;

	if (statfs(path, &sf) < 0)
		return "unknown";
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((long)sf.f_type == names[i].magic)
			return names[i].name;
	return "unknown";
}

enum { B_BTRFS = 1, B_REFLINK };

/* How snapshots of path are made, or a refusal naming its file system. */
static int
backend(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		die("%s: %s", path, errno ? strerror(errno) : "not a directory");
	if (btrfs_is_btrfs(path)) {
		if (!btrfs_is_subvol(path))
			die("%s: not a btrfs subvolume (lab snap subvol create makes one)", path);
		return B_BTRFS;
	}
	if (tree_can_reflink(path))
		return B_REFLINK;
	die("%s: on %s, which has neither btrfs snapshots nor reflinks: not snapshotting by copying",
	    path, fs_name(path));
}

static const char *
snapdir_of(const char *path)
{
	static char dir[4200];

	if (snap_dir(path, dir, sizeof(dir)) < 0)
		die("%s: cannot hold snapshots beside it", path);
	return dir;
}

/* Make a snapshot of path named name in its snapshot directory. */
static void
take(const char *path, int be, const char *name, int quiet)
{
	const char *dir = snapdir_of(path);
	char dst[4400];
	struct stat st;

	if (fs_mkdir_p(dir, 0700) < 0)
		die_errno("%s", dir);
	snprintf(dst, sizeof(dst), "%s/%s", dir, name);
	if (lstat(dst, &st) == 0)
		die("%s: a snapshot of that name exists", dst);
	if (be == B_BTRFS) {
		if (btrfs_snapshot(path, dst, 1) < 0) {
			if (errno == EPERM || errno == EACCES)
				die("%s: snapshot: no privilege (root, or CAP_SYS_ADMIN)", path);
			die_errno("%s: snapshot", path);
		}
	} else if (tree_copy(path, dst, TREE_REFLINK) < 0) {
		int e = errno;

		tree_remove(dst);
		errno = e;
		die_errno("%s: reflink copy", path);
	}
	if (!quiet)
		printf("%s\n", dst);
}

static int
cmd_create(int argc, char **argv)
{
	const char *label = "manual", *group = NULL, **paths;
	time_t now = time(NULL);
	size_t np = 0, i;
	char name[SNAP_NAME_MAX];
	int *be, k;

	paths = xcalloc((size_t)argc, sizeof(*paths));
	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--label") && k + 1 < argc)
			label = argv[++k];
		else if (!strcmp(argv[k], "--group") && k + 1 < argc)
			group = label = argv[++k];
		else if (!strcmp(argv[k], "--now") && k + 1 < argc) {
			if (snap_parse_time(argv[++k], &now) < 0)
				die_usage("--now %s: expected 2026-11-24T19:00:00Z", argv[k]);
		} else if (argv[k][0] == '-')
			die_usage("create: unknown option %s", argv[k]);
		else
			paths[np++] = argv[k];
	}
	if (!np)
		die_usage("create PATH...");
	if (np > 1 && !group)
		die_usage("create: several paths make a group: --group NAME");
	if (!snap_label_ok(label))
		die_usage("%s: a label is letters, digits, '-', '_' and '.'", label);
	if (snap_name(now, label, name, sizeof(name)) < 0)
		die_errno("name");
	be = xcalloc(np, sizeof(*be));
	for (i = 0; i < np; i++)
		be[i] = backend(paths[i]);
	/* a group: everything written so far is on disk, then the snapshots
	 * back to back under one name */
	if (group)
		for (i = 0; i < np; i++) {
			int fd = open(paths[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

			if (fd >= 0) {
				syncfs(fd);
				close(fd);
			}
		}
	for (i = 0; i < np; i++)
		take(paths[i], be[i], name, 0);
	if (group) {
		const char *st = getenv("LAB_SNAP_STATE") ? getenv("LAB_SNAP_STATE") : "/var/lib/lab/snap";
		char p[4200];
		struct buf b = BUF_INIT;

		snprintf(p, sizeof(p), "%s/groups", st);
		if (fs_mkdir_p(p, 0700) == 0) {
			for (i = 0; i < np; i++)
				buf_addf(&b, "%s/%s\n", snapdir_of(paths[i]), name);
			snprintf(p, sizeof(p), "%s/groups/%s", st, name);
			if (fs_write_atomic(p, b.data, b.len, 0600) < 0)
				warnx_("%s: %s (the snapshots are made)", p, strerror(errno));
		}
		buf_free(&b);
	}
	free(be);
	free(paths);
	return 0;
}

static int
cmd_ls(int argc, char **argv)
{
	const char *path = NULL;
	int json = 0, k;
	struct snap *v;
	size_t n, i;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--json"))
			json = 1;
		else if (argv[k][0] == '-' || path)
			die_usage("ls [PATH] [--json]");
		else
			path = argv[k];
	}
	if (!path)
		path = ".";
	{
		char real[4096];

		if (!realpath(path, real))
			die_errno("%s", path);
		if (snap_list(snapdir_of(real), &v, &n) < 0)
			die_errno("%s", snapdir_of(real));
		path = NULL;
		if (json) {
			struct buf out = BUF_INIT;
			struct json_writer w;

			json_writer_init(&w, &out, 1);
			json_begin_arr(&w);
			for (i = 0; i < n; i++) {
				char p[4400];

				snprintf(p, sizeof(p), "%s/%s", snapdir_of(real), v[i].name);
				json_begin_obj(&w);
				json_key(&w, "name");
				json_str(&w, v[i].name);
				json_key(&w, "path");
				json_str(&w, p);
				json_key(&w, "time");
				json_int(&w, (long long)v[i].t);
				json_key(&w, "label");
				json_str(&w, v[i].label);
				json_key(&w, "held");
				json_bool(&w, v[i].held);
				json_end_obj(&w);
			}
			json_end_arr(&w);
			json_writer_finish(&w);
			fwrite(out.data, 1, out.len, stdout);
			buf_free(&out);
		} else {
			for (i = 0; i < n; i++)
				printf("%s%s\n", v[i].name, v[i].held ? "  (held)" : "");
		}
	}
	free(v);
	return 0;
}

/* path must be a snapshot: in a .snapshots/NAME/ directory, with a
 * snapshot's name. */
static void
check_snapshot(const char *path, char *real, size_t size)
{
	char tmp[4096], label[SNAP_LABEL_MAX + 1], *slash, *up;
	time_t t;

	if (!realpath(path, tmp))
		die_errno("%s", path);
	str_copy(real, tmp, size);
	slash = strrchr(tmp, '/');
	if (!slash || snap_parse_name(slash + 1, &t, label, sizeof(label)) < 0)
		die("%s: not a snapshot (not named TIME-LABEL)", path);
	*slash = '\0';
	up = strrchr(tmp, '/');
	if (!up)
		die("%s: not a snapshot (not in a .snapshots directory)", path);
	*up = '\0';
	up = strrchr(tmp, '/');
	if (!up || strcmp(up + 1, ".snapshots"))
		die("%s: not a snapshot (not in a .snapshots directory)", path);
}

static void
remove_snapshot(const char *real)
{
	if (btrfs_is_subvol(real)) {
		if (btrfs_subvol_delete(real) < 0)
			die_errno("%s: delete", real);
	} else if (tree_remove(real) < 0) {
		die_errno("%s: remove", real);
	}
}

static int
held(const char *real)
{
	char dir[4096];
	const char *slash = strrchr(real, '/');
	struct snap *v;
	size_t n, i;
	int h = 0;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - real), real);
	if (snap_list(dir, &v, &n) < 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!strcmp(v[i].name, slash + 1))
			h = v[i].held;
	free(v);
	return h;
}

static int
cmd_rm(int argc, char **argv)
{
	int k, force = 0, any = 0;
	char real[4096];

	for (k = 1; k < argc; k++)
		if (!strcmp(argv[k], "--force"))
			force = 1;
	for (k = 1; k < argc; k++) {
		if (argv[k][0] == '-')
			continue;
		check_snapshot(argv[k], real, sizeof(real));
		if (held(real) && !force)
			die("%s: held for a replication target (see .holds; --force removes it anyway)", real);
		remove_snapshot(real);
		any = 1;
	}
	if (!any)
		die_usage("rm SNAPSHOT...");
	return 0;
}

static void
writable_copy(const char *snap, const char *dst)
{
	if (btrfs_is_subvol(snap)) {
		if (btrfs_snapshot(snap, dst, 0) < 0)
			die_errno("%s: snapshot to %s", snap, dst);
	} else if (tree_copy(snap, dst, TREE_REFLINK) < 0) {
		int e = errno;

		tree_remove(dst);
		errno = e;
		die_errno("%s: reflink copy to %s", snap, dst);
	}
}

static int
cmd_clone(int argc, char **argv)
{
	char real[4096];
	struct stat st;

	if (argc != 3)
		die_usage("clone SNAPSHOT NEWPATH");
	check_snapshot(argv[1], real, sizeof(real));
	if (lstat(argv[2], &st) == 0)
		die("%s: exists already", argv[2]);
	writable_copy(real, argv[2]);
	printf("%s\n", argv[2]);
	return 0;
}

static int
cmd_rollback(int argc, char **argv)
{
	char real[4096], path[4096], tmp[4400], name[SNAP_NAME_MAX], keep[4600];
	const char *slash;
	int be;

	if (argc != 3)
		die_usage("rollback PATH SNAPSHOT");
	if (!realpath(argv[1], path))
		die_errno("%s", argv[1]);
	be = backend(path);
	check_snapshot(argv[2], real, sizeof(real));
	{
		/* only a snapshot of this path */
		char want[4200];

		snprintf(want, sizeof(want), "%s/", snapdir_of(path));
		if (strncmp(real, want, strlen(want)))
			die("%s: not a snapshot of %s", argv[2], path);
	}
	slash = strrchr(path, '/');
	snprintf(tmp, sizeof(tmp), "%.*s/.%s.rollback.%d", (int)(slash - path), path, slash + 1,
		 (int)getpid());
	writable_copy(real, tmp);
	/* one rename puts it in place: nothing sees half of either (musl
	 * 1.2.3 has no renameat2 wrapper) */
	if (syscall(SYS_renameat2, AT_FDCWD, tmp, AT_FDCWD, path, RENAME_EXCHANGE) < 0) {
		int e = errno;

		remove_snapshot(tmp);
		errno = e;
		die_errno("%s: swap", path);
	}
	/* what was there becomes a snapshot, until it is removed */
	if (snap_name(time(NULL), "pre-rollback", name, sizeof(name)) < 0)
		die_errno("name");
	snprintf(keep, sizeof(keep), "%s/%s", snapdir_of(path), name);
	/* (a read-only subvolume cannot be moved: move it, then freeze it) */
	if (rename(tmp, keep) < 0)
		die_errno("%s: keeping the old content as %s", tmp, keep);
	if (be == B_BTRFS && btrfs_set_readonly(keep, 1) < 0)
		warnx_("%s: read-only: %s", keep, strerror(errno));
	printf("%s: now %s (the old content kept as %s)\n", path, real, keep);
	return 0;
}

static int
cmd_subvol(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "create")) {
		if (!btrfs_is_btrfs(argv[2]) && errno != ENOENT) {
			char up[4096], *s;

			str_copy(up, argv[2], sizeof(up));
			s = strrchr(up, '/');
			if (s)
				*s = '\0';
			die("%s: not on btrfs (%s)", argv[2], fs_name(s ? up : "."));
		}
		if (btrfs_subvol_create(argv[2]) < 0) {
			if (errno == ENOTTY || errno == EOPNOTSUPP)
				die("%s: not on btrfs", argv[2]);
			die_errno("%s", argv[2]);
		}
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "rm")) {
		if (!btrfs_is_subvol(argv[2]))
			die("%s: not a btrfs subvolume", argv[2]);
		if (btrfs_subvol_delete(argv[2]) < 0)
			die_errno("%s", argv[2]);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "ls")) {
		char **names;
		size_t n, i;

		if (!btrfs_is_btrfs(argv[2]))
			die("%s: not on btrfs (%s)", argv[2], fs_name(argv[2]));
		if (fs_list(argv[2], &names, &n) < 0)
			die_errno("%s", argv[2]);
		for (i = 0; i < n; i++) {
			char p[4400], us[37];
			struct btrfs_subvol_info si;

			snprintf(p, sizeof(p), "%s/%s", argv[2], names[i]);
			if (!btrfs_is_subvol(p) || btrfs_subvol_info(p, &si) < 0)
				continue;
			btrfs_uuid_str(si.uuid, us);
			printf("%-30s %s %s\n", names[i], us, si.readonly ? "ro" : "rw");
		}
		fs_list_free(names, n);
		return 0;
	}
	die_usage("subvol create|rm PATH, subvol ls DIR");
}

/* ---- policies ---- */

static int
cmd_run(int argc, char **argv)
{
	const char *cdir = getenv("LAB_SNAP_CONF") ? getenv("LAB_SNAP_CONF") : "/usr/local/etc/lab/snap";
	time_t now = time(NULL);
	int dry = 0, k, failed = 0;
	char **files;
	size_t nf, f;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "-c") && k + 1 < argc)
			cdir = argv[++k];
		else if (!strcmp(argv[k], "--dry-run") || !strcmp(argv[k], "-n"))
			dry = 1;
		else if (!strcmp(argv[k], "--now") && k + 1 < argc) {
			if (snap_parse_time(argv[++k], &now) < 0)
				die_usage("--now %s: expected 2026-11-24T19:00:00Z", argv[k]);
		} else
			die_usage("run [-c DIR] [--dry-run] [--now TIME]");
	}
	if (fs_list(cdir, &files, &nf) < 0)
		die_errno("%s", cdir);
	for (f = 0; f < nf; f++) {
		struct snap_policy pol;
		struct conf_err err;
		struct snap_plan pl;
		struct snap *v;
		size_t n, i;
		char file[4400];
		int p, be;

		if (strlen(files[f]) < 6 || strcmp(files[f] + strlen(files[f]) - 5, ".conf"))
			continue;
		snprintf(file, sizeof(file), "%s/%s", cdir, files[f]);
		if (snap_policy_load(file, &pol, &err) < 0) {
			warnx_("%s:%d: %s", err.file, err.line, err.msg);
			failed = 1;
			continue;
		}
		be = backend(pol.path);
		if (snap_list(snapdir_of(pol.path), &v, &n) < 0)
			die_errno("%s", snapdir_of(pol.path));
		if (snap_plan(&pol, v, n, now, &pl) < 0)
			die_errno("plan");
		for (p = SNAP_NPERIODS - 1; p >= 0; p--) {
			char name[SNAP_NAME_MAX];

			if (!(pl.take & (1u << p)))
				continue;
			snap_name(now, snap_period_names[p], name, sizeof(name));
			if (dry)
				printf("would take %s/%s\n", snapdir_of(pol.path), name);
			else {
				printf("take %s/%s\n", snapdir_of(pol.path), name);
				take(pol.path, be, name, 1);
			}
		}
		for (i = 0; i < n; i++) {
			char sp[4400];

			if (!pl.prune[i])
				continue;
			snprintf(sp, sizeof(sp), "%s/%s", snapdir_of(pol.path), v[i].name);
			printf("%s %s\n", dry ? "would prune" : "prune", sp);
			if (!dry)
				remove_snapshot(sp);
		}
		snap_plan_free(&pl);
		free(v);
	}
	fs_list_free(files, nf);
	fflush(stdout);
	return failed;
}

/* ---- send and receive ---- */

static int
cmd_send(int argc, char **argv)
{
	const char *snap = NULL, *parent = NULL;
	struct btrfs_subvol_info si, pi;
	uint64_t proot = 0;
	int k, fd;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--parent") && k + 1 < argc)
			parent = argv[++k];
		else if (argv[k][0] == '-' || snap)
			die_usage("send SNAPSHOT [--parent SNAPSHOT]");
		else
			snap = argv[k];
	}
	if (!snap)
		die_usage("send SNAPSHOT [--parent SNAPSHOT]");
	if (isatty(1))
		die("send: the stream is binary; redirect it to a file or a pipe");
	if (!btrfs_is_subvol(snap) || btrfs_subvol_info(snap, &si) < 0)
		die("%s: not a btrfs subvolume", snap);
	if (!si.readonly)
		die("%s: not read-only (only a snapshot can be sent)", snap);
	if (parent) {
		if (!btrfs_is_subvol(parent) || btrfs_subvol_info(parent, &pi) < 0)
			die("%s: not a btrfs subvolume", parent);
		if (!pi.readonly)
			die("%s: not read-only (a parent is an earlier snapshot)", parent);
		proot = pi.treeid;
	}
	fd = open(snap, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", snap);
	/* the kernel writes into a large pipe of ours, spliced on to stdout
	 * (given stdout itself, a small pipe, it stalls at every command) */
	if (btrfs_send_stream(fd, proot, 1, NULL, NULL) < 0) {
		if (errno == EPERM)
			die("%s: send: no privilege (root)", snap);
		die_errno("%s: send", snap);
	}
	close(fd);
	return 0;
}

static ssize_t
read_stdin(void *arg, void *p, size_t n)
{
	(void)arg;
	return read(0, p, n);
}

static int
cmd_receive(int argc, char **argv)
{
	struct bs_reader *r;
	struct buf names = BUF_INIT;
	char err[600];

	if (argc != 2)
		die_usage("receive DIR < STREAM");
	if (isatty(0))
		die("receive: reads a send stream on standard input");
	r = xcalloc(1, sizeof(*r));
	r->read = read_stdin;
	if (bs_receive(r, argv[1], &names, err, sizeof(err)) < 0)
		die("receive into %s: %s", argv[1], err);
	fputs(buf_cstr(&names), stdout);
	buf_free(&names);
	free(r);
	return 0;
}

/* ---- replication ---- */

/* Replace the hold of target in dir's .holds by name. */
static void
set_hold(const char *dir, const char *target, const char *name)
{
	char p[4200];
	struct buf old = BUF_INIT, out = BUF_INIT;
	char *line, *save = NULL, *copy;

	snprintf(p, sizeof(p), "%s/.holds", dir);
	fs_read_file(p, &old, 1 << 20);
	copy = strdup(buf_cstr(&old));
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		const char *sp = strchr(line, ' ');

		if (sp && !strcmp(sp + 1, target))
			continue;	/* this target's older hold */
		buf_addf(&out, "%s\n", line);
	}
	buf_addf(&out, "%s %s\n", name, target);
	if (fs_write_atomic(p, out.data, out.len, 0644) < 0)
		die_errno("%s", p);
	free(copy);
	buf_free(&old);
	buf_free(&out);
}

/* The snapshot held for target, or "". */
static void
get_hold(const char *dir, const char *target, char *name, size_t size)
{
	char p[4200];
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	name[0] = '\0';
	snprintf(p, sizeof(p), "%s/.holds", dir);
	if (fs_read_file(p, &b, 1 << 20) < 0)
		return;
	for (line = strtok_r(b.data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');

		if (sp && !strcmp(sp + 1, target)) {
			*sp = '\0';
			str_copy(name, line, size);
		}
	}
	buf_free(&b);
}

static int
cmd_replicate(int argc, char **argv)
{
	const char *path = NULL, *dest = NULL, *remote_lab = NULL;
	struct sshc_target t;
	char real[4096], host[512], user[128], rdir[2048], target[2800], cmd[13000], q[4200], err[600];
	char held_name[SNAP_NAME_MAX], snapp[4400], parentp[4400];
	const char *dir, *colon, *at;
	struct snap *v;
	size_t n;
	int k, full = 0, fd;
	struct sshc *c;
	struct sshc_chan *ch;
	uint64_t sent = 0;

	memset(&t, 0, sizeof(t));
	t.port = 22;
	t.timeout_s = 10;
	for (k = 1; k < argc; k++) {
		const char *a = argv[k];

		if (!strcmp(a, "--port") && k + 1 < argc) {
			t.port = atoi(argv[++k]);
			if (t.port < 1 || t.port > 65535)
				die_usage("--port %s: expected 1-65535", argv[k]);
		} else if (!strcmp(a, "--identity") && k + 1 < argc)
			t.identity = argv[++k];
		else if (!strcmp(a, "--known-hosts") && k + 1 < argc)
			t.known_hosts = argv[++k];
		else if (!strcmp(a, "--accept-new"))
			t.accept_new = 1;
		else if (!strcmp(a, "--remote-lab") && k + 1 < argc)
			remote_lab = argv[++k];
		else if (!strcmp(a, "--full"))
			full = 1;
		else if (a[0] == '-')
			die_usage("replicate: unknown option %s", a);
		else if (!path)
			path = a;
		else if (!dest)
			dest = a;
		else
			die_usage("replicate PATH [USER@]HOST:DIR");
	}
	if (!path || !dest || !(colon = strchr(dest, ':')) || colon == dest || !colon[1] || colon[1] != '/')
		die_usage("replicate PATH [USER@]HOST:/DIR");
	at = memchr(dest, '@', (size_t)(colon - dest));
	snprintf(user, sizeof(user), "%.*s", at ? (int)(at - dest) : 4, at ? dest : "root");
	snprintf(host, sizeof(host), "%.*s", (int)(colon - (at ? at + 1 : dest)), at ? at + 1 : dest);
	str_copy(rdir, colon + 1, sizeof(rdir));
	t.host = host;
	t.user = user;
	if (!realpath(path, real))
		die_errno("%s", path);
	if (backend(real) != B_BTRFS)
		die("%s: replication sends btrfs streams: not a btrfs subvolume", path);
	dir = snapdir_of(real);
	if (snap_list(dir, &v, &n) < 0 || !n)
		die("%s: no snapshot to replicate (lab snap create %s)", path, path);
	snprintf(target, sizeof(target), "replicate:%s@%s:%d:%s", user, host, t.port, rdir);
	snprintf(snapp, sizeof(snapp), "%s/%s", dir, v[n - 1].name);
	get_hold(dir, target, held_name, sizeof(held_name));
	if (held_name[0] && !strcmp(held_name, v[n - 1].name)) {
		printf("%s: %s is there already\n", dest, v[n - 1].name);
		free(v);
		return 0;
	}
	parentp[0] = '\0';
	if (held_name[0] && !full) {
		struct btrfs_subvol_info pi;

		snprintf(parentp, sizeof(parentp), "%s/%s", dir, held_name);
		if (btrfs_subvol_info(parentp, &pi) < 0)
			die("%s: the snapshot %s sent last is gone: replicate with --full", path, held_name);
		sent = pi.treeid;
	}
	/* the far end: lab snap receive DIR */
	sshc_quote(q, sizeof(q), rdir);
	if (remote_lab) {
		char ql[4200];

		sshc_quote(ql, sizeof(ql), remote_lab);
		snprintf(cmd, sizeof(cmd), "exec %s snap receive %s", ql, q);
	} else {
		snprintf(cmd, sizeof(cmd),
			 "if [ -x /usr/local/libexec/lab ]; then exec /usr/local/libexec/lab snap receive %s; "
			 "else exec lab snap receive %s; fi", q, q);
	}
	if (sshc_init() < 0)
		die("libssh: cannot initialise");
	signal(SIGPIPE, SIG_IGN);
	c = sshc_connect(&t, err, sizeof(err));
	if (!c)
		die("%s: %s", host, err);
	ch = sshc_exec(c, cmd, err, sizeof(err));
	if (!ch)
		die("%s: %s", host, err);
	fd = open(snapp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		die_errno("%s", snapp);
	{
		int rc = btrfs_send_stream(fd, sent, -1, sshc_write, ch), e = errno;

		close(fd);
		sshc_send_eof(ch);
		k = sshc_exit_status(ch);
		if (k != 0 || (rc < 0 && e == EPIPE)) {
			const char *m = sshc_stderr(ch);

			die("%s: receive failed (exit %d)%s%.*s", dest, k, *m ? ": " : "",
			    (int)strcspn(m, "\n"), m);
		}
		if (rc < 0) {
			errno = e;
			die_errno("%s: send", snapp);
		}
	}
	sshc_chan_close(ch);
	sshc_close(c);
	set_hold(dir, target, v[n - 1].name);
	printf("%s: %s sent %s%s\n", dest, v[n - 1].name, parentp[0] ? "after " : "in full",
	       parentp[0] ? held_name : "");
	free(v);
	return 0;
}

int
snap_main(int argc, char **argv)
{
	if (argc < 2)
		die_usage("a subcommand: create, ls, rm, rollback, clone, subvol, run, send, receive, replicate");
	if (!strcmp(argv[1], "create"))
		return cmd_create(argc - 1, argv + 1);
	if (!strcmp(argv[1], "ls"))
		return cmd_ls(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rm"))
		return cmd_rm(argc - 1, argv + 1);
	if (!strcmp(argv[1], "rollback"))
		return cmd_rollback(argc - 1, argv + 1);
	if (!strcmp(argv[1], "clone"))
		return cmd_clone(argc - 1, argv + 1);
	if (!strcmp(argv[1], "subvol"))
		return cmd_subvol(argc - 1, argv + 1);
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(argv[1], "send"))
		return cmd_send(argc - 1, argv + 1);
	if (!strcmp(argv[1], "receive"))
		return cmd_receive(argc - 1, argv + 1);
	if (!strcmp(argv[1], "replicate"))
		return cmd_replicate(argc - 1, argv + 1);
	die_usage("unknown subcommand \"%s\"", argv[1]);
}
