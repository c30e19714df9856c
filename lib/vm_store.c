/* lab vm's store: images, instance directories and configuration, state. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "btrfs.h"
#include "buf.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "spawn.h"
#include "tar.h"
#include "tree.h"
#include "vm.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

int
vm_fail(struct vm_store *s, int e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	errno = e;
	return -1;
}

static void
env_path(char *out, size_t size, const char *var, const char *def)
{
	const char *v = getenv(var);

	str_copy(out, v && *v ? v : def, size);
	/* no trailing slash: paths are joined with one */
	for (size_t n = strlen(out); n > 1 && out[n - 1] == '/'; n--)
		out[n - 1] = '\0';
}

const char *
vm_backend_name(enum vm_backend b)
{
	switch (b) {
	case VM_BTRFS: return "btrfs";
	case VM_REFLINK: return "reflink";
	default: return "overlay";
	}
}

static int
backend_parse(const char *s, enum vm_backend *b)
{
	if (!strcmp(s, "btrfs"))
		*b = VM_BTRFS;
	else if (!strcmp(s, "reflink"))
		*b = VM_REFLINK;
	else if (!strcmp(s, "overlay"))
		*b = VM_OVERLAY;
	else
		return -1;
	return 0;
}

int
vm_store_open(struct vm_store *s, int create)
{
	char p[1100];
	const char *force = getenv("LAB_VM_BACKEND");

	memset(s, 0, sizeof(*s));
	env_path(s->root, sizeof(s->root), "LAB_VM_ROOT", VM_ROOT);
	env_path(s->run, sizeof(s->run), "LAB_RUN_DIR", VM_RUN);
	if (create) {
		snprintf(p, sizeof(p), "%s/images", s->root);
		if (fs_mkdir_p(p, 0755) < 0)
			return vm_fail(s, errno, "%s: %s", p, strerror(errno));
		snprintf(p, sizeof(p), "%s/vm", s->root);
		if (fs_mkdir_p(p, 0755) < 0)
			return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	}
	snprintf(p, sizeof(p), "%s/images", s->root);
	if (access(p, F_OK) < 0)
		str_copy(p, s->root, sizeof(p));
	if (force && *force) {
		if (backend_parse(force, &s->backend) < 0)
			return vm_fail(s, EINVAL, "$LAB_VM_BACKEND %s: expected btrfs, reflink or overlay",
				    force);
		if (s->backend == VM_BTRFS && !btrfs_is_btrfs(p))
			return vm_fail(s, EINVAL, "%s: not on btrfs, cannot use the btrfs backend", p);
		if (s->backend == VM_REFLINK && create && !tree_can_reflink(p))
			return vm_fail(s, EINVAL, "%s: the file system cannot reflink (FICLONE)", p);
	} else if (btrfs_is_btrfs(p))
		s->backend = VM_BTRFS;
	else if (create && tree_can_reflink(p))
		s->backend = VM_REFLINK;
	else
		s->backend = VM_OVERLAY;
	return 0;
}

int
vm_valid_name(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 63 || n[0] == '-' || n[len - 1] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= '0' && n[i] <= '9') || n[i] == '-'))
			return 0;
	return 1;
}

int
vm_valid_image(const char *n)
{
	size_t i, len = strlen(n);

	if (len == 0 || len > 63 || n[0] == '.' || n[0] == '-')
		return 0;
	for (i = 0; i < len; i++)
		if (!((n[i] >= 'a' && n[i] <= 'z') || (n[i] >= 'A' && n[i] <= 'Z') ||
		      (n[i] >= '0' && n[i] <= '9') || n[i] == '-' || n[i] == '_' || n[i] == '.'))
			return 0;
	return 1;
}

/* ---- images ---- */

void
vm_image_rootfs(const struct vm_store *s, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/images/%s/rootfs", s->root, name);
}

static int
write_json(const char *path, struct buf *b)
{
	if (buf_err(b) < 0)
		return -1;
	buf_addc(b, '\n');
	return fs_write_atomic(path, b->data, b->len, 0644);
}

