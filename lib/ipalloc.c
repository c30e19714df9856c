#include "ipalloc.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fs.h"
#include "hash.h"
#include "json.h"
#include "nl_route.h"

static int
fail(struct ipalloc *a, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->err, sizeof(a->err), fmt, ap);
	va_end(ap);
	errno = err;
	return -1;
}

/* ---- the derived IPv6 part ---- */

static void
hash_lower(const char *s, uint8_t out[HASH_SHA256_LEN])
{
	char tmp[512];
	size_t i;

	for (i = 0; s[i] && i < sizeof(tmp) - 1; i++)
		tmp[i] = (char)tolower((unsigned char)s[i]);
	tmp[i] = '\0';
	hash_sha256(tmp, i, out);
}

int
ipalloc_ula_prefix(const char *host, struct ipaddr *out)
{
	uint8_t h[HASH_SHA256_LEN];

	if (!host || !*host) {
		errno = EINVAL;
		return -1;
	}
	hash_lower(host, h);
	memset(out, 0, sizeof(*out));
	out->family = AF_INET6;
	out->a[0] = 0xfd;
	memcpy(out->a + 1, h, 5);
	out->plen = 48;
	return 0;
}

int
ipalloc_ula_subnet(const char *host, const char *iface, struct ipaddr *out)
{
	uint8_t h[HASH_SHA256_LEN];
	char s[512];

	if (ipalloc_ula_prefix(host, out) < 0 || !iface || !*iface)
		return (errno = EINVAL, -1);
	snprintf(s, sizeof(s), "%s.%s", iface, host);
	hash_lower(s, h);
	memcpy(out->a + 6, h, 2);
	out->plen = 64;
	return 0;
}

