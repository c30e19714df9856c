/*
 * Reading table inet lab back from the kernel: its sets with their
 * elements, and its chains with their rules decoded into nft-like text.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"
#include "json.h"

struct elem {
	uint8_t key[64], data[64];
	size_t klen, dlen;
	uint32_t flags;
};

struct set {
	char name[64];
	uint32_t flags, key_type, key_len, data_type;
	struct elem *e;
	size_t n;
};

struct chain {
	char name[64], type[16];
	int hook, prio, policy;
	struct buf rules;	/* one decoded rule per line */
	size_t nrules;
};

struct state {
	struct set *sets;
	size_t nsets;
	struct chain *chains;
	size_t nchains;
	struct set *cur;	/* set whose elements are being dumped */
	int failed;
};

static int
req(struct nl_buf *b, uint8_t type, uint16_t flags)
{
	struct nfgenmsg *g;

	if (!nl_msg_begin(b, NFT_TYPE(type), NLM_F_REQUEST | flags))
		return -1;
	g = nl_msg_put_extra(b, sizeof(*g));
	if (!g)
		return -1;
	g->nfgen_family = FW_FAMILY;
	g->version = NFNETLINK_V0;
	return 0;
}

static const struct nlattr *
attr(const struct nlattr *const *tb, int t)
{
	return tb[t];
}

static const char *
str(const struct nlattr *a)
{
	const char *s = a ? nl_attr_str(a) : NULL;

	return s ? s : "";
}

static int
table_is_ours(const struct nlattr *a)
{
	return a && !strcmp(str(a), FW_TABLE);
}

/* ---- sets and elements ---- */

static int
set_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1];
	struct state *st = arg;
	struct set *s, *ns;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSET ||
	    nl_msg_parse(nlh, sizeof(struct nfgenmsg), NULL, NFTA_SET_MAX, tb) < 0 ||
	    !table_is_ours(tb[NFTA_SET_TABLE]) || !tb[NFTA_SET_NAME])
		return NL_CB_OK;
	ns = realloc(st->sets, (st->nsets + 1) * sizeof(*ns));
	if (!ns)
		return NL_CB_ERROR;
	st->sets = ns;
	s = &st->sets[st->nsets++];
	memset(s, 0, sizeof(*s));
	str_copy(s->name, str(tb[NFTA_SET_NAME]), sizeof(s->name));
	if (tb[NFTA_SET_FLAGS])
		s->flags = nl_attr_be32(tb[NFTA_SET_FLAGS]);
	if (tb[NFTA_SET_KEY_TYPE])
		s->key_type = nl_attr_be32(tb[NFTA_SET_KEY_TYPE]);
	if (tb[NFTA_SET_KEY_LEN])
		s->key_len = nl_attr_be32(tb[NFTA_SET_KEY_LEN]);
	if (tb[NFTA_SET_DATA_TYPE])
		s->data_type = nl_attr_be32(tb[NFTA_SET_DATA_TYPE]);
	return NL_CB_OK;
}

static size_t
value_of(const struct nlattr *nest, uint8_t *out, size_t max)
{
	const struct nlattr *tb[NFTA_DATA_MAX + 1];
	size_t n;

	if (!nest || nl_attr_parse_nested(nest, NULL, NFTA_DATA_MAX, tb) < 0 || !tb[NFTA_DATA_VALUE])
		return 0;
	n = nl_attr_len(tb[NFTA_DATA_VALUE]);
	if (n > max)
		return 0;
	memcpy(out, nl_attr_data(tb[NFTA_DATA_VALUE]), n);
	return n;
}

