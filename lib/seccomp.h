/*
 * The default seccomp filter of lab's instances: a deny list, like the
 * ones Docker and systemd-nspawn ship, of the system calls a guest has no
 * business making (module and kexec loading, swap, clocks, keyrings, bpf,
 * perf, open_by_handle_at, ...): they fail with EPERM, everything else is
 * allowed. Calls of another architecture (and x32's) are refused.
 */
#ifndef LAB_SECCOMP_H
#define LAB_SECCOMP_H

#define SECCOMP_LAB_DEFAULT 0
/* A systemd guest: its init mounts, and its services make user and mount
 * namespaces of their own (PrivateUsers=, the new mount API). */
#define SECCOMP_LAB_SYSTEMD 1

/* Install the filter on the calling thread (inherited by its children and
 * kept across exec). Needs no_new_privs or CAP_SYS_ADMIN. */
int seccomp_install(int profile);
/* The number of instructions of a profile's program (for tests). */
int seccomp_program_len(int profile);

#endif