static struct json *
read_json(const char *path)
{
	struct buf b = BUF_INIT;
	struct json_err e;
	struct json *j = NULL;

	if (fs_read_file(path, &b, 1 << 20) == 0) {
		j = json_parse(b.data ? b.data : "", b.len, &e);
		if (!j)
			errno = EINVAL;
	}
	buf_free(&b);
	return j;
}

static int
image_meta_save(const char *path, const struct vm_image *im)
{
	struct buf b = BUF_INIT;
	struct json_writer w;
	int rc;

	json_writer_init(&w, &b, 1);
	json_begin_obj(&w);
	json_key(&w, "name");
	json_str(&w, im->name);
	json_key(&w, "source");
	json_str(&w, im->source);
	json_key(&w, "created");
	json_int(&w, im->created);
	json_key(&w, "backend");
	json_str(&w, vm_backend_name(im->backend));
	json_key(&w, "bytes");
	json_int(&w, im->bytes);
	json_end_obj(&w);
	rc = json_writer_finish(&w) < 0 ? -1 : write_json(path, &b);
	buf_free(&b);
	return rc;
}

int
vm_image_get(struct vm_store *s, const char *name, struct vm_image *im)
{
	char p[1200];
	struct json *j;
	const char *v;
	int64_t n;

	if (!vm_valid_image(name))
		return vm_fail(s, EINVAL, "%s: invalid image name (letters, digits, '.', '_', '-')", name);
	snprintf(p, sizeof(p), "%s/images/%s/image.json", s->root, name);
	j = read_json(p);
	if (!j)
		return vm_fail(s, errno == ENOENT ? ENOENT : errno, "%s: no such image%s", name,
			    errno == ENOENT ? " (lab vm image ls)" : ": unreadable image.json");
	memset(im, 0, sizeof(*im));
	str_copy(im->name, name, sizeof(im->name));
	if ((v = json_get_str(j, "source")))
		str_copy(im->source, v, sizeof(im->source));
	if (json_get_int(j, "created", &n) == 0)
		im->created = n;
	if (json_get_int(j, "bytes", &n) == 0)
		im->bytes = n;
	im->backend = VM_OVERLAY;
	if ((v = json_get_str(j, "backend")))
		backend_parse(v, &im->backend);
	json_free(j);
	return 0;
}

