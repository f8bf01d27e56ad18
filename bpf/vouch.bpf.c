// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vouch's kernel side for exec: every exec is judged by the file the kernel
 * actually runs, against allow- and deny-lists held in maps, and killed with
 * SIGKILL before its first instruction when the scope enforces. Scripts are
 * judged a second time, as themselves, when their interpreter opens them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "vouch_abi.h"
#include "common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define SIGKILL 9
#define SIGSTOP 19
#define EPERM 1
#define NAME_CHUNK 256		/* longest dentry name copied, with NUL */
#define PATHBUF_MASK (VOUCH_PATH_MAX - 1)

/*
 * Hides a value from the compiler's range analysis, so that a mask the
 * verifier needs is not optimised away as redundant.
 */
#define opaque(x) asm volatile("" : "+r"(x))

/*
 * Whether field b directly follows field a on the running kernel, checked
 * at load time through CO-RE, so that one probe read can fetch both. Each
 * probe read is a helper call, and the path walk is the hot part of exec.
 */
#define FOLLOWS(type, a, b)						\
	(bpf_core_field_offset(type, b) ==				\
	 bpf_core_field_offset(type, a) + bpf_core_field_size(type, a))


#define PATH_TRIE(name)							\
	struct {							\
		__uint(type, BPF_MAP_TYPE_LPM_TRIE);			\
		__uint(max_entries, VOUCH_MAX_PATH_RULES);		\
		__uint(map_flags, BPF_F_NO_PREALLOC);			\
		__type(key, struct vouch_path_key);			\
		__type(value, struct vouch_path_rule);			\
	} name SEC(".maps")

PATH_TRIE(allow_paths);
PATH_TRIE(deny_paths);
PATH_TRIE(exception_paths);

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, VOUCH_MAX_INODE_RULES);
	__type(key, struct vouch_inode_key);
	__type(value, struct vouch_inode_rule);
} inodes SEC(".maps");


struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct vouch_task_state);
} task_state SEC(".maps");


/* What the resolver found out about the executed file. */
struct exe_id {
	__u32 dev;
	__u32 flags;		/* VOUCH_EXE_* */
	__u64 ino;
	__u32 len;		/* bytes of the path, without NUL */
	__u32 start;		/* where it starts in rev */
};

/*
 * Per-CPU working memory: the BPF stack is 512 bytes, far less than a path.
 * rev is twice VOUCH_PATH_MAX so that a name copied at any masked offset,
 * and the copies out of it, stay inside it, which is what the verifier
 * checks. The path itself starts at rev[off].
 */
struct scratch {
	char rev[2 * VOUCH_PATH_MAX];	/* built right to left */
	char opened[VOUCH_SCRIPT_PATH_MAX];	/* the name passed to open() */
	/*
	 * Kept here, not on the stack: values that differ between the loop
	 * exits would otherwise make the verifier walk everything after the
	 * loops once per exit.
	 */
	struct exe_id id;
	__u32 off;		/* where the path starts in rev */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch_map SEC(".maps");

/*
 * Set by vouchd before load when the BPF LSM program judges exec (see
 * vouch_exec_lsm); the tracepoint then leaves exec to it, so that no exec
 * is judged or reported twice.
 */
const volatile __u32 lsm_exec = 0;

struct decision {
	__u32 scope_id;
	__u32 mode;
	__u32 verdict;
	__u32 reason;
	__u32 rule_id;
	__u32 exception;	/* a denial waived by an exception */
};

static __always_inline struct scratch *get_scratch(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&scratch_map, &zero);
}


/* Whether the inodes map may hold ino: a check in a line already read. */
static __always_inline int inode_may_match(const struct vouch_globals *slot,
					   __u64 ino)
{
	if (!slot || slot->n_inodes > VOUCH_INODE_FILTER)
		return 1;
	for (int i = 0; i < VOUCH_INODE_FILTER; i++) {
		if (i >= slot->n_inodes)
			return 0;
		if (slot->inodes[i] == ino)
			return 1;
	}
	return 0;
}


/* Prepends "/name" to the path being built right to left in s->rev. */
static __always_inline int prepend_name(struct scratch *s,
					const struct qstr *q, int slash)
{
	__u32 at = s->off;
	__u32 len = q->len;


	if (len > NAME_CHUNK - 1 || len + 1 > at)
		return -1;
	at -= len;
	opaque(at);
	bpf_probe_read_kernel(&s->rev[at & PATHBUF_MASK], len & (NAME_CHUNK - 1),
			      q->name);
	if (slash) {
		at -= 1;
		opaque(at);
		s->rev[at & PATHBUF_MASK] = '/';
	}
	s->off = at;
	return 0;
}

/*
 * Builds the file's path from the dentry up to the root of its mount
 * namespace, crossing mount points, the way d_path does, right to left.
 * Stopping at the namespace root rather than the task's root means chroot
 * cannot rename a binary. The path starts at s->off in s->rev; the offset
 * lives in memory, not a register, so that the loop's many exits leave the
 * verifier with states it can prune.
 */