static int
elem_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1], *a;
	struct state *st = arg;
	struct set *s = st->cur;
	struct nl_attr_iter it;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWSETELEM ||
	    nl_msg_parse(nlh, sizeof(struct nfgenmsg), NULL, NFTA_SET_ELEM_LIST_MAX, tb) < 0 ||
	    !tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		return NL_CB_OK;
	nl_attr_iter_nested(&it, tb[NFTA_SET_ELEM_LIST_ELEMENTS]);
	while ((a = nl_attr_next(&it))) {
		const struct nlattr *et[NFTA_SET_ELEM_MAX + 1];
		struct elem *e, *ne;

		if (nl_attr_parse_nested(a, NULL, NFTA_SET_ELEM_MAX, et) < 0)
			continue;
		ne = realloc(s->e, (s->n + 1) * sizeof(*ne));
		if (!ne)
			return NL_CB_ERROR;
		s->e = ne;
		e = &s->e[s->n];
		memset(e, 0, sizeof(*e));
		e->klen = value_of(et[NFTA_SET_ELEM_KEY], e->key, sizeof(e->key));
		e->dlen = value_of(et[NFTA_SET_ELEM_DATA], e->data, sizeof(e->data));
		if (et[NFTA_SET_ELEM_FLAGS])
			e->flags = nl_attr_be32(et[NFTA_SET_ELEM_FLAGS]);
		if (e->klen)
			s->n++;
	}
	return NL_CB_OK;
}

static const char *
icmp_name(int v6, uint8_t t, char *buf)
{
	static const struct {
		uint8_t t;
		const char *name;
	} v4[] = { { 0, "echo-reply" }, { 3, "destination-unreachable" }, { 8, "echo-request" },
		   { 11, "time-exceeded" }, { 12, "parameter-problem" } },
	  v6n[] = { { 1, "destination-unreachable" }, { 2, "packet-too-big" },
		    { 3, "time-exceeded" }, { 4, "parameter-problem" }, { 128, "echo-request" },
		    { 129, "echo-reply" }, { 130, "mld-listener-query" },
		    { 131, "mld-listener-report" }, { 132, "mld-listener-done" },
		    { 133, "nd-router-solicit" }, { 134, "nd-router-advert" },
		    { 135, "nd-neighbor-solicit" }, { 136, "nd-neighbor-advert" },
		    { 143, "mld2-listener-report" } };
	size_t i;

	if (!v6) {
		for (i = 0; i < sizeof(v4) / sizeof(v4[0]); i++)
			if (v4[i].t == t)
				return v4[i].name;
	} else {
		for (i = 0; i < sizeof(v6n) / sizeof(v6n[0]); i++)
			if (v6n[i].t == t)
				return v6n[i].name;
	}
	sprintf(buf, "%u", t);
	return buf;
}

static void
fmt_key(struct buf *o, uint32_t type, const uint8_t *k, size_t n, int quote)
{
	char ip[INET6_ADDRSTRLEN], pb[8];

	if (type == NFT_DT_IFNAME) {
		if (quote)
			json_quote(o, (const char *)k, strnlen((const char *)k, n));
		else
			buf_add(o, k, strnlen((const char *)k, n));
	} else if (type == NFT_DT_CONCAT(NFT_DT_INET_PROTO, NFT_DT_INET_SERVICE) && n == 8) {
		buf_addf(o, "%s . %u", fw_proto_name(k[0], pb), k[4] << 8 | k[5]);
	} else if (type == NFT_DT_CONCAT(NFT_DT_IPADDR, NFT_DT_INET_SERVICE) && n == 8) {
		buf_addf(o, "%s . %u", inet_ntop(AF_INET, k, ip, sizeof(ip)), k[4] << 8 | k[5]);
	} else if (type == NFT_DT_IPADDR && n == 4) {
		buf_adds(o, inet_ntop(AF_INET, k, ip, sizeof(ip)));
	} else if (type == NFT_DT_IP6ADDR && n == 16) {
		buf_adds(o, inet_ntop(AF_INET6, k, ip, sizeof(ip)));
	} else if (n == 1 && (type == NFT_DT_ICMP_TYPE || type == NFT_DT_ICMP6_TYPE)) {
		buf_adds(o, icmp_name(type == NFT_DT_ICMP6_TYPE, k[0], pb));
	} else if (n == 1) {
		buf_addf(o, "%u", k[0]);
	} else {
		buf_adds(o, "0x");
		buf_addhex(o, k, n);
	}
}

