#include <errno.h>
#include <linux/if_link.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <unistd.h>

#include "nl.h"
#include "nl_fmt.h"
#include "spawn.h"
#include "tap.h"

/* A small description of link messages, enough to test the formatter. */
static const struct nl_fmt_attr info_attrs[] = {
	[IFLA_INFO_KIND] = { "IFLA_INFO_KIND", NLF_STR, NULL, NULL },
	[IFLA_INFO_DATA] = { "IFLA_INFO_DATA", NLF_HEX, NULL, NULL },
};
static const struct nl_fmt_table info_table = { IFLA_INFO_DATA, info_attrs };
static const struct nl_fmt_attr link_attrs[] = {
	[IFLA_ADDRESS] = { "IFLA_ADDRESS", NLF_MAC, NULL, NULL },
	[IFLA_IFNAME] = { "IFLA_IFNAME", NLF_STR, NULL, NULL },
	[IFLA_MTU] = { "IFLA_MTU", NLF_U32, NULL, NULL },
	[IFLA_LINKINFO] = { "IFLA_LINKINFO", NLF_NEST, &info_table, NULL },
};
static const struct nl_fmt_table link_table = { IFLA_LINKINFO, link_attrs };

static const char *
msg_name(uint16_t t)
{
	return t == RTM_NEWLINK ? "RTM_NEWLINK" : t == RTM_GETLINK ? "RTM_GETLINK" : NULL;
}

static int
is_get(uint16_t t)
{
	return t == RTM_GETLINK;
}

static size_t
hdr(struct buf *out, uint16_t type, const void *p, size_t len)
{
	const struct ifinfomsg *ifi = p;

	if (len < sizeof(*ifi))
		return 0;
	buf_addf(out, "ifinfomsg family=%u index=%d\n", ifi->ifi_family, ifi->ifi_index);
	return sizeof(*ifi);
}

static const struct nl_fmt_table *
attrs(uint16_t type)
{
	return &link_table;
}

static const struct nl_fmt_family fam = { "test", NETLINK_ROUTE, msg_name, is_get, hdr, attrs };

/* nfnetlink: type = subsystem << 8 | message. */
static const char *
nf_name(uint16_t t)
{
	return t == (NFNL_SUBSYS_NFTABLES << 8 | 0) ? "NFT_MSG_NEWTABLE" : NULL;
}

static size_t
nf_hdr(struct buf *out, uint16_t type, const void *p, size_t len)
{
	const struct nfgenmsg *g = p;

	if (len < sizeof(*g))
		return 0;
	buf_addf(out, "nfgenmsg family=%u\n", g->nfgen_family);
	return sizeof(*g);
}

static const struct nl_fmt_family nffam = { "nftest", NETLINK_NETFILTER, nf_name, NULL, nf_hdr, NULL };

static void
put_newlink(struct nl_buf *b, const char *name, const char *kind, uint16_t flags)
{
	struct nlattr *li;

	nl_msg_begin(b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK | flags);
	nl_msg_put_extra(b, sizeof(struct ifinfomsg));
	nl_attr_put_str(b, IFLA_IFNAME, name);
	li = nl_attr_nest_begin(b, IFLA_LINKINFO);
	nl_attr_put_str(b, IFLA_INFO_KIND, kind);
	nl_attr_nest_end(b, li);
}

