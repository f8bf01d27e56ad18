/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Pinning under a bpffs directory, so enforcement outlives vouchd:
 *
 *   DIR/         mode 0700, root's alone
 *   DIR/maps/    one pin per map; the next vouchd loads its programs
 *                against these same maps (policy, ring buffer, counters)
 *   DIR/links/   one pin per attached program, named after it; the pin is
 *                what keeps the program attached while vouchd is down
 *
 * Nothing here detaches anything on its own but pin__unload().
 */
#ifndef VOUCH_PIN_H
#define VOUCH_PIN_H

#include <stddef.h>
#include <bpf/libbpf.h>

#define PIN_PATH_MAX	4096

/*
 * Makes DIR, DIR/maps and DIR/links (0700), mounting bpffs on /sys/fs/bpf
 * when that is where DIR lives and nothing is mounted there; 0 or -errno.
 */
int pin__prepare(const char *dir);
/*
 * Takes DIR for this process (an exclusive, non-blocking flock held as
 * long as the returned descriptor is open): two vouchds on one ring buffer
 * would each see part of the events. A descriptor, or -EBUSY when another
 * process holds DIR, or -errno.
 */
int pin__lock(const char *dir);
/* DIR/SUB/NAME into buf; -ENAMETOOLONG when it does not fit. */
int pin__path(char *buf, size_t len, const char *dir, const char *sub,
	      const char *name);
/*
 * Pins link as DIR/links/NAME, replacing the pin there in one rename: the
 * old link (an earlier vouchd's program) goes only once this one is in
 * place, so the hook is never without a program. 0 or -errno.
 */
int pin__replace_link(struct bpf_link *link, const char *dir, const char *name);
/* Removes pins in DIR/links whose name is not in keep (n names). */
int pin__prune_links(const char *dir, const char *const *keep, size_t n);
/* Whether DIR/maps holds any pin: a previous vouchd's state to adopt. */
int pin__has_maps(const char *dir);
/*
 * Removes every pin under DIR and DIR itself: links first (their programs
 * detach), then maps. Absent DIR is not an error; -EBUSY while a vouchd
 * holds DIR (it would pin them again). 0 or -errno.
 */
int pin__unload(const char *dir);

#endif /* VOUCH_PIN_H */