int
vm_image_import(struct vm_store *s, const char *name, const char *source)
{
	char stage[1200], rootfs[1300], final[1200], meta[1300], e[512];
	struct vm_image im;
	struct stat st;
	int fd = -1, rc = -1;

	if (!vm_valid_image(name))
		return vm_fail(s, EINVAL, "%s: invalid image name (letters, digits, '.', '_', '-')", name);
	snprintf(final, sizeof(final), "%s/images/%s", s->root, name);
	if (access(final, F_OK) == 0)
		return vm_fail(s, EEXIST, "image %s exists (lab vm image rm %s first)", name, name);
	if (stat(source, &st) < 0)
		return vm_fail(s, errno, "%s: %s", source, strerror(errno));
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
		return vm_fail(s, EINVAL, "%s: neither a directory nor a tar archive", source);
	snprintf(stage, sizeof(stage), "%s/images/.%s.import-%d", s->root, name, (int)getpid());
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", stage);
	tree_remove(stage);
	if (mkdir(stage, 0755) < 0)
		return vm_fail(s, errno, "%s: %s", stage, strerror(errno));
	if (s->backend == VM_BTRFS ? btrfs_subvol_create(rootfs) < 0 : mkdir(rootfs, 0755) < 0) {
		vm_fail(s, errno, "%s: %s", rootfs, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		if (tree_copy(source, rootfs, 0) < 0) {
			vm_fail(s, errno, "copying %s: %s", source, strerror(errno));
			goto out;
		}
	} else {
		fd = open(source, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			vm_fail(s, errno, "%s: %s", source, strerror(errno));
			goto out;
		}
		if (tar_extract_fd(fd, rootfs, e, sizeof(e)) < 0) {
			vm_fail(s, errno, "%s: %s", source, e);
			goto out;
		}
	}
	memset(&im, 0, sizeof(im));
	str_copy(im.name, name, sizeof(im.name));
	if (!realpath(source, im.source))
		str_copy(im.source, source, sizeof(im.source));
	im.created = (int64_t)time(NULL);
	im.backend = s->backend;
	im.bytes = tree_size(rootfs);
	snprintf(meta, sizeof(meta), "%s/image.json", stage);
	if (image_meta_save(meta, &im) < 0) {
		vm_fail(s, errno, "%s: %s", meta, strerror(errno));
		goto out;
	}
	if (s->backend == VM_BTRFS && btrfs_set_readonly(rootfs, 1) < 0) {
		vm_fail(s, errno, "%s: cannot make it read-only: %s", rootfs, strerror(errno));
		goto out;
	}
	if (syscall(SYS_renameat2, AT_FDCWD, stage, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
		vm_fail(s, errno, errno == EEXIST ? "image %s exists" : "image %s: %s", name,
		     strerror(errno));
		goto out;
	}
	fs_fsync_dir(final);
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0) {
		int saved = errno;

		tree_remove(stage);
		errno = saved;
	}
	return rc;
}

int
vm_image_list(struct vm_store *s, struct vm_image **out, size_t *n)
{
	char p[1200], **names;
	size_t cnt, i, k = 0;
	struct vm_image *v;

	snprintf(p, sizeof(p), "%s/images", s->root);
	if (fs_list(p, &names, &cnt) < 0)
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	v = calloc(cnt ? cnt : 1, sizeof(*v));
	if (!v) {
		fs_list_free(names, cnt);
		return vm_fail(s, ENOMEM, "out of memory");
	}
	for (i = 0; i < cnt; i++)
		if (vm_image_get(s, names[i], &v[k]) == 0)
			k++;
	fs_list_free(names, cnt);
	s->err[0] = '\0';
	*out = v;
	*n = k;
	return 0;
}

int
vm_image_remove(struct vm_store *s, const char *name)
{
	struct vm_image im;
	char **names, p[1200], gone[1200];
	size_t n, i;

	if (vm_image_get(s, name, &im) < 0)
		return -1;
	if (vm_list(s, &names, &n) < 0)
		return -1;
	for (i = 0; i < n; i++) {
		struct vm_config c;

		if (vm_config_load(s, names[i], &c) == 0) {
			int used = !strcmp(c.image, name);

			vm_config_free(&c);
			if (used) {
				vm_fail(s, EBUSY, "image %s is used by instance %s", name, names[i]);
				fs_list_free(names, n);
				return -1;
			}
		}
	}
	fs_list_free(names, n);
	/* Out of sight first, so a half-removed image is never listed. */
	snprintf(p, sizeof(p), "%s/images/%s", s->root, name);
	snprintf(gone, sizeof(gone), "%s/images/.%s.rm-%d", s->root, name, (int)getpid());
	if (rename(p, gone) < 0)
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	if (tree_remove(gone) < 0)
		return vm_fail(s, errno, "%s: %s", gone, strerror(errno));
	return 0;
}

/* ---- instances ---- */

void
vm_dir(const struct vm_store *s, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/vm/%s", s->root, name);
}

void
vm_run_dir(const struct vm_store *s, const char *name, char *out, size_t size)
{
	snprintf(out, size, "%s/vm/%s", s->run, name);
}

void
vm_config_init(struct vm_config *c)
{
	memset(c, 0, sizeof(*c));
	str_copy(c->kind, "container", sizeof(c->kind));
	c->net = VM_NET_BRIDGE;
	str_copy(c->link, VM_BRIDGE, sizeof(c->link));
	str_copy(c->ip, "auto", sizeof(c->ip));
	c->stop_timeout = 10;
}

static void
free_list(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
}

void
vm_config_free(struct vm_config *c)
{
	free_list(c->argv, c->argc);
	free_list(c->env, c->nenv);
	free_list(c->tmpfs, c->ntmpfs);
	free_list(c->caps_add, c->ncaps_add);
	c->argc = c->nenv = c->ntmpfs = c->ncaps_add = 0;
}

static const char *const net_names[] = { "bridge", "macvlan", "none" };

static void
put_list(struct json_writer *w, const char *key, char *const *v, size_t n)
{
	size_t i;

	json_key(w, key);
	json_begin_arr(w);
	for (i = 0; i < n; i++)
		json_str(w, v[i]);
	json_end_arr(w);
}

int
vm_config_save(struct vm_store *s, const struct vm_config *c)
{
	struct buf b = BUF_INIT;
	struct json_writer w;
	char p[1200], t[IPADDR_STRLEN];
	size_t i;
	int rc;

	json_writer_init(&w, &b, 1);
	json_begin_obj(&w);
	json_key(&w, "name");
	json_str(&w, c->name);
	json_key(&w, "kind");
	json_str(&w, c->kind);
	json_key(&w, "image");
	json_str(&w, c->image);
	json_key(&w, "backend");
	json_str(&w, vm_backend_name(c->backend));
	json_key(&w, "created");
	json_int(&w, c->created);
	put_list(&w, "cmd", c->argv, c->argc);
	put_list(&w, "env", c->env, c->nenv);
	json_key(&w, "cpu_millis");
	json_uint(&w, c->cpu_millis);
	json_key(&w, "memory");
	json_uint(&w, c->memory);
	json_key(&w, "pids");
	json_uint(&w, c->pids);
	json_key(&w, "net");
	json_str(&w, net_names[c->net]);
	json_key(&w, "link");
	json_str(&w, c->link);
	json_key(&w, "ip");
	json_str(&w, c->ip);
	json_key(&w, "gateway");
	json_str(&w, c->gateway);
	if (c->v4.family) {
		json_key(&w, "ipv4");
		json_str(&w, ipaddr_str(&c->v4, t));
	}
	if (c->v6.family) {
		json_key(&w, "ipv6");
		json_str(&w, ipaddr_str(&c->v6, t));
	}
	json_key(&w, "readonly");
	json_bool(&w, c->readonly);
	json_key(&w, "binds");
	json_begin_arr(&w);
	for (i = 0; i < c->nbinds; i++) {
		json_begin_obj(&w);
		json_key(&w, "src");
		json_str(&w, c->binds[i].src);
		json_key(&w, "dst");
		json_str(&w, c->binds[i].dst);
		json_key(&w, "ro");
		json_bool(&w, c->binds[i].ro);
		json_end_obj(&w);
	}
	json_end_arr(&w);
	put_list(&w, "tmpfs", c->tmpfs, c->ntmpfs);
	put_list(&w, "cap_add", c->caps_add, c->ncaps_add);
	json_key(&w, "gpu");
	json_bool(&w, c->gpu);
	json_key(&w, "pinned");
	json_bool(&w, c->pinned);
	json_key(&w, "userns");
	json_bool(&w, c->userns);
	json_key(&w, "id_base");
	json_uint(&w, c->id_base);
	json_key(&w, "systemd");
	json_bool(&w, c->systemd);
	json_key(&w, "stop_timeout");
	json_int(&w, c->stop_timeout);
	json_end_obj(&w);
	vm_dir(s, c->name, p, sizeof(p));
	str_copy(p + strlen(p), "/config.json", sizeof(p) - strlen(p));
	rc = json_writer_finish(&w) < 0 ? -1 : write_json(p, &b);
	buf_free(&b);
	if (rc < 0)
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	return 0;
}

static int
get_list(const struct json *j, const char *key, char **v, size_t max, size_t *n)
{
	const struct json *a = json_get(j, key), *e;

	*n = 0;
	if (!a)
		return 0;
	if (a->type != JSON_ARR)
		return -1;
	for (e = a->child; e; e = e->next) {
		if (e->type != JSON_STR || *n == max)
			return -1;
		v[(*n)++] = strdup(e->str);
	}
	return 0;
}

static int
get_bool(const struct json *j, const char *key)
{
	const struct json *v = json_get(j, key);

	return v && v->type == JSON_BOOL && v->b;
}

int
vm_config_load(struct vm_store *s, const char *name, struct vm_config *c)
{
	char p[1200];
	struct json *j;
	const struct json *a, *e;
	const char *v;
	int64_t n;

	vm_config_init(c);
	if (!vm_valid_name(name))
		return vm_fail(s, EINVAL, "%s: invalid name (a DNS label: a-z, 0-9, '-')", name);
	vm_dir(s, name, p, sizeof(p));
	str_copy(p + strlen(p), "/config.json", sizeof(p) - strlen(p));
	j = read_json(p);
	if (!j)
		return vm_fail(s, errno, errno == ENOENT ? "%s: no such instance" : "%s: unreadable config",
			    name);
	str_copy(c->name, name, sizeof(c->name));
	if ((v = json_get_str(j, "kind")))
		str_copy(c->kind, v, sizeof(c->kind));
	if ((v = json_get_str(j, "image")))
		str_copy(c->image, v, sizeof(c->image));
	if ((v = json_get_str(j, "backend")))
		backend_parse(v, &c->backend);
	if (json_get_int(j, "created", &n) == 0)
		c->created = n;
	if (get_list(j, "cmd", c->argv, VM_MAX_LIST - 1, &c->argc) < 0 ||
	    get_list(j, "env", c->env, VM_MAX_LIST, &c->nenv) < 0 ||
	    get_list(j, "tmpfs", c->tmpfs, 16, &c->ntmpfs) < 0 ||
	    get_list(j, "cap_add", c->caps_add, 16, &c->ncaps_add) < 0) {
		json_free(j);
		vm_config_free(c);
		return vm_fail(s, EINVAL, "%s: malformed config", name);
	}
	if (json_get_int(j, "cpu_millis", &n) == 0)
		c->cpu_millis = (uint32_t)n;
	if (json_get_int(j, "memory", &n) == 0)
		c->memory = (uint64_t)n;
	if (json_get_int(j, "pids", &n) == 0)
		c->pids = (uint64_t)n;
	if ((v = json_get_str(j, "net"))) {
		for (size_t i = 0; i < 3; i++)
			if (!strcmp(v, net_names[i]))
				c->net = (enum vm_net)i;
	}
	if ((v = json_get_str(j, "link")))
		str_copy(c->link, v, sizeof(c->link));
	if ((v = json_get_str(j, "ip")))
		str_copy(c->ip, v, sizeof(c->ip));
	if ((v = json_get_str(j, "gateway")))
		str_copy(c->gateway, v, sizeof(c->gateway));
	if ((v = json_get_str(j, "ipv4")))
		ipaddr_parse(v, AF_INET, &c->v4);
	if ((v = json_get_str(j, "ipv6")))
		ipaddr_parse(v, AF_INET6, &c->v6);
	c->readonly = get_bool(j, "readonly");
	if ((a = json_get(j, "binds")) && a->type == JSON_ARR)
		for (e = a->child; e && c->nbinds < 16; e = e->next) {
			struct vm_bind *b = &c->binds[c->nbinds];

			if (!json_get_str(e, "src") || !json_get_str(e, "dst"))
				continue;
			str_copy(b->src, json_get_str(e, "src"), sizeof(b->src));
			str_copy(b->dst, json_get_str(e, "dst"), sizeof(b->dst));
			b->ro = get_bool(e, "ro");
			c->nbinds++;
		}
	c->gpu = get_bool(j, "gpu");
	c->pinned = get_bool(j, "pinned");
	c->userns = get_bool(j, "userns");
	if (json_get_int(j, "id_base", &n) == 0)
		c->id_base = (uid_t)n;
	c->systemd = get_bool(j, "systemd");
	if (json_get_int(j, "stop_timeout", &n) == 0)
		c->stop_timeout = (int)n;
	json_free(j);
	return 0;
}

int
vm_exists(struct vm_store *s, const char *name)
{
	char p[1200];

	vm_dir(s, name, p, sizeof(p));
	str_copy(p + strlen(p), "/config.json", sizeof(p) - strlen(p));
	return access(p, F_OK) == 0;
}

int
vm_list(struct vm_store *s, char ***names, size_t *n)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/vm", s->root);
	if (fs_list(p, names, n) < 0)
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	return 0;
}

