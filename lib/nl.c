#include "nl.h"

#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "nl_fmt.h"

#define NL_RECV_BUF (64u << 10)

/* ---- building ---- */

void
nl_buf_init(struct nl_buf *b, void *mem, size_t cap)
{
	b->data = mem;
	b->cap = cap & ~(size_t)3;
	nl_buf_reset(b);
}

void
nl_buf_reset(struct nl_buf *b)
{
	b->len = 0;
	b->cur = 0;
	b->open = 0;
	b->err = 0;
}

int
nl_buf_err(const struct nl_buf *b)
{
	if (!b->err)
		return 0;
	errno = b->err;
	return -1;
}

struct nlmsghdr *
nl_msg_cur(struct nl_buf *b)
{
	return b->open ? (struct nlmsghdr *)(b->data + b->cur) : NULL;
}

/* Reserve n bytes (rounded up to 4) at the end, zeroed, and grow the open
 * message over them. */
static void *
reserve(struct nl_buf *b, size_t n)
{
	size_t an = NL_ALIGN(n);
	void *p;

	if (b->err || an < n || an > b->cap - b->len) {
		b->err = EMSGSIZE;
		return NULL;
	}
	p = b->data + b->len;
	memset(p, 0, an);
	b->len += an;
	if (b->open)
		((struct nlmsghdr *)(b->data + b->cur))->nlmsg_len = (uint32_t)(b->len - b->cur);
	return p;
}

struct nlmsghdr *
nl_msg_begin(struct nl_buf *b, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh;
	size_t at = b->len;

	b->open = 0;
	nlh = reserve(b, NL_HDRLEN);
	if (!nlh)
		return NULL;
	b->cur = at;
	b->open = 1;
	nlh->nlmsg_len = NL_HDRLEN;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	return nlh;
}

void *
nl_msg_put_extra(struct nl_buf *b, size_t len)
{
	if (!b->open) {
		b->err = EINVAL;
		return NULL;
	}
	return reserve(b, len);
}

int
nl_attr_put(struct nl_buf *b, uint16_t type, size_t len, const void *data)
{
	struct nlattr *a;

	if (!b->open || len > 0xffff - NL_ATTR_HDRLEN) {
		b->err = b->open ? EMSGSIZE : EINVAL;
		errno = b->err;
		return -1;
	}
	a = reserve(b, NL_ATTR_HDRLEN + len);
	if (!a) {
		errno = b->err;
		return -1;
	}
	a->nla_type = type;
	a->nla_len = (uint16_t)(NL_ATTR_HDRLEN + len);
	if (len)
		memcpy((unsigned char *)a + NL_ATTR_HDRLEN, data, len);
	return 0;
}

int nl_attr_put_u8(struct nl_buf *b, uint16_t t, uint8_t v) { return nl_attr_put(b, t, 1, &v); }
int nl_attr_put_u16(struct nl_buf *b, uint16_t t, uint16_t v) { return nl_attr_put(b, t, 2, &v); }
int nl_attr_put_u32(struct nl_buf *b, uint16_t t, uint32_t v) { return nl_attr_put(b, t, 4, &v); }
int nl_attr_put_u64(struct nl_buf *b, uint16_t t, uint64_t v) { return nl_attr_put(b, t, 8, &v); }
int nl_attr_put_flag(struct nl_buf *b, uint16_t t) { return nl_attr_put(b, t, 0, NULL); }

int
nl_attr_put_be16(struct nl_buf *b, uint16_t type, uint16_t v)
{
	unsigned char p[2] = { (unsigned char)(v >> 8), (unsigned char)v };

	return nl_attr_put(b, type, 2, p);
}

int
nl_attr_put_be32(struct nl_buf *b, uint16_t type, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
			       (unsigned char)(v >> 8), (unsigned char)v };

	return nl_attr_put(b, type, 4, p);
}

int
nl_attr_put_be64(struct nl_buf *b, uint16_t type, uint64_t v)
{
	unsigned char p[8];
	int i;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (56 - 8 * i));
	return nl_attr_put(b, type, 8, p);
}

int
nl_attr_put_str(struct nl_buf *b, uint16_t type, const char *s)
{
	return nl_attr_put(b, type, strlen(s) + 1, s);
}

