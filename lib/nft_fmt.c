/* nftables messages as text (dry runs, golden tests). */
#include <linux/netfilter/nfnetlink.h>
#include <string.h>

#include "nft.h"

#define A(name, kind) { name, kind, NULL, NULL, NULL }
#define NEST(name, t) { name, NLF_NEST, t, NULL, NULL }

static const struct nl_fmt_attr verdict_attrs[] = {
	[NFTA_VERDICT_CODE] = A("CODE", NLF_BES32),
	[NFTA_VERDICT_CHAIN] = A("CHAIN", NLF_STR),
};
static const struct nl_fmt_table verdict_table = { NFTA_VERDICT_CHAIN, verdict_attrs };
static const struct nl_fmt_attr data_attrs[] = {
	[NFTA_DATA_VALUE] = A("VALUE", NLF_HEX),
	[NFTA_DATA_VERDICT] = NEST("VERDICT", &verdict_table),
};
static const struct nl_fmt_table data_table = { NFTA_DATA_VERDICT, data_attrs };

static const struct nl_fmt_attr table_attrs[] = {
	[NFTA_TABLE_NAME] = A("NAME", NLF_STR),
	[NFTA_TABLE_FLAGS] = A("FLAGS", NLF_BEHEX32),
	[NFTA_TABLE_USE] = A("USE", NLF_BE32),
	[NFTA_TABLE_HANDLE] = A("HANDLE", NLF_BE64),
};
static const struct nl_fmt_table table_table = { NFTA_TABLE_HANDLE, table_attrs };

static const struct nl_fmt_attr hook_attrs[] = {
	[NFTA_HOOK_HOOKNUM] = A("HOOKNUM", NLF_BE32),
	[NFTA_HOOK_PRIORITY] = A("PRIORITY", NLF_BES32),
	[NFTA_HOOK_DEV] = A("DEV", NLF_STR),
};
static const struct nl_fmt_table hook_table = { NFTA_HOOK_DEV, hook_attrs };
static const struct nl_fmt_attr chain_attrs[] = {
	[NFTA_CHAIN_TABLE] = A("TABLE", NLF_STR),
	[NFTA_CHAIN_HANDLE] = A("HANDLE", NLF_BE64),
	[NFTA_CHAIN_NAME] = A("NAME", NLF_STR),
	[NFTA_CHAIN_HOOK] = NEST("HOOK", &hook_table),
	[NFTA_CHAIN_POLICY] = A("POLICY", NLF_BE32),
	[NFTA_CHAIN_USE] = A("USE", NLF_BE32),
	[NFTA_CHAIN_TYPE] = A("TYPE", NLF_STR),
};
static const struct nl_fmt_table chain_table = { NFTA_CHAIN_TYPE, chain_attrs };

static const struct nl_fmt_attr set_attrs[] = {
	[NFTA_SET_TABLE] = A("TABLE", NLF_STR),
	[NFTA_SET_NAME] = A("NAME", NLF_STR),
	[NFTA_SET_FLAGS] = A("FLAGS", NLF_BEHEX32),
	[NFTA_SET_KEY_TYPE] = A("KEY_TYPE", NLF_BE32),
	[NFTA_SET_KEY_LEN] = A("KEY_LEN", NLF_BE32),
	[NFTA_SET_DATA_TYPE] = A("DATA_TYPE", NLF_BE32),
	[NFTA_SET_DATA_LEN] = A("DATA_LEN", NLF_BE32),
	[NFTA_SET_POLICY] = A("POLICY", NLF_BE32),
	[NFTA_SET_ID] = A("ID", NLF_BE32),
	[NFTA_SET_TIMEOUT] = A("TIMEOUT", NLF_BE64),
	[NFTA_SET_USERDATA] = A("USERDATA", NLF_HEX),
	[NFTA_SET_HANDLE] = A("HANDLE", NLF_BE64),
};
static const struct nl_fmt_table set_table = { NFTA_SET_HANDLE, set_attrs };

