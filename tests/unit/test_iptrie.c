/* The longest-prefix trie against a linear scan of the same prefixes:
 * random IPv4 and IPv6 prefixes (many nested), random lookups, and the
 * edges (/0, host routes, an equal prefix replaced, host bits ignored). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ipaddr.h"
#include "iptrie.h"
#include "tap.h"

static uint32_t rs = 12345;

static uint32_t
rnd(void)
{
	rs ^= rs << 13;
	rs ^= rs >> 17;
	rs ^= rs << 5;
	return rs;
}

static void
random_addr(struct ipaddr *a, int fam)
{
	int i;

	memset(a, 0, sizeof(*a));
	a->family = fam;
	for (i = 0; i < 16; i++)
		a->a[i] = (uint8_t)rnd();
	/* crowd them into a few top-level prefixes so that they nest */
	a->a[0] = (uint8_t)(10 + rnd() % 3);
	a->a[1] = (uint8_t)(rnd() % 4);
	a->plen = fam == AF_INET ? 32 : 128;
}

#define N 600

int
main(void)
{
	static struct ipaddr pre[N];
	struct iptrie t;
	int i, j, bad = 0;

	iptrie_init(&t);
	for (i = 0; i < N; i++) {
		int fam = i % 2 ? AF_INET6 : AF_INET, max = fam == AF_INET ? 32 : 128;

		random_addr(&pre[i], fam);
		pre[i].plen = (int)(rnd() % (unsigned)(max + 1));
		if (iptrie_insert(&t, &pre[i], (void *)(uintptr_t)(i + 1)) < 0)
			bad++;
	}
	is_int(bad, 0, "%d random prefixes inserted", N);
	for (j = 0; j < 20000; j++) {
		struct ipaddr a;
		int best = -1, bestlen = -1;
		void *got;

		random_addr(&a, j % 2 ? AF_INET6 : AF_INET);
		if (j % 3 == 0) {	/* inside a known prefix, often */
			int k = (int)(rnd() % N);

			if (pre[k].family == a.family)
				memcpy(a.a, pre[k].a, (size_t)(pre[k].plen + 7) / 8);
		}
		for (i = 0; i < N; i++)
			if (pre[i].family == a.family && ipaddr_contains(&pre[i], &a) && pre[i].plen >= bestlen) {
				best = i;	/* a later equal prefix replaced the earlier */
				bestlen = pre[i].plen;
			}
		got = iptrie_lookup(&t, &a);
		if ((best < 0 && got) || (best >= 0 && got != (void *)(uintptr_t)(best + 1)))
			bad++;
	}
	is_int(bad, 0, "20000 random lookups agree with a linear scan of %d prefixes", N);
	iptrie_free(&t);

	{
		struct ipaddr p, a;

		iptrie_init(&t);
		ok(iptrie_lookup(&t, (ipaddr_parse("10.0.0.1", AF_UNSPEC, &a), &a)) == NULL, "empty: nothing");
		ipaddr_parse_prefix("0.0.0.0/0", AF_UNSPEC, &p);
		iptrie_insert(&t, &p, (void *)1);
		ipaddr_parse_prefix("10.1.2.99/24", AF_UNSPEC, &p);	/* host bits ignored */
		iptrie_insert(&t, &p, (void *)2);
		ipaddr_parse_prefix("10.1.2.7/32", AF_UNSPEC, &p);
		iptrie_insert(&t, &p, (void *)3);
		ipaddr_parse("10.1.2.7", AF_UNSPEC, &a);
		ok(iptrie_lookup(&t, &a) == (void *)3, "a host route wins");
		ipaddr_parse("10.1.2.8", AF_UNSPEC, &a);
		ok(iptrie_lookup(&t, &a) == (void *)2, "then the /24 (inserted with host bits)");
		ipaddr_parse("192.0.2.1", AF_UNSPEC, &a);
		ok(iptrie_lookup(&t, &a) == (void *)1, "then the default route");
		ipaddr_parse("2001:db8::1", AF_UNSPEC, &a);
		ok(iptrie_lookup(&t, &a) == NULL, "IPv4's default route is not IPv6's");
		ipaddr_parse_prefix("10.1.2.0/24", AF_UNSPEC, &p);
		iptrie_insert(&t, &p, (void *)4);
		ipaddr_parse("10.1.2.8", AF_UNSPEC, &a);
		ok(iptrie_lookup(&t, &a) == (void *)4, "an equal prefix replaces the value");
		p.plen = 33;
		ok(iptrie_insert(&t, &p, (void *)5) < 0, "an IPv4 prefix longer than 32 is refused");
		iptrie_free(&t);
	}

	return done_testing();
}
