/* rtnetlink messages as text (dry runs, golden tests). */
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>

#include "nl_route.h"

static size_t
ifinfo_hdr(struct buf *out, const void *p, size_t len)
{
	const struct ifinfomsg *ifi = p;

	if (len < sizeof(*ifi))
		return 0;
	buf_addf(out, "ifinfomsg family=%u type=%u index=%d flags=0x%x change=0x%x\n",
		 ifi->ifi_family, ifi->ifi_type, ifi->ifi_index, ifi->ifi_flags, ifi->ifi_change);
	return sizeof(*ifi);
}

static const struct nl_fmt_table link_table;

static const struct nl_fmt_attr veth_attrs[] = {
	[VETH_INFO_PEER] = { "VETH_INFO_PEER", NLF_NEST, &link_table, NULL, ifinfo_hdr },
};
static const struct nl_fmt_table veth_table = { VETH_INFO_PEER, veth_attrs };

static const struct nl_fmt_attr macvlan_attrs[] = {
	[IFLA_MACVLAN_MODE] = { "IFLA_MACVLAN_MODE", NLF_U32, NULL, NULL, NULL },
	[IFLA_MACVLAN_FLAGS] = { "IFLA_MACVLAN_FLAGS", NLF_U16, NULL, NULL, NULL },
};
static const struct nl_fmt_table macvlan_table = { IFLA_MACVLAN_FLAGS, macvlan_attrs };

/* IFLA_INFO_DATA's layout depends on the sibling IFLA_INFO_KIND. */
static const struct nl_fmt_table *
info_data(const void *p, size_t len)
{
	const struct nlattr *a;
	struct nl_attr_iter it;

	nl_attr_iter_init(&it, p, len);
	while ((a = nl_attr_next(&it))) {
		const char *kind;

		if (nl_attr_type(a) != IFLA_INFO_KIND || !(kind = nl_attr_str(a)))
			continue;
		if (!strcmp(kind, "veth"))
			return &veth_table;
		if (!strcmp(kind, "macvlan") || !strcmp(kind, "macvtap"))
			return &macvlan_table;
	}
	return NULL;
}

static const struct nl_fmt_attr info_attrs[] = {
	[IFLA_INFO_KIND] = { "IFLA_INFO_KIND", NLF_STR, NULL, NULL, NULL },
	[IFLA_INFO_DATA] = { "IFLA_INFO_DATA", NLF_NEST, NULL, info_data, NULL },
	[IFLA_INFO_SLAVE_KIND] = { "IFLA_INFO_SLAVE_KIND", NLF_STR, NULL, NULL, NULL },
};
static const struct nl_fmt_table info_table = { IFLA_INFO_SLAVE_KIND, info_attrs };

static const struct nl_fmt_attr link_attrs[] = {
	[IFLA_ADDRESS] = { "IFLA_ADDRESS", NLF_MAC, NULL, NULL, NULL },
	[IFLA_BROADCAST] = { "IFLA_BROADCAST", NLF_MAC, NULL, NULL, NULL },
	[IFLA_IFNAME] = { "IFLA_IFNAME", NLF_STR, NULL, NULL, NULL },
	[IFLA_MTU] = { "IFLA_MTU", NLF_U32, NULL, NULL, NULL },
	[IFLA_LINK] = { "IFLA_LINK", NLF_U32, NULL, NULL, NULL },
	[IFLA_MASTER] = { "IFLA_MASTER", NLF_U32, NULL, NULL, NULL },
	[IFLA_TXQLEN] = { "IFLA_TXQLEN", NLF_U32, NULL, NULL, NULL },
	[IFLA_OPERSTATE] = { "IFLA_OPERSTATE", NLF_U8, NULL, NULL, NULL },
	[IFLA_LINKINFO] = { "IFLA_LINKINFO", NLF_NEST, &info_table, NULL, NULL },
	[IFLA_NET_NS_PID] = { "IFLA_NET_NS_PID", NLF_U32, NULL, NULL, NULL },
	[IFLA_IFALIAS] = { "IFLA_IFALIAS", NLF_STR, NULL, NULL, NULL },
	[IFLA_NET_NS_FD] = { "IFLA_NET_NS_FD", NLF_U32, NULL, NULL, NULL },
	[IFLA_EXT_MASK] = { "IFLA_EXT_MASK", NLF_HEX32, NULL, NULL, NULL },
	[IFLA_LINK_NETNSID] = { "IFLA_LINK_NETNSID", NLF_S32, NULL, NULL, NULL },
};
static const struct nl_fmt_table link_table = { IFLA_LINK_NETNSID, link_attrs };

