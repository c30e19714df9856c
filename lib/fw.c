#include "fw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fs.h"
#include "json.h"

/* Registers as nft uses them: the 16-byte NFT_REG_1, and NFT_REG32_01 for
 * the second field of a concatenation. */
#define R1 NFT_REG_1
#define R9 NFT_REG32_01

/* nft's set user data: how it prints keys (byte order, concatenations). */
static const uint8_t ud_host[] = { 0x00, 0x04, 0x01, 0x00, 0x00, 0x00 };
static const uint8_t ud_big[] = { 0x00, 0x04, 0x02, 0x00, 0x00, 0x00 };
static const uint8_t ud_concat[] = { 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x08,
				     0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00 };
static const uint8_t ud_concat_map[] = { 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04,
					 0x00, 0x00, 0x00, 0x00, 0x03, 0x08, 0x00, 0x04,
					 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00, 0x04, 0x08,
					 0x00, 0x04, 0x0d, 0x00, 0x00, 0x00, 0x01, 0x00,
					 0x06, 0x04, 0x00, 0x00, 0x00, 0x00 };

enum {
	S_INTERNAL = 1, S_EXTERNAL, S_OPEN, S_MASQ4, S_MASQ6, S_REDIR, S_ICMP, S_ICMP6, S_FWD
};

static const struct nft_set sets[] = {
	{ "internal_ifs", S_INTERNAL, 0, NFT_DT_IFNAME, IFNAMSIZ, 0, 0, ud_host, sizeof(ud_host) },
	{ "external_ifs", S_EXTERNAL, 0, NFT_DT_IFNAME, IFNAMSIZ, 0, 0, ud_host, sizeof(ud_host) },
	{ "open_ports", S_OPEN, 0, NFT_DT_CONCAT(NFT_DT_INET_PROTO, NFT_DT_INET_SERVICE), 8, 0, 0,
	  ud_concat, sizeof(ud_concat) },
	{ "masq_v4", S_MASQ4, NFT_SET_INTERVAL, NFT_DT_IPADDR, 4, 0, 0, ud_big, sizeof(ud_big) },
	{ "masq_v6", S_MASQ6, NFT_SET_INTERVAL, NFT_DT_IP6ADDR, 16, 0, 0, ud_big, sizeof(ud_big) },
	{ "redirect_ports", S_REDIR, 0, NFT_DT_CONCAT(NFT_DT_INET_PROTO, NFT_DT_INET_SERVICE), 8, 0,
	  0, ud_concat, sizeof(ud_concat) },
	{ "icmp_ok", S_ICMP, 0, NFT_DT_ICMP_TYPE, 1, 0, 0, ud_big, sizeof(ud_big) },
	{ "icmpv6_ok", S_ICMP6, 0, NFT_DT_ICMP6_TYPE, 1, 0, 0, ud_big, sizeof(ud_big) },
	{ "fwd_v4", S_FWD, NFT_SET_MAP, NFT_DT_CONCAT(NFT_DT_INET_PROTO, NFT_DT_INET_SERVICE), 8,
	  NFT_DT_CONCAT(NFT_DT_IPADDR, NFT_DT_INET_SERVICE), 8, ud_concat_map,
	  sizeof(ud_concat_map) },
};
#define NSETS (sizeof(sets) / sizeof(sets[0]))

static const struct {
	const char *name, *type;
	int hook, prio;
} chains[] = {
	{ "input", "filter", NFT_HOOK_INPUT, 0 },
	{ "forward", "filter", NFT_HOOK_FORWARD, 0 },
	{ "output", "filter", NFT_HOOK_OUTPUT, 0 },
	{ "prerouting", "nat", NFT_HOOK_PREROUTING, NFT_PRIO_DSTNAT },
	{ "postrouting", "nat", NFT_HOOK_POSTROUTING, NFT_PRIO_SRCNAT },
};

/* ICMP types that must pass for IP to work: errors, echo, and for IPv6
 * neighbour discovery and MLD. */
static const uint8_t icmp_ok[] = { 3, 8, 11, 12 };
static const uint8_t icmpv6_ok[] = { 1, 2, 3, 4, 128, 130, 131, 132, 133, 134, 135, 136, 143 };

/* ---- configuration ---- */

