/*
 * lab vpn mux's configuration: the same keys from options (--ssh
 * HOST:PORT) and from a file (ssh = HOST:PORT, lib/conf's format), set
 * through one function so both say the same about a bad value.
 */
#include "mux.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "buf.h"
#include "conf.h"

/* ---- configuration ---- */

int
mux_resolve(const char *s, int passive, struct mux_addr **out, size_t *n, char *err, size_t errlen)
{
	char host[300], *port;
	const char *h;
	struct addrinfo hints, *res = NULL, *ai;
	uint32_t pn;
	size_t k = 0;
	int r;

	*out = NULL;
	*n = 0;
	if (strlen(s) >= sizeof(host))
		goto bad;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			goto bad;
		memcpy(host, s + 1, (size_t)(close - s - 1));
		host[close - s - 1] = '\0';
		port = (char *)close + 2;
	} else {
		str_copy(host, s, sizeof(host));
		port = strrchr(host, ':');
		if (!port)
			goto bad;
		*port++ = '\0';
		if (strchr(host, ':')) {
			snprintf(err, errlen, "an IPv6 address goes in brackets: [ADDR]:PORT");
			return -1;
		}
	}
	if (str_to_u32(port, 65535, &pn) < 0 || pn == 0)
		goto bad;
	h = host;
	if (!host[0] || !strcmp(host, "*")) {
		if (!passive)
			goto bad;
		h = NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : 0);
	r = getaddrinfo(h, port, &hints, &res);
	if (r != 0) {
		snprintf(err, errlen, "%s", r == EAI_SYSTEM ? strerror(errno) : gai_strerror(r));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		k++;
	*out = calloc(k, sizeof(**out));
	if (!*out) {
		freeaddrinfo(res);
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof((*out)[0].ss))
			continue;
		memcpy(&(*out)[*n].ss, ai->ai_addr, ai->ai_addrlen);
		(*out)[(*n)++].len = ai->ai_addrlen;
	}
	freeaddrinfo(res);
	return 0;
bad:
	snprintf(err, errlen, "expected HOST:PORT (PORT 1-65535)");
	return -1;
}

void
mux_conf_free(struct mux_conf *c)
{
	size_t i;

	for (i = 0; i < MUX_NPROTO; i++) {
		free(c->be[i].name);
		free(c->be[i].addr);
	}
	for (i = 0; i < c->nsni; i++) {
		free(c->sni[i].pattern);
		free(c->sni[i].be.name);
		free(c->sni[i].be.addr);
	}
	for (i = 0; i < c->nlisten; i++)
		free(c->listen_name[i]);
	free(c->listen_name);
	free(c->listen);
	free(c->sni);
	memset(c, 0, sizeof(*c));
}


static const struct {
	const char *key;
	int proto;
} proto_keys[] = {
	{ "ssh", MUX_SSH },	  { "tls", MUX_TLS },	       { "http", MUX_HTTP },
	{ "openvpn", MUX_OPENVPN }, { "default", MUX_UNKNOWN },
};

/* HOST:PORT, optionally ",proxy-v1" or ",proxy-v2" */
static int
backend_set(struct mux_backend *be, const char *v, char *err, size_t errlen)
{
	const char *comma = strrchr(v, ',');
	char *addr;
	int r;

	be->proxy = 0;
	if (comma) {
		if (!strcmp(comma, ",proxy-v1")) {
			be->proxy = 1;
		} else if (!strcmp(comma, ",proxy-v2")) {
			be->proxy = 2;
		} else {
			snprintf(err, errlen, "after the comma, proxy-v1 or proxy-v2");
			return -1;
		}
	}
	addr = strdup(v);
	if (!addr) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	if (comma)
		addr[comma - v] = '\0';
	r = mux_resolve(addr, 0, &be->addr, &be->naddr, err, errlen);
	free(addr);
	if (r < 0)
		return -1;
	if (be->naddr == 0) {
		snprintf(err, errlen, "no address");
		return -1;
	}
	be->name = strdup(v);
	if (!be->name) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	return 0;
}

