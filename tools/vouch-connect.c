// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-connect: makes outbound connections and sends the ways the egress
 * tests need them, and tells what the kernel answered ("ok" or
 * "error ENAME"), so a test can tell a refusal (EPERM) from a closed port.
 * It also serves: a TCP listener or a UDP receiver to connect to.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
"Usage: vouch-connect COMMAND ...\n"
"  tcp ADDR PORT            connect() a TCP socket\n"
"  udp ADDR PORT            connect() a UDP socket\n"
"  sendto ADDR PORT         sendto() on an unconnected UDP socket\n"
"  sendmsg ADDR PORT        sendmsg() with msg_name, unconnected UDP\n"
"  tfo ADDR PORT            sendto(MSG_FASTOPEN): TCP fast open\n"
"  uring ADDR PORT          IORING_OP_CONNECT through io_uring\n"
"  uring-async ADDR PORT    the same, forced onto an io-wq worker\n"
"  uring-sqpoll ADDR PORT   the same, submitted by an SQPOLL thread\n"
"  fork HOW ADDR PORT       a forked child does HOW; prints its pid first\n"
"  thread HOW ADDR PORT     a new thread does HOW; prints its tid first\n"
"  hold HOW ADDR PORT       does HOW, prints, then waits for a signal\n"
"  loop N ADDR PORT_OK PORT_DENIED  N TCP connects, alternating ports\n"
"  bench N ADDR PORT        N TCP connect+close to a listener; ns per connect\n"
"  serve tcp|udp ADDR PORT  listen (accept and close) or receive, until killed\n"
"ADDR is IPv4 or IPv6 (::ffff:a.b.c.d included). Each prints 'ok' or\n"
"'error ENAME' (the errno's name).\n";

struct target {
	struct sockaddr_storage ss;
	socklen_t len;
	int family;
};

static int parse_target(const char *addr, const char *port, struct target *t)
{
	struct sockaddr_in *in4 = (struct sockaddr_in *)&t->ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&t->ss;
	long p = strtol(port, NULL, 10);

	memset(t, 0, sizeof(*t));
	if (p <= 0 || p > 65535)
		return -1;
	if (inet_pton(AF_INET, addr, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)p);
		t->len = sizeof(*in4);
	} else if (inet_pton(AF_INET6, addr, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)p);
		t->len = sizeof(*in6);
	} else {
		return -1;
	}
	t->family = t->ss.ss_family;
	return 0;
}

/* 0, or the errno of the failed step. */
static int do_connect(const struct target *t, int type)
{
	int fd = socket(t->family, type | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len))
		err = errno;
	close(fd);
	return err;
}

static int do_sendto(const struct target *t)
{
	int fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	if (sendto(fd, "vouch", 5, 0, (const struct sockaddr *)&t->ss,
		   t->len) < 0)
		err = errno;
	close(fd);
	return err;
}

