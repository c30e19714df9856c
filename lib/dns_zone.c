/* Zone data, zone files and the journal. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "dns_zone.h"
#include "fs.h"
#include "hash.h"

struct dns_zone *
dns_zone_new(const struct dns_name *origin)
{
	struct dns_zone *z = calloc(1, sizeof(*z));

	if (!z)
		return NULL;
	z->origin = *origin;
	dns_name_lower(&z->origin);
	z->nbuckets = 64;
	z->tab = calloc(z->nbuckets, sizeof(*z->tab));
	if (!z->tab) {
		free(z);
		return NULL;
	}
	rand_bytes(&z->seed, sizeof(z->seed));
	return z;
}

static void
free_sets(struct dns_rrset *s)
{
	while (s) {
		struct dns_rrset *next = s->next;
		struct dns_rdata *r = s->rd;

		while (r) {
			struct dns_rdata *rn = r->next;

			free(r);
			r = rn;
		}
		free(s);
		s = next;
	}
}

void
dns_zone_free(struct dns_zone *z)
{
	size_t i;

	if (!z)
		return;
	for (i = 0; i < z->nbuckets; i++) {
		struct dns_node *n = z->tab[i];

		while (n) {
			struct dns_node *next = n->hnext;

			free_sets(n->sets);
			free(n);
			n = next;
		}
	}
	free(z->tab);
	free(z);
}

static size_t
bucket(const struct dns_zone *z, const struct dns_name *n)
{
	return dns_name_hash(n, z->seed) & (z->nbuckets - 1);
}

struct dns_node *
dns_zone_find(const struct dns_zone *z, const struct dns_name *name)
{
	struct dns_node *n;

	for (n = z->tab[bucket(z, name)]; n; n = n->hnext)
		if (dns_name_equal(dns_node_name(n), name))
			return n;
	return NULL;
}

struct dns_rrset *
dns_node_rrset(const struct dns_node *n, uint16_t type)
{
	struct dns_rrset *s;

	for (s = n ? n->sets : NULL; s; s = s->next)
		if (s->type == type)
			return s;
	return NULL;
}

int
dns_node_exists(const struct dns_node *n)
{
	return n && (n->sets || n->below);
}

static int
grow(struct dns_zone *z)
{
	size_t nb = z->nbuckets * 2, i;
	struct dns_node **t = calloc(nb, sizeof(*t));

	if (!t)
		return -1;
	for (i = 0; i < z->nbuckets; i++) {
		struct dns_node *n = z->tab[i];

		while (n) {
			struct dns_node *next = n->hnext;
			size_t b = dns_name_hash(dns_node_name(n), z->seed) & (nb - 1);

			n->hnext = t[b];
			t[b] = n;
			n = next;
		}
	}
	free(z->tab);
	z->tab = t;
	z->nbuckets = nb;
	return 0;
}

/* The node of name, made (with its ancestors up to the apex) if missing. */
static struct dns_node *
node_get(struct dns_zone *z, const struct dns_name *name)
{
	struct dns_node *n = dns_zone_find(z, name), *parent = NULL;
	struct dns_name lname;
	size_t b;

	if (n)
		return n;
	lname = *name;
	dns_name_lower(&lname);
	if (!dns_name_equal(&lname, &z->origin)) {
		struct dns_name up;

		dns_name_parent(&lname, &up);
		parent = node_get(z, &up);
		if (!parent)
			return NULL;
	}
	if (z->nnodes >= z->nbuckets * 2 && grow(z) < 0)
		return NULL;
	n = calloc(1, sizeof(*n) + lname.len);
	if (!n)
		return NULL;
	n->name_len = lname.len;
	memcpy(n->name_data, lname.data, lname.len);
	n->parent = parent;
	b = bucket(z, &lname);
	n->hnext = z->tab[b];
	z->tab[b] = n;
	z->nnodes++;
	if (!parent)
		z->apex = n;
	return n;
}

