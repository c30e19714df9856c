#include "seccomp.h"

#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH AUDIT_ARCH_AARCH64
#elif defined(__i386__)
#define ARCH AUDIT_ARCH_I386
#elif defined(__arm__)
#define ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define ARCH AUDIT_ARCH_RISCV64
#else
#error "seccomp: unknown architecture"
#endif

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define ARG0_LO offsetof(struct seccomp_data, args[0])
#else
#define ARG0_LO (offsetof(struct seccomp_data, args[0]) + 4)
#endif

/* Denied in every profile. */
static const int deny[] = {
#ifdef SYS_acct
	SYS_acct,
#endif
	SYS_add_key, SYS_keyctl, SYS_request_key,
	SYS_bpf,
	SYS_clock_adjtime, SYS_clock_settime, SYS_settimeofday, SYS_adjtimex,
#ifdef SYS_stime
	SYS_stime,
#endif
	SYS_init_module, SYS_finit_module, SYS_delete_module,
#ifdef SYS_create_module
	SYS_create_module, SYS_get_kernel_syms, SYS_query_module,
#endif
	SYS_kexec_load,
#ifdef SYS_kexec_file_load
	SYS_kexec_file_load,
#endif
#ifdef SYS_iopl
	SYS_iopl, SYS_ioperm,
#endif
	SYS_lookup_dcookie,
#ifdef SYS_nfsservctl
	SYS_nfsservctl,
#endif
	SYS_open_by_handle_at,
	SYS_perf_event_open,
	SYS_quotactl,
	SYS_swapon, SYS_swapoff,
#ifdef SYS__sysctl
	SYS__sysctl,
#endif
#ifdef SYS_sysfs
	SYS_sysfs,
#endif
#ifdef SYS_uselib
	SYS_uselib,
#endif
#ifdef SYS_ustat
	SYS_ustat,
#endif
	SYS_userfaultfd,
#ifdef SYS_vm86
	SYS_vm86, SYS_vm86old,
#endif
	SYS_fanotify_init,
	SYS_name_to_handle_at,
	SYS_syslog,
};

/* Denied to plain guests only. */
static const int deny_plain[] = {
	SYS_fsopen, SYS_fsconfig, SYS_fsmount, SYS_fspick, SYS_open_tree, SYS_move_mount,
	SYS_mount_setattr,
	SYS_pivot_root,
};

#define MAXPROG 128

static int
build(int profile, struct sock_filter *f)
{
	int n = 0;
	size_t i;

#define S(code, k) (f[n++] = (struct sock_filter)BPF_STMT((code), (k)))
#define J(code, k, jt, jf) (f[n++] = (struct sock_filter)BPF_JUMP((code), (k), (jt), (jf)))
	S(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
	J(BPF_JMP | BPF_JEQ | BPF_K, ARCH, 1, 0);
	S(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	S(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* x32 system calls share the architecture, with bit 30 set */
	J(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
	S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
#endif
	for (i = 0; i < sizeof(deny) / sizeof(deny[0]); i++) {
		J(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny[i], 0, 1);
		S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	}
	if (profile == SECCOMP_LAB_DEFAULT) {
		for (i = 0; i < sizeof(deny_plain) / sizeof(deny_plain[0]); i++) {
			J(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)deny_plain[i], 0, 1);
			S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
		}
		/* clone3 passes its flags in memory, out of a filter's reach:
		 * ENOSYS makes libc fall back to clone, which is checked. */
		J(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1);
		S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS);
		/* No new user namespaces: they open kernel surface a root
		 * guest without CAP_SYS_ADMIN would not otherwise reach. */
		J(BPF_JMP | BPF_JEQ | BPF_K, SYS_unshare, 1, 0);
		J(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 3);
		S(BPF_LD | BPF_W | BPF_ABS, ARG0_LO);
		J(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1);
		S(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM);
	}
	S(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
#undef S
#undef J
	return n;
}

int
seccomp_program_len(int profile)
{
	struct sock_filter f[MAXPROG];

	return build(profile, f);
}

int
seccomp_install(int profile)
{
	struct sock_filter f[MAXPROG];
	struct sock_fprog prog;

	prog.len = (unsigned short)build(profile, f);
	prog.filter = f;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0);
}
