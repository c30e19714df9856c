/*
 * lab net: links, addresses, routes and namespaces over lab's own netlink
 * layer (never by running ip or nft), IP allocation, and the nftables
 * firewall.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "fs.h"
#include "fw.h"
#include "ipalloc.h"
#include "ipaddr.h"
#include "json.h"
#include "netns.h"
#include "nl.h"
#include "nl_route.h"
#include "spawn.h"
#include "tun.h"

const char net_usage[] =
	"usage: lab net [-n] [--json] [--netns NS] OBJECT ACTION [ARGS...]\n"
	"\n"
	"Links, addresses, routes and namespaces, spoken over netlink in-process.\n"
	"\n"
	"  link add NAME type bridge|dummy|tap|tun [mtu N] [master BR] [up]\n"
	"  link add NAME type veth peer P [netns NS] [mtu N] [master BR] [up]\n"
	"  link add NAME type macvlan|macvtap link L [mode bridge|vepa|private|passthru]\n"
	"  link set NAME [up|down] [mtu N] [master BR|nomaster] [netns NS]\n"
	"  link del NAME\n"
	"  addr add|del CIDR dev NAME\n"
	"  route add|del PREFIX|default [via GW] [dev NAME] [table N] [metric N]\n"
	"  route show [table N|all]\n"
	"  show [NAME]           links: kind, state, mtu, mac, master, peer netns id, addresses\n"
	"  ns add|del NAME       namespaces as ip netns makes them (/run/netns/NAME)\n"
	"  ns ls\n"
	"  ns exec NAME CMD [ARGS...]\n"
	"  alloc subnet NAME     a free IPv4 /24 for NAME (and its derived ULA /64)\n"
	"  alloc addr SUBNET GUEST   an address for GUEST inside SUBNET, stable while leased\n"
	"  alloc ula [IFACE [NAME]]  the derived IPv6 /48, /64 of IFACE, address of NAME\n"
	"  alloc show [SUBNET]\n"
	"  alloc release SUBNET [GUEST]\n"
	"  fw apply FILE         the whole ruleset of table inet lab as one transaction\n"
	"  fw check FILE         parse FILE and print it in normal form\n"
	"  fw show               read table inet lab back from the kernel\n"
	"  fw flush              remove table inet lab (other tables are left alone)\n"
	"  fw set add|del SET ELEMENT...   change a set at run time (no reload)\n"
	"  fw fwd add PROTO PORT ADDR[:PORT] | fwd del PROTO PORT\n"
	"\n"
	"Options (anywhere before the arguments of ns exec):\n"
	"  -n, --dry-run   print the netlink messages instead of sending them\n"
	"  --json          JSON output (show, route show, ns ls, alloc, fw show)\n"
	"  --netns NS      run inside the network namespace NS\n"
	"  -v              more detail\n"
	"  -b FILE         run the commands in FILE (one per line, options allowed, - for\n"
	"                  stdin) in this one process, like ip -batch\n"
	"  --host H        this machine's name for ULA derivation (default: hostname)\n"
	"  --state DIR     allocation records (default /run/lab/ip, or $LAB_RUN_DIR/ip)\n"
	"  --reserved FILE prefixes never to allocate (default " IPALLOC_RESERVED ")\n"
	"\n"
	"IPv6 derivation, with H = SHA-256 of the lowercased string: the /48 is\n"
	"fd + H(HOST)[0..4]; IFACE's /64 adds H(IFACE.HOST)[0..1]; NAME's interface\n"
	"id is H(NAME.HOST)[0..7]. IPv4 subnets: first free /24 of 192.168.0.0/16,\n"
	"172.16.0.0/12, 10.0.0.0/8 not overlapping reservations, earlier allocations,\n"
	"or the host's addresses and routes, taken under a lock.\n";

struct net {
	int dry;
	int json;
	const char *netns;
	const char *host;
	const char *state;
	const char *reserved;
	const char *batch;
	struct nl_sock rt, nf;	/* rtnetlink and nftables, opened on first use */
	struct nl_sock *nl;	/* the one the current command talks on */
	int nft_wrote;		/* a transaction went through the nftables socket */
	struct buf out;		/* dry-run text */
	uint32_t mem[8192];	/* request buffer */
	struct nl_buf req;
};

static struct net *N;

static void
open_sock(struct nl_sock *s, int proto, const struct nl_fmt_family *fam)
{
	N->nl = s;
	if (s->fd >= 0 || s->dry)
		return;
	if (N->dry) {
		nl_open_dry(s, proto, &N->out, fam);
		return;
	}
	if (nl_open(s, proto) < 0)
		die_errno("netlink socket");
}

static void
open_nl(void)
{
	open_sock(&N->rt, NETLINK_ROUTE, &nl_route_fmt);
}

static void
open_nft(void)
{
	open_sock(&N->nf, NETLINK_NETFILTER, &nft_fmt);
	N->nft_wrote = !N->dry;
}

/* Send what is in the request buffer; on failure die naming what. */
static void
talk(const char *what, nl_cb *cb, void *arg)
{
	struct nl_err err;
	char e[400];

	if (nl_talk(N->nl, &N->req, cb, arg, &err) < 0) {
		if (err.errnum == EPERM)
			die("%s: %s (needs root, or CAP_NET_ADMIN)", what, strerror(err.errnum));
		die("%s: %s", what, nl_strerror(&err, e, sizeof(e)));
	}
	nl_buf_reset(&N->req);
}

static void
flush_dry(void)
{
	if (N->dry) {
		fputs(buf_cstr(&N->out), stdout);
		buf_reset(&N->out);
	}
}