struct nlattr *
nl_attr_nest_begin(struct nl_buf *b, uint16_t type)
{
	struct nlattr *a;

	if (!b->open) {
		b->err = EINVAL;
		return NULL;
	}
	a = reserve(b, NL_ATTR_HDRLEN);
	if (!a)
		return NULL;
	a->nla_type = type | NLA_F_NESTED;
	a->nla_len = NL_ATTR_HDRLEN;
	return a;
}

void
nl_attr_nest_end(struct nl_buf *b, struct nlattr *nest)
{
	size_t n;

	if (!nest)
		return;
	n = (size_t)(b->data + b->len - (unsigned char *)nest);
	if (n > 0xffff) {
		b->err = EMSGSIZE;
		return;
	}
	nest->nla_len = (uint16_t)n;
}

void
nl_attr_nest_cancel(struct nl_buf *b, struct nlattr *nest)
{
	if (!nest)
		return;
	b->len = (size_t)((unsigned char *)nest - b->data);
	if (b->open)
		((struct nlmsghdr *)(b->data + b->cur))->nlmsg_len = (uint32_t)(b->len - b->cur);
}

static int
batch_msg(struct nl_buf *b, uint16_t type, uint16_t res_id)
{
	struct nfgenmsg *g;

	if (!nl_msg_begin(b, type, NLM_F_REQUEST))
		return -1;
	g = nl_msg_put_extra(b, sizeof(*g));
	if (!g)
		return -1;
	g->nfgen_family = 0;	/* AF_UNSPEC */
	g->version = NFNETLINK_V0;
	g->res_id = (uint16_t)((res_id >> 8) | (res_id << 8));	/* big-endian */
	b->open = 0;
	return 0;
}

int
nl_batch_begin(struct nl_buf *b, uint16_t res_id)
{
	return batch_msg(b, NFNL_MSG_BATCH_BEGIN, res_id);
}

int
nl_batch_end(struct nl_buf *b, uint16_t res_id)
{
	return batch_msg(b, NFNL_MSG_BATCH_END, res_id);
}

void
nl_buf_clear_flags(struct nl_buf *b, uint16_t flags)
{
	size_t off;

	for (off = 0; off + NL_HDRLEN <= b->len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(b->data + off);

		nlh->nlmsg_flags &= (uint16_t)~flags;
		off += NL_ALIGN(nlh->nlmsg_len);
	}
}

/* ---- parsing ---- */

const void *
nl_msg_payload(const struct nlmsghdr *nlh, size_t hdrlen, size_t *len)
{
	size_t need = NL_HDRLEN + NL_ALIGN(hdrlen);

	if (nlh->nlmsg_len < need) {
		/* A header that is exactly as long as needed, unpadded, is fine. */
		if (nlh->nlmsg_len == NL_HDRLEN + hdrlen) {
			*len = 0;
			return (const unsigned char *)nlh + nlh->nlmsg_len;
		}
		return NULL;
	}
	*len = nlh->nlmsg_len - need;
	return (const unsigned char *)nlh + need;
}

void
nl_attr_iter_init(struct nl_attr_iter *it, const void *payload, size_t len)
{
	it->p = payload;
	it->end = (const unsigned char *)payload + len;
	it->bad = 0;
}

void
nl_attr_iter_nested(struct nl_attr_iter *it, const struct nlattr *nest)
{
	nl_attr_iter_init(it, nl_attr_data(nest), nl_attr_len(nest));
}

const struct nlattr *
nl_attr_next(struct nl_attr_iter *it)
{
	const struct nlattr *a;
	size_t left = (size_t)(it->end - it->p);

	if (left < NL_ATTR_HDRLEN) {
		/* Trailing bytes that cannot hold a header are malformed,
		 * except the padding a kernel may leave (all under 4 bytes). */
		if (left)
			it->bad = 1;
		return NULL;
	}
	a = (const struct nlattr *)it->p;
	if (a->nla_len < NL_ATTR_HDRLEN || a->nla_len > left) {
		it->bad = 1;
		it->p = it->end;
		return NULL;
	}
	left = NL_ALIGN((size_t)a->nla_len);
	it->p = left > (size_t)(it->end - it->p) ? it->end : it->p + left;
	return a;
}

