/* SPDX-License-Identifier: GPL-2.0-only */
/* Bytes from the kernel, argv and file names made safe for JSON text. */
#ifndef VOUCH_UTF8_H
#define VOUCH_UTF8_H

#include <jansson.h>

/*
 * A copy of s in which every byte that does not start a valid UTF-8
 * sequence is replaced by U+FFFD. The caller frees it; NULL when memory
 * runs out.
 */
char *utf8__repair(const char *s);

/*
 * A jansson string of s, repaired as above when it is not UTF-8 (jansson
 * takes only UTF-8), so that raw bytes from argv or file names never cost
 * an event its field. NULL when memory runs out.
 */
json_t *utf8__json_string(const char *s);

#endif /* VOUCH_UTF8_H */
