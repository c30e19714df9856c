/* lab dns configuration and building the server from it. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dns_conf.h"
#include "fs.h"
#include "ipaddr.h"

static const struct conf_key_spec server_keys[] = {
	{ "listen", CONF_STR, CONF_MULTI, 0, 0 },
	{ "domain", CONF_STR, 0, 0, 0 },
	{ "host", CONF_STR, 0, 0, 0 },
	{ "address", CONF_STR, CONF_MULTI, 0, 0 },
	{ "parent", CONF_STR, CONF_MULTI, 0, 0 },
	{ "recurse", CONF_BOOL, 0, 0, 0 },
	{ "upstream", CONF_STR, CONF_MULTI, 0, 0 },
	{ "key", CONF_STR, CONF_MULTI, 0, 0 },
	{ "state", CONF_STR, 0, 0, 0 },
	{ "user", CONF_STR, 0, 0, 0 },
	{ "edns-size", CONF_INT, 0, 512, 65535 },
	{ "cache-size", CONF_INT, 0, 0, 10000000 },
	{ "tcp-idle", CONF_MSEC, 0, 0, 0 },
	{ "tcp-clients", CONF_INT, 0, 1, 100000 },
	{ "udp-workers", CONF_INT, 0, 0, 64 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec zone_keys[] = {
	{ "file", CONF_STR, 0, 0, 0 },
	{ "dynamic", CONF_BOOL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec iface_keys[] = {
	{ "subnet", CONF_STR, CONF_MULTI, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec deleg_keys[] = {
	{ "ns", CONF_STR, CONF_MULTI, 0, 0 },
	{ "address", CONF_STR, CONF_MULTI, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec dhcp_keys[] = {
	{ "range", CONF_STR, 0, 0, 0 },
	{ "router", CONF_STR, 0, 0, 0 },
	{ "dns", CONF_STR, 0, 0, 0 },
	{ "domain", CONF_STR, 0, 0, 0 },
	{ "lease", CONF_MSEC, 0, 0, 0 },
	{ "static", CONF_STR, CONF_MULTI, 0, 0 },
	{ "route", CONF_STR, CONF_MULTI, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec ra_keys[] = {
	{ "prefix", CONF_STR, CONF_MULTI, 0, 0 },
	{ "rdnss", CONF_STR, CONF_MULTI, 0, 0 },
	{ "dnssl", CONF_STR, CONF_MULTI, 0, 0 },
	{ "interval", CONF_MSEC, 0, 0, 0 },
	{ "lifetime", CONF_MSEC, 0, 0, 0 },
	{ "mtu", CONF_INT, 0, 1280, 65535 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec mdns_keys[] = {
	{ "service", CONF_STR, CONF_MULTI, 0, 0 },
	{ "name", CONF_STR, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec schema[] = {
	{ "server", CONF_NOARG, server_keys },
	{ "dhcp", CONF_ARG | CONF_MULTI, dhcp_keys },
	{ "ra", CONF_ARG | CONF_MULTI, ra_keys },
	{ "mdns", CONF_ARG | CONF_MULTI, mdns_keys },
	{ "zone", CONF_ARG | CONF_MULTI, zone_keys },
	{ "interface", CONF_ARG | CONF_MULTI, iface_keys },
	{ "delegate", CONF_ARG | CONF_MULTI, deleg_keys },
	{ NULL, 0, NULL },
};

int
dns_addr_parse(const char *s, uint16_t defport, struct dns_addr *a)
{
	char host[128];
	const char *port = NULL;
	uint32_t p = defport;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&a->sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&a->sa;

	memset(a, 0, sizeof(*a));
	if (*s == '[') {
		const char *e = strchr(s, ']');

		if (!e || (size_t)(e - s - 1) >= sizeof(host))
			goto bad;
		memcpy(host, s + 1, (size_t)(e - s - 1));
		host[e - s - 1] = '\0';
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			goto bad;
	} else {
		const char *c = strchr(s, ':');

		if (c && strchr(c + 1, ':'))
			c = NULL;	/* a bare IPv6 address */
		if (str_copy(host, s, sizeof(host)) >= sizeof(host))
			goto bad;
		if (c) {
			host[c - s] = '\0';
			port = c + 1;
		}
	}
	if (port && (str_to_u32(port, 65535, &p) < 0 || p == 0))
		goto bad;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)p);
		a->len = sizeof(*v4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)p);
		a->len = sizeof(*v6);
		return 0;
	}
