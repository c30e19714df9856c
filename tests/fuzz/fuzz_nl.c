/*
 * Fuzz the netlink reply path: arbitrary bytes as a kernel reply through
 * nl_cb_run (with a callback that parses every message with a policy and
 * walks nested attributes), and through the text formatter.
 */
#include "../../lib/nl.c"

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct nl_policy pol[IFLA_MAX + 1] = {
	[IFLA_IFNAME] = { NL_A_STR, IFNAMSIZ },
	[IFLA_MTU] = { NL_A_U32, 0 },
	[IFLA_LINKINFO] = { NL_A_NEST, 0 },
	[IFLA_ADDRESS] = { NL_A_BIN, 6 },
};

static int
cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[IFLA_MAX + 1], *itb[IFLA_INFO_MAX + 1];
	size_t *seen = arg;

	(*seen)++;
	if (nl_msg_parse(nlh, sizeof(struct ifinfomsg), pol, IFLA_MAX, tb) < 0)
		return NL_CB_OK;
	if (tb[IFLA_IFNAME] && !nl_attr_str(tb[IFLA_IFNAME]))
		abort();	/* the policy promised a terminated string */
	if (tb[IFLA_LINKINFO])
		nl_attr_parse_nested(tb[IFLA_LINKINFO], NULL, IFLA_INFO_MAX, itb);
	return (*seen % 7) ? NL_CB_OK : NL_CB_STOP;
}

static const struct nl_fmt_attr info[] = {
	[IFLA_INFO_KIND] = { "KIND", NLF_STR, NULL, NULL },
	[IFLA_INFO_DATA] = { "DATA", NLF_NEST, NULL, NULL },
};
static const struct nl_fmt_table info_t = { IFLA_INFO_DATA, info };
static const struct nl_fmt_attr link_attrs[] = {
	[IFLA_ADDRESS] = { "ADDRESS", NLF_MAC, NULL, NULL },
	[IFLA_BROADCAST] = { "BROADCAST", NLF_IP, NULL, NULL },
	[IFLA_IFNAME] = { "IFNAME", NLF_STR, NULL, NULL },
	[IFLA_MTU] = { "MTU", NLF_U32, NULL, NULL },
	[IFLA_LINK] = { "LINK", NLF_BE64, NULL, NULL },
	[IFLA_QDISC] = { "QDISC", NLF_S32, NULL, NULL },
	[IFLA_STATS] = { "STATS", NLF_NEST_LIST, &info_t, NULL },
	[IFLA_LINKINFO] = { "LINKINFO", NLF_NEST, &info_t, NULL },
};
static const struct nl_fmt_table link_t = { IFLA_LINKINFO, link_attrs };

static const struct nl_fmt_table *
tables(uint16_t type)
{
	return &link_t;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct nl_fmt_family fam = { "fuzz", NETLINK_NETFILTER, NULL, NULL, NULL, tables };
	struct nl_wait w;
	struct nl_err err;
	struct buf out = BUF_INIT;
	size_t seen = 0;
	void *copy;

	if (size < 4)
		return 0;
	/* Aligned copy, as a receive buffer would be. */
	copy = malloc(size);
	memcpy(copy, data, size);
	memset(&w, 0, sizeof(w));
	memset(&err, 0, sizeof(err));
	w.first_seq = data[0];
	w.last_seq = (uint32_t)data[0] + data[1];
	w.pending = data[2] % 4;
	w.cb = cb;
	w.arg = &seen;
	w.err = &err;
	nl_cb_run(copy, size, &w);
	nl_fmt_stream(&out, &fam, copy, size);
	buf_free(&out);
	free(copy);
	return 0;
}