void
vm_root_paths(const struct vm_store *s, const struct vm_config *c, char *root, char *lower,
	      char *upper, char *work, size_t size)
{
	char d[1200];

	if (c->ephemeral) {
		vm_run_dir(s, c->name, d, sizeof(d));
		snprintf(root, size, "%s/root", d);
		vm_image_rootfs(s, c->image, lower, size);
		upper[0] = work[0] = '\0';
		return;
	}
	vm_dir(s, c->name, d, sizeof(d));
	snprintf(root, size, "%s/rootfs", d);
	if (c->backend == VM_OVERLAY) {
		vm_image_rootfs(s, c->image, lower, size);
		snprintf(upper, size, "%s/upper", d);
		snprintf(work, size, "%s/work", d);
	} else {
		lower[0] = upper[0] = work[0] = '\0';
	}
}

int
vm_root_create(struct vm_store *s, const struct vm_config *c)
{
	char root[1300], lower[1300], upper[1300], work[1300], img[1300];

	vm_root_paths(s, c, root, lower, upper, work, sizeof(root));
	vm_image_rootfs(s, c->image, img, sizeof(img));
	switch (c->backend) {
	case VM_BTRFS:
		if (btrfs_snapshot(img, root, 0) < 0)
			return vm_fail(s, errno, "snapshot of %s: %s", img, strerror(errno));
		return 0;
	case VM_REFLINK:
		if (tree_copy(img, root, TREE_REFLINK) < 0) {
			int e = errno;

			tree_remove(root);
			return vm_fail(s, e, "reflink copy of %s: %s", img,
				    e == EOPNOTSUPP ? "the file system cannot share extents here"
						    : strerror(e));
		}
		return 0;
	default:
		if (mkdir(upper, 0755) < 0 || mkdir(work, 0700) < 0 || mkdir(root, 0755) < 0)
			return vm_fail(s, errno, "%s: %s", upper, strerror(errno));
		return 0;
	}
}

