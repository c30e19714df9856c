/* WireGuard's userspace API, the client side (lib/wg_uapi.h). */
#include "wg_uapi.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ev.h"
#include "fs.h"
#include "hash.h"
#include "x25519.h"

static int
uapi_connect(const char *iface)
{
	struct sockaddr_un sa;
	int fd, e;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if ((size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", WG_UAPI_DIR, iface) >=
	    sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
wg_uapi_running(const char *iface)
{
	int fd = uapi_connect(iface);

	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

int
wg_uapi_set(const char *iface, const char *body)
{
	struct buf req = BUF_INIT, ans = BUF_INIT;
	int rc;

	buf_addf(&req, "set=1\n%s\n", body);
	rc = wg_uapi_call(iface, buf_cstr(&req), &ans);
	memset(req.data, 0, req.len);	/* keys */
	buf_free(&req);
	buf_free(&ans);
	return rc;
}

int
wg_uapi_call(const char *iface, const char *req, struct buf *out)
{
	char chunk[4096];
	const char *e;
	uint64_t deadline = mono_ms() + 5000;
	int fd, rc = -1;

	fd = uapi_connect(iface);
	if (fd < 0)
		return -1;
	if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0)
		goto out;
	/* the answer ends with an empty line */
	while (out->len < 2 || memcmp(out->data + out->len - 2, "\n\n", 2)) {
		struct pollfd p = { fd, POLLIN, 0 };
		int left = (int)(deadline - mono_ms());
		ssize_t n;

		if (left <= 0 || poll(&p, 1, left) <= 0) {
			errno = ETIMEDOUT;
			goto out;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (out->len + (size_t)n > (4u << 20)) {
			errno = EMSGSIZE;
			goto out;
		}
		buf_add(out, chunk, (size_t)n);
	}
	buf_cstr(out);
	e = strstr(buf_cstr(out), "errno=");
	if (!e || (e != (char *)out->data && e[-1] != '\n')) {
		errno = EPROTO;
		goto out;
	}
	if (atoi(e + 6)) {
		errno = atoi(e + 6);
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

static int
key_of(const char *v, uint8_t k[32])
{
	return strlen(v) == 64 && hex_decode(v, k, 32) == 32 ? 0 : -1;
}

int
wg_uapi_parse(const char *text, size_t len, struct wg_uapi_dev *out)
{
	const char *p = text, *end = text + len;
	struct wg_uapi_peer *peer = NULL;

	memset(out, 0, sizeof(*out));
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char line[256], *v;

		if (n == 0)
			break;	/* the empty line ends it */
		if (n >= sizeof(line))
			goto bad;
		memcpy(line, p, n);
		line[n] = '\0';
		p += n + (nl != NULL);
		v = strchr(line, '=');
		if (!v)
			goto bad;
		*v++ = '\0';
		if (!strcmp(line, "private_key")) {
			if (key_of(v, out->priv) < 0)
				goto bad;
			out->has_key = x25519_public(out->pub, out->priv) == 0;
		} else if (!strcmp(line, "listen_port")) {
			out->listen_port = atoi(v);
		} else if (!strcmp(line, "fwmark")) {
			out->fwmark = (uint32_t)strtoul(v, NULL, 10);
		} else if (!strcmp(line, "public_key")) {
			struct wg_uapi_peer *np = realloc(out->peers, (out->npeers + 1) * sizeof(*np));

			if (!np)
				goto fail;
			out->peers = np;
			peer = &np[out->npeers++];
			memset(peer, 0, sizeof(*peer));
			if (key_of(v, peer->pub) < 0)
				goto bad;
		} else if (!strcmp(line, "errno")) {
			break;
		} else if (!peer) {
			continue;	/* an interface key this reader has no use for */
		} else if (!strcmp(line, "preshared_key")) {
			static const char zero[65] = "0000000000000000000000000000000000000000000000000000000000000000";

			peer->has_psk = strcmp(v, zero) != 0;
		} else if (!strcmp(line, "endpoint")) {
			snprintf(peer->endpoint, sizeof(peer->endpoint), "%s", v);
		} else if (!strcmp(line, "last_handshake_time_sec")) {
			peer->last_hs_sec = strtoll(v, NULL, 10);
		} else if (!strcmp(line, "rx_bytes")) {
			peer->rx = strtoull(v, NULL, 10);
		} else if (!strcmp(line, "tx_bytes")) {
			peer->tx = strtoull(v, NULL, 10);
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			peer->keepalive = atoi(v);
		} else if (!strcmp(line, "allowed_ip")) {
			char **na = realloc(peer->allowed, (peer->nallowed + 1) * sizeof(*na));

			if (!na)
				goto fail;
			peer->allowed = na;
			if (!(na[peer->nallowed] = strdup(v)))
				goto fail;
			peer->nallowed++;
		}
	}
	return 0;
bad:
	errno = EPROTO;
fail:
	wg_uapi_free(out);
	return -1;
}

int
wg_uapi_get(const char *iface, struct wg_uapi_dev *out)
{
	struct buf b = BUF_INIT;
	int rc = wg_uapi_call(iface, "get=1\n\n", &b);

	if (rc == 0)
		rc = wg_uapi_parse((const char *)b.data, b.len, out);
	if (b.data)
		memset(b.data, 0, b.len);	/* the private key */
	buf_free(&b);
	return rc;
}

void
wg_uapi_free(struct wg_uapi_dev *d)
{
	size_t i, j;

	for (i = 0; i < d->npeers; i++) {
		for (j = 0; j < d->peers[i].nallowed; j++)
			free(d->peers[i].allowed[j]);
		free(d->peers[i].allowed);
	}
	free(d->peers);
	memset(d, 0, sizeof(*d));
}
