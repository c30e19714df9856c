#include "nl_route.h"

#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- requests ---- */

static struct ifinfomsg *
link_msg(struct nl_buf *b, uint16_t type, uint16_t flags)
{
	struct ifinfomsg *ifi;

	if (!nl_msg_begin(b, type, NLM_F_REQUEST | NLM_F_ACK | flags))
		return NULL;
	ifi = nl_msg_put_extra(b, sizeof(*ifi));
	if (ifi)
		ifi->ifi_family = AF_UNSPEC;
	return ifi;
}

int
nl_link_add(struct nl_buf *b, const struct nl_link_spec *s)
{
	struct ifinfomsg *ifi = link_msg(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct nlattr *li, *data, *peer;

	if (!ifi)
		return -1;
	if (s->up) {
		ifi->ifi_flags = IFF_UP;
		ifi->ifi_change = IFF_UP;
	}
	nl_attr_put_str(b, IFLA_IFNAME, s->name);
	if (s->mtu)
		nl_attr_put_u32(b, IFLA_MTU, s->mtu);
	if (s->link > 0)
		nl_attr_put_u32(b, IFLA_LINK, (uint32_t)s->link);
	if (s->master > 0)
		nl_attr_put_u32(b, IFLA_MASTER, (uint32_t)s->master);
	if (s->netns_fd >= 0)
		nl_attr_put_u32(b, IFLA_NET_NS_FD, (uint32_t)s->netns_fd);
	li = nl_attr_nest_begin(b, IFLA_LINKINFO);
	nl_attr_put_str(b, IFLA_INFO_KIND, s->kind);
	if (!strcmp(s->kind, "veth") && s->peer) {
		struct ifinfomsg *pi;

		data = nl_attr_nest_begin(b, IFLA_INFO_DATA);
		peer = nl_attr_nest_begin(b, VETH_INFO_PEER);
		/* The peer nest starts with an ifinfomsg of its own. */
		pi = nl_msg_put_extra(b, sizeof(*pi));
		if (pi)
			pi->ifi_family = AF_UNSPEC;
		nl_attr_put_str(b, IFLA_IFNAME, s->peer);
		if (s->mtu)
			nl_attr_put_u32(b, IFLA_MTU, s->mtu);
		if (s->peer_netns_fd >= 0)
			nl_attr_put_u32(b, IFLA_NET_NS_FD, (uint32_t)s->peer_netns_fd);
		nl_attr_nest_end(b, peer);
		nl_attr_nest_end(b, data);
	} else if ((!strcmp(s->kind, "macvlan") || !strcmp(s->kind, "macvtap")) && s->macvlan_mode) {
		data = nl_attr_nest_begin(b, IFLA_INFO_DATA);
		nl_attr_put_u32(b, IFLA_MACVLAN_MODE, s->macvlan_mode);
		nl_attr_nest_end(b, data);
	}
	nl_attr_nest_end(b, li);
	return nl_buf_err(b);
}

int
nl_link_set(struct nl_buf *b, const struct nl_link_change *c)
{
	struct ifinfomsg *ifi = link_msg(b, RTM_NEWLINK, 0);

	if (!ifi)
		return -1;
	if (c->up >= 0) {
		ifi->ifi_change = IFF_UP;
		ifi->ifi_flags = c->up ? IFF_UP : 0;
	}
	nl_attr_put_str(b, IFLA_IFNAME, c->name);
	if (c->mtu)
		nl_attr_put_u32(b, IFLA_MTU, c->mtu);
	if (c->master >= 0)
		nl_attr_put_u32(b, IFLA_MASTER, (uint32_t)c->master);
	if (c->netns_fd >= 0)
		nl_attr_put_u32(b, IFLA_NET_NS_FD, (uint32_t)c->netns_fd);
	return nl_buf_err(b);
}

int
nl_link_del(struct nl_buf *b, const char *name)
{
	if (!link_msg(b, RTM_DELLINK, 0))
		return -1;
	nl_attr_put_str(b, IFLA_IFNAME, name);
	return nl_buf_err(b);
}

static int
addr_msg(struct nl_buf *b, uint16_t type, uint16_t flags, int ifindex, const struct ipaddr *a,
	 uint32_t ifa_flags)
{
	struct ifaddrmsg *ifa;

	if (!nl_msg_begin(b, type, NLM_F_REQUEST | NLM_F_ACK | flags))
		return -1;
	ifa = nl_msg_put_extra(b, sizeof(*ifa));
	if (!ifa)
		return -1;
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)(a->plen < 0 ? ipaddr_bits(a) : a->plen);
	ifa->ifa_index = (uint32_t)ifindex;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	nl_attr_put(b, IFA_LOCAL, ipaddr_len(a), a->a);
	nl_attr_put(b, IFA_ADDRESS, ipaddr_len(a), a->a);
	if (ifa_flags)
		nl_attr_put_u32(b, IFA_FLAGS, ifa_flags);
	return nl_buf_err(b);
}