int
vm_remove_dir(struct vm_store *s, const char *name)
{
	char d[1200], gone[1300];

	vm_dir(s, name, d, sizeof(d));
	snprintf(gone, sizeof(gone), "%s/vm/.%s.rm-%d", s->root, name, (int)getpid());
	if (rename(d, gone) < 0) {
		if (errno == ENOENT)
			return 0;
		return vm_fail(s, errno, "%s: %s", d, strerror(errno));
	}
	if (tree_remove(gone) < 0)
		return vm_fail(s, errno, "%s: %s", gone, strerror(errno));
	return 0;
}

int
vm_with_root(struct vm_store *s, const struct vm_config *c, int (*fn)(int rootfd, void *arg),
	     void *arg)
{
	char root[1300], lower[1300], upper[1300], work[1300], opts[4096];
	pid_t pid;
	int fd, st, rc;

	vm_root_paths(s, c, root, lower, upper, work, sizeof(root));
	if (c->backend != VM_OVERLAY) {
		fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return vm_fail(s, errno, "%s: %s", root, strerror(errno));
		rc = fn(fd, arg);
		st = errno;
		close(fd);
		if (rc < 0)
			return vm_fail(s, st, "%s: %s", root, strerror(st));
		return 0;
	}
	/* The merged view exists only in a mount namespace of a child. */
	pid = fork();
	if (pid < 0)
		return vm_fail(s, errno, "fork: %s", strerror(errno));
	if (pid == 0) {
		snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s,workdir=%s", lower, upper, work);
		if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("overlay", root, "overlay", 0, opts) < 0)
			_exit(100 + (errno & 0x7f) % 100);
		fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			_exit(100 + errno % 100);
		_exit(fn(fd, arg) < 0 ? 1 : 0);
	}
	if (spawn_wait(pid, &st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 0;

		if (code >= 100)
			return vm_fail(s, code - 100, "overlay on %s: %s", root, strerror(code - 100));
		return vm_fail(s, EIO, "%s: writing into the instance's root failed", root);
	}
	return 0;
}

