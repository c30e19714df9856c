/*
 * rtnetlink: links, addresses and routes. Requests are appended to an
 * nl_buf (so several go out in one send, and a dry run prints them);
 * dumps fill arrays the caller frees.
 */
#ifndef LAB_NL_ROUTE_H
#define LAB_NL_ROUTE_H

#include <net/if.h>
#include <stdint.h>

#include "ipaddr.h"
#include "nl.h"
#include "nl_fmt.h"

extern const struct nl_fmt_family nl_route_fmt;

struct nl_link_spec {
	const char *name;
	const char *kind;	/* bridge, veth, macvlan, macvtap, dummy, vxlan ... */
	const char *peer;	/* veth: the other end's name */
	int peer_netns_fd;	/* veth: the other end goes there (-1: here) */
	int link;		/* macvlan/macvtap: parent ifindex */
	uint32_t macvlan_mode;	/* MACVLAN_MODE_* (0: kernel default) */
	uint32_t mtu;		/* 0: kernel default */
	int master;		/* ifindex of a bridge to join, 0: none */
	int up;			/* bring it up in the same message */
	int netns_fd;		/* create it inside that namespace (-1: here) */
};

/* RTM_NEWLINK with CREATE|EXCL: the whole link (both veth ends) or nothing. */
int nl_link_add(struct nl_buf *b, const struct nl_link_spec *s);

struct nl_link_change {
	const char *name;	/* looked up by the kernel */
	int up;			/* 1 up, 0 down, -1 unchanged */
	uint32_t mtu;		/* 0 unchanged */
	int master;		/* ifindex, 0 nomaster, -1 unchanged */
	int netns_fd;		/* -1 unchanged */
};
int nl_link_set(struct nl_buf *b, const struct nl_link_change *c);
int nl_link_del(struct nl_buf *b, const char *name);

int nl_addr_add(struct nl_buf *b, int ifindex, const struct ipaddr *a);
int nl_addr_del(struct nl_buf *b, int ifindex, const struct ipaddr *a);
/* With IFA_F_* flags (IFA_F_NODAD: usable at once, no duplicate detection). */
int nl_addr_add_flags(struct nl_buf *b, int ifindex, const struct ipaddr *a, uint32_t ifa_flags);

struct nl_route_spec {
	struct ipaddr dst;	/* prefix; plen 0 = default */
	struct ipaddr gw;	/* family 0: none */
	int oif;		/* 0: none */
	uint32_t table;		/* 0: main */
	uint32_t metric;
};
int nl_route_add(struct nl_buf *b, const struct nl_route_spec *r);
int nl_route_del(struct nl_buf *b, const struct nl_route_spec *r);

/* Policy routing rules (ip rule): "[not] fwmark M lookup T" and "lookup T
 * suppress_prefixlength N", as wg-quick sets for a tunnel of everything. */
struct nl_rule_spec {
	int family;		/* AF_INET or AF_INET6 */
	uint32_t table;
	int has_fwmark;
	uint32_t fwmark;
	int invert;		/* "not" */
	int suppress_plen;	/* -1: none */
	uint32_t priority;	/* 0: the kernel's choice */
};
int nl_rule_add(struct nl_buf *b, const struct nl_rule_spec *r);
int nl_rule_del(struct nl_buf *b, const struct nl_rule_spec *r);

/* Dumps. */
struct nl_link_info {
	int index;
	char name[IFNAMSIZ];
	char kind[32];		/* "" for plain devices (loopback, physical) */
	char slave_kind[32];	/* "bridge" when the link is a bridge port */
	unsigned flags;		/* IFF_* */
	uint8_t operstate;	/* IF_OPER_* */
	uint32_t mtu;
	uint8_t mac[32];
	size_t maclen;
	unsigned type;		/* ARPHRD_* */
	int master;		/* ifindex or 0 */
	int link;		/* IFLA_LINK ifindex or 0 */
	int link_netnsid;	/* -1: the link's peer is in this namespace */
};

struct nl_addr_info {
	int index;
	struct ipaddr addr;	/* with plen */
	uint8_t scope;
	uint32_t flags;
};

struct nl_route_info {
	struct ipaddr dst;
	struct ipaddr gw;	/* family 0: none */
	struct ipaddr prefsrc;	/* family 0: none */
	int oif;
	uint32_t table;
	uint32_t metric;
	uint8_t protocol, scope, type;
};

int nl_link_dump(struct nl_sock *s, struct nl_link_info **out, size_t *n, struct nl_err *err);
int nl_addr_dump(struct nl_sock *s, int family, struct nl_addr_info **out, size_t *n,
		 struct nl_err *err);
/* table 0: every table. */
int nl_route_dump(struct nl_sock *s, int family, uint32_t table, struct nl_route_info **out,
		  size_t *n, struct nl_err *err);

/* Names for output. */
const char *nl_operstate_name(uint8_t st);
const char *nl_route_type_name(uint8_t type);
const char *nl_route_proto_name(uint8_t proto, char buf[16]);
const char *nl_scope_name(uint8_t scope, char buf[16]);

#endif
