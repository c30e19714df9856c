/*
 * The bastion's pure parts: allow rules, destination decisions,
 * authorized_keys lines and the failed-login limiter (see bastion.h).
 */
#include "bastion.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"

/* ---- rules ---- */

static int
parse_ports(const char *s, struct bastion_rule *r, char *err, size_t errlen)
{
	char tmp[256], *items[BASTION_MAX_PORTS + 1];
	size_t n, i;

	if (!strcmp(s, "*")) {
		r->allports = 1;
		return 0;
	}
	if (!*s || strlen(s) >= sizeof(tmp) || s[strlen(s) - 1] == ',' || *s == ',' || strstr(s, ",,")) {
		snprintf(err, errlen, "ports: *, or a list such as 22,443,8000-8099");
		return -1;
	}
	str_copy(tmp, s, sizeof(tmp));
	n = str_split(tmp, ",", items, BASTION_MAX_PORTS + 1);
	if (n > BASTION_MAX_PORTS) {
		snprintf(err, errlen, "more than %d ports or ranges in one rule", BASTION_MAX_PORTS);
		return -1;
	}
	for (i = 0; i < n; i++) {
		char *dash = strchr(items[i], '-');
		uint32_t lo, hi;

		if (dash)
			*dash = '\0';
		if (str_to_u32(items[i], 65535, &lo) < 0 || lo == 0 ||
		    (dash && (str_to_u32(dash + 1, 65535, &hi) < 0 || hi < lo))) {
			snprintf(err, errlen, "ports: numbers 1-65535, ranges low-high");
			return -1;
		}
		if (!dash)
			hi = lo;
		r->lo[i] = (uint16_t)lo;
		r->hi[i] = (uint16_t)hi;
	}
	r->nports = n;
	return 0;
}

/* Letters, digits, '-' and '_' in labels of 1-63, 253 in all. */
static int
valid_name(const char *s)
{
	size_t len = strlen(s), lab = 0, i;
	int alldigits = 1;

	if (len == 0 || len > BASTION_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
			alldigits = 1;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return 0;
		if (!isdigit(c))
			alldigits = 0;
		if (++lab > 63)
			return 0;
	}
	/* "10.0.0.300" is a broken address, not a name */
	return lab > 0 && !alldigits;
}

int
bastion_name_norm(const char *in, char *out)
{
	size_t len = strlen(in), i;

	if (len && in[len - 1] == '.')
		len--;
	if (len == 0 || len > BASTION_NAME_MAX)
		return -1;
	for (i = 0; i < len; i++)
		out[i] = (char)tolower((unsigned char)in[i]);
	out[len] = '\0';
	return valid_name(out) ? 0 : -1;
}

int
bastion_rule_parse(const char *s, struct bastion_rule *r, char *err, size_t errlen)
{
	char host[300];
	const char *ports = NULL;
	size_t len;

	memset(r, 0, sizeof(*r));
	if (*s == '!') {
		r->deny = 1;
		s++;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || (size_t)(close - s - 1) >= sizeof(host)) {
			snprintf(err, errlen, "an opening [ without its ]");
			return -1;
		}
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		if (close[1] == ':')
			ports = close + 2;
		else if (close[1]) {
			snprintf(err, errlen, "after [address]: nothing, or :ports");
			return -1;
		}
		if (!strchr(host, ':')) {
			snprintf(err, errlen, "brackets are for IPv6 addresses");
			return -1;
		}
	} else {
		const char *colon = strrchr(s, ':');

		if (colon && strchr(s, ':') != colon) {
			/* an IPv6 address without brackets: no ports */
			colon = NULL;
		}
		len = colon ? (size_t)(colon - s) : strlen(s);
		if (len >= sizeof(host)) {
			snprintf(err, errlen, "too long");
			return -1;
		}
		memcpy(host, s, len);
		host[len] = '\0';
		if (colon)
			ports = colon + 1;
	}
	if (!*host) {
		snprintf(err, errlen, "no host, address or name");
		return -1;
	}
	if (ports) {
		if (parse_ports(ports, r, err, errlen) < 0)
			return -1;
	} else {
		r->nports = 1;
		r->lo[0] = r->hi[0] = 22;
	}
	if (ipaddr_parse(host, AF_UNSPEC, &r->net) == 0) {
		r->kind = BASTION_ADDR;
		if (r->net.plen < 0)
			r->net.plen = ipaddr_bits(&r->net);
		if (!ipaddr_is_network(&r->net)) {
			char net[IPADDR_STRLEN];
			struct ipaddr m = r->net;

			ipaddr_mask(&m);
			snprintf(err, errlen, "host bits set (the network is %s)", ipaddr_str(&m, net));
			return -1;
		}
		return 0;
	}
	if (strchr(host, ':') || strchr(host, '/')) {
		snprintf(err, errlen, "not an address or a network");
		return -1;
	}
	if (r->deny) {
		snprintf(err, errlen, "a deny rule (!) takes an address or network, not a name");
		return -1;
	}
	r->kind = BASTION_NAME;
	if (host[0] == '*' && host[1] == '.')
		memmove(host, host + 1, strlen(host));
	if (host[0] == '.') {
		r->kind = BASTION_SUFFIX;
		r->name[0] = '.';
		if (bastion_name_norm(host + 1, r->name + 1) < 0) {
			snprintf(err, errlen, "not a DNS suffix (*.example.lan or .example.lan)");
			return -1;
		}
		return 0;
	}
	if (bastion_name_norm(host, r->name) < 0) {
		snprintf(err, errlen, "not an address, a network, a host name or *.suffix");
		return -1;
	}
	return 0;
}

