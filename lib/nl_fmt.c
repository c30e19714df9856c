#include "nl_fmt.h"

#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <stdio.h>
#include <string.h>

static void
pad(struct buf *out, int depth)
{
	int i;

	for (i = 0; i < depth; i++)
		buf_adds(out, "  ");
}

static void
flags(struct buf *out, uint16_t f, int get)
{
	static const struct {
		uint16_t bit;
		const char *name;
	} common[] = {
		{ NLM_F_REQUEST, "REQUEST" }, { NLM_F_MULTI, "MULTI" }, { NLM_F_ACK, "ACK" },
		{ NLM_F_ECHO, "ECHO" },
	}, get_[] = {
		{ NLM_F_ROOT, "ROOT" }, { NLM_F_MATCH, "MATCH" }, { NLM_F_ATOMIC, "ATOMIC" },
	}, new_[] = {
		{ NLM_F_REPLACE, "REPLACE" }, { NLM_F_EXCL, "EXCL" }, { NLM_F_CREATE, "CREATE" },
		{ NLM_F_APPEND, "APPEND" },
	};
	size_t i;
	int any = 0;
	uint16_t left = f;

	for (i = 0; i < sizeof(common) / sizeof(common[0]); i++)
		if (f & common[i].bit) {
			buf_addf(out, "%s%s", any++ ? "|" : "", common[i].name);
			left &= (uint16_t)~common[i].bit;
		}
	if (get && (f & NLM_F_DUMP) == NLM_F_DUMP) {
		buf_addf(out, "%sDUMP", any++ ? "|" : "");
		left &= (uint16_t)~NLM_F_DUMP;
	}
	for (i = 0; i < (get ? 3u : 4u); i++) {
		uint16_t bit = get ? get_[i].bit : new_[i].bit;

		if (left & bit) {
			buf_addf(out, "%s%s", any++ ? "|" : "", get ? get_[i].name : new_[i].name);
			left &= (uint16_t)~bit;
		}
	}
	if (left)
		buf_addf(out, "%s0x%x", any++ ? "|" : "", left);
	if (!any)
		buf_adds(out, "0");
}

static void
quoted(struct buf *out, const char *s, size_t n)
{
	size_t i;

	/* A trailing NUL is the string's terminator, not content. */
	if (n && s[n - 1] == '\0')
		n--;
	buf_addc(out, '"');
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			buf_addf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			buf_addf(out, "\\x%02x", c);
		else
			buf_addc(out, (char)c);
	}
	buf_addc(out, '"');
}

static void
value(struct buf *out, const struct nl_fmt_attr *d, const struct nlattr *a)
{
	const unsigned char *p = nl_attr_data(a);
	size_t n = nl_attr_len(a);
	char ip[INET6_ADDRSTRLEN];
	int32_t s32;

	switch (d->kind) {
	case NLF_U8: if (n == 1) { buf_addf(out, " %u", nl_attr_u8(a)); return; } break;
	case NLF_U16: if (n == 2) { buf_addf(out, " %u", nl_attr_u16(a)); return; } break;
	case NLF_U32: if (n == 4) { buf_addf(out, " %u", nl_attr_u32(a)); return; } break;
	case NLF_HEX32: if (n == 4) { buf_addf(out, " 0x%x", nl_attr_u32(a)); return; } break;
	case NLF_U64: if (n == 8) { buf_addf(out, " %llu", (unsigned long long)nl_attr_u64(a)); return; } break;
	case NLF_BE16: if (n == 2) { buf_addf(out, " %u", nl_attr_be16(a)); return; } break;
	case NLF_BE32: if (n == 4) { buf_addf(out, " %u", nl_attr_be32(a)); return; } break;
	case NLF_BE64: if (n == 8) { buf_addf(out, " %llu", (unsigned long long)nl_attr_be64(a)); return; } break;
	case NLF_BES32: if (n == 4) { buf_addf(out, " %d", (int32_t)nl_attr_be32(a)); return; } break;
	case NLF_BEHEX32: if (n == 4) { buf_addf(out, " 0x%x", nl_attr_be32(a)); return; } break;
	case NLF_S32:
		if (n == 4) {
			memcpy(&s32, p, 4);
			buf_addf(out, " %d", s32);
			return;
		}
		break;
	case NLF_STR:
		buf_addc(out, ' ');
		quoted(out, (const char *)p, n);
		return;
	case NLF_FLAG:
		if (n == 0)
			return;
		break;
	case NLF_IP:
		if ((n == 4 && inet_ntop(AF_INET, p, ip, sizeof(ip))) ||
		    (n == 16 && inet_ntop(AF_INET6, p, ip, sizeof(ip)))) {
			buf_addf(out, " %s", ip);
			return;
		}
		break;
	case NLF_MAC:
		if (n == 6) {
			buf_addf(out, " %02x:%02x:%02x:%02x:%02x:%02x", p[0], p[1], p[2], p[3], p[4], p[5]);
			return;
		}
		break;
	default:
		break;
	}
	/* Unknown layout, or a length that does not fit the declared one. */
	if (n) {
		buf_addc(out, ' ');
		buf_addhex(out, p, n);
	}
}

