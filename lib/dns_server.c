/* Authoritative answers and dynamic updates. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dns_server.h"
#include "log.h"

#define MAX_CHAIN 8

struct dns_zone *
dns_server_zone(const struct dns_server *s, const struct dns_name *name)
{
	struct dns_zone *z, *best = NULL;

	for (z = s->zones; z; z = z->next)
		if (dns_name_is_sub(name, &z->origin) && (!best || z->origin.len > best->origin.len))
			best = z;
	return best;
}

int
dns_reverse_name(const uint8_t *addr, size_t len, struct dns_name *out)
{
	char s[128];
	size_t o = 0;
	int i;

	if (len == 4) {
		snprintf(s, sizeof(s), "%u.%u.%u.%u.in-addr.arpa.", addr[3], addr[2], addr[1], addr[0]);
	} else if (len == 16) {
		for (i = 15; i >= 0; i--)
			o += (size_t)snprintf(s + o, sizeof(s) - o, "%x.%x.", addr[i] & 15, addr[i] >> 4);
		snprintf(s + o, sizeof(s) - o, "ip6.arpa.");
	} else {
		errno = EINVAL;
		return -1;
	}
	return dns_name_from_text(out, s, NULL);
}

/* ---- answers ---- */

struct answer {
	struct dns_w *w;
	const struct dns_zone *z;
	int rcode;
	int aa;
	int referral;
};

static void
add_set(struct answer *a, int section, const struct dns_name *owner, const struct dns_rrset *s)
{
	const struct dns_rdata *r;

	for (r = s->rd; r; r = r->next)
		dns_w_rr(a->w, section, owner, s->type, DNS_C_IN, s->ttl, r->data, r->len);
}

static void
add_soa(struct answer *a)
{
	const struct dns_rdata *soa;
	uint32_t ttl, min;

	soa = dns_zone_soa(a->z, &ttl);
	if (!soa || soa->len < 4)
		return;
	/* Negative answers are cached for min(SOA TTL, SOA minimum) (RFC 2308). */
	min = (uint32_t)soa->data[soa->len - 4] << 24 | (uint32_t)soa->data[soa->len - 3] << 16 |
	      (uint32_t)soa->data[soa->len - 2] << 8 | soa->data[soa->len - 1];
	dns_w_rr(a->w, 2, &a->z->origin, DNS_T_SOA, DNS_C_IN, ttl < min ? ttl : min, soa->data,
		 soa->len);
}

/* The name inside rdata at off (uncompressed). */
static int
rd_name(const struct dns_rdata *r, size_t off, struct dns_name *n)
{
	return dns_name_unpack(r->data, r->len, &off, n);
}

/* A and AAAA of names in this zone, for the additional section. */
static void
add_glue(struct answer *a, const struct dns_name *target)
{
	struct dns_node *n;
	struct dns_rrset *s;

	if (!dns_name_is_sub(target, &a->z->origin))
		return;
	n = dns_zone_find(a->z, target);
	if ((s = dns_node_rrset(n, DNS_T_A)))
		add_set(a, 3, target, s);
	if ((s = dns_node_rrset(n, DNS_T_AAAA)))
		add_set(a, 3, target, s);
}

static void
additional(struct answer *a, const struct dns_rrset *s)
{
	const struct dns_rdata *r;
	struct dns_name t;
	size_t off = s->type == DNS_T_MX ? 2 : s->type == DNS_T_SRV ? 6 : 0;

	if (s->type != DNS_T_MX && s->type != DNS_T_SRV && s->type != DNS_T_NS)
		return;
	for (r = s->rd; r; r = r->next)
		if (rd_name(r, off, &t) == 0)
			add_glue(a, &t);
}

/* The closest delegation at or above name, below the apex. */
static struct dns_node *
delegation(const struct dns_zone *z, const struct dns_name *name)
{
	struct dns_name cur = *name;
	struct dns_node *found = NULL;

	while (cur.len > z->origin.len) {
		struct dns_node *n = dns_zone_find(z, &cur);

		if (n && dns_node_rrset(n, DNS_T_NS))
			found = n;	/* keep the highest one */
		if (dns_name_parent(&cur, &cur) < 0)
			break;
	}
	return found;
}

static void
referral(struct answer *a, struct dns_node *cut)
{
	struct dns_rrset *ns = dns_node_rrset(cut, DNS_T_NS);

	a->aa = 0;
	a->referral = 1;
	add_set(a, 2, dns_node_name(cut), ns);
	additional(a, ns);
}