/* ---- state ---- */

int
vm_state_save(struct vm_store *s, const char *name, const struct vm_state *st)
{
	struct buf b = BUF_INIT;
	char d[1200], p[1300], t4[IPADDR_STRLEN] = "", t6[IPADDR_STRLEN] = "";
	int rc;

	vm_run_dir(s, name, d, sizeof(d));
	if (fs_mkdir_p(d, 0755) < 0)
		return vm_fail(s, errno, "%s: %s", d, strerror(errno));
	if (st->v4.family)
		ipaddr_str(&st->v4, t4);
	if (st->v6.family)
		ipaddr_str(&st->v6, t6);
	buf_addf(&b,
		 "supervisor=%d\ninit=%d\ninit_start=%llu\nstarted=%lld\nveth=%s\nlink=%s\nipv4=%s\n"
		 "ipv6=%s\n"
		 "fqdn=%s\ncaps=%llx\nseccomp=%d\nno_new_privs=%d\nuserns=%d\nsystemd=%d\ncgroup=%s\n",
		 (int)st->supervisor, (int)st->init, (unsigned long long)st->init_start,
		 (long long)st->started, st->veth, st->link, t4, t6, st->fqdn, (unsigned long long)st->caps,
		 st->seccomp, st->no_new_privs, st->userns, st->systemd, st->cgroup);
	snprintf(p, sizeof(p), "%s/state", d);
	rc = buf_err(&b) < 0 ? -1 : fs_write_replace(p, b.data, b.len, 0644);
	buf_free(&b);
	if (rc < 0)
		return vm_fail(s, errno, "%s: %s", p, strerror(errno));
	return 0;
}

