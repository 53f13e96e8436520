/*
 * curl_setup.h - libcurl's global setup, done once by main before any thread starts: libcurl's
 * memory comes from the per-thread pool (core/pool.h). A request takes some thirty small
 * allocations inside libcurl (its header lines, URL parts, connection bookkeeping); glibc's
 * cache keeps only seven blocks of a size, so most went its slow way.
 */
#ifndef HB_DELIVER_CURL_SETUP_H
#define HB_DELIVER_CURL_SETUP_H

#include <stdbool.h>

/* false when libcurl cannot start (it then has no memory or no SSL library). */
bool hb_curl_setup(void);

#endif