static const struct nl_fmt_attr elem_attrs[] = {
	[NFTA_SET_ELEM_KEY] = NEST("KEY", &data_table),
	[NFTA_SET_ELEM_DATA] = NEST("DATA", &data_table),
	[NFTA_SET_ELEM_FLAGS] = A("FLAGS", NLF_BEHEX32),
	[NFTA_SET_ELEM_TIMEOUT] = A("TIMEOUT", NLF_BE64),
};
static const struct nl_fmt_table elem_table = { NFTA_SET_ELEM_TIMEOUT, elem_attrs };
static const struct nl_fmt_attr elems_attrs[] = {
	[NFTA_SET_ELEM_LIST_TABLE] = A("TABLE", NLF_STR),
	[NFTA_SET_ELEM_LIST_SET] = A("SET", NLF_STR),
	[NFTA_SET_ELEM_LIST_ELEMENTS] = { "ELEMENTS", NLF_NEST_LIST, &elem_table, NULL, NULL },
	[NFTA_SET_ELEM_LIST_SET_ID] = A("SET_ID", NLF_BE32),
};
static const struct nl_fmt_table elems_table = { NFTA_SET_ELEM_LIST_SET_ID, elems_attrs };

/* Expressions. */
static const struct nl_fmt_attr meta_attrs[] = {
	[NFTA_META_DREG] = A("DREG", NLF_BE32),
	[NFTA_META_KEY] = A("KEY", NLF_BE32),
	[NFTA_META_SREG] = A("SREG", NLF_BE32),
};
static const struct nl_fmt_table meta_table = { NFTA_META_SREG, meta_attrs };
static const struct nl_fmt_attr payload_attrs[] = {
	[NFTA_PAYLOAD_DREG] = A("DREG", NLF_BE32),
	[NFTA_PAYLOAD_BASE] = A("BASE", NLF_BE32),
	[NFTA_PAYLOAD_OFFSET] = A("OFFSET", NLF_BE32),
	[NFTA_PAYLOAD_LEN] = A("LEN", NLF_BE32),
	[NFTA_PAYLOAD_SREG] = A("SREG", NLF_BE32),
};
static const struct nl_fmt_table payload_table = { NFTA_PAYLOAD_SREG, payload_attrs };
static const struct nl_fmt_attr ct_attrs[] = {
	[NFTA_CT_DREG] = A("DREG", NLF_BE32),
	[NFTA_CT_KEY] = A("KEY", NLF_BE32),
	[NFTA_CT_DIRECTION] = A("DIRECTION", NLF_U8),
	[NFTA_CT_SREG] = A("SREG", NLF_BE32),
};
static const struct nl_fmt_table ct_table = { NFTA_CT_SREG, ct_attrs };
static const struct nl_fmt_attr bitwise_attrs[] = {
	[NFTA_BITWISE_SREG] = A("SREG", NLF_BE32),
	[NFTA_BITWISE_DREG] = A("DREG", NLF_BE32),
	[NFTA_BITWISE_LEN] = A("LEN", NLF_BE32),
	[NFTA_BITWISE_MASK] = NEST("MASK", &data_table),
	[NFTA_BITWISE_XOR] = NEST("XOR", &data_table),
};
static const struct nl_fmt_table bitwise_table = { NFTA_BITWISE_XOR, bitwise_attrs };
static const struct nl_fmt_attr cmp_attrs[] = {
	[NFTA_CMP_SREG] = A("SREG", NLF_BE32),
	[NFTA_CMP_OP] = A("OP", NLF_BE32),
	[NFTA_CMP_DATA] = NEST("DATA", &data_table),
};
static const struct nl_fmt_table cmp_table = { NFTA_CMP_DATA, cmp_attrs };
static const struct nl_fmt_attr lookup_attrs[] = {
	[NFTA_LOOKUP_SET] = A("SET", NLF_STR),
	[NFTA_LOOKUP_SREG] = A("SREG", NLF_BE32),
	[NFTA_LOOKUP_DREG] = A("DREG", NLF_BE32),
	[NFTA_LOOKUP_SET_ID] = A("SET_ID", NLF_BE32),
	[NFTA_LOOKUP_FLAGS] = A("FLAGS", NLF_BEHEX32),
};
static const struct nl_fmt_table lookup_table = { NFTA_LOOKUP_FLAGS, lookup_attrs };
static const struct nl_fmt_attr imm_attrs[] = {
	[NFTA_IMMEDIATE_DREG] = A("DREG", NLF_BE32),
	[NFTA_IMMEDIATE_DATA] = NEST("DATA", &data_table),
};
static const struct nl_fmt_table imm_table = { NFTA_IMMEDIATE_DATA, imm_attrs };
static const struct nl_fmt_attr nat_attrs[] = {
	[NFTA_NAT_TYPE] = A("TYPE", NLF_BE32),
	[NFTA_NAT_FAMILY] = A("FAMILY", NLF_BE32),
	[NFTA_NAT_REG_ADDR_MIN] = A("REG_ADDR_MIN", NLF_BE32),
	[NFTA_NAT_REG_ADDR_MAX] = A("REG_ADDR_MAX", NLF_BE32),
	[NFTA_NAT_REG_PROTO_MIN] = A("REG_PROTO_MIN", NLF_BE32),
	[NFTA_NAT_REG_PROTO_MAX] = A("REG_PROTO_MAX", NLF_BE32),
	[NFTA_NAT_FLAGS] = A("FLAGS", NLF_BEHEX32),
};
static const struct nl_fmt_table nat_table = { NFTA_NAT_FLAGS, nat_attrs };
static const struct nl_fmt_attr reject_attrs[] = {
	[NFTA_REJECT_TYPE] = A("TYPE", NLF_BE32),
	[NFTA_REJECT_ICMP_CODE] = A("ICMP_CODE", NLF_U8),
};
static const struct nl_fmt_table reject_table = { NFTA_REJECT_ICMP_CODE, reject_attrs };
static const struct nl_fmt_attr counter_attrs[] = {
	[NFTA_COUNTER_BYTES] = A("BYTES", NLF_BE64),
	[NFTA_COUNTER_PACKETS] = A("PACKETS", NLF_BE64),
};
static const struct nl_fmt_table counter_table = { NFTA_COUNTER_PACKETS, counter_attrs };