int
nl_addr_add(struct nl_buf *b, int ifindex, const struct ipaddr *a)
{
	return addr_msg(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, a, 0);
}

int
nl_addr_add_flags(struct nl_buf *b, int ifindex, const struct ipaddr *a, uint32_t ifa_flags)
{
	return addr_msg(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, ifindex, a, ifa_flags);
}

int
nl_addr_del(struct nl_buf *b, int ifindex, const struct ipaddr *a)
{
	return addr_msg(b, RTM_DELADDR, 0, ifindex, a, 0);
}

static int
route_msg(struct nl_buf *b, uint16_t type, uint16_t flags, const struct nl_route_spec *r)
{
	struct rtmsg *rt;

	if (!nl_msg_begin(b, type, NLM_F_REQUEST | NLM_F_ACK | flags))
		return -1;
	rt = nl_msg_put_extra(b, sizeof(*rt));
	if (!rt)
		return -1;
	rt->rtm_family = (uint8_t)r->dst.family;
	rt->rtm_dst_len = (uint8_t)r->dst.plen;
	rt->rtm_table = r->table && r->table < 256 ? (uint8_t)r->table : RT_TABLE_MAIN;
	if (r->table >= 256)
		rt->rtm_table = RT_TABLE_UNSPEC;
	if (type == RTM_NEWROUTE) {
		rt->rtm_protocol = RTPROT_BOOT;
		/* A route without a gateway is on the link. */
		rt->rtm_scope = r->gw.family ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
		rt->rtm_type = RTN_UNICAST;
	} else {
		rt->rtm_scope = RT_SCOPE_NOWHERE;
	}
	if (r->dst.plen > 0)
		nl_attr_put(b, RTA_DST, ipaddr_len(&r->dst), r->dst.a);
	if (r->gw.family)
		nl_attr_put(b, RTA_GATEWAY, ipaddr_len(&r->gw), r->gw.a);
	if (r->oif > 0)
		nl_attr_put_u32(b, RTA_OIF, (uint32_t)r->oif);
	if (r->metric)
		nl_attr_put_u32(b, RTA_PRIORITY, r->metric);
	if (r->table >= 256)
		nl_attr_put_u32(b, RTA_TABLE, r->table);
	return nl_buf_err(b);
}

