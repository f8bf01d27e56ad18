/* SPDX-License-Identifier: GPL-2.0-only */
/* File-system path helpers shared by the config readers. */
#ifndef VOUCH_FSPATH_H
#define VOUCH_FSPATH_H

/*
 * The absolute directory of path (relative paths are taken from the
 * working directory), for resolving paths a file names relative to
 * itself. Allocated; NULL and errno on failure.
 */
char *fspath__dir_of(const char *path);

#endif /* VOUCH_FSPATH_H */
