/* A WireGuard gateway's wg-quick file: its peers, their addresses, edits. */
#include "wg_peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "conf.h"
#include "dns_client.h"
#include "dns_conf.h"
#include "fs.h"
#include "hash.h"
#include "log.h"
#include "nl.h"
#include "nl_route.h"
#include "wg_noise.h"
#include "x25519.h"

#define DNS_CONF_PATH "/usr/local/etc/lab/dns/dns.conf"

/* The text of line n (1-based): start and length without the newline. */
static const char *
line_at(const char *t, size_t len, int n, size_t *ll)
{
	const char *p = t, *end = t + len, *nl;

	while (--n > 0 && p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		p = nl ? nl + 1 : end;
	}
	if (p >= end) {
		*ll = 0;
		return NULL;	/* no such line */
	}
	nl = memchr(p, '\n', (size_t)(end - p));
	*ll = (size_t)((nl ? nl : end) - p);
	return p;
}

static int
is_blank(const char *p, size_t n)
{
	while (n && isspace((unsigned char)*p))
		p++, n--;
	return n == 0;
}

/* "# Key = value" (a comment wg-quick skips): value into out. */
static int
comment_kv(const char *p, size_t n, const char *key, char *out, size_t cap)
{
	size_t kl = strlen(key), vl;

	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (!n || *p != '#')
		return 0;
	p++, n--;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (n < kl || strncasecmp(p, key, kl))
		return 0;
	p += kl, n -= kl;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	if (!n || *p != '=')
		return 0;
	p++, n--;
	while (n && isspace((unsigned char)*p))
		p++, n--;
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	vl = n < cap - 1 ? n : cap - 1;
	memcpy(out, p, vl);
	out[vl] = '\0';
	return 1;
}

static int
count_lines(const struct buf *b)
{
	int n = 0;
	size_t i;

	for (i = 0; i < b->len; i++)
		n += b->data[i] == '\n';
	return n + (b->len && b->data[b->len - 1] != '\n');
}

int
wg_gw_load(struct wg_gw *g, const char *path, char *err, size_t errlen)
{
	struct conf c;
	struct conf_err ce;
	int have_key = 0, nlines, rc = -1;
	size_t i, j;

	memset(g, 0, sizeof(*g));
	memset(&c, 0, sizeof(c));
	str_copy(g->path, path, sizeof(g->path));
	if (fs_read_file(path, &g->text, 1 << 20) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (conf_parse(&c, path, g->text.data ? g->text.data : "", g->text.len, CONF_INLINE_COMMENTS,
		       &ce) < 0) {
		str_err(err, errlen, EINVAL, "%s:%d: %s", ce.file, ce.line, ce.msg);
		goto out;
	}
	nlines = count_lines(&g->text);
	for (i = 0; i < c.nsect; i++) {
		const struct conf_section *s = &c.sect[i];
		int iface = !strcasecmp(s->name, "Interface"), next, k;
		struct wg_gw_peer *p = NULL;

		if (!*s->name && !s->nkv)
			continue;
		if (!iface && strcasecmp(s->name, "Peer")) {
			str_err(err, errlen, EINVAL, "%s:%d: [%s]: expected [Interface] or [Peer]", path, s->line,
			     s->name);
			goto out;
		}
		next = i + 1 < c.nsect ? c.sect[i + 1].line : nlines + 1;
		if (!iface) {
			struct wg_gw_peer *np = realloc(g->peer, (g->npeer + 1) * sizeof(*g->peer));

			if (!np) {
				str_err(err, errlen, EINVAL, "%s: out of memory", path);
				goto out;
			}
			g->peer = np;
			p = &g->peer[g->npeer++];
			memset(p, 0, sizeof(*p));
			p->first = p->last = s->line;
		}
		for (k = s->line + 1; k < next; k++) {
			size_t ll;
			const char *l = line_at(g->text.data, g->text.len, k, &ll);

			if (!l)
				break;
			if (p && !is_blank(l, ll))
				p->last = k;
			if (p && !p->name[0])
				comment_kv(l, ll, "Name", p->name, sizeof(p->name));
			if (iface)
				comment_kv(l, ll, "Endpoint", g->endpoint, sizeof(g->endpoint));
		}
		for (j = 0; j < s->nkv; j++) {
			const char *key = s->kv[j].key, *v = s->kv[j].val;
			int line = s->kv[j].line;

			if (iface && !strcasecmp(key, "PrivateKey")) {
				uint8_t priv[32];

				if (wg_key_decode(v, priv) < 0 || x25519_public(g->pub, priv) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: PrivateKey: not a WireGuard key", path, line);
					goto out;
				}
				memset(priv, 0, sizeof(priv));
				have_key = 1;
			} else if (iface && !strcasecmp(key, "ListenPort")) {
				uint32_t port;

				if (str_to_u32(v, 65535, &port) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: ListenPort: 0-65535", path, line);
					goto out;
				}
				g->listen_port = (int)port;
			} else if (iface && !strcasecmp(key, "SaveConfig")) {
				if (conf_parse_bool(v, &g->save_config) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: SaveConfig: true or false", path, line);
					goto out;
				}
			} else if (iface && !strcasecmp(key, "Address")) {
				if (ipaddr_parse_list(v, g->addr, WG_GW_MAX_ADDR, &g->naddr) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: Address %s: addresses with their prefixes", path,
					     line, v);
					goto out;
				}
			} else if (!iface && !strcasecmp(key, "PublicKey")) {
				if (wg_key_decode(v, p->pub) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: PublicKey: not a WireGuard key", path, line);
					goto out;
				}
				p->have_pub = 1;
			} else if (!iface && !strcasecmp(key, "AllowedIPs")) {
				if (ipaddr_parse_list(v, p->allowed, WG_PEER_MAX_ALLOWED, &p->nallowed) < 0) {
					str_err(err, errlen, EINVAL, "%s:%d: AllowedIPs %s: prefixes", path, line, v);
					goto out;
				}
			}
		}
	}
	if (!have_key) {
		str_err(err, errlen, EINVAL, "%s: no [Interface] PrivateKey", path);
		goto out;
	}
	rc = 0;
out:
	conf_free(&c);
	if (rc < 0) {
		wg_gw_free(g);
		errno = EINVAL;
	}
	return rc;
}