/* A dentry's parent and name, in one read where the layout allows. */
struct dentry_link {
	struct dentry *parent;
	struct qstr name;
};

static __always_inline void read_dentry(struct dentry *d, struct dentry_link *l)
{
	if (FOLLOWS(struct dentry, d_parent, d_name)) {
		bpf_probe_read_kernel(l, sizeof(*l),
				      (void *)d + bpf_core_field_offset(struct dentry, d_parent));
		return;
	}
	l->parent = BPF_CORE_READ(d, d_parent);
	BPF_CORE_READ_INTO(&l->name, d, d_name);
}

/* Where a mount sits: its parent, its mount point there, and its root. */
struct mount_link {
	struct mount *parent;
	struct dentry *mountpoint;
	struct dentry *root;	/* the first field of struct vfsmount */
};

static __always_inline void read_mount(struct mount *m, struct mount_link *l)
{
	if (FOLLOWS(struct mount, mnt_parent, mnt_mountpoint) &&
	    FOLLOWS(struct mount, mnt_mountpoint, mnt) &&
	    bpf_core_field_offset(struct vfsmount, mnt_root) == 0) {
		bpf_probe_read_kernel(l, sizeof(*l),
				      (void *)m + bpf_core_field_offset(struct mount, mnt_parent));
		return;
	}
	l->parent = BPF_CORE_READ(m, mnt_parent);
	l->mountpoint = BPF_CORE_READ(m, mnt_mountpoint);
	l->root = BPF_CORE_READ(m, mnt.mnt_root);
}

/*
 * Walks from dentry up through mounts with probe reads, which work for any
 * pointer. Returns when the root of the mount namespace is reached.
 */
static __always_inline void walk_probed(struct scratch *s,
					struct dentry *dentry,
					struct mount *mnt,
					struct mount_link *ml, __u32 *flags)
{
	struct dentry_link dl;

	for (int i = 0; i < VOUCH_PATH_DEPTH_MAX; i++) {
		if (dentry == ml->root) {
			if (ml->parent == mnt)
				return;
			dentry = ml->mountpoint;
			mnt = ml->parent;
			read_mount(mnt, ml);
			continue;
		}
		read_dentry(dentry, &dl);
		/* memfd, pipes, detached trees: a bare name, no path */
		if (dl.parent == dentry) {
			*flags |= VOUCH_EXE_ANONYMOUS;
			if (prepend_name(s, &dl.name, 0))
				break;
			return;
		}
		if (prepend_name(s, &dl.name, 1))
			break;
		dentry = dl.parent;
	}
	*flags |= VOUCH_EXE_TRUNCATED;
}

/*
 * Walks the dentries of the file's own mount with plain loads, which the
 * verifier allows while the pointers carry BTF types (a tp_btf argument
 * and what it points to): no helper call per step. Returns 0 at the
 * mount's root, 1 when the path is complete or cut.
 */
static __always_inline int walk_own_mount(struct scratch *s,
					  struct dentry *dentry,
					  struct dentry *root, __u32 *flags)
{
	for (int i = 0; i < VOUCH_PATH_DEPTH_MAX; i++) {
		struct dentry *parent;
		struct qstr name;

		if (dentry == root)
			return 0;
		parent = dentry->d_parent;
		name.name = dentry->d_name.name;
		name.len = dentry->d_name.len;
		if (parent == dentry) {
			*flags |= VOUCH_EXE_ANONYMOUS;
			if (prepend_name(s, &name, 0))
				break;
			return 1;
		}
		if (prepend_name(s, &name, 1))
			break;
		dentry = parent;
	}
	*flags |= VOUCH_EXE_TRUNCATED;
	return 1;
}

/*
 * The path of file, right to left into s->rev. trusted is a constant at
 * each call: whether file has a BTF type (the exec hook's bprm->file) or
 * is a bare address (from the fd table, where older kernels offer no way
 * to type it).
 */
static __always_inline void build_path(struct scratch *s, struct file *file,
				       __u32 *flags, const int trusted)
{
	struct mount_link ml;
	struct dentry *dentry;
	struct mount *mnt;
	struct path fpath;

	/* struct mount is reached from vfsmount by address: a probe read */
	BPF_CORE_READ_INTO(&fpath, file, f_path);
	dentry = fpath.dentry;
	mnt = container_of(fpath.mnt, struct mount, mnt);
	read_mount(mnt, &ml);
	s->off = VOUCH_PATH_MAX - 1;
	s->rev[VOUCH_PATH_MAX - 1] = '\0';
	if (trusted) {
		if (walk_own_mount(s, file->f_path.dentry, ml.root, flags))
			return;
		if (ml.parent == mnt)
			return;
		dentry = ml.mountpoint;
		mnt = ml.parent;
		read_mount(mnt, &ml);
	}
	walk_probed(s, dentry, mnt, &ml, flags);
}

