/*
 * Starting an instance (network, cgroup, console, runtime, readiness)
 * and cleaning up after it, for the supervisor and for `vm run --rm`.
 */
#ifndef LAB_VM_RUN_H
#define LAB_VM_RUN_H

#include <stddef.h>
#include <sys/types.h>

#include "container.h"
#include "vm.h"

struct vm_start_opts {
	int console;		/* a pty as the guest's console (master in in->console) */
	int stdio[3];		/* without console: the guest's fds 0, 1, 2 */
	int die_with_parent;
	char *const *argv;	/* NULL: the instance's command */
	const char *term;	/* "TERM=..." for the guest, or NULL */
	const char *workdir;
};

struct vm_inst {
	struct vm_config *c;
	struct vm_netplan net;
	struct ct_proc proc;
	char cgroup[128];
	int console;		/* pty master, or -1 */
	int notify;		/* sd_notify socket, or -1 */
	struct vm_state st;
	int have_net, have_cgroup;
};

void vm_inst_init(struct vm_inst *in);
/* Everything up to the exec of the guest's command (its readiness for a
 * systemd guest is the caller's to wait for). On failure nothing of the
 * attempt is left (s->err says why). */
int vm_instance_start(struct vm_store *s, struct vm_config *c, const struct vm_start_opts *o,
		      struct vm_inst *in);
/* Its name in lab dns: 0 registered, 1 no lab dns here, -1 refused. */
int vm_instance_register(struct vm_store *s, struct vm_inst *in);
/* After the guest's init is gone: name, host link, cgroup, run-time files. */
void vm_instance_cleanup(struct vm_store *s, struct vm_inst *in);
/* Character devices for --gpu: nvidia*, nvidia-caps/ and dri/ under /dev
 * ($LAB_GPU_DEV_DIR instead of /dev, for tests). -1 when there are none. */
int vm_gpu_devices(char ***out, size_t *n);
const char *vm_gpu_dev_dir(void);

/* Copy between this process's terminal (raw while it lasts) and a pty
 * master until the other side closes; returns child's wait status. */
int vm_pty_relay(int master, pid_t child);

#endif
