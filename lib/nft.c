#include "nft.h"

#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

static int
msg(struct nl_buf *b, uint8_t type, uint16_t flags, int family)
{
	struct nfgenmsg *g;

	if (!nl_msg_begin(b, NFT_TYPE(type), NLM_F_REQUEST | NLM_F_ACK | flags))
		return -1;
	g = nl_msg_put_extra(b, sizeof(*g));
	if (!g)
		return -1;
	g->nfgen_family = (uint8_t)family;
	g->version = NFNETLINK_V0;
	return 0;
}

int
nft_batch_begin(struct nl_buf *b)
{
	return nl_batch_begin(b, NFNL_SUBSYS_NFTABLES);
}

int
nft_batch_end(struct nl_buf *b)
{
	return nl_batch_end(b, NFNL_SUBSYS_NFTABLES);
}

int
nft_table_add(struct nl_buf *b, int family, const char *table)
{
	if (msg(b, NFT_MSG_NEWTABLE, NLM_F_CREATE, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_TABLE_NAME, table);
	nl_attr_put_be32(b, NFTA_TABLE_FLAGS, 0);
	return nl_buf_err(b);
}

int
nft_table_del(struct nl_buf *b, int family, const char *table)
{
	if (msg(b, NFT_MSG_DELTABLE, 0, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_TABLE_NAME, table);
	return nl_buf_err(b);
}

int
nft_chain_add(struct nl_buf *b, int family, const char *table, const char *chain,
	      const char *type, int hook, int prio, int policy)
{
	struct nlattr *h;

	if (msg(b, NFT_MSG_NEWCHAIN, NLM_F_CREATE, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_CHAIN_TABLE, table);
	nl_attr_put_str(b, NFTA_CHAIN_NAME, chain);
	if (hook >= 0) {
		nl_attr_put_str(b, NFTA_CHAIN_TYPE, type);
		nl_attr_put_be32(b, NFTA_CHAIN_POLICY, (uint32_t)policy);
		h = nl_attr_nest_begin(b, NFTA_CHAIN_HOOK);
		nl_attr_put_be32(b, NFTA_HOOK_HOOKNUM, (uint32_t)hook);
		nl_attr_put_be32(b, NFTA_HOOK_PRIORITY, (uint32_t)prio);
		nl_attr_nest_end(b, h);
	}
	return nl_buf_err(b);
}

int
nft_set_add(struct nl_buf *b, int family, const char *table, const struct nft_set *s)
{
	if (msg(b, NFT_MSG_NEWSET, NLM_F_CREATE, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_SET_TABLE, table);
	nl_attr_put_str(b, NFTA_SET_NAME, s->name);
	nl_attr_put_be32(b, NFTA_SET_FLAGS, s->flags);
	nl_attr_put_be32(b, NFTA_SET_KEY_TYPE, s->key_type);
	nl_attr_put_be32(b, NFTA_SET_KEY_LEN, s->key_len);
	if (s->flags & NFT_SET_MAP) {
		nl_attr_put_be32(b, NFTA_SET_DATA_TYPE, s->data_type);
		nl_attr_put_be32(b, NFTA_SET_DATA_LEN, s->data_len);
	}
	nl_attr_put_be32(b, NFTA_SET_ID, s->id);
	if (s->udata)
		nl_attr_put(b, NFTA_SET_USERDATA, s->udata_len, s->udata);
	return nl_buf_err(b);
}

static void
data_value(struct nl_buf *b, uint16_t type, const void *p, uint32_t len)
{
	struct nlattr *n = nl_attr_nest_begin(b, type);

	nl_attr_put(b, NFTA_DATA_VALUE, len, p);
	nl_attr_nest_end(b, n);
}

int
nft_elems(struct nl_buf *b, int del, int family, const char *table, const char *set,
	  uint32_t set_id, const struct nft_elem *e, size_t n)
{
	struct nlattr *list, *el;
	size_t i;

	if (msg(b, del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM, del ? 0 : NLM_F_CREATE, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nl_attr_put_str(b, NFTA_SET_ELEM_LIST_SET, set);
	if (set_id)
		nl_attr_put_be32(b, NFTA_SET_ELEM_LIST_SET_ID, set_id);
	list = nl_attr_nest_begin(b, NFTA_SET_ELEM_LIST_ELEMENTS);
	for (i = 0; i < n; i++) {
		el = nl_attr_nest_begin(b, NFTA_LIST_ELEM);
		data_value(b, NFTA_SET_ELEM_KEY, e[i].key, e[i].klen);
		if (e[i].dlen)
			data_value(b, NFTA_SET_ELEM_DATA, e[i].data, e[i].dlen);
		if (e[i].flags)
			nl_attr_put_be32(b, NFTA_SET_ELEM_FLAGS, e[i].flags);
		nl_attr_nest_end(b, el);
	}
	nl_attr_nest_end(b, list);
	return nl_buf_err(b);
}

int
nft_rules_flush(struct nl_buf *b, int family, const char *table)
{
	if (msg(b, NFT_MSG_DELRULE, 0, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_RULE_TABLE, table);
	return nl_buf_err(b);
}

int
nft_elems_flush(struct nl_buf *b, int family, const char *table, const char *set)
{
	if (msg(b, NFT_MSG_DELSETELEM, 0, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_SET_ELEM_LIST_TABLE, table);
	nl_attr_put_str(b, NFTA_SET_ELEM_LIST_SET, set);
	return nl_buf_err(b);
}

int
nft_rule_begin(struct nl_buf *b, struct nft_rule *r, int family, const char *table,
	       const char *chain)
{
	if (msg(b, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family) < 0)
		return -1;
	nl_attr_put_str(b, NFTA_RULE_TABLE, table);
	nl_attr_put_str(b, NFTA_RULE_CHAIN, chain);
	r->exprs = nl_attr_nest_begin(b, NFTA_RULE_EXPRESSIONS);
	return nl_buf_err(b);
}

int
nft_rule_end(struct nl_buf *b, struct nft_rule *r)
{
	nl_attr_nest_end(b, r->exprs);
	return nl_buf_err(b);
}

/* An expression: LIST_ELEM { NAME, DATA { ... } }; returns the DATA nest. */
static struct nlattr *
expr(struct nl_buf *b, const char *name, struct nlattr **outer)
{
	*outer = nl_attr_nest_begin(b, NFTA_LIST_ELEM);
	nl_attr_put_str(b, NFTA_EXPR_NAME, name);
	return nl_attr_nest_begin(b, NFTA_EXPR_DATA);
}

static void
expr_end(struct nl_buf *b, struct nlattr *data, struct nlattr *outer)
{
	nl_attr_nest_end(b, data);
	nl_attr_nest_end(b, outer);
}

void
nft_meta(struct nl_buf *b, uint32_t key, uint32_t dreg)
{
	struct nlattr *o, *d = expr(b, "meta", &o);

	nl_attr_put_be32(b, NFTA_META_KEY, key);
	nl_attr_put_be32(b, NFTA_META_DREG, dreg);
	expr_end(b, d, o);
}

void
nft_payload(struct nl_buf *b, uint32_t base, uint32_t off, uint32_t len, uint32_t dreg)
{
	struct nlattr *o, *d = expr(b, "payload", &o);

	nl_attr_put_be32(b, NFTA_PAYLOAD_DREG, dreg);
	nl_attr_put_be32(b, NFTA_PAYLOAD_BASE, base);
	nl_attr_put_be32(b, NFTA_PAYLOAD_OFFSET, off);
	nl_attr_put_be32(b, NFTA_PAYLOAD_LEN, len);
	expr_end(b, d, o);
}

void
nft_ct(struct nl_buf *b, uint32_t key, uint32_t dreg)
{
	struct nlattr *o, *d = expr(b, "ct", &o);

	nl_attr_put_be32(b, NFTA_CT_KEY, key);
	nl_attr_put_be32(b, NFTA_CT_DREG, dreg);
	expr_end(b, d, o);
}

void
nft_bitwise(struct nl_buf *b, uint32_t reg, const void *mask, const void *xor, uint32_t len)
{
	struct nlattr *o, *d = expr(b, "bitwise", &o);

	nl_attr_put_be32(b, NFTA_BITWISE_SREG, reg);
	nl_attr_put_be32(b, NFTA_BITWISE_DREG, reg);
	nl_attr_put_be32(b, NFTA_BITWISE_LEN, len);
	data_value(b, NFTA_BITWISE_MASK, mask, len);
	data_value(b, NFTA_BITWISE_XOR, xor, len);
	expr_end(b, d, o);
}

void
nft_cmp(struct nl_buf *b, uint32_t reg, uint32_t op, const void *data, uint32_t len)
{
	struct nlattr *o, *d = expr(b, "cmp", &o);

	nl_attr_put_be32(b, NFTA_CMP_SREG, reg);
	nl_attr_put_be32(b, NFTA_CMP_OP, op);
	data_value(b, NFTA_CMP_DATA, data, len);
	expr_end(b, d, o);
}

void
nft_lookup(struct nl_buf *b, uint32_t sreg, const char *set, uint32_t set_id, int dreg, int invert)
{
	struct nlattr *o, *d = expr(b, "lookup", &o);

	nl_attr_put_be32(b, NFTA_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nl_attr_put_be32(b, NFTA_LOOKUP_DREG, (uint32_t)dreg);
	nl_attr_put_str(b, NFTA_LOOKUP_SET, set);
	if (set_id)
		nl_attr_put_be32(b, NFTA_LOOKUP_SET_ID, set_id);
	if (invert)
		nl_attr_put_be32(b, NFTA_LOOKUP_FLAGS, NFT_LOOKUP_F_INV);
	expr_end(b, d, o);
}

void
nft_verdict(struct nl_buf *b, int code)
{
	struct nlattr *o, *d = expr(b, "immediate", &o), *data, *v;

	nl_attr_put_be32(b, NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
	data = nl_attr_nest_begin(b, NFTA_IMMEDIATE_DATA);
	v = nl_attr_nest_begin(b, NFTA_DATA_VERDICT);
	nl_attr_put_be32(b, NFTA_VERDICT_CODE, (uint32_t)code);
	nl_attr_nest_end(b, v);
	nl_attr_nest_end(b, data);
	expr_end(b, d, o);
}

void
nft_nat(struct nl_buf *b, uint32_t type, uint32_t family, uint32_t reg_addr, uint32_t reg_proto)
{
	struct nlattr *o, *d = expr(b, "nat", &o);

	nl_attr_put_be32(b, NFTA_NAT_TYPE, type);
	nl_attr_put_be32(b, NFTA_NAT_FAMILY, family);
	nl_attr_put_be32(b, NFTA_NAT_REG_ADDR_MIN, reg_addr);
	if (reg_proto)
		nl_attr_put_be32(b, NFTA_NAT_REG_PROTO_MIN, reg_proto);
	expr_end(b, d, o);
}

static void
empty_expr(struct nl_buf *b, const char *name)
{
	struct nlattr *o, *d = expr(b, name, &o);

	expr_end(b, d, o);
}

void nft_masq(struct nl_buf *b) { empty_expr(b, "masq"); }
void nft_redir(struct nl_buf *b) { empty_expr(b, "redir"); }

void
nft_counter(struct nl_buf *b)
{
	struct nlattr *o, *d = expr(b, "counter", &o);

	nl_attr_put_be64(b, NFTA_COUNTER_BYTES, 0);
	nl_attr_put_be64(b, NFTA_COUNTER_PACKETS, 0);
	expr_end(b, d, o);
}

void
nft_reject(struct nl_buf *b, uint32_t type, uint8_t code)
{
	struct nlattr *o, *d = expr(b, "reject", &o);

	nl_attr_put_be32(b, NFTA_REJECT_TYPE, type);
	nl_attr_put_u8(b, NFTA_REJECT_ICMP_CODE, code);
	expr_end(b, d, o);
}