void
bastion_rule_format(const struct bastion_rule *r, char *out, size_t size)
{
	char host[300], ports[16 * 12 + 1] = "";
	size_t i;

	if (r->kind == BASTION_ADDR) {
		char a[IPADDR_STRLEN];

		if (r->net.plen == ipaddr_bits(&r->net))
			ipaddr_str_addr(&r->net, a);
		else
			ipaddr_str(&r->net, a);
		snprintf(host, sizeof(host), r->net.family == AF_INET6 ? "[%s]" : "%s", a);
	} else if (r->kind == BASTION_SUFFIX) {
		snprintf(host, sizeof(host), "*%s", r->name);
	} else {
		snprintf(host, sizeof(host), "%s", r->name);
	}
	if (r->allports)
		str_copy(ports, "*", sizeof(ports));
	for (i = 0; i < r->nports && !r->allports; i++) {
		size_t l = strlen(ports);

		if (r->lo[i] == r->hi[i])
			snprintf(ports + l, sizeof(ports) - l, "%s%u", i ? "," : "", r->lo[i]);
		else
			snprintf(ports + l, sizeof(ports) - l, "%s%u-%u", i ? "," : "", r->lo[i], r->hi[i]);
	}
	snprintf(out, size, "%s%s:%s", r->deny ? "!" : "", host, ports);
}

static int
port_ok(const struct bastion_rule *r, uint16_t port)
{
	size_t i;

	if (r->allports)
		return 1;
	for (i = 0; i < r->nports; i++)
		if (port >= r->lo[i] && port <= r->hi[i])
			return 1;
	return 0;
}

static int
name_match(const struct bastion_rule *r, const char *name)
{
	size_t nl = strlen(name), rl = strlen(r->name);

	if (r->kind == BASTION_NAME)
		return !strcmp(r->name, name);
	if (r->kind == BASTION_SUFFIX)
		return nl > rl && !strcmp(name + nl - rl, r->name);
	return 0;
}

int
bastion_name_allowed(const struct bastion_rule *r, size_t n, const char *name, uint16_t port)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (name_match(&r[i], name) && port_ok(&r[i], port))
			return 1;
	return 0;
}

int
bastion_addr_special(const struct ipaddr *a)
{
	const uint8_t *p = a->a;

	if (a->family == AF_INET)
		return p[0] == 0 || p[0] == 127 || (p[0] == 169 && p[1] == 254) || p[0] >= 224;
	{
		static const uint8_t zero[16];

		if (!memcmp(p, zero, 15) && (p[15] == 0 || p[15] == 1))
			return 1;	/* :: and ::1 */
		return (p[0] == 0xfe && (p[1] & 0xc0) == 0x80) || p[0] == 0xff;
	}
}