static const struct nl_fmt_attr addr_attrs[] = {
	[IFA_ADDRESS] = { "IFA_ADDRESS", NLF_IP, NULL, NULL, NULL },
	[IFA_LOCAL] = { "IFA_LOCAL", NLF_IP, NULL, NULL, NULL },
	[IFA_LABEL] = { "IFA_LABEL", NLF_STR, NULL, NULL, NULL },
	[IFA_BROADCAST] = { "IFA_BROADCAST", NLF_IP, NULL, NULL, NULL },
	[IFA_FLAGS] = { "IFA_FLAGS", NLF_HEX32, NULL, NULL, NULL },
};
static const struct nl_fmt_table addr_table = { IFA_FLAGS, addr_attrs };

static const struct nl_fmt_attr route_attrs[] = {
	[RTA_DST] = { "RTA_DST", NLF_IP, NULL, NULL, NULL },
	[RTA_SRC] = { "RTA_SRC", NLF_IP, NULL, NULL, NULL },
	[RTA_IIF] = { "RTA_IIF", NLF_U32, NULL, NULL, NULL },
	[RTA_OIF] = { "RTA_OIF", NLF_U32, NULL, NULL, NULL },
	[RTA_GATEWAY] = { "RTA_GATEWAY", NLF_IP, NULL, NULL, NULL },
	[RTA_PRIORITY] = { "RTA_PRIORITY", NLF_U32, NULL, NULL, NULL },
	[RTA_PREFSRC] = { "RTA_PREFSRC", NLF_IP, NULL, NULL, NULL },
	[RTA_TABLE] = { "RTA_TABLE", NLF_U32, NULL, NULL, NULL },
};
static const struct nl_fmt_table route_table = { RTA_TABLE, route_attrs };

static const char *
msg_name(uint16_t t)
{
	switch (t) {
	case RTM_NEWLINK: return "RTM_NEWLINK";
	case RTM_DELLINK: return "RTM_DELLINK";
	case RTM_GETLINK: return "RTM_GETLINK";
	case RTM_NEWADDR: return "RTM_NEWADDR";
	case RTM_DELADDR: return "RTM_DELADDR";
	case RTM_GETADDR: return "RTM_GETADDR";
	case RTM_NEWROUTE: return "RTM_NEWROUTE";
	case RTM_DELROUTE: return "RTM_DELROUTE";
	case RTM_GETROUTE: return "RTM_GETROUTE";
	}
	return NULL;
}

static int
is_get(uint16_t t)
{
	return t == RTM_GETLINK || t == RTM_GETADDR || t == RTM_GETROUTE;
}

static size_t
hdr(struct buf *out, uint16_t t, const void *p, size_t len)
{
	if (t >= RTM_NEWLINK && t <= RTM_SETLINK)
		return ifinfo_hdr(out, p, len);
	if (t >= RTM_NEWADDR && t <= RTM_GETADDR) {
		const struct ifaddrmsg *a = p;

		if (len < sizeof(*a))
			return 0;
		buf_addf(out, "ifaddrmsg family=%u prefixlen=%u flags=0x%x scope=%u index=%u\n",
			 a->ifa_family, a->ifa_prefixlen, a->ifa_flags, a->ifa_scope, a->ifa_index);
		return sizeof(*a);
	}
	if (t >= RTM_NEWROUTE && t <= RTM_GETROUTE) {
		const struct rtmsg *r = p;

		if (len < sizeof(*r))
			return 0;
		buf_addf(out, "rtmsg family=%u dst_len=%u table=%u protocol=%u scope=%u type=%u\n",
			 r->rtm_family, r->rtm_dst_len, r->rtm_table, r->rtm_protocol, r->rtm_scope,
			 r->rtm_type);
		return sizeof(*r);
	}
	return 0;
}

static const struct nl_fmt_table *
attrs(uint16_t t)
{
	if (t >= RTM_NEWLINK && t <= RTM_SETLINK)
		return &link_table;
	if (t >= RTM_NEWADDR && t <= RTM_GETADDR)
		return &addr_table;
	if (t >= RTM_NEWROUTE && t <= RTM_GETROUTE)
		return &route_table;
	return NULL;
}

const struct nl_fmt_family nl_route_fmt = { "rtnetlink", NETLINK_ROUTE, msg_name, is_get, hdr, attrs };
