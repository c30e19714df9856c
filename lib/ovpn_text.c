/*
 * The text formats of lib/ovpn, apart from the crypto (and from mbedTLS) so
 * that a fuzz target can drive them: the index, openvpn's status file, and
 * PEM blocks.
 */
#include "ovpn.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

int
ovpn_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > OVPN_NAME_MAX || name[0] == '.' || name[0] == '-' ||
	    !strcmp(name, "server"))
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

int
ovpn_pem_decode(const char *pem, const char *name, uint8_t *out, size_t cap, size_t *len)
{
	char begin[128], end[128], *b64 = NULL;
	const char *p, *q;
	size_t n = 0;
	int r;

	snprintf(begin, sizeof(begin), "-----BEGIN %s-----", name);
	snprintf(end, sizeof(end), "-----END %s-----", name);
	p = strstr(pem, begin);
	/* the END line after the BEGIN line, not overlapping its dashes */
	if (!p || !(q = strstr(p + strlen(begin), end)))
		goto bad;
	p += strlen(begin);
	b64 = malloc((size_t)(q - p) + 1);
	if (!b64)
		return -1;
	for (; p < q; p++)
		if (*p != '\n' && *p != '\r' && *p != ' ' && *p != '\t')
			b64[n++] = *p;
	b64[n] = '\0';
	if (n % 4)
		goto bad;
	r = base64_decode(b64, out, cap);
	free(b64);
	if (r < 0)
		return -1;
	*len = (size_t)r;
	return 0;
bad:
	free(b64);
	errno = EBADMSG;
	return -1;
}

int
ovpn_index_parse(const char *text, size_t len, struct ovpn_client **v, size_t *n, char *err,
		 size_t errlen)
{
	struct ovpn_client *a = NULL;
	size_t cap = 0, cnt = 0, i = 0;
	int lineno = 0;

	while (i < len) {
		size_t e = i;
		char line[512], *f[6];
		size_t nf, k;
		int64_t t[3];

		while (e < len && text[e] != '\n')
			e++;
		lineno++;
		if (e - i >= sizeof(line) || memchr(text + i, '\0', e - i))
			goto bad;
		memcpy(line, text + i, e - i);
		line[e - i] = '\0';
		i = e + 1;
		if (!line[0] || line[0] == '#')
			continue;
		nf = str_split(line, "\t ", f, 6);
		if (nf != 5 || !ovpn_name_ok(f[0]) || strlen(f[1]) != 32 ||
		    strspn(f[1], "0123456789abcdef") != 32)
			goto bad;
		for (k = 0; k < 3; k++)
			if (str_to_i64(f[2 + k], 0, INT64_MAX, &t[k]) < 0)
				goto bad;
		if (cnt == cap) {
			struct ovpn_client *na;

			cap = cap ? cap * 2 : 16;
			na = realloc(a, cap * sizeof(*a));
			if (!na) {
				free(a);
				return -1;
			}
			a = na;
		}
		memset(&a[cnt], 0, sizeof(a[cnt]));
		str_copy(a[cnt].name, f[0], sizeof(a[cnt].name));
		str_copy(a[cnt].serial, f[1], sizeof(a[cnt].serial));
		a[cnt].not_before = t[0];
		a[cnt].not_after = t[1];
		a[cnt].revoked = t[2];
		cnt++;
	}
	*v = a;
	*n = cnt;
	return 0;
bad:
	free(a);
	return str_err(err, errlen, EINVAL,
		      "line %d: expected NAME SERIAL NOT_BEFORE NOT_AFTER REVOKED", lineno);
}

int
ovpn_status_find(const char *text, const char *name, char *addr, size_t addrlen)
{
	const char *p = text;
	size_t nl = strlen(name);

	while (p && *p) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		/* CLIENT_LIST,Common Name,Real Address,Virtual Address,... */
		if (len > 12 + nl && !strncmp(p, "CLIENT_LIST,", 12) &&
		    !strncmp(p + 12, name, nl) && p[12 + nl] == ',') {
			const char *f = p + 12 + nl + 1, *g = memchr(f, ',', len - 12 - nl - 1);

			if (addr && addrlen) {
				addr[0] = '\0';
				if (g) {
					const char *h =
					    memchr(g + 1, ',', (size_t)(p + len - g - 1));
					size_t al = h ? (size_t)(h - g - 1) : 0;

					if (al < addrlen) {
						memcpy(addr, g + 1, al);
						addr[al] = '\0';
					}
				}
			}
			return 1;
		}
		p = e ? e + 1 : NULL;
	}
	return 0;
}
