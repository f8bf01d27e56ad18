// SPDX-License-Identifier: GPL-2.0-only
/*
 * vouch-trigger: causes execs the way the tests need them and reports what
 * happened to each child, so a test can tell "killed by signal 9" from
 * "ran". It is deliberately tiny and has no dependencies.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char usage[] =
"Usage: vouch-trigger COMMAND ...\n"
"  marker FILE              create FILE and exit 0 (the 'workload')\n"
"  run PATH [ARG...]        fork, execv PATH, report 'exit N' or 'signal N'\n"
"  run-execveat PATH [ARG...]  the same through execveat(fd, \"\", AT_EMPTY_PATH)\n"
"  run-memfd PATH [ARG...]  copy PATH into a memfd and fexecve it\n"
"  flood N PATH [ARG...]    N fork+execs, up to 32 at once; prints counts\n"
"  loop N PATH [ARG...]     N sequential fork+exec+wait; prints ns per exec\n";

static int do_marker(const char *file)
{
	int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return 1;
	if (write(fd, "ran\n", 4) != 4)
		return 1;
	return close(fd) ? 1 : 0;
}

static int memfd_copy(const char *path)
{
	char buf[65536];
	int in = open(path, O_RDONLY | O_CLOEXEC);
	int fd = (int)syscall(SYS_memfd_create, "vouch-trigger", 0);
	ssize_t n;

	if (in < 0 || fd < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(fd, buf, (size_t)n) != n)
			return -1;
	close(in);
	return n < 0 ? -1 : fd;
}

enum how { HOW_EXECV, HOW_EXECVEAT, HOW_MEMFD };

/* In the child: never returns. */
static void exec_child(enum how how, char **argv)
{
	int fd;

	switch (how) {
	case HOW_EXECV:
		execv(argv[0], argv);
		break;
	case HOW_EXECVEAT:
		fd = open(argv[0], O_PATH | O_CLOEXEC);
		if (fd >= 0)
			syscall(SYS_execveat, fd, "", argv, environ,
				AT_EMPTY_PATH);
		break;
	case HOW_MEMFD:
		fd = memfd_copy(argv[0]);
		if (fd >= 0)
			fexecve(fd, argv, environ);
		break;
	}
	fprintf(stderr, "vouch-trigger: failed to exec %s: %s\n", argv[0],
		strerror(errno));
	_exit(127);
}

static void report(int status)
{
	if (WIFSIGNALED(status))
		printf("signal %d\n", WTERMSIG(status));
	else
		printf("exit %d\n", WEXITSTATUS(status));
	fflush(stdout);
}

static int do_run(enum how how, char **argv)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return 1;
	if (pid == 0)
		exec_child(how, argv);
	if (waitpid(pid, &status, 0) < 0)
		return 1;
	report(status);
	return 0;
}

struct tally {
	long killed;
	long exited_ok;
	long other;
};

static void count(struct tally *t, int status)
{
	if (WIFSIGNALED(status) && WTERMSIG(status) == 9)
		t->killed++;
	else if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		t->exited_ok++;
	else
		t->other++;
}

static int do_flood(long n, char **argv)
{
	struct tally t = { 0 };
	long started = 0, running = 0;
	int status;

	while (started < n || running > 0) {
		while (started < n && running < 32) {
			pid_t pid = fork();

			if (pid < 0)
				break;
			if (pid == 0)
				exec_child(HOW_EXECV, argv);
			started++;
			running++;
		}
		if (wait(&status) < 0)
			break;
		running--;
		count(&t, status);
	}
	printf("started %ld killed %ld exited %ld other %ld\n", started,
	       t.killed, t.exited_ok, t.other);
	return 0;
}

static int do_loop(long n, char **argv)
{
	struct timespec a, b;
	struct tally t = { 0 };
	int status;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (long i = 0; i < n; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return 1;
		if (pid == 0)
			exec_child(HOW_EXECV, argv);
		if (waitpid(pid, &status, 0) < 0)
			return 1;
		count(&t, status);
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("execs %ld ns_per_exec %.0f failed %ld\n", n,
	       ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n,
	       t.killed + t.other);
	return 0;
}

int main(int argc, char **argv)
{
	long n;

	if (argc >= 3 && strcmp(argv[1], "marker") == 0)
		return do_marker(argv[2]);
	if (argc >= 3 && strcmp(argv[1], "run") == 0)
		return do_run(HOW_EXECV, &argv[2]);
	if (argc >= 3 && strcmp(argv[1], "run-execveat") == 0)
		return do_run(HOW_EXECVEAT, &argv[2]);
	if (argc >= 3 && strcmp(argv[1], "run-memfd") == 0)
		return do_run(HOW_MEMFD, &argv[2]);
	if (argc >= 4 && (strcmp(argv[1], "flood") == 0 ||
			  strcmp(argv[1], "loop") == 0)) {
		n = strtol(argv[2], NULL, 10);
		if (n <= 0)
			goto bad;
		return argv[1][0] == 'f' ? do_flood(n, &argv[3])
					 : do_loop(n, &argv[3]);
	}
bad:
	fputs(usage, stderr);
	return 2;
}