static __always_inline void resolve_file(struct scratch *s, struct file *file,
					 struct exe_id *id, const int trusted)
{
	struct inode *inode;
	struct {
		unsigned long ino;
		unsigned int nlink;
	} in = {};

	id->flags = 0;
	if (trusted) {
		inode = file->f_inode;
		id->dev = inode->i_sb->s_dev;
		in.ino = inode->i_ino;
		in.nlink = inode->__i_nlink;
		goto path;
	}
	inode = BPF_CORE_READ(file, f_inode);
	id->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	if (FOLLOWS(struct inode, i_ino, __i_nlink)) {
		bpf_probe_read_kernel(&in, sizeof(in),
				      (void *)inode + bpf_core_field_offset(struct inode, i_ino));
	} else {
		in.ino = BPF_CORE_READ(inode, i_ino);
		in.nlink = BPF_CORE_READ(inode, __i_nlink);
	}
path:
	id->ino = in.ino;
	if (in.nlink == 0)
		id->flags |= VOUCH_EXE_DELETED;
	build_path(s, file, &id->flags, trusted);
	id->start = s->off & PATHBUF_MASK;
	id->len = VOUCH_PATH_MAX - 1 - id->start;
	/* reload from memory from here on, see struct scratch */
	asm volatile("" ::: "memory");
}


/*
 * Prepares the LPM key in place, its header written just before the path
 * in rev, so that the path is not copied. Returns the key, or NULL when
 * the path is too long to match.
 */
static __always_inline struct vouch_path_key *
path_key(struct scratch *s, __u32 gen, __u32 scope_id, const struct exe_id *id)
{
	struct {
		__u32 prefixlen;
		__u32 gen;
		__u32 scope_id;
	} hdr = {
		/* gen, scope, path and NUL: exact entries end in NUL, dirs '/' */
		.prefixlen = (8 + id->len + 1) * 8,
		.gen = gen,
		.scope_id = scope_id,
	};
	__u32 at;

	if (id->len > VOUCH_PATH_MATCH_MAX)
		return NULL;
	at = id->start - VOUCH_PATH_KEY_HEADER;
	opaque(at);
	at &= PATHBUF_MASK;
	__builtin_memcpy(&s->rev[at], &hdr, sizeof(hdr));
	return (struct vouch_path_key *)&s->rev[at];
}

static __always_inline struct vouch_inode_rule *
lookup_inode(__u32 gen, __u32 scope_id, const struct exe_id *id)
{
	struct vouch_inode_key key = {
		.gen = gen, .scope_id = scope_id, .dev = id->dev, .ino = id->ino,
	};

	return bpf_map_lookup_elem(&inodes, &key);
}

/*
 * The decision, in this order: a deny entry (path or inode) always wins;
 * then the scope's checks on what the file is; then an allow entry; then,
 * in an allow-list scope, anything else is denied. A denial may still be
 * waived by an unexpired exception, whose use is reported.
 */
static __always_inline void judge(struct scratch *s, __u32 gen,
				  const struct vouch_globals *slot,
				  const struct vouch_scope *sc,
				  const struct exe_id *id, int exe,
				  struct decision *d)
{
	struct vouch_path_key *key = path_key(s, gen, d->scope_id, id);
	struct vouch_inode_rule *inode = NULL;
	struct vouch_path_rule *rule = NULL;

	d->verdict = VOUCH_VERDICT_DENY;
	/* fail closed: a path that cannot be matched is judged by no list */
	if (!key || (id->flags & VOUCH_EXE_TRUNCATED)) {
		d->reason = VOUCH_REASON_PATH_TOO_LONG;
		return;
	}
	/* each lookup is skipped where the scope has no such entry */
	if (sc->flags & VOUCH_SCOPE_HAS_DENY)
		rule = bpf_map_lookup_elem(&deny_paths, key);
	if (rule) {
		d->reason = VOUCH_REASON_DENY_PATH;
		d->rule_id = rule->rule_id;
		goto exception;
	}
	if ((sc->flags & VOUCH_SCOPE_HAS_INODES) && inode_may_match(slot, id->ino))
		inode = lookup_inode(gen, d->scope_id, id);
	if (inode && inode->kind == VOUCH_INODE_DENY) {
		d->reason = VOUCH_REASON_DENY_INODE;
		d->rule_id = inode->rule_id;
		goto exception;
	}
	if ((sc->flags & VOUCH_SCOPE_DENY_ANONYMOUS) &&
	    (id->flags & VOUCH_EXE_ANONYMOUS)) {
		d->reason = VOUCH_REASON_ANONYMOUS;
		goto exception;
	}
	/* loader entries exist only in scopes that deny direct use */
	if (exe && inode && inode->kind == VOUCH_INODE_LOADER) {
		d->reason = VOUCH_REASON_DIRECT_LOADER;
		goto exception;
	}
	if (!(sc->flags & VOUCH_SCOPE_HAS_ALLOWLIST)) {
		d->verdict = VOUCH_VERDICT_ALLOW;
		return;
	}
	rule = bpf_map_lookup_elem(&allow_paths, key);
	if (rule && !(id->flags & VOUCH_EXE_ANONYMOUS)) {
		d->verdict = VOUCH_VERDICT_ALLOW;
		d->rule_id = rule->rule_id;
		return;
	}
	d->reason = VOUCH_REASON_NOT_ALLOWED;
exception:
	rule = bpf_map_lookup_elem(&exception_paths, key);
	if (!rule)
		return;
	if (rule->expires_boot_ns && rule->expires_boot_ns < bpf_ktime_get_boot_ns())
		return;
	d->exception = 1;
	d->rule_id = rule->rule_id;
}

