/*
 * conn.c - one HTTP/1.1 connection of the test receiver: read a request (headers, then a
 * Content-Length or chunked body, answering "Expect: 100-continue"), let script.c decide the
 * answer, write it (after a delay, byte by byte, or not at all but with a TCP reset), and go
 * on with the next request while the connection is kept alive.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "receiver.h"

static atomic_ulong next_conn_id = 1;

typedef struct conn {
	int fd;
	unsigned long id;
	char *buf;
	size_t len, cap;
} conn;

enum { PARSE_MORE = 0, PARSE_DONE = 1, PARSE_BAD = -1, PARSE_TOO_BIG = -2 };

static void sleep_ms(long ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* Read more bytes into the buffer; > 0 read, 0 end of stream, < 0 error. */
static ssize_t fill(conn *c)
{
	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *p = realloc(c->buf, cap);
		if (!p)
			abort();
		c->buf = p;
		c->cap = cap;
	}
	ssize_t n;
	do
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		c->len += (size_t)n;
	return n;
}

static bool send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		p += w;
		n -= (size_t)w;
	}
	return true;
}

/* Send bytes, one per interval when trickling. */
static bool send_paced(int fd, const char *p, size_t n, long trickle_ms)
{
	if (trickle_ms <= 0)
		return send_all(fd, p, n);
	for (size_t i = 0; i < n; i++) {
		if (!send_all(fd, p + i, 1))
			return false;
		sleep_ms(trickle_ms);
	}
	return true;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 301:
		return "Moved Permanently";
	case 302:
		return "Found";
	case 304:
		return "Not Modified";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 410:
		return "Gone";
	case 413:
		return "Content Too Large";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "Status";
	}
}

/* Write the answer; false when the connection must be closed afterwards. */
static bool send_answer(conn *c, const rx_answer *a, bool head_only, bool keep_alive)
{
	sleep_ms(a->delay_ms);
	if (a->reset) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		return false;
	}
	bool no_body = a->status == 204 || a->status == 304 || a->status < 200;
	unsigned long long blen = a->size >= 0 ? (unsigned long long)a->size : a->body_len;
	keep_alive = keep_alive && !a->close;
	char lenline[64] = "";
	if (!a->has_length && !no_body)
		snprintf(lenline, sizeof lenline, "Content-Length: %llu\r\n", blen);
	size_t hlen = strlen(a->headers) + 256;
	char *head = rx_xmalloc(hlen);
	int n = snprintf(head, hlen, "HTTP/1.1 %d %s\r\n%s%s%s\r\n", a->status, reason(a->status),
			 lenline, keep_alive ? "" : "Connection: close\r\n", a->headers);
	bool ok = n > 0 && send_paced(c->fd, head, (size_t)n, a->trickle_ms);
	free(head);
	if (!ok || head_only || no_body)
		return ok && keep_alive;
	if (a->size >= 0) {
		char chunk[65536];
		memset(chunk, 'x', sizeof chunk);
		unsigned long long left = blen;
		while (ok && left) {
			size_t k = left < sizeof chunk ? (size_t)left : sizeof chunk;
			ok = send_paced(c->fd, chunk, k, a->trickle_ms);
			left -= k;
		}
	} else {
		ok = send_paced(c->fd, a->body, a->body_len, a->trickle_ms);
	}
	return ok && keep_alive;
}

/* A short error answer before closing: 400, 413, 431. */
static void send_error(conn *c, int status, const char *msg)
{
	rx_answer a = {.size = -1, .close = true};
	size_t n = strlen(msg) + 32;
	char *body = rx_xmalloc(n);
	snprintf(body, n, "{\"error\":\"%s\"}", msg);
	rx_answer_json(&a, status, body);
	send_answer(c, &a, false, false);
	rx_answer_free(&a);
	/* Closing with unread input would send a reset that can destroy the answer in flight:
	 * stop writing, then read and drop what the client still sends (for a while). */
	if (shutdown(c->fd, SHUT_WR) == 0) {
		struct timeval tv = {.tv_sec = 0, .tv_usec = 500000};
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
		char sink[65536];
		size_t total = 0;
		ssize_t got;
		while (total < 64u * 1024 * 1024 && (got = recv(c->fd, sink, sizeof sink, 0)) > 0)
			total += (size_t)got;
	}
}

