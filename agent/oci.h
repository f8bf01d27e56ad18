/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The OCI metadata provider: a container's config.json annotations, found
 * through the runtime's state (runc's state.json names the bundle) or at
 * the bundle paths containerd and CRI-O use.
 */
#ifndef VOUCH_OCI_H
#define VOUCH_OCI_H

#include <stddef.h>
#include "workload.h"

#define OCI_MAX_FILE_BYTES	(4U << 20)
#define OCI_MAX_ANNOTATION	4096	/* longer values are ignored, logged */

/*
 * Where to look for a container, "{id}" standing for its ID; shell globs
 * allowed elsewhere. A state.json is followed to its bundle's config.json.
 */
extern const char *const oci_default_locations[];

/*
 * Fills m from the first location that has the container. Returns 0;
 * -ENOENT when no location has it (yet); another -errno, with why, when
 * a file is there but unusable (too big, not JSON, wrong shapes).
 */
int oci__lookup(const char *const *locations, const char *id,
		struct workload_meta *m, char *why, size_t why_len);

/* Parses a config.json already read; exposed for tests and the fuzzer. */
int oci__parse_config(const char *buf, size_t len, const char *name,
		      struct workload_meta *m, char *why, size_t why_len);

#endif /* VOUCH_OCI_H */