static __always_inline void fill_argv(struct vouch_exec_event *ev,
				      struct task_struct *task)
{
	unsigned long start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long end = BPF_CORE_READ(task, mm, arg_end);
	unsigned long len = end - start;

	if (end <= start) {
		ev->argv_len = 0;
		return;
	}
	/* one byte short of the buffer, so the mask below bounds the read */
	if (len > VOUCH_ARGV_MAX - 1) {
		len = VOUCH_ARGV_MAX - 1;
		ev->flags |= VOUCH_ARGV_TRUNCATED;
	}
	len &= VOUCH_ARGV_MAX - 1;
	if (bpf_probe_read_user(ev->argv, len, (void *)start) == 0)
		ev->argv_len = len;
}

/*
 * The parent's executable, resolved now: by the time vouchd reads the
 * event the parent may be gone. Only denials pay for this second walk.
 */
static __always_inline void fill_parent_path(struct scratch *s,
					     struct vouch_exec_event *ev,
					     struct task_struct *task)
{
	struct file *exe = BPF_CORE_READ(task, real_parent, mm, exe_file);
	__u32 flags = 0, off;

	ev->parent_path[0] = '\0';
	if (!exe)
		return;
	build_path(s, exe, &flags, 0);
	off = s->off & PATHBUF_MASK;
	bpf_probe_read_kernel(ev->parent_path, sizeof(ev->parent_path),
			      &s->rev[off]);
	ev->parent_path[VOUCH_PARENT_PATH_MAX - 1] = '\0';
}

/*
 * A ring buffer record with everything both exec paths report the same
 * way: the decision, the ids, the file; NULL (and a loss counted) when
 * the ring buffer is full. Name, argv and parent are the caller's.
 */
static __always_inline struct vouch_exec_event *
reserve_record(struct scratch *s, struct task_struct *task, __u16 kind,
	       const struct exe_id *id, const struct decision *d, __u8 action)
{
	struct vouch_exec_event *ev;
	__u64 uid_gid;

	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(kind);
		return NULL;
	}
	uid_gid = bpf_get_current_uid_gid();
	ev->kind = kind;
	ev->flags = id->flags;
	ev->verdict = d->verdict;
	ev->action = action;
	ev->mode = d->mode;
	ev->reason = d->reason;
	ev->boot_ns = bpf_ktime_get_boot_ns();
	ev->pid = BPF_CORE_READ(task, pid);
	ev->tgid = BPF_CORE_READ(task, tgid);
	ev->ppid = BPF_CORE_READ(task, real_parent, tgid);
	ev->uid = (__u32)uid_gid;
	ev->gid = uid_gid >> 32;
	ev->scope_id = d->scope_id;
	ev->rule_id = d->rule_id;
	ev->policy_gen = active_gen();
	ev->cgroup_id = bpf_get_current_cgroup_id();
	ev->dev = id->dev;
	ev->pad = 0;
	ev->ino = id->ino;
	ev->path_len = id->len;
	ev->argv_len = 0;
	ev->pad2 = 0;
	bpf_probe_read_kernel(ev->path, sizeof(ev->path),
			      &s->rev[id->start & PATHBUF_MASK]);
	return ev;
}

/* Fills in the caller's part of a reserved record and submits it. */
static __always_inline void submit_record(struct scratch *s,
					  struct task_struct *task,
					  struct vouch_exec_event *ev)
{
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	fill_argv(ev, task);
	fill_parent_path(s, ev, task);
	/*
	 * A held task waits for vouchd's verdict, and a container is best
	 * identified while it still runs, held or not.
	 */
	bpf_ringbuf_submit(ev, submit_flags(ev->kind == VOUCH_EVENT_CONTAINER));
}

static __always_inline void emit(struct scratch *s, struct task_struct *task,
				 __u16 kind, const struct exe_id *id,
				 const struct decision *d, __u8 action)
{
	struct vouch_exec_event *ev = reserve_record(s, task, kind, id, d,
						     action);

	if (ev)
		submit_record(s, task, ev);
}