static int
ifindex(const char *name)
{
	unsigned idx;

	if (strlen(name) >= IFNAMSIZ)
		die("%s: interface name longer than %d bytes", name, IFNAMSIZ - 1);
	idx = if_nametoindex(name);
	if (!idx)
		die("%s: no such interface", name);
	return (int)idx;
}

static void
check_ifname(const char *name)
{
	const char *p;

	if (!*name || strlen(name) >= IFNAMSIZ)
		die("%s: interface names are 1 to %d bytes", name, IFNAMSIZ - 1);
	for (p = name; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ' || *p == 0x7f)
			die("%s: invalid interface name", name);
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		die("%s: invalid interface name", name);
}

static int
ns_fd(const char *name)
{
	int fd;
	uint32_t pid;

	/* A number is a process: its namespace, as ip takes it. */
	if (str_to_u32(name, 0x7fffffff, &pid) == 0) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/%u/ns/net", pid);
		fd = netns_open(path);
		if (fd < 0)
			die_errno("netns of pid %u", pid);
		return fd;
	}
	fd = netns_open(name);

	if (fd < 0)
		die_errno("netns %s", name);
	return fd;
}

static uint32_t
num(const char *what, const char *s, uint32_t max)
{
	uint32_t v;

	if (!s)
		die_usage("%s needs a value", what);
	if (str_to_u32(s, max, &v) < 0)
		die_usage("%s: expected a number up to %u, not \"%s\"", what, max, s);
	return v;
}

static const char *
need(char **argv, int i, int argc, const char *what)
{
	if (i >= argc)
		die_usage("%s needs a value", what);
	return argv[i];
}

/* ---- link ---- */

static int
cmd_link_add(int argc, char **argv)
{
	struct nl_link_spec s;
	const char *type = NULL, *peer_ns = NULL;
	int i, tap;

	memset(&s, 0, sizeof(s));
	s.peer_netns_fd = s.netns_fd = -1;
	if (argc < 1)
		die_usage("link add needs a NAME");
	s.name = argv[0];
	check_ifname(s.name);
	for (i = 1; i < argc; i++) {
		const char *k = argv[i];

		if (!strcmp(k, "type"))
			type = need(argv, ++i, argc, "type");
		else if (!strcmp(k, "peer"))
			s.peer = need(argv, ++i, argc, "peer");
		else if (!strcmp(k, "netns"))
			peer_ns = need(argv, ++i, argc, "netns");
		else if (!strcmp(k, "link"))
			s.link = ifindex(need(argv, ++i, argc, "link"));
		else if (!strcmp(k, "mode")) {
			const char *m = need(argv, ++i, argc, "mode");

			if (!strcmp(m, "bridge"))
				s.macvlan_mode = MACVLAN_MODE_BRIDGE;
			else if (!strcmp(m, "vepa"))
				s.macvlan_mode = MACVLAN_MODE_VEPA;
			else if (!strcmp(m, "private"))
				s.macvlan_mode = MACVLAN_MODE_PRIVATE;
			else if (!strcmp(m, "passthru"))
				s.macvlan_mode = MACVLAN_MODE_PASSTHRU;
			else
				die_usage("mode: expected bridge, vepa, private or passthru, not \"%s\"", m);
		} else if (!strcmp(k, "mtu"))
			s.mtu = num("mtu", need(argv, ++i, argc, "mtu"), 65535);
		else if (!strcmp(k, "master"))
			s.master = ifindex(need(argv, ++i, argc, "master"));
		else if (!strcmp(k, "up"))
			s.up = 1;
		else
			die_usage("link add: unknown argument \"%s\"", k);
	}
	if (!type)
		die_usage("link add %s: needs a type", s.name);
	s.kind = type;
	tap = !strcmp(type, "tap");
	if (tap || !strcmp(type, "tun")) {
		if (s.peer || s.link || s.macvlan_mode || peer_ns || s.mtu || s.master || s.up)
			die_usage("link add %s type %s takes no other arguments", s.name, type);
		if (N->dry) {
			printf("open /dev/net/tun\nioctl TUNSETIFF \"%s\" %s|IFF_NO_PI\nioctl TUNSETPERSIST 1\n",
			       s.name, tap ? "IFF_TAP" : "IFF_TUN");
			return 0;
		}
		if (tun_create_persistent(s.name, tap ? TUN_TAP : 0, (uid_t)-1, (gid_t)-1) < 0)
			die_errno("%s", s.name);
		return 0;
	}
	if (!strcmp(type, "veth")) {
		if (!s.peer)
			die_usage("link add %s type veth: needs peer NAME", s.name);
		check_ifname(s.peer);
		if (peer_ns)
			s.peer_netns_fd = ns_fd(peer_ns);
	} else if (!strcmp(type, "macvlan") || !strcmp(type, "macvtap")) {
		if (!s.link)
			die_usage("link add %s type %s: needs link PARENT", s.name, type);
	} else if (strcmp(type, "bridge") && strcmp(type, "dummy")) {
		die_usage("link add %s: unknown type \"%s\" (bridge, veth, macvlan, macvtap, tap, tun, dummy)",
			  s.name, type);
	}
	if ((s.peer && strcmp(type, "veth")) || (peer_ns && strcmp(type, "veth")))
		die_usage("link add %s: peer and netns belong to type veth", s.name);
	if ((s.link || s.macvlan_mode) && strcmp(type, "macvlan") && strcmp(type, "macvtap"))
		die_usage("link add %s: link and mode belong to macvlan and macvtap", s.name);
	open_nl();
	if (nl_link_add(&N->req, &s) < 0)
		die_errno("%s", s.name);
	talk(s.name, NULL, NULL);
	flush_dry();
	return 0;
}