static int
cmp_elem(const void *a, const void *b)
{
	const struct elem *x = a, *y = b;
	int c = memcmp(x->key, y->key, x->klen < y->klen ? x->klen : y->klen);

	return c ? c : (int)(x->flags & 1) - (int)(y->flags & 1);
}

/* The prefix length of [start, end) when it is one aligned block, else -1. */
static int
block_plen(const uint8_t *start, const uint8_t *end, size_t len)
{
	uint8_t diff[16];
	int i, carry = 0, ones = -1;

	/* diff = end - start */
	for (i = (int)len - 1; i >= 0; i--) {
		int v = end[i] - start[i] - carry;

		carry = v < 0;
		diff[i] = (uint8_t)(v + (carry ? 256 : 0));
	}
	for (i = 0; i < (int)len * 8; i++) {
		if (diff[i / 8] & (0x80 >> (i % 8))) {
			if (ones >= 0)
				return -1;
			ones = i;
		}
	}
	if (ones < 0)
		return -1;
	/* start must be aligned to the block */
	for (i = ones + 1; i < (int)len * 8; i++)
		if (start[i / 8] & (0x80 >> (i % 8)))
			return -1;
	/* a block of 2^k addresses has its one bit at index bits-1-k */
	return ones + 1;
}

/* Elements as strings, intervals joined back into prefixes. */
static void
elements(struct set *s, struct json_writer *w, struct buf *o, int json)
{
	struct buf one = BUF_INIT;
	size_t i;
	int first = 1;

	/* Sorted: intervals need it, and output should not depend on hashing. */
	qsort(s->e, s->n, sizeof(*s->e), cmp_elem);
	for (i = 0; i < s->n; i++) {
		struct elem *e = &s->e[i];

		if (e->flags & NFT_SET_ELEM_INTERVAL_END)
			continue;	/* consumed with its start */
		buf_reset(&one);
		fmt_key(&one, s->key_type, e->key, e->klen, !json);
		if (s->flags & NFT_SET_INTERVAL) {
			const struct elem *end = i + 1 < s->n && (s->e[i + 1].flags & NFT_SET_ELEM_INTERVAL_END) ?
							 &s->e[i + 1] : NULL;
			int plen = end ? block_plen(e->key, end->key, e->klen) : -1;

			if (plen >= 0) {
				buf_addf(&one, "/%d", plen);
			} else if (end) {
				buf_adds(&one, "-");
				fmt_key(&one, s->key_type, end->key, end->klen, !json);
				buf_adds(&one, " (exclusive)");
			} else {
				buf_adds(&one, "/0");	/* runs to the top */
			}
		}
		if (s->flags & NFT_SET_MAP) {
			buf_adds(&one, " : ");
			fmt_key(&one, s->data_type, e->data, e->dlen, !json);
		}
		if (json) {
			json_str(w, buf_cstr(&one));
		} else {
			buf_adds(o, first ? " " : ", ");
			buf_adds(o, buf_cstr(&one));
		}
		first = 0;
	}
	buf_free(&one);
}

static const char *
type_name(uint32_t t)
{
	switch (t) {
	case NFT_DT_IFNAME: return "ifname";
	case NFT_DT_IPADDR: return "ipv4_addr";
	case NFT_DT_IP6ADDR: return "ipv6_addr";
	case NFT_DT_ICMP_TYPE: return "icmp_type";
	case NFT_DT_ICMP6_TYPE: return "icmpv6_type";
	case NFT_DT_CONCAT(NFT_DT_INET_PROTO, NFT_DT_INET_SERVICE): return "inet_proto . inet_service";
	case NFT_DT_CONCAT(NFT_DT_IPADDR, NFT_DT_INET_SERVICE): return "ipv4_addr . inet_service";
	}
	return "other";
}