bad:
	errno = EINVAL;
	return -1;
}

char *
dns_addr_str(const struct dns_addr *a, char *out, size_t size)
{
	char h[64];

	if (a->sa.ss_family == AF_INET) {
		const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->sa;

		inet_ntop(AF_INET, &v4->sin_addr, h, sizeof(h));
		snprintf(out, size, "%s:%u", h, ntohs(v4->sin_port));
	} else {
		const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->sa;

		inet_ntop(AF_INET6, &v6->sin6_addr, h, sizeof(h));
		snprintf(out, size, "[%s]:%u", h, ntohs(v6->sin6_port));
	}
	return out;
}

static int
addrs(const struct conf *cf, const struct conf_section *s, const char *key, uint16_t port,
      struct dns_addr *out, int *n, struct conf_err *err)
{
	size_t i;

	for (i = 0; s && i < s->nkv; i++) {
		if (strcasecmp(s->kv[i].key, key))
			continue;
		if (*n >= DNS_CONF_MAX_ADDRS)
			return conf_errf(err, cf->file, s->kv[i].line, "%s: at most %d", key,
					 DNS_CONF_MAX_ADDRS);
		if (dns_addr_parse(s->kv[i].val, port, &out[*n]) < 0)
			return conf_errf(err, cf->file, s->kv[i].line,
					 "%s %.64s: expected ADDRESS[:PORT] or [IPV6]:PORT", key, s->kv[i].val);
		(*n)++;
	}
	return 0;
}

/* The nameservers of /etc/resolv.conf, the default upstreams. */
static void
resolv_conf(struct dns_conf *c)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL;

	if (fs_read_file("/etc/resolv.conf", &b, 1 << 16) < 0) {
		buf_free(&b);
		return;
	}
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line && c->nupstream < 4;
	     line = strtok_r(NULL, "\n", &save)) {
		char *w[3];
		int i, self = 0;

		if (str_split(line, " \t", w, 3) < 2 || strcmp(w[0], "nameserver"))
			continue;
		if (dns_addr_parse(w[1], 53, &c->upstream[c->nupstream]) < 0)
			continue;
		/* Never ourselves: that would loop. */
		for (i = 0; i < c->nlisten; i++)
			if (c->listen[i].len == c->upstream[c->nupstream].len &&
			    !memcmp(&c->listen[i].sa, &c->upstream[c->nupstream].sa, c->listen[i].len))
				self = 1;
		if (!self)
			c->nupstream++;
	}
	buf_free(&b);
}