static int
iid_reserved(const uint8_t *iid)
{
	static const uint8_t zero[8], anycast[7] = { 0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	return memcmp(iid, zero, 8) == 0 || (memcmp(iid, anycast, 7) == 0 && iid[7] >= 0x80);
}

int
ipalloc_ula_addr(const char *host, const char *iface, const char *name, struct ipaddr *out)
{
	uint8_t h[HASH_SHA256_LEN];
	char s[600];
	int i;

	if (ipalloc_ula_subnet(host, iface, out) < 0 || !name || !*name)
		return (errno = EINVAL, -1);
	for (i = 0;; i++) {
		if (i == 0)
			snprintf(s, sizeof(s), "%s.%s", name, host);
		else
			snprintf(s, sizeof(s), "%s.%s#%d", name, host, i);
		hash_lower(s, h);
		if (!iid_reserved(h))
			break;
	}
	memcpy(out->a + 8, h, 8);
	return 0;
}

int
ipalloc_valid_name(const char *name)
{
	const char *p;

	if (!name || !*name || *name == '.' || strlen(name) > 63)
		return 0;
	for (p = name; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("-_.", *p))
			return 0;
	return 1;
}

/* ---- files ---- */

static void
path_of(const struct ipalloc *a, const char *name, const char *ext, char *out, size_t size)
{
	snprintf(out, size, "%s/%s%s", a->dir, name, ext);
}

static int
lock_dir(struct ipalloc *a)
{
	char p[4096];
	int fd;

	if (fs_mkdir_p(a->dir, 0755) < 0)
		return fail(a, errno, "%s: %s", a->dir, strerror(errno));
	path_of(a, ".lock", "", p, sizeof(p));
	fd = fs_lock(p, 0);
	if (fd < 0)
		return fail(a, errno, "%s: %s", p, strerror(errno));
	return fd;
}

static void
complete(struct ipalloc *a, struct ipalloc_subnet *s)
{
	s->gw4 = s->v4;
	s->gw4.a[3] = 1;
	memset(&s->ula, 0, sizeof(s->ula));
	memset(&s->gw6, 0, sizeof(s->gw6));
	if (a->host && ipalloc_ula_subnet(a->host, s->name, &s->ula) == 0) {
		s->gw6 = s->ula;
		s->gw6.a[15] = 1;
	}
}

/* Read NAME.env: 1 found, 0 absent, -1 malformed. */
static int
subnet_read(struct ipalloc *a, const char *name, struct ipalloc_subnet *out)
{
	struct conf c;
	struct conf_err ce;
	char p[4096];
	const char *v;

	path_of(a, name, ".env", p, sizeof(p));
	if (access(p, F_OK) < 0)
		return 0;
	if (conf_load(&c, p, 0, &ce) < 0)
		return fail(a, EINVAL, "%s:%d: %s", ce.file, ce.line, ce.msg);
	memset(out, 0, sizeof(*out));
	str_copy(out->name, name, sizeof(out->name));
	v = c.nsect ? conf_get(&c.sect[0], "LAB_NET_SUBNET") : NULL;
	if (!v || ipaddr_parse(v, AF_INET, &out->v4) < 0 || out->v4.plen != 24) {
		conf_free(&c);
		return fail(a, EINVAL, "%s: no valid LAB_NET_SUBNET", p);
	}
	conf_free(&c);
	complete(a, out);
	return 1;
}

static int
subnet_write(struct ipalloc *a, const struct ipalloc_subnet *s)
{
	char p[4096], v4[IPADDR_STRLEN], gw[IPADDR_STRLEN], ula[IPADDR_STRLEN], gw6[IPADDR_STRLEN];
	struct buf b = BUF_INIT;
	struct json_writer w;
	int r;

	if (a->dry)
		return 0;
	ipaddr_str(&s->v4, v4);
	ipaddr_str_addr(&s->gw4, gw);
	if (s->ula.family) {
		ipaddr_str(&s->ula, ula);
		ipaddr_str_addr(&s->gw6, gw6);
	} else {
		ula[0] = gw6[0] = '\0';
	}
	buf_addf(&b,
		 "LAB_NET_NAME=%s\nLAB_NET_SUBNET=%s\nLAB_NET_GATEWAY=%s\nLAB_NET_PREFIXLEN=24\n"
		 "LAB_NET_ULA=%s\nLAB_NET_GATEWAY6=%s\n",
		 s->name, v4, gw, ula, gw6);
	path_of(a, s->name, ".env", p, sizeof(p));
	r = buf_err(&b) < 0 ? -1 : fs_write_atomic(p, b.data, b.len, 0644);
	if (r < 0)
		goto out;
	buf_reset(&b);
	json_writer_init(&w, &b, 0);
	json_begin_obj(&w);
	json_key(&w, "name");
	json_str(&w, s->name);
	json_key(&w, "subnet");
	json_str(&w, v4);
	json_key(&w, "gateway");
	json_str(&w, gw);
	json_key(&w, "ula");
	json_str(&w, s->ula.family ? ula : NULL);
	json_key(&w, "gateway6");
	json_str(&w, s->ula.family ? gw6 : NULL);
	json_end_obj(&w);
	buf_addc(&b, '\n');
	path_of(a, s->name, ".json", p, sizeof(p));
	r = json_writer_finish(&w) < 0 ? -1 : fs_write_atomic(p, b.data, b.len, 0644);
out:
	if (r < 0)
		fail(a, errno, "%s: %s", p, strerror(errno));
	buf_free(&b);
	return r;
}

static int
cmp_subnet(const void *x, const void *y)
{
	return strcmp(((const struct ipalloc_subnet *)x)->name,
		      ((const struct ipalloc_subnet *)y)->name);
}

static int
list_unlocked(struct ipalloc *a, struct ipalloc_subnet **out, size_t *n)
{
	struct ipalloc_subnet *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	struct dirent *e;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(a->dir);
	if (!d)
		return errno == ENOENT ? 0 : fail(a, errno, "%s: %s", a->dir, strerror(errno));
	while ((e = readdir(d))) {
		char name[64];
		size_t len = strlen(e->d_name);

		if (len < 5 || len - 4 >= sizeof(name) || strcmp(e->d_name + len - 4, ".env"))
			continue;
		memcpy(name, e->d_name, len - 4);
		name[len - 4] = '\0';
		if (!ipalloc_valid_name(name))
			continue;
		if (cnt == cap) {
			nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv) {
				closedir(d);
				free(v);
				return fail(a, ENOMEM, "out of memory");
			}
			v = nv;
		}
		if (subnet_read(a, name, &v[cnt]) == 1)
			cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_subnet);
	*out = v;
	*n = cnt;
	return 0;
}