void
wg_gw_free(struct wg_gw *g)
{
	if (g->text.data)
		memset(g->text.data, 0, g->text.len);	/* it holds the private key */
	buf_free(&g->text);
	free(g->peer);
	g->peer = NULL;
	g->npeer = 0;
}

int
wg_peer_name(const char *name, char out[WG_PEER_NAME_MAX + 1])
{
	size_t n = strlen(name), i;

	if (n < 1 || n > WG_PEER_NAME_MAX || name[0] == '-' || name[n - 1] == '-')
		return errno = EINVAL, -1;
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (!isascii(ch) || !(isalnum(ch) || ch == '-'))
			return errno = EINVAL, -1;
		out[i] = (char)tolower(ch);
	}
	out[n] = '\0';
	return 0;
}

int
wg_gw_find(const struct wg_gw *g, const char *name)
{
	size_t i;

	for (i = 0; i < g->npeer; i++)
		if (!strcasecmp(g->peer[i].name, name))
			return (int)i;
	return -1;
}

static int
taken(const struct wg_gw *g, const struct ipaddr *a)
{
	size_t i;
	int k;

	for (k = 0; k < g->naddr; k++)
		if (g->addr[k].family == a->family && !memcmp(g->addr[k].a, a->a, ipaddr_len(a)))
			return 1;
	for (i = 0; i < g->npeer; i++)
		for (k = 0; k < g->peer[i].nallowed; k++)
			if (g->peer[i].allowed[k].family == a->family &&
			    ipaddr_contains(&g->peer[i].allowed[k], a))
				return 1;
	return 0;
}

int
wg_gw_alloc(const struct wg_gw *g, const char *name, const struct ipaddr *subnet,
	    struct ipaddr *out)
{
	uint8_t h[HASH_SHA256_LEN];
	struct ipaddr base = *subnet;
	uint64_t n, off, t, limit;
	int hb = ipaddr_bits(subnet) - subnet->plen, i;

