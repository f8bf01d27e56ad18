// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for agent/log.c: levels, text and JSON lines, parsing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <criterion/criterion.h>
#include <jansson.h>

#include "log.h"

static char *text;
static size_t text_len;
static FILE *out;

static void setup(void)
{
	text = NULL;
	text_len = 0;
	out = open_memstream(&text, &text_len);
	cr_assert_not_null(out);
}

static void teardown(void)
{
	log__setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, NULL);
	if (out)
		fclose(out);
	free(text);
}

TestSuite(log, .init = setup, .fini = teardown, .timeout = 10);

/* What was logged so far: the logger flushes after every line. */
static const char *logged(void)
{
	return text ? text : "";
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void log_each_level(void)
{
	log_error("m-error");
	log_warn("m-warn");
	log_info("m-info");
	log_debug("m-debug");
}

static void assert_shown(const char *const *names, int shown)
{
	for (int i = 0; i < 4; i++) {
		if (i < shown)
			cr_assert_not_null(strstr(logged(), names[i]),
					   "%s missing from: %s", names[i],
					   logged());
		else
			cr_assert_null(strstr(logged(), names[i]),
				       "%s shown in: %s", names[i], logged());
	}
	cr_assert_eq(count_lines(logged()), (size_t)shown);
}

Test(log, level_filters_what_is_written)
{
	static const char *const names[] = {
		"m-error", "m-warn", "m-info", "m-debug",
	};

	for (int level = LOG_LEVEL_ERROR; level <= LOG_LEVEL_DEBUG; level++) {
		fclose(out);
		free(text);
		setup();
		log__setup((enum log_level)level, LOG_FORMAT_TEXT, out);
		cr_assert_eq(log__level(), (enum log_level)level);
		log_each_level();
		assert_shown(names, level + 1);
	}
}

Test(log, info_is_the_default_level)
{
	cr_assert_eq(log__level(), LOG_LEVEL_INFO);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ", 24 characters. */
static void assert_timestamp(const char *ts)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";

	for (size_t i = 0; i < sizeof(shape) - 1; i++) {
		if (shape[i] == 'd')
			cr_assert(ts[i] >= '0' && ts[i] <= '9', "time '%s'", ts);
		else
			cr_assert_eq(ts[i], shape[i], "time '%s'", ts);
	}
}

Test(log, text_line_has_time_level_and_message)
{
	const char *line;

	log__setup(LOG_LEVEL_DEBUG, LOG_FORMAT_TEXT, out);
	log_warn("policy: failed to load '%s': %s", "r.yaml", "bad");
	line = logged();
	assert_timestamp(line);
	cr_assert_str_eq(line + 24,
			 " warn  policy: failed to load 'r.yaml': bad\n");
}

Test(log, trailing_newlines_are_stripped)
{
	log__setup(LOG_LEVEL_INFO, LOG_FORMAT_TEXT, out);
	log_info("one\n\n");
	log_error("two\n");
	cr_assert_eq(count_lines(logged()), 2);
	cr_assert_eq(strncmp(strchr(logged(), '\n') - 4, " one\n", 5), 0,
		     "first line: %s", logged());
	assert_timestamp(strchr(logged(), '\n') + 1);
	cr_assert_str_eq(logged() + strlen(logged()) - 5, " two\n");
}

static json_t *parse_line(const char *line)
{
	json_error_t error;
	json_t *j = json_loadb(line, strcspn(line, "\n"), 0, &error);

	cr_assert_not_null(j, "not JSON (%s): %s", error.text, line);
	cr_assert(json_is_object(j));
	cr_assert_eq(json_object_size(j), 3, "keys: %s", line);
	return j;
}

static void assert_json_line(const char *line, const char *level,
			     const char *msg)
{
	json_t *j = parse_line(line);

	assert_timestamp(json_string_value(json_object_get(j, "time")));
	cr_assert_str_eq(json_string_value(json_object_get(j, "level")), level);
	cr_assert_str_eq(json_string_value(json_object_get(j, "msg")), msg);
	json_decref(j);
}

Test(log, json_lines_carry_time_level_and_msg)
{
	const char *second;

	log__setup(LOG_LEVEL_DEBUG, LOG_FORMAT_JSON, out);
	log_debug("rules: %d scopes", 3);
	log_error("say \"hi\"\\ now\n");
	cr_assert_eq(count_lines(logged()), 2);
	assert_json_line(logged(), "debug", "rules: 3 scopes");
	second = strchr(logged(), '\n') + 1;
	assert_json_line(second, "error", "say \"hi\"\\ now");
}

Test(log, json_respects_the_level_too)
{
	log__setup(LOG_LEVEL_WARN, LOG_FORMAT_JSON, out);
	log_info("hidden");
	log_warn("shown");
	cr_assert_eq(count_lines(logged()), 1);
	assert_json_line(logged(), "warn", "shown");
}

/* Paths and cgroup names are bytes, not text, and reach log messages. */
Test(log, json_line_is_written_for_a_message_with_invalid_utf8)
{
	log__setup(LOG_LEVEL_INFO, LOG_FORMAT_JSON, out);
	log_warn("events: failed to assign cgroup '%s'", "/pod\xff");
	cr_assert_eq(count_lines(logged()), 1,
		     "a JSON log message holding invalid UTF-8 was dropped "
		     "without a trace");
	parse_line(logged());
}

Test(log, parse_level_knows_the_four_names)
{
	cr_assert_eq(log__parse_level("error"), LOG_LEVEL_ERROR);
	cr_assert_eq(log__parse_level("warn"), LOG_LEVEL_WARN);
	cr_assert_eq(log__parse_level("info"), LOG_LEVEL_INFO);
	cr_assert_eq(log__parse_level("debug"), LOG_LEVEL_DEBUG);
	cr_assert_eq(log__parse_level("warning"), -1);
	cr_assert_eq(log__parse_level("INFO"), -1);
	cr_assert_eq(log__parse_level(""), -1);
}

Test(log, parse_format_knows_text_and_json)
{
	cr_assert_eq(log__parse_format("text"), LOG_FORMAT_TEXT);
	cr_assert_eq(log__parse_format("json"), LOG_FORMAT_JSON);
	cr_assert_eq(log__parse_format("JSON"), -1);
	cr_assert_eq(log__parse_format("yaml"), -1);
	cr_assert_eq(log__parse_format(""), -1);
}