/* ---- chains and rules ---- */

static int
chain_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1], *hk[NFTA_HOOK_MAX + 1];
	struct state *st = arg;
	struct chain *c, *nc;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWCHAIN ||
	    nl_msg_parse(nlh, sizeof(struct nfgenmsg), NULL, NFTA_CHAIN_MAX, tb) < 0 ||
	    !table_is_ours(tb[NFTA_CHAIN_TABLE]) || !tb[NFTA_CHAIN_NAME])
		return NL_CB_OK;
	nc = realloc(st->chains, (st->nchains + 1) * sizeof(*nc));
	if (!nc)
		return NL_CB_ERROR;
	st->chains = nc;
	c = &st->chains[st->nchains++];
	memset(c, 0, sizeof(*c));
	c->hook = -1;
	str_copy(c->name, str(tb[NFTA_CHAIN_NAME]), sizeof(c->name));
	str_copy(c->type, str(attr(tb, NFTA_CHAIN_TYPE)), sizeof(c->type));
	if (tb[NFTA_CHAIN_POLICY])
		c->policy = (int)nl_attr_be32(tb[NFTA_CHAIN_POLICY]);
	if (tb[NFTA_CHAIN_HOOK] && nl_attr_parse_nested(tb[NFTA_CHAIN_HOOK], NULL, NFTA_HOOK_MAX, hk) == 0) {
		if (hk[NFTA_HOOK_HOOKNUM])
			c->hook = (int)nl_attr_be32(hk[NFTA_HOOK_HOOKNUM]);
		if (hk[NFTA_HOOK_PRIORITY])
			c->prio = (int32_t)nl_attr_be32(hk[NFTA_HOOK_PRIORITY]);
	}
	return NL_CB_OK;
}

/* What each register holds, as text. */
struct regs {
	char r[32][48];
	char map[128];	/* a map lookup waiting for its nat */
	uint8_t l4;	/* the last "meta l4proto ==" value */
	uint8_t mask[16];
	int masked;
	int concat;	/* reg 9 was loaded after reg 1: a concatenation */
};

static const char *
meta_name(uint32_t k)
{
	switch (k) {
	case NFT_META_IIF: return "iif";
	case NFT_META_OIF: return "oif";
	case NFT_META_IIFNAME: return "iifname";
	case NFT_META_OIFNAME: return "oifname";
	case NFT_META_L4PROTO: return "meta l4proto";
	case NFT_META_NFPROTO: return "meta nfproto";
	case NFT_META_MARK: return "meta mark";
	}
	return "meta";
}

static void
payload_name(char *out, size_t size, uint8_t l4, uint32_t base, uint32_t off, uint32_t len)
{
	if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 0 && len == 1 && (l4 == 1 || l4 == 58))
		snprintf(out, size, l4 == 1 ? "icmp type" : "icmpv6 type");
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 2 && len == 2)
		snprintf(out, size, "th dport");
	else if (base == NFT_PAYLOAD_TRANSPORT_HEADER && off == 0 && len == 1)
		snprintf(out, size, "@th,0,8");
	else if (base == NFT_PAYLOAD_NETWORK_HEADER && off == 12 && len == 4)
		snprintf(out, size, "ip saddr");
	else if (base == NFT_PAYLOAD_NETWORK_HEADER && off == 8 && len == 16)
		snprintf(out, size, "ip6 saddr");
	else
		snprintf(out, size, "@%s,%u,%u", base == NFT_PAYLOAD_NETWORK_HEADER ? "nh" :
			 base == NFT_PAYLOAD_TRANSPORT_HEADER ? "th" : "ll", off * 8, len * 8);
}