static void
node_unlink(struct dns_zone *z, struct dns_node *n)
{
	struct dns_node **pp = &z->tab[bucket(z, dns_node_name(n))];

	while (*pp && *pp != n)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = n->hnext;
	z->nnodes--;
	if (z->apex == n)
		z->apex = NULL;
	free(n);
}

/* A node gained its first RRset, or lost its last: tell its ancestors,
 * and drop nodes that no longer exist. */
static void
node_changed(struct dns_zone *z, struct dns_node *n, int gained)
{
	struct dns_node *p;

	for (p = n->parent; p; p = p->parent) {
		if (gained)
			p->below++;
		else
			p->below--;
	}
	if (gained)
		return;
	while (n && !n->sets && !n->below && n->parent) {
		p = n->parent;
		node_unlink(z, n);
		n = p;
	}
}

int
dns_zone_add(struct dns_zone *z, const struct dns_name *name, uint16_t type, uint32_t ttl,
	     const uint8_t *rd, uint16_t len)
{
	struct dns_node *n;
	struct dns_rrset *s;
	struct dns_rdata *r, **tail;
	int had;

	if (!dns_name_is_sub(name, &z->origin) || type == DNS_T_ANY || type == DNS_T_OPT ||
	    type == DNS_T_TSIG || (type == DNS_T_SOA && !dns_name_equal(name, &z->origin))) {
		errno = EINVAL;
		return -1;
	}
	n = node_get(z, name);
	if (!n)
		return -1;
	/* CNAME and other data do not mix (RFC 1034 3.6.2). */
	for (s = n->sets; s; s = s->next)
		if ((type == DNS_T_CNAME) != (s->type == DNS_T_CNAME)) {
			errno = EEXIST;
			return -1;
		}
	had = n->sets != NULL;
	s = dns_node_rrset(n, type);
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->type = type;
		s->next = n->sets;
		n->sets = s;
	}
	s->ttl = ttl;
	/* SOA and CNAME are singletons: a new one replaces the old. */
	if ((type == DNS_T_SOA || type == DNS_T_CNAME) && s->rd &&
	    !(s->rd->len == len && !memcmp(s->rd->data, rd, len))) {
		z->nrecords -= s->n;
		while (s->rd) {
			r = s->rd->next;
			free(s->rd);
			s->rd = r;
		}
		s->n = 0;
	}
	for (tail = &s->rd; *tail; tail = &(*tail)->next)
		if ((*tail)->len == len && !memcmp((*tail)->data, rd, len))
			return 0;	/* the same record: nothing to do */
	r = malloc(sizeof(*r) + len);
	if (!r)
		return -1;
	r->next = NULL;
	r->len = len;
	memcpy(r->data, rd, len);
	*tail = r;
	s->n++;
	z->nrecords++;
	if (!had)
		node_changed(z, n, 1);
	return 1;
}

static int
del_set(struct dns_zone *z, struct dns_node *n, struct dns_rrset *s)
{
	struct dns_rrset **pp = &n->sets;
	int c = (int)s->n;

	while (*pp != s)
		pp = &(*pp)->next;
	*pp = s->next;
	s->next = NULL;
	z->nrecords -= s->n;
	free_sets(s);
	return c;
}

int
dns_zone_del(struct dns_zone *z, const struct dns_name *name, uint16_t type, const uint8_t *rd,
	     uint16_t len)
{
	struct dns_node *n = dns_zone_find(z, name);
	struct dns_rrset *s, *next;
	int apex, c = 0;

	if (!n || !n->sets)
		return 0;
	apex = n == z->apex;
	if (type == DNS_T_ANY) {
		for (s = n->sets; s; s = next) {
			next = s->next;
			if (apex && (s->type == DNS_T_SOA || s->type == DNS_T_NS))
				continue;
			c += del_set(z, n, s);
		}
	} else {
		s = dns_node_rrset(n, type);
		if (!s)
			return 0;
		if (!rd) {
			if (apex && (type == DNS_T_SOA || type == DNS_T_NS))
				return 0;
			c = del_set(z, n, s);
		} else {
			struct dns_rdata **pp;

			/* The last NS of the apex and its SOA stay. */
			if (apex && (type == DNS_T_SOA || (type == DNS_T_NS && s->n == 1)))
				return 0;
			for (pp = &s->rd; *pp; pp = &(*pp)->next) {
				struct dns_rdata *r = *pp;

				if (r->len == len && !memcmp(r->data, rd, len)) {
					*pp = r->next;
					free(r);
					s->n--;
					z->nrecords--;
					c = 1;
					break;
				}
			}
			if (s->n == 0)
				del_set(z, n, s);
		}
	}
	if (!n->sets)
		node_changed(z, n, 0);
	return c;
}

