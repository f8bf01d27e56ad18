// SPDX-License-Identifier: GPL-2.0-only
/*
 * Unit tests for tools/collector/collector_server.c: listen addresses, and
 * a server on a free port of 127.0.0.1 answering libcurl. The full HTTP
 * behaviour is tests/e2e/test_collector.sh's.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <criterion/criterion.h>
#include <curl/curl.h>

#include "collector_server.h"

static char dir[64];
static char db_path[128];
static char err[512];
static struct collector_store *store;
static struct collector_server *server;

static void setup(void)
{
	strcpy(dir, "/tmp/vouch-test-cserver-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(db_path, sizeof(db_path), "%s/events.db", dir);
	store = NULL;
	server = NULL;
}

static void teardown(void)
{
	char path[160];

	collector_server__stop(server);
	collector_store__close(store);
	unlink(db_path);
	snprintf(path, sizeof(path), "%s-wal", db_path);
	unlink(path);
	snprintf(path, sizeof(path), "%s-shm", db_path);
	unlink(path);
	rmdir(dir);
}

TestSuite(cserver, .init = setup, .fini = teardown, .timeout = 20);

Test(cserver, parse_addr_ipv4_and_ipv6)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *in4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	char text[64];

	cr_assert_eq(collector_server__parse_addr("127.0.0.1:8443", &ss), 0);
	cr_assert_eq(ss.ss_family, AF_INET);
	cr_assert_eq(ntohs(in4->sin_port), 8443);
	inet_ntop(AF_INET, &in4->sin_addr, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1");

	cr_assert_eq(collector_server__parse_addr("[::1]:0", &ss), 0);
	cr_assert_eq(ss.ss_family, AF_INET6);
	cr_assert_eq(ntohs(in6->sin6_port), 0);
	cr_assert_eq(collector_server__parse_addr("0.0.0.0:80", &ss), 0);
}

Test(cserver, parse_addr_refuses_what_is_not_addr_port)
{
	static const char *const bad[] = {
		"", "127.0.0.1", ":8443", "127.0.0.1:", "localhost:8443",
		"127.0.0.1:http", "127.0.0.1:65536", "::1:8443", "[::1]",
		"[]:80", "1.2.3.4.5:80",
	};
	struct sockaddr_storage ss;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(collector_server__parse_addr(bad[i], &ss), -EINVAL,
			     "accepted '%s'", bad[i]);
}

static size_t discard(char *ptr, size_t size, size_t n, void *data)
{
	return size * n;
}

static long get_status(const char *url)
{
	CURL *curl = curl_easy_init();
	long code = 0;

	cr_assert_not_null(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 5L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
	cr_assert_eq(curl_easy_perform(curl), CURLE_OK);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(curl);
	return code;
}

Test(cserver, serves_on_a_free_port_and_stops)
{
	struct collector_server_config cfg = {
		.max_batch_bytes = COLLECTOR_MAX_BATCH_BYTES,
		.max_connections = 8,
		.timeout_s = 2,
	};
	struct collector_server_stats st;
	struct sockaddr_storage ss;
	unsigned int port;
	char url[96];

	store = collector_store__open(db_path, err, sizeof(err));
	cr_assert_not_null(store, "%s", err);
	cr_assert_eq(collector_server__parse_addr("127.0.0.1:0", &ss), 0);
	cfg.addr = (struct sockaddr *)&ss;
	server = collector_server__start(&cfg, store);
	cr_assert_not_null(server);
	port = collector_server__port(server);
	cr_assert_gt(port, 0);

	snprintf(url, sizeof(url), "http://127.0.0.1:%u/v1/events", port);
	cr_assert_eq(get_status(url), 200);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/nope", port);
	cr_assert_eq(get_status(url), 404);
	collector_server__stats(server, &st);
	cr_assert_eq(st.rejected, 1);
	collector_server__stop(server);
	server = NULL;
}

Test(cserver, stop_is_null_safe)
{
	collector_server__stop(NULL);
}
