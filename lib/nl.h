/*
 * lab's netlink layer, in the shape of libmnl (whose source package this
 * project cannot obtain): messages and attributes built in a caller-owned
 * bounded buffer, nested attributes, nfnetlink batches, callback-driven
 * receive that checks port ids and sequence numbers, and error ACKs with
 * the kernel's extended message. A socket opened for a dry run prints the
 * messages (nl_fmt) instead of sending them.
 */
#ifndef LAB_NL_H
#define LAB_NL_H

#include <linux/netlink.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NL_ALIGN(n) (((n) + 3u) & ~3u)
#define NL_HDRLEN NL_ALIGN(sizeof(struct nlmsghdr))
#define NL_ATTR_HDRLEN NL_ALIGN(sizeof(struct nlattr))
#define NL_TYPE_MASK NLA_TYPE_MASK

/* ---- building ---- */

struct nl_buf {
	unsigned char *data;	/* caller's memory, 4-byte aligned */
	size_t cap;
	size_t len;		/* bytes of complete and open messages */
	size_t cur;		/* offset of the open message */
	int open;
	int err;		/* EMSGSIZE once anything did not fit */
};

void nl_buf_init(struct nl_buf *b, void *mem, size_t cap);
void nl_buf_reset(struct nl_buf *b);
int nl_buf_err(const struct nl_buf *b);	/* -1 with errno if something did not fit */

struct nlmsghdr *nl_msg_begin(struct nl_buf *b, uint16_t type, uint16_t flags);
/* Fixed-size family header after the netlink header (zeroed). */
void *nl_msg_put_extra(struct nl_buf *b, size_t len);
struct nlmsghdr *nl_msg_cur(struct nl_buf *b);

int nl_attr_put(struct nl_buf *b, uint16_t type, size_t len, const void *data);
int nl_attr_put_u8(struct nl_buf *b, uint16_t type, uint8_t v);
int nl_attr_put_u16(struct nl_buf *b, uint16_t type, uint16_t v);
int nl_attr_put_u32(struct nl_buf *b, uint16_t type, uint32_t v);
int nl_attr_put_u64(struct nl_buf *b, uint16_t type, uint64_t v);
int nl_attr_put_be16(struct nl_buf *b, uint16_t type, uint16_t v);	/* host value, sent big-endian */
int nl_attr_put_be32(struct nl_buf *b, uint16_t type, uint32_t v);
int nl_attr_put_be64(struct nl_buf *b, uint16_t type, uint64_t v);
int nl_attr_put_str(struct nl_buf *b, uint16_t type, const char *s);	/* with NUL */
int nl_attr_put_flag(struct nl_buf *b, uint16_t type);
struct nlattr *nl_attr_nest_begin(struct nl_buf *b, uint16_t type);	/* sets NLA_F_NESTED */
void nl_attr_nest_end(struct nl_buf *b, struct nlattr *nest);
void nl_attr_nest_cancel(struct nl_buf *b, struct nlattr *nest);

/* nfnetlink batches: BEGIN and END around the messages of one
 * transaction; res_id is the subsystem (NFNL_SUBSYS_NFTABLES). */
int nl_batch_begin(struct nl_buf *b, uint16_t res_id);
int nl_batch_end(struct nl_buf *b, uint16_t res_id);
/* Whether a message of a proto socket is an nfnetlink batch delimiter (no
 * ACK is sent for those). Only NETLINK_NETFILTER has them: the same type
 * numbers are ordinary messages elsewhere (16 is RTM_NEWLINK). */
int nl_msg_is_batch_delim(int proto, const struct nlmsghdr *nlh);

/* Clear flags on every message built so far (e.g. NLM_F_ACK on a large
 * nfnetlink batch: errors are still reported, successes stay silent). */
void nl_buf_clear_flags(struct nl_buf *b, uint16_t flags);

/* ---- parsing ---- */

static inline uint16_t
nl_attr_type(const struct nlattr *a)
{
	return a->nla_type & NL_TYPE_MASK;
}

static inline size_t
nl_attr_len(const struct nlattr *a)
{
	return a->nla_len - NL_ATTR_HDRLEN;
}

static inline const void *
nl_attr_data(const struct nlattr *a)
{
	return (const unsigned char *)a + NL_ATTR_HDRLEN;
}

/* Payload of a message after the netlink header and a fixed header of
 * hdrlen bytes; NULL if the message is too short for that header. */
const void *nl_msg_payload(const struct nlmsghdr *nlh, size_t hdrlen, size_t *len);