static const struct conf_key_spec policy_keys[] = {
	{ "input", CONF_STR, 0, 0, 0 },
	{ "forward", CONF_STR, 0, 0, 0 },
	{ "output", CONF_STR, 0, 0, 0 },
	{ "icmp", CONF_BOOL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec zone_keys[] = {
	{ "interface", CONF_STR, CONF_MULTI, 0, 0 },
	{ "masquerade", CONF_STR, CONF_MULTI, 0, 0 },
	{ "trust", CONF_BOOL, 0, 0, 0 },
	{ "isolate", CONF_BOOL, 0, 0, 0 },
	{ "redirect-dns", CONF_BOOL, 0, 0, 0 },
	{ "redirect-ntp", CONF_BOOL, 0, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec ports_keys[] = {
	{ "open", CONF_STR, CONF_MULTI, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_key_spec forward_keys[] = {
	{ "forward", CONF_STR, CONF_MULTI, 0, 0 },
	{ NULL, 0, 0, 0, 0 },
};
static const struct conf_section_spec schema[] = {
	{ "policy", CONF_NOARG, policy_keys },
	{ "zone", CONF_ARG, zone_keys },
	{ "ports", CONF_NOARG, ports_keys },
	{ "forward", CONF_NOARG, forward_keys },
	{ NULL, 0, NULL },
};

static int
proto_num(const char *s)
{
	if (!strcasecmp(s, "tcp"))
		return 6;
	if (!strcasecmp(s, "udp"))
		return 17;
	if (!strcasecmp(s, "sctp"))
		return 132;
	if (!strcasecmp(s, "dccp"))
		return 33;
	return -1;
}

const char *
fw_proto_name(uint8_t p, char buf[8])
{
	switch (p) {
	case 6: return "tcp";
	case 17: return "udp";
	case 132: return "sctp";
	case 33: return "dccp";
	case 1: return "icmp";
	case 58: return "ipv6-icmp";
	}
	snprintf(buf, 8, "%u", p);
	return buf;
}

static int
parse_port(const char *s, uint16_t *out)
{
	uint32_t v;

	if (str_to_u32(s, 65535, &v) < 0 || v == 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
valid_ifname(const char *s)
{
	const char *p;

	if (!*s || strlen(s) >= IFNAMSIZ)
		return 0;
	for (p = s; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			return 0;
	return 1;
}

#define GROW(arr, n)                                                          \
	do {                                                                  \
		void *np_ = realloc((arr), ((n) + 1) * sizeof(*(arr)));       \
		if (!np_)                                                     \
			return conf_errf(err, c->file, kv->line, "out of memory"); \
		(arr) = np_;                                                  \
	} while (0)

static int
policy_of(const struct conf *cf, const struct conf_section *s, const char *key, int def,
	  int allow_reject, int *out, struct conf_err *err)
{
	const struct conf_kv *kv = conf_get_kv(s, key);

	*out = def;
	if (!kv)
		return 0;
	if (!strcasecmp(kv->val, "accept"))
		*out = FW_ACCEPT;
	else if (!strcasecmp(kv->val, "drop"))
		*out = FW_DROP;
	else if (allow_reject && !strcasecmp(kv->val, "reject"))
		*out = FW_REJECT;
	else
		return conf_errf(err, cf->file, kv->line, "%s: expected accept, drop%s, not \"%.32s\"",
				 key, allow_reject ? " or reject" : "", kv->val);
	return 0;
}

static int
add_iface(struct fw_config *c, struct fw_iface **arr, size_t *n, const struct conf_kv *kv,
	  struct conf_err *err)
{
	size_t i;

	if (!valid_ifname(kv->val))
		return conf_errf(err, c->file, kv->line, "interface \"%.32s\": not a valid name", kv->val);
	for (i = 0; i < c->ninternal; i++)
		if (!strcmp(c->internal[i].name, kv->val))
			return conf_errf(err, c->file, kv->line, "interface %s: already in zone internal (line %d)",
					 kv->val, c->internal[i].line);
	for (i = 0; i < c->nexternal; i++)
		if (!strcmp(c->external[i].name, kv->val))
			return conf_errf(err, c->file, kv->line, "interface %s: already in zone external (line %d)",
					 kv->val, c->external[i].line);
	GROW(*arr, *n);
	str_copy((*arr)[*n].name, kv->val, IFNAMSIZ);
	(*arr)[*n].line = kv->line;
	(*n)++;
	return 0;
}

static int
parse_zone(struct fw_config *c, const struct conf *cf, const struct conf_section *s,
	   struct conf_err *err)
{
	int internal = !strcmp(s->arg, "internal");
	const struct conf_kv *kv;
	size_t i;

	if (!internal && strcmp(s->arg, "external"))
		return conf_errf(err, cf->file, s->line, "[zone %.32s]: zones are internal or external",
				 s->arg);
	for (i = 0; i < s->nkv; i++) {
		kv = &s->kv[i];
		if (!strcasecmp(kv->key, "interface")) {
			if (add_iface(c, internal ? &c->internal : &c->external,
				      internal ? &c->ninternal : &c->nexternal, kv, err) < 0)
				return -1;
			continue;
		}
		if (!internal)
			return conf_errf(err, cf->file, kv->line, "%s: belongs to [zone internal]", kv->key);
		if (!strcasecmp(kv->key, "masquerade")) {
			struct ipaddr p;

			if (ipaddr_parse_prefix(kv->val, AF_UNSPEC, &p) < 0)
				return conf_errf(err, cf->file, kv->line, "masquerade %.64s: not a prefix", kv->val);
			if (!ipaddr_is_network(&p))
				return conf_errf(err, cf->file, kv->line, "masquerade %.64s: host bits set",
						 kv->val);
			/* Overlaps are the kernel's to find: it refuses them in the
			 * transaction, and the error comes back with this line. */
			GROW(c->masq, c->nmasq);
			c->masq[c->nmasq].p = p;
			c->masq[c->nmasq++].line = kv->line;
		}
	}
	if (internal) {
		if (conf_get_bool(cf, s, "trust", 1, &c->trust, err) < 0 ||
		    conf_get_bool(cf, s, "isolate", 0, &c->isolate, err) < 0 ||
		    conf_get_bool(cf, s, "redirect-dns", 0, &c->redirect_dns, err) < 0 ||
		    conf_get_bool(cf, s, "redirect-ntp", 0, &c->redirect_ntp, err) < 0)
			return -1;
	}
	return 0;
}

static int
parse_open(struct fw_config *c, const struct conf_kv *kv, struct conf_err *err)
{
	char tmp[128], *f[3];
	uint16_t port;
	int proto;
	size_t i;

	str_copy(tmp, kv->val, sizeof(tmp));
	if (str_split(tmp, " \t/", f, 3) != 2 || (proto = proto_num(f[0])) < 0 ||
	    parse_port(f[1], &port) < 0)
		return conf_errf(err, c->file, kv->line,
				 "open %.64s: expected PROTO PORT (tcp, udp, sctp, dccp; 1-65535)", kv->val);
	for (i = 0; i < c->nopen; i++)
		if (c->open[i].proto == proto && c->open[i].port == port)
			return conf_errf(err, c->file, kv->line, "open %s %u: already open (line %d)",
					 f[0], port, c->open[i].line);
	GROW(c->open, c->nopen);
	c->open[c->nopen].proto = (uint8_t)proto;
	c->open[c->nopen].port = port;
	c->open[c->nopen++].line = kv->line;
	return 0;
}

/* "PROTO PORT ADDR[:PORT]" */
static int
parse_fwd_words(char **f, size_t n, struct fw_fwd *out)
{
	char addr[64], *colon;
	int proto;

	if (n != 3 || (proto = proto_num(f[0])) < 0 || parse_port(f[1], &out->port) < 0)
		return -1;
	out->proto = (uint8_t)proto;
	str_copy(addr, f[2], sizeof(addr));
	colon = strchr(addr, ':');
	out->to_port = out->port;
	if (colon) {
		*colon++ = '\0';
		if (parse_port(colon, &out->to_port) < 0)
			return -1;
	}
	if (ipaddr_parse(addr, AF_INET, &out->to) < 0 || out->to.plen >= 0)
		return -1;
	return 0;
}

static int
parse_fwd(struct fw_config *c, const struct conf_kv *kv, struct conf_err *err)
{
	char tmp[128], *f[4];
	struct fw_fwd fw;
	size_t i, n;

	str_copy(tmp, kv->val, sizeof(tmp));
	n = str_split(tmp, " \t", f, 4);
	memset(&fw, 0, sizeof(fw));
	if (parse_fwd_words(f, n, &fw) < 0)
		return conf_errf(err, c->file, kv->line,
				 "forward %.64s: expected PROTO PORT IPV4[:PORT]", kv->val);
	for (i = 0; i < c->nfwd; i++)
		if (c->fwd[i].proto == fw.proto && c->fwd[i].port == fw.port)
			return conf_errf(err, c->file, kv->line, "forward %s %u: already forwarded (line %d)",
					 f[0], fw.port, c->fwd[i].line);
	fw.line = kv->line;
	GROW(c->fwd, c->nfwd);
	c->fwd[c->nfwd++] = fw;
	return 0;
}

int
fw_config_parse(struct fw_config *c, const char *file, const char *text, size_t len,
		struct conf_err *err)
{
	struct conf cf;
	const struct conf_section *s;
	size_t i, j;

	memset(c, 0, sizeof(*c));
	str_copy(c->file, file, sizeof(c->file));
	c->input = c->forward = FW_DROP;
	c->output = FW_ACCEPT;
	c->icmp = 1;
	c->trust = 1;
	if (conf_parse(&cf, file, text, len, 0, err) < 0)
		return -1;
	if (conf_validate(&cf, schema, err) < 0)
		goto fail;
	s = conf_section_find(&cf, "policy", NULL);
	if (policy_of(&cf, s, "input", FW_DROP, 1, &c->input, err) < 0 ||
	    policy_of(&cf, s, "forward", FW_DROP, 1, &c->forward, err) < 0 ||
	    policy_of(&cf, s, "output", FW_ACCEPT, 0, &c->output, err) < 0 ||
	    conf_get_bool(&cf, s, "icmp", 1, &c->icmp, err) < 0)
		goto fail;
	for (i = 0; i < cf.nsect; i++) {
		s = &cf.sect[i];
		if (!strcasecmp(s->name, "zone") && parse_zone(c, &cf, s, err) < 0)
			goto fail;
		for (j = 0; j < s->nkv; j++) {
			const struct conf_kv *kv = &s->kv[j];

			if (!strcasecmp(s->name, "ports") && parse_open(c, kv, err) < 0)
				goto fail;
			if (!strcasecmp(s->name, "forward") && parse_fwd(c, kv, err) < 0)
				goto fail;
		}
	}
	conf_free(&cf);
	return 0;
fail:
	conf_free(&cf);
	fw_config_free(c);
	errno = EINVAL;
	return -1;
}

int
fw_config_load(struct fw_config *c, const char *path, struct conf_err *err)
{
	struct buf b = BUF_INIT;
	int r;

	memset(c, 0, sizeof(*c));
	if (fs_read_file(path, &b, 4 << 20) < 0) {
		int saved = errno;

		conf_errf(err, path, 0, "%s", strerror(saved));
		buf_free(&b);
		errno = saved;
		return -1;
	}
	r = fw_config_parse(c, path, b.data ? b.data : "", b.len, err);
	buf_free(&b);
	return r;
}

void
fw_config_free(struct fw_config *c)
{
	free(c->internal);
	free(c->external);
	free(c->masq);
	free(c->open);
	free(c->fwd);
	c->internal = c->external = NULL;
	c->masq = NULL;
	c->open = NULL;
	c->fwd = NULL;
	c->ninternal = c->nexternal = c->nmasq = c->nopen = c->nfwd = 0;
}

static const char *
policy_name(int p)
{
	return p == FW_ACCEPT ? "accept" : p == FW_DROP ? "drop" : "reject";
}

int
fw_config_print(const struct fw_config *c, struct buf *out)
{
	char s[IPADDR_STRLEN], pb[8];
	size_t i;

	buf_addf(out, "[policy]\ninput = %s\nforward = %s\noutput = %s\nicmp = %s\n",
		 policy_name(c->input), policy_name(c->forward), policy_name(c->output),
		 c->icmp ? "yes" : "no");
	buf_adds(out, "\n[zone internal]\n");
	for (i = 0; i < c->ninternal; i++)
		buf_addf(out, "interface = %s\n", c->internal[i].name);
	for (i = 0; i < c->nmasq; i++)
		buf_addf(out, "masquerade = %s\n", ipaddr_str(&c->masq[i].p, s));
	buf_addf(out, "trust = %s\nisolate = %s\nredirect-dns = %s\nredirect-ntp = %s\n",
		 c->trust ? "yes" : "no", c->isolate ? "yes" : "no", c->redirect_dns ? "yes" : "no",
		 c->redirect_ntp ? "yes" : "no");
	buf_adds(out, "\n[zone external]\n");
	for (i = 0; i < c->nexternal; i++)
		buf_addf(out, "interface = %s\n", c->external[i].name);
	buf_adds(out, "\n[ports]\n");
	for (i = 0; i < c->nopen; i++)
		buf_addf(out, "open = %s %u\n", fw_proto_name(c->open[i].proto, pb), c->open[i].port);
	buf_adds(out, "\n[forward]\n");
	for (i = 0; i < c->nfwd; i++)
		buf_addf(out, "forward = %s %u %s:%u\n", fw_proto_name(c->fwd[i].proto, pb), c->fwd[i].port,
			 ipaddr_str_addr(&c->fwd[i].to, s), c->fwd[i].to_port);
	return buf_err(out);
}

/* ---- building the batch ---- */

void
fw_lines_free(struct fw_lines *l)
{
	free(l->line);
	memset(l, 0, sizeof(*l));
}

/* Record the line of the message about to be appended. */
static int
mark(struct fw_lines *l, int line)
{
	if (!l)
		return 0;
	if (l->n == l->cap) {
		int *p = realloc(l->line, (l->cap = l->cap ? l->cap * 2 : 64) * sizeof(*p));

		if (!p)
			return -1;
		l->line = p;
	}
	l->line[l->n++] = line;
	return 0;
}

static void
key_port(struct nft_elem *e, uint8_t proto, uint16_t port)
{
	memset(e->key, 0, 8);
	e->key[0] = proto;
	e->key[4] = (uint8_t)(port >> 8);
	e->key[5] = (uint8_t)port;
	e->klen = 8;
}

static void
key_ifname(struct nft_elem *e, const char *name)
{
	memset(e->key, 0, IFNAMSIZ);
	memcpy(e->key, name, strlen(name));
	e->klen = IFNAMSIZ;
}

/* A prefix as interval elements: its start, and the first address after
 * it flagged as the end (none when the prefix reaches the top). */
static size_t
prefix_elems(const struct ipaddr *p, struct nft_elem *e)
{
	size_t len = ipaddr_len(p);
	int bit = ipaddr_bits(p) - p->plen, i;
	unsigned carry;
	uint8_t end[16];

	memset(e, 0, 2 * sizeof(*e));
	memcpy(e[0].key, p->a, len);
	e[0].klen = (uint32_t)len;
	if (p->plen == 0)
		return 1;
	/* end = start + 2^bit, as a big-endian number */
	memcpy(end, p->a, len);
	i = (int)len - 1 - bit / 8;
	carry = 1u << (bit % 8);
	for (; i >= 0 && carry; i--) {
		unsigned v = end[i] + carry;

		end[i] = (uint8_t)v;
		carry = v >> 8;
	}
	if (carry)
		return 1;	/* wrapped past the last address */
	memcpy(e[1].key, end, len);
	e[1].klen = (uint32_t)len;
	e[1].flags = NFT_SET_ELEM_INTERVAL_END;
	return 2;
}

static const struct nft_set *
set_by_name(const char *name)
{
	size_t i;

	for (i = 0; i < NSETS; i++)
		if (!strcmp(sets[i].name, name))
			return &sets[i];
	return NULL;
}

static const struct nft_set *
set_by_id(uint32_t id)
{
	return &sets[id - 1];
}

static int
elem(struct nl_buf *b, struct fw_lines *l, int line, uint32_t id, const struct nft_elem *e, size_t n)
{
	const struct nft_set *s = set_by_id(id);

	if (mark(l, line) < 0)
		return -1;
	if (nft_elems(b, 0, FW_FAMILY, FW_TABLE, s->name, s->id, e, n) < 0)
		return -1;
	/* Within apply, an element given twice is an error, not a no-op. */
	nl_msg_cur(b)->nlmsg_flags |= NLM_F_EXCL;
	return 0;
}

static void
rule(struct nl_buf *b, struct fw_lines *l, struct nft_rule *r, const char *chain)
{
	mark(l, 0);
	nft_rule_begin(b, r, FW_FAMILY, FW_TABLE, chain);
}

static void
ct_bits(struct nl_buf *b, uint32_t key, uint32_t bits)
{
	uint32_t zero = 0;

	nft_ct(b, key, R1);
	nft_bitwise(b, R1, &bits, &zero, 4);
	nft_cmp(b, R1, NFT_CMP_NEQ, &zero, 4);
}

static void
in_set(struct nl_buf *b, uint32_t meta_key, uint32_t set_id)
{
	nft_meta(b, meta_key, R1);
	nft_lookup(b, R1, set_by_id(set_id)->name, set_id, -1, 0);
}

/* meta l4proto . th dport: the concatenation of the port sets. */
static void
proto_port(struct nl_buf *b)
{
	nft_meta(b, NFT_META_L4PROTO, R1);
	nft_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R9);
}

static void
reject_rules(struct nl_buf *b, struct fw_lines *l, const char *chain)
{
	struct nft_rule r;
	uint8_t tcp = 6;

	rule(b, l, &r, chain);
	nft_meta(b, NFT_META_L4PROTO, R1);
	nft_cmp(b, R1, NFT_CMP_EQ, &tcp, 1);
	nft_reject(b, NFT_REJECT_TCP_RST, 0);
	nft_rule_end(b, &r);
	rule(b, l, &r, chain);
	nft_reject(b, NFT_REJECT_ICMPX_UNREACH, NFT_REJECT_ICMPX_PORT_UNREACH);
	nft_rule_end(b, &r);
}

static void
established(struct nl_buf *b, struct fw_lines *l, const char *chain)
{
	struct nft_rule r;

	rule(b, l, &r, chain);
	ct_bits(b, NFT_CT_STATE, NFT_CT_ESTABLISHED | NFT_CT_RELATED);
	nft_verdict(b, NFT_V_ACCEPT);
	nft_rule_end(b, &r);
	rule(b, l, &r, chain);
	ct_bits(b, NFT_CT_STATE, NFT_CT_INVALID);
	nft_verdict(b, NFT_V_DROP);
	nft_rule_end(b, &r);
}

static int
chain_policy(int p)
{
	return p == FW_ACCEPT ? NFT_V_ACCEPT : NFT_V_DROP;
}

int
fw_build(struct nl_buf *b, const struct fw_config *c, struct fw_lines *l)
{
	struct nft_elem e[2];
	struct nft_rule r;
	size_t i, n;
	uint32_t one = 1;
	uint8_t p;

	mark(l, 0);
	nft_batch_begin(b);
	/*
	 * One transaction that makes the table what the file says, whether
	 * or not it exists: create what is missing, empty the sets and the
	 * chains, fill them again. The base chains stay registered with
	 * their hooks (re-registering them is what makes "delete table; add
	 * table" slow), and nothing is ever half-applied.
	 */
	mark(l, 0);
	nft_table_add(b, FW_FAMILY, FW_TABLE);
	for (i = 0; i < sizeof(chains) / sizeof(chains[0]); i++) {
		int policy = i == 0 ? c->input : i == 1 ? c->forward : i == 2 ? c->output : FW_ACCEPT;

		mark(l, 0);
		nft_chain_add(b, FW_FAMILY, FW_TABLE, chains[i].name, chains[i].type, chains[i].hook,
			      chains[i].prio, chain_policy(policy));
	}
	mark(l, 0);
	nft_rules_flush(b, FW_FAMILY, FW_TABLE);
	for (i = 0; i < NSETS; i++) {
		mark(l, 0);
		nft_set_add(b, FW_FAMILY, FW_TABLE, &sets[i]);
		mark(l, 0);
		nft_elems_flush(b, FW_FAMILY, FW_TABLE, sets[i].name);
	}
	for (i = 0; i < c->ninternal; i++) {
		key_ifname(&e[0], c->internal[i].name);
		e[0].dlen = e[0].flags = 0;
		elem(b, l, c->internal[i].line, S_INTERNAL, e, 1);
	}
	for (i = 0; i < c->nexternal; i++) {
		key_ifname(&e[0], c->external[i].name);
		e[0].dlen = e[0].flags = 0;
		elem(b, l, c->external[i].line, S_EXTERNAL, e, 1);
	}
	for (i = 0; i < c->nopen; i++) {
		memset(e, 0, sizeof(e[0]));
		key_port(&e[0], c->open[i].proto, c->open[i].port);
		elem(b, l, c->open[i].line, S_OPEN, e, 1);
	}
	for (i = 0; i < c->nmasq; i++) {
		n = prefix_elems(&c->masq[i].p, e);
		elem(b, l, c->masq[i].line, c->masq[i].p.family == AF_INET ? S_MASQ4 : S_MASQ6, e, n);
	}
	for (i = 0; i < c->nfwd; i++) {
		memset(e, 0, sizeof(e[0]));
		key_port(&e[0], c->fwd[i].proto, c->fwd[i].port);
		memcpy(e[0].data, c->fwd[i].to.a, 4);
		e[0].data[4] = (uint8_t)(c->fwd[i].to_port >> 8);
		e[0].data[5] = (uint8_t)c->fwd[i].to_port;
		e[0].dlen = 8;
		elem(b, l, c->fwd[i].line, S_FWD, e, 1);
	}
	if (c->redirect_dns) {
		memset(e, 0, 2 * sizeof(e[0]));
		key_port(&e[0], 6, 53);
		key_port(&e[1], 17, 53);
		elem(b, l, 0, S_REDIR, e, 2);
	}
	if (c->redirect_ntp) {
		memset(e, 0, sizeof(e[0]));
		key_port(&e[0], 17, 123);
		elem(b, l, 0, S_REDIR, e, 1);
	}
	for (i = 0; c->icmp && i < sizeof(icmp_ok); i++) {
		memset(e, 0, sizeof(e[0]));
		e[0].key[0] = icmp_ok[i];
		e[0].klen = 1;
		elem(b, l, 0, S_ICMP, e, 1);
	}
	for (i = 0; c->icmp && i < sizeof(icmpv6_ok); i++) {
		memset(e, 0, sizeof(e[0]));
		e[0].key[0] = icmpv6_ok[i];
		e[0].klen = 1;
		elem(b, l, 0, S_ICMP6, e, 1);
	}

	/* input */
	established(b, l, "input");
	rule(b, l, &r, "input");
	nft_meta(b, NFT_META_IIF, R1);
	nft_cmp(b, R1, NFT_CMP_EQ, &one, 4);	/* lo is ifindex 1 in every namespace */
	nft_verdict(b, NFT_V_ACCEPT);
	nft_rule_end(b, &r);
	if (c->icmp) {
		rule(b, l, &r, "input");
		p = 1;
		nft_meta(b, NFT_META_L4PROTO, R1);
		nft_cmp(b, R1, NFT_CMP_EQ, &p, 1);
		nft_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R1);
		nft_lookup(b, R1, "icmp_ok", S_ICMP, -1, 0);
		nft_verdict(b, NFT_V_ACCEPT);
		nft_rule_end(b, &r);
		rule(b, l, &r, "input");
		p = 58;
		nft_meta(b, NFT_META_L4PROTO, R1);
		nft_cmp(b, R1, NFT_CMP_EQ, &p, 1);
		nft_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1, R1);
		nft_lookup(b, R1, "icmpv6_ok", S_ICMP6, -1, 0);
		nft_verdict(b, NFT_V_ACCEPT);
		nft_rule_end(b, &r);
	}
	if (c->trust) {
		rule(b, l, &r, "input");
		in_set(b, NFT_META_IIFNAME, S_INTERNAL);
		nft_verdict(b, NFT_V_ACCEPT);
		nft_rule_end(b, &r);
	}
	rule(b, l, &r, "input");
	proto_port(b);
	nft_lookup(b, R1, "open_ports", S_OPEN, -1, 0);
	nft_verdict(b, NFT_V_ACCEPT);
	nft_rule_end(b, &r);
	if (c->input == FW_REJECT)
		reject_rules(b, l, "input");

	/* forward */
	established(b, l, "forward");
	rule(b, l, &r, "forward");
	ct_bits(b, NFT_CT_STATUS, NFT_CT_STATUS_DNAT);
	nft_verdict(b, NFT_V_ACCEPT);
	nft_rule_end(b, &r);
	if (c->isolate) {
		rule(b, l, &r, "forward");
		in_set(b, NFT_META_IIFNAME, S_INTERNAL);
		in_set(b, NFT_META_OIFNAME, S_INTERNAL);
		nft_verdict(b, NFT_V_DROP);
		nft_rule_end(b, &r);
	}
	rule(b, l, &r, "forward");
	in_set(b, NFT_META_IIFNAME, S_INTERNAL);
	nft_verdict(b, NFT_V_ACCEPT);
	nft_rule_end(b, &r);
	if (c->forward == FW_REJECT)
		reject_rules(b, l, "forward");

	/* output */
	if (c->output != FW_ACCEPT) {
		established(b, l, "output");
		rule(b, l, &r, "output");
		nft_meta(b, NFT_META_OIF, R1);
		nft_cmp(b, R1, NFT_CMP_EQ, &one, 4);
		nft_verdict(b, NFT_V_ACCEPT);
		nft_rule_end(b, &r);
	}

	/* prerouting: port forwards and redirects */
	rule(b, l, &r, "prerouting");
	in_set(b, NFT_META_IIFNAME, S_EXTERNAL);
	proto_port(b);
	nft_lookup(b, R1, "fwd_v4", S_FWD, R1, 0);
	nft_nat(b, NFT_NAT_DNAT, NFT_FAM_IPV4, R1, R9);
	nft_rule_end(b, &r);
	rule(b, l, &r, "prerouting");
	in_set(b, NFT_META_IIFNAME, S_INTERNAL);
	proto_port(b);
	nft_lookup(b, R1, "redirect_ports", S_REDIR, -1, 0);
	nft_redir(b);
	nft_rule_end(b, &r);

	/* postrouting: masquerade */
	for (i = 0; i < 2; i++) {
		uint8_t fam = i == 0 ? NFT_FAM_IPV4 : NFT_FAM_IPV6;

		rule(b, l, &r, "postrouting");
		in_set(b, NFT_META_OIFNAME, S_EXTERNAL);
		nft_meta(b, NFT_META_NFPROTO, R1);
		nft_cmp(b, R1, NFT_CMP_EQ, &fam, 1);
		if (i == 0)
			nft_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, R1);
		else
			nft_payload(b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, R1);
		nft_lookup(b, R1, i == 0 ? "masq_v4" : "masq_v6", i == 0 ? S_MASQ4 : S_MASQ6, -1, 0);
		nft_masq(b);
		nft_rule_end(b, &r);
	}
	mark(l, 0);
	nft_batch_end(b);
	/* Hundreds of ACKs would cost more than the work: errors come back
	 * without asking, with the sequence number that names the line. */
	nl_buf_clear_flags(b, NLM_F_ACK);
	if (l && l->n && !l->line)
		return (errno = ENOMEM, -1);
	return nl_buf_err(b);
}

int
fw_build_flush(struct nl_buf *b)
{
	nft_batch_begin(b);
	nft_table_add(b, FW_FAMILY, FW_TABLE);
	nft_table_del(b, FW_FAMILY, FW_TABLE);
	nft_batch_end(b);
	return nl_buf_err(b);
}

int
fw_build_elems(struct nl_buf *b, int del, const char *set, int argc, char **argv, char *err,
	       size_t errlen)
{
	const struct nft_set *s = set_by_name(set);
	struct nft_elem *e;
	size_t n = 0;
	int i, r = -1;

	if (!s || s->id == S_ICMP || s->id == S_ICMP6) {
		snprintf(err, errlen, "%s: not a set lab net fw changes (internal_ifs, external_ifs, "
			 "open_ports, redirect_ports, masq_v4, masq_v6, fwd_v4)", set);
		return (errno = EINVAL, -1);
	}
	if (argc < 1) {
		snprintf(err, errlen, "%s: no elements given", set);
		return (errno = EINVAL, -1);
	}
	e = calloc((size_t)argc * 2 + 2, sizeof(*e));
	if (!e)
		return -1;
	switch (s->id) {
	case S_INTERNAL:
	case S_EXTERNAL:
		for (i = 0; i < argc; i++) {
			if (!valid_ifname(argv[i])) {
				snprintf(err, errlen, "%s: not a valid interface name", argv[i]);
				goto out;
			}
			key_ifname(&e[n++], argv[i]);
		}
		break;
	case S_OPEN:
	case S_REDIR: {
		uint16_t port;
		int proto;

		if (argc != 2 || (proto = proto_num(argv[0])) < 0 || parse_port(argv[1], &port) < 0) {
			snprintf(err, errlen, "%s: expected PROTO PORT", set);
			goto out;
		}
		key_port(&e[n++], (uint8_t)proto, port);
		break;
	}
	case S_MASQ4:
	case S_MASQ6:
		for (i = 0; i < argc; i++) {
			struct ipaddr p;

			if (ipaddr_parse_prefix(argv[i], s->id == S_MASQ4 ? AF_INET : AF_INET6, &p) < 0 ||
			    !ipaddr_is_network(&p)) {
				snprintf(err, errlen, "%s: not an %s prefix", argv[i],
					 s->id == S_MASQ4 ? "IPv4" : "IPv6");
				goto out;
			}
			n += prefix_elems(&p, &e[n]);
		}
		break;
	case S_FWD: {
		struct fw_fwd fw;
		int proto;

		memset(&fw, 0, sizeof(fw));
		if (del) {
			if (argc != 2 || (proto = proto_num(argv[0])) < 0 ||
			    parse_port(argv[1], &fw.port) < 0) {
				snprintf(err, errlen, "fwd del: expected PROTO PORT");
				goto out;
			}
			key_port(&e[n++], (uint8_t)proto, fw.port);
			break;
		}
		if (parse_fwd_words(argv, (size_t)argc, &fw) < 0) {
			snprintf(err, errlen, "fwd add: expected PROTO PORT IPV4[:PORT]");
			goto out;
		}
		key_port(&e[n], fw.proto, fw.port);
		memcpy(e[n].data, fw.to.a, 4);
		e[n].data[4] = (uint8_t)(fw.to_port >> 8);
		e[n].data[5] = (uint8_t)fw.to_port;
		e[n++].dlen = 8;
		break;
	}
	}
	nft_batch_begin(b);
	nft_elems(b, del, FW_FAMILY, FW_TABLE, s->name, 0, e, n);
	nft_batch_end(b);
	r = nl_buf_err(b);
	if (r < 0)
		snprintf(err, errlen, "%s: too many elements for one message", set);
out:
	free(e);
	if (r < 0 && errno == 0)
		errno = EINVAL;
	return r;
}
