#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "fs.h"
#include "log.h"
#include "tap.h"

int
main(void)
{
	struct buf b = BUF_INIT;
	int p[2];

	if (pipe2(p, O_NONBLOCK) < 0)
		return 1;
	log_init("lab test", 0);
	log_set_fd(p[1]);
	log_info("hello %d", 42);
	errno = ENOENT;
	log_warn("open %s", "/x");
	is_int(errno, ENOENT, "logging leaves errno alone");
	log_warnx("plain");
	log_debug("hidden");
	log_set_verbose(1);
	log_debug("shown");
	log_trace("hidden too");
	log_set_verbose(2);
	log_trace("trace");
	close(p[1]);
	fs_read_fd(p[0], &b, 4096);
	is_str(buf_cstr(&b),
	       "lab test: hello 42\n"
	       "lab test: open /x: No such file or directory\n"
	       "lab test: plain\n"
	       "lab test: shown\n"
	       "lab test: trace\n",
	       "one line per event, prefix, errno text, verbosity levels");
	{
		char big[5000];

		memset(big, 'x', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		if (pipe(p) < 0)
			return 1;
		log_set_fd(p[1]);
		log_info("%s", big);
		close(p[1]);
		buf_reset(&b);
		fs_read_fd(p[0], &b, 10000);
		ok(b.len < 2100 && b.data[b.len - 1] == '\n', "overlong line truncated, still one line");
		close(p[0]);
	}
	buf_free(&b);
	return done_testing();
}