/* A server name as the sniffer gives it (letters, digits, '-', '.', '_'),
 * or "*." and such a name. */
static int
sni_pattern_ok(const char *p)
{
	if (p[0] == '*' && p[1] == '.')
		p += 2;
	if (!*p)
		return 0;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return 0;
	return 1;
}

static int
msec(const char *v, unsigned *out, char *err, size_t errlen)
{
	uint64_t ms;
	uint32_t n;

	/* a bare number is milliseconds here; "2s", "500ms" also do */
	if (str_to_u32(v, 3600000, &n) == 0) {
		*out = n;
		return 0;
	}
	if (str_to_msec(v, &ms) < 0 || ms > 3600000) {
		snprintf(err, errlen, "expected milliseconds (or 2s, 500ms), at most an hour");
		return -1;
	}
	*out = (unsigned)ms;
	return 0;
}

int
mux_conf_is_key(const char *key)
{
	static const char *const keys[] = {
		"listen", "ssh", "tls", "tls-sni", "http",
		"openvpn", "default", "timeout", "connect-timeout", "max-conns", "user",
	};
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i]))
			return 1;
	return 0;
}

int
mux_conf_init(struct mux_conf *c)
{
	memset(c, 0, sizeof(*c));
	c->sniff_timeout_ms = 2000;
	c->connect_timeout_ms = 5000;
	c->max_conns = 512;
	str_copy(c->user, "nobody", sizeof(c->user));
	return 0;
}