static void
test_build_parse(void)
{
	static const struct nl_policy pol[IFLA_MAX + 1] = {
		[IFLA_IFNAME] = { NL_A_STR, IFNAMSIZ },
		[IFLA_MTU] = { NL_A_U32, 0 },
		[IFLA_LINKINFO] = { NL_A_NEST, 0 },
	};
	static const struct nl_policy ipol[IFLA_INFO_MAX + 1] = {
		[IFLA_INFO_KIND] = { NL_A_STR, 0 },
	};
	uint32_t mem[256];
	struct nl_buf b;
	struct nlmsghdr *nlh;
	const struct nlattr *tb[IFLA_MAX + 1], *itb[IFLA_INFO_MAX + 1];
	struct buf out = BUF_INIT;

	nl_buf_init(&b, mem, sizeof(mem));
	put_newlink(&b, "br0", "bridge", NLM_F_CREATE | NLM_F_EXCL);
	nl_attr_put_u32(&b, IFLA_MTU, 9000);
	nlh = (struct nlmsghdr *)b.data;
	/* 16 header + 16 ifinfomsg + 8 ifname + (4 + 12 kind) linkinfo + 8 mtu */
	is_int(nlh->nlmsg_len, 64, "message length covers every attribute");
	is_int(b.len, 64, "buffer length matches");
	ok(nl_msg_parse(nlh, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) == 0, "parses back");
	is_str(nl_attr_str(tb[IFLA_IFNAME]), "br0", "IFLA_IFNAME");
	is_int(nl_attr_u32(tb[IFLA_MTU]), 9000, "IFLA_MTU");
	ok(tb[IFLA_LINKINFO] && (tb[IFLA_LINKINFO]->nla_type & NLA_F_NESTED), "nest flagged NLA_F_NESTED");
	ok(nl_attr_parse_nested(tb[IFLA_LINKINFO], ipol, IFLA_INFO_MAX, itb) == 0 &&
	   !strcmp(nl_attr_str(itb[IFLA_INFO_KIND]), "bridge"), "nested kind");

	nl_fmt_msg(&out, &fam, nlh);
	is_str(buf_cstr(&out),
	       "RTM_NEWLINK REQUEST|ACK|EXCL|CREATE seq=0\n"
	       "  ifinfomsg family=0 index=0\n"
	       "  IFLA_IFNAME \"br0\"\n"
	       "  IFLA_LINKINFO {\n"
	       "    IFLA_INFO_KIND \"bridge\"\n"
	       "  }\n"
	       "  IFLA_MTU 9000\n",
	       "formatted as text");
	buf_free(&out);

	/* A value that does not match its policy is refused. */
	nl_buf_reset(&b);
	nl_msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST);
	nl_msg_put_extra(&b, sizeof(struct ifinfomsg));
	nl_attr_put_u16(&b, IFLA_MTU, 1500);
	ok(nl_msg_parse((struct nlmsghdr *)b.data, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) < 0 &&
	   errno == EINVAL, "a u32 attribute of 2 bytes is refused");
	nl_buf_reset(&b);
	nl_msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST);
	nl_msg_put_extra(&b, sizeof(struct ifinfomsg));
	nl_attr_put(&b, IFLA_IFNAME, 3, "abc");
	ok(nl_msg_parse((struct nlmsghdr *)b.data, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) < 0,
	   "a string without NUL is refused");
	nl_buf_reset(&b);
	nl_msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST);
	nl_msg_put_extra(&b, sizeof(struct ifinfomsg));
	nl_attr_put_str(&b, IFLA_IFNAME, "a-name-over-16-bytes");
	ok(nl_msg_parse((struct nlmsghdr *)b.data, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) < 0,
	   "a string over its maximum is refused");
	{
		/* An attribute claiming more bytes than remain. */
		unsigned char raw[12] = { 200, 0, 3, 0, 'x', 0, 0, 0, 8, 0, 4, 0 };
		struct nl_attr_iter it;

		ok(nl_attr_parse(raw, sizeof(raw), NULL, IFLA_MAX, tb) < 0, "overlong nla_len refused");
		nl_attr_iter_init(&it, raw + 8, 3);
		ok(nl_attr_next(&it) == NULL && it.bad, "a partial header is malformed");
		raw[0] = 2;
		ok(nl_attr_parse(raw, sizeof(raw), NULL, IFLA_MAX, tb) < 0, "nla_len below 4 refused");
	}
	{
		struct nlmsghdr shortmsg = { NL_HDRLEN + 4, RTM_NEWLINK, 0, 0, 0 };
		size_t len;

		ok(nl_msg_payload(&shortmsg, sizeof(struct ifinfomsg), &len) == NULL,
		   "message shorter than its family header");
	}
}

static void
test_overflow(void)
{
	uint32_t mem[16];	/* 64 bytes */
	struct nl_buf b;
	struct nl_sock s;
	struct buf out = BUF_INIT;
	int i;

	nl_buf_init(&b, mem, sizeof(mem));
	nl_msg_begin(&b, RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK);
	for (i = 0; i < 10; i++)
		nl_attr_put_u32(&b, IFLA_MTU, 1);
	ok(nl_buf_err(&b) < 0 && errno == EMSGSIZE, "overflow is sticky EMSGSIZE");
	ok(b.len <= sizeof(mem), "never writes past the buffer");
	nl_open_dry(&s, NETLINK_ROUTE, &out, &fam);
	ok(nl_talk(&s, &b, NULL, NULL, NULL) < 0 && errno == EMSGSIZE, "an overflowed request is not sent");
	nl_close(&s);
	buf_free(&out);
}

