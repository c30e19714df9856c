/*
 * nftables over netlink (libnftnl's job, written here): tables, chains,
 * sets and elements, and rules built from expressions, all appended to an
 * nl_buf inside one nfnetlink batch so the kernel applies them as one
 * transaction. Values are in the byte order the kernel compares them in.
 */
#ifndef LAB_NFT_H
#define LAB_NFT_H

#include <linux/netfilter/nf_tables.h>
#include <stddef.h>
#include <stdint.h>

#include "nl.h"
#include "nl_fmt.h"

extern const struct nl_fmt_family nft_fmt;

#define NFT_TYPE(msg) ((uint16_t)(NFNL_SUBSYS_NFTABLES << 8 | (msg)))

/* From linux/netfilter.h and the conntrack headers, which clash with the
 * libc's netinet/in.h when included together. */
enum { NFT_V_DROP = 0, NFT_V_ACCEPT = 1 };
enum { NFT_FAM_INET = 1, NFT_FAM_IPV4 = 2, NFT_FAM_IPV6 = 10 };
enum { NFT_HOOK_PREROUTING, NFT_HOOK_INPUT, NFT_HOOK_FORWARD, NFT_HOOK_OUTPUT,
       NFT_HOOK_POSTROUTING };
#define NFT_PRIO_DSTNAT (-100)
#define NFT_PRIO_SRCNAT 100
#define NFT_CT_INVALID 0x1u
#define NFT_CT_ESTABLISHED 0x2u
#define NFT_CT_RELATED 0x4u
#define NFT_CT_STATUS_DNAT 0x20u	/* IPS_DST_NAT */

/* nftables' datatype numbers (the userspace ids nft reads back). */
enum {
	NFT_DT_VERDICT = 1,
	NFT_DT_INTEGER = 4,
	NFT_DT_IPADDR = 7,
	NFT_DT_IP6ADDR = 8,
	NFT_DT_ETHERADDR = 9,
	NFT_DT_INET_PROTO = 12,
	NFT_DT_INET_SERVICE = 13,
	NFT_DT_ICMP_TYPE = 14,
	NFT_DT_ICMP6_TYPE = 29,
	NFT_DT_IFNAME = 41,
};
#define NFT_DT_CONCAT(a, b) ((uint32_t)(a) << 6 | (uint32_t)(b))

int nft_batch_begin(struct nl_buf *b);
int nft_batch_end(struct nl_buf *b);

int nft_table_add(struct nl_buf *b, int family, const char *table);
int nft_table_del(struct nl_buf *b, int family, const char *table);

/* hook < 0: a regular chain. policy: NFT_V_ACCEPT or NFT_V_DROP. */
int nft_chain_add(struct nl_buf *b, int family, const char *table, const char *chain,
		  const char *type, int hook, int prio, int policy);

struct nft_set {
	const char *name;	/* "__set%d" for an anonymous set */
	uint32_t id;		/* unique in the transaction, > 0 */
	uint32_t flags;		/* NFT_SET_* */
	uint32_t key_type, key_len;
	uint32_t data_type, data_len;	/* maps */
	const uint8_t *udata;	/* nft's user data (how it prints keys), or NULL */
	size_t udata_len;
};
int nft_set_add(struct nl_buf *b, int family, const char *table, const struct nft_set *s);

struct nft_elem {
	uint8_t key[64];
	uint32_t klen;
	uint8_t data[64];
	uint32_t dlen;
	uint32_t flags;		/* NFT_SET_ELEM_INTERVAL_END */
};
/* One NEWSETELEM (or DELSETELEM) message with n elements. set_id 0: the
 * set exists already. */
int nft_elems(struct nl_buf *b, int del, int family, const char *table, const char *set,
	      uint32_t set_id, const struct nft_elem *e, size_t n);

/* Every rule of every chain of the table; every element of a set. */
int nft_rules_flush(struct nl_buf *b, int family, const char *table);
int nft_elems_flush(struct nl_buf *b, int family, const char *table, const char *set);

/* Rules: begin, expressions, end. */
struct nft_rule {
	struct nlattr *exprs;
};
int nft_rule_begin(struct nl_buf *b, struct nft_rule *r, int family, const char *table,
		   const char *chain);
int nft_rule_end(struct nl_buf *b, struct nft_rule *r);

void nft_meta(struct nl_buf *b, uint32_t key, uint32_t dreg);
void nft_payload(struct nl_buf *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg);
void nft_ct(struct nl_buf *b, uint32_t key, uint32_t dreg);
void nft_bitwise(struct nl_buf *b, uint32_t reg, const void *mask, const void *xor, uint32_t len);
void nft_cmp(struct nl_buf *b, uint32_t reg, uint32_t op, const void *data, uint32_t len);
void nft_lookup(struct nl_buf *b, uint32_t sreg, const char *set, uint32_t set_id, int dreg,
		int invert);
void nft_verdict(struct nl_buf *b, int code);
void nft_nat(struct nl_buf *b, uint32_t type, uint32_t family, uint32_t reg_addr,
	     uint32_t reg_proto);
void nft_masq(struct nl_buf *b);
void nft_redir(struct nl_buf *b);
void nft_reject(struct nl_buf *b, uint32_t type, uint8_t code);
void nft_counter(struct nl_buf *b);

#endif
