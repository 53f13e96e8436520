/* The libcurl ceiling for bench/deliver.sh: a minimal client on libcurl's multi interface that
   sends N POSTs with the same JSON bodies and about the same headers as a hookbridge delivery,
   at most C in flight over reused (keep-alive) connections, and checks each answer for status
   200 and the two fields a capture would read. Nothing is stored. Prints one line:
     requests=N ok=N failed=N seconds=S rate=R
     deliver_client URL N C */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct slot {
	CURL *easy;
	struct curl_slist *headers;
	char body[512];
	char answer[1024];
	size_t answer_len;
};

static size_t on_answer(char *p, size_t size, size_t n, void *arg)
{
	struct slot *s = arg;
	size_t len = size * n, room = sizeof s->answer - 1 - s->answer_len;
	memcpy(s->answer + s->answer_len, p, len < room ? len : room);
	s->answer_len += len < room ? len : room;
	s->answer[s->answer_len] = '\0';
	return len;
}

/* the body hookbridge renders for user i of the generated CSV */
static void start(CURLM *multi, struct slot *s, const char *url, long i)
{
	char key[64];
	snprintf(s->body, sizeof s->body,
		 "{\"email\":\"user%ld@example.com\",\"first_name\":\"First%ld\",\"last_name\":\"Last%ld\","
		 "\"company\":\"Company %ld\",\"city\":\"City %ld\",\"country\":\"US\"}",
		 i, i, i, i % 977, i % 313);
	snprintf(key, sizeof key, "Idempotency-Key: hbd_bench_%ld", i + 1);
	curl_slist_free_all(s->headers);
	s->headers = curl_slist_append(NULL, "Content-Type: application/json");
	s->headers = curl_slist_append(s->headers, key);
	s->headers = curl_slist_append(s->headers, "User-Agent: deliver-client/1");
	s->answer_len = 0;
	curl_easy_setopt(s->easy, CURLOPT_URL, url);
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(s->body));
	curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, s->body);
	curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
	curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_answer);
	curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
	curl_easy_setopt(s->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(s->easy, CURLOPT_TIMEOUT_MS, 15000L);
	curl_multi_add_handle(multi, s->easy);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: deliver_client URL REQUESTS CONCURRENCY\n");
		return 2;
	}
	const char *url = argv[1];
	long total = atol(argv[2]), conc = atol(argv[3]);
	if (total <= 0 || conc <= 0)
		return 2;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	CURLM *multi = curl_multi_init();
	curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, conc);
	curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, conc);
	curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, conc);
	struct slot *slots = calloc((size_t)conc, sizeof *slots);
	if (!slots)
		return 1;
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long sent = 0, done = 0, ok = 0;
	for (long k = 0; k < conc && sent < total; k++) {
		slots[k].easy = curl_easy_init();
		start(multi, &slots[k], url, sent++);
	}
	while (done < total) {
		int running, left;
		curl_multi_perform(multi, &running);
		CURLMsg *m;
		while ((m = curl_multi_info_read(multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct slot *s;
			long status = 0;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
			curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
			if (m->data.result == CURLE_OK && status == 200 && strstr(s->answer, "\"id\":\"ABC-1\"") &&
			    strstr(s->answer, "\"ok\":true"))
				ok++;
			done++;
			curl_multi_remove_handle(multi, s->easy);
			if (sent < total)
				start(multi, s, url, sent++);
		}
		if (done < total)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("requests=%ld ok=%ld failed=%ld seconds=%.3f rate=%.0f\n", total, ok, total - ok, secs,
	       (double)total / secs);
	for (long k = 0; k < conc; k++) {
		if (slots[k].easy)
			curl_easy_cleanup(slots[k].easy);
		curl_slist_free_all(slots[k].headers);
	}
	free(slots);
	curl_multi_cleanup(multi);
	curl_global_cleanup();
	return ok == total ? 0 : 1;
}