static void
cmp_value(struct buf *o, const char *what, const uint8_t *d, size_t n)
{
	char pb[8];
	uint32_t v = 0;

	if (n == 4)
		memcpy(&v, d, 4);
	if (!strcmp(what, "meta l4proto") && n == 1)
		buf_adds(o, fw_proto_name(d[0], pb));
	else if (!strcmp(what, "meta nfproto") && n == 1)
		buf_adds(o, d[0] == 2 ? "ipv4" : d[0] == 10 ? "ipv6" : "?");
	else if ((!strcmp(what, "iif") || !strcmp(what, "oif")) && n == 4)
		buf_addf(o, "%u", v);
	else if (!strcmp(what, "th dport") && n == 2)
		buf_addf(o, "%u", d[0] << 8 | d[1]);
	else {
		buf_adds(o, "0x");
		buf_addhex(o, d, n);
	}
}

static void
ct_bits_str(struct buf *o, const char *what, const uint8_t *mask)
{
	uint32_t m;
	int any = 0;

	memcpy(&m, mask, 4);
	if (!strcmp(what, "ct state")) {
		static const char *const names[] = { "invalid", "established", "related", "new" };
		int i;

		for (i = 0; i < 4; i++)
			if (m & (1u << i)) {
				buf_addf(o, "%s%s", any++ ? "," : "", names[i]);
			}
		return;
	}
	if (!strcmp(what, "ct status") && m == NFT_CT_STATUS_DNAT) {
		buf_adds(o, "dnat");
		return;
	}
	buf_addf(o, "0x%x", m);
}