static const struct nl_fmt_table *
expr_data(const void *p, size_t len)
{
	static const struct {
		const char *name;
		const struct nl_fmt_table *t;
	} exprs[] = {
		{ "meta", &meta_table }, { "payload", &payload_table }, { "ct", &ct_table },
		{ "bitwise", &bitwise_table }, { "cmp", &cmp_table }, { "lookup", &lookup_table },
		{ "immediate", &imm_table }, { "nat", &nat_table }, { "reject", &reject_table },
		{ "counter", &counter_table },
	};
	const struct nlattr *a;
	struct nl_attr_iter it;
	size_t i;

	nl_attr_iter_init(&it, p, len);
	while ((a = nl_attr_next(&it))) {
		const char *name = nl_attr_type(a) == NFTA_EXPR_NAME ? nl_attr_str(a) : NULL;

		for (i = 0; name && i < sizeof(exprs) / sizeof(exprs[0]); i++)
			if (!strcmp(name, exprs[i].name))
				return exprs[i].t;
	}
	return NULL;
}

static const struct nl_fmt_attr expr_attrs[] = {
	[NFTA_EXPR_NAME] = A("NAME", NLF_STR),
	[NFTA_EXPR_DATA] = { "DATA", NLF_NEST, NULL, expr_data, NULL },
};
static const struct nl_fmt_table expr_table = { NFTA_EXPR_DATA, expr_attrs };