void
bastion_addr_from_sa(const struct sockaddr *sa, struct ipaddr *out, uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		out->family = AF_INET;
		memcpy(out->a, &s4->sin_addr, 4);
		out->plen = 32;
		if (port)
			*port = ntohs(s4->sin_port);
		return;
	}
	{
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			out->family = AF_INET;
			memcpy(out->a, s6->sin6_addr.s6_addr + 12, 4);
			out->plen = 32;
		} else {
			out->family = AF_INET6;
			memcpy(out->a, &s6->sin6_addr, 16);
			out->plen = 128;
		}
		if (port)
			*port = ntohs(s6->sin6_port);
	}
}

int
bastion_dest_check(const struct bastion_rule *r, size_t n, const struct ipaddr *a, uint16_t port,
		   int by_name, int own, char *why, size_t whylen)
{
	char rule[400];
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i].kind == BASTION_ADDR && r[i].deny && ipaddr_contains(&r[i].net, a) &&
		    port_ok(&r[i], port)) {
			bastion_rule_format(&r[i], rule, sizeof(rule));
			snprintf(why, whylen, "refused by rule %s", rule);
			return 0;
		}
	for (i = 0; i < n; i++)
		if (r[i].kind == BASTION_ADDR && !r[i].deny && ipaddr_contains(&r[i].net, a) &&
		    port_ok(&r[i], port))
			return 1;
	if (by_name && !own && !bastion_addr_special(a))
		return 1;
	if (by_name)
		snprintf(why, whylen, "%s, which only an address rule admits",
			 bastion_addr_special(a) ? "a special-purpose address" :
						   "one of the bastion's own addresses");
	else
		snprintf(why, whylen, "no rule allows it");
	return 0;
}

/* ---- authorized_keys ---- */

static const char *const key_types[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa",
};

static int
known_type(const char *t)
{
	size_t i;

	for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++)
		if (!strcmp(t, key_types[i]))
			return 1;
	return 0;
}

void
bastion_fingerprint(const uint8_t *blob, size_t n, char out[64])
{
	uint8_t h[HASH_SHA256_LEN];
	char b64[48];
	size_t l;

	hash_sha256(blob, n, h);
	base64_encode(h, sizeof(h), b64);
	l = strlen(b64);
	while (l && b64[l - 1] == '=')
		b64[--l] = '\0';
	snprintf(out, 64, "SHA256:%s", b64);
}

int
bastion_authkey_parse(const char *line, struct bastion_key *k, char *err, size_t errlen)
{
	char tmp[8192], *tok[3], *p;
	size_t n, tlen;
	int len;

	memset(k, 0, sizeof(*k));
	if (strlen(line) >= sizeof(tmp)) {
		snprintf(err, errlen, "line too long");
		return -1;
	}
	str_copy(tmp, line, sizeof(tmp));
	p = str_trim(tmp);
	if (!*p || *p == '#')
		return 0;
	/* type, base64, comment (the rest of the line) */
	n = 0;
	while (n < 2 && *p) {
		tok[n++] = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
		p += strspn(p, " \t");
	}
	tok[2] = p;
	if (!known_type(tok[0])) {
		/* options come first: a line "opts type base64 ..." */
		size_t i;
		const char *q = line;

		for (i = 0; i < sizeof(key_types) / sizeof(key_types[0]); i++) {
			const char *hit = strstr(q, key_types[i]);

			if (hit && hit > q && (hit[-1] == ' ' || hit[-1] == '\t')) {
				snprintf(err, errlen,
					 "key options are not supported (the key is not accepted)");
				return -1;
			}
		}
		if (strstr(tok[0], "-cert-v01@openssh.com"))
			snprintf(err, errlen, "certificates are not supported");
		else
			snprintf(err, errlen, "unsupported key type (ed25519, ecdsa, rsa)");
		return -1;
	}
	if (n < 2) {
		snprintf(err, errlen, "a key type without a key");
		return -1;
	}
	len = base64_decode(tok[1], k->blob, sizeof(k->blob));
	tlen = strlen(tok[0]);
	if (len < 0) {
		snprintf(err, errlen, "the key is not base64");
		return -1;
	}
	/* the blob starts with its type as an SSH string: it must agree */
	if ((size_t)len < 4 + tlen + 4 ||
	    ((uint32_t)k->blob[0] << 24 | (uint32_t)k->blob[1] << 16 | (uint32_t)k->blob[2] << 8 |
	     k->blob[3]) != tlen ||
	    memcmp(k->blob + 4, tok[0], tlen) != 0) {
		snprintf(err, errlen, "the key does not hold a %s key", tok[0]);
		return -1;
	}
	k->bloblen = (size_t)len;
	str_copy(k->type, tok[0], sizeof(k->type));
	str_copy(k->comment, tok[2], sizeof(k->comment));
	bastion_fingerprint(k->blob, k->bloblen, k->fp);
	return 1;
}