int
nl_route_add(struct nl_buf *b, const struct nl_route_spec *r)
{
	return route_msg(b, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int
nl_route_del(struct nl_buf *b, const struct nl_route_spec *r)
{
	return route_msg(b, RTM_DELROUTE, 0, r);
}

static int
rule_msg(struct nl_buf *b, uint16_t type, uint16_t flags, const struct nl_rule_spec *r)
{
	struct fib_rule_hdr *h;

	if (!nl_msg_begin(b, type, NLM_F_REQUEST | NLM_F_ACK | flags))
		return -1;
	h = nl_msg_put_extra(b, sizeof(*h));
	if (!h)
		return -1;
	h->family = (uint8_t)r->family;
	h->action = FR_ACT_TO_TBL;
	h->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (r->invert)
		h->flags |= FIB_RULE_INVERT;
	nl_attr_put_u32(b, FRA_TABLE, r->table);
	if (r->has_fwmark) {
		nl_attr_put_u32(b, FRA_FWMARK, r->fwmark);
		nl_attr_put_u32(b, FRA_FWMASK, 0xffffffffu);
	}
	if (r->suppress_plen >= 0)
		nl_attr_put_u32(b, FRA_SUPPRESS_PREFIXLEN, (uint32_t)r->suppress_plen);
	if (r->priority)
		nl_attr_put_u32(b, FRA_PRIORITY, r->priority);
	return nl_buf_err(b);
}

int
nl_rule_add(struct nl_buf *b, const struct nl_rule_spec *r)
{
	return rule_msg(b, RTM_NEWRULE, NLM_F_CREATE | NLM_F_EXCL, r);
}

int
nl_rule_del(struct nl_buf *b, const struct nl_rule_spec *r)
{
	return rule_msg(b, RTM_DELRULE, 0, r);
}

/* ---- dumps ---- */

struct vec {
	void *items;
	size_t n, cap, size;
};

static void *
vec_push(struct vec *v)
{
	if (v->n == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 16;
		void *p = realloc(v->items, cap * v->size);

		if (!p)
			return NULL;
		v->items = p;
		v->cap = cap;
	}
	memset((char *)v->items + v->n * v->size, 0, v->size);
	return (char *)v->items + v->n++ * v->size;
}

static int
dump(struct nl_sock *s, uint16_t type, uint8_t family, size_t hdrlen, nl_cb *cb, struct vec *v,
     struct nl_err *err)
{
	uint32_t mem[64];
	struct nl_buf b;
	unsigned char *hdr;

	nl_buf_init(&b, mem, sizeof(mem));
	nl_msg_begin(&b, type, NLM_F_REQUEST | NLM_F_DUMP);
	hdr = nl_msg_put_extra(&b, hdrlen);
	if (hdr)
		hdr[0] = family;	/* every rtnetlink header starts with the family */
	if (nl_talk(s, &b, cb, v, err) < 0) {
		free(v->items);
		v->items = NULL;
		v->n = 0;
		return -1;
	}
	return 0;
}

static int
link_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const struct nl_policy pol[IFLA_MAX + 1] = {
		[IFLA_IFNAME] = { NL_A_STR, IFNAMSIZ },
		[IFLA_MTU] = { NL_A_U32, 0 },
		[IFLA_MASTER] = { NL_A_U32, 0 },
		[IFLA_LINK] = { NL_A_U32, 0 },
		[IFLA_OPERSTATE] = { NL_A_U8, 0 },
		[IFLA_LINKINFO] = { NL_A_NEST, 0 },
		[IFLA_LINK_NETNSID] = { NL_A_U32, 0 },
	};
	static const struct nl_policy ipol[IFLA_INFO_MAX + 1] = {
		[IFLA_INFO_KIND] = { NL_A_STR, 0 },
		[IFLA_INFO_SLAVE_KIND] = { NL_A_STR, 0 },
	};
	const struct nlattr *tb[IFLA_MAX + 1], *itb[IFLA_INFO_MAX + 1];
	const struct ifinfomsg *ifi;
	struct nl_link_info *l;
	struct vec *v = arg;
	size_t len;

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return NL_CB_OK;
	ifi = nl_msg_payload(nlh, 0, &len);
	if (len < sizeof(*ifi) || nl_msg_parse(nlh, sizeof(*ifi), pol, IFLA_MAX, tb) < 0 ||
	    !tb[IFLA_IFNAME])
		return NL_CB_OK;	/* malformed: skip it, keep the rest */
	l = vec_push(v);
	if (!l) {
		errno = ENOMEM;
		return NL_CB_ERROR;
	}
	l->index = ifi->ifi_index;
	l->flags = ifi->ifi_flags;
	l->type = ifi->ifi_type;
	l->link_netnsid = -1;
	str_copy(l->name, nl_attr_str(tb[IFLA_IFNAME]), sizeof(l->name));
	if (tb[IFLA_MTU])
		l->mtu = nl_attr_u32(tb[IFLA_MTU]);
	if (tb[IFLA_MASTER])
		l->master = (int)nl_attr_u32(tb[IFLA_MASTER]);
	if (tb[IFLA_LINK])
		l->link = (int)nl_attr_u32(tb[IFLA_LINK]);
	if (tb[IFLA_OPERSTATE])
		l->operstate = nl_attr_u8(tb[IFLA_OPERSTATE]);
	if (tb[IFLA_LINK_NETNSID])
		l->link_netnsid = (int)nl_attr_u32(tb[IFLA_LINK_NETNSID]);
	if (tb[IFLA_ADDRESS] && nl_attr_len(tb[IFLA_ADDRESS]) <= sizeof(l->mac)) {
		l->maclen = nl_attr_len(tb[IFLA_ADDRESS]);
		memcpy(l->mac, nl_attr_data(tb[IFLA_ADDRESS]), l->maclen);
	}
	if (tb[IFLA_LINKINFO] &&
	    nl_attr_parse_nested(tb[IFLA_LINKINFO], ipol, IFLA_INFO_MAX, itb) == 0) {
		if (itb[IFLA_INFO_KIND])
			str_copy(l->kind, nl_attr_str(itb[IFLA_INFO_KIND]), sizeof(l->kind));
		if (itb[IFLA_INFO_SLAVE_KIND])
			str_copy(l->slave_kind, nl_attr_str(itb[IFLA_INFO_SLAVE_KIND]),
				 sizeof(l->slave_kind));
	}
	return NL_CB_OK;
}

int
nl_link_dump(struct nl_sock *s, struct nl_link_info **out, size_t *n, struct nl_err *err)
{
	struct vec v = { NULL, 0, 0, sizeof(struct nl_link_info) };

	if (dump(s, RTM_GETLINK, AF_UNSPEC, sizeof(struct ifinfomsg), link_cb, &v, err) < 0)
		return -1;
	*out = v.items;
	*n = v.n;
	return 0;
}

static int
addr_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const struct nl_policy pol[IFA_MAX + 1] = {
		[IFA_ADDRESS] = { NL_A_BIN, 4 },
		[IFA_LOCAL] = { NL_A_BIN, 4 },
		[IFA_FLAGS] = { NL_A_U32, 0 },
	};
	const struct nlattr *tb[IFA_MAX + 1], *a;
	const struct ifaddrmsg *ifa;
	struct nl_addr_info *ai;
	struct vec *v = arg;
	size_t len, alen;

	if (nlh->nlmsg_type != RTM_NEWADDR)
		return NL_CB_OK;
	ifa = nl_msg_payload(nlh, 0, &len);
	if (len < sizeof(*ifa) || nl_msg_parse(nlh, sizeof(*ifa), pol, IFA_MAX, tb) < 0)
		return NL_CB_OK;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return NL_CB_OK;
	alen = ifa->ifa_family == AF_INET ? 4 : 16;
	/* IFA_LOCAL is the address itself; IFA_ADDRESS the peer on p2p links. */
	a = tb[IFA_LOCAL] ? tb[IFA_LOCAL] : tb[IFA_ADDRESS];
	if (!a || nl_attr_len(a) != alen)
		return NL_CB_OK;
	ai = vec_push(v);
	if (!ai) {
		errno = ENOMEM;
		return NL_CB_ERROR;
	}
	ai->index = (int)ifa->ifa_index;
	ai->addr.family = ifa->ifa_family;
	memcpy(ai->addr.a, nl_attr_data(a), alen);
	ai->addr.plen = ifa->ifa_prefixlen;
	ai->scope = ifa->ifa_scope;
	ai->flags = tb[IFA_FLAGS] ? nl_attr_u32(tb[IFA_FLAGS]) : ifa->ifa_flags;
	return NL_CB_OK;
}