	if (subnet->plen < 0 || hb < 2)
		return errno = EINVAL, -1;
	ipaddr_mask(&base);
	hash_sha256(name, strlen(name), h);
	if (subnet->family == AF_INET) {
		n = (uint64_t)1 << hb;
		off = ((uint64_t)h[0] << 24 | (uint64_t)h[1] << 16 | (uint64_t)h[2] << 8 | h[3]) % n;
		limit = n;
	} else {
		uint64_t v = 0;

		for (i = 8; i < 16; i++)
			v = v << 8 | h[i];
		n = hb >= 64 ? 0 : (uint64_t)1 << hb;	/* 0: all of 2^64 */
		off = n ? v % n : v;
		limit = n && n < (1u << 20) ? n : 1u << 20;
	}
	for (t = 0; t < limit; t++) {
		uint64_t cand = n ? (off + t) % n : off + t;
		struct ipaddr a = base;

		if (cand == 0 || (subnet->family == AF_INET && cand == n - 1))
			continue;	/* the network (and IPv4's broadcast) address */
		if (subnet->family == AF_INET) {
			ipaddr_set_v4(&a, ipaddr_v4(&base) + (uint32_t)cand, 32);
		} else {
			for (i = 0; i < 8; i++)
				a.a[15 - i] |= (uint8_t)(cand >> (8 * i));
			a.plen = 128;
		}
		if (!taken(g, &a)) {
			*out = a;
			return 0;
		}
	}
	return errno = ENOSPC, -1;
}

int
wg_gw_text_add(const struct wg_gw *g, const char *section, struct buf *out)
{
	buf_add(out, g->text.data ? g->text.data : "", g->text.len);
	if (g->text.len && g->text.data[g->text.len - 1] != '\n')
		buf_addc(out, '\n');
	buf_addc(out, '\n');
	buf_adds(out, section);
	return buf_err(out);
}

int
wg_gw_text_remove(const struct wg_gw *g, size_t i, struct buf *out)
{
	const struct wg_gw_peer *p = &g->peer[i];
	const char *t = g->text.data ? g->text.data : "", *a, *b;
	size_t ll, pl;
	int first = p->first;
	const char *prev = first > 1 ? line_at(t, g->text.len, first - 1, &pl) : NULL;

	/* the blank line that separated it from what came before goes too */
	if (prev && is_blank(prev, pl))
		first--;
	a = line_at(t, g->text.len, first, &ll);
	b = line_at(t, g->text.len, p->last, &ll);
	if (!a || !b)
		return errno = EINVAL, -1;
	b += ll;
	if (b < t + g->text.len)
		b++;	/* its newline */
	buf_add(out, t, (size_t)(a - t));
	buf_add(out, b, (size_t)(t + g->text.len - b));
	return buf_err(out);
}

/* The address part of HOST:PORT or [V6]:PORT, when it is an address. */
static int
endpoint_addr(const char *ep, struct ipaddr *a)
{
	char h[256], *c;

	if (!ep || !*ep)
		return -1;
	if (ep[0] == '[') {
		str_copy(h, ep + 1, sizeof(h));
		c = strchr(h, ']');
	} else {
		str_copy(h, ep, sizeof(h));
		c = strrchr(h, ':');
	}
	if (c)
		*c = '\0';
	return ipaddr_parse(h, AF_UNSPEC, a);
}

int
wg_gw_home_prefixes(const char *skip_ifname, const char *endpoint, struct ipaddr *out, int max)
{
	struct nl_sock nl;
	struct nl_err ne;
	struct ipaddr ep;
	int have_ep = endpoint_addr(endpoint, &ep) == 0, skip = 0, added = 0, fam;
	int lo = (int)if_nametoindex("lo");

	if (skip_ifname && *skip_ifname)
		skip = (int)if_nametoindex(skip_ifname);
	if (nl_open(&nl, NETLINK_ROUTE) < 0)
		return -1;
	for (fam = 0; fam < 2; fam++) {
		struct nl_route_info *r = NULL;
		size_t n = 0, i;

		if (nl_route_dump(&nl, fam ? AF_INET6 : AF_INET, RT_TABLE_MAIN, &r, &n, &ne) < 0) {
			nl_close(&nl);
			errno = ne.errnum ? ne.errnum : errno;
			return -1;
		}
		for (i = 0; i < n && added < max; i++) {
			struct ipaddr d = r[i].dst;
			int k, dup = 0;

			if (r[i].protocol != RTPROT_KERNEL || r[i].type != RTN_UNICAST || r[i].gw.family ||
			    r[i].oif == lo || (skip && r[i].oif == skip) || d.plen <= 0 ||
			    d.plen >= ipaddr_bits(&d))
				continue;
			if (d.family == AF_INET6 && (d.a[0] == 0xfe && (d.a[1] & 0xc0) == 0x80))
				continue;	/* link-local */
			if (d.family == AF_INET && r[i].scope != RT_SCOPE_LINK)
				continue;
			if (have_ep && ep.family == d.family && ipaddr_contains(&d, &ep))
				continue;	/* the way to the gateway stays outside */
			for (k = 0; k < added; k++)
				dup |= ipaddr_overlap(&out[k], &d);
			if (!dup)
				out[added++] = d;
		}
		free(r);
	}
	nl_close(&nl);
	return added;
}

