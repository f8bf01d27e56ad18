/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The ABI between vouch's BPF programs and vouchd: map keys and values and
 * ring buffer records. Both compilers include this file, so it uses only
 * fixed-width __u* types, explicit padding and explicit enum values.
 */
#ifndef VOUCH_ABI_H
#define VOUCH_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define VOUCH_PATH_MAX		512	/* resolved path buffer, with NUL */
#define VOUCH_PATH_MATCH_MAX	247	/* longest path a rule can match */
#define VOUCH_PATH_DEPTH_MAX	64	/* dentries walked per path */
#define VOUCH_ARGV_MAX		256	/* argv bytes copied per exec */
#define VOUCH_PARENT_PATH_MAX	256	/* parent's executable, truncated */
#define VOUCH_COMM_LEN		16
#define VOUCH_SCRIPT_PATH_MAX	256	/* script path kept until its open */
#define VOUCH_CGROUP_DEPTH_MAX	16	/* cgroup ancestors tried per exec */
#define VOUCH_CGROUP_PATH_MAX	512	/* cgroup path in a mkdir record */

#define VOUCH_MAX_SCOPES	32768	/* rule scopes, then one per image */
#define VOUCH_MAX_PATH_RULES	262144	/* per trie, allocated on use */
#define VOUCH_MAX_INODE_RULES	262144	/* loaders repeat per scope, images included */
#define VOUCH_MAX_CGROUPS	16384
#define VOUCH_RINGBUF_BYTES	(8U << 20)
/*
 * Records are submitted without waking vouchd, which drains the ring
 * buffer every VOUCH_DRAIN_MS; once it is filled past this fraction of
 * its size, and for records that someone waits on, the submitter wakes it.
 */
#define VOUCH_DRAIN_MS			50
#define VOUCH_RINGBUF_WAKE_FRACTION	8

/* The host scope: every process whose cgroup has no scope of its own. */
#define VOUCH_SCOPE_HOST	0

enum vouch_mode {
	VOUCH_MODE_OFF = 0,
	VOUCH_MODE_AUDIT = 1,
	VOUCH_MODE_ENFORCE = 2,
};

enum vouch_verdict {
	VOUCH_VERDICT_ALLOW = 0,
	VOUCH_VERDICT_DENY = 1,
};

enum vouch_action {
	VOUCH_ACTION_NONE = 0,
	VOUCH_ACTION_KILLED = 1,
	VOUCH_ACTION_REPORTED = 2,
	VOUCH_ACTION_REFUSED = 3,
	VOUCH_ACTION_HELD = 4,		/* stopped until vouchd's verdict */
};

/* Why an exec was denied, or why a denial was waived. */
enum vouch_reason {
	VOUCH_REASON_NONE = 0,
	VOUCH_REASON_NOT_ALLOWED = 1,	/* scope has an allow-list, no entry */
	VOUCH_REASON_DENY_PATH = 2,	/* a deny entry matched the path */
	VOUCH_REASON_DENY_INODE = 3,	/* a deny entry matched dev+inode */
	VOUCH_REASON_DIRECT_LOADER = 4,	/* ld.so executed as the program */
	VOUCH_REASON_ANONYMOUS = 5,	/* memfd or other file without a path */
	VOUCH_REASON_PATH_TOO_LONG = 6,	/* path too long to match a rule */
	VOUCH_REASON_EGRESS_NOT_ALLOWED = 7,	/* no egress.allow entry */
	VOUCH_REASON_EGRESS_DENIED = 8,	/* an egress deny entry matched */
	VOUCH_REASON_UNIDENTIFIED = 9,	/* a container not identified yet */
};

enum vouch_event_kind {
	VOUCH_EVENT_EXEC = 1,
	VOUCH_EVENT_SCRIPT = 2,		/* a script judged when opened */
	VOUCH_EVENT_EXCEPTION = 3,	/* a denial waived by an exception */
	VOUCH_EVENT_CGROUP_MKDIR = 4,	/* for vouchd only: a new cgroup */
	VOUCH_EVENT_CONNECT = 5,	/* an outbound connect or send */
	VOUCH_EVENT_CONTAINER = 6,	/* a container's first exec, held */
	VOUCH_EVENT_KIND_MAX = 7,
};

