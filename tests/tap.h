/*
 * A few lines of TAP for the C unit tests: ok(), is_int(), is_str(),
 * is_mem(), skip(), done_testing(). The runner turns "ok"/"not ok" lines
 * into PASS/FAIL.
 */
#ifndef LAB_TAP_H
#define LAB_TAP_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static void __attribute__((format(printf, 4, 5), unused))
tap_ok(int pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", pass ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!pass) {
		tap_failed++;
		printf("#   at %s:%d\n", file, line);
	}
	fflush(stdout);
}

#define ok(cond, ...) tap_ok(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* Lower-case hex of n bytes (up to 255), for comparing digests and
 * ciphertexts with is_str. */
__attribute__((unused)) static const char *
hexof(const void *p, size_t n)
{
	static char s[511];
	const unsigned char *b = p;
	size_t i;

	for (i = 0; i < n && i < 255; i++)
		snprintf(s + 2 * i, 3, "%02x", b[i]);
	s[2 * i] = '\0';
	return s;
}

#define is_int(got, want, ...)                                                   \
	do {                                                                     \
		long long g_ = (long long)(got), w_ = (long long)(want);         \
		tap_ok(g_ == w_, __FILE__, __LINE__, __VA_ARGS__);              \
		if (g_ != w_)                                                    \
			printf("#   got %lld, want %lld\n", g_, w_);             \
	} while (0)

#define is_str(got, want, ...)                                                   \
	do {                                                                     \
		const char *g_ = (got), *w_ = (want);                            \
		int p_ = g_ && w_ && strcmp(g_, w_) == 0;                        \
		tap_ok(p_, __FILE__, __LINE__, __VA_ARGS__);                    \
		if (!p_)                                                         \
			printf("#   got:\n%s\n#   want:\n%s\n", g_ ? g_ : "(null)", \
			       w_ ? w_ : "(null)");                              \
	} while (0)

#define is_mem(got, want, n, ...) \
	tap_ok(memcmp((got), (want), (n)) == 0, __FILE__, __LINE__, __VA_ARGS__)

static void __attribute__((unused))
skip(const char *why, const char *what)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, what, why);
	fflush(stdout);
}

static int __attribute__((unused))
done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