static int
cmd_link_set(int argc, char **argv)
{
	struct nl_link_change c;
	int i;

	if (argc < 2)
		die_usage("link set needs a NAME and what to change");
	c.name = argv[0];
	c.up = -1;
	c.mtu = 0;
	c.master = -1;
	c.netns_fd = -1;
	check_ifname(c.name);
	for (i = 1; i < argc; i++) {
		const char *k = argv[i];

		if (!strcmp(k, "up"))
			c.up = 1;
		else if (!strcmp(k, "down"))
			c.up = 0;
		else if (!strcmp(k, "mtu"))
			c.mtu = num("mtu", need(argv, ++i, argc, "mtu"), 65535);
		else if (!strcmp(k, "master"))
			c.master = ifindex(need(argv, ++i, argc, "master"));
		else if (!strcmp(k, "nomaster"))
			c.master = 0;
		else if (!strcmp(k, "netns"))
			c.netns_fd = ns_fd(need(argv, ++i, argc, "netns"));
		else
			die_usage("link set: unknown argument \"%s\"", k);
	}
	open_nl();
	nl_link_set(&N->req, &c);
	talk(c.name, NULL, NULL);
	flush_dry();
	return 0;
}

static int
cmd_link_del(int argc, char **argv)
{
	if (argc != 1)
		die_usage("link del needs exactly one NAME");
	check_ifname(argv[0]);
	open_nl();
	nl_link_del(&N->req, argv[0]);
	talk(argv[0], NULL, NULL);
	flush_dry();
	return 0;
}

/* ---- addr, route ---- */

static int
cmd_addr(int add, int argc, char **argv)
{
	struct ipaddr a;
	char s[IPADDR_STRLEN];
	int idx;

	if (argc != 3 || strcmp(argv[1], "dev"))
		die_usage("usage: addr %s CIDR dev NAME", add ? "add" : "del");
	if (ipaddr_parse(argv[0], AF_UNSPEC, &a) < 0)
		die("%s: not an address (expected 10.0.0.1/24 or fd00::1/64)", argv[0]);
	if (a.plen < 0)
		a.plen = ipaddr_bits(&a);
	idx = ifindex(argv[2]);
	open_nl();
	if (add)
		nl_addr_add(&N->req, idx, &a);
	else
		nl_addr_del(&N->req, idx, &a);
	{
		char what[IPADDR_STRLEN + IFNAMSIZ + 8];

		snprintf(what, sizeof(what), "%s dev %s", ipaddr_str(&a, s), argv[2]);
		talk(what, NULL, NULL);
	}
	flush_dry();
	return 0;
}

static void
parse_route(int argc, char **argv, struct nl_route_spec *r)
{
	int i, fam = AF_UNSPEC;

	memset(r, 0, sizeof(*r));
	if (argc < 1)
		die_usage("route needs a PREFIX (or default)");
	for (i = 1; i < argc; i++) {
		const char *k = argv[i];

		if (!strcmp(k, "via")) {
			const char *g = need(argv, ++i, argc, "via");

			if (ipaddr_parse(g, AF_UNSPEC, &r->gw) < 0 || r->gw.plen >= 0)
				die("%s: not a gateway address", g);
			fam = r->gw.family;
		} else if (!strcmp(k, "dev"))
			r->oif = ifindex(need(argv, ++i, argc, "dev"));
		else if (!strcmp(k, "table"))
			r->table = num("table", need(argv, ++i, argc, "table"), 0xfffffffe);
		else if (!strcmp(k, "metric"))
			r->metric = num("metric", need(argv, ++i, argc, "metric"), 0xffffffff);
		else
			die_usage("route: unknown argument \"%s\"", k);
	}
	if (ipaddr_parse_prefix(argv[0], fam, &r->dst) < 0)
		die("%s: not a prefix (expected 10.1.0.0/16, fd00::/48 or default)", argv[0]);
	if (!ipaddr_is_network(&r->dst)) {
		char s[IPADDR_STRLEN];

		ipaddr_mask(&r->dst);
		die("%s: host bits set (the prefix is %s)", argv[0], ipaddr_str(&r->dst, s));
	}
	if (r->gw.family && r->gw.family != r->dst.family)
		die("%s: the gateway is of another address family", argv[0]);
	if (!r->gw.family && !r->oif)
		die_usage("route %s: needs via GW or dev NAME", argv[0]);
}

static void print_routes(uint32_t table);

static int
cmd_route(int argc, char **argv)
{
	struct nl_route_spec r;
	int add;

	if (argc < 1)
		die_usage("route needs add, del or show");
	if (!strcmp(argv[0], "show") || !strcmp(argv[0], "ls")) {
		uint32_t table = RT_TABLE_MAIN;

		if (argc == 3 && !strcmp(argv[1], "table"))
			table = !strcmp(argv[2], "all") ? 0 : num("table", argv[2], 0xfffffffe);
		else if (argc != 1)
			die_usage("route show [table N|all]");
		print_routes(table);
		return 0;
	}
	add = !strcmp(argv[0], "add");
	if (!add && strcmp(argv[0], "del"))
		die_usage("route: unknown action \"%s\"", argv[0]);
	parse_route(argc - 1, argv + 1, &r);
	open_nl();
	if (add)
		nl_route_add(&N->req, &r);
	else
		nl_route_del(&N->req, &r);
	talk(argv[1], NULL, NULL);
	flush_dry();
	return 0;
}

/* ---- show ---- */

struct snapshot {
	struct nl_link_info *links;
	size_t nlinks;
	struct nl_addr_info *addrs;
	size_t naddrs;
};