/* Scope flags, in struct vouch_scope.flags. */
#define VOUCH_SCOPE_HAS_ALLOWLIST	(1U << 0)
#define VOUCH_SCOPE_DENY_LOADER		(1U << 1)
#define VOUCH_SCOPE_DENY_ANONYMOUS	(1U << 2)
#define VOUCH_SCOPE_CHECK_SCRIPTS	(1U << 3)
#define VOUCH_SCOPE_HAS_DENY		(1U << 4)	/* deny path entries */
#define VOUCH_SCOPE_HAS_INODES		(1U << 5)	/* inode entries */
#define VOUCH_SCOPE_CONTAINER		(1U << 6)	/* judges containers */
/* Containers: fail_action is kill, so a hold vouchd cannot learn of kills. */
#define VOUCH_SCOPE_FAIL_KILL		(1U << 7)
/* Egress: connects are judged in this scope (it has egress entries). */
#define VOUCH_SCOPE_EGRESS		(1U << 8)
/* Egress: egress.allow given, so a destination no entry covers is denied. */
#define VOUCH_SCOPE_EGRESS_ALLOWLIST	(1U << 9)
/* On the host scope only: this generation places some cgroup in a scope. */
#define VOUCH_SCOPE_POLICY_HAS_CGROUPS	(1U << 16)

/* Exec event flags, in struct vouch_exec_event.flags. */
#define VOUCH_EXE_ANONYMOUS	(1U << 0)
#define VOUCH_EXE_TRUNCATED	(1U << 1)
#define VOUCH_EXE_DELETED	(1U << 2)
#define VOUCH_EXE_VIA_SCRIPT	(1U << 3)	/* exe is a script's interpreter */
#define VOUCH_ARGV_TRUNCATED	(1U << 4)

/*
 * ARRAY globals, three entries. [VOUCH_GLOBALS_ACTIVE].gen is the policy
 * generation in force (0: none yet). [1] and [2] hold the host scope of the
 * odd and the even generation, so that a process of the host scope, the
 * common case, costs no hash lookup. vouchd writes the slot first and the
 * active generation last; a program that finds a slot of another
 * generation falls back to the scopes hash.
 */
#define VOUCH_GLOBALS_ACTIVE	0
#define VOUCH_GLOBALS_SLOTS	3

struct vouch_scope {
	__u32 mode;		/* enum vouch_mode */
	__u32 flags;		/* VOUCH_SCOPE_* */
};

#define VOUCH_INODE_FILTER	8
#define VOUCH_RUNTIMES_MAX	4

/* A file by identity: the kernel's device encoding and inode number. */
struct vouch_file_id {
	__u32 dev;
	__u32 pad;
	__u64 ino;
};

struct vouch_globals {
	__u32 gen;
	__u32 agent_tgid;	/* [VOUCH_GLOBALS_ACTIVE]: vouchd, for inspection */
	struct vouch_scope host;	/* slots only, and the rest too */
	/*
	 * Every inode number the inodes map holds for this generation, when
	 * there are at most VOUCH_INODE_FILTER; n_inodes above that means
	 * "look them all up". An exec whose inode is not here skips the
	 * lookup: no false negatives, only saved work.
	 */
	__u32 n_inodes;
	__u32 n_runtimes;
	__u64 inodes[VOUCH_INODE_FILTER];
	/*
	 * The container runtimes' own binaries (runc...). Their execs in a
	 * container's cgroup set it up and are not the workload: neither held
	 * nor judged, nor is the one anonymous re-exec (runc's memfd copy of
	 * itself) that directly follows one.
	 */
	struct vouch_file_id runtimes[VOUCH_RUNTIMES_MAX];
};

/* HASH cgroup_scopes: which scope a cgroup and its descendants belong to. */
struct vouch_cgroup_key {
	__u32 gen;
	__u32 pad;
	__u64 cgroup_id;
};

/* Flags of a cgroup's entry, in struct vouch_cgroup_scope.flags. */
#define VOUCH_CGROUP_MODE		(1U << 0)	/* mode overrides scope's */
/*
 * A cgroup under which container runtimes create containers: a descendant
 * that has no entry of its own is a container vouchd has not identified,
 * and its execs are held (enforce) or reported (audit) until it has.
 */
#define VOUCH_CGROUP_CONTAINER_ROOT	(1U << 1)
/* Set by the kernel side on what it caches for such a descendant. */
#define VOUCH_CGROUP_PENDING		(1U << 2)

/*
 * A workload's decision context: the scope that holds its lists and, for
 * a container, the mode its rule scope gives it.
 */
struct vouch_cgroup_scope {
	__u32 scope_id;
	__u16 mode;		/* enum vouch_mode, with VOUCH_CGROUP_MODE */
	__u16 flags;		/* VOUCH_CGROUP_* */
};

/*
 * LRU_HASH cgroup_cache, keyed like cgroup_scopes: the context the kernel
 * side found for a cgroup, with its scope's value, so that the next exec
 * or connect there pays one lookup. A generation's scopes never change.
 */
struct vouch_cgroup_context {
	struct vouch_cgroup_scope cs;
	struct vouch_scope scope;
};

/* HASH scopes. */
struct vouch_scope_key {
	__u32 gen;
	__u32 scope_id;
};