/* Whether hay holds word, ignoring ASCII case. */
static bool has_word(const char *hay, const char *word)
{
	size_t n = strlen(word);
	for (; *hay; hay++)
		if (strncasecmp(hay, word, n) == 0)
			return true;
	return false;
}

static const char *find_header(const rx_request *rq, const char *name)
{
	for (size_t i = 0; i < rq->nheaders; i++)
		if (strcmp(rq->headers[i].name, name) == 0)
			return rq->headers[i].value;
	return NULL;
}

static void request_free(rx_request *rq)
{
	free(rq->method);
	free(rq->path);
	free(rq->query);
	for (size_t i = 0; i < rq->nheaders; i++) {
		free(rq->headers[i].name);
		free(rq->headers[i].value);
	}
	free(rq->headers);
	free(rq->body);
	memset(rq, 0, sizeof *rq);
}

/* Parse the request line and headers of buf[0..n) (n ends at the blank line). */
static int parse_head(const char *buf, size_t n, rx_request *rq, int *minor)
{
	const char *eol = memchr(buf, '\r', n);
	if (!eol || eol[1] != '\n')
		return PARSE_BAD;
	const char *sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return PARSE_BAD;
	const char *sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1 || eol - sp2 != 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    (sp2[8] != '0' && sp2[8] != '1'))
		return PARSE_BAD;
	*minor = sp2[8] - '0';
	rq->method = rx_xstrndup(buf, (size_t)(sp1 - buf));
	const char *target = sp1 + 1;
	size_t tlen = (size_t)(sp2 - target);
	const char *q = memchr(target, '?', tlen);
	rq->path = rx_xstrndup(target, q ? (size_t)(q - target) : tlen);
	rq->query = q ? rx_xstrndup(q + 1, (size_t)(sp2 - q - 1)) : rx_xstrndup("", 0);

	size_t cap = 16;
	rq->headers = rx_xmalloc(cap * sizeof *rq->headers);
	const char *p = eol + 2, *end = buf + n;
	while (p < end && !(p[0] == '\r' && p + 1 < end && p[1] == '\n')) {
		const char *le = memchr(p, '\r', (size_t)(end - p));
		if (!le || le + 1 >= end || le[1] != '\n')
			return PARSE_BAD;
		const char *colon = memchr(p, ':', (size_t)(le - p));
		if (!colon || colon == p)
			return PARSE_BAD;
		const char *v = colon + 1, *ve = le;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		if (rq->nheaders == cap) {
			cap *= 2;
			rx_header *h = realloc(rq->headers, cap * sizeof *h);
			if (!h)
				abort();
			rq->headers = h;
		}
		rx_header *h = &rq->headers[rq->nheaders++];
		h->name = rx_xstrndup(p, (size_t)(colon - p));
		for (char *s = h->name; *s; s++)
			if (*s >= 'A' && *s <= 'Z')
				*s = (char)(*s - 'A' + 'a');
		h->value = rx_xstrndup(v, (size_t)(ve - v));
		p = le + 2;
	}
	return PARSE_DONE;
}