static void
snapshot(struct snapshot *s)
{
	struct nl_err err;
	char e[400];

	if (N->dry)
		die("show reads from the kernel; there is nothing to dry-run");
	open_nl();
	if (nl_link_dump(N->nl, &s->links, &s->nlinks, &err) < 0 ||
	    nl_addr_dump(N->nl, AF_UNSPEC, &s->addrs, &s->naddrs, &err) < 0)
		die("dump: %s", nl_strerror(&err, e, sizeof(e)));
}

static const char *
name_of(const struct snapshot *s, int index)
{
	size_t i;

	for (i = 0; i < s->nlinks; i++)
		if (s->links[i].index == index)
			return s->links[i].name;
	return NULL;
}

static void
mac_str(const struct nl_link_info *l, char *out, size_t size)
{
	size_t i, n = 0;

	out[0] = '\0';
	for (i = 0; i < l->maclen && n + 3 < size; i++)
		n += (size_t)snprintf(out + n, size - n, "%s%02x", i ? ":" : "", l->mac[i]);
}

static const char *
kind_of(const struct nl_link_info *l)
{
	if (l->kind[0])
		return l->kind;
	if (l->flags & IFF_LOOPBACK)
		return "loopback";
	return "device";
}

static void
show(const char *only)
{
	struct snapshot s;
	struct json_writer w;
	struct buf out = BUF_INIT;
	size_t i, j;
	int found = 0;

	snapshot(&s);
	json_writer_init(&w, &out, 1);
	if (N->json)
		json_begin_arr(&w);
	for (i = 0; i < s.nlinks; i++) {
		const struct nl_link_info *l = &s.links[i];
		const char *master = l->master ? name_of(&s, l->master) : NULL;
		const char *peer = l->link && l->link_netnsid < 0 ? name_of(&s, l->link) : NULL;
		char mac[100], a[IPADDR_STRLEN], sc[16];

		if (only && strcmp(only, l->name))
			continue;
		found = 1;
		mac_str(l, mac, sizeof(mac));
		if (N->json) {
			json_begin_obj(&w);
			json_key(&w, "index");
			json_int(&w, l->index);
			json_key(&w, "name");
			json_str(&w, l->name);
			json_key(&w, "kind");
			json_str(&w, kind_of(l));
			json_key(&w, "state");
			json_str(&w, nl_operstate_name(l->operstate));
			json_key(&w, "up");
			json_bool(&w, !!(l->flags & IFF_UP));
			json_key(&w, "mtu");
			json_uint(&w, l->mtu);
			json_key(&w, "mac");
			json_str(&w, mac);
			json_key(&w, "master");
			json_str(&w, master);
			json_key(&w, "link");
			json_str(&w, peer);
			json_key(&w, "link_netnsid");
			if (l->link_netnsid >= 0)
				json_int(&w, l->link_netnsid);
			else
				json_null(&w);
			json_key(&w, "addresses");
			json_begin_arr(&w);
		} else {
			buf_addf(&out, "%d: %s%s%s  %s  %s%s  mtu %u", l->index, l->name, peer ? "@" : "",
				 peer ? peer : "", kind_of(l), nl_operstate_name(l->operstate),
				 (l->flags & IFF_UP) && l->operstate != 6 /* IF_OPER_UP */ ? ",up" : "", l->mtu);
			if (*mac)
				buf_addf(&out, "  %s", mac);
			if (master)
				buf_addf(&out, "  master %s", master);
			if (l->link_netnsid >= 0)
				buf_addf(&out, "  link-netnsid %d", l->link_netnsid);
			buf_addc(&out, '\n');
		}
		for (j = 0; j < s.naddrs; j++) {
			const struct nl_addr_info *ad = &s.addrs[j];

			if (ad->index != l->index)
				continue;
			if (N->json) {
				json_begin_obj(&w);
				json_key(&w, "family");
				json_str(&w, ad->addr.family == AF_INET ? "inet" : "inet6");
				json_key(&w, "address");
				json_str(&w, ipaddr_str_addr(&ad->addr, a));
				json_key(&w, "prefixlen");
				json_int(&w, ad->addr.plen);
				json_key(&w, "scope");
				json_str(&w, nl_scope_name(ad->scope, sc));
				json_end_obj(&w);
			} else {
				buf_addf(&out, "    %s %s scope %s\n",
					 ad->addr.family == AF_INET ? "inet" : "inet6",
					 ipaddr_str(&ad->addr, a), nl_scope_name(ad->scope, sc));
			}
		}
		if (N->json) {
			json_end_arr(&w);
			json_end_obj(&w);
		}
	}
	if (N->json) {
		json_end_arr(&w);
		buf_addc(&out, '\n');
	}
	if (only && !found)
		die("%s: no such interface", only);
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	free(s.links);
	free(s.addrs);
}

