/* SPDX-License-Identifier: GPL-2.0-only */
/* vouchctl's commands that live in files of their own. */
#ifndef VOUCH_VOUCHCTL_H
#define VOUCH_VOUCHCTL_H

/* vouchctl events: argv[0] is "events"; returns the exit status. */
int vouchctl__events(int argc, char **argv);
/* vouchctl attest and vouchctl verify (tools/vouchctl-attest.c). */
int vouchctl__attest(int argc, char **argv);
int vouchctl__verify(int argc, char **argv);
/* vouchctl status: argv[0] is "status"; returns the exit status. */
int vouchctl__status(int argc, char **argv);

#endif /* VOUCH_VOUCHCTL_H */
