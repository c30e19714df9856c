/*
 * lab demo: the steps, each checked against its real outcome, and the
 * cleanup. See demo.h for the shape.
 *
 *   router  ra 10.70.1.1 ---- eth0 10.70.1.2  alpha  lab0 192.168.0.1 -- web .2
 *           rb 10.70.2.1 ---- eth0 10.70.2.2  beta
 *           wan0 198.51.100.1 -- eth0 198.51.100.2  wan (an uplink's side, no machine)
 *   alpha wgdemo 10.99.0.1 ==== wgdemo 10.99.0.2 beta (lab vpn, step 7)
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "demo.h"
#include "dns.h"
#include "dns_client.h"
#include "embedded.h"
#include "ev.h"
#include "fs.h"
#include "json.h"
#include "log.h"
#include "netns.h"
#include "spawn.h"

static const char *const machines[] = {"router", "alpha", "beta"};
static const char *const addrs[] = {"10.70.1.1", "10.70.1.2", "10.70.2.2"};
#define NM 3
#define WEB_PAGE "web on alpha: version 1\n"
#define WEB_PAGE2 "web on alpha: changed after the snapshot\n"
/* web's pid 1: httpd, and a shell that ends (and with it the guest) at
 * SIGTERM from lab vm stop, which busybox init would take seconds over */
#define WEB_CMD "/bin/sh -c 'trap \"exit 0\" TERM; httpd -f -p 80 -h /www & wait'"

static volatile pid_t child;

void
demo_interrupt(void)
{
	pid_t p = child;

	if (p > 0)
		kill(p, SIGTERM);
}

static void
sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static void kv(struct demo_step *s, const char *key, int num, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void
kv(struct demo_step *s, const char *key, int num, const char *fmt, ...)
{
	va_list ap;
	struct demo_kv *k;

	if (s->nkv >= DEMO_KV)
		return;
	k = &s->kv[s->nkv++];
	str_copy(k->key, key, sizeof(k->key));
	k->num = num;
	va_start(ap, fmt);
	vsnprintf(k->val, sizeof(k->val), fmt, ap);
	va_end(ap);
}

static int sfail(struct demo_step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int
sfail(struct demo_step *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->err, sizeof(s->err), fmt, ap);
	va_end(ap);
	return -1;
}

/* The last line of a command's output, for error messages. */
static const char *
last_line(struct buf *b)
{
	char *o = (char *)buf_cstr(b), *l;

	while (b->len && (o[b->len - 1] == '\n' || o[b->len - 1] == ' '))
		o[--b->len] = '\0';
	l = strrchr(o, '\n');
	return l ? l + 1 : o;
}

/* ---- running things inside a machine ---- */

static char *const clean_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C",
    NULL};

pid_t
demo_machine_pid(const char *dir, const char *machine)
{
	char p[600], ns[300];
	struct buf b = BUF_INIT;
	struct stat a, n;
	pid_t pid = 0;

	snprintf(p, sizeof(p), "%s/%s/sshd.pid", dir, machine);
	if (fs_read_file(p, &b, 32) == 0)
		pid = (pid_t)atoi(buf_cstr(&b));
	buf_free(&b);
	if (pid <= 0)
		return 0;
	/* the process must still be that machine's: in its network namespace */
	snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
	snprintf(ns, sizeof(ns), NETNS_RUN_DIR "/" DEMO_NS_PREFIX "%s", machine);
	if (stat(p, &a) < 0 || stat(ns, &n) < 0 || a.st_ino != n.st_ino || a.st_dev != n.st_dev)
		return 0;
	return pid;
}

/* Enter a machine (its network namespace, and with mntpid its mount
 * namespace too); in a child that is about to exec or exit. */
static int
enter(const char *machine, pid_t mntpid)
{
	char p[300];
	int nfd, mfd = -1;

	snprintf(p, sizeof(p), DEMO_NS_PREFIX "%s", machine);
	if ((nfd = netns_open(p)) < 0)
		return -1;
	if (mntpid > 0) {
		snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)mntpid);
		if ((mfd = open(p, O_RDONLY | O_CLOEXEC)) < 0)
			return -1;
	}
	if (setns(nfd, CLONE_NEWNET) < 0)
		return -1;
	if (mfd >= 0 && setns(mfd, CLONE_NEWNS) < 0)
		return -1;
	close(nfd);
	if (mfd >= 0)
		close(mfd);
	return chdir("/");
}

/*
 * The one way the demo runs something: a child that execs argv (or calls
 * fn, when argv is NULL) inside a machine's network namespace, and with
 * mp its mount namespace too (where its root folder is /usr/local,
 * /var/lib, /run), or on the host when machine is NULL; its stdout and
 * stderr go into out. The exit code (128 + a signal), or -1.
 */