const struct dns_rdata *
dns_zone_soa(const struct dns_zone *z, uint32_t *ttl)
{
	struct dns_rrset *s = z->apex ? dns_node_rrset(z->apex, DNS_T_SOA) : NULL;

	if (!s || !s->rd)
		return NULL;
	if (ttl)
		*ttl = s->ttl;
	return s->rd;
}

/* The serial is 20 bytes from the end of the SOA rdata. */
uint32_t
dns_zone_serial(const struct dns_zone *z)
{
	const struct dns_rdata *r = dns_zone_soa(z, NULL);
	const uint8_t *p;

	if (!r || r->len < 20)
		return 0;
	p = r->data + r->len - 20;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int
dns_zone_bump_serial(struct dns_zone *z)
{
	struct dns_rrset *s = z->apex ? dns_node_rrset(z->apex, DNS_T_SOA) : NULL;
	uint32_t v, now = (uint32_t)time(NULL);
	uint8_t *p;

	if (!s || !s->rd || s->rd->len < 20)
		return -1;
	v = dns_zone_serial(z) + 1;
	/* Serial arithmetic (RFC 1982): move to the clock only when it is ahead. */
	if ((int32_t)(now - v) > 0)
		v = now;
	p = s->rd->data + s->rd->len - 20;
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return 0;
}

int
dns_zone_default_soa(struct dns_zone *z, const struct dns_name *ns, uint32_t ttl)
{
	uint8_t rd[DNS_NAME_MAX * 2 + 20], *p;
	struct dns_name host, mail;
	uint32_t v[5] = { (uint32_t)time(NULL), 3600, 600, 604800, 60 };
	int i;

	if (!dns_zone_soa(z, NULL)) {
		if (ns)
			host = *ns;
		else if (dns_name_prepend(&host, "ns", 2, &z->origin) < 0)
			return -1;
		if (dns_name_prepend(&mail, "hostmaster", 10, &z->origin) < 0)
			return -1;
		memcpy(rd, host.data, host.len);
		memcpy(rd + host.len, mail.data, mail.len);
		p = rd + host.len + mail.len;
		for (i = 0; i < 5; i++, p += 4) {
			p[0] = (uint8_t)(v[i] >> 24);
			p[1] = (uint8_t)(v[i] >> 16);
			p[2] = (uint8_t)(v[i] >> 8);
			p[3] = (uint8_t)v[i];
		}
		if (dns_zone_add(z, &z->origin, DNS_T_SOA, ttl, rd, (uint16_t)(p - rd)) < 0)
			return -1;
	}
	if (!dns_node_rrset(z->apex, DNS_T_NS)) {
		if (ns)
			host = *ns;
		else if (dns_name_prepend(&host, "ns", 2, &z->origin) < 0)
			return -1;
		if (dns_zone_add(z, &z->origin, DNS_T_NS, ttl, host.data, host.len) < 0)
			return -1;
	}
	return 0;
}

/* ---- master files ---- */

void
dns_rr_print(struct buf *out, const struct dns_name *name, uint32_t ttl, uint16_t type,
	     const uint8_t *rd, uint16_t len)
{
	char t[DNS_NAME_TEXT], tb[16];

	buf_addf(out, "%s %u IN %s ", dns_name_to_text(name, t), ttl, dns_type_name(type, tb));
	dns_rdata_to_text(type, rd, len, out);
}

/* Canonical order (RFC 4034 6.1): by labels from the right, bytes compared. */
static int
canon_cmp(const struct dns_name *a, const struct dns_name *b)
{
	const uint8_t *la[128], *lb[128];
	int na = 0, nb = 0;
	size_t i;

	for (i = 0; i < a->len && a->data[i] && na < 128; i += 1 + a->data[i])
		la[na++] = a->data + i;
	for (i = 0; i < b->len && b->data[i] && nb < 128; i += 1 + b->data[i])
		lb[nb++] = b->data + i;
	while (na && nb) {
		const uint8_t *x = la[--na], *y = lb[--nb];
		size_t n = x[0] < y[0] ? x[0] : y[0];
		int c = memcmp(x + 1, y + 1, n);

		if (c)
			return c;
		if (x[0] != y[0])
			return x[0] - y[0];
	}
	return na - nb;
}

static int
cmp_nodes(const void *x, const void *y)
{
	return canon_cmp(dns_node_name(*(struct dns_node *const *)x), dns_node_name(*(struct dns_node *const *)y));
}

static int
type_order(uint16_t t)
{
	return t == DNS_T_SOA ? -2 : t == DNS_T_NS ? -1 : t;
}

int
dns_zone_print(const struct dns_zone *z, struct buf *out)
{
	struct dns_node **v;
	size_t i, k = 0;

	v = malloc((z->nnodes ? z->nnodes : 1) * sizeof(*v));
	if (!v)
		return -1;
	for (i = 0; i < z->nbuckets; i++) {
		struct dns_node *n;

		for (n = z->tab[i]; n; n = n->hnext)
			if (n->sets)
				v[k++] = n;
	}
	qsort(v, k, sizeof(*v), cmp_nodes);
	for (i = 0; i < k; i++) {
		struct dns_rrset *sets[64], *s;
		size_t ns = 0, a, b;

		for (s = v[i]->sets; s && ns < 64; s = s->next)
			sets[ns++] = s;
		/* SOA, NS first; then by type number */
		for (a = 1; a < ns; a++)
			for (b = a; b > 0 && type_order(sets[b - 1]->type) > type_order(sets[b]->type); b--) {
				s = sets[b];
				sets[b] = sets[b - 1];
				sets[b - 1] = s;
			}
		for (a = 0; a < ns; a++) {
			struct dns_rdata *r;

			for (r = sets[a]->rd; r; r = r->next) {
				dns_rr_print(out, dns_node_name(v[i]), sets[a]->ttl, sets[a]->type, r->data, r->len);
				buf_addc(out, '\n');
			}
		}
	}
	free(v);
	return buf_err(out);
}

/* Join a master file into logical lines: parentheses continue a line,
 * ';' comments end one (outside quotes). Returns the next logical line in
 * out, its first physical line in *lineno; 0 at the end, -1 on error. */
struct lexer {
	const char *p, *end;
	int line;
};

static int
next_line(struct lexer *lx, struct buf *out, int *lineno, int *indented, const char **why)
{
	int depth = 0, quote = 0;

	buf_reset(out);
	while (lx->p < lx->end) {
		*lineno = lx->line;
		*indented = *lx->p == ' ' || *lx->p == '\t';
		while (lx->p < lx->end) {
			char c = *lx->p++;

			if (c == '\0') {
				*why = "NUL byte";
				return -1;
			}
			if (quote) {
				if (c == '\\' && lx->p < lx->end) {
					buf_addc(out, c);
					c = *lx->p++;
				} else if (c == '"') {
					quote = 0;
				} else if (c == '\n') {
					*why = "unterminated quote";
					return -1;
				}
				buf_addc(out, c);
				continue;
			}
			if (c == '"') {
				quote = 1;
				buf_addc(out, c);
			} else if (c == ';') {
				while (lx->p < lx->end && *lx->p != '\n')
					lx->p++;
			} else if (c == '(') {
				depth++;
				buf_addc(out, ' ');
			} else if (c == ')') {
				if (--depth < 0) {
					*why = "unbalanced ')'";
					return -1;
				}
				buf_addc(out, ' ');
			} else if (c == '\n') {
				lx->line++;
				if (depth == 0)
					break;
				buf_addc(out, ' ');
			} else {
				/* An escape stays for the name and string parsers;
				 * the escaped byte is never a delimiter here. */
				buf_addc(out, c);
				if (c == '\\' && lx->p < lx->end && *lx->p != '\n')
					buf_addc(out, *lx->p++);
				continue;
			}
		}
		if (depth > 0) {
			*why = "unbalanced '('";
			return -1;
		}
		if (out->len && *str_trim(out->data))
			return 1;
		buf_reset(out);
	}
	return 0;
}

static int
parse_ttl(const char *s, uint32_t *out)
{
	uint64_t total = 0, v = 0;
	int digits = 0;

	if (!isdigit((unsigned char)*s))
		return -1;
	for (; *s; s++) {
		if (isdigit((unsigned char)*s)) {
			v = v * 10 + (uint64_t)(*s - '0');
			digits = 1;
			if (v > 0x7fffffff)
				return -1;
			continue;
		}
		if (!digits)
			return -1;
		switch (*s | 0x20) {
		case 's': break;
		case 'm': v *= 60; break;
		case 'h': v *= 3600; break;
		case 'd': v *= 86400; break;
		case 'w': v *= 604800; break;
		default: return -1;
		}
		total += v;
		v = 0;
		digits = 0;
	}
	total += v;
	if (total > 0x7fffffff)
		return -1;
	*out = (uint32_t)total;
	return 0;
}

int
dns_zone_parse(struct dns_zone *z, const char *file, const char *text, size_t len,
	       struct conf_err *err)
{
	struct lexer lx = { text, text + len, 1 };
	struct buf line = BUF_INIT;
	struct dns_name origin = z->origin, owner = z->origin;
	uint32_t defttl = 3600;
	int lineno = 0, indented = 0, have_owner = 0, r;
	const char *why = NULL;

	while ((r = next_line(&lx, &line, &lineno, &indented, &why)) > 0) {
		char *w[256], tb[16], e[128];
		uint8_t rd[65535];
		size_t rdlen;
		int n = dns_text_split(line.data, w, 256), i = 0;
		uint32_t ttl = defttl, v;
		uint16_t type;
		int ttl_set = 0;

		if (n < 0) {
			conf_errf(err, file, lineno, errno == E2BIG ? "more than 256 fields" :
							    "unterminated quote");
			goto fail;
		}
		if (n == 0)
			continue;
		if (w[0][0] == '$') {
			if (!strcasecmp(w[0], "$ORIGIN") && n == 2) {
				if (dns_name_from_text(&origin, w[1], &origin) < 0) {
					conf_errf(err, file, lineno, "$ORIGIN %.64s: bad name", w[1]);
					goto fail;
				}
			} else if (!strcasecmp(w[0], "$TTL") && n == 2) {
				if (parse_ttl(w[1], &defttl) < 0) {
					conf_errf(err, file, lineno, "$TTL %.32s: bad TTL", w[1]);
					goto fail;
				}
			} else {
				conf_errf(err, file, lineno, "%.32s: unsupported directive", w[0]);
				goto fail;
			}
			continue;
		}
		if (!indented) {
			if (dns_name_from_text(&owner, w[0], &origin) < 0) {
				conf_errf(err, file, lineno, "%.64s: bad owner name", w[0]);
				goto fail;
			}
			have_owner = 1;
			i = 1;
		} else if (!have_owner) {
			owner = origin;
			have_owner = 1;
		}
		/* [TTL] [CLASS] TYPE, TTL and class in either order */
		for (;; i++) {
			if (i >= n) {
				conf_errf(err, file, lineno, "missing record type");
				goto fail;
			}
			if (!ttl_set && parse_ttl(w[i], &v) == 0) {
				ttl = v;
				ttl_set = 1;
				continue;
			}
			if (!strcasecmp(w[i], "IN"))
				continue;
			if (!strcasecmp(w[i], "CH") || !strcasecmp(w[i], "HS")) {
				conf_errf(err, file, lineno, "class %s: only IN is served", w[i]);
				goto fail;
			}
			break;
		}
		if (dns_type_from_text(w[i], &type) < 0) {
			conf_errf(err, file, lineno, "%.32s: unknown record type", w[i]);
			goto fail;
		}
		if (dns_rdata_from_text(type, w + i + 1, (size_t)(n - i - 1), &origin, rd, sizeof(rd),
					&rdlen, e, sizeof(e)) < 0) {
			conf_errf(err, file, lineno, "%s", e);
			goto fail;
		}
		if (!dns_name_is_sub(&owner, &z->origin)) {
			char t[DNS_NAME_TEXT];

			conf_errf(err, file, lineno, "%s is outside the zone", dns_name_to_text(&owner, t));
			goto fail;
		}
		if (dns_zone_add(z, &owner, type, ttl, rd, (uint16_t)rdlen) < 0) {
			conf_errf(err, file, lineno, errno == EEXIST ?
				  "%s: a CNAME cannot share its name with other data" :
				  "%s: cannot add this record", dns_type_name(type, tb));
			goto fail;
		}
	}
	if (r < 0) {
		conf_errf(err, file, lineno, "%s", why);
		goto fail;
	}
	buf_free(&line);
	return 0;
fail:
	buf_free(&line);
	errno = EINVAL;
	return -1;
}

int
dns_zone_load(struct dns_zone *z, const char *path, struct conf_err *err)
{
	struct buf b = BUF_INIT;
	int r;

	if (fs_read_file(path, &b, 256u << 20) < 0) {
		int saved = errno;

		conf_errf(err, path, 0, "%s", strerror(saved));
		buf_free(&b);
		errno = saved;
		return -1;
	}
	r = dns_zone_parse(z, path, b.data ? b.data : "", b.len, err);
	buf_free(&b);
	return r;
}

/* ---- journal ---- */

int
dns_journal_append(struct dns_zone *z, const char *lines, size_t len)
{
	int fd, r;

	if (!z->journal[0] || len == 0)
		return 0;
	fd = open(z->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	r = fs_write_full(fd, lines, len);
	if (r == 0)
		r = fdatasync(fd);
	close(fd);
	if (r == 0)
		z->journal_lines++;
	return r;
}

int
dns_journal_replay(struct dns_zone *z, struct conf_err *err)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;
	int lineno = 0;

	if (!z->journal[0])
		return 0;
	if (fs_read_file(z->journal, &b, 256u << 20) < 0) {
		buf_free(&b);
		if (errno == ENOENT)
			return 0;
		return conf_errf(err, z->journal, 0, "%s", strerror(errno));
	}
	z->journal_lines = 0;
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[256], e[128];
		struct dns_name name;
		uint8_t rd[65535];
		size_t rdlen = 0;
		uint32_t ttl = 0;
		uint16_t type;
		int n = dns_text_split(line, w, 256), i = 2;

		lineno++;
		z->journal_lines++;
		if (n < 3 || strlen(w[0]) != 1 || dns_name_from_text(&name, w[1], NULL) < 0)
			goto bad;
		if (w[0][0] == '+' || w[0][0] == '=') {
			if (parse_ttl(w[2], &ttl) < 0)
				goto bad;
			i = 3;
			if (i < n && !strcasecmp(w[i], "IN"))
				i++;
		}
		if (i >= n || dns_type_from_text(w[i], &type) < 0)
			goto bad;
		if (n > i + 1 && dns_rdata_from_text(type, w + i + 1, (size_t)(n - i - 1), NULL, rd,
						     sizeof(rd), &rdlen, e, sizeof(e)) < 0)
			goto bad;
		switch (w[0][0]) {
		case '=':
			dns_zone_del(z, &name, type, NULL, 0);
			if (type == DNS_T_SOA) {
				struct dns_rrset *s = dns_node_rrset(z->apex, DNS_T_SOA);

				/* the SOA is kept by del: replace its rdata in place */
				if (s && s->rd && s->rd->len == rdlen) {
					memcpy(s->rd->data, rd, rdlen);
					s->ttl = ttl;
					break;
				}
			}
			/* fall through */
		case '+':
			if (dns_zone_add(z, &name, type, ttl, rd, (uint16_t)rdlen) < 0 && errno != EEXIST)
				goto bad;
			break;
		case '-':
			dns_zone_del(z, &name, type, n > i + 1 ? rd : NULL, (uint16_t)rdlen);
			break;
		default:
			goto bad;
		}
	}
	buf_free(&b);
	return 0;
bad:
	buf_free(&b);
	return conf_errf(err, z->journal, lineno, "malformed journal line");
}