static int
check_policy(const struct nlattr *a, const struct nl_policy *p)
{
	size_t n = nl_attr_len(a);
	struct nl_attr_iter it;

	switch (p->kind) {
	case NL_A_ANY:
		return 0;
	case NL_A_U8: return n >= 1 ? 0 : -1;
	case NL_A_U16: return n >= 2 ? 0 : -1;
	case NL_A_U32: return n >= 4 ? 0 : -1;
	case NL_A_U64: return n >= 8 ? 0 : -1;
	case NL_A_FLAG: return n == 0 ? 0 : -1;
	case NL_A_BIN: return n >= p->len ? 0 : -1;
	case NL_A_STR:
		if (n == 0 || ((const char *)nl_attr_data(a))[n - 1] != '\0')
			return -1;
		if (p->len && n > p->len)
			return -1;
		return memchr(nl_attr_data(a), '\0', n) ? 0 : -1;
	case NL_A_NEST:
		nl_attr_iter_nested(&it, a);
		while (nl_attr_next(&it))
			;
		return it.bad ? -1 : 0;
	}
	return -1;
}

int
nl_attr_parse(const void *payload, size_t len, const struct nl_policy *pol, uint16_t max,
	      const struct nlattr **tb)
{
	const struct nlattr *a;
	struct nl_attr_iter it;

	memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
	nl_attr_iter_init(&it, payload, len);
	while ((a = nl_attr_next(&it))) {
		uint16_t t = nl_attr_type(a);

		if (t > max)
			continue;
		if (pol && check_policy(a, &pol[t]) < 0) {
			log_debug("netlink: attribute %u fails its policy (len %zu)", t, nl_attr_len(a));
			errno = EINVAL;
			return -1;
		}
		tb[t] = a;
	}
	if (it.bad) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
nl_attr_parse_nested(const struct nlattr *nest, const struct nl_policy *pol, uint16_t max,
		     const struct nlattr **tb)
{
	return nl_attr_parse(nl_attr_data(nest), nl_attr_len(nest), pol, max, tb);
}

int
nl_msg_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nl_policy *pol,
	     uint16_t max, const struct nlattr **tb)
{
	size_t len;
	const void *p = nl_msg_payload(nlh, hdrlen, &len);

	if (!p) {
		memset(tb, 0, sizeof(*tb) * ((size_t)max + 1));
		errno = EINVAL;
		return -1;
	}
	return nl_attr_parse(p, len, pol, max, tb);
}

static uint64_t
get_le(const struct nlattr *a, size_t n)
{
	uint64_t v = 0;

	if (nl_attr_len(a) < n)
		return 0;
	memcpy(&v, nl_attr_data(a), n);	/* host order, as the kernel sent it */
	return v;
}

