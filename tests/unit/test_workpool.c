/* The parallel for-loop: over thousands of loops of every size, each index
 * runs exactly once and the loop returns only when all have; a pool of no
 * threads runs everything in the caller; threads stop on free. */
#include <pthread.h>
#include <stdint.h>
#include <unistd.h>
#include <string.h>

#include "tap.h"
#include "workpool.h"

static int hits[512];

static void
hit(void *arg, int i)
{
	(void)arg;
	__atomic_add_fetch(&hits[i], 1, __ATOMIC_RELAXED);
}

static pthread_t who[64];

static void
slow(void *arg, int i)
{
	(void)arg;
	usleep(2000);
	who[i] = pthread_self();
}

static int
loops(struct workpool *wp)
{
	int round, i, bad = 0;

	for (round = 0; round < 3000; round++) {
		int n = round % 200;

		memset(hits, 0, sizeof(hits));
		workpool_run(wp, hit, NULL, n);
		for (i = 0; i < 512; i++)
			if (hits[i] != (i < n))
				bad++;
	}
	return bad;
}

int
main(void)
{
	struct workpool *wp = workpool_new(3), *none = workpool_new(0);

	ok(wp && none, "pools of 3 and of no threads");
	is_int(workpool_threads(wp), 3, "three threads");
	is_int(loops(wp), 0, "3000 loops of 0..199 indices: each index once, all done at return");
	is_int(loops(none), 0, "the same in the caller alone");
	{
		int i, j, distinct = 0;

		workpool_run(wp, slow, NULL, 64);
		for (i = 0; i < 64; i++) {
			for (j = 0; j < i && !pthread_equal(who[i], who[j]); j++)
				;
			distinct += j == i;
		}
		ok(distinct > 1, "slow work is shared: %d threads took part", distinct);
	}
	workpool_free(wp);
	workpool_free(none);
	ok(1, "freed: the threads joined");
	return done_testing();
}