static void
answer(struct answer *a, const struct dns_name *qname, uint16_t qtype)
{
	struct dns_name name = *qname;
	int chain;

	a->aa = 1;
	for (chain = 0; chain <= MAX_CHAIN; chain++) {
		struct dns_node *n, *cut = delegation(a->z, &name);
		struct dns_rrset *s;

		if (cut) {
			/* A CNAME into a delegated part: the resolver takes it from here. */
			if (chain == 0)
				referral(a, cut);
			return;
		}
		n = dns_zone_find(a->z, &name);
		if (!dns_node_exists(n)) {
			/* Wildcard at the closest encloser (RFC 4592). */
			struct dns_name enc = name, wild;
			struct dns_node *e = NULL;

			while (dns_name_parent(&enc, &enc) == 0 && enc.len >= a->z->origin.len) {
				e = dns_zone_find(a->z, &enc);
				if (dns_node_exists(e))
					break;
				e = NULL;
			}
			if (e && dns_name_prepend(&wild, "*", 1, &enc) == 0) {
				struct dns_node *wn = dns_zone_find(a->z, &wild);

				if (wn && wn->sets)
					n = wn;
			}
			if (!n || !n->sets) {
				a->rcode = DNS_R_NXDOMAIN;
				add_soa(a);
				return;
			}
		}
		if (!n->sets) {	/* empty non-terminal */
			add_soa(a);
			return;
		}
		if (qtype == DNS_T_ANY) {
			/* RFC 8482: one RRset is enough. */
			for (s = n->sets; s && s->type == DNS_T_SOA && s->next; s = s->next)
				;
			add_set(a, 1, &name, s);
			return;
		}
		s = dns_node_rrset(n, DNS_T_CNAME);
		if (s && qtype != DNS_T_CNAME) {
			struct dns_name target;

			add_set(a, 1, &name, s);
			if (rd_name(s->rd, 0, &target) < 0 || !dns_name_is_sub(&target, &a->z->origin))
				return;
			name = target;
			continue;
		}
		s = dns_node_rrset(n, qtype);
		if (!s) {
			add_soa(a);	/* NODATA */
			return;
		}
		add_set(a, 1, &name, s);
		additional(a, s);
		return;
	}
}

/* ---- updates ---- */

static uint64_t
now_s(const struct dns_server *s)
{
	return (uint64_t)((int64_t)time(NULL) + s->clock_skew);
}

struct upd {
	struct dns_server *s;
	const struct dns_msg *m;
	struct dns_zone *z;
	struct buf journal;
	int changed;
};

/* The rdata of a record in the message, names uncompressed. */
static int
rr_rdata(const struct dns_msg *m, const struct dns_rr *r, uint8_t *out, size_t *len)
{
	if (r->rdlen == 0) {
		*len = 0;
		return 0;
	}
	return dns_rdata_unpack(r->type, m->pkt, m->len, r->rdoff, r->rdlen, out, 65535, len);
}

static int
same_rdata(const struct dns_rdata *a, const uint8_t *b, size_t blen)
{
	return a->len == blen && !memcmp(a->data, b, blen);
}

/* RFC 2136 3.2: prerequisites. */
static int
prereqs(struct upd *u)
{
	const struct dns_msg *m = u->m;
	uint8_t rd[65535];
	size_t i, j, len;

	for (i = 0; i < m->count[1]; i++) {
		const struct dns_rr *r = dns_msg_section(m, 1, i);
		struct dns_node *n;
		struct dns_rrset *s;

		if (r->ttl != 0)
			return DNS_R_FORMERR;
		if (!dns_name_is_sub(&r->name, &u->z->origin))
			return DNS_R_NOTZONE;
		n = dns_zone_find(u->z, &r->name);
		if (r->class == DNS_C_ANY) {
			if (r->rdlen)
				return DNS_R_FORMERR;
			if (r->type == DNS_T_ANY) {
				if (!n || !n->sets)
					return DNS_R_NXDOMAIN;
			} else if (!dns_node_rrset(n, r->type)) {
				return DNS_R_NXRRSET;
			}
		} else if (r->class == DNS_C_NONE) {
			if (r->rdlen)
				return DNS_R_FORMERR;
			if (r->type == DNS_T_ANY) {
				if (n && n->sets)
					return DNS_R_YXDOMAIN;
			} else if (dns_node_rrset(n, r->type)) {
				return DNS_R_YXRRSET;
			}
		} else if (r->class == DNS_C_IN) {
			/* Value-dependent: the RRset must equal the records given for
			 * this name and type, no more, no less. */
			unsigned given = 0;

			s = dns_node_rrset(n, r->type);
			if (!s)
				return DNS_R_NXRRSET;
			for (j = 0; j < m->count[1]; j++) {
				const struct dns_rr *o = dns_msg_section(m, 1, j);
				const struct dns_rdata *x;
				int found = 0;

				if (o->class != DNS_C_IN || o->type != r->type ||
				    !dns_name_equal(&o->name, &r->name))
					continue;
				if (rr_rdata(m, o, rd, &len) < 0)
					return DNS_R_FORMERR;
				for (x = s->rd; x; x = x->next)
					if (same_rdata(x, rd, len))
						found = 1;
				if (!found)
					return DNS_R_NXRRSET;
				given++;
			}
			if (given != s->n)
				return DNS_R_NXRRSET;
		} else {
			return DNS_R_FORMERR;
		}
	}
	return 0;
}