int
ipalloc_subnet_list(struct ipalloc *a, struct ipalloc_subnet **out, size_t *n)
{
	int fd = lock_dir(a), r;

	if (fd < 0)
		return -1;
	r = list_unlocked(a, out, n);
	fs_unlock(fd);
	return r;
}

/* ---- taking a subnet ---- */

struct taken {
	struct ipaddr *p;
	size_t n, cap;
};

static int
take(struct taken *t, const struct ipaddr *p)
{
	if (p->family != AF_INET)
		return 0;
	if (t->n == t->cap) {
		struct ipaddr *np = realloc(t->p, (t->cap = t->cap ? t->cap * 2 : 64) * sizeof(*np));

		if (!np)
			return -1;
		t->p = np;
	}
	t->p[t->n++] = *p;
	return 0;
}

static int
read_reserved(struct ipalloc *a, struct taken *t)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int lineno = 0;

	if (!a->reserved)
		return 0;
	if (fs_read_file(a->reserved, &b, 1 << 20) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : fail(a, errno, "%s: %s", a->reserved, strerror(errno));
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *s = line, *h = strchr(s, '#');
		struct ipaddr p;

		lineno++;
		if (h)
			*h = '\0';
		s = str_trim(s);
		if (!*s)
			continue;
		if (ipaddr_parse_prefix(s, AF_UNSPEC, &p) < 0) {
			fail(a, EINVAL, "%s:%d: \"%.64s\" is not a prefix", a->reserved, lineno, s);
			buf_free(&b);
			return -1;
		}
		if (take(t, &p) < 0) {
			buf_free(&b);
			return fail(a, ENOMEM, "out of memory");
		}
	}
	buf_free(&b);
	return 0;
}

static int
read_host(struct ipalloc *a, struct taken *t)
{
	struct nl_addr_info *ad = NULL;
	struct nl_route_info *rt = NULL;
	size_t na = 0, nr = 0, i;
	struct nl_err err;
	char e[300];
	int r = 0;

	if (!a->nl)
		return 0;
	if (nl_addr_dump(a->nl, AF_INET, &ad, &na, &err) < 0 ||
	    nl_route_dump(a->nl, AF_INET, 0, &rt, &nr, &err) < 0) {
		free(ad);
		return fail(a, err.errnum, "reading the host's addresses: %s", nl_strerror(&err, e, sizeof(e)));
	}
	for (i = 0; i < na && r == 0; i++)
		r = take(t, &ad[i].addr);
	/* A default route overlaps everything and says nothing. */
	for (i = 0; i < nr && r == 0; i++)
		if (rt[i].dst.plen > 0)
			r = take(t, &rt[i].dst);
	free(ad);
	free(rt);
	return r < 0 ? fail(a, ENOMEM, "out of memory") : 0;
}

static int
free_24(const struct taken *t, uint32_t net)
{
	struct ipaddr c;
	size_t i;

	ipaddr_set_v4(&c, net, 24);
	for (i = 0; i < t->n; i++)
		if (ipaddr_overlap(&c, &t->p[i]))
			return 0;
	return 1;
}