static void
print_routes(uint32_t table)
{
	struct nl_route_info *r = NULL;
	struct nl_link_info *links = NULL;
	size_t n = 0, nl = 0, i, j;
	struct nl_err err;
	struct json_writer w;
	struct buf out = BUF_INIT;
	char e[400];

	if (N->dry)
		die("route show reads from the kernel; there is nothing to dry-run");
	open_nl();
	if (nl_link_dump(N->nl, &links, &nl, &err) < 0 ||
	    nl_route_dump(N->nl, AF_UNSPEC, table, &r, &n, &err) < 0)
		die("dump: %s", nl_strerror(&err, e, sizeof(e)));
	json_writer_init(&w, &out, 1);
	if (N->json)
		json_begin_arr(&w);
	for (i = 0; i < n; i++) {
		char d[IPADDR_STRLEN], g[IPADDR_STRLEN], pb[16], sb[16];
		const char *dev = NULL;

		for (j = 0; j < nl; j++)
			if (links[j].index == r[i].oif)
				dev = links[j].name;
		if (r[i].dst.plen == 0)
			str_copy(d, "default", sizeof(d));
		else
			ipaddr_str(&r[i].dst, d);
		if (r[i].gw.family)
			ipaddr_str_addr(&r[i].gw, g);
		if (N->json) {
			json_begin_obj(&w);
			json_key(&w, "dst");
			json_str(&w, d);
			json_key(&w, "gateway");
			json_str(&w, r[i].gw.family ? g : NULL);
			json_key(&w, "dev");
			json_str(&w, dev);
			json_key(&w, "protocol");
			json_str(&w, nl_route_proto_name(r[i].protocol, pb));
			json_key(&w, "scope");
			json_str(&w, nl_scope_name(r[i].scope, sb));
			json_key(&w, "metric");
			json_uint(&w, r[i].metric);
			json_key(&w, "table");
			json_uint(&w, r[i].table);
			json_end_obj(&w);
			continue;
		}
		buf_adds(&out, d);
		if (r[i].gw.family)
			buf_addf(&out, " via %s", g);
		if (dev)
			buf_addf(&out, " dev %s", dev);
		buf_addf(&out, " proto %s", nl_route_proto_name(r[i].protocol, pb));
		if (r[i].scope != RT_SCOPE_UNIVERSE)
			buf_addf(&out, " scope %s", nl_scope_name(r[i].scope, sb));
		if (r[i].metric)
			buf_addf(&out, " metric %u", r[i].metric);
		if (r[i].table != RT_TABLE_MAIN)
			buf_addf(&out, " table %u", r[i].table);
		buf_addc(&out, '\n');
	}
	if (N->json) {
		json_end_arr(&w);
		buf_addc(&out, '\n');
	}
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	free(r);
	free(links);
}

/* ---- ns ---- */

static int
cmd_ns(int argc, char **argv)
{
	const char *act = argc ? argv[0] : "";

	if (!strcmp(act, "ls") || !strcmp(act, "list")) {
		char **names;
		size_t n, i;

		if (netns_list(&names, &n) < 0)
			die_errno("%s", NETNS_RUN_DIR);
		if (N->json) {
			struct buf out = BUF_INIT;
			struct json_writer w;

			json_writer_init(&w, &out, 0);
			json_begin_arr(&w);
			for (i = 0; i < n; i++)
				json_str(&w, names[i]);
			json_end_arr(&w);
			printf("%s\n", buf_cstr(&out));
			buf_free(&out);
		} else {
			for (i = 0; i < n; i++)
				printf("%s\n", names[i]);
		}
		netns_list_free(names, n);
		return 0;
	}
	if (argc < 2)
		die_usage("ns %s needs a NAME", *act ? act : "add|del|exec|ls");
	if (!netns_valid_name(argv[1]))
		die("%s: invalid namespace name (letters, digits, '.', '_', '-')", argv[1]);
	if (!strcmp(act, "add")) {
		if (argc != 2)
			die_usage("ns add takes one NAME");
		if (N->dry) {
			printf("mkdir %s (shared mount)\ncreate %s/%s\nunshare CLONE_NEWNET; bind /proc/self/ns/net on %s/%s\n",
			       NETNS_RUN_DIR, NETNS_RUN_DIR, argv[1], NETNS_RUN_DIR, argv[1]);
			return 0;
		}
		if (netns_add(argv[1]) < 0)
			die_errno("netns %s", argv[1]);
		return 0;
	}
	if (!strcmp(act, "del")) {
		if (argc != 2)
			die_usage("ns del takes one NAME");
		if (N->dry) {
			printf("umount %s/%s\nunlink %s/%s\n", NETNS_RUN_DIR, argv[1], NETNS_RUN_DIR, argv[1]);
			return 0;
		}
		if (netns_del(argv[1]) < 0)
			die_errno("netns %s", argv[1]);
		return 0;
	}
	if (!strcmp(act, "exec")) {
		int i = 2;

		if (i < argc && !strcmp(argv[i], "--"))
			i++;
		if (i >= argc)
			die_usage("ns exec %s needs a command", argv[1]);
		if (N->dry) {
			printf("setns %s/%s; unshare CLONE_NEWNS; mount sysfs /sys; exec %s\n",
			       NETNS_RUN_DIR, argv[1], argv[i]);
			return 0;
		}
		if (netns_exec_prepare(argv[1]) < 0)
			die_errno("netns %s", argv[1]);
		fflush(stdout);
		execvp(argv[i], argv + i);
		log_warn("%s", argv[i]);
		return errno == ENOENT ? 127 : 126;
	}
	die_usage("ns: unknown action \"%s\"", act);
}

/* ---- alloc ---- */

static void
alloc_init(struct ipalloc *a, char *host, size_t hsize, char *dir, size_t dsize)
{
	const char *run = getenv("LAB_RUN_DIR");

	memset(a, 0, sizeof(*a));
	if (N->host)
		str_copy(host, N->host, hsize);
	else if (gethostname(host, hsize) < 0 || !*host)
		die_errno("hostname");
	host[hsize - 1] = '\0';
	a->host = host;
	if (N->state)
		str_copy(dir, N->state, dsize);
	else if (run && *run)
		snprintf(dir, dsize, "%s/ip", run);
	else
		str_copy(dir, IPALLOC_DIR, dsize);
	a->dir = dir;
	a->reserved = N->reserved ? N->reserved : IPALLOC_RESERVED;
	a->dry = N->dry;
}