static void
decode_expr(struct buf *o, struct regs *rg, const char *name, const struct nlattr *data)
{
	const struct nlattr *tb[16];
	uint32_t reg;

	memset(tb, 0, sizeof(tb));
	if (data && nl_attr_parse_nested(data, NULL, 15, tb) < 0)
		return;
#define U(t) (tb[t] ? nl_attr_be32(tb[t]) : 0u)
#define REG(v) rg->r[(v) < 32 ? (v) : 0]
	if (!strcmp(name, "meta")) {
		reg = U(NFTA_META_DREG);
		if (reg == NFT_REG32_01 && rg->r[1][0])
			rg->concat = 1;
		else if (reg == NFT_REG_1)
			rg->concat = 0;
		str_copy(REG(reg), meta_name(U(NFTA_META_KEY)), sizeof(REG(reg)));
	} else if (!strcmp(name, "payload")) {
		reg = U(NFTA_PAYLOAD_DREG);
		if (reg == NFT_REG32_01 && rg->r[1][0])
			rg->concat = 1;
		else if (reg == NFT_REG_1)
			rg->concat = 0;
		payload_name(REG(reg), sizeof(REG(reg)), rg->l4, U(NFTA_PAYLOAD_BASE), U(NFTA_PAYLOAD_OFFSET),
			     U(NFTA_PAYLOAD_LEN));
	} else if (!strcmp(name, "ct")) {
		reg = U(NFTA_CT_DREG);
		str_copy(REG(reg), U(NFTA_CT_KEY) == NFT_CT_STATE ? "ct state" :
				   U(NFTA_CT_KEY) == NFT_CT_STATUS ? "ct status" : "ct", sizeof(REG(reg)));
		rg->concat = 0;
	} else if (!strcmp(name, "bitwise")) {
		rg->masked = (int)value_of(tb[NFTA_BITWISE_MASK], rg->mask, sizeof(rg->mask));
	} else if (!strcmp(name, "cmp")) {
		uint8_t d[64];
		size_t n = value_of(tb[NFTA_CMP_DATA], d, sizeof(d));
		const char *what = REG(U(NFTA_CMP_SREG));

		if (!strcmp(what, "meta l4proto") && n == 1 && U(NFTA_CMP_OP) == NFT_CMP_EQ)
			rg->l4 = d[0];
		buf_addf(o, "%s ", what);
		if (rg->masked == 4 && U(NFTA_CMP_OP) == NFT_CMP_NEQ) {
			ct_bits_str(o, what, rg->mask);
		} else {
			if (U(NFTA_CMP_OP) == NFT_CMP_NEQ)
				buf_adds(o, "!= ");
			cmp_value(o, what, d, n);
		}
		buf_addc(o, ' ');
		rg->masked = 0;
	} else if (!strcmp(name, "lookup")) {
		const char *set = str(tb[NFTA_LOOKUP_SET]);
		char key[100];

		reg = U(NFTA_LOOKUP_SREG);
		if (rg->concat && reg == NFT_REG_1)
			snprintf(key, sizeof(key), "%s . %s", rg->r[1], rg->r[NFT_REG32_01]);
		else
			snprintf(key, sizeof(key), "%s", REG(reg));
		if (tb[NFTA_LOOKUP_DREG]) {
			/* nft writes the map after the statement that uses it */
			snprintf(rg->map, sizeof(rg->map), "%s map @%s", key, set);
		} else {
			buf_addf(o, "%s %s@%s ", key,
				 (U(NFTA_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV) ? "!= " : "", set);
		}
	} else if (!strcmp(name, "immediate")) {
		const struct nlattr *d[NFTA_DATA_MAX + 1], *v[NFTA_VERDICT_MAX + 1];

		if (tb[NFTA_IMMEDIATE_DATA] &&
		    nl_attr_parse_nested(tb[NFTA_IMMEDIATE_DATA], NULL, NFTA_DATA_MAX, d) == 0 &&
		    d[NFTA_DATA_VERDICT] &&
		    nl_attr_parse_nested(d[NFTA_DATA_VERDICT], NULL, NFTA_VERDICT_MAX, v) == 0 &&
		    v[NFTA_VERDICT_CODE]) {
			int code = (int32_t)nl_attr_be32(v[NFTA_VERDICT_CODE]);

			buf_adds(o, code == NFT_V_ACCEPT ? "accept" : code == NFT_V_DROP ? "drop" :
				    code == NFT_RETURN ? "return" : "verdict");
		}
	} else if (!strcmp(name, "nat")) {
		buf_addf(o, "%s %s", U(NFTA_NAT_TYPE) == NFT_NAT_DNAT ? "dnat" : "snat",
			 U(NFTA_NAT_FAMILY) == NFT_FAM_IPV6 ? "ip6" : "ip");
		if (rg->map[0])
			buf_addf(o, " to %s", rg->map);
		rg->map[0] = '\0';
	} else if (!strcmp(name, "masq")) {
		buf_adds(o, "masquerade");
	} else if (!strcmp(name, "redir")) {
		buf_adds(o, "redirect");
	} else if (!strcmp(name, "reject")) {
		buf_adds(o, U(NFTA_REJECT_TYPE) == NFT_REJECT_TCP_RST ? "reject with tcp reset" :
			    "reject");
	} else if (!strcmp(name, "counter")) {
		buf_addf(o, "counter packets %llu bytes %llu ",
			 (unsigned long long)(tb[NFTA_COUNTER_PACKETS] ? nl_attr_be64(tb[NFTA_COUNTER_PACKETS]) : 0),
			 (unsigned long long)(tb[NFTA_COUNTER_BYTES] ? nl_attr_be64(tb[NFTA_COUNTER_BYTES]) : 0));
	} else {
		buf_addf(o, "%s ", name);
	}
#undef U
#undef REG
}

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	const struct nlattr *tb[NFTA_RULE_MAX + 1], *a;
	struct state *st = arg;
	struct nl_attr_iter it;
	struct chain *c = NULL;
	struct regs rg;
	struct buf line = BUF_INIT;
	size_t i;

	if ((nlh->nlmsg_type & 0xff) != NFT_MSG_NEWRULE ||
	    nl_msg_parse(nlh, sizeof(struct nfgenmsg), NULL, NFTA_RULE_MAX, tb) < 0 ||
	    !table_is_ours(tb[NFTA_RULE_TABLE]) || !tb[NFTA_RULE_EXPRESSIONS])
		return NL_CB_OK;
	for (i = 0; i < st->nchains; i++)
		if (!strcmp(st->chains[i].name, str(tb[NFTA_RULE_CHAIN])))
			c = &st->chains[i];
	if (!c)
		return NL_CB_OK;
	memset(&rg, 0, sizeof(rg));
	nl_attr_iter_nested(&it, tb[NFTA_RULE_EXPRESSIONS]);
	while ((a = nl_attr_next(&it))) {
		const struct nlattr *et[NFTA_EXPR_MAX + 1];

		if (nl_attr_parse_nested(a, NULL, NFTA_EXPR_MAX, et) < 0 || !et[NFTA_EXPR_NAME])
			continue;
		decode_expr(&line, &rg, str(et[NFTA_EXPR_NAME]), et[NFTA_EXPR_DATA]);
	}
	while (line.len && line.data[line.len - 1] == ' ')
		buf_truncate(&line, line.len - 1);
	buf_add(&c->rules, line.data ? line.data : "", line.len);
	buf_addc(&c->rules, '\n');
	c->nrules++;
	buf_free(&line);
	return NL_CB_OK;
}