/* Acts on a decision: kill or report, and tell vouchd. */
static __always_inline void act(struct scratch *s, struct task_struct *task,
				__u16 kind, const struct exe_id *id,
				struct decision *d)
{
	__u8 action = VOUCH_ACTION_REPORTED;

	if (d->verdict == VOUCH_VERDICT_ALLOW)
		return;
	if (d->exception) {
		d->verdict = VOUCH_VERDICT_ALLOW;
		emit(s, task, VOUCH_EVENT_EXCEPTION, id, d, VOUCH_ACTION_NONE);
		return;
	}
	if (d->mode == VOUCH_MODE_ENFORCE) {
		/* delivered on return to user space: no instruction runs */
		bpf_send_signal(SIGKILL);
		action = VOUCH_ACTION_KILLED;
	}
	emit(s, task, kind, id, d, action);
}

/*
 * Keeps the names the interpreter will open: the script exec'd, and
 * argv[1] when it differs (a chained script, or a #! option the
 * interpreter will not open, which then never matches).
 */
static __always_inline void note_script(struct linux_binprm *bprm,
					struct task_struct *task)
{
	const char *argv1 = (const char *)BPF_CORE_READ(task, mm, arg_start);
	struct vouch_task_state *ts;
	long n;

	ts = bpf_task_storage_get(&task_state, task, NULL,
				  BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!ts)
		return;
	n = bpf_probe_read_kernel_str(ts->path, sizeof(ts->path),
				      bprm->filename);
	ts->mm = (__u64)task->mm;
	ts->len = n > 1 ? n - 1 : 0;
	ts->script_pending = n > 1;
	/* argv[0] is the interpreter's name; argv[1] follows its NUL */
	n = bpf_probe_read_user_str(ts->inner, sizeof(ts->inner), argv1);
	if (n <= 0 || n > (long)sizeof(ts->inner))
		n = 0;
	argv1 += n;
	n = bpf_probe_read_user_str(ts->inner, sizeof(ts->inner), argv1);
	ts->inner_len = n > 1 ? n - 1 : 0;
}

/*
 * An exec in a container vouchd has not identified yet: nothing else
 * denies it, but its image is not judged. In enforce mode the task stops
 * before its first instruction and waits for vouchd, which releases or
 * kills every task of the container; in audit mode it runs, reported.
 * Only a task whose record is in the ring buffer is held: vouchd would
 * never release one it does not know of. With the buffer full, the fail
 * action is applied here (the loss is counted): kill, or let it run.
 */
static __always_inline void hold(struct scratch *s, struct task_struct *task,
				 const struct exe_id *id, struct decision *d,
				 const struct vouch_scope *sc)
{
	int enforce = d->mode == VOUCH_MODE_ENFORCE;
	struct vouch_exec_event *ev;

	d->verdict = VOUCH_VERDICT_DENY;
	d->reason = VOUCH_REASON_UNIDENTIFIED;
	ev = reserve_record(s, task, VOUCH_EVENT_CONTAINER, id, d,
			    enforce ? VOUCH_ACTION_HELD : VOUCH_ACTION_REPORTED);
	if (!ev) {
		if (enforce && (sc->flags & VOUCH_SCOPE_FAIL_KILL))
			bpf_send_signal(SIGKILL);
		return;
	}
	if (enforce)
		bpf_send_signal(SIGSTOP);
	submit_record(s, task, ev);
}

/* Whether the file is one of the container runtimes' own binaries. */
static __always_inline int is_runtime(const struct vouch_globals *slot,
				      struct file *file)
{
	struct inode *inode = file->f_inode;
	__u64 ino = inode->i_ino;
	__u32 dev = inode->i_sb->s_dev;

	for (int i = 0; i < VOUCH_RUNTIMES_MAX; i++) {
		if (i >= slot->n_runtimes)
			return 0;
		if (slot->runtimes[i].ino == ino && slot->runtimes[i].dev == dev)
			return 1;
	}
	return 0;
}