int
nl_addr_dump(struct nl_sock *s, int family, struct nl_addr_info **out, size_t *n,
	     struct nl_err *err)
{
	struct vec v = { NULL, 0, 0, sizeof(struct nl_addr_info) };

	if (dump(s, RTM_GETADDR, (uint8_t)family, sizeof(struct ifaddrmsg), addr_cb, &v, err) < 0)
		return -1;
	*out = v.items;
	*n = v.n;
	return 0;
}

struct route_dump {
	struct vec v;
	uint32_t table;
};

static int
route_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const struct nl_policy pol[RTA_MAX + 1] = {
		[RTA_OIF] = { NL_A_U32, 0 },
		[RTA_TABLE] = { NL_A_U32, 0 },
		[RTA_PRIORITY] = { NL_A_U32, 0 },
	};
	const struct nlattr *tb[RTA_MAX + 1];
	struct route_dump *d = arg;
	const struct rtmsg *rt;
	struct nl_route_info *r;
	size_t len, alen;
	uint32_t table;

	if (nlh->nlmsg_type != RTM_NEWROUTE)
		return NL_CB_OK;
	rt = nl_msg_payload(nlh, 0, &len);
	if (len < sizeof(*rt) || nl_msg_parse(nlh, sizeof(*rt), pol, RTA_MAX, tb) < 0)
		return NL_CB_OK;
	if (rt->rtm_family != AF_INET && rt->rtm_family != AF_INET6)
		return NL_CB_OK;
	table = tb[RTA_TABLE] ? nl_attr_u32(tb[RTA_TABLE]) : rt->rtm_table;
	if (d->table && table != d->table)
		return NL_CB_OK;
	alen = rt->rtm_family == AF_INET ? 4 : 16;
	r = vec_push(&d->v);
	if (!r) {
		errno = ENOMEM;
		return NL_CB_ERROR;
	}
	r->dst.family = rt->rtm_family;
	r->dst.plen = rt->rtm_dst_len;
	if (tb[RTA_DST] && nl_attr_len(tb[RTA_DST]) == alen)
		memcpy(r->dst.a, nl_attr_data(tb[RTA_DST]), alen);
	if (tb[RTA_GATEWAY] && nl_attr_len(tb[RTA_GATEWAY]) == alen) {
		r->gw.family = rt->rtm_family;
		r->gw.plen = -1;
		memcpy(r->gw.a, nl_attr_data(tb[RTA_GATEWAY]), alen);
	}
	if (tb[RTA_PREFSRC] && nl_attr_len(tb[RTA_PREFSRC]) == alen) {
		r->prefsrc.family = rt->rtm_family;
		r->prefsrc.plen = -1;
		memcpy(r->prefsrc.a, nl_attr_data(tb[RTA_PREFSRC]), alen);
	}
	if (tb[RTA_OIF])
		r->oif = (int)nl_attr_u32(tb[RTA_OIF]);
	if (tb[RTA_PRIORITY])
		r->metric = nl_attr_u32(tb[RTA_PRIORITY]);
	r->table = table;
	r->protocol = rt->rtm_protocol;
	r->scope = rt->rtm_scope;
	r->type = rt->rtm_type;
	return NL_CB_OK;
}

