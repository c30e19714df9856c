#include "deploy_proto.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs.h"

#define INBUF 65536

void
dp_io_init(struct dp_io *io, ssize_t (*rd)(void *, void *, size_t),
	   int (*wr)(void *, const void *, size_t), void *arg)
{
	memset(io, 0, sizeof(*io));
	io->read = rd;
	io->write = wr;
	io->arg = arg;
}

void
dp_io_free(struct dp_io *io)
{
	free(io->in);
	io->in = NULL;
}

ssize_t
dp_fd_read(void *arg, void *p, size_t n)
{
	ssize_t k;

	do
		k = read(*(int *)arg, p, n);
	while (k < 0 && errno == EINTR);
	return k;
}

int
dp_fd_write(void *arg, const void *p, size_t n)
{
	return fs_write_full(*(int *)arg, p, n);
}

static int
ioerr(struct dp_io *io, int e, const char *what)
{
	snprintf(io->err, sizeof(io->err), "%s%s%s", what, e ? ": " : "", e ? strerror(e) : "");
	errno = e ? e : EPROTO;
	return -1;
}

int
dp_send(struct dp_io *io, uint8_t type, const void *p, size_t n)
{
	unsigned char h[4];

	if (n > DP_MAX_FRAME)
		return ioerr(io, EMSGSIZE, "frame too large");
	h[0] = type;
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
	if (io->write(io->arg, h, 4) < 0 || (n && io->write(io->arg, p, n) < 0))
		return ioerr(io, errno, "send");
	return 0;
}

int
dp_sendf(struct dp_io *io, uint8_t type, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	rc = buf_err(&b) < 0 ? -1 : dp_send(io, type, b.data, b.len);
	buf_free(&b);
	return rc;
}

int
dp_send_long(struct dp_io *io, uint8_t type, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n) {
		size_t k = n > DP_CHUNK ? DP_CHUNK : n;

		if (dp_send(io, type, c, k) < 0)
			return -1;
		c += k;
		n -= k;
	}
	return dp_send(io, type, NULL, 0);
}

static int
fill(struct dp_io *io, size_t want)
{
	if (!io->in) {
		io->in = malloc(INBUF);
		if (!io->in)
			return ioerr(io, ENOMEM, "receive");
	}
	if (io->in_off && io->in_off == io->in_len)
		io->in_off = io->in_len = 0;
	while (io->in_len - io->in_off < want) {
		ssize_t k;

		if (io->in_off && INBUF - io->in_len < want) {
			memmove(io->in, io->in + io->in_off, io->in_len - io->in_off);
			io->in_len -= io->in_off;
			io->in_off = 0;
		}
		k = io->read(io->arg, io->in + io->in_len, INBUF - io->in_len);
		if (k < 0)
			return ioerr(io, errno, "receive");
		if (k == 0)
			return ioerr(io, EPIPE, io->in_len > io->in_off ? "truncated frame"
								    : "the other side closed the connection");
		io->in_len += (size_t)k;
	}
	return 0;
}

int
dp_header(const unsigned char h[4], uint8_t *type, size_t *len)
{
	*type = h[0];
	*len = (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	/* types are ASCII capitals */
	if (h[0] < 'A' || h[0] > 'Z') {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

int
dp_recv(struct dp_io *io, uint8_t *type, struct buf *payload)
{
	size_t len;

	buf_reset(payload);
	if (fill(io, 4) < 0)
		return -1;
	if (dp_header(io->in + io->in_off, type, &len) < 0)
		return ioerr(io, 0, "not a lab deploy frame");
	io->in_off += 4;
	while (len) {
		size_t k;

		if (fill(io, 1) < 0)
			return -1;
		k = io->in_len - io->in_off;
		if (k > len)
			k = len;
		if (buf_add(payload, io->in + io->in_off, k) < 0)
			return ioerr(io, ENOMEM, "receive");
		io->in_off += k;
		len -= k;
	}
	return 0;
}

int
dp_recv_long_rest(struct dp_io *io, uint8_t type, struct buf *payload)
{
	struct buf part = BUF_INIT;
	uint8_t t;

	for (;;) {
		if (dp_recv(io, &t, &part) < 0) {
			buf_free(&part);
			return -1;
		}
		if (t != type) {
			buf_free(&part);
			return ioerr(io, 0, "a long message broken off");
		}
		if (!part.len)
			break;
		if (payload->len + part.len > DP_MAX_LONG) {
			buf_free(&part);
			return ioerr(io, EMSGSIZE, "message too long");
		}
		buf_add(payload, part.data, part.len);
	}
	buf_free(&part);
	return buf_err(payload) < 0 ? ioerr(io, ENOMEM, "receive") : 0;
}

const char *
dp_kv(const char *text, const char *key, char *out, size_t size)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len > kl && !strncmp(p, key, kl) && p[kl] == '=') {
			size_t vl = len - kl - 1;

			if (vl >= size)
				return NULL;
			memcpy(out, p + kl + 1, vl);
			out[vl] = '\0';
			return out;
		}
		p = nl ? nl + 1 : NULL;
	}
	return NULL;
}