int
vm_state_load(struct vm_store *s, const char *name, struct vm_state *st)
{
	struct buf b = BUF_INIT;
	char p[1300], *line, *save = NULL;

	memset(st, 0, sizeof(*st));
	st->seccomp = -1;
	vm_run_dir(s, name, p, sizeof(p));
	str_copy(p + strlen(p), "/state", sizeof(p) - strlen(p));
	if (fs_read_file(p, &b, 65536) < 0) {
		buf_free(&b);
		return -1;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *v = strchr(line, '=');

		if (!v)
			continue;
		*v++ = '\0';
		if (!strcmp(line, "supervisor"))
			st->supervisor = (pid_t)atoi(v);
		else if (!strcmp(line, "init"))
			st->init = (pid_t)atoi(v);
		else if (!strcmp(line, "init_start"))
			st->init_start = strtoull(v, NULL, 10);
		else if (!strcmp(line, "started"))
			st->started = strtoll(v, NULL, 10);
		else if (!strcmp(line, "veth"))
			str_copy(st->veth, v, sizeof(st->veth));
		else if (!strcmp(line, "link"))
			str_copy(st->link, v, sizeof(st->link));
		else if (!strcmp(line, "ipv4") && *v)
			ipaddr_parse(v, AF_INET, &st->v4);
		else if (!strcmp(line, "ipv6") && *v)
			ipaddr_parse(v, AF_INET6, &st->v6);
		else if (!strcmp(line, "fqdn"))
			str_copy(st->fqdn, v, sizeof(st->fqdn));
		else if (!strcmp(line, "caps"))
			st->caps = strtoull(v, NULL, 16);
		else if (!strcmp(line, "seccomp"))
			st->seccomp = atoi(v);
		else if (!strcmp(line, "no_new_privs"))
			st->no_new_privs = atoi(v);
		else if (!strcmp(line, "userns"))
			st->userns = atoi(v);
		else if (!strcmp(line, "systemd"))
			st->systemd = atoi(v);
		else if (!strcmp(line, "cgroup"))
			str_copy(st->cgroup, v, sizeof(st->cgroup));
	}
	buf_free(&b);
	return 0;
}