static void
print_subnet(struct json_writer *w, struct buf *out, const struct ipalloc_subnet *s)
{
	char v4[IPADDR_STRLEN], gw[IPADDR_STRLEN], ula[IPADDR_STRLEN], gw6[IPADDR_STRLEN];

	ipaddr_str(&s->v4, v4);
	ipaddr_str_addr(&s->gw4, gw);
	ipaddr_str(&s->ula, ula);
	ipaddr_str_addr(&s->gw6, gw6);
	if (!N->json) {
		buf_addf(out, "%s %s gateway %s ula %s gateway6 %s\n", s->name, v4, gw, ula, gw6);
		return;
	}
	json_key(w, "name");
	json_str(w, s->name);
	json_key(w, "subnet");
	json_str(w, v4);
	json_key(w, "gateway");
	json_str(w, gw);
	json_key(w, "ula");
	json_str(w, ula);
	json_key(w, "gateway6");
	json_str(w, gw6);
}

static void
print_lease(struct json_writer *w, struct buf *out, const struct ipalloc_lease *l)
{
	char v4[IPADDR_STRLEN], v6[IPADDR_STRLEN];

	ipaddr_str(&l->v4, v4);
	ipaddr_str(&l->v6, v6);
	if (!N->json) {
		buf_addf(out, "%s %s %s\n", l->guest, v4, v6);
		return;
	}
	json_begin_obj(w);
	json_key(w, "guest");
	json_str(w, l->guest);
	json_key(w, "address");
	json_str(w, v4);
	json_key(w, "address6");
	json_str(w, v6);
	json_end_obj(w);
}

static int
cmd_alloc(int argc, char **argv)
{
	const char *act = argc ? argv[0] : "";
	char host[256], dir[4096];
	struct ipalloc a;
	struct json_writer w;
	struct buf out = BUF_INIT;
	int r = 0;

	alloc_init(&a, host, sizeof(host), dir, sizeof(dir));
	json_writer_init(&w, &out, 1);
	if (!strcmp(act, "subnet")) {
		struct ipalloc_subnet s;
		struct nl_sock alloc_nl;

		if (argc != 2)
			die_usage("alloc subnet takes one NAME");
		/* Even a dry run reads the host's addresses and routes. */
		if (nl_open(&alloc_nl, NETLINK_ROUTE) < 0)
			die_errno("netlink socket");
		a.nl = &alloc_nl;
		r = ipalloc_subnet(&a, argv[1], &s);
		nl_close(&alloc_nl);
		if (r < 0)
			die("%s", a.err);
		if (N->json)
			json_begin_obj(&w);
		print_subnet(&w, &out, &s);
		if (N->json) {
			json_key(&w, "new");
			json_bool(&w, r == 1);
			json_end_obj(&w);
		}
	} else if (!strcmp(act, "addr")) {
		struct ipalloc_lease l;

		if (argc != 3)
			die_usage("alloc addr takes SUBNET GUEST");
		if (ipalloc_lease(&a, argv[1], argv[2], &l) < 0)
			die("%s", a.err);
		print_lease(&w, &out, &l);
	} else if (!strcmp(act, "ula")) {
		struct ipaddr p;
		char s[IPADDR_STRLEN];

		if (argc > 3)
			die_usage("alloc ula takes [IFACE [NAME]]");
		if (argc == 1 && ipalloc_ula_prefix(host, &p) < 0)
			die("%s: cannot derive a prefix", host);
		if (argc == 2 && ipalloc_ula_subnet(host, argv[1], &p) < 0)
			die("%s: cannot derive a prefix", argv[1]);
		if (argc == 3 && ipalloc_ula_addr(host, argv[1], argv[2], &p) < 0)
			die("%s: cannot derive an address", argv[2]);
		if (N->json) {
			json_begin_obj(&w);
			json_key(&w, "host");
			json_str(&w, host);
			json_key(&w, argc == 3 ? "address" : "prefix");
			json_str(&w, ipaddr_str(&p, s));
			json_end_obj(&w);
		} else {
			buf_addf(&out, "%s\n", ipaddr_str(&p, s));
		}
	} else if (!strcmp(act, "show") || !strcmp(act, "ls")) {
		struct ipalloc_subnet *v;
		size_t n, i, j;

		if (argc > 2)
			die_usage("alloc show takes [SUBNET]");
		if (ipalloc_subnet_list(&a, &v, &n) < 0)
			die("%s", a.err);
		if (N->json)
			json_begin_arr(&w);
		for (i = 0; i < n; i++) {
			struct ipalloc_lease *l;
			size_t nl;

			if (argc == 2 && strcmp(argv[1], v[i].name))
				continue;
			if (ipalloc_lease_list(&a, v[i].name, &l, &nl) < 0)
				die("%s", a.err);
			if (N->json)
				json_begin_obj(&w);
			print_subnet(&w, &out, &v[i]);
			if (N->json) {
				json_key(&w, "leases");
				json_begin_arr(&w);
			}
			for (j = 0; j < nl; j++) {
				if (!N->json)
					buf_adds(&out, "  ");
				print_lease(&w, &out, &l[j]);
			}
			if (N->json) {
				json_end_arr(&w);
				json_end_obj(&w);
			}
			free(l);
		}
		if (N->json)
			json_end_arr(&w);
		free(v);
	} else if (!strcmp(act, "release")) {
		if (argc < 2 || argc > 3)
			die_usage("alloc release takes SUBNET [GUEST]");
		if (ipalloc_release(&a, argv[1], argc == 3 ? argv[2] : NULL) < 0)
			die("%s", a.err);
	} else {
		die_usage("alloc: unknown action \"%s\" (subnet, addr, ula, show, release)", act);
	}
	if (N->json && out.len)
		buf_addc(&out, '\n');
	fputs(buf_cstr(&out), stdout);
	buf_free(&out);
	return 0;
}

