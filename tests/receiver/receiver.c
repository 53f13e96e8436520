/*
 * receiver.c - entry of build/test-receiver: parse the command line, listen on 127.0.0.1,
 * print the port, and hand each accepted connection to its own thread (conn.c) until
 * SIGTERM or SIGINT. See receiver.h for the layout and docs/receiver.md for the protocol.
 *
 *   test-receiver [--port N] [--port-file FILE] [--log FILE] [--max-body BYTES]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "receiver.h"

size_t rx_body_max = RX_BODY_MAX_DEFAULT;

void *rx_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "test-receiver: out of memory\n");
		abort();
	}
	return p;
}

char *rx_xstrndup(const char *s, size_t n)
{
	char *p = rx_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static void usage(void)
{
	fprintf(stderr, "usage: test-receiver [--port N] [--port-file FILE] [--log FILE] "
			"[--max-body BYTES]\n");
	exit(2);
}

static bool parse_count(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (!*s || *s < '0' || *s > '9' || *end || errno || v > max)
		return false;
	*out = v;
	return true;
}

/* Write the port to path through a temporary file, so a reader never sees half of it. */
static bool write_port_file(const char *path, int port)
{
	size_t n = strlen(path) + 8;
	char *tmp = rx_xmalloc(n);
	snprintf(tmp, n, "%s.tmp", path);
	FILE *f = fopen(tmp, "w");
	bool ok = f && fprintf(f, "%d\n", port) > 0;
	if (f && fclose(f) != 0)
		ok = false;
	ok = ok && rename(tmp, path) == 0;
	free(tmp);
	return ok;
}

int main(int argc, char **argv)
{
	unsigned long long port = 0;
	const char *port_file = NULL, *log_path = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (i + 1 >= argc)
			usage();
		unsigned long long v;
		if (strcmp(a, "--port") == 0 && parse_count(argv[i + 1], 65535, &port))
			i++;
		else if (strcmp(a, "--port-file") == 0)
			port_file = argv[++i];
		else if (strcmp(a, "--log") == 0)
			log_path = argv[++i];
		else if (strcmp(a, "--max-body") == 0 && parse_count(argv[i + 1], 1ULL << 32, &v)) {
			rx_body_max = (size_t)v;
			i++;
		} else
			usage();
	}
	if (!rx_state_init(log_path)) {
		fprintf(stderr, "test-receiver: cannot open log %s: %s\n", log_path,
			strerror(errno));
		return 1;
	}

	/* Signals arrive on a descriptor; every thread inherits the blocked mask. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);
	int sfd = signalfd(-1, &stop, SFD_CLOEXEC);

	int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof sin;
	if (sfd < 0 || lfd < 0 || bind(lfd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    listen(lfd, 1024) != 0 || getsockname(lfd, (struct sockaddr *)&sin, &len) != 0) {
		fprintf(stderr, "test-receiver: cannot listen on 127.0.0.1:%llu: %s\n", port,
			strerror(errno));
		return 1;
	}
	int bound = ntohs(sin.sin_port);
	printf("%d\n", bound);
	fflush(stdout);
	if (port_file && !write_port_file(port_file, bound)) {
		fprintf(stderr, "test-receiver: cannot write %s: %s\n", port_file, strerror(errno));
		return 1;
	}

	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (;;) {
		struct pollfd fds[2] = {{.fd = lfd, .events = POLLIN},
					{.fd = sfd, .events = POLLIN}};
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (fds[1].revents)
			break;
		if (!(fds[0].revents & POLLIN))
			continue;
		int c = accept(lfd, NULL, NULL);
		if (c < 0)
			continue;
		/* answers go out in several writes: without this, delayed ACKs stall each one */
		setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		int *arg = rx_xmalloc(sizeof *arg);
		*arg = c;
		pthread_t t;
		if (pthread_create(&t, &attr, rx_conn_main, arg) != 0) {
			close(c);
			free(arg);
		}
	}
	/* Connection threads may be mid-answer; end without waiting for them. */
	close(lfd);
	rx_state_flush();
	fflush(stdout);
	_exit(0);
}
