/*
 * lab vm's instance model: images, instances and their configuration, the
 * copy-on-write store they live in, and the plumbing that starts one
 * (network, DNS, cgroup, runtime). An instance has a kind: "container"
 * (lab's own runtime, lib/container.h) today; a qemu VM is another kind of
 * the same instance, with the same store, network, names and lifecycle.
 *
 * On disk (ROOT = $LAB_VM_ROOT or /var/lib/lab):
 *	ROOT/images/NAME/rootfs        read-only subvolume (btrfs) or directory
 *	ROOT/images/NAME/image.json    source, created, backend
 *	ROOT/vm/NAME/config.json       what `vm new` was given
 *	ROOT/vm/NAME/rootfs            snapshot or reflink copy; or, on overlayfs,
 *	ROOT/vm/NAME/upper, work       the instance's layer (rootfs: mount point)
 *	ROOT/vm/NAME/console.log       console output, kept across restarts
 * At run time (RUN = $LAB_RUN_DIR or /run/lab):
 *	RUN/vm/NAME/state              supervisor and init pids, addresses, ...
 *	RUN/vm/NAME/notify             sd_notify socket of a systemd guest
 *	RUN/ip/                        lab net's address leases
 */
#ifndef LAB_VM_H
#define LAB_VM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "ipaddr.h"

#define VM_ROOT "/var/lib/lab"
#define VM_RUN "/run/lab"
#define VM_BRIDGE "lab0"
#define VM_DOMAIN "home.arpa"

enum vm_backend { VM_BTRFS, VM_REFLINK, VM_OVERLAY };

struct vm_store {
	char root[1024];	/* ROOT */
	char run[1024];		/* RUN */
	enum vm_backend backend;
	char err[512];		/* one line, for the user */
};