int
ipalloc_subnet(struct ipalloc *a, const char *name, struct ipalloc_subnet *out)
{
	static const struct {
		uint32_t base;
		int plen;
	} pools[] = {
		{ 0xc0a80000, 16 },	/* 192.168.0.0/16 */
		{ 0xac100000, 12 },	/* 172.16.0.0/12 */
		{ 0x0a000000, 8 },	/* 10.0.0.0/8 */
	};
	struct ipalloc_subnet *all = NULL;
	struct taken t = { NULL, 0, 0 };
	size_t n = 0, i;
	int fd, r = -1, found = 0;

	if (!ipalloc_valid_name(name))
		return fail(a, EINVAL, "%s: invalid name (letters, digits, '-', '_', '.')", name);
	fd = lock_dir(a);
	if (fd < 0)
		return -1;
	r = subnet_read(a, name, out);
	if (r != 0) {
		r = r < 0 ? -1 : 0;
		goto out;
	}
	r = -1;
	if (list_unlocked(a, &all, &n) < 0 || read_reserved(a, &t) < 0 || read_host(a, &t) < 0)
		goto out;
	for (i = 0; i < n; i++)
		if (take(&t, &all[i].v4) < 0) {
			fail(a, ENOMEM, "out of memory");
			goto out;
		}
	for (i = 0; i < sizeof(pools) / sizeof(pools[0]) && !found; i++) {
		uint32_t count = 1u << (24 - pools[i].plen), k;

		for (k = 0; k < count; k++) {
			uint32_t net = pools[i].base + (k << 8);

			if (free_24(&t, net)) {
				memset(out, 0, sizeof(*out));
				str_copy(out->name, name, sizeof(out->name));
				ipaddr_set_v4(&out->v4, net, 24);
				complete(a, out);
				found = 1;
				break;
			}
		}
	}
	if (!found) {
		fail(a, ENOSPC, "no free /24 left in 192.168.0.0/16, 172.16.0.0/12 or 10.0.0.0/8");
		goto out;
	}
	r = subnet_write(a, out) < 0 ? -1 : 1;
out:
	free(t.p);
	free(all);
	fs_unlock(fd);
	return r;
}

/* ---- leases ---- */

static int
leases_read(struct ipalloc *a, const struct ipalloc_subnet *s, struct ipalloc_lease **out,
	    size_t *n)
{
	struct buf b = BUF_INIT;
	struct ipalloc_lease *v = NULL, *nv;
	size_t cnt = 0, cap = 0;
	char p[4096], *line, *save = NULL;
	int lineno = 0;

	*out = NULL;
	*n = 0;
	path_of(a, s->name, ".leases", p, sizeof(p));
	if (fs_read_file(p, &b, 1 << 20) < 0) {
		buf_free(&b);
		return errno == ENOENT ? 0 : fail(a, errno, "%s: %s", p, strerror(errno));
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *f[3];

		lineno++;
		if (str_split(line, " \t", f, 3) != 2 || !ipalloc_valid_name(f[0]))
			goto bad;
		if (cnt == cap) {
			nv = realloc(v, (cap = cap ? cap * 2 : 16) * sizeof(*v));
			if (!nv)
				goto nomem;
			v = nv;
		}
		memset(&v[cnt], 0, sizeof(v[cnt]));
		str_copy(v[cnt].guest, f[0], sizeof(v[cnt].guest));
		if (ipaddr_parse(f[1], AF_INET, &v[cnt].v4) < 0 || !ipaddr_contains(&s->v4, &v[cnt].v4))
			goto bad;
		v[cnt].v4.plen = 24;
		if (a->host && ipalloc_ula_addr(a->host, s->name, f[0], &v[cnt].v6) < 0)
			memset(&v[cnt].v6, 0, sizeof(v[cnt].v6));
		cnt++;
	}
	buf_free(&b);
	*out = v;
	*n = cnt;
	return 0;
bad:
	free(v);
	buf_free(&b);
	return fail(a, EINVAL, "%s:%d: expected \"GUEST ADDRESS\" inside %s", p, lineno, "the subnet");
nomem:
	free(v);
	buf_free(&b);
	return fail(a, ENOMEM, "out of memory");
}

static int
leases_write(struct ipalloc *a, const char *subnet, const struct ipalloc_lease *v, size_t n)
{
	struct buf b = BUF_INIT;
	char p[4096], s[IPADDR_STRLEN];
	size_t i;
	int r;

	if (a->dry)
		return 0;
	for (i = 0; i < n; i++)
		buf_addf(&b, "%s %s\n", v[i].guest, ipaddr_str_addr(&v[i].v4, s));
	path_of(a, subnet, ".leases", p, sizeof(p));
	r = buf_err(&b) < 0 ? -1 : fs_write_atomic(p, b.data ? b.data : "", b.len, 0644);
	buf_free(&b);
	return r < 0 ? fail(a, errno, "%s: %s", p, strerror(errno)) : 0;
}