static uint64_t
get_be(const struct nlattr *a, size_t n)
{
	const unsigned char *p = nl_attr_data(a);
	uint64_t v = 0;
	size_t i;

	if (nl_attr_len(a) < n)
		return 0;
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

uint8_t nl_attr_u8(const struct nlattr *a) { return nl_attr_len(a) >= 1 ? *(const uint8_t *)nl_attr_data(a) : 0; }
uint16_t nl_attr_u16(const struct nlattr *a) { return (uint16_t)get_le(a, 2); }
uint32_t nl_attr_u32(const struct nlattr *a) { return (uint32_t)get_le(a, 4); }
uint64_t nl_attr_u64(const struct nlattr *a) { return get_le(a, 8); }
uint16_t nl_attr_be16(const struct nlattr *a) { return (uint16_t)get_be(a, 2); }
uint32_t nl_attr_be32(const struct nlattr *a) { return (uint32_t)get_be(a, 4); }
uint64_t nl_attr_be64(const struct nlattr *a) { return get_be(a, 8); }

const char *
nl_attr_str(const struct nlattr *a)
{
	size_t n = nl_attr_len(a);
	const char *s = nl_attr_data(a);

	return n && memchr(s, '\0', n) ? s : NULL;
}

int
nl_msg_is_batch_delim(int proto, const struct nlmsghdr *nlh)
{
	return proto == NETLINK_NETFILTER && (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
					     nlh->nlmsg_type == NFNL_MSG_BATCH_END);
}

/* ---- talking ---- */

int
nl_open(struct nl_sock *s, int proto)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);
	struct timeval tv = { 10, 0 };
	int one = 1, bufsz = 1 << 20;

	memset(s, 0, sizeof(*s));
	s->proto = proto;
	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto);
	if (s->fd < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &sl) < 0)
		goto fail;
	s->portid = sa.nl_pid;
	/* Extended ACKs carry the kernel's reason; capped ACKs do not echo
	 * the whole request back. Both are optional: old kernels lack them. */
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	/* A reply that never comes (a bug, not a state) must not hang us. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	s->rcap = NL_RECV_BUF;
	s->rbuf = malloc(s->rcap);
	if (!s->rbuf)
		goto fail;
	s->seq = (uint32_t)time(NULL);
	return 0;
fail:
	{
		int saved = errno;

		close(s->fd);
		s->fd = -1;
		errno = saved;
	}
	return -1;
}

int
nl_open_dry(struct nl_sock *s, int proto, struct buf *out, const struct nl_fmt_family *fam)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->proto = proto;
	s->dry = out;
	s->fmt = fam;
	s->seq = 0;
	return 0;
}

void
nl_close(struct nl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	free(s->rbuf);
	s->rbuf = NULL;
	s->fd = -1;
}

static void
set_err(struct nl_wait *w, int errnum, uint32_t seq)
{
	if (w->failed)
		return;
	w->failed = 1;
	if (w->err) {
		w->err->errnum = errnum;
		w->err->seq = seq;
		w->err->index = seq >= w->first_seq && seq <= w->last_seq ? (int)(seq - w->first_seq) : -1;
	}
}

/* Extended ACK attributes after struct nlmsgerr. */
static void
parse_ext_ack(const struct nlmsghdr *nlh, struct nl_wait *w)
{
	const struct nlmsgerr *e = (const struct nlmsgerr *)((const unsigned char *)nlh + NL_HDRLEN);
	size_t off = NL_HDRLEN + sizeof(*e), total = nlh->nlmsg_len;
	const struct nlattr *a;
	struct nl_attr_iter it;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || !w->err)
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += NL_ALIGN(e->msg.nlmsg_len) - NL_HDRLEN;
	if (off >= total)
		return;
	nl_attr_iter_init(&it, (const unsigned char *)nlh + off, total - off);
	while ((a = nl_attr_next(&it))) {
		const char *s;

		switch (nl_attr_type(a)) {
		case NLMSGERR_ATTR_MSG:
			s = nl_attr_str(a);
			if (s)
				str_copy(w->err->msg, s, sizeof(w->err->msg));
			break;
		case NLMSGERR_ATTR_OFFS:
			if (nl_attr_len(a) >= 4) {
				w->err->offset = nl_attr_u32(a);
				w->err->has_offset = 1;
			}
			break;
		}
	}
}

int
nl_cb_run(const void *buf, size_t len, struct nl_wait *w)
{
	const unsigned char *p = buf;

	while (len >= NL_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)p;
		size_t step;

		if (nlh->nlmsg_len < NL_HDRLEN || nlh->nlmsg_len > len) {
			log_debug("netlink: malformed reply (len %u of %zu)", nlh->nlmsg_len, len);
			set_err(w, EBADMSG, 0);
			w->pending = 0;
			return NL_CB_STOP;
		}
		step = NL_ALIGN(nlh->nlmsg_len);
		if (step > len)
			step = len;
		/* Replies to someone else, or to an earlier request: not ours. */
		if ((nlh->nlmsg_pid && w->portid && nlh->nlmsg_pid != w->portid) ||
		    nlh->nlmsg_seq < w->first_seq || nlh->nlmsg_seq > w->last_seq) {
			log_debug("netlink: skipping reply seq %u pid %u", nlh->nlmsg_seq, nlh->nlmsg_pid);
			goto next;
		}
		switch (nlh->nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR: {
			const struct nlmsgerr *e;

			if (nlh->nlmsg_len < NL_HDRLEN + sizeof(*e)) {
				set_err(w, EBADMSG, nlh->nlmsg_seq);
				w->pending = 0;
				return NL_CB_STOP;
			}
			e = (const struct nlmsgerr *)(p + NL_HDRLEN);
			if (e->error < 0 && !w->failed) {
				set_err(w, -e->error, nlh->nlmsg_seq);
				parse_ext_ack(nlh, w);
			}
			if (w->pending)
				w->pending--;
			break;
		}
		case NLMSG_DONE:
			if (nlh->nlmsg_len >= NL_HDRLEN + sizeof(int)) {
				int e;

				memcpy(&e, p + NL_HDRLEN, sizeof(e));
				if (e < 0)
					set_err(w, -e, nlh->nlmsg_seq);
			}
			if (w->pending)
				w->pending--;
			break;
		case NLMSG_OVERRUN:
			set_err(w, ENOBUFS, nlh->nlmsg_seq);
			break;
		default:
			if (w->cb && !w->cb_stopped) {
				int r = w->cb(nlh, w->arg);

				if (r == NL_CB_STOP) {
					w->cb_stopped = 1;
				} else if (r < 0) {
					set_err(w, errno ? errno : EINVAL, nlh->nlmsg_seq);
					w->cb_stopped = 1;
				}
			}
		}
next:
		p += step;
		len -= step;
	}
	return w->pending ? NL_CB_OK : NL_CB_STOP;
}