/* Set s->err (printf-style) and errno to e; returns -1. */
int vm_fail(struct vm_store *s, int e, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Paths from the environment; the backend detected on ROOT (or forced by
 * $LAB_VM_BACKEND = btrfs | reflink | overlay). Creates ROOT/images and
 * ROOT/vm when create is set. */
int vm_store_open(struct vm_store *s, int create);
const char *vm_backend_name(enum vm_backend b);

/* DNS labels for instances: [a-z0-9-], 1..63, no '-' at either end. */
int vm_valid_name(const char *name);
/* Image names: letters, digits, '.', '_', '-', 1..63, not starting with '.'. */
int vm_valid_image(const char *name);

/* ---- images ---- */

struct vm_image {
	char name[64];
	char source[1024];
	int64_t created;
	enum vm_backend backend;
	long long bytes;
};

/* Import a directory or a tar / tar.gz archive. Built under a temporary
 * name and renamed into place: a failed import leaves nothing. */
int vm_image_import(struct vm_store *s, const char *name, const char *source);
int vm_image_get(struct vm_store *s, const char *name, struct vm_image *out);
int vm_image_list(struct vm_store *s, struct vm_image **out, size_t *n);
/* Refused (EBUSY) while an instance uses it. */
int vm_image_remove(struct vm_store *s, const char *name);
void vm_image_rootfs(const struct vm_store *s, const char *name, char *out, size_t size);

/* ---- instances ---- */

#define VM_MAX_LIST 64

struct vm_bind {
	char src[512];
	char dst[512];
	int ro;
};

enum vm_net { VM_NET_BRIDGE, VM_NET_MACVLAN, VM_NET_NONE };

struct vm_config {
	char name[64];
	char kind[16];			/* "container" */
	char image[64];
	enum vm_backend backend;
	int64_t created;
	char *argv[VM_MAX_LIST];	/* the command; default: the image's init */
	size_t argc;
	char *env[VM_MAX_LIST];		/* K=V */
	size_t nenv;
	uint32_t cpu_millis;		/* 0: no limit */
	uint64_t memory;
	uint64_t pids;
	enum vm_net net;
	char link[16];			/* bridge name, or macvlan parent */
	char ip[64];			/* "auto" or ADDR/PLEN */
	char gateway[64];		/* macvlan with a static address */
	int readonly;
	struct vm_bind binds[16];
	size_t nbinds;
	char *tmpfs[16];
	size_t ntmpfs;
	int gpu;
	int pinned;
	int userns;
	uid_t id_base;
	int systemd;			/* the init is systemd: notify, SIGRTMIN+3 */
	int stop_timeout;		/* seconds */
	char *caps_add[16];
	size_t ncaps_add;
	/* set by lab */
	struct ipaddr v4, v6;		/* family 0: none */
	int ephemeral;			/* run --rm: no directory under ROOT */
};

void vm_config_init(struct vm_config *c);
void vm_config_free(struct vm_config *c);
int vm_config_load(struct vm_store *s, const char *name, struct vm_config *c);
int vm_config_save(struct vm_store *s, const struct vm_config *c);
/* ENOENT when there is no such instance. */
int vm_exists(struct vm_store *s, const char *name);
/* Names of all instances (sorted); free each and the array. */
int vm_list(struct vm_store *s, char ***names, size_t *n);

void vm_dir(const struct vm_store *s, const char *name, char *out, size_t size);
void vm_run_dir(const struct vm_store *s, const char *name, char *out, size_t size);
/* The instance's root fork: snapshot, reflink copy, or overlay layer. */
int vm_root_create(struct vm_store *s, const struct vm_config *c);
/* Where the root is while it runs; for overlay also the layers. */
void vm_root_paths(const struct vm_store *s, const struct vm_config *c, char *root,
		   char *lower, char *upper, char *work, size_t size);
/* Remove the instance's directory and root (absent is fine). */
int vm_remove_dir(struct vm_store *s, const char *name);
/* Run fn on the instance's root as a tree (for overlay: mounted in a
 * private mount namespace for the call). */
int vm_with_root(struct vm_store *s, const struct vm_config *c, int (*fn)(int rootfd, void *arg),
		 void *arg);

/* The identity a new instance gets: hostname, /etc/hosts, root's
 * authorized_keys, a systemd-networkd file for eth0 when the guest runs
 * systemd. For vm_with_root. */
struct vm_netplan;
struct vm_identity {
	const struct vm_config *c;
	const struct vm_netplan *net;	/* NULL: no network */
	const char *ssh_key;		/* contents, or NULL */
};
int vm_identity_write(int rootfd, void *identity);

/* What a command is in an image: whether it exists, and whether it
 * resolves (through the image's symlinks) to systemd. */
struct vm_probe {
	const char *cmd;
	int exists;
	int systemd;
};
int vm_probe_cmd(int rootfd, struct vm_probe *p);

/* ---- the running state ---- */

struct vm_state {
	pid_t supervisor;
	pid_t init;
	uint64_t init_start;	/* start time of init (clock ticks), against pid reuse */
	int64_t started;	/* unix time */
	char veth[16];
	char link[16];		/* the bridge (its lease is there) */
	struct ipaddr v4, v6;
	char fqdn[256];		/* registered in DNS, "" if not */
	uint64_t caps;
	int seccomp;
	int no_new_privs;
	int userns;
	int systemd;
	char cgroup[128];
};

int vm_state_save(struct vm_store *s, const char *name, const struct vm_state *st);
int vm_state_load(struct vm_store *s, const char *name, struct vm_state *st);
/* Whether the instance's init is alive (state present and the pid's start
 * time still matches). */
int vm_running(struct vm_store *s, const char *name, struct vm_state *st);
/* Start time of a process in clock ticks (/proc/PID/stat), 0 if gone. */
uint64_t vm_proc_start(pid_t pid);

/* ---- network and names (lib/vm_net.c) ---- */

struct vm_netplan {
	enum vm_net net;
	char link[16];		/* bridge / macvlan parent */
	char veth[16];		/* host end */
	struct ipaddr v4, v6;	/* the guest's, with prefix length; family 0: none */
	struct ipaddr gw4, gw6;
	char resolv[1024];	/* /etc/resolv.conf for the guest */
	char fqdn[256];
	char search[256];
};

/* Decide addresses (taking a lease), make the bridge, its addresses and
 * firewall membership if missing. */
int vm_net_prepare(struct vm_store *s, struct vm_config *c, struct vm_netplan *p);
/* Plug the instance (pid) in: veth or macvlan into its namespace, inside
 * addresses and routes. Nothing is left of a failed attempt. */
int vm_net_attach(struct vm_store *s, const struct vm_netplan *p, pid_t pid);
/* Remove the host end if it is still there. */
void vm_net_detach(const struct vm_netplan *p);
/* Drop the instance's lease (rm). */
int vm_net_release(struct vm_store *s, const struct vm_config *c);
/* The veth name of an instance. */
void vm_net_veth_name(const char *name, char out[16]);

/* Register NAME.LINK.HOST.DOMAIN (A, AAAA) with the local lab dns, or
 * remove it. 0 when done, 1 when there is no lab dns to talk to (no key,
 * nothing listening), -1 when it refused (s->err). */
int vm_dns_register(struct vm_store *s, const struct vm_netplan *p);
int vm_dns_unregister(struct vm_store *s, const char *fqdn);

/* ---- the supervisor (lib/vm_sup.c) ---- */

/* systemd's stop request: SIGRTMIN+3 as glibc, and so systemd, counts */
#define VM_SIG_SYSTEMD_HALT 37
#define VM_READY_TIMEOUT_S 90

/* Run instance NAME until its init exits; "ok" or "error: ..." goes to
 * report_fd once it is ready or has failed. Returns an exit code. */
int vm_supervise(struct vm_store *s, const char *name, int report_fd);

#endif