static const char *
hook_name(int h)
{
	static const char *const n[] = { "prerouting", "input", "forward", "output", "postrouting" };

	return h >= 0 && h < 5 ? n[h] : "none";
}

static void
print_text(struct state *st, struct buf *o)
{
	size_t i;

	buf_addf(o, "table inet %s\n", FW_TABLE);
	for (i = 0; i < st->nsets; i++) {
		struct set *s = &st->sets[i];

		buf_addf(o, "  %s %s { type %s", (s->flags & NFT_SET_MAP) ? "map" : "set", s->name,
			 type_name(s->key_type));
		if (s->flags & NFT_SET_MAP)
			buf_addf(o, " : %s", type_name(s->data_type));
		if (s->flags & NFT_SET_INTERVAL)
			buf_adds(o, "; flags interval");
		buf_adds(o, "; elements = {");
		elements(s, NULL, o, 0);
		buf_adds(o, " } }\n");
	}
	for (i = 0; i < st->nchains; i++) {
		struct chain *c = &st->chains[i];
		const char *p = buf_cstr(&c->rules);

		buf_addf(o, "  chain %s { type %s hook %s priority %d; policy %s;\n", c->name, c->type,
			 hook_name(c->hook), c->prio, c->policy == NFT_V_ACCEPT ? "accept" : "drop");
		while (*p) {
			const char *nl = strchr(p, '\n');

			buf_addf(o, "    %.*s\n", (int)(nl - p), p);
			p = nl + 1;
		}
		buf_adds(o, "  }\n");
	}
}

static void
print_json(struct state *st, struct buf *o)
{
	struct json_writer w;
	size_t i;

	json_writer_init(&w, o, 1);
	json_begin_obj(&w);
	json_key(&w, "family");
	json_str(&w, "inet");
	json_key(&w, "table");
	json_str(&w, FW_TABLE);
	json_key(&w, "sets");
	json_begin_arr(&w);
	for (i = 0; i < st->nsets; i++) {
		struct set *s = &st->sets[i];

		json_begin_obj(&w);
		json_key(&w, "name");
		json_str(&w, s->name);
		json_key(&w, "type");
		json_str(&w, type_name(s->key_type));
		if (s->flags & NFT_SET_MAP) {
			json_key(&w, "map");
			json_str(&w, type_name(s->data_type));
		}
		json_key(&w, "interval");
		json_bool(&w, !!(s->flags & NFT_SET_INTERVAL));
		json_key(&w, "elements");
		json_begin_arr(&w);
		elements(s, &w, NULL, 1);
		json_end_arr(&w);
		json_end_obj(&w);
	}
	json_end_arr(&w);
	json_key(&w, "chains");
	json_begin_arr(&w);
	for (i = 0; i < st->nchains; i++) {
		struct chain *c = &st->chains[i];
		const char *p = buf_cstr(&c->rules);

		json_begin_obj(&w);
		json_key(&w, "name");
		json_str(&w, c->name);
		json_key(&w, "type");
		json_str(&w, c->type);
		json_key(&w, "hook");
		json_str(&w, hook_name(c->hook));
		json_key(&w, "priority");
		json_int(&w, c->prio);
		json_key(&w, "policy");
		json_str(&w, c->policy == NFT_V_ACCEPT ? "accept" : "drop");
		json_key(&w, "rules");
		json_begin_arr(&w);
		while (*p) {
			const char *nl = strchr(p, '\n');

			json_strn(&w, p, (size_t)(nl - p));
			p = nl + 1;
		}
		json_end_arr(&w);
		json_end_obj(&w);
	}
	json_end_arr(&w);
	json_end_obj(&w);
	buf_addc(o, '\n');
}

