/* lab vpn bastion's decisions: which destinations the rules admit (names,
 * suffixes, networks, ports, deny rules, special-purpose addresses), and
 * the failed-login limiter's counting, ban, forgiveness and window. */
#include <arpa/inet.h>
#include <string.h>

#include "bastion.h"
#include "tap.h"

static struct bastion_rule rules[8];
static size_t nrules;

static void
rule(const char *s)
{
	char err[200];

	if (bastion_rule_parse(s, &rules[nrules], err, sizeof(err)) == 0)
		nrules++;
	else
		ok(0, "rule %s: %s", s, err);
}

static int
addr_ok(const char *a, int port, int by_name, int own)
{
	struct ipaddr x;
	char why[200];

	if (ipaddr_parse(a, AF_UNSPEC, &x) < 0)
		return -1;
	x.plen = ipaddr_bits(&x);
	return bastion_dest_check(rules, nrules, &x, (uint16_t)port, by_name, own, why, sizeof(why));
}

static int
name_ok(const char *n, int port)
{
	char norm[BASTION_NAME_MAX + 1];

	if (bastion_name_norm(n, norm) < 0)
		return -1;
	return bastion_name_allowed(rules, nrules, norm, (uint16_t)port);
}

int
main(void)
{
	struct bastion_rl *rl;
	struct ipaddr a, b, c6, d6;

	rule("10.0.0.0/8:22");
	rule("*.home.arpa:22,443");
	rule("router.lan:*");
	rule("[fd00::/8]:22,8000-8099");
	rule("!10.1.0.0/16");
	rule("127.0.0.1:8080");

	is_int(addr_ok("10.2.3.4", 22, 0, 0), 1, "an address in an allowed network, on its port");
	is_int(addr_ok("10.2.3.4", 23, 0, 0), 0, "another port is refused");
	is_int(addr_ok("11.0.0.1", 22, 0, 0), 0, "an address outside every rule is refused");
	is_int(addr_ok("10.1.2.3", 22, 0, 0), 0, "a deny rule wins over an allow rule");
	is_int(addr_ok("10.1.2.3", 22, 1, 0), 0, "and over a name rule");
	is_int(addr_ok("fd12::1", 8050, 0, 0), 1, "an IPv6 network with a port range");
	is_int(addr_ok("fd12::1", 8100, 0, 0), 0, "past the range");
	is_int(addr_ok("192.168.1.5", 22, 1, 0), 1, "a name rule admits an ordinary address");
	is_int(addr_ok("127.0.0.1", 22, 1, 0), 0, "but not loopback");
	is_int(addr_ok("169.254.1.1", 22, 1, 0), 0, "nor link-local");
	is_int(addr_ok("::1", 22, 1, 0), 0, "nor IPv6 loopback");
	is_int(addr_ok("fe80::1", 22, 1, 0), 0, "nor IPv6 link-local");
	is_int(addr_ok("192.168.1.5", 22, 1, 1), 0, "nor the bastion's own address");
	is_int(addr_ok("127.0.0.1", 8080, 1, 0), 1, "unless an address rule admits it");
	is_int(addr_ok("127.0.0.1", 8080, 0, 0), 1, "as it does for the address itself");

	is_int(name_ok("nas.home.arpa", 443), 1, "a name under an allowed suffix");
	is_int(name_ok("NAS.Home.Arpa.", 22), 1, "in any case, with a trailing dot");
	is_int(name_ok("home.arpa", 22), 0, "the suffix itself is not below it");
	is_int(name_ok("evilhome.arpa", 22), 0, "a name that only ends in the same letters is not");
	is_int(name_ok("nas.home.arpa", 80), 0, "a port the suffix rule does not list");
	is_int(name_ok("router.lan", 65535), 1, "an exact name with every port");
	is_int(name_ok("x.router.lan", 22), 0, "an exact name is not a suffix");
	is_int(name_ok("bad name", 22), -1, "a destination that is not a host name");
	is_int(name_ok("a..b", 22), -1, "nor one with an empty label");

	rl = bastion_rl_new(3, 60000, 120000);
	ipaddr_parse("192.0.2.7", AF_UNSPEC, &a);
	ipaddr_parse("192.0.2.8", AF_UNSPEC, &b);
	ipaddr_parse("2001:db8:1:2::1", AF_UNSPEC, &c6);
	ipaddr_parse("2001:db8:1:2:ffff::9", AF_UNSPEC, &d6);
	is_int(bastion_rl_fail(rl, &a, 1000), 0, "first failure: no ban");
	is_int(bastion_rl_fail(rl, &a, 2000), 0, "second failure: no ban");
	bastion_rl_forgive(rl, &a);
	is_int(bastion_rl_fail(rl, &a, 3000), 0, "a forgiven failure does not count");
	is_int(bastion_rl_fail(rl, &a, 4000), 1, "the third within the window starts the ban");
	ok(bastion_rl_banned(rl, &a, 5000) == 119000, "banned for the ban's length");
	is_int(bastion_rl_banned(rl, &b, 5000), 0, "another address is not");
	is_int(bastion_rl_banned(rl, &a, 124000), 0, "the ban ends");
	is_int(bastion_rl_fail(rl, &b, 10000), 0, "failures ...");
	is_int(bastion_rl_fail(rl, &b, 20000), 0, "... spread ...");
	is_int(bastion_rl_fail(rl, &b, 90000), 0, "... beyond the window start over");
	is_int(bastion_rl_fail(rl, &c6, 1000), 0, "IPv6: one address of a /64 ...");
	is_int(bastion_rl_fail(rl, &d6, 1000), 0, "... and another ...");
	is_int(bastion_rl_fail(rl, &c6, 1000), 1, "... count together");
	ok(bastion_rl_banned(rl, &d6, 2000) > 0, "the whole /64 is banned");
	bastion_rl_free(rl);
	rl = bastion_rl_new(0, 60000, 60000);
	is_int(bastion_rl_fail(rl, &a, 1) + bastion_rl_fail(rl, &a, 2) + bastion_rl_fail(rl, &a, 3), 0,
	       "max 0: never a ban");
	bastion_rl_free(rl);
	return done_testing();
}
