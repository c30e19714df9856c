/* WireGuard's userspace API, as a client. */
#include "wg_uapi.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"

static int
uapi_connect(const char *iface)
{
	struct sockaddr_un sa;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (!*iface || strchr(iface, '/') ||
	    (size_t)snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s.sock", WG_UAPI_DIR, iface) >=
		    sizeof(sa.sun_path))
		return errno = EINVAL, -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return errno = e, -1;
	}
	return fd;
}

/* Send req, read the answer up to its empty line (or the end). */
static int
exchange(const char *iface, const char *req, struct buf *ans)
{
	int fd = uapi_connect(iface), rc = -1;
	char chunk[4096];

	if (fd < 0)
		return -1;
	if (fs_write_full(fd, req, strlen(req)) < 0)
		goto out;
	while (ans->len < 1 << 20 && (ans->len < 2 || memcmp(ans->data + ans->len - 2, "\n\n", 2))) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		if (poll(&p, 1, 5000) <= 0) {
			errno = ETIMEDOUT;
			goto out;
		}
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		buf_add(ans, chunk, (size_t)n);
	}
	rc = buf_err(ans);
out:
	close(fd);
	return rc;
}

/* The value of "errno=" in an answer; -1 when there is none. */
static int
answer_errno(struct buf *ans)
{
	const char *s = buf_cstr(ans), *p;

	for (p = s; (p = strstr(p, "errno=")); p++)
		if (p == s || p[-1] == '\n')
			return atoi(p + 6);
	return -1;
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
	int rc = -1, e;

	buf_addf(&req, "set=1\n%s\n", body);
	if (buf_err(&req) < 0 || exchange(iface, buf_cstr(&req), &ans) < 0)
		goto out;
	e = answer_errno(&ans);
	if (e < 0)
		errno = EPROTO;
	else if (e > 0)
		errno = e;
	else
		rc = 0;
	log_debug("%s: set: errno=%d", iface, e);
out:
	buf_free(&req);
	buf_free(&ans);
	return rc;
}

static int
hexkey(const char *v, uint8_t k[32])
{
	return strlen(v) == 64 && hex_decode(v, k, 32) == 32 ? 0 : -1;
}

int
wg_uapi_get_peers(const char *iface, struct wg_uapi_peer **out, size_t *n)
{
	struct buf ans = BUF_INIT;
	struct wg_uapi_peer *v = NULL, *p = NULL;
	size_t np = 0;
	char *line, *save = NULL;
	int rc = -1, e;

	*out = NULL;
	*n = 0;
	if (exchange(iface, "get=1\n\n", &ans) < 0)
		goto out;
	e = answer_errno(&ans);
	if (e != 0) {
		errno = e > 0 ? e : EPROTO;
		goto out;
	}
	for (line = strtok_r((char *)buf_cstr(&ans), "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *val = strchr(line, '=');

		if (!val)
			continue;
		*val++ = '\0';
		if (!strcmp(line, "public_key")) {
			struct wg_uapi_peer *nv = realloc(v, (np + 1) * sizeof(*v));

			if (!nv)
				goto out;
			v = nv;
			p = &v[np++];
			memset(p, 0, sizeof(*p));
			if (hexkey(val, p->pub) < 0) {
				errno = EPROTO;
				goto out;
			}
		} else if (!p) {
			continue;	/* the interface's own keys */
		} else if (!strcmp(line, "endpoint")) {
			str_copy(p->endpoint, val, sizeof(p->endpoint));
		} else if (!strcmp(line, "last_handshake_time_sec")) {
			p->handshake = strtoll(val, NULL, 10);
		} else if (!strcmp(line, "rx_bytes")) {
			p->rx = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "tx_bytes")) {
			p->tx = strtoull(val, NULL, 10);
		} else if (!strcmp(line, "persistent_keepalive_interval")) {
			p->keepalive = atoi(val);
		} else if (!strcmp(line, "allowed_ip")) {
			size_t l = strlen(p->allowed);

			snprintf(p->allowed + l, sizeof(p->allowed) - l, "%s%s", l ? ", " : "", val);
		}
	}
	*out = v;
	*n = np;
	v = NULL;
	rc = 0;
out:
	free(v);
	buf_free(&ans);
	return rc;
}
