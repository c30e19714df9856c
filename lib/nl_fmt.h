/*
 * Netlink messages as text, for dry runs (-n) and golden tests. A family
 * describes its message types, fixed header and attribute tables; what it
 * does not describe is printed generically (type numbers and hex).
 *
 *	RTM_NEWLINK REQUEST|ACK|CREATE|EXCL seq=1
 *	  ifinfomsg family=0 type=0 index=0 flags=0x0 change=0x0
 *	  IFLA_IFNAME "br0"
 *	  IFLA_LINKINFO {
 *	    IFLA_INFO_KIND "bridge"
 *	  }
 */
#ifndef LAB_NL_FMT_H
#define LAB_NL_FMT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "nl.h"

enum nl_fmt_kind {
	NLF_HEX = 0,	/* bytes in hex */
	NLF_U8, NLF_U16, NLF_U32, NLF_U64,
	NLF_BE16, NLF_BE32, NLF_BE64,
	NLF_S32,
	NLF_STR,	/* quoted, escapes for anything unprintable */
	NLF_FLAG,
	NLF_NEST,	/* attributes described by .nest */
	NLF_NEST_LIST,	/* nested elements, each described by .nest */
	NLF_IP,		/* 4 or 16 bytes as an address */
	NLF_MAC,	/* 6 bytes as aa:bb:cc:dd:ee:ff */
	NLF_HEX32,	/* u32 in hex (flags) */
	NLF_BES32,	/* signed 32 bits, big-endian (nftables priorities, verdicts) */
	NLF_BEHEX32,	/* big-endian u32 in hex */
};

struct nl_fmt_table;

struct nl_fmt_attr {
	const char *name;
	uint8_t kind;
	const struct nl_fmt_table *nest;
	/* For nests whose layout depends on a sibling (IFLA_INFO_DATA on
	 * IFLA_INFO_KIND): given the enclosing attributes, pick the table. */
	const struct nl_fmt_table *(*pick)(const void *siblings, size_t len);
	/* For nests that begin with a fixed header (VETH_INFO_PEER holds an
	 * ifinfomsg): print it, return its length. */
	size_t (*hdr)(struct buf *out, const void *p, size_t len);
};

struct nl_fmt_table {
	uint16_t max;
	const struct nl_fmt_attr *attr;	/* indexed by type, max + 1 entries */
};

struct nl_fmt_family {
	const char *name;
	int proto;		/* NETLINK_ROUTE, NETLINK_NETFILTER, ... */
	/* Name of a message type, or NULL. */
	const char *(*msg_name)(uint16_t type);
	/* Whether 0x100..0x800 of the flags mean ROOT/MATCH/ATOMIC (get)
	 * rather than REPLACE/EXCL/CREATE/APPEND (new). */
	int (*is_get)(uint16_t type);
	/* Print the fixed header after nlmsghdr; returns its length or 0. */
	size_t (*hdr)(struct buf *out, uint16_t type, const void *p, size_t len);
	/* Attribute table of a message type, or NULL. */
	const struct nl_fmt_table *(*attrs)(uint16_t type);
};

void nl_fmt_msg(struct buf *out, const struct nl_fmt_family *fam, const struct nlmsghdr *nlh);
/* Every message in a buffer, in order. */
void nl_fmt_stream(struct buf *out, const struct nl_fmt_family *fam, const void *p, size_t len);
void nl_fmt_attrs(struct buf *out, const struct nl_fmt_table *t, const void *p, size_t len,
		  int depth);

#endif
