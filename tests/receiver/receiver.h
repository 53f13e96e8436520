/*
 * receiver.h - the scriptable fake webhook receiver used by the black-box tests.
 *
 * A small HTTP/1.1 server on 127.0.0.1 (thread per connection, keep-alive, Content-Length and
 * chunked bodies). Tests script its answers with PUT /_control/script and read what it was
 * sent with GET /_control/requests; docs/receiver.md describes the protocol. It is built
 * from the files of tests/receiver alone (with jansson), never from src/, so it cannot share a bug
 * with the code it tests.
 *
 *   receiver.c  command line, listening socket, signals, one thread per connection
 *   conn.c      reading requests and writing answers on one connection
 *   script.c    the rules, the record of requests and the /_control API
 */
#ifndef HB_TEST_RECEIVER_H
#define HB_TEST_RECEIVER_H

#include <stdbool.h>
#include <stddef.h>

#define RX_HEAD_MAX (64 * 1024)		      /* request line and headers */
#define RX_BODY_MAX_DEFAULT (8 * 1024 * 1024) /* request body, unless --max-body */

typedef struct rx_header {
	char *name; /* lower-cased */
	char *value;
} rx_header;

/* One parsed request; every pointer is owned by the request. */
typedef struct rx_request {
	char *method;
	char *path;  /* the target up to '?' */
	char *query; /* after '?', "" when none */
	rx_header *headers;
	size_t nheaders;
	char *body;
	size_t body_len;
	unsigned long conn_id; /* which connection it came on (1, 2, …) */
} rx_request;

/* How to answer; every pointer is owned by the answer. */
typedef struct rx_answer {
	int status;
	char *headers;	 /* "Name: value\r\n" lines, Content-Type included; never NULL */
	bool has_length; /* headers already hold a Content-Length */
	char *body;
	size_t body_len;
	long long size;	 /* >= 0: send this many 'x' bytes as the body instead */
	long delay_ms;	 /* wait before answering */
	long trickle_ms; /* send the answer one byte per interval */
	bool reset;	 /* close with RST instead of answering */
	bool close;	 /* close the connection after answering */
} rx_answer;

/* Settings from the command line. */
extern size_t rx_body_max;

/* script.c */
/* Open the request log (NULL: none); false if it cannot be opened. */
bool rx_state_init(const char *log_path);
/* Flush the request log; called before the process exits. */
void rx_state_flush(void);
/* Answer a request: the /_control API, or the scripted answer (recording the request). */
void rx_handle(const rx_request *rq, rx_answer *ans);
/* An answer with a JSON body (takes the text, which must be malloc'd). */
void rx_answer_json(rx_answer *ans, int status, char *json_text);
void rx_answer_free(rx_answer *ans);

/* conn.c */
/* Serve one accepted connection until it closes; arg is a heap int fd (freed here). */
void *rx_conn_main(void *arg);

/* receiver.c */
void *rx_xmalloc(size_t n);
char *rx_xstrndup(const char *s, size_t n);

#endif