static int do_sendmsg(const struct target *t)
{
	struct iovec iov = { .iov_base = "vouch", .iov_len = 5 };
	struct msghdr msg = {
		.msg_name = (void *)&t->ss, .msg_namelen = t->len,
		.msg_iov = &iov, .msg_iovlen = 1,
	};
	int fd = socket(t->family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	if (sendmsg(fd, &msg, 0) < 0)
		err = errno;
	close(fd);
	return err;
}

/* Fast open: the connect is made by the first send, which names the peer. */
static int do_tfo(const struct target *t)
{
	int fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	if (sendto(fd, "vouch", 5, MSG_FASTOPEN, (const struct sockaddr *)&t->ss,
		   t->len) < 0)
		err = errno;
	close(fd);
	return err;
}

/*
 * IORING_OP_CONNECT: issued inline by the submitter (how 0), forced onto
 * an io-wq worker thread (IOSQE_ASYNC), or submitted by the ring's SQPOLL
 * kernel thread.
 */
enum uring_how { URING_INLINE, URING_ASYNC, URING_SQPOLL };

static int do_uring(const struct target *t, enum uring_how how)
{
	int fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unsigned int flags = how == URING_SQPOLL ? IORING_SETUP_SQPOLL : 0;
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	struct io_uring ring;
	int err;

	if (fd < 0)
		return errno;
	err = -io_uring_queue_init(4, &ring, flags);
	if (err) {
		close(fd);
		return err;
	}
	sqe = io_uring_get_sqe(&ring);
	io_uring_prep_connect(sqe, fd, (const struct sockaddr *)&t->ss, t->len);
	if (how == URING_ASYNC)
		sqe->flags |= IOSQE_ASYNC;
	err = -io_uring_submit(&ring);
	if (err <= 0)
		err = -io_uring_wait_cqe(&ring, &cqe);
	if (!err) {
		err = cqe->res < 0 ? -cqe->res : 0;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	close(fd);
	return err;
}

static int run_how(const char *how, const struct target *t)
{
	if (!strcmp(how, "tcp"))
		return do_connect(t, SOCK_STREAM);
	if (!strcmp(how, "udp"))
		return do_connect(t, SOCK_DGRAM);
	if (!strcmp(how, "sendto"))
		return do_sendto(t);
	if (!strcmp(how, "sendmsg"))
		return do_sendmsg(t);
	if (!strcmp(how, "tfo"))
		return do_tfo(t);
	if (!strcmp(how, "uring"))
		return do_uring(t, URING_INLINE);
	if (!strcmp(how, "uring-async"))
		return do_uring(t, URING_ASYNC);
	if (!strcmp(how, "uring-sqpoll"))
		return do_uring(t, URING_SQPOLL);
	return -1;
}

static void print_result(int err)
{
	if (err == 0)
		printf("ok\n");
	else
		printf("error %s\n", strerrorname_np(err) ? strerrorname_np(err) : "?");
}

static int cmd_fork(const char *how, const struct target *t)
{
	int status, err;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (pid == 0) {
		err = run_how(how, t);
		printf("pid %d ", (int)getpid());
		print_result(err);
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &status, 0);
	return 0;
}

struct thread_arg {
	const char *how;
	const struct target *t;
	int err;
	int tid;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	a->tid = (int)syscall(SYS_gettid);
	a->err = run_how(a->how, a->t);
	return NULL;
}

static int cmd_thread(const char *how, const struct target *t)
{
	struct thread_arg a = { .how = how, .t = t };
	pthread_t th;

	if (pthread_create(&th, NULL, thread_main, &a))
		return 1;
	pthread_join(th, NULL);
	printf("tid %d ", a.tid);
	print_result(a.err);
	return 0;
}

/* N connects, even ones to port_ok, odd ones to port_denied. */
static int cmd_loop(long n, const char *addr, const char *port_ok,
		    const char *port_denied)
{
	struct target ok, denied;
	long refused = 0, other_refused = 0, other = 0;

	if (parse_target(addr, port_ok, &ok) ||
	    parse_target(addr, port_denied, &denied))
		return 2;
	for (long i = 0; i < n; i++) {
		int err = do_connect(i % 2 ? &denied : &ok, SOCK_STREAM);

		if (i % 2 && err == EPERM)
			refused++;
		else if (i % 2)
			other++;
		else if (err == EPERM)
			other_refused++;
	}
	printf("denied %ld refused %ld not_refused %ld allowed_but_refused %ld\n",
	       n / 2, refused, other, other_refused);
	return 0;
}

static void *accept_loop(void *p)
{
	int lfd = *(int *)p;

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static int listen_on(const struct target *t, int type)
{
	int one = 1, fd = socket(t->family, type | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (t->family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &(int){ 0 }, sizeof(int));
	setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN, &(int){ 16 }, sizeof(int));
	if (bind(fd, (const struct sockaddr *)&t->ss, t->len) ||
	    (type == SOCK_STREAM && listen(fd, 4096))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Connect and close with an RST (linger 0): no TIME_WAIT piles up. */
static int connect_close(const struct target *t)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int fd = socket(t->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int err = 0;

	if (fd < 0)
		return errno;
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len))
		err = errno;
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return err;
}

static int cmd_bench(long n, const struct target *t)
{
	int lfd = listen_on(t, SOCK_STREAM);
	long failed = 0;
	pthread_t th;
	int64_t t0;

	if (lfd < 0 || pthread_create(&th, NULL, accept_loop, &lfd)) {
		perror("vouch-connect: listen");
		return 1;
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++)
		failed += connect_close(t) != 0;
	printf("connects %ld ns %lld failed %ld\n", n,
	       (long long)((now_ns() - t0) / (n ? n : 1)), failed);
	return 0;
}

static int cmd_serve(const char *proto, const struct target *t)
{
	int udp = !strcmp(proto, "udp");
	int fd = listen_on(t, udp ? SOCK_DGRAM : SOCK_STREAM);
	char buf[512];

	if (fd < 0) {
		perror("vouch-connect: serve");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	if (!udp)
		accept_loop(&fd);
	for (;;)
		if (recv(fd, buf, sizeof(buf), 0) > 0) {
			printf("received\n");
			fflush(stdout);
		}
	return 0;
}

int main(int argc, char **argv)
{
	struct target t;
	int err;

	if (argc == 5 && (!strcmp(argv[1], "fork") || !strcmp(argv[1], "thread"))) {
		if (parse_target(argv[3], argv[4], &t))
			goto bad;
		return argv[1][0] == 'f' ? cmd_fork(argv[2], &t)
					 : cmd_thread(argv[2], &t);
	}
	/* alive until killed: vouchd can still read its /proc entry */
	if (argc == 5 && !strcmp(argv[1], "hold")) {
		if (parse_target(argv[3], argv[4], &t) || (err = run_how(argv[2], &t)) < 0)
			goto bad;
		print_result(err);
		fflush(stdout);
		pause();
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "loop"))
		return cmd_loop(strtol(argv[2], NULL, 10), argv[3], argv[4], argv[5]);
	if (argc == 5 && !strcmp(argv[1], "bench")) {
		if (parse_target(argv[3], argv[4], &t))
			goto bad;
		return cmd_bench(strtol(argv[2], NULL, 10), &t);
	}
	if (argc == 5 && !strcmp(argv[1], "serve")) {
		if (parse_target(argv[3], argv[4], &t))
			goto bad;
		return cmd_serve(argv[2], &t);
	}
	if (argc != 4 || parse_target(argv[2], argv[3], &t))
		goto bad;
	err = run_how(argv[1], &t);
	if (err < 0)
		goto bad;
	print_result(err);
	return 0;
bad:
	fputs(usage, stderr);
	return 2;
}