/* Every record of a zone, for the difference between two zones. */
static int
has_record(const struct dns_zone *z, const struct dns_name *name, uint16_t type,
	   const struct dns_rdata *rd, uint32_t ttl)
{
	struct dns_rrset *s = dns_node_rrset(dns_zone_find(z, name), type);
	struct dns_rdata *r;

	if (!s || s->ttl != ttl)
		return 0;
	for (r = s->rd; r; r = r->next)
		if (r->len == rd->len && !memcmp(r->data, rd->data, rd->len))
			return 1;
	return 0;
}

static void
diff(struct buf *out, const struct dns_zone *a, const struct dns_zone *b, char op)
{
	size_t i;

	for (i = 0; i < a->nbuckets; i++) {
		struct dns_node *n;

		for (n = a->tab[i]; n; n = n->hnext) {
			struct dns_rrset *s;

			for (s = n->sets; s; s = s->next) {
				struct dns_rdata *r;

				if (s->type == DNS_T_SOA)
					continue;
				for (r = s->rd; r; r = r->next) {
					if (has_record(b, dns_node_name(n), s->type, r, s->ttl))
						continue;
					if (op == '+') {
						buf_adds(out, "+ ");
						dns_rr_print(out, dns_node_name(n), s->ttl, s->type, r->data, r->len);
					} else {
						char t[DNS_NAME_TEXT], tb[16];

						buf_addf(out, "- %s %s ", dns_name_to_text(dns_node_name(n), t),
							 dns_type_name(s->type, tb));
						dns_rdata_to_text(s->type, r->data, r->len, out);
					}
					buf_addc(out, '\n');
				}
			}
		}
	}
}

int
dns_journal_compact(struct dns_zone *z)
{
	struct dns_zone *base;
	struct conf_err err;
	struct buf out = BUF_INIT;
	uint32_t ttl;
	const struct dns_rdata *soa;
	int r;

	if (!z->journal[0])
		return 0;
	base = dns_zone_new(&z->origin);
	if (!base)
		return -1;
	if (z->file[0] && dns_zone_load(base, z->file, &err) < 0) {
		dns_zone_free(base);
		return -1;
	}
	/* Records gone since the file, records added, and the SOA as it is. */
	diff(&out, base, z, '-');
	diff(&out, z, base, '+');
	soa = dns_zone_soa(z, &ttl);
	if (soa) {
		buf_adds(&out, "= ");
		dns_rr_print(&out, &z->origin, ttl, DNS_T_SOA, soa->data, soa->len);
		buf_addc(&out, '\n');
	}
	dns_zone_free(base);
	r = buf_err(&out) < 0 ? -1 : fs_write_atomic(z->journal, out.data ? out.data : "", out.len, 0600);
	buf_free(&out);
	if (r == 0)
		z->journal_lines = 0;
	return r;
}