/* RFC 2136 3.4.1: check every update before applying any. */
static int
prescan(struct upd *u)
{
	const struct dns_msg *m = u->m;
	size_t i;

	for (i = 0; i < m->count[2]; i++) {
		const struct dns_rr *r = dns_msg_section(m, 2, i);

		if (!dns_name_is_sub(&r->name, &u->z->origin))
			return DNS_R_NOTZONE;
		if (r->class == DNS_C_IN) {
			if (r->type == DNS_T_ANY || r->type == DNS_T_AXFR || r->type == DNS_T_IXFR ||
			    r->type == DNS_T_OPT || r->type == DNS_T_TSIG)
				return DNS_R_FORMERR;
		} else if (r->class == DNS_C_ANY) {
			if (r->ttl != 0 || r->rdlen != 0 || r->type == DNS_T_AXFR || r->type == DNS_T_IXFR)
				return DNS_R_FORMERR;
		} else if (r->class == DNS_C_NONE) {
			if (r->ttl != 0 || r->type == DNS_T_ANY || r->type == DNS_T_AXFR ||
			    r->type == DNS_T_IXFR)
				return DNS_R_FORMERR;
		} else {
			return DNS_R_FORMERR;
		}
	}
	return 0;
}

static void
journal_add(struct buf *j, char op, const struct dns_name *name, uint32_t ttl, uint16_t type,
	    const uint8_t *rd, size_t len)
{
	char t[DNS_NAME_TEXT], tb[16];

	if (op == '+') {
		buf_adds(j, "+ ");
		dns_rr_print(j, name, ttl, type, rd, (uint16_t)len);
	} else {
		buf_addf(j, "- %s %s", dns_name_to_text(name, t), dns_type_name(type, tb));
		if (rd) {
			buf_addc(j, ' ');
			dns_rdata_to_text(type, rd, len, j);
		}
	}
	buf_addc(j, '\n');
}

/* Keep the PTR of an address in step, in whichever reverse zone we serve. */
static void
mirror_ptr(struct dns_server *s, int add, const struct dns_name *owner, uint16_t type,
	   const uint8_t *rd, size_t len, uint32_t ttl)
{
	struct dns_name rev;
	struct dns_zone *rz;
	struct buf j = BUF_INIT;

	if ((type != DNS_T_A || len != 4) && (type != DNS_T_AAAA || len != 16))
		return;
	if (dns_reverse_name(rd, len, &rev) < 0 || !(rz = dns_server_zone(s, &rev)))
		return;
	if (add) {
		if (dns_zone_add(rz, &rev, DNS_T_PTR, ttl, owner->data, owner->len) == 1)
			journal_add(&j, '+', &rev, ttl, DNS_T_PTR, owner->data, owner->len);
	} else if (dns_zone_del(rz, &rev, DNS_T_PTR, owner->data, owner->len) > 0) {
		journal_add(&j, '-', &rev, 0, DNS_T_PTR, owner->data, owner->len);
	}
	if (j.len && rz->dynamic) {
		const struct dns_rdata *soa;
		uint32_t sttl;

		dns_zone_bump_serial(rz);
		soa = dns_zone_soa(rz, &sttl);
		if (soa) {
			buf_adds(&j, "= ");
			dns_rr_print(&j, &rz->origin, sttl, DNS_T_SOA, soa->data, soa->len);
			buf_addc(&j, '\n');
		}
		if (dns_journal_append(rz, j.data, j.len) < 0)
			log_warn("journal of %s", rz->journal);
	}
	buf_free(&j);
}