static int
subnet_known(struct ipalloc *a, const char *subnet, struct ipalloc_subnet *s)
{
	int r;

	if (!ipalloc_valid_name(subnet))
		return fail(a, EINVAL, "%s: invalid subnet name", subnet);
	r = subnet_read(a, subnet, s);
	if (r == 0)
		return fail(a, ENOENT, "%s: no such subnet (lab net alloc subnet %s)", subnet, subnet);
	return r < 0 ? -1 : 0;
}

int
ipalloc_lease(struct ipalloc *a, const char *subnet, const char *guest, struct ipalloc_lease *out)
{
	struct ipalloc_subnet s;
	struct ipalloc_lease *v = NULL, *nv;
	uint8_t used[256] = { 0 };
	size_t n = 0, i;
	int fd, r = -1, host;

	if (!ipalloc_valid_name(guest))
		return fail(a, EINVAL, "%s: invalid guest name", guest);
	fd = lock_dir(a);
	if (fd < 0)
		return -1;
	if (subnet_known(a, subnet, &s) < 0 || leases_read(a, &s, &v, &n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!strcmp(v[i].guest, guest)) {
			*out = v[i];
			r = 0;
			goto out;
		}
		used[v[i].v4.a[3]] = 1;
	}
	for (host = 2; host < 255 && used[host]; host++)
		;
	if (host == 255) {
		fail(a, ENOSPC, "%s: all 253 guest addresses are leased", subnet);
		goto out;
	}
	nv = realloc(v, (n + 1) * sizeof(*v));
	if (!nv) {
		fail(a, ENOMEM, "out of memory");
		goto out;
	}
	v = nv;
	memset(&v[n], 0, sizeof(v[n]));
	str_copy(v[n].guest, guest, sizeof(v[n].guest));
	v[n].v4 = s.v4;
	v[n].v4.a[3] = (uint8_t)host;
	if (a->host && ipalloc_ula_addr(a->host, subnet, guest, &v[n].v6) < 0)
		memset(&v[n].v6, 0, sizeof(v[n].v6));
	*out = v[n];
	r = leases_write(a, subnet, v, n + 1) < 0 ? -1 : 1;
out:
	free(v);
	fs_unlock(fd);
	return r;
}

int
ipalloc_release(struct ipalloc *a, const char *subnet, const char *guest)
{
	struct ipalloc_subnet s;
	struct ipalloc_lease *v = NULL;
	size_t n = 0, i, o = 0;
	char p[4096];
	int fd, r = -1, found = 0;
	static const char *const exts[] = { ".leases", ".json", ".env" };

	fd = lock_dir(a);
	if (fd < 0)
		return -1;
	if (subnet_known(a, subnet, &s) < 0)
		goto out;
	if (!guest) {
		/* The .env goes last: it is what makes the subnet exist. */
		for (i = 0; i < 3 && !a->dry; i++) {
			path_of(a, subnet, exts[i], p, sizeof(p));
			if (unlink(p) < 0 && errno != ENOENT) {
				fail(a, errno, "%s: %s", p, strerror(errno));
				goto out;
			}
		}
		r = 0;
		goto out;
	}
	if (leases_read(a, &s, &v, &n) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if (!strcmp(v[i].guest, guest))
			found = 1;
		else
			v[o++] = v[i];
	}
	if (!found) {
		fail(a, ENOENT, "%s: no lease in %s", guest, subnet);
		goto out;
	}
	r = leases_write(a, subnet, v, o);
out:
	free(v);
	fs_unlock(fd);
	return r;
}

int
ipalloc_lease_list(struct ipalloc *a, const char *subnet, struct ipalloc_lease **out, size_t *n)
{
	struct ipalloc_subnet s;
	int fd = lock_dir(a), r = -1;

	if (fd < 0)
		return -1;
	if (subnet_known(a, subnet, &s) == 0)
		r = leases_read(a, &s, out, n);
	fs_unlock(fd);
	return r;
}