int
dns_conf_load(struct dns_conf *c, const char *path, struct conf_err *err)
{
	const struct conf_section *s;
	const struct conf_kv *kv;
	struct dns_name root;
	const char *v;
	int64_t n;
	size_t i;
	int b;

	memset(c, 0, sizeof(*c));
	if (conf_load(&c->raw, path, 0, err) < 0)
		return -1;
	if (conf_validate(&c->raw, schema, err) < 0)
		goto fail;
	s = conf_section_find(&c->raw, "server", NULL);
	if (addrs(&c->raw, s, "listen", 53, c->listen, &c->nlisten, err) < 0 ||
	    addrs(&c->raw, s, "upstream", 53, c->upstream, &c->nupstream, err) < 0 ||
	    addrs(&c->raw, s, "parent", 53, c->parent, &c->nparent, err) < 0)
		goto fail;
	if (!c->nlisten) {
		dns_addr_parse("127.0.0.1", 53, &c->listen[0]);
		dns_addr_parse("[::1]:53", 53, &c->listen[1]);
		c->nlisten = 2;
	}
	v = conf_get(s, "domain");
	dns_name_from_text(&root, ".", NULL);
	/* "home.arpa" and "home.arpa." are the same absolute name here. */
	if (dns_name_from_text(&c->domain, v ? v : "home.arpa.", &root) < 0) {
		conf_errf(err, c->raw.file, conf_get_kv(s, "domain")->line, "domain %.64s: bad name", v);
		goto fail;
	}
	dns_name_lower(&c->domain);
	v = conf_get(s, "host");
	if (v)
		str_copy(c->host, v, sizeof(c->host));
	else if (gethostname(c->host, sizeof(c->host)) < 0 || !*c->host)
		str_copy(c->host, "localhost", sizeof(c->host));
	c->host[strcspn(c->host, ".")] = '\0';	/* the first label of a FQDN */
	if (dns_name_prepend(&c->host_zone, c->host, strlen(c->host), &c->domain) < 0) {
		conf_errf(err, c->raw.file, v ? conf_get_kv(s, "host")->line : 0, "host %.64s: bad label",
			  c->host);
		goto fail;
	}
	dns_name_lower(&c->host_zone);
	if (conf_get_bool(&c->raw, s, "recurse", 1, &b, err) < 0)
		goto fail;
	c->recurse = b;
	if (conf_get_int(&c->raw, s, "edns-size", 1232, 512, 65535, &n, err) < 0)
		goto fail;
	c->edns_size = (uint16_t)n;
	if (conf_get_int(&c->raw, s, "cache-size", 10000, 0, 10000000, &n, err) < 0)
		goto fail;
	c->cache_size = (uint32_t)n;
	if (conf_get_int(&c->raw, s, "tcp-clients", 128, 1, 100000, &n, err) < 0)
		goto fail;
	c->tcp_clients = (uint32_t)n;
	{
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		if (conf_get_int(&c->raw, s, "udp-workers", cores > 1 ? (cores > 8 ? 8 : cores) : 0, 0,
				 64, &n, err) < 0)
			goto fail;
		c->udp_workers = (unsigned)n;
	}
	c->tcp_idle_ms = 10000;
	if ((kv = conf_get_kv(s, "tcp-idle")))
		str_to_msec(kv->val, &c->tcp_idle_ms);
	str_copy(c->state, (v = conf_get(s, "state")) ? v : "/var/lib/lab/dns", sizeof(c->state));
	/* Root is given up after binding; "user = root" keeps it. */
	str_copy(c->user, (v = conf_get(s, "user")) ? v : "nobody", sizeof(c->user));
	for (i = 0; s && i < s->nkv; i++) {
		if (strcasecmp(s->kv[i].key, "key"))
			continue;
		if (c->nkeys >= 8 || dns_key_parse(s->kv[i].val, &c->keys[c->nkeys]) < 0) {
			conf_errf(err, c->raw.file, s->kv[i].line,
				  "key: expected hmac-sha256:NAME:BASE64SECRET (at most 8 keys)");
			goto fail;
		}
		c->nkeys++;
	}
	for (i = 0; s && i < s->nkv; i++) {
		struct ipaddr ip;

		if (!strcasecmp(s->kv[i].key, "address") &&
		    (ipaddr_parse(s->kv[i].val, AF_UNSPEC, &ip) < 0 || ip.plen >= 0)) {
			conf_errf(err, c->raw.file, s->kv[i].line, "address %.64s: not an IP address",
				  s->kv[i].val);
			goto fail;
		}
	}
	if (!c->nupstream)
		resolv_conf(c);
	return 0;
fail:
	conf_free(&c->raw);
	errno = EINVAL;
	return -1;
}

void
dns_conf_free(struct dns_conf *c)
{
	conf_free(&c->raw);
}