void
dns_server_sync_ptrs(struct dns_server *s)
{
	struct dns_zone *z;
	size_t i;

	for (z = s->zones; z; z = z->next) {
		for (i = 0; i < z->nbuckets; i++) {
			struct dns_node *n;

			for (n = z->tab[i]; n; n = n->hnext) {
				struct dns_rrset *set;

				for (set = n->sets; set; set = set->next) {
					struct dns_rdata *r;

					if (set->type != DNS_T_A && set->type != DNS_T_AAAA)
						continue;
					for (r = set->rd; r; r = r->next) {
						struct dns_name rev;
						struct dns_zone *rz;

						if (dns_reverse_name(r->data, r->len, &rev) == 0 &&
						    (rz = dns_server_zone(s, &rev)))
							dns_zone_add(rz, &rev, DNS_T_PTR, set->ttl, n->name_data,
								     n->name_len);
					}
				}
			}
		}
	}
}

static void
apply(struct upd *u)
{
	const struct dns_msg *m = u->m;
	uint8_t rd[65535];
	size_t i, len;

	for (i = 0; i < m->count[2]; i++) {
		const struct dns_rr *r = dns_msg_section(m, 2, i);
		struct dns_node *n;
		struct dns_rrset *s;

		if (rr_rdata(m, r, rd, &len) < 0)
			continue;	/* checked in prescan's parse; unreachable */
		if (r->class == DNS_C_IN) {
			if (r->type == DNS_T_SOA) {
				/* Only a newer serial replaces the SOA (RFC 2136 3.4.2.2). */
				uint32_t cur = dns_zone_serial(u->z), nw;

				if (len < 20 || !dns_name_equal(&r->name, &u->z->origin))
					continue;
				nw = (uint32_t)rd[len - 20] << 24 | (uint32_t)rd[len - 19] << 16 |
				     (uint32_t)rd[len - 18] << 8 | rd[len - 17];
				if ((int32_t)(nw - cur) <= 0)
					continue;
			}
			if (dns_zone_add(u->z, &r->name, r->type, r->ttl, rd, (uint16_t)len) == 1) {
				journal_add(&u->journal, '+', &r->name, r->ttl, r->type, rd, len);
				mirror_ptr(u->s, 1, &r->name, r->type, rd, len, r->ttl);
				u->changed = 1;
			}
			continue;
		}
		n = dns_zone_find(u->z, &r->name);
		if (!n)
			continue;
		if (r->class == DNS_C_ANY) {
			/* Whole RRsets, or (type ANY) the name: remember the
			 * addresses for their PTRs first. */
			struct dns_rrset *next;

			for (s = n->sets; s; s = next) {
				struct dns_rdata *x;

				next = s->next;
				if (r->type != DNS_T_ANY && s->type != r->type)
					continue;
				for (x = s->rd; x; x = x->next)
					mirror_ptr(u->s, 0, &r->name, s->type, x->data, x->len, 0);
			}
			if (dns_zone_del(u->z, &r->name, r->type, NULL, 0) > 0) {
				journal_add(&u->journal, '-', &r->name, 0, r->type, NULL, 0);
				u->changed = 1;
			}
			continue;
		}
		/* class NONE: one record */
		if (dns_zone_del(u->z, &r->name, r->type, rd, (uint16_t)len) > 0) {
			journal_add(&u->journal, '-', &r->name, 0, r->type, rd, len);
			mirror_ptr(u->s, 0, &r->name, r->type, rd, len, 0);
			u->changed = 1;
		}
	}
}

