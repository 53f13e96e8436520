/*
 * harness.h - the unit test harness: TEST(name) { … CHECK(…); } registers a test; the runner
 * (harness.c) runs all of them, or those whose name contains the argument, and prints one
 * "PASS name" / "FAIL name" line each and a closing "N passed, N failed".
 */
#ifndef HB_TEST_HARNESS_H
#define HB_TEST_HARNESS_H

#include <stdint.h>
#include <string.h>

void hb_test_register(const char *name, void (*fn)(void));
void hb_test_failf(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hb_test_failed_now(void);
struct sockaddr;
struct sockaddr_storage;
/* A sockaddr for literal address text (IPv6 when it holds ':') in ss; NULL if not an address. */
const struct sockaddr *hb_test_sockaddr(const char *text, struct sockaddr_storage *ss);
/* The integer the first row of sql gives in the SQLite database at path, or -1. */
int64_t hb_test_sql_int(const char *path, const char *sql);
/* A fresh empty temporary directory for this test (removed at exit); owned by the harness. */
const char *hb_test_tmpdir(void);

#define TEST(name)                                                                         \
	static void test_##name(void);                                                       \
	__attribute__((constructor)) static void register_##name(void)                       \
	{                                                                                    \
		hb_test_register(#name, test_##name);                                        \
	}                                                                                    \
	static void test_##name(void)

#define CHECK(cond)                                                                        \
	do {                                                                               \
		if (!(cond)) {                                                             \
			hb_test_failf(__FILE__, __LINE__, "CHECK(%s)", #cond);             \
			return;                                                            \
		}                                                                          \
	} while (0)

#define CHECK_INT(a, b)                                                                    \
	do {                                                                               \
		long long va_ = (long long)(a), vb_ = (long long)(b);                      \
		if (va_ != vb_) {                                                          \
			hb_test_failf(__FILE__, __LINE__, "%s == %lld, expected %s == %lld", #a, \
				      va_, #b, vb_);                                       \
			return;                                                            \
		}                                                                          \
	} while (0)

#define CHECK_STR(a, b)                                                                    \
	do {                                                                               \
		const char *sa_ = (a), *sb_ = (b);                                         \
		if (!sa_ || !sb_ || strcmp(sa_, sb_) != 0) {                               \
			hb_test_failf(__FILE__, __LINE__, "%s\n  got:      [%s]\n  expected: [%s]", \
				      #a, sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");     \
			return;                                                            \
		}                                                                          \
	} while (0)

/* The message of an hb_error contains a piece of text. */
#define CHECK_CONTAINS(hay, needle)                                                        \
	do {                                                                               \
		const char *h_ = (hay), *n_ = (needle);                                    \
		if (!h_ || !strstr(h_, n_)) {                                              \
			hb_test_failf(__FILE__, __LINE__, "%s\n  got:     [%s]\n  lacks:   [%s]", \
				      #hay, h_ ? h_ : "(null)", n_);                       \
			return;                                                            \
		}                                                                          \
	} while (0)

#endif