/* ---- fw ---- */

static void
nft_fail(const char *what, const struct nl_err *err)
{
	char e[400];

	if (err->errnum == EPERM)
		die("%s: %s (needs root, or CAP_NET_ADMIN)", what, strerror(err->errnum));
	die("%s: %s", what, nl_strerror(err, e, sizeof(e)));
}

static int
cmd_fw(int argc, char **argv)
{
	const char *act = argc ? argv[0] : "";
	struct nl_err err;
	char e[400];

	if (!strcmp(act, "apply") || !strcmp(act, "check")) {
		struct fw_config c;
		struct conf_err ce;
		struct fw_lines lines = { NULL, 0, 0 };

		if (argc != 2)
			die_usage("fw %s takes one FILE", act);
		if (fw_config_load(&c, argv[1], &ce) < 0) {
			if (ce.line)
				die("%s:%d: %s", ce.file, ce.line, ce.msg);
			die("%s: %s", ce.file, ce.msg);
		}
		if (!strcmp(act, "check")) {
			struct buf out = BUF_INIT;

			fw_config_print(&c, &out);
			fputs(buf_cstr(&out), stdout);
			buf_free(&out);
			fw_config_free(&c);
			return 0;
		}
		open_nft();
		if (fw_build(&N->req, &c, &lines) < 0)
			die_errno("%s: ruleset", argv[1]);
		if (nl_talk(N->nl, &N->req, NULL, NULL, &err) < 0) {
			int line = err.index >= 0 && (size_t)err.index < lines.n ? lines.line[err.index] : 0;

			if (line && err.errnum == EEXIST)
				die("%s:%d: %s (overlaps or repeats an element already given)", argv[1], line,
				    nl_strerror(&err, e, sizeof(e)));
			if (line)
				die("%s:%d: %s", argv[1], line, nl_strerror(&err, e, sizeof(e)));
			nft_fail(argv[1], &err);
		}
		fw_lines_free(&lines);
		fw_config_free(&c);
		flush_dry();
		return 0;
	}
	if (!strcmp(act, "flush")) {
		if (argc != 1)
			die_usage("fw flush takes no arguments");
		open_nft();
		fw_build_flush(&N->req);
		if (nl_talk(N->nl, &N->req, NULL, NULL, &err) < 0 && err.errnum != ENOENT)
			nft_fail("flush", &err);
		flush_dry();
		return 0;
	}
	if (!strcmp(act, "show") || !strcmp(act, "ls")) {
		struct buf out = BUF_INIT;

		if (N->dry)
			die("fw show reads from the kernel; there is nothing to dry-run");
		open_nft();
		if (fw_show(N->nl, &out, N->json, &err) < 0) {
			if (err.errnum == ENOENT)
				die("table inet %s: not there (lab net fw apply FILE makes it)", FW_TABLE);
			nft_fail("show", &err);
		}
		fputs(buf_cstr(&out), stdout);
		buf_free(&out);
		return 0;
	}
	if (!strcmp(act, "set") || !strcmp(act, "fwd")) {
		int fwd = !strcmp(act, "fwd"), del, skip = fwd ? 2 : 3;
		const char *set = fwd ? "fwd_v4" : (argc > 2 ? argv[2] : "");
		char what[128];

		if (argc < skip || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
			die_usage("fw %s add|del %s...", act, fwd ? "PROTO PORT" : "SET ELEMENT");
		del = !strcmp(argv[1], "del");
		open_nft();
		if (fw_build_elems(&N->req, del, set, argc - skip, argv + skip, e, sizeof(e)) < 0)
			die("%s", e);
		snprintf(what, sizeof(what), "%s %s", del ? "del from" : "add to", set);
		if (nl_talk(N->nl, &N->req, NULL, NULL, &err) < 0) {
			if (err.errnum == ENOENT)
				die("%s: no such element, or no table inet %s (lab net fw apply FILE)", what,
				    FW_TABLE);
			nft_fail(what, &err);
		}
		flush_dry();
		return 0;
	}
	die_usage("fw: unknown action \"%s\" (apply, check, show, flush, set, fwd)", act);
}

/* ---- main ---- */

/* Pull the common options out of argv (after "net"), wherever they are,
 * except in the command of "ns exec NAME CMD...". Returns the words left,
 * moved to the front of argv. */
static int
parse_opts(int argc, char **argv)
{
	int i, o = 0;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (o >= 3 && !strcmp(argv[0], "ns") && !strcmp(argv[1], "exec")) {
			argv[o++] = a;
			continue;
		}
		if (!strcmp(a, "-n") || !strcmp(a, "--dry-run"))
			N->dry = 1;
		else if (!strcmp(a, "--json") || !strcmp(a, "-j"))
			N->json = 1;
		else if (!strcmp(a, "-v"))
			log_set_verbose(log_verbose() + 1);
		else if (!strcmp(a, "--netns")) {
			if (++i >= argc)
				die_usage("--netns needs a name");
			N->netns = argv[i];
		} else if (!strncmp(a, "--netns=", 8))
			N->netns = a + 8;
		else if (!strcmp(a, "-b") || !strcmp(a, "--batch")) {
			if (++i >= argc)
				die_usage("%s needs a FILE", a);
			N->batch = argv[i];
		} else if (!strcmp(a, "--host") || !strcmp(a, "--state") || !strcmp(a, "--reserved")) {
			if (++i >= argc)
				die_usage("%s needs a value", a);
			*(a[2] == 'h' ? &N->host : a[2] == 's' ? &N->state : &N->reserved) = argv[i];
		}
		else if (a[0] == '-' && a[1] && strcmp(a, "--"))
			die_usage("unknown option \"%s\"", a);
		else
			argv[o++] = a;
	}
	argv[o] = NULL;
	return o;
}