static const struct nl_fmt_attr rule_attrs[] = {
	[NFTA_RULE_TABLE] = A("TABLE", NLF_STR),
	[NFTA_RULE_CHAIN] = A("CHAIN", NLF_STR),
	[NFTA_RULE_HANDLE] = A("HANDLE", NLF_BE64),
	[NFTA_RULE_EXPRESSIONS] = { "EXPRESSIONS", NLF_NEST_LIST, &expr_table, NULL, NULL },
	[NFTA_RULE_POSITION] = A("POSITION", NLF_BE64),
	[NFTA_RULE_USERDATA] = A("USERDATA", NLF_HEX),
	[NFTA_RULE_ID] = A("ID", NLF_BE32),
};
static const struct nl_fmt_table rule_table = { NFTA_RULE_ID, rule_attrs };

static const char *const msg_names[] = {
	[NFT_MSG_NEWTABLE] = "NFT_MSG_NEWTABLE", [NFT_MSG_GETTABLE] = "NFT_MSG_GETTABLE",
	[NFT_MSG_DELTABLE] = "NFT_MSG_DELTABLE", [NFT_MSG_NEWCHAIN] = "NFT_MSG_NEWCHAIN",
	[NFT_MSG_GETCHAIN] = "NFT_MSG_GETCHAIN", [NFT_MSG_DELCHAIN] = "NFT_MSG_DELCHAIN",
	[NFT_MSG_NEWRULE] = "NFT_MSG_NEWRULE", [NFT_MSG_GETRULE] = "NFT_MSG_GETRULE",
	[NFT_MSG_DELRULE] = "NFT_MSG_DELRULE", [NFT_MSG_NEWSET] = "NFT_MSG_NEWSET",
	[NFT_MSG_GETSET] = "NFT_MSG_GETSET", [NFT_MSG_DELSET] = "NFT_MSG_DELSET",
	[NFT_MSG_NEWSETELEM] = "NFT_MSG_NEWSETELEM", [NFT_MSG_GETSETELEM] = "NFT_MSG_GETSETELEM",
	[NFT_MSG_DELSETELEM] = "NFT_MSG_DELSETELEM",
};

static const char *
msg_name(uint16_t t)
{
	uint16_t m = t & 0xff;

	if (t >> 8 != NFNL_SUBSYS_NFTABLES || m >= sizeof(msg_names) / sizeof(msg_names[0]))
		return NULL;
	return msg_names[m];
}

static int
is_get(uint16_t t)
{
	uint16_t m = t & 0xff;

	return m == NFT_MSG_GETTABLE || m == NFT_MSG_GETCHAIN || m == NFT_MSG_GETRULE ||
	       m == NFT_MSG_GETSET || m == NFT_MSG_GETSETELEM;
}

static size_t
hdr(struct buf *out, uint16_t t, const void *p, size_t len)
{
	const struct nfgenmsg *g = p;

	if (len < sizeof(*g))
		return 0;
	buf_addf(out, "nfgenmsg family=%u\n", g->nfgen_family);
	return sizeof(*g);
}

static const struct nl_fmt_table *
attrs(uint16_t t)
{
	switch (t & 0xff) {
	case NFT_MSG_NEWTABLE: case NFT_MSG_GETTABLE: case NFT_MSG_DELTABLE: return &table_table;
	case NFT_MSG_NEWCHAIN: case NFT_MSG_GETCHAIN: case NFT_MSG_DELCHAIN: return &chain_table;
	case NFT_MSG_NEWRULE: case NFT_MSG_GETRULE: case NFT_MSG_DELRULE: return &rule_table;
	case NFT_MSG_NEWSET: case NFT_MSG_GETSET: case NFT_MSG_DELSET: return &set_table;
	case NFT_MSG_NEWSETELEM: case NFT_MSG_GETSETELEM: case NFT_MSG_DELSETELEM: return &elems_table;
	}
	return NULL;
}

const struct nl_fmt_family nft_fmt = { "nftables", NETLINK_NETFILTER, msg_name, is_get, hdr, attrs };
