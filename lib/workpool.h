/*
 * A parallel for-loop over a few threads kept for the process's life:
 * workpool_run calls fn(arg, i) for every i below n, on the pool's threads
 * and the caller's, and returns when all are done. What lab vpn encrypts
 * and decrypts per batch of packets is spread this way, one thread per
 * core. Calls of workpool_run come from one thread at a time.
 */
#ifndef LAB_WORKPOOL_H
#define LAB_WORKPOOL_H

struct workpool;

/* threads besides the caller's; 0 gives a pool that runs everything in
 * the caller. NULL with errno when a thread cannot start; a NULL pool
 * runs loops in the caller too. */
struct workpool *workpool_new(int threads);
int workpool_threads(const struct workpool *wp);
void workpool_run(struct workpool *wp, void (*fn)(void *arg, int i), void *arg, int n);
void workpool_free(struct workpool *wp);

#endif