static int
dispatch(int argc, char **argv)
{
	const char *obj = argv[0], *act = argc > 1 ? argv[1] : "";

	if (!strcmp(obj, "link")) {
		if (!strcmp(act, "add"))
			return cmd_link_add(argc - 2, argv + 2);
		if (!strcmp(act, "set"))
			return cmd_link_set(argc - 2, argv + 2);
		if (!strcmp(act, "del") || !strcmp(act, "delete"))
			return cmd_link_del(argc - 2, argv + 2);
		if (!strcmp(act, "show") || !strcmp(act, "ls") || !*act) {
			show(argc > 2 ? argv[2] : NULL);
			return 0;
		}
		die_usage("link: unknown action \"%s\"", act);
	}
	if (!strcmp(obj, "addr") || !strcmp(obj, "address")) {
		if (!strcmp(act, "add") || !strcmp(act, "del"))
			return cmd_addr(!strcmp(act, "add"), argc - 2, argv + 2);
		die_usage("addr: unknown action \"%s\" (add, del)", act);
	}
	if (!strcmp(obj, "route"))
		return cmd_route(argc - 1, argv + 1);
	if (!strcmp(obj, "show")) {
		show(argc > 1 ? argv[1] : NULL);
		return 0;
	}
	if (!strcmp(obj, "ns") || !strcmp(obj, "netns"))
		return cmd_ns(argc - 1, argv + 1);
	if (!strcmp(obj, "fw"))
		return cmd_fw(argc - 1, argv + 1);
	if (!strcmp(obj, "alloc"))
		return cmd_alloc(argc - 1, argv + 1);
	die_usage("unknown object \"%s\"", obj);
}

/*
 * Releasing a netfilter netlink socket right after a commit makes the
 * kernel wait for its post-commit cleanup (an RCU grace period, 10-20 ms
 * here): nf_tables flushes its destroy work on NETLINK_URELEASE. The
 * ruleset is already committed, and any error already read, by then. So
 * the last reference to the socket goes to a child that holds nothing
 * else and does the waiting, and the command returns at once.
 */
static void
release_nft_detached(void)
{
	pid_t pid;

	if (N->nf.fd < 0 || !N->nft_wrote)
		return;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd;

		/* Hold nothing but the socket: no pipe of our caller's stays open. */
		for (fd = 0; fd < 1024; fd++)
			if (fd != N->nf.fd)
				close(fd);
		close(N->nf.fd);
		_exit(0);
	}
	if (pid > 0) {
		close(N->nf.fd);	/* not the last reference: no wait */
		N->nf.fd = -1;
	}
}

static void
close_socks(void)
{
	nl_close(&N->rt);
	nl_close(&N->nf);
	memset(&N->rt, 0, sizeof(N->rt));
	memset(&N->nf, 0, sizeof(N->nf));
	N->rt.fd = N->nf.fd = -1;
}

/* -b FILE: one command per line (# comments), options included, all in
 * this process, as ip -batch does; the first failure ends it. A line with
 * --netns NS runs there on sockets of its own, then we come back. */
static int
batch(const char *path)
{
	struct buf b = BUF_INIT;
	char *line, *save = NULL, *words[64];
	int lineno = 0, home;
	size_t n;

	if (fs_read_file(strcmp(path, "-") ? path : "/dev/stdin", &b, 16 << 20) < 0)
		die_errno("%s", path);
	home = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		die_errno("/proc/self/ns/net");
	for (line = strtok_r(b.data ? b.data : (char *)"", "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *h = strchr(line, '#');
		int argc;

		lineno++;
		if (h)
			*h = '\0';
		words[0] = (char *)"net";
		n = str_split(line, " \t\r", words + 1, 62);
		if (n == 0)
			continue;
		if (n == 62)
			die("%s:%d: too many words", path, lineno);
		words[n + 1] = NULL;
		N->netns = NULL;
		argc = parse_opts((int)n + 1, words);
		if (argc < 1)
			continue;
		if (!strcmp(words[0], "ns") && argc > 1 && !strcmp(words[1], "exec"))
			die("%s:%d: ns exec cannot run from a batch", path, lineno);
		if (N->netns) {
			close_socks();
			if (netns_enter(N->netns) < 0)
				die_errno("%s:%d: netns %s", path, lineno, N->netns);
		}
		dispatch(argc, words);
		if (N->netns) {
			close_socks();
			if (setns(home, CLONE_NEWNET) < 0)
				die_errno("back from netns %s", N->netns);
		}
	}
	close(home);
	buf_free(&b);
	return 0;
}

int
net_main(int argc, char **argv)
{
	int r;

	N = xcalloc(1, sizeof(*N));
	nl_buf_init(&N->req, N->mem, sizeof(N->mem));
	N->rt.fd = N->nf.fd = -1;
	/* argv[0] is "net"; what follows are objects, actions and options. */
	argc = parse_opts(argc, argv);
	if (N->netns && netns_enter(N->netns) < 0)
		die_errno("netns %s", N->netns);
	if (N->batch) {
		if (argc)
			die_usage("-b FILE takes the commands from FILE, not from arguments");
		r = batch(N->batch);
	} else {
		if (argc < 1)
			die_usage("needs an object (link, addr, route, show, ns, alloc, fw)");
		r = dispatch(argc, argv);
	}
	release_nft_detached();
	close_socks();
	buf_free(&N->out);
	free(N);
	return r;
}
