// SPDX-License-Identifier: GPL-2.0-only
/* The logger: one line per message, text or JSON, never one per event. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/libbpf.h>
#include <jansson.h>

#include "log.h"
#include "utf8.h"

static enum log_level current_level = LOG_LEVEL_INFO;
static enum log_format current_format = LOG_FORMAT_TEXT;
static FILE *log_out;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
};

void log__setup(enum log_level level, enum log_format format, FILE *out)
{
	current_level = level;
	current_format = format;
	log_out = out;
}

enum log_level log__level(void)
{
	return current_level;
}

int log__parse_level(const char *s)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0)
			return (int)i;
	return -1;
}

int log__parse_format(const char *s)
{
	if (strcmp(s, "text") == 0)
		return LOG_FORMAT_TEXT;
	if (strcmp(s, "json") == 0)
		return LOG_FORMAT_JSON;
	return -1;
}

static void format_time(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
}

static void write_json_line(FILE *out, const char *ts, enum log_level level,
			    const char *msg)
{
	/* file and cgroup names are raw bytes: never drop a message for it */
	char *text = utf8__repair(msg);
	json_t *obj = json_pack("{s:s, s:s, s:s}", "time", ts,
				"level", level_names[level],
				"msg", text ? text : "(out of memory)");
	char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

	if (line)
		fprintf(out, "%s\n", line);
	free(line);
	free(text);
	json_decref(obj);
}

static void log__vmsg(enum log_level level, const char *fmt, va_list ap)
{
	FILE *out = log_out ? log_out : stderr;
	char msg[1024];
	char ts[64];
	size_t n;

	if (level > current_level)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	format_time(ts, sizeof(ts));
	if (current_format == LOG_FORMAT_JSON)
		write_json_line(out, ts, level, msg);
	else
		fprintf(out, "%s %-5s %s\n", ts, level_names[level], msg);
	fflush(out);
}

void log__msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log__vmsg(level, fmt, ap);
	va_end(ap);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list ap)
{
	enum log_level mine = LOG_LEVEL_DEBUG;

	if (level == LIBBPF_WARN)
		mine = LOG_LEVEL_WARN;
	else if (level == LIBBPF_INFO)
		mine = LOG_LEVEL_DEBUG;
	/* libbpf's messages already start with "libbpf: " */
	log__vmsg(mine, fmt, ap);
	return 0;
}

void log__route_libbpf(void)
{
	libbpf_set_print(libbpf_print);
}
