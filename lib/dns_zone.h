/*
 * Authoritative zone data: nodes by owner name in a hash table, RRsets of
 * rdata in wire form (names uncompressed), empty non-terminals known, the
 * CNAME-and-other-data rule kept. Zone files (RFC 1035 master format, the
 * common subset) are read and written here, and dynamic changes are kept in
 * a journal of their own.
 */
#ifndef LAB_DNS_ZONE_H
#define LAB_DNS_ZONE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "dns.h"

struct dns_rdata {
	struct dns_rdata *next;
	uint16_t len;
	uint8_t data[];
};

struct dns_rrset {
	struct dns_rrset *next;
	uint16_t type;
	uint32_t ttl;
	unsigned n;
	struct dns_rdata *rd;
};

struct dns_node {
	struct dns_node *hnext;
	struct dns_node *parent;	/* NULL at the apex */
	struct dns_rrset *sets;
	unsigned below;			/* descendants that hold data */
	/* The lowercased name, allocated only as long as it is (100k names
	 * would otherwise carry 25 MB of unused name buffers); read it as a
	 * struct dns_name through dns_node_name(), which has this layout. */
	uint8_t name_len;
	uint8_t name_data[];
};

static inline const struct dns_name *
dns_node_name(const struct dns_node *n)
{
	return (const struct dns_name *)(const void *)&n->name_len;
}

struct dns_zone {
	struct dns_zone *next;
	struct dns_name origin;		/* lowercased */
	struct dns_node **tab;
	size_t nbuckets, nnodes, nrecords;
	uint32_t seed;
	struct dns_node *apex;
	int dynamic;			/* accepts UPDATE */
	char file[512];			/* zone file, "" for none */
	char journal[512];		/* dynamic changes, "" for none */
	size_t journal_lines;
};

struct dns_zone *dns_zone_new(const struct dns_name *origin);
void dns_zone_free(struct dns_zone *z);

struct dns_node *dns_zone_find(const struct dns_zone *z, const struct dns_name *name);
struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type);
/* Whether a node exists: it has data, or something below it has (an
 * empty non-terminal). */
int dns_node_exists(const struct dns_node *n);

/* Add one record. 1 added, 0 already there (or refused by the CNAME rule
 * when quiet), -1 error (EINVAL: outside the zone or the CNAME rule;
 * ENOMEM). The RRset takes the new TTL. */
int dns_zone_add(struct dns_zone *z, const struct dns_name *name, uint16_t type, uint32_t ttl,
		 const uint8_t *rd, uint16_t len);
/* Delete a record, an RRset (rd NULL), or every RRset of a name (type
 * ANY); the apex SOA and NS are never deleted by name or ANY. Returns the
 * number of records removed. */
int dns_zone_del(struct dns_zone *z, const struct dns_name *name, uint16_t type,
		 const uint8_t *rd, uint16_t len);

/* The SOA rdata and its serial. */
const struct dns_rdata *dns_zone_soa(const struct dns_zone *z, uint32_t *ttl);
uint32_t dns_zone_serial(const struct dns_zone *z);
/* serial + 1 (RFC 1982), or the current time if that is larger. */
int dns_zone_bump_serial(struct dns_zone *z);
/* A default SOA and NS when the zone has none: ns.ORIGIN, hostmaster.ORIGIN. */
int dns_zone_default_soa(struct dns_zone *z, const struct dns_name *ns, uint32_t ttl);

/* Master-file text: load into z (default TTL 3600 unless $TTL), and print
 * z sorted with the apex first. */
int dns_zone_parse(struct dns_zone *z, const char *file, const char *text, size_t len,
		   struct conf_err *err);
int dns_zone_load(struct dns_zone *z, const char *path, struct conf_err *err);
int dns_zone_print(const struct dns_zone *z, struct buf *out);
/* One record as a master-file line (no newline). */
void dns_rr_print(struct buf *out, const struct dns_name *name, uint32_t ttl, uint16_t type,
		  const uint8_t *rd, uint16_t len);

/* Journal of dynamic changes: "+ NAME TTL TYPE RDATA", "- NAME TYPE RDATA",
 * "- NAME TYPE", "- NAME ANY", "= NAME TTL SOA RDATA" (replace). Appended
 * and fsync'ed before an UPDATE is answered; replayed on load. */
int dns_journal_append(struct dns_zone *z, const char *lines, size_t len);
int dns_journal_replay(struct dns_zone *z, struct conf_err *err);
/* Rewrite the journal as the difference between the zone file and now. */
int dns_journal_compact(struct dns_zone *z);

#endif