static int
run(const char *machine, pid_t mp, char *const argv[], int (*fn)(void *arg, int fd), void *arg,
    struct buf *out)
{
	pid_t pid;
	int pfd[2], st = -1;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		if (null >= 0)
			dup2(null, 0);
		dup2(pfd[1], 1);
		dup2(pfd[1], 2);
		if (machine && enter(machine, mp) < 0) {
			dprintf(2, "entering %s: %s", machine, strerror(errno));
			_exit(126);
		}
		if (!argv)
			_exit(fn(arg, 1));
		if (machine)
			execve(argv[0], argv, clean_env); /* as a login there would */
		else
			execvp(argv[0], argv);
		dprintf(2, "%s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	child = pid;
	close(pfd[1]);
	fs_read_fd(pfd[0], out, 1 << 22);
	close(pfd[0]);
	if (spawn_wait(pid, &st) < 0)
		st = -1;
	child = 0;
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* argv in a machine; mnt: in its mount namespace as well */
static int
mrun(const char *dir, const char *machine, int mnt, char *const argv[], struct buf *out)
{
	pid_t mp = 0;

	if (mnt && !(mp = demo_machine_pid(dir, machine))) {
		buf_addf(out, "%s: its sshd is not running", machine);
		errno = ESRCH;
		return -1;
	}
	return run(machine, mp, argv, NULL, NULL, out);
}

/* fn in a child in a machine's network namespace; what it writes to fd
 * goes to out */
static int
nsrun(const char *machine, int (*fn)(void *arg, int fd), void *arg, struct buf *out)
{
	return run(machine, 0, NULL, fn, arg, out);
}

/* a program on the host */
static int
hrun(char *const argv[], struct buf *out)
{
	return run(NULL, 0, argv, NULL, NULL, out);
}

/* argv of this lab: "lab", then the words */
#define LAB(...) ((char *const[]){(char *)d->self, __VA_ARGS__, NULL})
#define MLAB(...) ((char *const[]){"/usr/local/libexec/lab", __VA_ARGS__, NULL})

/* ---- probes: DNS, HTTP, an SSH banner, from inside a machine ---- */

struct dnsq {
	const char *server, *name;
	uint16_t type;
};

static int
dns_probe(void *arg, int fd)
{
	struct dnsq *q = arg;
	struct dns_client cl;
	struct dns_name n;
	struct dns_w w;
	struct dns_msg m;
	uint8_t qb[512], ans[4096];
	char abs[300];
	ssize_t len;
	size_t i, got = 0;

	memset(&cl, 0, sizeof(cl));
	cl.timeout_ms = 1500;
	if (dns_addr_parse(q->server, 53, &cl.server) < 0 ||
	    snprintf(abs, sizeof(abs), "%s.", q->name) >= (int)sizeof(abs) ||
	    dns_name_from_text(&n, abs, NULL) < 0) {
		dprintf(fd, "bad query %s @%s", q->name, q->server);
		return 2;
	}
	dns_w_init(&w, qb, sizeof(qb), sizeof(qb));
	dns_w_header(&w, (uint16_t)getpid(), 0x0100); /* RD */
	dns_w_question(&w, &n, q->type, 1);
	if ((len = dns_client_exchange(&cl, qb, dns_w_finish(&w), ans, sizeof(ans), 0)) < 0) {
		dprintf(fd, "%s", cl.err);
		return 1;
	}
	memset(&m, 0, sizeof(m));
	if (dns_msg_parse(&m, ans, (size_t)len) < 0) {
		dprintf(fd, "a malformed answer");
		return 1;
	}
	if ((m.flags & 0xf) != 0) {
		dprintf(fd, "%s", dns_rcode_name(m.flags & 0xf));
		dns_msg_free(&m);
		return 1;
	}
	for (i = 0; i < m.count[1]; i++) {
		const struct dns_rr *rr = dns_msg_section(&m, 1, i);
		struct buf t = BUF_INIT;

		uint8_t rd[1024];
		size_t rdl;

		if (!rr || rr->type != q->type)
			continue;
		if (dns_rdata_unpack(rr->type, ans, (size_t)len, rr->rdoff, rr->rdlen, rd,
				     sizeof(rd), &rdl) == 0 &&
		    dns_rdata_to_text(rr->type, rd, rdl, &t) == 0)
			dprintf(fd, "%s%s", got++ ? " " : "", buf_cstr(&t));
		buf_free(&t);
	}
	dns_msg_free(&m);
	if (!got) {
		dprintf(fd, "no %s record", q->type == 1 ? "A" : "such");
		return 1;
	}
	return 0;
}

/* Ask server (from inside machine) until it answers or ms pass. */
static int
dns_ask(const char *machine, const char *server, const char *name, uint16_t type, int ms,
	struct buf *out)
{
	struct dnsq q = {server, name, type};
	uint64_t end = mono_ms() + (uint64_t)ms;
	int rc;

	for (;;) {
		buf_reset(out);
		if ((rc = nsrun(machine, dns_probe, &q, out)) == 0 || mono_ms() >= end)
			return rc == 0 ? 0 : -1;
		sleep_ms(200);
	}
}

struct tcpq {
	const char *addr;
	int port;
	const char *send; /* NULL: read one line (a banner) */
};

static int
tcp_probe(void *arg, int fd)
{
	struct tcpq *q = arg;
	struct sockaddr_in sa;
	struct timeval tv = {3, 0};
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)q->port);
	if (inet_pton(AF_INET, q->addr, &sa.sin_addr) != 1)
		return 2;
	if ((s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		dprintf(fd, "socket: %s", strerror(errno));
		return 1;
	}
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		dprintf(fd, "%s:%d: %s", q->addr, q->port, strerror(errno));
		return 1;
	}
	if (q->send && fs_write_full(s, q->send, strlen(q->send)) < 0) {
		dprintf(fd, "%s:%d: %s", q->addr, q->port, strerror(errno));
		return 1;
	}
	while ((n = read(s, chunk, sizeof(chunk))) > 0) {
		buf_add(&b, chunk, (size_t)n);
		if (!q->send && memchr(chunk, '\n', (size_t)n))
			break;
	}
	close(s);
	if (!q->send) {
		char *nl = memchr(buf_cstr(&b), '\r', b.len);

		if (nl)
			*nl = '\0';
		dprintf(fd, "%s", buf_cstr(&b));
		return b.len ? 0 : 1;
	}
	{
		const char *t = buf_cstr(&b), *body = strstr(t, "\r\n\r\n");

		if (strncmp(t, "HTTP/1.", 7) || strncmp(t + 8, " 200", 4) || !body) {
			dprintf(fd, "%s:%d: %.60s", q->addr, q->port, b.len ? t : "no answer");
			return 1;
		}
		dprintf(fd, "%s", body + 4);
	}
	return 0;
}

static int
http_get(const char *machine, const char *addr, int port, int ms, struct buf *out)
{
	char req[200];
	struct tcpq q = {addr, port, req};
	uint64_t end = mono_ms() + (uint64_t)ms;
	int rc;

	snprintf(req, sizeof(req), "GET / HTTP/1.0\r\nHost: %s\r\n\r\n", addr);
	for (;;) {
		buf_reset(out);
		if ((rc = nsrun(machine, tcp_probe, &q, out)) == 0 || mono_ms() >= end)
			return rc == 0 ? 0 : -1;
		sleep_ms(200);
	}
}

/* ---- files ---- */

static int
put(const char *path, const char *text, mode_t mode)
{
	char d[1200], *s;

	str_copy(d, path, sizeof(d));
	if ((s = strrchr(d, '/')))
		*s = '\0';
	if (fs_mkdir_p(d, 0755) < 0)
		return -1;
	return fs_write_atomic(path, text, strlen(text), mode);
}

static int
rm_one(const char *p, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP)
		return rmdir(p) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(p) < 0 && errno != ENOENT ? -1 : 0;
}