/* ---- failed authentications per source ---- */

#define RL_SLOTS 4096

struct rl_slot {
	uint8_t key[9];		/* family byte, then the address (IPv6: its /64) */
	unsigned fails;
	uint64_t first_ms, ban_until_ms, last_ms;
};

struct bastion_rl {
	pthread_mutex_t lock;
	unsigned max_fail;
	uint64_t window_ms, ban_ms;
	struct rl_slot slot[RL_SLOTS];
};

struct bastion_rl *
bastion_rl_new(unsigned max_fail, uint64_t window_ms, uint64_t ban_ms)
{
	struct bastion_rl *rl = calloc(1, sizeof(*rl));

	if (!rl)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->max_fail = max_fail;
	rl->window_ms = window_ms;
	rl->ban_ms = ban_ms;
	return rl;
}

void
bastion_rl_free(struct bastion_rl *rl)
{
	if (!rl)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static void
rl_key(const struct ipaddr *a, uint8_t key[9])
{
	memset(key, 0, 9);
	key[0] = a->family == AF_INET ? 4 : 6;
	memcpy(key + 1, a->a, a->family == AF_INET ? 4 : 8);
}

/* The slot of this source; with create, a free or the stalest one. */
static struct rl_slot *
rl_find(struct bastion_rl *rl, const struct ipaddr *a, int create, uint64_t now)
{
	uint8_t key[9];
	struct rl_slot *free_ = NULL, *stale = NULL, *lru = NULL, *s;
	size_t i;

	rl_key(a, key);
	for (i = 0; i < RL_SLOTS; i++) {
		s = &rl->slot[i];
		if (!s->key[0]) {
			if (!free_)
				free_ = s;
			continue;
		}
		if (!memcmp(s->key, key, sizeof(key)))
			return s;
		if (!stale && s->ban_until_ms <= now && now - s->first_ms > rl->window_ms)
			stale = s;
		if (!lru || s->last_ms < lru->last_ms)
			lru = s;
	}
	if (!create)
		return NULL;
	s = free_ ? free_ : stale ? stale : lru;
	memset(s, 0, sizeof(*s));
	memcpy(s->key, key, sizeof(key));
	return s;
}

uint64_t
bastion_rl_banned(struct bastion_rl *rl, const struct ipaddr *src, uint64_t now_ms)
{
	struct rl_slot *s;
	uint64_t left = 0;

	if (!rl->max_fail)
		return 0;
	pthread_mutex_lock(&rl->lock);
	s = rl_find(rl, src, 0, now_ms);
	if (s && s->ban_until_ms > now_ms)
		left = s->ban_until_ms - now_ms;
	pthread_mutex_unlock(&rl->lock);
	return left;
}

int
bastion_rl_fail(struct bastion_rl *rl, const struct ipaddr *src, uint64_t now_ms)
{
	struct rl_slot *s;
	int banned = 0;

	if (!rl->max_fail)
		return 0;
	pthread_mutex_lock(&rl->lock);
	s = rl_find(rl, src, 1, now_ms);
	if (s->fails == 0 || now_ms - s->first_ms > rl->window_ms) {
		s->fails = 0;
		s->first_ms = now_ms;
	}
	s->last_ms = now_ms;
	if (++s->fails >= rl->max_fail && s->ban_until_ms <= now_ms) {
		s->ban_until_ms = now_ms + rl->ban_ms;
		s->fails = 0;
		banned = 1;
	}
	pthread_mutex_unlock(&rl->lock);
	return banned;
}

void
bastion_rl_forgive(struct bastion_rl *rl, const struct ipaddr *src)
{
	struct rl_slot *s;

	if (!rl->max_fail)
		return;
	pthread_mutex_lock(&rl->lock);
	s = rl_find(rl, src, 0, 0);
	if (s && s->fails)
		s->fails--;
	pthread_mutex_unlock(&rl->lock);
}