static void
test_dry_batch(void)
{
	uint32_t mem[256];
	struct nl_buf b;
	struct nl_sock s;
	struct buf out = BUF_INIT;

	nl_buf_init(&b, mem, sizeof(mem));
	nl_batch_begin(&b, NFNL_SUBSYS_NFTABLES);
	nl_msg_begin(&b, NFNL_SUBSYS_NFTABLES << 8 | 0, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE);
	((struct nfgenmsg *)nl_msg_put_extra(&b, sizeof(struct nfgenmsg)))->nfgen_family = 1;
	nl_attr_put_str(&b, 1, "lab");
	nl_batch_end(&b, NFNL_SUBSYS_NFTABLES);
	nl_open_dry(&s, NETLINK_NETFILTER, &out, &nffam);
	ok(nl_talk(&s, &b, NULL, NULL, NULL) == 0, "dry run succeeds without a socket");
	is_str(buf_cstr(&out),
	       "BATCH_BEGIN REQUEST seq=1\n"
	       "  nfgenmsg res_id=10\n"
	       "NFT_MSG_NEWTABLE REQUEST|ACK|CREATE seq=2\n"
	       "  nfgenmsg family=1\n"
	       "  attr 1 6c616200\n"
	       "BATCH_END REQUEST seq=3\n"
	       "  nfgenmsg res_id=10\n",
	       "dry run prints the batch with sequence numbers");
	nl_close(&s);
	buf_free(&out);
}

/* Replies built by hand, run through the receive logic. */
static int data_msgs;

static int
count_cb(const struct nlmsghdr *nlh, void *arg)
{
	data_msgs++;
	return NL_CB_OK;
}

static void
test_cb_run(void)
{
	uint32_t mem[256];
	struct nl_buf b;
	struct nl_wait w;
	struct nl_err err;
	struct nlmsgerr *e;
	struct nlmsghdr *nlh;

	nl_buf_init(&b, mem, sizeof(mem));
	nlh = nl_msg_begin(&b, RTM_NEWLINK, 0);
	nlh->nlmsg_seq = 5;
	nlh = nl_msg_begin(&b, RTM_NEWLINK, 0);	/* someone else's: skipped */
	nlh->nlmsg_seq = 99;
	nlh = nl_msg_begin(&b, NLMSG_ERROR, 0);	/* ACK of seq 5 */
	nlh->nlmsg_seq = 5;
	e = nl_msg_put_extra(&b, sizeof(*e));
	e->error = 0;
	memset(&w, 0, sizeof(w));
	memset(&err, 0, sizeof(err));
	w.first_seq = w.last_seq = 5;
	w.pending = 1;
	w.cb = count_cb;
	w.err = &err;
	ok(nl_cb_run(b.data, b.len, &w) == NL_CB_STOP, "done after the ACK");
	is_int(data_msgs, 1, "one data message for us, the stray one skipped");
	ok(!w.failed, "ACK is success");

	/* An error with extended ACK attributes, capped. */
	nl_buf_reset(&b);
	nlh = nl_msg_begin(&b, NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS);
	nlh->nlmsg_seq = 7;
	e = nl_msg_put_extra(&b, sizeof(*e));
	e->error = -EEXIST;
	e->msg.nlmsg_len = 64;
	nl_attr_put_str(&b, NLMSGERR_ATTR_MSG, "Link already exists");
	nl_attr_put_u32(&b, NLMSGERR_ATTR_OFFS, 32);
	memset(&w, 0, sizeof(w));
	memset(&err, 0, sizeof(err));
	w.first_seq = 6;
	w.last_seq = 7;
	w.pending = 2;
	w.err = &err;
	ok(nl_cb_run(b.data, b.len, &w) == NL_CB_OK, "one reply still pending");
	ok(w.failed && err.errnum == EEXIST && err.seq == 7 && err.index == 1, "error, seq and index");
	is_str(err.msg, "Link already exists", "extended ACK message");
	ok(err.has_offset && err.offset == 32, "extended ACK offset");
	{
		char s[300];

		is_str(nl_strerror(&err, s, sizeof(s)), "File exists (Link already exists)", "nl_strerror");
	}

	/* DONE carrying an error ends a dump with that error. */
	nl_buf_reset(&b);
	nlh = nl_msg_begin(&b, NLMSG_DONE, NLM_F_MULTI);
	nlh->nlmsg_seq = 3;
	{
		int *v = nl_msg_put_extra(&b, sizeof(int));

		*v = -EINTR;
	}
	memset(&w, 0, sizeof(w));
	memset(&err, 0, sizeof(err));
	w.first_seq = w.last_seq = 3;
	w.pending = 1;
	w.err = &err;
	ok(nl_cb_run(b.data, b.len, &w) == NL_CB_STOP && err.errnum == EINTR, "DONE with an error");

	/* A length field larger than the buffer. */
	nl_buf_reset(&b);
	nlh = nl_msg_begin(&b, RTM_NEWLINK, 0);
	nlh->nlmsg_seq = 3;
	nlh->nlmsg_len = 4000;
	memset(&w, 0, sizeof(w));
	memset(&err, 0, sizeof(err));
	w.first_seq = w.last_seq = 3;
	w.pending = 1;
	w.err = &err;
	ok(nl_cb_run(b.data, b.len, &w) == NL_CB_STOP && err.errnum == EBADMSG, "truncated reply is EBADMSG");
}