/*
 * LPM_TRIE allow_paths, deny_paths, exception_paths. A directory entry ends
 * in '/' and matches everything below it; an exact entry includes the
 * terminating NUL so it matches only itself. gen and scope_id are part of
 * the matched prefix, so every entry has prefixlen >= 64.
 */
struct vouch_path_key {
	__u32 prefixlen;
	__u32 gen;
	__u32 scope_id;
	char path[VOUCH_PATH_MATCH_MAX + 1];
};

/* The key's fields before the path, which the BPF side writes in place. */
#define VOUCH_PATH_KEY_HEADER	12

struct vouch_path_rule {
	__u32 rule_id;
	__u32 pad;
	__u64 expires_boot_ns;	/* exceptions only; 0 = never */
};

/*
 * HASH inodes: files judged by identity, whatever their name: deny-listed
 * files (VOUCH_INODE_DENY) and ELF interpreters (VOUCH_INODE_LOADER).
 */
struct vouch_inode_key {
	__u32 gen;
	__u32 scope_id;
	__u32 dev;		/* kernel encoding: major << 20 | minor */
	__u32 pad;
	__u64 ino;
};

enum vouch_inode_kind {
	VOUCH_INODE_DENY = 1,
	VOUCH_INODE_LOADER = 2,
};

struct vouch_inode_rule {
	__u32 kind;		/* enum vouch_inode_kind */
	__u32 rule_id;
};

/*
 * TASK_STORAGE task_state: a script whose interpreter has been exec'd but
 * has not opened it yet. The names are those the kernel put in the
 * interpreter's argv: the script exec'd (path) and, when scripts chain
 * (#! naming another script), the inner one (inner). They serve only to
 * recognise the interpreter's open by the name it passes to open(); the
 * decision is then made on the file actually opened, symlinks resolved.
 * Valid only while the task still runs the image (mm) it was noted for, so
 * exec need not touch it. The kernel frees it with the task; fork copies it.
 */
struct vouch_task_state {
	__u64 mm;
	__u32 script_pending;
	__u32 len;
	__u32 inner_len;	/* 0: no inner script */
	__u32 runtime_exec;	/* last exec was a container runtime's */
	char path[VOUCH_SCRIPT_PATH_MAX];
	char inner[VOUCH_SCRIPT_PATH_MAX];
};

/* Ring buffer record for every exec or script decision worth reporting. */
struct vouch_exec_event {
	__u16 kind;		/* enum vouch_event_kind */
	__u16 flags;		/* VOUCH_EXE_* */
	__u8 verdict;		/* enum vouch_verdict */
	__u8 action;		/* enum vouch_action */
	__u8 mode;		/* enum vouch_mode */
	__u8 reason;		/* enum vouch_reason */
	__u64 boot_ns;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 scope_id;
	__u32 rule_id;
	__u32 policy_gen;
	__u64 cgroup_id;
	__u32 dev;
	__u32 pad;
	__u64 ino;
	__u16 path_len;
	__u16 argv_len;
	__u32 pad2;
	char comm[VOUCH_COMM_LEN];
	char path[VOUCH_PATH_MAX];
	char argv[VOUCH_ARGV_MAX];
	char parent_path[VOUCH_PARENT_PATH_MAX];
};

/*
 * Ring buffer record for a cgroup created on the default hierarchy, so
 * that vouchd can give it the scope its path matches. A path that does not
 * fit is cut and flagged; vouchd then finds it by id.
 */
struct vouch_cgroup_event {
	__u16 kind;		/* VOUCH_EVENT_CGROUP_MKDIR */
	__u16 truncated;
	__u32 pad;
	__u64 cgroup_id;
	char path[VOUCH_CGROUP_PATH_MAX];
};

/*
 * LPM_TRIE egress: one trie for allow, deny and exception entries. The
 * matched prefix is gen, scope, family and the first prefix bits of addr
 * (IPv4: 4 bytes, IPv6: 16), so prefixlen = 96 + the CIDR's length. An
 * IPv4-mapped IPv6 destination is looked up as IPv4.
 */
#define VOUCH_EGRESS_KEY_HEADER_BITS	96
#define VOUCH_EGRESS_RANGES		16	/* port ranges per prefix */

enum vouch_egress_family {
	VOUCH_FAMILY_IPV4 = 4,
	VOUCH_FAMILY_IPV6 = 6,
};

struct vouch_egress_key {
	__u32 prefixlen;
	__u32 gen;
	__u32 scope_id;
	__u32 family;		/* enum vouch_egress_family */
	__u8 addr[16];
};

enum vouch_egress_kind {
	VOUCH_EGRESS_DENY = 1,
	VOUCH_EGRESS_ALLOW = 2,
	VOUCH_EGRESS_EXCEPTION = 3,
};

