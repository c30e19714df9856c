/* A parallel for-loop over kept threads (lib/workpool.h). */
#include "workpool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct workpool {
	pthread_mutex_t mu;
	pthread_cond_t go, done;
	pthread_t *t;
	int nt;
	/* the current loop, set under mu */
	void (*fn)(void *, int);
	void *arg;
	int n;
	unsigned gen;
	int next, finished;	/* taken with atomics */
	int busy;		/* threads inside the current loop */
	int quit;
};

/* Take indices until none is left. */
static void
pull(struct workpool *wp)
{
	int i;

	while ((i = __atomic_fetch_add(&wp->next, 1, __ATOMIC_ACQ_REL)) < wp->n) {
		wp->fn(wp->arg, i);
		if (__atomic_add_fetch(&wp->finished, 1, __ATOMIC_ACQ_REL) == wp->n) {
			pthread_mutex_lock(&wp->mu);
			pthread_cond_signal(&wp->done);
			pthread_mutex_unlock(&wp->mu);
		}
	}
}

static void *
worker(void *p)
{
	struct workpool *wp = p;
	unsigned seen = 0;

	pthread_mutex_lock(&wp->mu);
	for (;;) {
		while (!wp->quit && wp->gen == seen)
			pthread_cond_wait(&wp->go, &wp->mu);
		if (wp->quit)
			break;
		seen = wp->gen;
		wp->busy++;	/* joined under the lock: the loop cannot change under us */
		pthread_mutex_unlock(&wp->mu);
		pull(wp);
		pthread_mutex_lock(&wp->mu);
		if (--wp->busy == 0)
			pthread_cond_signal(&wp->done);
	}
	pthread_mutex_unlock(&wp->mu);
	return NULL;
}

struct workpool *
workpool_new(int threads)
{
	struct workpool *wp = calloc(1, sizeof(*wp));
	int i, e;

	if (!wp)
		return NULL;
	pthread_mutex_init(&wp->mu, NULL);
	pthread_cond_init(&wp->go, NULL);
	pthread_cond_init(&wp->done, NULL);
	if (threads > 0 && !(wp->t = calloc((size_t)threads, sizeof(*wp->t)))) {
		free(wp);
		return NULL;
	}
	for (i = 0; i < threads; i++) {
		if ((e = pthread_create(&wp->t[i], NULL, worker, wp)) != 0) {
			workpool_free(wp);
			errno = e;
			return NULL;
		}
		wp->nt++;
	}
	return wp;
}

int
workpool_threads(const struct workpool *wp)
{
	return wp->nt;
}

void
workpool_run(struct workpool *wp, void (*fn)(void *arg, int i), void *arg, int n)
{
	int i;

	if (n <= 0)
		return;
	if (!wp || wp->nt == 0 || n == 1) {
		for (i = 0; i < n; i++)
			fn(arg, i);
		return;
	}
	pthread_mutex_lock(&wp->mu);
	wp->fn = fn;
	wp->arg = arg;
	wp->n = n;
	__atomic_store_n(&wp->finished, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&wp->next, 0, __ATOMIC_RELEASE);
	wp->gen++;
	pthread_cond_broadcast(&wp->go);
	pthread_mutex_unlock(&wp->mu);
	pull(wp);
	/* every index done, and no thread still inside this loop (one that
	 * looked for more would otherwise take an index of the next) */
	pthread_mutex_lock(&wp->mu);
	while (__atomic_load_n(&wp->finished, __ATOMIC_ACQUIRE) < n || wp->busy)
		pthread_cond_wait(&wp->done, &wp->mu);
	pthread_mutex_unlock(&wp->mu);
}

void
workpool_free(struct workpool *wp)
{
	int i;

	if (!wp)
		return;
	pthread_mutex_lock(&wp->mu);
	wp->quit = 1;
	pthread_cond_broadcast(&wp->go);
	pthread_mutex_unlock(&wp->mu);
	for (i = 0; i < wp->nt; i++)
		pthread_join(wp->t[i], NULL);
	free(wp->t);
	pthread_mutex_destroy(&wp->mu);
	pthread_cond_destroy(&wp->go);
	pthread_cond_destroy(&wp->done);
	free(wp);
}