uint64_t
vm_proc_start(pid_t pid)
{
	char p[64], buf[1024], *s;
	int fd;
	ssize_t n;
	int field;

	if (pid <= 0)
		return 0;
	snprintf(p, sizeof(p), "/proc/%d/stat", (int)pid);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* after "(comm)", which may hold spaces: state is field 3, starttime 22 */
	s = strrchr(buf, ')');
	if (!s)
		return 0;
	if (s[1] && s[2] == 'Z')
		return 0;	/* a zombie is not running */
	for (field = 2; s && field < 22; field++)
		s = strchr(s + 1, ' ');
	return s ? strtoull(s + 1, NULL, 10) : 0;
}

int
vm_running(struct vm_store *s, const char *name, struct vm_state *st)
{
	if (vm_state_load(s, name, st) < 0)
		return 0;
	return st->init > 0 && st->init_start && vm_proc_start(st->init) == st->init_start;
}

/* ---- identity ---- */

int
vm_identity_write(int root, void *arg)
{
	const struct vm_identity *id = arg;
	const struct vm_config *c = id->c;
	struct buf b = BUF_INIT;
	char t[IPADDR_STRLEN];
	int rc = -1;

	buf_addf(&b, "%s\n", c->name);
	if (fs_write_in_root(root, "etc/hostname", b.data, b.len, 0644) < 0)
		goto out;
	buf_reset(&b);
	buf_addf(&b, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
	if (id->net && id->net->v4.family)
		buf_addf(&b, "%s\t%s %s\n", ipaddr_str_addr(&id->net->v4, t), id->net->fqdn, c->name);
	else
		buf_addf(&b, "127.0.1.1\t%s\n", c->name);
	if (id->net && id->net->v6.family)
		buf_addf(&b, "%s\t%s %s\n", ipaddr_str_addr(&id->net->v6, t), id->net->fqdn, c->name);
	if (fs_write_in_root(root, "etc/hosts", b.data, b.len, 0644) < 0)
		goto out;
	if (id->ssh_key) {
		int fd = fs_mkdir_in_root(root, "root/.ssh", 0700);

		if (fd < 0)
			goto out;
		close(fd);
		if (fs_write_in_root(root, "root/.ssh/authorized_keys", id->ssh_key,
				     strlen(id->ssh_key), 0600) < 0)
			goto out;
	}
	if (c->systemd && id->net && c->net != VM_NET_NONE) {
		/* the guest's own networkd keeps what lab configured */
		buf_reset(&b);
		buf_addf(&b, "# written by lab vm\n[Match]\nName=eth0\n\n[Network]\n");
		if (id->net->v4.family) {
			buf_addf(&b, "Address=%s\n", ipaddr_str(&id->net->v4, t));
			if (id->net->gw4.family)
				buf_addf(&b, "Gateway=%s\n", ipaddr_str_addr(&id->net->gw4, t));
		} else {
			buf_addf(&b, "DHCP=yes\n");
		}
		if (id->net->v6.family) {
			buf_addf(&b, "Address=%s\n", ipaddr_str(&id->net->v6, t));
			if (id->net->gw6.family)
				buf_addf(&b, "Gateway=%s\n", ipaddr_str_addr(&id->net->gw6, t));
		}
		if (id->net->gw4.family && c->net == VM_NET_BRIDGE)
			buf_addf(&b, "DNS=%s\n", ipaddr_str_addr(&id->net->gw4, t));
		buf_addf(&b, "Domains=%s\n", id->net->search);
		if (fs_write_in_root(root, "etc/systemd/network/80-lab.network", b.data, b.len,
				     0644) < 0)
			goto out;
	}
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
vm_probe_cmd(int root, struct vm_probe *p)
{
	char link[64], target[4096];
	ssize_t n;
	int fd = fs_open_in_root(root, p->cmd, O_PATH, 0);

	if (fd < 0)
		return 0;
	p->exists = 1;
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, target, sizeof(target) - 1);
	close(fd);
	if (n > 0) {
		target[n] = '\0';
		p->systemd = str_has_suffix(target, "/systemd");
	}
	return 0;
}