static int
update(struct dns_server *s, const struct dns_msg *m, const struct dns_key **key,
       uint8_t reqmac[32], int *signed_ok)
{
	struct upd u;
	int rc, tsig;

	*signed_ok = 0;
	if (m->count[0] != 1 || m->qtype != DNS_T_SOA || m->qclass != DNS_C_IN)
		return DNS_R_FORMERR;
	u.z = NULL;
	{
		struct dns_zone *z;

		for (z = s->zones; z; z = z->next)
			if (dns_name_equal(&z->origin, &m->qname))
				u.z = z;
	}
	if (m->tsig_index < 0) {
		return DNS_R_REFUSED;	/* unsigned updates are never taken */
	}
	tsig = dns_tsig_check(s, m, key, reqmac, now_s(s));
	if (tsig)
		return tsig;	/* BADKEY/BADSIG/BADTIME: answered with NOTAUTH */
	*signed_ok = 1;
	if (!u.z)
		return DNS_R_NOTAUTH;
	if (!u.z->dynamic)
		return DNS_R_REFUSED;
	u.s = s;
	u.m = m;
	buf_init(&u.journal);
	u.changed = 0;
	rc = prereqs(&u);
	if (!rc)
		rc = prescan(&u);
	if (!rc) {
		apply(&u);
		if (u.changed) {
			const struct dns_rdata *soa;
			uint32_t ttl;

			dns_zone_bump_serial(u.z);
			soa = dns_zone_soa(u.z, &ttl);
			if (soa) {
				buf_adds(&u.journal, "= ");
				dns_rr_print(&u.journal, &u.z->origin, ttl, DNS_T_SOA, soa->data, soa->len);
				buf_addc(&u.journal, '\n');
			}
			/* On disk before the client hears yes. */
			if (dns_journal_append(u.z, u.journal.data, u.journal.len) < 0) {
				log_warn("journal %s", u.z->journal);
				rc = DNS_R_SERVFAIL;
			}
		}
	}
	buf_free(&u.journal);
	return rc;
}

/* ---- the entry point ---- */

static size_t
error_reply(const uint8_t *pkt, size_t len, uint8_t *out, size_t cap, int rcode)
{
	struct dns_w w;

	if (len < 12 || cap < 12)
		return 0;
	dns_w_init(&w, out, cap, cap);
	dns_w_header(&w, (uint16_t)(pkt[0] << 8 | pkt[1]),
		     (uint16_t)(DNS_F_QR | ((pkt[2] & 0x79) << 8) | (rcode & 0xf)));
	return dns_w_finish(&w);
}

/* The whole zone in one message: SOA, everything else, SOA. */
static int
axfr(struct answer *a)
{
	const struct dns_zone *z = a->z;
	const struct dns_rdata *soa;
	uint32_t ttl;
	size_t i;

	soa = dns_zone_soa(z, &ttl);
	if (!soa)
		return DNS_R_SERVFAIL;
	dns_w_rr(a->w, 1, &z->origin, DNS_T_SOA, DNS_C_IN, ttl, soa->data, soa->len);
	for (i = 0; i < z->nbuckets; i++) {
		const struct dns_node *n;

		for (n = z->tab[i]; n; n = n->hnext) {
			const struct dns_rrset *set;

			for (set = n->sets; set; set = set->next)
				if (set->type != DNS_T_SOA)
					add_set(a, 1, dns_node_name(n), set);
		}
	}
	dns_w_rr(a->w, 1, &z->origin, DNS_T_SOA, DNS_C_IN, ttl, soa->data, soa->len);
	if (a->w->truncated)
		return DNS_R_SERVFAIL;	/* over one message: not for a home zone */
	a->aa = 1;
	return 0;
}