int
nl_route_dump(struct nl_sock *s, int family, uint32_t table, struct nl_route_info **out,
	      size_t *n, struct nl_err *err)
{
	struct route_dump d = { { NULL, 0, 0, sizeof(struct nl_route_info) }, table };

	if (dump(s, RTM_GETROUTE, (uint8_t)family, sizeof(struct rtmsg), route_cb, &d.v, err) < 0)
		return -1;
	*out = d.v.items;
	*n = d.v.n;
	return 0;
}

const char *
nl_operstate_name(uint8_t st)
{
	static const char *const names[] = { "UNKNOWN", "NOTPRESENT", "DOWN", "LOWERLAYERDOWN",
					     "TESTING", "DORMANT", "UP" };

	return st < sizeof(names) / sizeof(names[0]) ? names[st] : "UNKNOWN";
}

const char *
nl_route_type_name(uint8_t type)
{
	switch (type) {
	case RTN_UNICAST: return "unicast";
	case RTN_LOCAL: return "local";
	case RTN_BROADCAST: return "broadcast";
	case RTN_ANYCAST: return "anycast";
	case RTN_MULTICAST: return "multicast";
	case RTN_BLACKHOLE: return "blackhole";
	case RTN_UNREACHABLE: return "unreachable";
	case RTN_PROHIBIT: return "prohibit";
	}
	return "other";
}

const char *
nl_route_proto_name(uint8_t proto, char buf[16])
{
	switch (proto) {
	case RTPROT_KERNEL: return "kernel";
	case RTPROT_BOOT: return "boot";
	case RTPROT_STATIC: return "static";
	case RTPROT_DHCP: return "dhcp";
	case RTPROT_RA: return "ra";
	}
	snprintf(buf, 16, "%u", proto);
	return buf;
}

const char *
nl_scope_name(uint8_t scope, char buf[16])
{
	switch (scope) {
	case RT_SCOPE_UNIVERSE: return "global";
	case RT_SCOPE_SITE: return "site";
	case RT_SCOPE_LINK: return "link";
	case RT_SCOPE_HOST: return "host";
	case RT_SCOPE_NOWHERE: return "nowhere";
	}
	snprintf(buf, 16, "%u", scope);
	return buf;
}
