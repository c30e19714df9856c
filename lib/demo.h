/*
 * lab demo: a whole home cloud on one machine, from the demo inventory
 * built into lab (embedded-layers/demo/), and the end-to-end test.
 *
 * Three machines (router, alpha, beta) are network namespaces named
 * DEMO_NS_PREFIX + name, each with an sshd (OpenSSH) in a mount namespace
 * of its own where the machine's root folder provides /usr/local, /var/lib,
 * /run and /root. lab deploy reaches them over SSH; everything else the
 * demo does inside a machine runs in that machine's namespaces, as a user
 * logged in there would. Everything lives under one work folder (default
 * DEMO_DIR) and in those namespaces; demo_down removes all of it.
 */
#ifndef LAB_DEMO_H
#define LAB_DEMO_H

#include <signal.h>
#include <stdint.h>

#include "buf.h"

#define DEMO_DIR "/var/tmp/lab-demo"
#define DEMO_NS_PREFIX "labdemo-"
#define DEMO_MARK ".lab-demo" /* in the work folder: what --down may remove */
#define DEMO_STEPS 10
#define DEMO_KV 14

struct demo_kv {
	char key[24];
	char val[600];
	int num; /* val is a number (JSON without quotes) */
};

struct demo_step {
	const char *name; /* machines, deploy, dns, ... */
	const char *title;
	const char *where; /* where its pieces live (DIR: the work folder) */
	int ran, ok;
	uint64_t ms;
	struct demo_kv kv[DEMO_KV]; /* the evidence */
	int nkv;
	char err[600];
};

struct demo {
	const char *dir;	     /* the work folder */
	const char *self;	     /* this lab binary */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM */
	/* called when a step starts (ran == 0) and when it ends */
	void (*progress)(struct demo *d, const struct demo_step *s);
	struct demo_step step[DEMO_STEPS];
	int nstep;
};

/* Run the steps in order; stop at the first failure or on *stop.
 * 0 when every step passed, -1 otherwise (the failed step has err). */
int demo_run(struct demo *d);
/* Kill the demo's processes (the sshds and everything in the machines'
 * namespaces, the guests), delete the namespaces and the work folder.
 * What it removed goes to log, one line each. 0, or -1 when something
 * could not be removed (named in log). */
int demo_down(const char *dir, struct buf *log);
/* The pid of a machine's sshd when it runs (its namespaces are the
 * machine's), else 0. */
pid_t demo_machine_pid(const char *dir, const char *machine);
/* Signal the child the demo waits for (from a signal handler). */
void demo_interrupt(void);

#endif
