/* SPDX-License-Identifier: GPL-2.0-only */
/* One small logger for vouchd and vouchctl: levels, text or JSON lines. */
#ifndef VOUCH_LOG_H
#define VOUCH_LOG_H

#include <stdio.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN = 1,
	LOG_LEVEL_INFO = 2,
	LOG_LEVEL_DEBUG = 3,
};

enum log_format {
	LOG_FORMAT_TEXT = 0,
	LOG_FORMAT_JSON = 1,
};

void log__setup(enum log_level level, enum log_format format, FILE *out);
enum log_level log__level(void);
/* Parses "error", "warn", "info", "debug"; -1 when unknown. */
int log__parse_level(const char *s);
/* Parses "text", "json"; -1 when unknown. */
int log__parse_format(const char *s);
/* Routes libbpf's own messages into this logger (warn, info, debug). */
void log__route_libbpf(void);

void log__msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...)	log__msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log__msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)	log__msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log__msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* VOUCH_LOG_H */