/* ---- against the kernel, in a network namespace of our own ---- */

struct find {
	const char *name;
	int found;
};

static int
find_link(const struct nlmsghdr *nlh, void *arg)
{
	static const struct nl_policy pol[IFLA_MAX + 1] = { [IFLA_IFNAME] = { NL_A_STR, IFNAMSIZ } };
	const struct nlattr *tb[IFLA_MAX + 1];
	struct find *f = arg;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return NL_CB_OK;
	if (nl_msg_parse(nlh, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) < 0)
		return NL_CB_ERROR;
	if (tb[IFLA_IFNAME] && !strcmp(nl_attr_str(tb[IFLA_IFNAME]), f->name))
		f->found++;
	return NL_CB_OK;
}

static void
test_kernel(void)
{
	uint32_t mem[1024];
	struct nl_buf b;
	struct nl_sock s;
	struct nl_err err;
	struct find f = { "labt0", 0 };
	struct ifinfomsg *ifi;

	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		skip("needs root (a network namespace of its own)", "kernel: create, dump, errors");
		return;
	}
	ok(nl_open(&s, NETLINK_ROUTE) == 0 && s.portid != 0, "rtnetlink socket bound");
	nl_buf_init(&b, mem, sizeof(mem));
	put_newlink(&b, "labt0", "bridge", NLM_F_CREATE | NLM_F_EXCL);
	ok(nl_talk(&s, &b, NULL, NULL, &err) == 0, "bridge created (ACK)");

	nl_buf_reset(&b);
	nl_msg_begin(&b, RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP);
	ifi = nl_msg_put_extra(&b, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ok(nl_talk(&s, &b, find_link, &f, &err) == 0, "link dump ends with DONE");
	is_int(f.found, 1, "the new link is in the dump");

	nl_buf_reset(&b);
	put_newlink(&b, "labt1", "bridge", NLM_F_CREATE | NLM_F_EXCL);
	put_newlink(&b, "labt0", "bridge", NLM_F_CREATE | NLM_F_EXCL);
	ok(nl_talk(&s, &b, NULL, NULL, &err) < 0 && errno == EEXIST, "second of two: EEXIST");
	is_int(err.index, 1, "the error names the second message");

	nl_buf_reset(&b);
	put_newlink(&b, "labt2", "no-such-kind", NLM_F_CREATE | NLM_F_EXCL);
	ok(nl_talk(&s, &b, NULL, NULL, &err) < 0, "unknown link kind refused");
	ok(err.msg[0] != '\0', "with the kernel's extended message (\"%s\")", err.msg);

	/* The real peer agrees: ip sees what we made. */
	{
		char *ip[] = { "ip", "-j", "link", "show", "labt0", NULL };
		char *ip1[] = { "ip", "-j", "link", "show", "labt1", NULL };
		struct buf out = BUF_INIT;
		int st;

		if (spawn_run(ip, &out, 1 << 16, &st) < 0) {
			skip("ip (iproute2) not installed", "ip -j link agrees");
			skip("ip (iproute2) not installed", "ip -j link agrees (batch)");
		} else {
			ok(st == 0 && strstr(buf_cstr(&out), "\"ifname\":\"labt0\"") &&
			   strstr(buf_cstr(&out), "\"link_type\":\"ether\""),
			   "ip -j link shows the bridge");
			buf_reset(&out);
			ok(spawn_run(ip1, &out, 1 << 16, &st) == 0 && st == 0 &&
			   strstr(buf_cstr(&out), "\"ifname\":\"labt1\""),
			   "the first message of the failed pair took effect (rtnetlink has no transactions)");
		}
		buf_free(&out);
	}
	nl_close(&s);
}

int
main(void)
{
	test_build_parse();
	test_overflow();
	test_dry_batch();
	test_cb_run();
	test_kernel();
	return done_testing();
}
