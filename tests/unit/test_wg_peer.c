/* A gateway's wg-quick file: names, sections found and edited without
 * touching anything else, addresses derived from names (checked against
 * SHA-256 values computed with sha256sum), a subnet filled up. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "ipaddr.h"
#include "tap.h"
#include "wg_peer.h"

static char dir[] = "/tmp/test_wg_peer.XXXXXX";

static int
load_text(struct wg_gw *g, const char *text, char *err, size_t errlen)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/wg0.conf", dir);
	if (fs_write_atomic(path, text, strlen(text), 0600) < 0)
		return -1;
	return wg_gw_load(g, path, err, errlen);
}

#define PRIV "aAb2VE1A8O3rfc6vNjUlQAlAGc92L53ltq7k9G2LwHs="
#define PUB1 "SCwa3nf8HUVhG4qtjWrxwGKPeNNScKJcOnHTzCMJyGk="
#define PUB2 "cmyMNSMK6uM6HN2lF/oFE42xOcD6ICTfU9btfmrRbF0="
#define PUB3 "BAJfHxUGDFWletYI7i5LoDRpNyGyVA6QUTpP/Z+4yHk="

static const char file3[] =
	"# gateway\n"
	"[Interface]\n"
	"PrivateKey = " PRIV "\n"
	"Address = 10.66.0.1/24, fd00:66::1/64\n"
	"# Endpoint = vpn.example.org:51820\n"
	"\n"
	"[Peer]\n"
	"# Name = one\n"
	"PublicKey = " PUB1 "\n"
	"AllowedIPs = 10.66.0.10/32\n"
	"\n"
	"[Peer]\n"
	"# Name = Two\n"
	"PublicKey = " PUB2 "\n"
	"AllowedIPs = 10.66.0.20/32, fd00:66::20/128\n"
	"\n"
	"\n"
	"[Peer]\n"
	"PublicKey = " PUB3 "\n"
	"AllowedIPs = 10.66.0.30/32 # no name\n";

int
main(void)
{
	struct wg_gw g;
	struct buf b = BUF_INIT;
	struct ipaddr sub, a;
	char name[64], err[600], s[IPADDR_STRLEN];
	int i, ok_;

	if (!mkdtemp(dir))
		return 1;
	ok(wg_peer_name("Phone-2", name) == 0 && !strcmp(name, "phone-2"), "a DNS label, lowered");
	ok(wg_peer_name("a", name) == 0, "one letter");
	ok(wg_peer_name("-a", name) < 0 && wg_peer_name("a-", name) < 0 && wg_peer_name("a_b", name) < 0 &&
		   wg_peer_name("a.b", name) < 0 && wg_peer_name("", name) < 0 &&
		   wg_peer_name("caf\xc3\xa9", name) < 0,
	   "not labels: leading or trailing '-', '_', '.', empty, non-ASCII");
	memset(name, 'a', 63);
	name[63] = '\0';
	ok(wg_peer_name(name, name) == 0, "63 characters");
	{
		char n64[65];

		memset(n64, 'a', 64);
		n64[64] = '\0';
		ok(wg_peer_name(n64, name) < 0, "64 are too many");
	}

	is_int(load_text(&g, file3, err, sizeof(err)), 0, "a gateway with three peers loads");
	is_int((int)g.npeer, 3, "three peers");
	is_str(g.endpoint, "vpn.example.org:51820", "the endpoint comment of [Interface]");
	ok(g.naddr == 2 && g.addr[0].plen == 24 && g.addr[1].plen == 64, "its two subnets");
	is_str(g.peer[1].name, "Two", "the name comment");
	is_str(g.peer[2].name, "", "a peer without one");
	is_int(wg_gw_find(&g, "two"), 1, "found without regard to case");
	ok(g.peer[0].first == 7 && g.peer[0].last == 10 && g.peer[1].first == 12 && g.peer[1].last == 15 &&
		   g.peer[2].first == 18 && g.peer[2].last == 20,
	   "the sections' lines");
	is_int(wg_gw_text_remove(&g, 1, &b), 0, "remove the middle one");
	is_str(buf_cstr(&b),
	       "# gateway\n[Interface]\nPrivateKey = " PRIV "\nAddress = 10.66.0.1/24, fd00:66::1/64\n"
	       "# Endpoint = vpn.example.org:51820\n\n[Peer]\n# Name = one\nPublicKey = " PUB1 "\n"
	       "AllowedIPs = 10.66.0.10/32\n\n\n[Peer]\nPublicKey = " PUB3 "\n"
	       "AllowedIPs = 10.66.0.30/32 # no name\n",
	       "only its lines and the blank line before them go");
	buf_reset(&b);
	wg_gw_text_remove(&g, 2, &b);
	ok(str_has_suffix(buf_cstr(&b), "AllowedIPs = 10.66.0.20/32, fd00:66::20/128\n\n"),
	   "the last one: one blank line before it goes with it");

	/* addresses: SHA-256("phone") = 45569da5 7f4b7bf4 72d7a864ef478145 ... */
	ipaddr_parse("10.66.0.1/24", AF_INET, &sub);
	ok(wg_gw_alloc(&g, "phone", &sub, &a) == 0 && !strcmp(ipaddr_str(&a, s), "10.66.0.165/32"),
	   "phone in 10.66.0.0/24: .165 (0x45569da5 mod 256)");
	ipaddr_parse("fd00:66::1/64", AF_INET6, &sub);
	ok(wg_gw_alloc(&g, "phone", &sub, &a) == 0 &&
		   !strcmp(ipaddr_str(&a, s), "fd00:66::72d7:a864:ef47:8145/128"),
	   "phone in fd00:66::/64: bytes 8-15 of its hash");
	ipaddr_parse("10.66.0.1/16", AF_INET, &sub);
	ok(wg_gw_alloc(&g, "phone", &sub, &a) == 0 && !strcmp(ipaddr_str(&a, s), "10.66.157.165/32"),
	   "phone in 10.66.0.0/16: .157.165 (0x9da5)");
	/* a collision moves on one address */
	g.peer[0].allowed[0].a[3] = 165;
	ipaddr_parse("10.66.0.1/24", AF_INET, &sub);
	ok(wg_gw_alloc(&g, "phone", &sub, &a) == 0 && !strcmp(ipaddr_str(&a, s), "10.66.0.166/32"),
	   "phone when .165 is a peer's: .166");
	/* 0xa5 mod 4 = 1: the gateway's; 2 is next */
	ipaddr_parse("10.66.0.1/30", AF_INET, &sub);
	ok(wg_gw_alloc(&g, "phone", &sub, &a) == 0 && !strcmp(ipaddr_str(&a, s), "10.66.0.2/32"),
	   "phone in a /30: .1 is the gateway's, .2");
	wg_gw_free(&g);

	/* a /28, filled one name at a time as peer add does */
	is_int(load_text(&g, "[Interface]\nPrivateKey = " PRIV "\nAddress = 10.77.0.1/28\n", err,
			 sizeof(err)),
	       0, "a gateway on a /28");
	ipaddr_parse("10.77.0.1/28", AF_INET, &sub);
	ok_ = 1;
	for (i = 0; i < 13; i++) {
		char n[16];
		struct wg_gw_peer *p;

		snprintf(n, sizeof(n), "peer%d", i);
		if (wg_gw_alloc(&g, n, &sub, &a) < 0) {
			ok_ = 0;
			break;
		}
		{
			uint32_t v = ipaddr_v4(&a) & 15;

			if (v == 0 || v == 15 || v == 1)
				ok_ = 0;
		}
		g.peer = realloc(g.peer, (g.npeer + 1) * sizeof(*g.peer));
		p = &g.peer[g.npeer++];
		memset(p, 0, sizeof(*p));
		p->allowed[0] = a;
		p->nallowed = 1;
	}
	ok(ok_, "13 names get addresses, none the network, the broadcast or the gateway's");
	{
		size_t x, y;
		int distinct = 1;

		for (x = 0; x < g.npeer; x++)
			for (y = x + 1; y < g.npeer; y++)
				if (ipaddr_equal(&g.peer[x].allowed[0], &g.peer[y].allowed[0]))
					distinct = 0;
		ok(distinct && g.npeer == 13, "all distinct");
	}
	errno = 0;
	ok(wg_gw_alloc(&g, "one-more", &sub, &a) < 0 && errno == ENOSPC, "the 14th: ENOSPC");
	ipaddr_parse("10.77.0.0/31", AF_INET, &sub);
	errno = 0;
	ok(wg_gw_alloc(&g, "x", &sub, &a) < 0 && errno == EINVAL, "a /31 holds no peers");
	wg_gw_free(&g);

	ok(load_text(&g, "[Interface]\nAddress = 10.0.0.1/24\n", err, sizeof(err)) < 0 &&
		   strstr(err, "no [Interface] PrivateKey"),
	   "no private key: an error");
	ok(load_text(&g, "[Interface]\nPrivateKey = " PRIV "\n[Oops]\n", err, sizeof(err)) < 0 &&
		   strstr(err, "wg0.conf:3: [Oops]: expected [Interface] or [Peer]"),
	   "an unknown section: file:line");
	buf_free(&b);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			return 1;
	}
	return done_testing();
}