int
fw_show(struct nl_sock *s, struct buf *out, int json, struct nl_err *err)
{
	uint32_t mem[256];
	struct nl_buf b;
	struct state st;
	size_t i;
	int r = -1;

	memset(&st, 0, sizeof(st));
	nl_buf_init(&b, mem, sizeof(mem));
	/* The table first: a clear ENOENT when there is none. */
	req(&b, NFT_MSG_GETTABLE, NLM_F_ACK);
	nl_attr_put_str(&b, NFTA_TABLE_NAME, FW_TABLE);
	if (nl_talk(s, &b, NULL, NULL, err) < 0)
		goto out;
	nl_buf_reset(&b);
	req(&b, NFT_MSG_GETSET, NLM_F_DUMP);
	nl_attr_put_str(&b, NFTA_SET_TABLE, FW_TABLE);
	if (nl_talk(s, &b, set_cb, &st, err) < 0)
		goto out;
	for (i = 0; i < st.nsets; i++) {
		nl_buf_reset(&b);
		req(&b, NFT_MSG_GETSETELEM, NLM_F_DUMP);
		nl_attr_put_str(&b, NFTA_SET_ELEM_LIST_TABLE, FW_TABLE);
		nl_attr_put_str(&b, NFTA_SET_ELEM_LIST_SET, st.sets[i].name);
		st.cur = &st.sets[i];
		if (nl_talk(s, &b, elem_cb, &st, err) < 0)
			goto out;
	}
	nl_buf_reset(&b);
	req(&b, NFT_MSG_GETCHAIN, NLM_F_DUMP);
	if (nl_talk(s, &b, chain_cb, &st, err) < 0)
		goto out;
	nl_buf_reset(&b);
	req(&b, NFT_MSG_GETRULE, NLM_F_DUMP);
	nl_attr_put_str(&b, NFTA_RULE_TABLE, FW_TABLE);
	if (nl_talk(s, &b, rule_cb, &st, err) < 0)
		goto out;
	if (json)
		print_json(&st, out);
	else
		print_text(&st, out);
	r = buf_err(out);
out:
	for (i = 0; i < st.nsets; i++)
		free(st.sets[i].e);
	for (i = 0; i < st.nchains; i++)
		buf_free(&st.chains[i].rules);
	free(st.sets);
	free(st.chains);
	return r;
}

int
fw_exists(struct nl_sock *s, struct nl_err *err)
{
	uint32_t mem[64];
	struct nl_buf b;

	nl_buf_init(&b, mem, sizeof(mem));
	req(&b, NFT_MSG_GETTABLE, NLM_F_ACK);
	nl_attr_put_str(&b, NFTA_TABLE_NAME, FW_TABLE);
	if (nl_talk(s, &b, NULL, NULL, err) < 0)
		return err->errnum == ENOENT ? 0 : -1;
	return 1;
}