/* Iterate over attributes with every length checked against what remains. */
struct nl_attr_iter {
	const unsigned char *p, *end;
	int bad;	/* set when a malformed attribute stopped the walk */
};
void nl_attr_iter_init(struct nl_attr_iter *it, const void *payload, size_t len);
void nl_attr_iter_nested(struct nl_attr_iter *it, const struct nlattr *nest);
const struct nlattr *nl_attr_next(struct nl_attr_iter *it);

enum nl_attr_kind {
	NL_A_ANY = 0,	/* no check beyond the header */
	NL_A_U8, NL_A_U16, NL_A_U32, NL_A_U64,
	NL_A_STR,	/* NUL-terminated within its length */
	NL_A_NEST,	/* well-formed attributes inside */
	NL_A_FLAG,	/* no payload */
	NL_A_BIN,	/* at least len bytes */
};

struct nl_policy {
	uint8_t kind;
	uint16_t len;	/* NL_A_BIN: minimum; NL_A_STR: maximum incl. NUL (0: any) */
};

/* Fill tb[0..max] with the last attribute of each type (types above max
 * are skipped). -1 with EINVAL if an attribute is malformed or fails its
 * policy; pol may be NULL. */
int nl_attr_parse(const void *payload, size_t len, const struct nl_policy *pol,
		  uint16_t max, const struct nlattr **tb);
int nl_attr_parse_nested(const struct nlattr *nest, const struct nl_policy *pol,
			 uint16_t max, const struct nlattr **tb);
int nl_msg_parse(const struct nlmsghdr *nlh, size_t hdrlen, const struct nl_policy *pol,
		 uint16_t max, const struct nlattr **tb);

/* Values; call on attributes a policy checked (or check the length). */
uint8_t nl_attr_u8(const struct nlattr *a);
uint16_t nl_attr_u16(const struct nlattr *a);
uint32_t nl_attr_u32(const struct nlattr *a);
uint64_t nl_attr_u64(const struct nlattr *a);
uint16_t nl_attr_be16(const struct nlattr *a);
uint32_t nl_attr_be32(const struct nlattr *a);
uint64_t nl_attr_be64(const struct nlattr *a);
const char *nl_attr_str(const struct nlattr *a);	/* NULL unless NUL-terminated */

/* ---- talking to the kernel ---- */

#define NL_CB_ERROR -1
#define NL_CB_STOP 0
#define NL_CB_OK 1

/* Called for each reply that is not an ACK, an error or DONE. */
typedef int nl_cb(const struct nlmsghdr *nlh, void *arg);

struct nl_err {
	int errnum;		/* positive errno of the first failure */
	uint32_t seq;		/* sequence number of the failed message */
	int index;		/* its index in the request buffer, -1 if unknown */
	uint32_t offset;	/* byte offset of the bad attribute, if has_offset */
	int has_offset;
	char msg[256];		/* the kernel's extended ACK message, or "" */
};

struct nl_fmt_family;

struct nl_sock {
	int fd;
	int proto;
	uint32_t portid;
	uint32_t seq;
	unsigned char *rbuf;
	size_t rcap;
	struct buf *dry;	/* dry run: print requests here, send nothing */
	const struct nl_fmt_family *fmt;
};

/* Open a netlink socket of proto (NETLINK_ROUTE, NETLINK_NETFILTER). */
int nl_open(struct nl_sock *s, int proto);
/* A socket that prints what it would send to out, decoded with fam. */
int nl_open_dry(struct nl_sock *s, int proto, struct buf *out, const struct nl_fmt_family *fam);
void nl_close(struct nl_sock *s);

/*
 * Send every message of req (sequence numbers assigned here), then read
 * replies until each message that asked for one (NLM_F_ACK, NLM_F_DUMP)
 * has had its ACK, error or DONE. When none asked (a batch sent without
 * ACKs), the kernel has processed it by the time send returns: whatever
 * errors it queued are read without waiting. cb gets the data replies.
 * Returns 0, or
 * -1 with errno and *err describing the first failure; the replies are
 * read to the end either way so the socket stays usable.
 */
int nl_talk(struct nl_sock *s, struct nl_buf *req, nl_cb *cb, void *arg, struct nl_err *err);

/* Process one buffer of replies as nl_talk does (exposed for tests and
 * fuzzing). Returns NL_CB_OK while more is expected, NL_CB_STOP when done. */
struct nl_wait {
	uint32_t first_seq, last_seq, portid;
	unsigned pending;	/* replies still expected */
	nl_cb *cb;
	void *arg;
	int cb_stopped;
	struct nl_err *err;
	int failed;
};
int nl_cb_run(const void *buf, size_t len, struct nl_wait *w);

/* "No such device" plus the kernel's message when it gave one. */
const char *nl_strerror(const struct nl_err *err, char *out, size_t size);

#endif