void
nl_fmt_attrs(struct buf *out, const struct nl_fmt_table *t, const void *p, size_t len,
	     int depth)
{
	const struct nlattr *a;
	struct nl_attr_iter it;

	if (depth > 16) {
		pad(out, depth);
		buf_adds(out, "(nested too deep)\n");
		return;
	}
	nl_attr_iter_init(&it, p, len);
	while ((a = nl_attr_next(&it))) {
		uint16_t type = nl_attr_type(a);
		const struct nl_fmt_attr *d = t && type <= t->max ? &t->attr[type] : NULL;
		const struct nl_fmt_table *sub;

		if (d && !d->name)
			d = NULL;
		pad(out, depth);
		if (d)
			buf_adds(out, d->name);
		else
			buf_addf(out, "attr%s %u", (a->nla_type & NLA_F_NESTED) ? "(nested)" : "", type);
		if (a->nla_type & NLA_F_NET_BYTEORDER && !(d && ((d->kind >= NLF_BE16 && d->kind <= NLF_BE64) || d->kind == NLF_BES32 || d->kind == NLF_BEHEX32)))
			buf_adds(out, "(be)");
		if (d && (d->kind == NLF_NEST || d->kind == NLF_NEST_LIST)) {
			sub = d->pick ? d->pick(p, len) : d->nest;
			buf_adds(out, " {\n");
			if (d->kind == NLF_NEST_LIST) {
				const struct nlattr *e;
				struct nl_attr_iter ei;

				nl_attr_iter_nested(&ei, a);
				while ((e = nl_attr_next(&ei))) {
					pad(out, depth + 1);
					buf_addf(out, "[%u] {\n", nl_attr_type(e));
					nl_fmt_attrs(out, sub, nl_attr_data(e), nl_attr_len(e), depth + 2);
					pad(out, depth + 1);
					buf_adds(out, "}\n");
				}
				if (ei.bad) {
					pad(out, depth + 1);
					buf_adds(out, "(malformed)\n");
				}
			} else {
				const unsigned char *np = nl_attr_data(a);
				size_t nn = nl_attr_len(a), hl = 0;

				if (d->hdr) {
					size_t mark = out->len;

					pad(out, depth + 1);
					hl = NL_ALIGN(d->hdr(out, np, nn));
					if (hl == 0)
						buf_truncate(out, mark);
					if (hl > nn)
						hl = nn;
				}
				nl_fmt_attrs(out, sub, np + hl, nn - hl, depth + 1);
			}
			pad(out, depth);
			buf_adds(out, "}\n");
			continue;
		}
		if (!d && (a->nla_type & NLA_F_NESTED)) {
			buf_adds(out, " {\n");
			nl_fmt_attrs(out, NULL, nl_attr_data(a), nl_attr_len(a), depth + 1);
			pad(out, depth);
			buf_adds(out, "}\n");
			continue;
		}
		if (d)
			value(out, d, a);
		else if (nl_attr_len(a)) {
			buf_addc(out, ' ');
			buf_addhex(out, nl_attr_data(a), nl_attr_len(a));
		}
		buf_addc(out, '\n');
	}
	if (it.bad) {
		pad(out, depth);
		buf_adds(out, "(malformed attribute)\n");
	}
}

static const char *
control_name(uint16_t type)
{
	switch (type) {
	case NLMSG_NOOP: return "NLMSG_NOOP";
	case NLMSG_ERROR: return "NLMSG_ERROR";
	case NLMSG_DONE: return "NLMSG_DONE";
	case NLMSG_OVERRUN: return "NLMSG_OVERRUN";
	}
	return NULL;
}

void
nl_fmt_msg(struct buf *out, const struct nl_fmt_family *fam, const struct nlmsghdr *nlh)
{
	const unsigned char *p = (const unsigned char *)nlh;
	size_t len = nlh->nlmsg_len, hl = 0;
	const char *name = control_name(nlh->nlmsg_type);
	int get = 0, batch = 0;

	if (fam)
		batch = nl_msg_is_batch_delim(fam->proto, nlh);
	if (!name && batch)
		name = nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ? "BATCH_BEGIN" : "BATCH_END";
	if (!name && fam && fam->msg_name)
		name = fam->msg_name(nlh->nlmsg_type);
	if (name)
		buf_adds(out, name);
	else
		buf_addf(out, "type %u", nlh->nlmsg_type);
	if (fam && fam->is_get)
		get = fam->is_get(nlh->nlmsg_type);
	buf_addc(out, ' ');
	flags(out, nlh->nlmsg_flags, get);
	buf_addf(out, " seq=%u\n", nlh->nlmsg_seq);
	if (len <= NL_HDRLEN || nlh->nlmsg_type < NLMSG_MIN_TYPE)
		return;
	p += NL_HDRLEN;
	len -= NL_HDRLEN;
	if (batch) {
		if (len >= 4)
			buf_addf(out, "  nfgenmsg res_id=%u\n", (unsigned)(p[2] << 8 | p[3]));
		return;
	}
	if (fam && fam->hdr) {
		buf_adds(out, "  ");
		hl = fam->hdr(out, nlh->nlmsg_type, p, len);
		if (hl == 0) {
			buf_truncate(out, out->len - 2);
		} else {
			hl = NL_ALIGN(hl);
			if (hl > len)
				hl = len;
		}
	}
	nl_fmt_attrs(out, fam && fam->attrs ? fam->attrs(nlh->nlmsg_type) : NULL, p + hl, len - hl, 1);
}

void
nl_fmt_stream(struct buf *out, const struct nl_fmt_family *fam, const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len >= NL_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)c;
		size_t step;

		if (nlh->nlmsg_len < NL_HDRLEN || nlh->nlmsg_len > len) {
			buf_adds(out, "(malformed message)\n");
			return;
		}
		nl_fmt_msg(out, fam, nlh);
		step = NL_ALIGN(nlh->nlmsg_len);
		if (step >= len)
			break;
		c += step;
		len -= step;
	}
}
