// SPDX-License-Identifier: GPL-2.0-only
/* vouchctl: the operator's command line tool. One table entry per command. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "diag.h"
#include "rules.h"
#include "vouchctl.h"

#define EXIT_USAGE	2

static int cmd_lint(int argc, char **argv);

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "lint", cmd_lint, "check rule files and report every error" },
	{ "events", vouchctl__events, "read events from vouch-collector" },
	{ "attest", vouchctl__attest, "sign an allow-list described in YAML" },
	{ "verify", vouchctl__verify, "check an allow-list bundle against a trust config" },
	{ "status", vouchctl__status, "show what the running vouchd enforces" },
};

#define N_COMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl [OPTIONS] COMMAND [ARGS...]\n"
		"\n"
		"Operator tool for vouch, the attested-executables node agent.\n"
		"\n"
		"Options:\n"
		"  -h, --help     show this help and exit\n"
		"  -V, --version  show the version and exit\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-14s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\nRun 'vouchctl COMMAND --help' for a command's options.\n");
}

static void lint_usage(FILE *out)
{
	fprintf(out,
		"Usage: vouchctl lint FILE...\n"
		"\n"
		"Loads each rule file as vouchd would and prints every problem as\n"
		"FILE:LINE:COLUMN: error: MESSAGE on stderr, and 'FILE: ok' with a\n"
		"summary on stdout for each valid file. Warnings, such as an expired\n"
		"exception, do not fail the check.\n"
		"\n"
		"Exit status: 0 when every file is valid, 1 when any has an error,\n"
		"2 on a usage error.\n");
}

/* Returns 0 for a valid file, 1 otherwise. */
static int lint_file(const char *path, int64_t now)
{
	struct diags diags = { 0 };
	struct vouch_rules *rules;

	rules = rules__load(path, now, &diags);
	fflush(stdout);
	diags__print(&diags, stderr);
	diags__free(&diags);
	if (!rules)
		return 1;
	printf("%s: ok (%zu scopes, %zu exceptions)\n", path, rules->n_scopes,
	       rules->n_exceptions);
	rules__free(rules);
	return 0;
}

static int cmd_lint(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t now = (int64_t)time(NULL);
	int opt, failed = 0;

	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (opt == 'h') {
			lint_usage(stdout);
			return EXIT_SUCCESS;
		}
		lint_usage(stderr);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "vouchctl lint: no rule file given\n");
		lint_usage(stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		failed |= lint_file(argv[i], now);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const struct command *cmd;
	int opt;

	/* '+': stop at the command name; its options are its own. */
	while ((opt = getopt_long(argc, argv, "+hV", opts, NULL)) != -1) {
		switch (opt) {
		case 'h':
			usage(stdout);
			return EXIT_SUCCESS;
		case 'V':
			printf("vouchctl %s\n", VOUCH_VERSION);
			return EXIT_SUCCESS;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = find_command(argv[optind]);
	if (!cmd) {
		fprintf(stderr, "vouchctl: unknown command '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}

	argc -= optind;
	argv += optind;
	optind = 0;	/* glibc: 0 restarts option parsing from scratch */
	return cmd->run(argc, argv);
}