/* ---- lab dns ---- */

int
wg_peer_dns(const char *name, const struct ipaddr *v4,
	    const struct ipaddr *v6, char *fqdn, size_t fqdnlen, char *err, size_t errlen)
{
	const char *path = getenv("LAB_DNS_CONF");
	struct dns_conf *conf = calloc(1, sizeof(*conf));
	struct dns_client cl;
	struct conf_err ce;
	struct dns_name dn, zone;
	struct dns_update_rr rr[4];
	char host[64] = "", domain[256] = "home.arpa", abs[600];
	size_t n = 0;
	int rcode, rc = -1, have_conf = 0;

	if (!conf) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (gethostname(host, sizeof(host)) < 0 || !*host)
		str_copy(host, "localhost", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	host[strcspn(host, ".")] = '\0';
	if (dns_client_init(&cl, NULL) < 0)
		log_debug("dns: %s", cl.err);
	if (dns_conf_load(conf, path && *path ? path : DNS_CONF_PATH, &ce) == 0) {
		char t[DNS_NAME_TEXT];

		have_conf = 1;
		str_copy(host, conf->host, sizeof(host));
		dns_name_to_text(&conf->domain, t);
		if (strlen(t) > 1 && t[strlen(t) - 1] == '.')
			t[strlen(t) - 1] = '\0';
		str_copy(domain, t, sizeof(domain));
		if (!cl.have_key && conf->nkeys) {
			cl.key = conf->keys[0];
			cl.have_key = 1;
		}
		if (!getenv("LAB_DNS_SERVER") && conf->nlisten) {
			cl.server = conf->listen[0];
			if (cl.server.sa.ss_family == AF_INET) {
				struct sockaddr_in *sin = (struct sockaddr_in *)&cl.server.sa;

				if (sin->sin_addr.s_addr == htonl(INADDR_ANY))
					sin->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			}
		}
	}
	cl.timeout_ms = 1000;
	snprintf(fqdn, fqdnlen, "%s.wg.%s.%s", name, host, domain);
	if (!cl.have_key) {
		snprintf(err, errlen, "no lab dns key (%s)", have_conf ? "its configuration has none" :
			 "no lab dns configuration here");
		rc = 1;
		goto out;
	}
	snprintf(abs, sizeof(abs), "%s.", fqdn);
	if (dns_name_from_text(&dn, abs, NULL) < 0) {
		snprintf(err, errlen, "%s: not a domain name", fqdn);
		goto out;
	}
	if (dns_client_find_zone(&cl, &dn, &zone) < 0) {
		snprintf(err, errlen, "%s", cl.err);
		if (errno == ECONNREFUSED || errno == ETIMEDOUT || errno == ENETUNREACH)
			rc = 1;	/* no lab dns running here */
		goto out;
	}
	/* replace: both address RRsets go, then the new ones come */
	rr[n++] = (struct dns_update_rr){ &dn, DNS_T_A, DNS_C_ANY, 0, NULL, 0 };
	rr[n++] = (struct dns_update_rr){ &dn, DNS_T_AAAA, DNS_C_ANY, 0, NULL, 0 };
	if (v4)
		rr[n++] = (struct dns_update_rr){ &dn, DNS_T_A, DNS_C_IN, 60, v4->a, 4 };
	if (v6)
		rr[n++] = (struct dns_update_rr){ &dn, DNS_T_AAAA, DNS_C_IN, 60, v6->a, 16 };
	if (dns_client_update(&cl, &zone, rr, n, &rcode) < 0) {
		snprintf(err, errlen, "dns update of %s: %s", fqdn, cl.err);
		goto out;
	}
	rc = 0;
out:
	if (have_conf)
		dns_conf_free(conf);
	free(conf);
	return rc;
}