/* rm -rf, not crossing into other file systems */
static int
rmtree(const char *dir)
{
	if (access(dir, F_OK) < 0)
		return 0;
	return nftw(dir, rm_one, 32, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* The demo inventory built into lab, under dir. */
static int
write_embedded(const char *dir)
{
	unsigned long i;

	for (i = 0; i < embedded_nfiles; i++) {
		const struct embedded_file *f = &embedded_files[i];
		char p[1200];

		if (strncmp(f->path, "demo/", 5))
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, f->path + 5);
		if (f->type == 'd') {
			if (fs_mkdir_p(p, f->mode) < 0)
				return -1;
		} else {
			char parent[1200], *sl;

			str_copy(parent, p, sizeof(parent));
			if ((sl = strrchr(parent, '/')))
				*sl = '\0';
			if (fs_mkdir_p(parent, 0755) < 0)
				return -1;
			if (f->type == 'l' ? symlink(f->data, p) < 0
					   : fs_write_atomic(p, f->data, f->len, f->mode) < 0)
				return -1;
		}
	}
	return 0;
}

/* ---- step 1: the machines ---- */

/* The child that becomes a machine's sshd: its network namespace, a mount
 * namespace whose /usr/local, /var/lib, /run and /root are the machine's
 * root folder's (alpha's /var/lib/lab: a btrfs file system in a loop
 * file). Never returns. */
static void
machine_child(const char *dir, int i, int logfd)
{
	const char *m = machines[i];
	char root[600], src[800], cfg[800];
	static const char *const binds[] = {"usr/local", "var/lib", "run", "root"};
	size_t k;

	snprintf(root, sizeof(root), "%s/%s/root", dir, m);
	dup2(logfd, 1);
	dup2(logfd, 2);
	setsid();
	if (enter(m, 0) < 0 || unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) {
		dprintf(2, "%s: namespaces: %s\n", m, strerror(errno));
		_exit(126);
	}
	/* the copies of other namespaces' mounts would keep them alive */
	umount2(NETNS_RUN_DIR, MNT_DETACH);
	for (k = 0; k < sizeof(binds) / sizeof(binds[0]); k++) {
		char dst[64];

		snprintf(src, sizeof(src), "%s/%s", root, binds[k]);
		snprintf(dst, sizeof(dst), "/%s", binds[k]);
		if (mount(src, dst, NULL, MS_BIND | MS_REC, NULL) < 0) {
			dprintf(2, "%s: bind %s on %s: %s\n", m, src, dst, strerror(errno));
			_exit(126);
		}
	}
	if (!strcmp(m, "alpha")) {
		pid_t p = fork();
		int st = -1;

		if (p == 0) {
			snprintf(src, sizeof(src), "%s/alpha/lab.btrfs", dir);
			execlp("mount", "mount", "-o", "loop", src, "/var/lib/lab", (char *)NULL);
			_exit(127);
		}
		if (p < 0 || waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			dprintf(2, "alpha: mounting its btrfs on /var/lib/lab failed\n");
			_exit(126);
		}
		chmod("/var/lib/lab", 0755);
	}
	snprintf(cfg, sizeof(cfg), "%s/%s/sshd_config", dir, m);
	execl("/usr/sbin/sshd", "/usr/sbin/sshd", "-D", "-e", "-f", cfg, (char *)NULL);
	dprintf(2, "/usr/sbin/sshd: %s\n", strerror(errno));
	_exit(127);
}

static int
step_machines(struct demo *d, struct demo_step *s)
{
	static const char *const sub[] = {"usr/local", "var/lib/lab", "run/sshd", "root"};
	char p[800], q[1000], conf[2000];
	struct buf out = BUF_INIT, batch = BUF_INIT;
	size_t k;
	int i, rc = -1;

	if (access("/usr/sbin/sshd", X_OK) < 0)
		return sfail(
		    s,
		    "/usr/sbin/sshd is missing (apt-get install openssh-server; make demo does)");
	/* the uplink side of the router: a namespace without a machine in it */
	if (netns_add(DEMO_NS_PREFIX "wan") < 0)
		return sfail(s, "namespace " DEMO_NS_PREFIX "wan: %s", strerror(errno));
	for (i = 0; i < NM; i++) {
		char ns[64];

		snprintf(ns, sizeof(ns), DEMO_NS_PREFIX "%s", machines[i]);
		if (netns_add(ns) < 0) {
			sfail(s, "namespace %s: %s", ns, strerror(errno));
			goto out;
		}
		snprintf(p, sizeof(p), "%s/%s/root", d->dir, machines[i]);
		for (k = 0; k < 4; k++) {
			snprintf(q, sizeof(q), "%s/%s", p, sub[k]);
			if (fs_mkdir_p(q, 0755) < 0) {
				sfail(s, "%s: %s", q, strerror(errno));
				goto out;
			}
		}
	}
	/* the wires and routes, in one lab net process */
	buf_addf(&batch, "--netns " DEMO_NS_PREFIX "router link set lo up\n"
			 "--netns " DEMO_NS_PREFIX "alpha link set lo up\n"
			 "--netns " DEMO_NS_PREFIX "beta link set lo up\n"
			 "--netns " DEMO_NS_PREFIX
			 "router link add ra type veth peer eth0 netns " DEMO_NS_PREFIX "alpha up\n"
			 "--netns " DEMO_NS_PREFIX
			 "router link add rb type veth peer eth0 netns " DEMO_NS_PREFIX "beta up\n"
			 "--netns " DEMO_NS_PREFIX "router addr add 10.70.1.1/24 dev ra\n"
			 "--netns " DEMO_NS_PREFIX "router addr add 10.70.2.1/24 dev rb\n"
			 "--netns " DEMO_NS_PREFIX "alpha addr add 10.70.1.2/24 dev eth0\n"
			 "--netns " DEMO_NS_PREFIX "alpha link set eth0 up\n"
			 "--netns " DEMO_NS_PREFIX "beta addr add 10.70.2.2/24 dev eth0\n"
			 "--netns " DEMO_NS_PREFIX "beta link set eth0 up\n"
			 "--netns " DEMO_NS_PREFIX "alpha route add default via 10.70.1.1\n"
			 "--netns " DEMO_NS_PREFIX "beta route add default via 10.70.2.1\n"
			 "--netns " DEMO_NS_PREFIX "router route add 192.168.0.0/24 via 10.70.1.2\n"
			 "--netns " DEMO_NS_PREFIX "wan link set lo up\n"
			 "--netns " DEMO_NS_PREFIX
			 "router link add wan0 type veth peer eth0 netns " DEMO_NS_PREFIX "wan up\n"
			 "--netns " DEMO_NS_PREFIX "router addr add 198.51.100.1/24 dev wan0\n"
			 "--netns " DEMO_NS_PREFIX "wan addr add 198.51.100.2/24 dev eth0\n"
			 "--netns " DEMO_NS_PREFIX "wan link set eth0 up\n");
	snprintf(p, sizeof(p), "%s/net.batch", d->dir);
	if (fs_write_atomic(p, batch.data, batch.len, 0644) < 0 ||
	    hrun(LAB("net", "-b", p), &out) != 0) {
		sfail(s, "wiring: %s", last_line(&out));
		goto out;
	}
	kv(s, "wires", 0,
	   "router ra 10.70.1.1 - alpha eth0 10.70.1.2; router rb 10.70.2.1 - beta eth0 10.70.2.2; "
	   "router wan0 198.51.100.1 - " DEMO_NS_PREFIX "wan eth0 198.51.100.2");
	/* alpha's /var/lib/lab: btrfs, for copy-on-write guests and snapshots */
	snprintf(p, sizeof(p), "%s/alpha/lab.btrfs", d->dir);
	{
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		if (fd < 0 || ftruncate(fd, 512ll << 20) < 0) {
			sfail(s, "%s: %s", p, strerror(errno));
			if (fd >= 0)
				close(fd);
			goto out;
		}
		close(fd);
	}
	buf_reset(&out);
	if (hrun((char *const[]){"mkfs.btrfs", "-q", p, NULL}, &out) != 0) {
		sfail(s, "mkfs.btrfs (btrfs-progs): %s", last_line(&out));
		goto out;
	}
	/* keys: the admin's, and each machine's host key */
	snprintf(p, sizeof(p), "%s/ssh", d->dir);
	fs_mkdir_p(p, 0700);
	snprintf(p, sizeof(p), "%s/ssh/id", d->dir);
	buf_reset(&out);
	if (hrun((char *const[]){"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lab-demo",
				 "-f", p, NULL},
		 &out) != 0) {
		sfail(s, "ssh-keygen: %s", last_line(&out));
		goto out;
	}
	for (i = 0; i < NM; i++) {
		const char *m = machines[i];
		char log[800];
		int logfd;
		pid_t pid;

		snprintf(p, sizeof(p), "%s/%s/hostkey", d->dir, m);
		buf_reset(&out);
		if (hrun((char *const[]){"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", p,
					 NULL},
			 &out) != 0) {
			sfail(s, "ssh-keygen: %s", last_line(&out));
			goto out;
		}
		snprintf(conf, sizeof(conf),
			 "# sshd of the demo machine %s (in namespace " DEMO_NS_PREFIX "%s)\n"
			 "ListenAddress 0.0.0.0\nHostKey %s/%s/hostkey\nPidFile none\n"
			 "AuthorizedKeysFile %s/ssh/id.pub\nPermitRootLogin prohibit-password\n"
			 "StrictModes no\nUsePAM no\nLogLevel ERROR\n",
			 m, m, d->dir, m, d->dir);
		snprintf(p, sizeof(p), "%s/%s/sshd_config", d->dir, m);
		if (put(p, conf, 0644) < 0) {
			sfail(s, "%s: %s", p, strerror(errno));
			goto out;
		}
		snprintf(log, sizeof(log), "%s/%s/sshd.log", d->dir, m);
		if ((logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0) {
			sfail(s, "%s: %s", log, strerror(errno));
			goto out;
		}
		if ((pid = fork()) < 0) {
			close(logfd);
			sfail(s, "fork: %s", strerror(errno));
			goto out;
		}
		if (pid == 0) {
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			machine_child(d->dir, i, logfd);
		}
		close(logfd);
		snprintf(p, sizeof(p), "%s/%s/sshd.pid", d->dir, m);
		snprintf(q, sizeof(q), "%d\n", (int)pid);
		put(p, q, 0644);
	}
	/* each answers with OpenSSH's banner */
	for (i = 0; i < NM; i++) {
		struct tcpq t = {addrs[i], 22, NULL};
		uint64_t end = mono_ms() + 10000;

		for (;;) {
			buf_reset(&out);
			if (nsrun(machines[i], tcp_probe, &t, &out) == 0 &&
			    str_has_prefix(buf_cstr(&out), "SSH-2.0-"))
				break;
			if (mono_ms() > end || *d->stop) {
				snprintf(p, sizeof(p), "%s/%s/sshd.log", d->dir, machines[i]);
				buf_reset(&batch);
				fs_read_file(p, &batch, 4096);
				sfail(s, "%s: no sshd on %s:22 (%s) %s", machines[i], addrs[i],
				      buf_cstr(&out), last_line(&batch));
				goto out;
			}
			sleep_ms(100);
		}
		kv(s, machines[i], 0, "%s:22 %s, pid %d, root %s/%s/root", addrs[i], buf_cstr(&out),
		   (int)demo_machine_pid(d->dir, machines[i]), d->dir, machines[i]);
	}
	rc = 0;
out:
	buf_free(&out);
	buf_free(&batch);
	return rc;
}

/* ---- step 2: deploy ---- */

static int
keygen(struct demo *d, char priv[64], char pub[64])
{
	struct buf o = BUF_INIT;
	char p[700];
	int rc = -1;

	if (hrun(LAB("vpn", "genkey"), &o) != 0 || o.len < 44)
		goto out;
	memcpy(priv, o.data, 44);
	priv[44] = '\0';
	snprintf(p, sizeof(p), "%s/key.tmp", d->dir);
	put(p, priv, 0600);
	buf_reset(&o);
	{
		/* lab vpn pubkey reads stdin: through sh */
		char cmd[900];

		snprintf(cmd, sizeof(cmd), "'%s' vpn pubkey < '%s'", d->self, p);
		if (hrun((char *const[]){"/bin/sh", "-c", cmd, NULL}, &o) != 0 || o.len < 44)
			goto out;
	}
	memcpy(pub, o.data, 44);
	pub[44] = '\0';
	rc = 0;
out:
	unlink(p);
	buf_free(&o);
	return rc;
}

static int
write_inventory(struct demo *d, struct demo_step *s)
{
	char inv[700], p[900], apriv[64], apub[64], bpriv[64], bpub[64];
	struct buf b = BUF_INIT, psk = BUF_INIT;
	int i, rc = -1;

	snprintf(inv, sizeof(inv), "%s/inventory", d->dir);
	if (write_embedded(inv) < 0)
		return sfail(s, "%s: %s", inv, strerror(errno));
	buf_addf(
	    &b,
	    "# written by lab demo: the machines of this run\n"
	    "[defaults]\nuser = root\nidentity = %s/ssh/id\nknown-hosts = %s/ssh/known_hosts\n",
	    d->dir, d->dir);
	for (i = 0; i < NM; i++)
		buf_addf(&b, "\n[machine %s]\nhost = %s\nroot = %s/%s/root\n", machines[i],
			 addrs[i], d->dir, machines[i]);
	snprintf(p, sizeof(p), "%s/inventory", inv);
	if (fs_write_atomic(p, b.data, b.len, 0644) < 0) {
		sfail(s, "%s: %s", p, strerror(errno));
		goto out;
	}
	/* secret facts: the TSIG key of lab dns, the WireGuard keys */
	if (hrun(LAB("vpn", "genpsk"), &psk) != 0 || psk.len < 44 || keygen(d, apriv, apub) < 0 ||
	    keygen(d, bpriv, bpub) < 0) {
		sfail(s, "making keys with lab vpn genkey/genpsk failed");
		goto out;
	}
	for (i = 0; i < NM; i++) {
		buf_reset(&b);
		buf_addf(&b, "dns_key=hmac-sha256:demo:%.44s\n", psk.data);
		if (i == 1)
			buf_addf(&b, "vpn_private=%s\nvpn_peer=%s\n", apriv, bpub);
		if (i == 2)
			buf_addf(&b, "vpn_private=%s\nvpn_peer=%s\n", bpriv, apub);
		snprintf(p, sizeof(p), "%s/facts/%s.env", inv, machines[i]);
		if (put(p, buf_cstr(&b), 0600) < 0) {
			sfail(s, "%s: %s", p, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	buf_free(&b);
	buf_free(&psk);
	return rc;
}

struct deployed {
	size_t sent, changed, units;
	char unitlist[300], changedlist[100];
	uint64_t ms;
};

/* lab deploy --json, run from the router; every machine must be ok. */
static int
deploy(struct demo *d, struct demo_step *s, struct deployed *r)
{
	char inv[700];
	struct buf out = BUF_INIT;
	struct json *j = NULL;
	struct json_err je;
	const struct json *m;
	int code, rc = -1;

	memset(r, 0, sizeof(*r));
	snprintf(inv, sizeof(inv), "%s/inventory", d->dir);
	code = mrun(d->dir, "router", 0, LAB("deploy", "-C", inv, "--json", "--accept-new"), &out);
	{
		/* the JSON array starts at the first '[' of a line (stderr may come first) */
		const char *t = buf_cstr(&out), *a = strstr(t, "[\n");

		if (!a && t[0] == '[')
			a = t;
		if (!a || !(j = json_parse(a, strlen(a), &je)) || j->type != JSON_ARR) {
			sfail(s, "lab deploy (exit %d): %s", code, last_line(&out));
			goto out;
		}
	}
	for (m = j->child; m; m = m->next) {
		const char *name = json_get_str(m, "machine"), *units = json_get_str(m, "units");
		const struct json *ok = json_get(m, "ok"), *noop = json_get(m, "noop");
		int64_t sent = 0, ms = 0, gen = 0;

		json_get_int(m, "sent", &sent);
		json_get_int(m, "ms", &ms);
		if (!ok || !ok->b) {
			const char *e = json_get_str(m, "error");

			sfail(s, "lab deploy: %s: %s", name ? name : "?", e ? e : "failed");
			goto out;
		}
		r->sent += (size_t)sent;
		if ((uint64_t)ms > r->ms)
			r->ms = (uint64_t)ms;
		if (noop && !noop->b) {
			r->changed++;
			snprintf(r->changedlist + strlen(r->changedlist),
				 sizeof(r->changedlist) - strlen(r->changedlist), "%s%s",
				 r->changedlist[0] ? " " : "", name);
		}
		if (units && *units) {
			const char *u = units;

			while (*u) {
				u += strspn(u, " ");
				if (*u)
					r->units++;
				u += strcspn(u, " ");
			}
			snprintf(r->unitlist + strlen(r->unitlist),
				 sizeof(r->unitlist) - strlen(r->unitlist), "%s%s:%s",
				 r->unitlist[0] ? " " : "", name, units);
		}
		json_get_int(m, "generation", &gen);
		kv(s, name ? name : "?", 0, "generation %lld, %lld files sent, %lld ms%s%s",
		   (long long)gen, (long long)sent, (long long)ms,
		   units && *units ? ", units " : "", units ? units : "");
	}
	rc = 0;
out:
	json_free(j);
	buf_free(&out);
	return rc;
}

/* Is the machine's copy of lab this lab, byte for byte? */
static int
same_file(const char *a, const char *b)
{
	struct buf x = BUF_INIT, y = BUF_INIT;
	int same;

	same = fs_read_file(a, &x, 64 << 20) == 0 && fs_read_file(b, &y, 64 << 20) == 0 &&
	       x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
	buf_free(&x);
	buf_free(&y);
	return same;
}

static int
step_deploy(struct demo *d, struct demo_step *s)
{
	struct deployed r;
	char p[800];
	int i;

	if (write_inventory(d, s) < 0 || deploy(d, s, &r) < 0)
		return -1;
	if (r.changed != NM || r.sent == 0)
		return sfail(s, "lab deploy changed %zu of %d machines", r.changed, NM);
	for (i = 0; i < NM; i++) {
		snprintf(p, sizeof(p), "%s/%s/root/usr/local/libexec/lab", d->dir, machines[i]);
		if (!same_file(p, d->self))
			return sfail(s, "%s: lab did not install itself in %s", machines[i], p);
	}
	kv(s, "sent", 1, "%zu", r.sent);
	kv(s, "inventory", 0, "%s/inventory", d->dir);
	kv(s, "lab", 0, "installed in each machine's /usr/local/libexec/lab");
	return 0;
}

/* ---- step 3: DNS ---- */

static int
step_dns(struct demo *d, struct demo_step *s)
{
	struct buf o = BUF_INIT;
	char name[64];
	int i, rc = -1;

	for (i = 0; i < NM; i++) {
		if (i == 0)
			snprintf(name, sizeof(name), "home.arpa");
		else
			snprintf(name, sizeof(name), "%s.home.arpa", machines[i]);
		if (dns_ask(machines[i], addrs[i], name, 6, 10000, &o) < 0) {
			sfail(s, "%s: its lab dns does not answer for %s: %s", machines[i], name,
			      buf_cstr(&o));
			goto out;
		}
		kv(s, machines[i], 0, "%s SOA %s", name, buf_cstr(&o));
	}
	/* the router's delegation: alpha's own record, asked at the router */
	if (dns_ask("router", "10.70.1.1", "motd.alpha.home.arpa", 16, 5000, &o) < 0) {
		sfail(s, "router: motd.alpha.home.arpa through the delegation: %s", buf_cstr(&o));
		goto out;
	}
	kv(s, "delegation", 0, "router -> alpha: motd.alpha.home.arpa TXT %s", buf_cstr(&o));
	rc = 0;
out:
	buf_free(&o);
	return rc;
}

/* ---- step 4: the router's firewall ---- */

static int
step_firewall(struct demo *d, struct demo_step *s)
{
	struct buf o = BUF_INIT;
	int rc = -1;

	if (mrun(d->dir, "router", 0, LAB("net", "fw", "show"), &o) != 0) {
		sfail(s, "router: lab net fw show: %s", last_line(&o));
		goto out;
	}
	if (!strstr(buf_cstr(&o), "192.168.0.0/16") || !strstr(buf_cstr(&o), "8080")) {
		sfail(s, "router: the kernel's table inet lab lacks the masquerade or the forward");
		goto out;
	}
	kv(s, "table", 0, "inet lab in " DEMO_NS_PREFIX "router (applied by the deploy hook)");
	kv(s, "masquerade", 0, "192.168.0.0/16 out of wan0");
	kv(s, "forward", 0, "tcp 8080 -> 192.168.0.2:80 (web)");
	rc = 0;
out:
	buf_free(&o);
	return rc;
}

/* ---- step 5: web, a busybox guest on alpha ---- */

static int
busybox_image(struct demo *d, const char *img, struct demo_step *s)
{
	static const char *const dirs[] = {"bin",  "sbin", "etc", "www", "tmp",
					   "proc", "sys",  "dev", "run", "root"};
	const char *bb = NULL;
	static const char *const cand[] = {"/bin/busybox", "/usr/bin/busybox"};
	char p[900];
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < 2 && !bb; i++)
		if (access(cand[i], X_OK) == 0)
			bb = cand[i];
	if (!bb)
		return sfail(s, "no busybox (apt-get install busybox-static; make demo does)");
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", img, dirs[i]);
		if (fs_mkdir_p(p, 0755) < 0)
			return sfail(s, "%s: %s", p, strerror(errno));
	}
	snprintf(p, sizeof(p), "%s/tmp", img);
	chmod(p, 01777);
	if (fs_read_file(bb, &b, 8 << 20) < 0)
		return sfail(s, "%s: %s", bb, strerror(errno));
	if (b.len < 20 || memcmp(b.data + 16, "\x02\x00", 2)) { /* ET_EXEC: static */
		buf_free(&b);
		return sfail(s, "%s is not the static busybox (apt-get install busybox-static)",
			     bb);
	}
	snprintf(p, sizeof(p), "%s/bin/busybox", img);
	i = fs_write_atomic(p, b.data, b.len, 0755) < 0;
	buf_free(&b);
	if (i)
		return sfail(s, "%s: %s", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/bin/sh", img);
	if (symlink("busybox", p) < 0)
		return sfail(s, "%s: %s", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/etc/passwd", img);
	put(p, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0644);
	snprintf(p, sizeof(p), "%s/etc/group", img);
	put(p, "root:x:0:\nnogroup:x:65534:\n", 0644);
	snprintf(p, sizeof(p), "%s/www/index.html", img);
	return put(p, WEB_PAGE, 0644);
}

static char web_addr[64];

/* where lab vm's cgroup parent may be (lib/cgroup.c): v2, hybrid, v1 */
static const char *const cg_parents[] = {
    "/sys/fs/cgroup/lab",	 "/sys/fs/cgroup/unified/lab", "/sys/fs/cgroup/cpu/lab",
    "/sys/fs/cgroup/memory/lab", "/sys/fs/cgroup/pids/lab",    "/sys/fs/cgroup/devices/lab",
};

static int
step_web(struct demo *d, struct demo_step *s)
{
	char img[700];
	struct buf o = BUF_INIT;
	struct json *j = NULL;
	struct json_err je;
	const struct json *e;
	int rc = -1;

	snprintf(img, sizeof(img), "%s/image", d->dir);
	if (busybox_image(d, img, s) < 0)
		goto out;
	/* lab vm makes a "lab" cgroup parent where none is and leaves it for
	 * the next guest: the ones this demo makes are noted, for --down */
	{
		struct buf made = BUF_INIT;
		char p[700];
		size_t k;

		for (k = 0; k < sizeof(cg_parents) / sizeof(cg_parents[0]); k++)
			if (access(cg_parents[k], F_OK) < 0)
				buf_addf(&made, "%s\n", cg_parents[k]);
		snprintf(p, sizeof(p), "%s/cgroups-made", d->dir);
		k = fs_write_atomic(p, made.data ? made.data : "", made.len, 0644) < 0;
		buf_free(&made);
		if (k) {
			sfail(s, "%s: %s", p, strerror(errno));
			goto out;
		}
	}
	if (mrun(d->dir, "alpha", 1, MLAB("vm", "image", "import", "busybox", img), &o) != 0) {
		sfail(s, "alpha: lab vm image import: %s", last_line(&o));
		goto out;
	}
	buf_reset(&o);
	if (mrun(
		d->dir, "alpha", 1,
		MLAB("vm", "new", "web", "--image", "busybox", "--memory", "64M", "--cmd", WEB_CMD),
		&o) != 0) {
		sfail(s, "alpha: lab vm new web: %s", last_line(&o));
		goto out;
	}
	buf_reset(&o);
	if (mrun(d->dir, "alpha", 1, MLAB("vm", "ls", "--json"), &o) != 0 ||
	    !(j = json_parse(o.data, o.len, &je)) || j->type != JSON_ARR) {
		sfail(s, "alpha: lab vm ls: %s", last_line(&o));
		goto out;
	}
	for (e = j->child; e; e = e->next)
		if (json_get_str(e, "name") && !strcmp(json_get_str(e, "name"), "web"))
			break;
	if (!e || !json_get_str(e, "ipv4") ||
	    strcmp(json_get_str(e, "state") ? json_get_str(e, "state") : "", "running")) {
		sfail(s, "alpha: web is not running");
		goto out;
	}
	str_copy(web_addr, json_get_str(e, "ipv4"), sizeof(web_addr));
	if (strchr(web_addr, '/'))
		*strchr(web_addr, '/') = '\0';
	if (strcmp(web_addr, "192.168.0.2")) {
		sfail(s, "web got %s, the router's forward expects 192.168.0.2", web_addr);
		goto out;
	}
	kv(s, "address", 0, "%s", web_addr);
	if (dns_ask("alpha", "10.70.1.2", "web.lab0.alpha.home.arpa", 1, 5000, &o) < 0 ||
	    strcmp(buf_cstr(&o), web_addr)) {
		sfail(s, "alpha: web.lab0.alpha.home.arpa is not registered: %s", buf_cstr(&o));
		goto out;
	}
	kv(s, "name", 0, "web.lab0.alpha.home.arpa A %s", buf_cstr(&o));
	kv(s, "root", 0, "alpha:/var/lib/lab/vm/web/rootfs (btrfs snapshot of image busybox)");
	rc = 0;
out:
	json_free(j);
	buf_free(&o);
	return rc;
}

/* ---- step 6: from beta, by name, through the router ---- */

static int
step_reach(struct demo *d, struct demo_step *s)
{
	struct buf o = BUF_INIT, tr = BUF_INIT;
	int rc = -1;

	if (dns_ask("beta", "10.70.2.2", "web.lab0.alpha.home.arpa", 1, 5000, &o) < 0) {
		sfail(s, "beta: web.lab0.alpha.home.arpa does not resolve: %s", buf_cstr(&o));
		goto out;
	}
	if (strcmp(buf_cstr(&o), web_addr)) {
		sfail(s, "beta: web.lab0.alpha.home.arpa is %s, not %s", buf_cstr(&o), web_addr);
		goto out;
	}
	kv(s, "resolved", 0,
	   "web.lab0.alpha.home.arpa A %s (beta's lab dns, the router's delegation)", buf_cstr(&o));
	if (http_get("beta", web_addr, 80, 5000, &o) < 0 || strcmp(buf_cstr(&o), WEB_PAGE)) {
		sfail(s, "beta: GET http://%s/: %s", web_addr, buf_cstr(&o));
		goto out;
	}
	kv(s, "body", 0, "%s", buf_cstr(&o));
	/* the path: beta's route to web goes through the router */
	if (mrun(d->dir, "beta", 0, LAB("net", "route", "show"), &tr) != 0 ||
	    !strstr(buf_cstr(&tr), "default via 10.70.2.1")) {
		sfail(s, "beta: no default route through the router: %s", last_line(&tr));
		goto out;
	}
	/* and the router's port forward, from its uplink side */
	if (http_get("wan", "198.51.100.1", 8080, 5000, &o) < 0 || strcmp(buf_cstr(&o), WEB_PAGE)) {
		sfail(s, "wan: GET http://198.51.100.1:8080/ (the router's forward): %s",
		      buf_cstr(&o));
		goto out;
	}
	kv(s, "forwarded", 0, "%s", buf_cstr(&o));
	kv(s, "path", 0,
	   "beta -> router 10.70.2.1 -> alpha 10.70.1.2 -> lab0 -> web; wan -> router:8080 -> "
	   "web:80");
	rc = 0;
out:
	buf_free(&o);
	buf_free(&tr);
	return rc;
}

/* ---- step 7: the same request through lab vpn ---- */

/* What beta's wgdemo received from its one peer, and when the last
 * handshake was: [{"interface", ..., "peers": [{"rx_bytes",
 * "latest_handshake", ...}]}] from lab vpn show --json. -1 on failure. */
static int64_t
vpn_rx(struct demo *d, struct buf *o, int64_t *handshake)
{
	struct json *j;
	struct json_err je;
	const struct json *peers, *p;
	int64_t rx = -1;

	buf_reset(o);
	if (mrun(d->dir, "beta", 1, MLAB("vpn", "show", "wgdemo", "--json"), o) != 0)
		return -1;
	if (!(j = json_parse(buf_cstr(o), o->len, &je)))
		return -1;
	if (j->type == JSON_ARR && j->child && (peers = json_get(j->child, "peers")) &&
	    peers->type == JSON_ARR && (p = json_at(peers, 0)) &&
	    json_get_int(p, "rx_bytes", &rx) == 0)
		json_get_int(p, "latest_handshake", handshake);
	json_free(j);
	return rx;
}

static int
step_vpn(struct demo *d, struct demo_step *s)
{
	struct buf o = BUF_INIT;
	int64_t rx0, rx1, hs = 0;
	int rc = -1;
	static const char *const conf = "/usr/local/etc/lab/vpn/wgdemo.conf";

	if (mrun(d->dir, "alpha", 1, MLAB("vpn", "up", (char *)conf), &o) != 0) {
		sfail(s, "alpha: lab vpn up: %s", last_line(&o));
		goto out;
	}
	buf_reset(&o);
	if (mrun(d->dir, "beta", 1, MLAB("vpn", "up", (char *)conf), &o) != 0) {
		sfail(s, "beta: lab vpn up: %s", last_line(&o));
		goto out;
	}
	rx0 = vpn_rx(d, &o, &hs);
	if (rx0 < 0) {
		sfail(s, "beta: lab vpn show: %s", last_line(&o));
		goto out;
	}
	if (http_get("beta", web_addr, 80, 8000, &o) < 0 || strcmp(buf_cstr(&o), WEB_PAGE)) {
		sfail(s, "beta: GET http://%s/ through the tunnel: %s", web_addr, buf_cstr(&o));
		goto out;
	}
	kv(s, "body", 0, "%s", buf_cstr(&o));
	rx1 = vpn_rx(d, &o, &hs);
	if (rx1 <= rx0 || hs <= 0) {
		sfail(s,
		      "beta: the answer did not come through wgdemo (received %lld bytes before, "
		      "%lld after; last handshake %lld)",
		      (long long)rx0, (long long)rx1, (long long)hs);
		goto out;
	}
	buf_reset(&o);
	if (mrun(d->dir, "beta", 0, LAB("net", "route", "show"), &o) != 0 ||
	    !strstr(buf_cstr(&o), "192.168.0.0/24 dev wgdemo")) {
		sfail(s, "beta: web's subnet is not routed through wgdemo");
		goto out;
	}
	kv(s, "route", 0, "beta: 192.168.0.0/24 dev wgdemo");
	kv(s, "tunnel", 0, "alpha wgdemo 10.99.0.1 <-> beta wgdemo 10.99.0.2 (lab vpn, WireGuard)");
	kv(s, "received", 1, "%lld", (long long)(rx1 - rx0));
	rc = 0;
out:
	buf_free(&o);
	return rc;
}

/* ---- step 8: snapshot, change, rollback ---- */

static int
step_snap(struct demo *d, struct demo_step *s)
{
	struct buf o = BUF_INIT;
	char snap[600], cmd[300];
	static const char *const root = "/var/lib/lab/vm/web/rootfs";
	uint64_t t0;
	int rc = -1;

	/* the snapshot policy deploy laid down (layer snap): lab snap run takes
	 * what is due, an hourly one among them */
	if (mrun(d->dir, "alpha", 1, MLAB("snap", "run"), &o) != 0) {
		sfail(s, "alpha: lab snap run: %s", last_line(&o));
		goto out;
	}
	{
		const char *t = buf_cstr(&o), *h = strstr(t, "take /");
		size_t n;

		snap[0] = '\0';
		for (; h; h = strstr(h + 1, "take /")) {
			n = strcspn(h + 5, "\n");
			if (n > 7 && n < sizeof(snap) && !strncmp(h + 5 + n - 7, "-hourly", 7)) {
				memcpy(snap, h + 5, n);
				snap[n] = '\0';
			}
		}
		if (!snap[0] || !strstr(snap, "/var/lib/lab/vm/web/.snapshots/rootfs/")) {
			sfail(s, "alpha: lab snap run took no hourly snapshot of web: %s",
			      last_line(&o));
			goto out;
		}
	}
	kv(s, "policy", 0, "alpha:/usr/local/etc/lab/snap/web.conf (hourly 24, daily 7)");
	kv(s, "snapshot", 0, "alpha:%s", snap);
	snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%.*s' >%s/www/index.html",
		 (int)strlen(WEB_PAGE2) - 1, WEB_PAGE2, root);
	buf_reset(&o);
	if (mrun(d->dir, "alpha", 1, ((char *const[]){"/bin/sh", "-c", cmd, NULL}), &o) != 0 ||
	    http_get("beta", web_addr, 80, 5000, &o) < 0 || strcmp(buf_cstr(&o), WEB_PAGE2)) {
		sfail(s, "the changed page is not served: %s", buf_cstr(&o));
		goto out;
	}
	kv(s, "changed", 0, "%s", buf_cstr(&o));
	buf_reset(&o);
	if (mrun(d->dir, "alpha", 1, MLAB("snap", "rollback", (char *)root, snap), &o) != 0) {
		sfail(s, "alpha: lab snap rollback: %s", last_line(&o));
		goto out;
	}
	buf_reset(&o);
	/* the guest still has the old root mounted: start it on the new one */
	t0 = mono_ms();
	if (mrun(d->dir, "alpha", 1, MLAB("vm", "restart", "web"), &o) != 0) {
		sfail(s, "alpha: lab vm restart web: %s", last_line(&o));
		goto out;
	}
	kv(s, "restart_ms", 1, "%llu", (unsigned long long)(mono_ms() - t0));
	if (http_get("beta", web_addr, 80, 8000, &o) < 0 || strcmp(buf_cstr(&o), WEB_PAGE)) {
		sfail(s, "after the rollback: %s", buf_cstr(&o));
		goto out;
	}
	kv(s, "body", 0, "%s", buf_cstr(&o));
	rc = 0;
out:
	buf_free(&o);
	return rc;
}

/* ---- step 9: one file changes, deploy again ---- */

static int
step_redeploy(struct demo *d, struct demo_step *s)
{
	char p[900];
	struct deployed r;
	struct buf o = BUF_INIT;
	int rc = -1;

	snprintf(p, sizeof(p), "%s/inventory/machines/alpha/root/usr/local/etc/lab/dns/alpha.zone",
		 d->dir);
	if (put(p,
		"$ORIGIN alpha.home.arpa.\n$TTL 60\n@\tSOA ns hostmaster 2 3600 600 604800 "
		"30\n\tNS ns\n"
		"ns\tA 10.70.1.2\nmotd\tTXT \"changed by lab demo step 9\"\n",
		0644) < 0) {
		sfail(s, "%s: %s", p, strerror(errno));
		goto out;
	}
	kv(s, "edited", 0, "%s", p);
	if (deploy(d, s, &r) < 0)
		goto out;
	if (r.sent != 1 || r.changed != 1 || r.units != 1 || strcmp(r.unitlist, "alpha:lab-dns")) {
		sfail(s,
		      "expected one file sent to alpha and lab-dns reloaded; got %zu sent, "
		      "changed: %s, units: %s",
		      r.sent, r.changedlist, r.unitlist);
		goto out;
	}
	kv(s, "sent", 1, "%zu", r.sent);
	kv(s, "reloaded", 0, "%s", r.unitlist);
	kv(s, "deploy_ms", 1, "%llu", (unsigned long long)r.ms);
	/* the reload is real: alpha serves the new record (SIGHUP is handled
	 * a moment after the hook sends it) */
	{
		uint64_t end = mono_ms() + 5000;

		while (dns_ask("alpha", "10.70.1.2", "motd.alpha.home.arpa", 16, 5000, &o) < 0 ||
		       !strstr(buf_cstr(&o), "changed by lab demo step 9")) {
			if (mono_ms() > end || *d->stop) {
				sfail(s, "alpha: lab dns still serves %s", buf_cstr(&o));
				goto out;
			}
			sleep_ms(50);
		}
	}
	kv(s, "served", 0, "motd.alpha.home.arpa TXT %s", buf_cstr(&o));
	rc = 0;
out:
	buf_free(&o);
	return rc;
}

/* ---- the run ---- */

static const struct {
	const char *name, *title, *where;
	int (*fn)(struct demo *, struct demo_step *);
} steps[] = {
    {"machines", "router, alpha, beta: namespaces, roots, sshd",
     "namespaces " DEMO_NS_PREFIX "{router,alpha,beta,wan}; roots DIR/NAME/root", step_machines},
    {"deploy", "lab deploy: the demo inventory to all three",
     "DIR/inventory; each machine's /usr/local (lab in libexec/)", step_deploy},
    {"dns", "each serves its zone; router delegates",
     "/usr/local/etc/lab/dns/dns.conf; /run/lab/services/lab-dns.pid", step_dns},
    {"firewall", "router: masquerade, port forward",
     "router: table inet lab from /usr/local/etc/lab/net/fw.conf", step_firewall},
    {"web", "alpha: container web (busybox httpd), in DNS",
     "alpha: /var/lib/lab/vm/web (btrfs); web.lab0.alpha.home.arpa", step_web},
    {"reach", "beta: resolve web, GET it; wan: router's :8080",
     "beta -> router -> alpha -> web; wan -> router:8080 -> web", step_reach},
    {"vpn", "alpha <-> beta lab vpn, GET through it",
     "alpha, beta: wgdemo, /usr/local/etc/lab/vpn/wgdemo.conf", step_vpn},
    {"snapshot", "web: policy snapshot, change, rollback",
     "alpha: /var/lib/lab/vm/web/.snapshots/rootfs/", step_snap},
    {"redeploy", "one file changed: one sent, one reloaded",
     "DIR/inventory/machines/alpha/root/.../dns/alpha.zone", step_redeploy},
};

int
demo_run(struct demo *d)
{
	size_t i;

	{
		/* a folder of our own, marked: --down removes only such a one */
		char mark[800];

		if (mkdir(d->dir, 0755) < 0)
			return -1;
		chmod(d->dir, 0755); /* lab dns runs as nobody and reads through it */
		snprintf(mark, sizeof(mark), "%s/" DEMO_MARK, d->dir);
		if (put(mark, "lab demo's work folder: lab demo --down removes it\n", 0644) < 0)
			return -1;
	}
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct demo_step *s = &d->step[d->nstep++];
		uint64_t t0;
		int rc;

		memset(s, 0, sizeof(*s));
		s->name = steps[i].name;
		s->title = steps[i].title;
		s->where = steps[i].where;
		if (*d->stop) {
			d->nstep--;
			return -1;
		}
		if (d->progress)
			d->progress(d, s);
		t0 = mono_ms();
		rc = steps[i].fn(d, s);
		if (*d->stop) {
			char was[sizeof(s->err)];

			str_copy(was, s->err, sizeof(was));
			rc = sfail(s, "interrupted%s%.500s", was[0] ? ": " : "", was);
		}
		s->ms = mono_ms() - t0;
		s->ran = 1;
		s->ok = rc == 0;
		if (rc < 0 && !s->err[0])
			sfail(s, "%s", strerror(errno));
		if (d->progress)
			d->progress(d, s);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* ---- down ---- */

static int
ns_ino(const char *path, struct stat *st)
{
	return stat(path, st);
}

/* Kill every process in one of the namespaces (by inode); the count left. */
static int
sweep(const dev_t *dev, const ino_t *ino, int n, int sig, struct buf *log)
{
	DIR *dp = opendir("/proc");
	struct dirent *e;
	int left = 0;

	if (!dp)
		return 0;
	while ((e = readdir(dp))) {
		char p[64];
		struct stat a, b;
		pid_t pid = (pid_t)atoi(e->d_name);
		int k;

		if (pid <= 1 || pid == getpid())
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/net", (int)pid);
		if (stat(p, &a) < 0)
			continue;
		snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
		if (stat(p, &b) < 0)
			continue;
		for (k = 0; k < n; k++)
			if ((a.st_ino == ino[k] && a.st_dev == dev[k]) ||
			    (b.st_ino == ino[k] && b.st_dev == dev[k]))
				break;
		if (k == n)
			continue;
		if (sig == SIGKILL && log)
			buf_addf(log, "killed pid %d (still there after SIGTERM)\n", (int)pid);
		kill(pid, sig);
		left++;
	}
	closedir(dp);
	return left;
}

int
demo_down(const char *dir, struct buf *log)
{
	dev_t dev[2 * NM + 1];
	ino_t ino[2 * NM + 1];
	int n = 0, i, rc = 0, t;
	char p[800];
	struct stat st;

	/* graceful first: the guest (its cgroup, veth, lease and DNS name go
	 * with it) and the tunnels */
	if (demo_machine_pid(dir, "alpha")) {
		struct buf o = BUF_INIT;

		if (mrun(dir, "alpha", 1,
			 ((char *const[]){"/usr/local/libexec/lab", "vm", "rm", "--force", "web",
					  NULL}),
			 &o) == 0)
			buf_addf(log, "removed the guest web on alpha\n");
		buf_free(&o);
	}
	for (i = 0; i < NM; i++) {
		pid_t pid = demo_machine_pid(dir, machines[i]);

		if (pid) {
			snprintf(p, sizeof(p), "/proc/%d/ns/mnt", (int)pid);
			if (ns_ino(p, &st) == 0) {
				dev[n] = st.st_dev;
				ino[n++] = st.st_ino;
			}
		}
		snprintf(p, sizeof(p), NETNS_RUN_DIR "/" DEMO_NS_PREFIX "%s", machines[i]);
		if (ns_ino(p, &st) == 0) {
			dev[n] = st.st_dev;
			ino[n++] = st.st_ino;
		}
	}
	if (ns_ino(NETNS_RUN_DIR "/" DEMO_NS_PREFIX "wan", &st) == 0) {
		dev[n] = st.st_dev;
		ino[n++] = st.st_ino;
	}
	if (n) {
		int k = sweep(dev, ino, n, SIGTERM, log);

		if (k)
			buf_addf(log, "stopped %d processes in the machines' namespaces\n", k);
		for (t = 0; t < 30 && sweep(dev, ino, n, 0, NULL); t++)
			sleep_ms(100);
		sweep(dev, ino, n, SIGKILL, log);
		for (t = 0; t < 30 && sweep(dev, ino, n, 0, NULL); t++)
			sleep_ms(100);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
	}
	for (i = 0; i <= NM; i++) {
		char ns[64];

		snprintf(ns, sizeof(ns), DEMO_NS_PREFIX "%s", i < NM ? machines[i] : "wan");
		if (netns_del(ns) == 0)
			buf_addf(log,
				 "deleted namespace %s (its links, routes and firewall with it)\n",
				 ns);
		else if (errno != ENOENT) {
			buf_addf(log, "namespace %s: %s\n", ns, strerror(errno));
			rc = -1;
		}
	}
	/* the cgroup parents lab vm made for web, when nothing else uses them */
	{
		struct buf made = BUF_INIT;
		char *line, *save = NULL;

		snprintf(p, sizeof(p), "%s/cgroups-made", dir);
		if (fs_read_file(p, &made, 1 << 16) == 0 && made.len) {
			for (line = strtok_r((char *)buf_cstr(&made), "\n", &save); line;
			     line = strtok_r(NULL, "\n", &save)) {
				size_t k;

				for (k = 0; k < sizeof(cg_parents) / sizeof(cg_parents[0]); k++)
					if (!strcmp(line, cg_parents[k]))
						break;
				if (k == sizeof(cg_parents) / sizeof(cg_parents[0]))
					continue; /* only those, never another path */
				if (rmdir(line) == 0)
					buf_addf(log, "removed cgroup %s\n", line);
				else if (errno != ENOENT)
					buf_addf(log, "cgroup %s: %s (in use: left)\n", line,
						 strerror(errno));
			}
		}
		buf_free(&made);
	}
	/* the mounts lived in the machines' mount namespaces, gone with their
	 * processes; the loop device clears itself (autoclear) */
	snprintf(p, sizeof(p), "%s/" DEMO_MARK, dir);
	if (access(dir, F_OK) == 0 && access(p, F_OK) < 0) {
		buf_addf(log, "%s: not lab demo's work folder (no " DEMO_MARK "): left alone\n",
			 dir);
		rc = -1;
	} else if (access(dir, F_OK) == 0) {
		for (t = 0; t < 30; t++) {
			if (rmtree(dir) == 0)
				break;
			sleep_ms(100); /* a namespace may take a moment to go */
		}
		if (access(dir, F_OK) == 0) {
			buf_addf(log, "%s: could not be removed: %s\n", dir, strerror(errno));
			rc = -1;
		} else {
			buf_addf(log, "removed %s\n", dir);
		}
	}
	return rc;
}