/* Notes, or clears, that this task's last exec was the runtime's. */
static __always_inline void note_runtime(struct task_struct *task, int is_rt)
{
	struct vouch_task_state *ts;

	ts = bpf_task_storage_get(&task_state, task, NULL,
				  is_rt ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
	if (ts)
		ts->runtime_exec = is_rt;
}

/*
 * In a container's cgroup, whether this exec is the runtime setting the
 * container up: its own binary, or the anonymous copy of itself it
 * re-executes straight after (runc's clone against CVE-2019-5736).
 */
static __always_inline int runtime_setup(struct task_struct *task, int is_rt,
					 const struct exe_id *id)
{
	struct vouch_task_state *ts;

	if (is_rt)
		return 1;
	ts = bpf_task_storage_get(&task_state, task, NULL, 0);
	if (!ts || !ts->runtime_exec)
		return 0;
	ts->runtime_exec = 0;
	return !!(id->flags & VOUCH_EXE_ANONYMOUS);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(vouch_exec, struct task_struct *task, pid_t old_pid,
	     struct linux_binprm *bprm)
{
	__u32 gen = active_gen();
	struct vouch_cgroup_context context;
	struct vouch_globals *slot;
	struct decision d = {};
	struct vouch_scope *sc;
	struct scratch *s;
	int is_rt = 0, container;

	if (!gen)
		return 0;
	s = get_scratch();
	slot = gen_slot(gen);
	sc = host_scope(gen, slot);
	if (!s || !sc)
		return 0;
	/* wherever it runs: runc often execs itself before joining */
	if (slot && slot->n_runtimes) {
		is_rt = is_runtime(slot, bprm->file);
		if (is_rt)
			note_runtime(task, 1);
	}
	if (lookup_context(gen, task, sc, &context))
		return 0;
	sc = &context.scope;
	d.mode = context_mode(&context);
	if (d.mode == VOUCH_MODE_OFF)
		return 0;
	d.scope_id = context.cs.scope_id;
	container = (context.cs.flags & VOUCH_CGROUP_PENDING) ||
		    (sc->flags & VOUCH_SCOPE_CONTAINER);
	/* with BPF LSM exec was judged there, but for containers */
	if (lsm_exec && !container)
		return 0;

	/* binfmt_script and binfmt_misc replace interp with the interpreter */
	if (bprm->interp != bprm->filename) {
		if (sc->flags & VOUCH_SCOPE_CHECK_SCRIPTS)
			note_script(bprm, task);
		resolve_file(s, bprm->file, &s->id, 1);
		s->id.flags |= VOUCH_EXE_VIA_SCRIPT;
	} else {
		resolve_file(s, bprm->file, &s->id, 1);
	}
	if (container && runtime_setup(task, is_rt, &s->id))
		return 0;
	judge(s, gen, slot, sc, &s->id, 1, &d);
	if ((context.cs.flags & VOUCH_CGROUP_PENDING) &&
	    (d.verdict == VOUCH_VERDICT_ALLOW || d.exception))
		hold(s, task, &s->id, &d, sc);
	else
		act(s, task, VOUCH_EVENT_EXEC, &s->id, &d);
	return 0;
}

static __always_inline struct file *fd_to_file(struct task_struct *task,
					       long fd)
{
	struct file **fds = BPF_CORE_READ(task, files, fdt, fd);
	struct file *file = NULL;

	bpf_probe_read_kernel(&file, sizeof(file), &fds[fd]);
	return file;
}

/* Whether the first len bytes of a and b are equal; len <= 255. */
static __always_inline int same_bytes(const char *a, const char *b, __u32 len)
{
	for (int i = 0; i < VOUCH_SCRIPT_PATH_MAX; i++) {
		if (i >= len)
			return 1;
		if (a[i] != b[i])
			return 0;
	}
	return 1;
}

/*
 * Whether this open is the interpreter opening its script: the name it
 * passed to open() is one the kernel handed it. Comparing names, not the
 * opened file's, is what lets a symlink to a script be caught.
 */
static __always_inline int is_the_script(struct scratch *s,
					 const char *uname,
					 const struct vouch_task_state *ts)
{
	long n = bpf_probe_read_user_str(s->opened, sizeof(s->opened), uname);
	__u32 len;

	if (n <= 1)
		return 0;
	len = n - 1;
	if (len == ts->len && same_bytes(s->opened, ts->path, len))
		return 1;
	return len == ts->inner_len && same_bytes(s->opened, ts->inner, len);
}

/*
 * A script's interpreter opens the script by the name the kernel passed it.
 * That open is where the script is judged as itself, before the
 * interpreter has read a byte of it.
 */
static __always_inline int check_script_open(long fd, int name_arg)
{
	struct pt_regs *regs;
	const char *uname;
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 gen = active_gen();
	struct vouch_cgroup_context context;
	struct vouch_task_state *ts;
	struct vouch_globals *slot;
	struct decision d = {};
	struct vouch_scope *sc;
	struct scratch *s;
	struct file *file;

	if (fd < 0 || !gen)
		return 0;
	ts = bpf_task_storage_get(&task_state, task, NULL, 0);
	/* noted for an image this task no longer runs: a later exec */
	if (!ts || !ts->script_pending || ts->mm != (__u64)task->mm)
		return 0;
	s = get_scratch();
	if (!s)
		return 0;
	/* the syscall's own arguments: open(name), openat(dirfd, name) */
	regs = (struct pt_regs *)bpf_task_pt_regs(task);
	uname = name_arg == 1 ? (const char *)PT_REGS_PARM1_CORE_SYSCALL(regs)
			      : (const char *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	if (!is_the_script(s, uname, ts))
		return 0;
	file = fd_to_file(task, fd);
	if (!file)
		return 0;
	ts->script_pending = 0;

	slot = gen_slot(gen);
	sc = host_scope(gen, slot);
	if (!sc)
		return 0;
	if (lookup_context(gen, task, sc, &context))
		return 0;
	sc = &context.scope;
	d.mode = context_mode(&context);
	if (d.mode == VOUCH_MODE_OFF)
		return 0;
	d.scope_id = context.cs.scope_id;
	resolve_file(s, file, &s->id, 0);
	judge(s, gen, slot, sc, &s->id, 0, &d);
	act(s, task, VOUCH_EVENT_SCRIPT, &s->id, &d);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int vouch_openat_exit(struct trace_event_raw_sys_exit *ctx)
{
	return check_script_open(ctx->ret, 2);
}

SEC("tracepoint/syscalls/sys_exit_open")
int vouch_open_exit(struct trace_event_raw_sys_exit *ctx)
{
	return check_script_open(ctx->ret, 1);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int vouch_openat2_exit(struct trace_event_raw_sys_exit *ctx)
{
	return check_script_open(ctx->ret, 2);
}

/*
 * A child of an interpreter that has not opened its script yet may be the
 * one that opens it: the pending state goes with it. Nothing else is kept
 * per task, and task storage is freed by the kernel when the task exits.
 */
SEC("tp_btf/sched_process_fork")
int BPF_PROG(vouch_fork, struct task_struct *parent, struct task_struct *child)
{
	struct vouch_task_state *pts, *cts;

	pts = bpf_task_storage_get(&task_state, parent, NULL, 0);
	if (!pts || !pts->script_pending)
		return 0;
	/* only while the parent still runs the image the script was for */
	if (pts->mm != (__u64)parent->mm)
		return 0;
	cts = bpf_task_storage_get(&task_state, child, NULL,
				   BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!cts)
		return 0;
	*cts = *pts;
	cts->mm = (__u64)child->mm;
	return 0;
}

/* A new cgroup on the default hierarchy: vouchd decides its scope. */
SEC("tp_btf/cgroup_mkdir")
int BPF_PROG(vouch_cgroup_mkdir, struct cgroup *cgrp, const char *path)
{
	struct vouch_cgroup_event *ev;
	long n;

	if (BPF_CORE_READ(cgrp, root, hierarchy_id) != 0)
		return 0;	/* a cgroup v1 hierarchy */
	ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);
	if (!ev) {
		count_loss(VOUCH_EVENT_CGROUP_MKDIR);
		return 0;
	}
	ev->kind = VOUCH_EVENT_CGROUP_MKDIR;
	ev->pad = 0;
	ev->cgroup_id = BPF_CORE_READ(cgrp, kn, id);
	n = bpf_probe_read_kernel_str(ev->path, sizeof(ev->path), path);
	ev->truncated = n == sizeof(ev->path) || n < 0;
	/* vouchd places the cgroup before its processes run, where it can */
	bpf_ringbuf_submit(ev, submit_flags(1));
	return 0;
}

/*
 * The exec path where BPF LSM programs run: the same decision, taken in
 * bprm_check_security, before the kernel commits to the new image. A
 * denial in enforce mode returns -EPERM: execve fails in the caller, which
 * goes on running its own image, and not one instruction of the file runs.
 * The hook runs once per binary format level, so a script is seen first,
 * as itself (its first bytes are "#!"), then its interpreter, with interp
 * naming it; each is judged and reported as the tracepoint path does.
 */
#define LSM_ARGS_MAX 32

/* x86-64 and arm64 numbers; other execs (compat, kernel) carry no argv */
#if defined(__TARGET_ARCH_x86)
#define NR_EXECVE 59
#define NR_EXECVEAT 322
#define SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NR_EXECVE 221
#define NR_EXECVEAT 281
#define SYSCALL_NR(regs) BPF_CORE_READ((struct pt_regs *)(regs), syscallno)
#else
#define NR_EXECVE -1
#define NR_EXECVEAT -1
#define SYSCALL_NR(regs) -2
#endif

/*
 * The argv the caller passed to execve: before the new image exists, the
 * only copy user space can be read from. Built in s->rev, which has room
 * past every masked offset, then copied to the event.
 */
static __always_inline void fill_argv_caller(struct scratch *s,
					     struct vouch_exec_event *ev,
					     struct task_struct *task)
{
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	const char *const *uargv;
	__u32 off = 0;
	long nr = SYSCALL_NR(regs);
	long n;

	ev->argv_len = 0;
	if (nr == NR_EXECVE)
		uargv = (const char *const *)PT_REGS_PARM2_CORE_SYSCALL(regs);
	else if (nr == NR_EXECVEAT)
		uargv = (const char *const *)PT_REGS_PARM3_CORE_SYSCALL(regs);
	else
		return;
	for (int i = 0; i < LSM_ARGS_MAX; i++) {
		const char *arg = NULL;

		if (bpf_probe_read_user(&arg, sizeof(arg), &uargv[i]) || !arg)
			break;
		if (off >= VOUCH_ARGV_MAX - 1) {
			ev->flags |= VOUCH_ARGV_TRUNCATED;
			break;
		}
		n = bpf_probe_read_user_str(&s->rev[off & (VOUCH_ARGV_MAX - 1)],
					    VOUCH_ARGV_MAX, arg);
		if (n <= 0)
			break;
		off += n;
	}
	if (off > VOUCH_ARGV_MAX - 1) {
		off = VOUCH_ARGV_MAX - 1;
		ev->flags |= VOUCH_ARGV_TRUNCATED;
	}
	bpf_probe_read_kernel(ev->argv, sizeof(ev->argv), s->rev);
	ev->argv_len = off;
}

/*
 * emit() for the LSM path: the task still runs its caller's image, so
 * comm is the name the new image would get and argv the caller's request.
 */
static __always_inline void emit_lsm(struct scratch *s,
				     struct task_struct *task,
				     struct linux_binprm *bprm, __u16 kind,
				     const struct exe_id *id,
				     const struct decision *d, __u8 action)
{
	const char *name = bprm->filename;
	struct vouch_exec_event *ev = reserve_record(s, task, kind, id, d,
						     action);

	if (!ev)
		return;
	/* the kernel names the new image after the last part of filename */
	bpf_probe_read_kernel_str(s->opened, sizeof(s->opened), name);
	ev->comm[0] = '\0';
	for (int i = 0; i < VOUCH_SCRIPT_PATH_MAX - 1; i++) {
		if (s->opened[i] == '\0')
			break;
		if (s->opened[i] == '/')
			name = bprm->filename + i + 1;
	}
	bpf_probe_read_kernel_str(ev->comm, sizeof(ev->comm), name);
	fill_argv_caller(s, ev, task);
	fill_parent_path(s, ev, task);
	bpf_ringbuf_submit(ev, submit_flags(0));
}

/* act() for the LSM path: refuse or report; the hook's return value. */
static __always_inline int act_lsm(struct scratch *s, struct task_struct *task,
				   struct linux_binprm *bprm, __u16 kind,
				   const struct exe_id *id, struct decision *d)
{
	if (d->verdict == VOUCH_VERDICT_ALLOW)
		return 0;
	if (d->exception) {
		d->verdict = VOUCH_VERDICT_ALLOW;
		emit_lsm(s, task, bprm, VOUCH_EVENT_EXCEPTION, id, d,
			 VOUCH_ACTION_NONE);
		return 0;
	}
	if (d->mode == VOUCH_MODE_ENFORCE) {
		emit_lsm(s, task, bprm, kind, id, d, VOUCH_ACTION_REFUSED);
		return -EPERM;
	}
	emit_lsm(s, task, bprm, kind, id, d, VOUCH_ACTION_REPORTED);
	return 0;
}

SEC("lsm/bprm_check_security")
int BPF_PROG(vouch_exec_lsm, struct linux_binprm *bprm, int ret)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u32 gen = active_gen();
	__u16 kind = VOUCH_EVENT_EXEC;
	struct vouch_cgroup_context context;
	struct vouch_globals *slot;
	struct decision d = {};
	struct vouch_scope *sc;
	struct scratch *s;
	int container;

	/* another program's denial stands */
	if (ret || !gen)
		return ret;
	s = get_scratch();
	slot = gen_slot(gen);
	sc = host_scope(gen, slot);
	if (!s || !sc)
		return 0;
	if (lookup_context(gen, task, sc, &context))
		return 0;
	sc = &context.scope;
	d.mode = context_mode(&context);
	if (d.mode == VOUCH_MODE_OFF)
		return 0;
	d.scope_id = context.cs.scope_id;
	/*
	 * Containers stay on the tracepoint path, which holds a new one and
	 * knows the runtime's own set-up execs (docs/KNOWN_ISSUES.md).
	 */
	container = (context.cs.flags & VOUCH_CGROUP_PENDING) ||
		    (sc->flags & VOUCH_SCOPE_CONTAINER);
	if (container)
		return 0;

	if (bprm->buf[0] == '#' && bprm->buf[1] == '!') {
		if (!(sc->flags & VOUCH_SCOPE_CHECK_SCRIPTS))
			return 0;
		kind = VOUCH_EVENT_SCRIPT;
	}
	resolve_file(s, bprm->file, &s->id, 1);
	/* binfmt_script and binfmt_misc replace interp with the interpreter */
	if (bprm->interp != bprm->filename)
		s->id.flags |= VOUCH_EXE_VIA_SCRIPT;
	judge(s, gen, slot, sc, &s->id, kind == VOUCH_EVENT_EXEC, &d);
	return act_lsm(s, task, bprm, kind, &s->id, &d);
}
