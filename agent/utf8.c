// SPDX-License-Identifier: GPL-2.0-only
/* UTF-8 repair: jansson accepts only valid UTF-8, paths are raw bytes. */
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "utf8.h"

/* Length of the valid UTF-8 sequence at s, or 0 when it is not one. */
static size_t seq_len(const unsigned char *s)
{
	size_t n;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	/* a NUL ends the loop early, as it is not a continuation byte */
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong three- and four-byte forms, surrogates, > U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

char *utf8__repair(const char *s)
{
	const unsigned char *in = (const unsigned char *)s;
	char *out = malloc(strlen(s) * 3 + 1);
	char *o = out;

	if (!out)
		return NULL;
	while (*in) {
		size_t n = seq_len(in);

		if (n == 0) {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			in++;
			continue;
		}
		memcpy(o, in, n);
		o += n;
		in += n;
	}
	*o = '\0';
	return out;
}

json_t *utf8__json_string(const char *s)
{
	json_t *str = json_string(s);
	char *repaired;

	if (str)
		return str;
	repaired = utf8__repair(s);
	str = repaired ? json_string(repaired) : NULL;
	free(repaired);
	return str;
}