int
mux_conf_set(struct mux_conf *c, const char *key, const char *v, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(proto_keys) / sizeof(proto_keys[0]); i++) {
		struct mux_backend *be = &c->be[proto_keys[i].proto];

		if (strcmp(key, proto_keys[i].key))
			continue;
		if (c->have[proto_keys[i].proto]) {
			snprintf(err, errlen, "given twice");
			return -1;
		}
		if (backend_set(be, v, err, errlen) < 0)
			return -1;
		c->have[proto_keys[i].proto] = 1;
		return 0;
	}
	if (!strcmp(key, "listen")) {
		struct mux_addr *la, *nl;
		char **nn;
		size_t n, j;

		if (mux_resolve(v, 1, &la, &n, err, errlen) < 0)
			return -1;
		nl = realloc(c->listen, (c->nlisten + n) * sizeof(*c->listen));
		if (nl)
			c->listen = nl;
		nn = realloc(c->listen_name, (c->nlisten + n) * sizeof(*c->listen_name));
		if (nn)
			c->listen_name = nn;
		if (!nl || !nn) {
			free(la);
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		for (j = 0; j < n; j++) {
			c->listen_name[c->nlisten] = strdup(v);
			if (!c->listen_name[c->nlisten])
				break;
			c->listen[c->nlisten++] = la[j];
		}
		free(la);
		if (j < n) {
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "tls-sni")) {
		const char *eq = strchr(v, '=');
		struct mux_sni_route *r;
		char *pat;

		if (!eq || eq == v) {
			snprintf(err, errlen, "expected NAME=HOST:PORT (NAME may be *.SUFFIX)");
			return -1;
		}
		pat = strndup(v, (size_t)(eq - v));
		if (!pat) {
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		if (!sni_pattern_ok(pat)) {
			snprintf(err, errlen, "\"%s\" is not a host name or *.SUFFIX", pat);
			free(pat);
			return -1;
		}
		/* lowercase, as the sniffer gives names */
		for (i = 0; pat[i]; i++)
			if (pat[i] >= 'A' && pat[i] <= 'Z')
				pat[i] = (char)(pat[i] - 'A' + 'a');
		for (i = 0; i < c->nsni; i++)
			if (!strcmp(c->sni[i].pattern, pat)) {
				snprintf(err, errlen, "%s given twice", pat);
				free(pat);
				return -1;
			}
		r = realloc(c->sni, (c->nsni + 1) * sizeof(*c->sni));
		if (!r) {
			free(pat);
			snprintf(err, errlen, "%s", strerror(ENOMEM));
			return -1;
		}
		c->sni = r;
		r = &c->sni[c->nsni];
		memset(r, 0, sizeof(*r));
		if (backend_set(&r->be, eq + 1, err, errlen) < 0) {
			free(r->be.addr);
			free(pat);
			return -1;
		}
		r->pattern = pat;
		c->nsni++;
		return 0;
	}
	if (!strcmp(key, "timeout"))
		return msec(v, &c->sniff_timeout_ms, err, errlen);
	if (!strcmp(key, "connect-timeout")) {
		if (msec(v, &c->connect_timeout_ms, err, errlen) < 0)
			return -1;
		if (c->connect_timeout_ms == 0) {
			snprintf(err, errlen, "more than 0");
			return -1;
		}
		return 0;
	}
	if (!strcmp(key, "max-conns")) {
		uint32_t n;

		if (str_to_u32(v, 1000000, &n) < 0 || n == 0) {
			snprintf(err, errlen, "expected 1-1000000");
			return -1;
		}
		c->max_conns = n;
		return 0;
	}
	if (!strcmp(key, "user")) {
		if (!*v || strlen(v) >= sizeof(c->user)) {
			snprintf(err, errlen, "expected a user name");
			return -1;
		}
		str_copy(c->user, v, sizeof(c->user));
		return 0;
	}
	snprintf(err, errlen, "unknown");
	errno = ENOENT;
	return -1;
}

int
mux_conf_check(const struct mux_conf *c, char *err, size_t errlen)
{
	size_t i;

	if (!c->nlisten) {
		snprintf(err, errlen, "listen ADDR:PORT is needed");
		return -1;
	}
	for (i = 0; i < MUX_NPROTO && !c->have[i]; i++)
		;
	if (i == MUX_NPROTO && !c->nsni) {
		snprintf(err, errlen,
			 "a backend is needed: ssh, tls, tls-sni, http, openvpn or default");
		return -1;
	}
	return 0;
}

int
mux_conf_load(struct mux_conf *c, const char *path, char *err, size_t errlen)
{
	struct conf f;
	struct conf_err ce;
	size_t i, j;
	int rc = -1;

	memset(&ce, 0, sizeof(ce));
	if (conf_load(&f, path, 0, &ce) < 0) {
		if (ce.msg[0] && ce.line > 0)
			snprintf(err, errlen, "%s:%d: %s", ce.file, ce.line, ce.msg);
		else if (ce.msg[0])
			snprintf(err, errlen, "%s: %s", path, ce.msg);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (i = 0; i < f.nsect; i++) {
		const struct conf_section *s = &f.sect[i];

		if (s->name[0] && strcasecmp(s->name, "mux")) {
			snprintf(err, errlen,
				 "%s:%d: unknown section [%s] (keys go before any, or in [mux])",
				 path, s->line, s->name);
			goto out;
		}
		for (j = 0; j < s->nkv; j++) {
			const struct conf_kv *kv = &s->kv[j];
			char why[300];
			size_t k;

			for (k = 0; kv->key[k]; k++)
				if (kv->key[k] >= 'A' && kv->key[k] <= 'Z')
					kv->key[k] = (char)(kv->key[k] - 'A' + 'a');
			if (mux_conf_set(c, kv->key, kv->val, why, sizeof(why)) < 0) {
				if (errno == ENOENT && !strcmp(why, "unknown"))
					snprintf(err, errlen, "%s:%d: unknown key \"%s\"", path,
						 kv->line, kv->key);
				else
					snprintf(err, errlen, "%s:%d: %s %s: %s", path, kv->line,
						 kv->key, kv->val, why);
				goto out;
			}
		}
	}
	rc = 0;
out:
	conf_free(&f);
	return rc;
}