int
dns_server_handle(struct dns_server *s, const uint8_t *pkt, size_t len, int flags, uint8_t *out,
		  size_t cap, size_t *outlen)
{
	int tcp = flags & DNS_REQ_TCP;
	struct dns_msg m;
	struct dns_w w;
	struct answer a;
	size_t limit;
	uint16_t opcode;
	int rc = DNS_ANSWER;

	if (len < 12 || (pkt[2] & 0x80))
		return DNS_DROP;	/* too short to answer, or a response */
	if (dns_msg_parse(&m, pkt, len) < 0) {
		*outlen = error_reply(pkt, len, out, cap, DNS_R_FORMERR);
		return *outlen ? DNS_ANSWER : DNS_DROP;
	}
	opcode = DNS_OPCODE(m.flags);
	limit = tcp ? 65535 : m.edns ? (m.edns_size < s->edns_size ? m.edns_size : s->edns_size) : 512;
	if (limit > cap)
		limit = cap;
	dns_w_init(&w, out, cap, limit - (m.edns ? 11 : 0));
	dns_w_header(&w, m.id, (uint16_t)(DNS_F_QR | (m.flags & (0x7800 | DNS_F_RD | DNS_F_CD))));
	if (m.count[0] == 1)
		dns_w_question(&w, &m.qname, m.qtype, m.qclass);

	if (m.edns && m.edns_version > 0) {
		/* BADVERS: extended rcode 1 in the OPT record */
		dns_w_opt(&w, s->edns_size, 1);
		*outlen = dns_w_finish(&w);
		goto out;
	}
	if (opcode == DNS_OP_UPDATE) {
		const struct dns_key *key = NULL;
		uint8_t mac[32];
		int ok = 0, r = update(s, &m, &key, mac, &ok);
		int tsig_err = r >= DNS_R_BADSIG && r <= DNS_R_BADTIME;

		dns_w_set_flags(&w, (uint16_t)(DNS_F_QR | (m.flags & 0x7800) |
					      (tsig_err ? DNS_R_NOTAUTH : r)));
		if (m.edns)
			dns_w_opt(&w, s->edns_size, 0);
		*outlen = dns_w_finish(&w);
		if (key && dns_tsig_respond(out, outlen, cap, key, ok ? mac : NULL,
					    (uint16_t)(tsig_err ? r : 0), now_s(s)) < 0)
			rc = DNS_DROP;
		goto out;
	}
	if (opcode != DNS_OP_QUERY || m.count[0] != 1) {
		dns_w_set_flags(&w, (uint16_t)(DNS_F_QR | (m.flags & 0x7800) |
					      (opcode != DNS_OP_QUERY ? DNS_R_NOTIMP : DNS_R_FORMERR)));
		*outlen = dns_w_finish(&w);
		goto out;
	}
	memset(&a, 0, sizeof(a));
	a.w = &w;
	a.z = m.qclass == DNS_C_IN ? dns_server_zone(s, &m.qname) : NULL;
	if (m.qtype == DNS_T_AXFR && a.z && tcp && (flags & DNS_REQ_LOCAL) &&
	    dns_name_equal(&a.z->origin, &m.qname)) {
		a.rcode = axfr(&a);
	} else if (m.qtype == DNS_T_AXFR || m.qtype == DNS_T_IXFR || m.qclass != DNS_C_IN) {
		a.rcode = DNS_R_REFUSED;
	} else if (!a.z) {
		if (s->recurse && (m.flags & DNS_F_RD)) {
			rc = DNS_RECURSE;
			goto out;
		}
		a.rcode = DNS_R_REFUSED;
	} else {
		answer(&a, &m.qname, m.qtype);
		/* A recursive client wants the answer, not our referral. */
		if (a.referral && s->recurse && (m.flags & DNS_F_RD)) {
			rc = DNS_RECURSE;
			goto out;
		}
	}
	dns_w_set_flags(&w, (uint16_t)(DNS_F_QR | (m.flags & (DNS_F_RD | DNS_F_CD)) |
				      (a.aa ? DNS_F_AA : 0) | (s->recurse ? DNS_F_RA : 0) | a.rcode));
	if (m.edns)
		dns_w_opt(&w, s->edns_size, 0);
	*outlen = dns_w_finish(&w);
out:
	dns_msg_free(&m);
	return rc;
}

int
dns_server_register(struct dns_server *s, const struct dns_name *name, const uint8_t *addr,
		    size_t len, uint32_t ttl)
{
	struct dns_zone *z = dns_server_zone(s, name);
	uint16_t type = len == 4 ? DNS_T_A : DNS_T_AAAA;
	struct dns_rrset *set;
	struct buf j = BUF_INIT;
	int r = 0;

	if (!z || !z->dynamic || (len != 4 && len != 16)) {
		errno = z ? EPERM : ENOENT;
		return -1;
	}
	set = dns_node_rrset(dns_zone_find(z, name), type);
	if (set && addr && set->n == 1 && set->rd->len == len && !memcmp(set->rd->data, addr, len))
		return 0;	/* already so */
	if (set) {
		struct dns_rdata *x;

		for (x = set->rd; x; x = x->next)
			mirror_ptr(s, 0, name, type, x->data, x->len, 0);
		dns_zone_del(z, name, type, NULL, 0);
		journal_add(&j, '-', name, 0, type, NULL, 0);
	}
	if (addr) {
		if (dns_zone_add(z, name, type, ttl, addr, (uint16_t)len) < 0) {
			r = -1;
		} else {
			journal_add(&j, '+', name, ttl, type, addr, len);
			mirror_ptr(s, 1, name, type, addr, len, ttl);
		}
	}
	if (j.len) {
		const struct dns_rdata *soa;
		uint32_t sttl;

		dns_zone_bump_serial(z);
		soa = dns_zone_soa(z, &sttl);
		if (soa) {
			buf_adds(&j, "= ");
			dns_rr_print(&j, &z->origin, sttl, DNS_T_SOA, soa->data, soa->len);
			buf_addc(&j, '\n');
		}
		if (dns_journal_append(z, j.data, j.len) < 0)
			r = -1;
	}
	buf_free(&j);
	return r;
}
