/*
 * DNS: names, messages (parse with every length and pointer checked,
 * build with compression and truncation), record data in text and wire
 * form. The zone store, the authoritative answers, dynamic update, TSIG
 * and the resolver build on this (dns_zone.h, dns_server.h).
 */
#ifndef LAB_DNS_H
#define LAB_DNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define DNS_NAME_MAX 255
#define DNS_LABEL_MAX 63
#define DNS_NAME_TEXT 1024	/* a name as text, every byte escaped */

enum {
	DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12,
	DNS_T_HINFO = 13, DNS_T_MX = 15, DNS_T_TXT = 16, DNS_T_AAAA = 28, DNS_T_SRV = 33,
	DNS_T_OPT = 41, DNS_T_DS = 43, DNS_T_TSIG = 250, DNS_T_IXFR = 251, DNS_T_AXFR = 252,
	DNS_T_ANY = 255, DNS_T_CAA = 257,
};
enum { DNS_C_IN = 1, DNS_C_NONE = 254, DNS_C_ANY = 255 };
enum { DNS_OP_QUERY = 0, DNS_OP_UPDATE = 5 };
enum {
	DNS_R_NOERROR = 0, DNS_R_FORMERR = 1, DNS_R_SERVFAIL = 2, DNS_R_NXDOMAIN = 3,
	DNS_R_NOTIMP = 4, DNS_R_REFUSED = 5, DNS_R_YXDOMAIN = 6, DNS_R_YXRRSET = 7,
	DNS_R_NXRRSET = 8, DNS_R_NOTAUTH = 9, DNS_R_NOTZONE = 10,
	DNS_R_BADSIG = 16, DNS_R_BADKEY = 17, DNS_R_BADTIME = 18,
};
/* Header flag bits (in the 16-bit flags word). */
#define DNS_F_QR 0x8000
#define DNS_F_AA 0x0400
#define DNS_F_TC 0x0200
#define DNS_F_RD 0x0100
#define DNS_F_RA 0x0080
#define DNS_F_AD 0x0020
#define DNS_F_CD 0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)
#define DNS_RCODE(f) ((f) & 0xf)

/* ---- names: wire form, uncompressed, kept with their length ---- */

struct dns_name {
	uint8_t len;		/* bytes in data, the final 0 included (1 for the root) */
	uint8_t data[DNS_NAME_MAX];
};

/* Text to wire. Relative names (no final dot) get origin appended; "@" is
 * origin. \. and \DDD escapes. -1 with EINVAL on a bad name. */
int dns_name_from_text(struct dns_name *n, const char *s, const struct dns_name *origin);
/* Wire to text with a final dot ("." for the root). */
char *dns_name_to_text(const struct dns_name *n, char out[DNS_NAME_TEXT]);
void dns_name_lower(struct dns_name *n);
int dns_name_equal(const struct dns_name *a, const struct dns_name *b);	/* no case */
/* n is at or below parent. */
int dns_name_is_sub(const struct dns_name *n, const struct dns_name *parent);
int dns_name_labels(const struct dns_name *n);
/* Drop the first label; -1 at the root. */
int dns_name_parent(const struct dns_name *n, struct dns_name *out);
/* label . parent */
int dns_name_prepend(struct dns_name *out, const char *label, size_t len,
		     const struct dns_name *parent);
uint32_t dns_name_hash(const struct dns_name *n, uint32_t seed);
/* Read a possibly compressed name at *off of msg; *off moves past it.
 * Pointers must go backwards; a name over 255 bytes, a label over 63, a
 * loop or a read past the end is -1 (EBADMSG). */
int dns_name_unpack(const uint8_t *msg, size_t len, size_t *off, struct dns_name *out);

/* ---- messages ---- */

struct dns_rr {
	struct dns_name name;
	uint16_t type, class;
	uint32_t ttl;
	uint16_t rdlen;
	size_t rdoff;		/* where the rdata starts in the packet */
};

#define DNS_MAX_RRS 512

