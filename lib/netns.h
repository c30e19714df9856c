/*
 * Network namespaces by name, compatible with `ip netns`: a namespace is
 * a bind mount of /proc/PID/ns/net on /run/netns/NAME, so `ip netns exec`
 * and `lab net ns exec` see the same ones.
 */
#ifndef LAB_NETNS_H
#define LAB_NETNS_H

#include <stddef.h>

#define NETNS_RUN_DIR "/run/netns"

/* Letters, digits, '.', '_', '-'; not "." or ".."; under 64 bytes. */
int netns_valid_name(const char *name);
/* fd of a namespace: NAME (in /run/netns) or a path with a '/'. */
int netns_open(const char *name);
int netns_add(const char *name);	/* EEXIST if it exists; nothing left on failure */
int netns_del(const char *name);	/* ENOENT if it does not */
/* Move this thread into the namespace (network only). */
int netns_enter(const char *name);
/* For exec: enter, then a mount namespace of our own with /sys showing the
 * namespace's devices and /etc/netns/NAME/<file> bound over /etc/<file>. */
int netns_exec_prepare(const char *name);
/* Sorted names; free with netns_list_free. */
int netns_list(char ***names, size_t *n);
void netns_list_free(char **names, size_t n);

#endif