/* A port range and protocol (0: any) that an entry covering the prefix
 * names. Ports are in host order. */
struct vouch_egress_range {
	__u16 port_lo;
	__u16 port_hi;
	__u8 protocol;		/* IPPROTO_TCP, IPPROTO_UDP, 0: any */
	__u8 kind;		/* enum vouch_egress_kind */
	__u16 pad;
	__u32 rule_id;
};

/*
 * The LPM answer is only the longest prefix, so vouchd writes into each
 * prefix the ranges of every entry whose CIDR covers it, sorted deny
 * first, then allow, then exceptions: the first deny or allow range that
 * matches decides, and exceptions are looked at only after a denial.
 */
struct vouch_egress_rule {
	__u32 n;		/* ranges used */
	__u32 pad;
	struct vouch_egress_range r[VOUCH_EGRESS_RANGES];
};

/* rule_id of a record whose decision no entry made (a lookup miss). */
#define VOUCH_RULE_NONE		0xffffffffU

/* HASH egress_expiry: exception rule -> expiry (boot ns, 0: never). */
struct vouch_rule_key {
	__u32 gen;
	__u32 rule_id;
};

#define VOUCH_MAX_EGRESS_RULES	65536
#define VOUCH_MAX_EGRESS_PREFIXES	65536

/* PERCPU_ARRAY connect_sample[0]: report every Nth allowed connect. */
struct vouch_connect_sample {
	__u64 every;		/* 0: no allowed connect is reported */
	__u64 count;
};

/* How the destination was given. */
enum vouch_connect_hook {
	VOUCH_HOOK_CONNECT = 1,	/* connect(), TCP fast open, io_uring */
	VOUCH_HOOK_SENDMSG = 2,	/* sendto/sendmsg naming an address */
};

/*
 * Ring buffer record for a connect or send judged worth reporting: a
 * denial, an exception used (kind stays CONNECT, exception = 1), or a
 * sampled allowed one.
 */
struct vouch_connect_event {
	__u16 kind;		/* VOUCH_EVENT_CONNECT */
	__u8 exception;		/* a denial waived by an exception */
	__u8 hook;		/* enum vouch_connect_hook */
	__u8 verdict;		/* enum vouch_verdict */
	__u8 action;		/* enum vouch_action */
	__u8 mode;		/* enum vouch_mode */
	__u8 reason;		/* enum vouch_reason */
	__u64 boot_ns;
	__u32 pid;
	__u32 tgid;
	__u32 ppid;
	__u32 uid;
	__u32 gid;
	__u32 scope_id;
	__u32 rule_id;
	__u32 policy_gen;
	__u64 cgroup_id;
	__u8 family;		/* enum vouch_egress_family */
	__u8 protocol;		/* IPPROTO_* */
	__u16 port;		/* host order */
	__u32 sock_type;	/* SOCK_STREAM, SOCK_DGRAM, ... */
	__u8 addr[16];		/* IPv4 in the first 4 bytes */
	char comm[VOUCH_COMM_LEN];
};

#ifndef __VMLINUX_H__
_Static_assert(sizeof(struct vouch_egress_key) == 32, "egress_key ABI");
_Static_assert(sizeof(struct vouch_rule_key) == 8, "rule_key ABI");
_Static_assert(sizeof(struct vouch_egress_range) == 12, "egress_range ABI");
_Static_assert(sizeof(struct vouch_egress_rule) == 200, "egress_rule ABI");
_Static_assert(sizeof(struct vouch_connect_sample) == 16, "sample ABI");
_Static_assert(sizeof(struct vouch_connect_event) == 96, "connect_event ABI");
_Static_assert(sizeof(struct vouch_cgroup_event) == 528, "cgroup_event ABI");
_Static_assert(sizeof(struct vouch_globals) == 152, "vouch_globals ABI");
_Static_assert(sizeof(struct vouch_cgroup_key) == 16, "cgroup_key ABI");
_Static_assert(sizeof(struct vouch_scope) == 8, "scope ABI");
_Static_assert(sizeof(struct vouch_cgroup_scope) == 8, "cgroup_scope ABI");
_Static_assert(sizeof(struct vouch_path_key) == 260, "path_key ABI");
_Static_assert(sizeof(struct vouch_path_rule) == 16, "path_rule ABI");
_Static_assert(sizeof(struct vouch_inode_key) == 24, "inode_key ABI");
_Static_assert(sizeof(struct vouch_inode_rule) == 8, "inode_rule ABI");
_Static_assert(sizeof(struct vouch_task_state) == 536, "task state ABI");
_Static_assert(sizeof(struct vouch_exec_event) == 1120, "exec_event ABI");
#endif

#endif /* VOUCH_ABI_H */
