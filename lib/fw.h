/*
 * The firewall: a declarative configuration turned into one nftables
 * transaction on table "inet lab" (other tables are left alone), runtime
 * set changes, and a read-back of what the kernel holds.
 *
 *	[policy]
 *	input = drop            drop | reject | accept   (default drop)
 *	forward = drop          drop | reject | accept   (default drop)
 *	output = accept         accept | drop            (default accept)
 *	icmp = yes              ICMP/ICMPv6 essentials on input (default yes)
 *
 *	[zone internal]
 *	interface = br0         repeatable
 *	masquerade = 10.1.0.0/16        source prefixes masqueraded out of
 *	                                external interfaces (v4 and v6)
 *	trust = yes             internal interfaces reach every port here
 *	isolate = no            no forwarding between internal interfaces
 *	redirect-dns = no       their DNS (53) goes to this host
 *	redirect-ntp = no       their NTP (123) goes to this host
 *
 *	[zone external]
 *	interface = eth0
 *
 *	[ports]
 *	open = tcp 22           open on input from anywhere (tcp, udp, sctp, dccp)
 *
 *	[forward]
 *	forward = tcp 8080 10.1.2.3:80   DNAT from external interfaces
 *
 * Sets in the kernel: internal_ifs, external_ifs (ifname), open_ports
 * (inet_proto . inet_service), masq_v4, masq_v6 (prefixes), redirect_ports,
 * icmp_ok, icmpv6_ok, and the map fwd_v4.
 */
#ifndef LAB_FW_H
#define LAB_FW_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conf.h"
#include "ipaddr.h"
#include "nft.h"

#define FW_TABLE "lab"
#define FW_FAMILY NFT_FAM_INET

enum { FW_ACCEPT, FW_DROP, FW_REJECT };

struct fw_port {
	uint8_t proto;
	uint16_t port;
	int line;
};

struct fw_iface {
	char name[IFNAMSIZ];
	int line;
};

struct fw_prefix {
	struct ipaddr p;
	int line;
};

struct fw_fwd {
	uint8_t proto;
	uint16_t port;
	struct ipaddr to;
	uint16_t to_port;
	int line;
};

struct fw_config {
	char file[256];
	int input, forward, output;
	int icmp, trust, isolate, redirect_dns, redirect_ntp;
	struct fw_iface *internal, *external;
	size_t ninternal, nexternal;
	struct fw_prefix *masq;
	size_t nmasq;
	struct fw_port *open;
	size_t nopen;
	struct fw_fwd *fwd;
	size_t nfwd;
};

int fw_config_parse(struct fw_config *c, const char *file, const char *text, size_t len,
		    struct conf_err *err);
int fw_config_load(struct fw_config *c, const char *path, struct conf_err *err);
void fw_config_free(struct fw_config *c);
/* The configuration in normal form (what -n prints). */
int fw_config_print(const struct fw_config *c, struct buf *out);

/* Which configuration line each message of a batch came from (0: none). */
struct fw_lines {
	int *line;
	size_t n, cap;
};
void fw_lines_free(struct fw_lines *l);

/* The whole ruleset as one batch: the table replaced atomically. */
int fw_build(struct nl_buf *b, const struct fw_config *c, struct fw_lines *lines);
/* Remove table inet lab (absent is fine). */
int fw_build_flush(struct nl_buf *b);

/*
 * Elements of the known sets from words, for runtime changes:
 *	internal_ifs, external_ifs   NAME...
 *	open_ports, redirect_ports   PROTO PORT
 *	masq_v4, masq_v6             PREFIX...
 *	fwd_v4                       PROTO PORT ADDR[:PORT]   (del: PROTO PORT)
 * Appends one batch message; err gets a one-line reason on failure.
 */
int fw_build_elems(struct nl_buf *b, int del, const char *set, int argc, char **argv,
		   char *err, size_t errlen);

/* "tcp", "udp", ... or the number, for an IP protocol. */
const char *fw_proto_name(uint8_t p, char buf[8]);

/* Read table inet lab back from the kernel as text or JSON. ENOENT when
 * the table does not exist. */
int fw_show(struct nl_sock *s, struct buf *out, int json, struct nl_err *err);
/* Whether table inet lab exists: 1, 0, or -1 (err). */
int fw_exists(struct nl_sock *s, struct nl_err *err);

#endif