/* An ACK was asked for, or this is a dump (whose end is DONE). The dump
 * bits are REPLACE|EXCL on new-object requests, which carry CREATE. */
static int
expects_reply(const struct nlmsghdr *nlh)
{
	uint16_t f = nlh->nlmsg_flags;

	if (f & NLM_F_ACK)
		return 1;
	return (f & NLM_F_DUMP) == NLM_F_DUMP && !(f & (NLM_F_CREATE | NLM_F_APPEND));
}

int
nl_talk(struct nl_sock *s, struct nl_buf *req, nl_cb *cb, void *arg, struct nl_err *err)
{
	struct nl_wait w;
	struct nl_err local;
	size_t off;
	int first = 1;

	if (!err)
		err = &local;
	memset(err, 0, sizeof(*err));
	err->index = -1;
	if (nl_buf_err(req) < 0) {
		err->errnum = errno;
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.portid = s->portid;
	w.cb = cb;
	w.arg = arg;
	w.err = err;
	for (off = 0; off + NL_HDRLEN <= req->len;) {
		struct nlmsghdr *nlh = (struct nlmsghdr *)(req->data + off);

		nlh->nlmsg_seq = ++s->seq;
		nlh->nlmsg_pid = 0;
		if (first) {
			w.first_seq = nlh->nlmsg_seq;
			first = 0;
		}
		w.last_seq = nlh->nlmsg_seq;
		if (!nl_msg_is_batch_delim(s->proto, nlh) && expects_reply(nlh))
			w.pending++;
		off += NL_ALIGN(nlh->nlmsg_len);
	}
	req->open = 0;
	if (s->dry) {
		nl_fmt_stream(s->dry, s->fmt, req->data, req->len);
		return 0;
	}
	for (off = 0; off < req->len;) {
		ssize_t r = send(s->fd, req->data + off, req->len - off, 0);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			err->errnum = errno;
			return -1;
		}
		off += (size_t)r;
	}
	for (;;) {
		int quick = w.pending == 0;
		struct sockaddr_nl from;
		struct iovec iov = { s->rbuf, s->rcap };
		struct msghdr mh;
		ssize_t r;

		memset(&mh, 0, sizeof(mh));
		mh.msg_name = &from;
		mh.msg_namelen = sizeof(from);
		mh.msg_iov = &iov;
		mh.msg_iovlen = 1;
		r = recvmsg(s->fd, &mh, quick ? MSG_DONTWAIT : 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (quick && (errno == EAGAIN || errno == EWOULDBLOCK))
				break;	/* nothing queued: every message went through */
			if (errno == EAGAIN)
				errno = ETIMEDOUT;
			set_err(&w, errno, 0);
			break;
		}
		if (mh.msg_flags & MSG_TRUNC) {
			set_err(&w, ENOBUFS, 0);
			continue;
		}
		if (from.nl_pid != 0)	/* only the kernel talks to us */
			continue;
		nl_cb_run(s->rbuf, (size_t)r, &w);
		if (!quick && w.pending == 0)
			break;
	}
	if (w.failed) {
		errno = err->errnum;
		return -1;
	}
	return 0;
}

const char *
nl_strerror(const struct nl_err *err, char *out, size_t size)
{
	if (err->msg[0])
		snprintf(out, size, "%s (%s)", strerror(err->errnum), err->msg);
	else
		snprintf(out, size, "%s", strerror(err->errnum));
	return out;
}
