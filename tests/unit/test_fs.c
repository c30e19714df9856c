#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <dirent.h>

#include "fs.h"
#include "tap.h"

static char dir[] = "/tmp/lab-test-fs-XXXXXX";

static int
count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static void
test_atomic(void)
{
	struct buf b = BUF_INIT;
	struct fs_atomic a;
	struct stat st;
	char path[256], sub[256];

	snprintf(path, sizeof(path), "%s/file", dir);
	ok(fs_write_atomic(path, "one\n", 4, 0640) == 0, "atomic write creates");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "with the asked mode");
	ok(fs_read_file(path, &b, 100) == 0 && !strcmp(buf_cstr(&b), "one\n"), "content");
	ok(fs_write_atomic(path, "two\n", 4, 0600) == 0, "atomic write replaces");
	buf_reset(&b);
	ok(fs_read_file(path, &b, 100) == 0 && !strcmp(buf_cstr(&b), "two\n"), "new content");
	is_int(count_entries(dir), 1, "no temporary file left behind");

	ok(fs_atomic_open(&a, path, 0644) >= 0, "streaming replace opens");
	ok(write(a.fd, "three", 5) == 5, "writes to the temporary");
	buf_reset(&b);
	ok(fs_read_file(path, &b, 100) == 0 && !strcmp(buf_cstr(&b), "two\n"),
	   "old content visible until commit");
	fs_atomic_abort(&a);
	is_int(count_entries(dir), 1, "abort removes the temporary");
	buf_reset(&b);
	ok(fs_read_file(path, &b, 3) < 0 && errno == EFBIG && b.len == 0, "read past max is EFBIG");
	snprintf(sub, sizeof(sub), "%s/nodir/file", dir);
	ok(fs_write_atomic(sub, "x", 1, 0644) < 0 && errno == ENOENT, "missing directory: ENOENT");
	buf_free(&b);
}

static void
test_mkdir(void)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "%s/a/b//c/", dir);
	ok(fs_mkdir_p(p, 0755) == 0, "mkdir -p with doubled and trailing slashes");
	snprintf(p, sizeof(p), "%s/a/b/c", dir);
	ok(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "the whole path exists");
	ok(fs_mkdir_p(p, 0755) == 0, "existing directories are fine");
	snprintf(p, sizeof(p), "%s/file/x", dir);
	ok(fs_mkdir_p(p, 0755) < 0 && errno == ENOTDIR, "a file in the way is ENOTDIR");
}

static void
test_lock(void)
{
	char p[256];
	int fd, fd2, st;
	pid_t pid;
	int pfd[2];
	char c;

	snprintf(p, sizeof(p), "%s/lock", dir);
	fd = fs_lock(p, 0);
	ok(fd >= 0, "exclusive lock taken (file created)");
	if (pipe(pfd) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		int r = fs_lock(p, FS_LOCK_NB);

		_exit(r < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "another process cannot take it (EWOULDBLOCK)");
	fs_unlock(fd);
	pid = fork();
	if (pid == 0) {
		int r = fs_lock(p, FS_LOCK_NB);

		if (write(pfd[1], "x", 1) < 0)
			_exit(2);
		sleep(1);
		_exit(r >= 0 ? 0 : 1);
	}
	if (read(pfd[0], &c, 1) != 1)
		c = 0;
	fd2 = fs_lock(p, FS_LOCK_SHARED | FS_LOCK_NB);
	ok(fd2 < 0 && errno == EWOULDBLOCK, "shared lock waits for the exclusive holder");
	waitpid(pid, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "released lock can be taken again");
	fd2 = fs_lock(p, FS_LOCK_SHARED | FS_LOCK_NB);
	fd = fs_lock(p, FS_LOCK_SHARED | FS_LOCK_NB);
	ok(fd >= 0 && fd2 >= 0, "two shared locks coexist");
	fs_unlock(fd);
	fs_unlock(fd2);
	close(pfd[0]);
	close(pfd[1]);
}

static void
test_io(void)
{
	int p[2];
	char big[100000], back[100000];
	ssize_t n;
	pid_t pid;

	memset(big, 'z', sizeof(big));
	if (pipe(p) < 0)
		return;
	pid = fork();
	if (pid == 0) {
		close(p[0]);
		_exit(fs_write_full(p[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(p[1]);
	n = fs_read_full(p[0], back, sizeof(back));
	is_int(n, sizeof(big), "write_full and read_full move all bytes through a pipe");
	ok(memcmp(big, back, sizeof(big)) == 0, "bytes intact");
	waitpid(pid, NULL, 0);
	close(p[0]);
}

int
main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_atomic();
	test_mkdir();
	test_lock();
	test_io();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			printf("# could not remove %s\n", dir);
	}
	return done_testing();
}