/* Walk a chunked body at buf[0..n); with out, copy the data there. *wire = bytes consumed. */
static int parse_chunked(const char *buf, size_t n, size_t *wire, char *out, size_t *body_len)
{
	size_t off = 0, total = 0;
	for (;;) {
		const char *le = NULL;
		for (size_t i = off; i + 1 < n; i++)
			if (buf[i] == '\r' && buf[i + 1] == '\n') {
				le = buf + i;
				break;
			}
		if (!le)
			return n - off > 1024 ? PARSE_BAD : PARSE_MORE;
		size_t size = 0, digits = 0;
		for (const char *p = buf + off; p < le; p++, digits++) {
			int d = (*p >= '0' && *p <= '9')   ? *p - '0'
				: (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
				: (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10
							   : -1;
			if (d < 0)
				break; /* chunk extension or junk after the size */
			if (size > (rx_body_max + 1) / 16)
				return PARSE_TOO_BIG;
			size = size * 16 + (size_t)d;
		}
		if (digits == 0)
			return PARSE_BAD;
		off = (size_t)(le - buf) + 2;
		if (size == 0) { /* trailers, then a blank line */
			for (;;) {
				const char *te = NULL;
				for (size_t i = off; i + 1 < n; i++)
					if (buf[i] == '\r' && buf[i + 1] == '\n') {
						te = buf + i;
						break;
					}
				if (!te)
					return PARSE_MORE;
				bool blank = te == buf + off;
				off = (size_t)(te - buf) + 2;
				if (blank) {
					*wire = off;
					*body_len = total;
					return PARSE_DONE;
				}
			}
		}
		if (total + size > rx_body_max)
			return PARSE_TOO_BIG;
		if (n - off < size + 2)
			return PARSE_MORE;
		if (buf[off + size] != '\r' || buf[off + size + 1] != '\n')
			return PARSE_BAD;
		if (out)
			memcpy(out + total, buf + off, size);
		total += size;
		off += size + 2;
	}
}

static size_t find_blank_line(const char *buf, size_t n)
{
	for (size_t i = 0; i + 3 < n; i++)
		if (buf[i] == '\r' && buf[i + 1] == '\n' && buf[i + 2] == '\r' &&
		    buf[i + 3] == '\n')
			return i + 4;
	return 0;
}

/* Serve requests on c until it closes. */
static void serve(conn *c)
{
	for (;;) {
		size_t head_len;
		while ((head_len = find_blank_line(c->buf, c->len)) == 0) {
			if (c->len > RX_HEAD_MAX) {
				send_error(c, 431, "request head too large");
				return;
			}
			if (fill(c) <= 0)
				return;
		}
		if (head_len > RX_HEAD_MAX) {
			send_error(c, 431, "request head too large");
			return;
		}
		rx_request rq = {.conn_id = c->id};
		int minor = 1;
		if (parse_head(c->buf, head_len, &rq, &minor) != PARSE_DONE) {
			request_free(&rq);
			send_error(c, 400, "malformed request");
			return;
		}
		const char *te = find_header(&rq, "transfer-encoding");
		const char *cl = find_header(&rq, "content-length");
		const char *expect = find_header(&rq, "expect");
		const char *connh = find_header(&rq, "connection");
		bool keep_alive = minor == 1 ? !(connh && has_word(connh, "close"))
					     : (connh && has_word(connh, "keep-alive"));
		bool chunked = te && has_word(te, "chunked");
		size_t need = 0;
		if (!chunked && cl) {
			char *endp;
			errno = 0;
			unsigned long long v = strtoull(cl, &endp, 10);
			if (cl[0] < '0' || cl[0] > '9' || *endp || errno) {
				request_free(&rq);
				send_error(c, 400, "bad Content-Length");
				return;
			}
			if (v > rx_body_max) {
				request_free(&rq);
				send_error(c, 413, "request body over the receiver's cap");
				return;
			}
			need = (size_t)v;
		}
		if (expect && strcasecmp(expect, "100-continue") == 0 && c->len == head_len &&
		    (chunked || need > 0) &&
		    !send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25)) {
			request_free(&rq);
			return;
		}
		size_t wire = 0;
		if (chunked) {
			int st;
			while ((st = parse_chunked(c->buf + head_len, c->len - head_len, &wire,
						   NULL, &rq.body_len)) == PARSE_MORE)
				if (fill(c) <= 0) {
					request_free(&rq);
					return;
				}
			if (st != PARSE_DONE) {
				request_free(&rq);
				send_error(c, st == PARSE_TOO_BIG ? 413 : 400,
					   st == PARSE_TOO_BIG
					       ? "request body over the receiver's cap"
					       : "malformed chunked body");
				return;
			}
			rq.body = rx_xmalloc(rq.body_len + 1);
			(void)parse_chunked(c->buf + head_len, c->len - head_len, &wire, rq.body,
					    &rq.body_len);
		} else {
			while (c->len - head_len < need)
				if (fill(c) <= 0) {
					request_free(&rq);
					return;
				}
			rq.body = rx_xmalloc(need + 1);
			memcpy(rq.body, c->buf + head_len, need);
			rq.body_len = need;
			wire = need;
		}
		rq.body[rq.body_len] = '\0';

		rx_answer ans = {0};
		rx_handle(&rq, &ans);
		bool head_only = strcmp(rq.method, "HEAD") == 0;
		request_free(&rq);
		size_t used = head_len + wire;
		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		bool go_on = send_answer(c, &ans, head_only, keep_alive);
		rx_answer_free(&ans);
		if (!go_on)
			return;
	}
}

void *rx_conn_main(void *arg)
{
	conn c = {.fd = *(int *)arg, .id = atomic_fetch_add(&next_conn_id, 1)};
	free(arg);
	serve(&c);
	close(c.fd);
	free(c.buf);
	return NULL;
}