struct dns_msg {
	const uint8_t *pkt;
	size_t len;
	uint16_t id, flags;
	uint16_t count[4];	/* question, answer, authority, additional */
	struct dns_name qname;	/* the (single) question, when qdcount is 1 */
	uint16_t qtype, qclass;
	struct dns_rr *rr;	/* answer, authority, additional, in order */
	size_t nrr;
	/* EDNS, from the OPT record */
	int edns;		/* an OPT record was present */
	uint16_t edns_size;
	uint8_t edns_version;
	int do_bit;
	/* TSIG, the last record of the additional section */
	int tsig_index;		/* index in rr, or -1 */
	size_t tsig_start;	/* where the TSIG record starts in the packet */
};

/* Parse a whole message. rr is heap memory (dns_msg_free). -1 with
 * EBADMSG on anything malformed (sets *rcode to FORMERR where the header
 * could be read). */
int dns_msg_parse(struct dns_msg *m, const uint8_t *pkt, size_t len);
void dns_msg_free(struct dns_msg *m);
/* The i-th record of section s (1 answer, 2 authority, 3 additional). */
const struct dns_rr *dns_msg_section(const struct dns_msg *m, int s, size_t i);

/* ---- building ---- */

#define DNS_COMP_MAX 64

struct dns_w {
	uint8_t *buf;
	size_t cap;		/* hard limit (buffer size) */
	size_t limit;		/* soft limit: past it, records truncate (UDP size) */
	size_t len;
	uint16_t comp[DNS_COMP_MAX];	/* offsets of names written, for compression */
	int ncomp;
	int truncated;
	uint16_t count[4];
	size_t last_ttl;	/* offset of the TTL of the last record written */
};

void dns_w_init(struct dns_w *w, uint8_t *buf, size_t cap, size_t limit);
void dns_w_header(struct dns_w *w, uint16_t id, uint16_t flags);
int dns_w_name(struct dns_w *w, const struct dns_name *n, int compress);
int dns_w_question(struct dns_w *w, const struct dns_name *n, uint16_t type, uint16_t class);
/* A record into section s (1..3). rdata is wire form with names
 * uncompressed; names in the rdata of NS, CNAME, PTR, MX and SOA are
 * compressed. 0, or -1 when it did not fit (nothing of it written, and
 * w->truncated set). */
int dns_w_rr(struct dns_w *w, int s, const struct dns_name *name, uint16_t type,
	     uint16_t class, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen);
/* The OPT record (EDNS0) with our buffer size. */
int dns_w_opt(struct dns_w *w, uint16_t size, uint8_t ext_rcode);
/* Write the counts into the header; returns the length. */
size_t dns_w_finish(struct dns_w *w);
void dns_w_set_flags(struct dns_w *w, uint16_t flags);

/* ---- record data ---- */

/* Name of a type ("AAAA") or "TYPE1234"; and back (accepts TYPEnnn). */
const char *dns_type_name(uint16_t type, char buf[16]);
int dns_type_from_text(const char *s, uint16_t *type);

/* Text rdata (zone-file syntax, as words) to wire, names relative to
 * origin. -1 with a reason in err. */
int dns_rdata_from_text(uint16_t type, char **words, size_t nwords,
			const struct dns_name *origin, uint8_t *out, size_t cap, size_t *len,
			char *err, size_t errlen);
/* Wire rdata (uncompressed) to text. */
int dns_rdata_to_text(uint16_t type, const uint8_t *rd, size_t len, struct buf *out);
/* Rdata from a packet (names may be compressed) to uncompressed wire. */
int dns_rdata_unpack(uint16_t type, const uint8_t *pkt, size_t pktlen, size_t off,
		     uint16_t rdlen, uint8_t *out, size_t cap, size_t *len);
/* Turn a stored answer (header, question, records; no OPT) into a reply
 * to a client: its id, our flags and rcode, truncated to header and
 * question with TC past limit, an OPT record added when edns is set.
 * Returns the length. */
size_t dns_reply_finish(uint8_t *out, size_t len, size_t cap, uint16_t id, uint16_t flags,
			int rcode, uint16_t edns, size_t limit);

/* Whether the rdata of this type holds names we may compress/decompress. */
int dns_rdata_has_names(uint16_t type);

/* Split a zone-file line into words: quoted strings kept whole (quotes
 * dropped, escapes kept), ';' comments dropped. Returns the count, -1 on
 * an unterminated quote (EINVAL) or more than max words (E2BIG). Words
 * point into line (modified). */
int dns_text_split(char *line, char **words, size_t max);

#endif