int
dns_conf_print(const struct dns_conf *c, struct buf *out)
{
	char a[128], t[DNS_NAME_TEXT];
	int i;
	size_t k;

	buf_adds(out, "[server]\n");
	for (i = 0; i < c->nlisten; i++)
		buf_addf(out, "listen = %s\n", dns_addr_str(&c->listen[i], a, sizeof(a)));
	buf_addf(out, "domain = %s\n", dns_name_to_text(&c->domain, t));
	buf_addf(out, "host = %s\n", c->host);
	for (k = 0; k < c->raw.nsect; k++) {
		const struct conf_section *s = &c->raw.sect[k];
		size_t j;

		if (strcasecmp(s->name, "server"))
			continue;
		for (j = 0; j < s->nkv; j++)
			if (!strcasecmp(s->kv[j].key, "address"))
				buf_addf(out, "address = %s\n", s->kv[j].val);
	}
	for (i = 0; i < c->nparent; i++)
		buf_addf(out, "parent = %s\n", dns_addr_str(&c->parent[i], a, sizeof(a)));
	buf_addf(out, "recurse = %s\n", c->recurse ? "yes" : "no");
	for (i = 0; i < c->nupstream; i++)
		buf_addf(out, "upstream = %s\n", dns_addr_str(&c->upstream[i], a, sizeof(a)));
	for (i = 0; i < c->nkeys; i++)
		buf_addf(out, "key = hmac-sha256:%s:(secret)\n", dns_name_to_text(&c->keys[i].name, t));
	buf_addf(out, "state = %s\n", c->state);
	buf_addf(out, "user = %s\n", c->user);
	buf_addf(out, "edns-size = %u\ncache-size = %u\ntcp-idle = %llums\ntcp-clients = %u\n"
		 "udp-workers = %u\n",
		 c->edns_size, c->cache_size, (unsigned long long)c->tcp_idle_ms, c->tcp_clients,
		 c->udp_workers);
	for (k = 0; k < c->raw.nsect; k++) {
		const struct conf_section *s = &c->raw.sect[k];
		size_t j;

		if (!strcasecmp(s->name, "server") || !*s->name)
			continue;
		buf_addf(out, "\n[%s %s]\n", s->name, s->arg);
		for (j = 0; j < s->nkv; j++)
			buf_addf(out, "%s = %s\n", s->kv[j].key, s->kv[j].val);
	}
	return buf_err(out);
}

/* ---- building ---- */

/* Names in the configuration are absolute, with or without the final dot;
 * a single label (an interface, a child) is taken below base. */
static int
conf_name(const char *s, const struct dns_name *base, struct dns_name *out)
{
	char abs[600];

	if (base && !strchr(s, '.'))
		return dns_name_from_text(out, s, base);
	snprintf(abs, sizeof(abs), "%.300s%s", s, s[0] && s[strlen(s) - 1] == '.' ? "" : ".");
	return dns_name_from_text(out, abs, NULL);
}

static struct dns_zone *
zone_get(struct dns_server *s, const struct dns_name *origin)
{
	struct dns_zone *z;

	for (z = s->zones; z; z = z->next)
		if (dns_name_equal(&z->origin, origin))
			return z;
	z = dns_zone_new(origin);
	if (!z)
		return NULL;
	z->next = s->zones;
	s->zones = z;
	return z;
}

static void
journal_path(const struct dns_conf *c, struct dns_zone *z)
{
	char t[DNS_NAME_TEXT];

	dns_name_to_text(&z->origin, t);
	snprintf(z->journal, sizeof(z->journal), "%.250s/%.250sjournal", c->state, t);
}

static int
add_addr(struct dns_zone *z, const struct dns_name *name, const char *text)
{
	struct ipaddr ip;

	if (ipaddr_parse(text, AF_UNSPEC, &ip) < 0)
		return -1;
	return dns_zone_add(z, name, ip.family == AF_INET ? DNS_T_A : DNS_T_AAAA, 3600, ip.a,
			    (uint16_t)ipaddr_len(&ip)) < 0 ? -1 : 0;
}

/* The reverse zone of a subnet: whole octets (IPv4) or nibbles (IPv6). */
static int
reverse_zone(const struct ipaddr *p, struct dns_name *out)
{
	char s[160];
	size_t o = 0;
	int i;

	if (p->family == AF_INET) {
		int octets = p->plen / 8;

		for (i = octets - 1; i >= 0; i--)
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%u.", p->a[i]);
		snprintf(s + o, sizeof(s) - o, "in-addr.arpa.");
	} else {
		int nibbles = p->plen / 4;

		for (i = nibbles - 1; i >= 0; i--)
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%x.",
					      i % 2 ? p->a[i / 2] & 15 : p->a[i / 2] >> 4);
		snprintf(s + o, sizeof(s) - o, "ip6.arpa.");
	}
	return dns_name_from_text(out, s, NULL);
}

