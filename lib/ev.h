/*
 * One event loop for every daemon: epoll, with signals as a signalfd,
 * timers as timerfds and children as pidfds. Callbacks run on the loop's
 * thread; a handle may be deleted from inside any callback, its own
 * included.
 */
#ifndef LAB_EV_H
#define LAB_EV_H

#include <stdint.h>
#include <sys/epoll.h>
#include <sys/types.h>

struct ev;
struct ev_handle;

/* events: EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP as received. */
typedef void ev_io_cb(struct ev_handle *h, int fd, uint32_t events, void *arg);
/* expirations: how many periods passed since the last call (>= 1). */
typedef void ev_timer_cb(struct ev_handle *h, uint64_t expirations, void *arg);
typedef void ev_signal_cb(struct ev_handle *h, int signo, void *arg);
/* status: as from waitpid (WIFEXITED, WEXITSTATUS, ...). The child is reaped. */
typedef void ev_child_cb(struct ev_handle *h, pid_t pid, int status, void *arg);

struct ev *ev_new(void);
void ev_free(struct ev *ev);	/* closes what the loop opened; not caller's io fds */

/* Run until ev_break() or until no handle is left. 0, or -1 with errno. */
int ev_run(struct ev *ev);
void ev_break(struct ev *ev);
/* Monotonic time in milliseconds, read once per loop iteration. */
uint64_t ev_now_ms(struct ev *ev);
/* The monotonic clock, for code without a loop. */
uint64_t mono_ms(void);
uint64_t mono_us(void);

struct ev_handle *ev_io_add(struct ev *ev, int fd, uint32_t events, ev_io_cb *cb, void *arg);
int ev_io_set(struct ev_handle *h, uint32_t events);

/* first_ms from now, then every interval_ms (0: once). first_ms 0 fires at once. */
struct ev_handle *ev_timer_add(struct ev *ev, uint64_t first_ms, uint64_t interval_ms,
			       ev_timer_cb *cb, void *arg);
int ev_timer_set(struct ev_handle *h, uint64_t first_ms, uint64_t interval_ms);

/* Blocks signo for the process and delivers it through the loop. One
 * handler per signal. */
struct ev_handle *ev_signal_add(struct ev *ev, int signo, ev_signal_cb *cb, void *arg);

/* Watch a child of this process through a pidfd. */
struct ev_handle *ev_child_add(struct ev *ev, pid_t pid, ev_child_cb *cb, void *arg);

/* Stop watching and free (fds given to ev_io_add are not closed). */
void ev_del(struct ev_handle *h);

/* Keep the loop from ending while only this handle is left. Counts as
 * nothing for the "no handle left" check (e.g. the SIGHUP handler). */
void ev_unref(struct ev_handle *h);

#endif