void
dns_server_free(struct dns_server *s)
{
	while (s->zones) {
		struct dns_zone *z = s->zones;

		s->zones = z->next;
		dns_zone_free(z);
	}
	free(s->keys);
	s->keys = NULL;
	s->nkeys = 0;
}

struct dns_zone *
dns_conf_zone(const struct dns_conf *c, struct dns_server *s, const struct dns_name *origin,
	      struct conf_err *err)
{
	struct dns_zone *z;
	struct dns_name ns;

	for (z = s->zones; z; z = z->next)
		if (dns_name_equal(&z->origin, origin))
			return z;
	z = zone_get(s, origin);
	if (!z) {
		conf_errf(err, c->raw.file, 0, "out of memory");
		return NULL;
	}
	z->dynamic = 1;
	dns_name_prepend(&ns, "ns", 2, &c->host_zone);
	if (dns_zone_default_soa(z, &ns, 3600) < 0) {
		conf_errf(err, c->raw.file, 0, "out of memory");
		return NULL;
	}
	journal_path(c, z);
	if (dns_journal_replay(z, err) < 0)
		return NULL;
	return z;
}

int
dns_conf_build(const struct dns_conf *c, struct dns_server *s, struct conf_err *err)
{
	struct dns_name ns;
	struct dns_zone *z;
	size_t i, j;

	memset(s, 0, sizeof(*s));
	s->edns_size = c->edns_size;
	s->recurse = c->recurse;
	if (c->nkeys) {
		s->keys = calloc((size_t)c->nkeys, sizeof(*s->keys));
		if (!s->keys)
			return conf_errf(err, c->raw.file, 0, "out of memory");
		memcpy(s->keys, c->keys, sizeof(*s->keys) * (size_t)c->nkeys);
		s->nkeys = (size_t)c->nkeys;
	}
	/* This host's zone, always there and dynamic. */
	z = zone_get(s, &c->host_zone);
	if (!z)
		goto nomem;
	z->dynamic = 1;
	dns_name_prepend(&ns, "ns", 2, &c->host_zone);
	for (i = 0; i < c->raw.nsect; i++) {
		const struct conf_section *sec = &c->raw.sect[i];
		struct dns_name origin;

		if (!strcasecmp(sec->name, "server")) {
			for (j = 0; j < sec->nkv; j++)
				if (!strcasecmp(sec->kv[j].key, "address") && add_addr(z, &ns, sec->kv[j].val) < 0)
					goto nomem;
			continue;
		}
		if (!sec->arg)
			continue;
		if (conf_name(sec->arg, !strcasecmp(sec->name, "interface") ? &c->host_zone :
					!strcasecmp(sec->name, "delegate") ? &c->domain : NULL, &origin) < 0) {
			conf_errf(err, c->raw.file, sec->line, "%s: bad name", sec->arg);
			goto fail;
		}
		if (!strcasecmp(sec->name, "dhcp") || !strcasecmp(sec->name, "ra") ||
		    !strcasecmp(sec->name, "mdns")) {
			struct dns_name iz;

			/* Interface names are single labels here. */
			if (!strcasecmp(sec->name, "dhcp") &&
			    (strchr(sec->arg, '.') || conf_name(sec->arg, &c->host_zone, &iz) < 0)) {
				conf_errf(err, c->raw.file, sec->line, "[dhcp %s]: not an interface name",
					  sec->arg);
				goto fail;
			}
			if (!strcasecmp(sec->name, "dhcp")) {
				struct dns_zone *dz = zone_get(s, &iz);

				if (!dz)
					goto nomem;
				dz->dynamic = 1;
			}
			continue;
		}
		if (!strcasecmp(sec->name, "zone")) {
			const char *file = conf_get(sec, "file");
			int dyn;
			struct dns_zone *nz = zone_get(s, &origin);

			if (!nz)
				goto nomem;
			if (conf_get_bool(&c->raw, sec, "dynamic", 0, &dyn, err) < 0)
				goto fail;
			nz->dynamic = dyn;
			if (file) {
				str_copy(nz->file, file, sizeof(nz->file));
				if (dns_zone_load(nz, file, err) < 0)
					goto fail;
			}
		} else if (!strcasecmp(sec->name, "interface")) {
			struct dns_zone *iz = zone_get(s, &origin);

			if (!iz)
				goto nomem;
			iz->dynamic = 1;
			for (j = 0; j < sec->nkv; j++) {
				struct ipaddr p;
				struct dns_name rev;
				struct dns_zone *rz;

				if (strcasecmp(sec->kv[j].key, "subnet"))
					continue;
				if (ipaddr_parse_prefix(sec->kv[j].val, AF_UNSPEC, &p) < 0 ||
				    (p.family == AF_INET && p.plen % 8) || (p.family == AF_INET6 && p.plen % 4)) {
					conf_errf(err, c->raw.file, sec->kv[j].line,
						  "subnet %.64s: a prefix on an octet (v4) or nibble (v6) boundary",
						  sec->kv[j].val);
					goto fail;
				}
				ipaddr_mask(&p);
				if (reverse_zone(&p, &rev) < 0 || !(rz = zone_get(s, &rev)))
					goto nomem;
				rz->dynamic = 1;
			}
		} else if (!strcasecmp(sec->name, "delegate")) {
			/* NS and glue in whichever of our zones holds the child. */
			struct dns_zone *pz = dns_server_zone(s, &origin);

			if (!pz || dns_name_equal(&pz->origin, &origin)) {
				/* The parent of a child of the domain is the domain itself. */
				pz = zone_get(s, &c->domain);
				if (!pz)
					goto nomem;
			}
			for (j = 0; j < sec->nkv; j++) {
				struct dns_name nsn;

				if (!strcasecmp(sec->kv[j].key, "ns")) {
					if (conf_name(sec->kv[j].val, NULL, &nsn) < 0) {
						conf_errf(err, c->raw.file, sec->kv[j].line, "ns %.64s: bad name",
							  sec->kv[j].val);
						goto fail;
					}
					if (dns_zone_add(pz, &origin, DNS_T_NS, 3600, nsn.data, nsn.len) < 0)
						goto nomem;
				}
			}
			if (!dns_node_rrset(dns_zone_find(pz, &origin), DNS_T_NS)) {
				/* default: ns.CHILD */
				struct dns_name nsn;

				dns_name_prepend(&nsn, "ns", 2, &origin);
				if (dns_zone_add(pz, &origin, DNS_T_NS, 3600, nsn.data, nsn.len) < 0)
					goto nomem;
			}
			for (j = 0; j < sec->nkv; j++) {
				struct dns_rrset *nss = dns_node_rrset(dns_zone_find(pz, &origin), DNS_T_NS);
				struct dns_rdata *r;

				if (strcasecmp(sec->kv[j].key, "address"))
					continue;
				/* glue for every NS name inside the child */
				for (r = nss->rd; r; r = r->next) {
					struct dns_name nsn;
					size_t off = 0;

					if (dns_name_unpack(r->data, r->len, &off, &nsn) == 0 &&
					    dns_name_is_sub(&nsn, &origin) && add_addr(pz, &nsn, sec->kv[j].val) < 0) {
						conf_errf(err, c->raw.file, sec->kv[j].line,
							  "address %.64s: not an IP address", sec->kv[j].val);
						goto fail;
					}
				}
			}
		}
	}
	for (z = s->zones; z; z = z->next) {
		/* Every zone here names this server as its primary. */
		if (dns_zone_default_soa(z, &ns, 3600) < 0)
			goto nomem;
		if (z->dynamic) {
			journal_path(c, z);
			if (dns_journal_replay(z, err) < 0)
				goto fail;
		}
	}
	dns_server_sync_ptrs(s);
	return 0;
nomem:
	conf_errf(err, c->raw.file, 0, "out of memory");
fail:
	dns_server_free(s);
	errno = EINVAL;
	return -1;
}
