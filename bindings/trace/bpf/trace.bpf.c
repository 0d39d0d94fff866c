// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * ctrsh's tracing programs: what processes in containers execute, how they
 * exit, which one the OOM killer picks, where they connect and what they
 * open. Every program first finds the container of the task from its cgroup,
 * in the kernel, and drops what is not wanted before anything is copied:
 * the host's own processes never reach the ring buffer.
 *
 * A task's cgroup (the memory controller's on cgroup v1 and hybrid hosts,
 * the unified one on v2) is mapped once to a verdict, cached by cgroup id:
 * the container id found in the cgroup's name or in one of its three
 * nearest ancestors' ("<id>", "docker-<id>.scope", "cri-containerd-<id>.scope",
 * "libpod-<id>.scope", "crio-<id>.scope"), or none. With a list of wanted
 * containers, only their ids pass.
 *
 * Events go to one ring buffer. When it is full the event is counted in
 * `lost`, which user space reads and reports in the stream.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ID_LEN 64
#define NAME_MAX_READ 96
#define ANCESTORS 4
#define PATH_LEN 256
#define ARGS_LEN 1024
#define PREFIX_LEN 64

enum kind {
	KIND_EXEC = 1,
	KIND_EXIT = 2,
	KIND_OOM = 3,
	KIND_CONNECT = 4,
	KIND_OPEN = 5,
};

/* Set by user space before loading. */
volatile const bool cgroup_v2 = false;         /* attribute by the unified hierarchy */
volatile const bool want_all = true;           /* every container, else the ids in `wanted` */
volatile const u32 path_prefix_len = 0;        /* open: only paths starting with path_prefix */
volatile const u8 path_prefix[PREFIX_LEN] = {};
volatile const u64 wakeup_bytes = 0;           /* wake the reader once this much is queued */

struct hdr {
	u64 time_ns;   /* CLOCK_BOOTTIME */
	u64 cgroup_id;
	u32 kind;
	u32 pid;       /* the process (tgid), as the host sees it */
	u32 tid;
	u32 ppid;
	u32 pid_inside; /* the process in its own pid namespace */
	u32 uid;
	u8 comm[16];
	u8 container[ID_LEN];
};

struct exec_event {
	struct hdr h;
	u32 args_len;  /* bytes of args, NUL-separated */
	u32 args_truncated;
	u8 filename[PATH_LEN];
	u8 args[ARGS_LEN];
};

struct exit_event {
	struct hdr h;
	u32 exit_code; /* the kernel's: status << 8, or the signal (| 0x80 with a core dump) */
	u32 _pad;
};

struct oom_event {
	struct hdr h;
	u32 by_pid;    /* the task whose allocation invoked the OOM killer */
	s32 oom_score_adj;
	u8 by_comm[16];
};

struct connect_event {
	struct hdr h;
	u64 latency_ns;
	u16 family;
	u16 sport;
	u16 dport;
	u16 newstate;
	s32 err;
	u32 _pad;
	u8 saddr[16];
	u8 daddr[16];
};

struct open_event {
	struct hdr h;
	s64 ret;
	s32 flags;
	u32 _pad;
	u8 path[PATH_LEN];
};

struct verdict {
	u8 container;
	u8 id[ID_LEN];
};

struct connect_start {
	struct hdr h;
};

struct open_start {
	u64 filename;
	s32 flags;
	u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} ctrsh_events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} ctrsh_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u64);
	__type(value, struct verdict);
} ctrsh_verdicts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u8[ID_LEN]);
	__type(value, u8);
} ctrsh_wanted SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct connect_start);
} ctrsh_conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct open_start);
} ctrsh_opens SEC(".maps");

enum {
	RB_AVAIL_DATA = 0,
	RB_NO_WAKEUP = 1,
	RB_FORCE_WAKEUP = 2,
};

/* submit_flags wakes the reader only when a good part of the ring is
 * filled: it reads every 100 ms anyway, so at a thousand events a second
 * this saves a thousand wakeups of a thread in user space. */
static __always_inline u64 submit_flags(void)
{
	if (bpf_ringbuf_query(&ctrsh_events, RB_AVAIL_DATA) >= wakeup_bytes)
		return RB_FORCE_WAKEUP;
	return RB_NO_WAKEUP;
}

/* Force the generated Go types. */
const struct exec_event *unused_exec __attribute__((unused));
const struct exit_event *unused_exit __attribute__((unused));
const struct oom_event *unused_oom __attribute__((unused));
const struct connect_event *unused_connect __attribute__((unused));
const struct open_event *unused_open __attribute__((unused));

static __always_inline void count_lost(void)
{
	u32 zero = 0;
	u64 *n = bpf_map_lookup_elem(&ctrsh_lost, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
}

static __always_inline struct cgroup_subsys_state *task_css(struct task_struct *t)
{
	if (cgroup_v2) {
		struct cgroup *cg = BPF_CORE_READ(t, cgroups, dfl_cgrp);
		if (!cg)
			return 0;
		return (struct cgroup_subsys_state *)__builtin_preserve_access_index(&cg->self);
	}
	int ssid = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct css_set *cs = BPF_CORE_READ(t, cgroups);
	struct cgroup_subsys_state *css = 0;
	if (!cs || ssid < 0 || ssid >= 12)
		return 0;
	bpf_core_read(&css, sizeof(css), &cs->subsys[ssid]);
	return css;
}

/* hex[c] is 1 for the lower-case hex digits, 0 for any other byte: a
 * table keeps the scan of an id free of branches, which keeps the
 * verifier's work (and so the load time) small. */
static const u8 hex[256] = {
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

/* id_at reports whether a container id is at offset o of a cgroup's name:
 * 64 hex digits, after a '-' unless at the start, followed by the end or a
 * '.'. */
static __always_inline bool id_at(const u8 *name, int o)
{
	if (o > 0 && name[o - 1] != '-')
		return false;
	u8 end = name[o + ID_LEN];
	if (end != 0 && end != '.')
		return false;
	u32 digits = 0;
	for (int i = 0; i < ID_LEN; i++)
		digits += hex[name[o + i]];
	return digits == ID_LEN;
}

/* find_id returns the offset of the container id in a cgroup's name, or
 * -1. The offsets are those of the runtimes' names: "<id>", "crio-<id>",
 * "docker-<id>.scope", "libpod-<id>.scope", "nerdctl-<id>.scope",
 * "cri-containerd-<id>.scope" (fixed offsets keep the verifier's work
 * small; the runtimes' monitors, "libpod-conmon-<id>" and "crio-conmon-<id>",
 * fall between them and are no container's). */
static __always_inline int find_id(const u8 *name)
{
	if (id_at(name, 0))
		return 0;
	if (id_at(name, 5))
		return 5;
	if (id_at(name, 7))
		return 7;
	if (id_at(name, 8))
		return 8;
	if (id_at(name, 15))
		return 15;
	return -1;
}

/* verdict_of returns the cached verdict of the task's cgroup, computing it
 * on first sight. */
static __always_inline struct verdict *verdict_of(struct task_struct *t, u64 *cgid)
{
	struct cgroup_subsys_state *css = task_css(t);
	if (!css)
		return 0;
	u64 id = BPF_CORE_READ(css, cgroup, kn, id);
	*cgid = id;
	struct verdict *v = bpf_map_lookup_elem(&ctrsh_verdicts, &id);
	if (v)
		return v;

	struct verdict nv = {};
	u8 name[NAME_MAX_READ + 32] = {};
	for (int level = 0; level < ANCESTORS && css; level++) {
		const char *np = BPF_CORE_READ(css, cgroup, kn, name);
		if (!np)
			break;
		if (bpf_probe_read_kernel_str(name, NAME_MAX_READ, np) < 0)
			break;
		int at = find_id(name);
		if (at >= 0 && at <= NAME_MAX_READ - ID_LEN) {
			nv.container = 1;
			bpf_probe_read_kernel(nv.id, ID_LEN, np + at);
			break;
		}
		css = BPF_CORE_READ(css, parent);
	}
	bpf_map_update_elem(&ctrsh_verdicts, &id, &nv, BPF_ANY);
	return bpf_map_lookup_elem(&ctrsh_verdicts, &id);
}

/* selected finds the container of t and reports whether it is wanted; v
 * is its verdict. */
static __always_inline struct verdict *selected(struct task_struct *t, u64 *cgid)
{
	struct verdict *v = verdict_of(t, cgid);
	if (!v || !v->container)
		return 0;
	if (!want_all && !bpf_map_lookup_elem(&ctrsh_wanted, v->id))
		return 0;
	return v;
}

static __always_inline u32 pid_inside(struct task_struct *t)
{
	struct pid *p = BPF_CORE_READ(t, group_leader, thread_pid);
	if (!p)
		return 0;
	unsigned int level = BPF_CORE_READ(p, level);
	u32 nr = 0;
	void *at = (void *)p + bpf_core_field_offset(struct pid, numbers) +
		   (u64)(level & 63) * bpf_core_type_size(struct upid);
	bpf_probe_read_kernel(&nr, sizeof(nr), at);
	return nr;
}

static __always_inline void fill(struct hdr *h, struct task_struct *t, u32 kind, struct verdict *v, u64 cgid)
{
	h->time_ns = bpf_ktime_get_boot_ns();
	h->cgroup_id = cgid;
	h->kind = kind;
	h->pid = BPF_CORE_READ(t, tgid);
	h->tid = BPF_CORE_READ(t, pid);
	h->ppid = BPF_CORE_READ(t, real_parent, tgid);
	h->pid_inside = pid_inside(t);
	BPF_CORE_READ_STR_INTO(&h->comm, t, comm);
	__builtin_memcpy(h->container, v->id, ID_LEN);
}

/* exec: sched:sched_process_exec, after the new program is in place: the
 * task's mm holds the new argv. */
SEC("tp_btf/sched_process_exec")
int BPF_PROG(ctrsh_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	u64 cgid = 0;
	struct verdict *v = selected(p, &cgid);
	if (!v)
		return 0;
	struct exec_event *e = bpf_ringbuf_reserve(&ctrsh_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill(&e->h, p, KIND_EXEC, v, cgid);
	e->h.uid = (u32)bpf_get_current_uid_gid();
	bpf_probe_read_kernel_str(e->filename, sizeof(e->filename), BPF_CORE_READ(bprm, filename));
	unsigned long start = BPF_CORE_READ(p, mm, arg_start);
	unsigned long end = BPF_CORE_READ(p, mm, arg_end);
	u64 n = end > start ? end - start : 0;
	e->args_truncated = 0;
	if (n > ARGS_LEN) {
		n = ARGS_LEN;
		e->args_truncated = 1;
	}
	e->args_len = 0;
	if (n > 0 && bpf_probe_read_user(e->args, n, (void *)start) == 0)
		e->args_len = n;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* exit: sched:sched_process_exit of the process's last thread. */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(ctrsh_exit, struct task_struct *p)
{
	if (BPF_CORE_READ(p, signal, live.counter) != 0)
		return 0; /* other threads of the process live on */
	u64 cgid = 0;
	struct verdict *v = selected(p, &cgid);
	if (!v)
		return 0;
	struct exit_event *e = bpf_ringbuf_reserve(&ctrsh_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill(&e->h, p, KIND_EXIT, v, cgid);
	e->h.uid = (u32)bpf_get_current_uid_gid();
	e->exit_code = BPF_CORE_READ(p, exit_code);
	e->_pad = 0;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* oom: oom:mark_victim (Linux 6.8 and later pass the victim's task). It
 * runs in the task that invoked the OOM killer; the victim is the argument. */
SEC("tp_btf/mark_victim")
int BPF_PROG(ctrsh_oom, struct task_struct *victim, uid_t uid)
{
	u64 cgid = 0;
	struct verdict *v = selected(victim, &cgid);
	if (!v)
		return 0;
	struct oom_event *e = bpf_ringbuf_reserve(&ctrsh_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill(&e->h, victim, KIND_OOM, v, cgid);
	e->h.uid = uid;
	e->by_pid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(e->by_comm, sizeof(e->by_comm));
	e->oom_score_adj = BPF_CORE_READ(victim, signal, oom_score_adj);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

#define TCP_ESTABLISHED 1
#define TCP_SYN_SENT 2
#define TCP_CLOSE 7
#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* connect: sock:inet_sock_set_state. CLOSE -> SYN_SENT runs in connect(2),
 * in the connecting task: remember it by socket. The outcome (SYN_SENT ->
 * ESTABLISHED, or -> CLOSE with sk_err) may run in softirq, in any task. */
SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(ctrsh_connect, struct sock *sk, int oldstate, int newstate)
{
	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;
	u64 key = (u64)sk;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
		u64 cgid = 0;
		struct verdict *v = selected(t, &cgid);
		if (!v)
			return 0;
		struct connect_start s = {};
		fill(&s.h, t, KIND_CONNECT, v, cgid);
		s.h.uid = (u32)bpf_get_current_uid_gid();
		if (bpf_map_update_elem(&ctrsh_conns, &key, &s, BPF_ANY) != 0)
			count_lost();
		return 0;
	}
	if (oldstate != TCP_SYN_SENT)
		return 0;
	struct connect_start *s = bpf_map_lookup_elem(&ctrsh_conns, &key);
	if (!s)
		return 0;
	struct connect_event *e = bpf_ringbuf_reserve(&ctrsh_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		bpf_map_delete_elem(&ctrsh_conns, &key);
		return 0;
	}
	__builtin_memcpy(&e->h, &s->h, sizeof(e->h));
	u64 now = bpf_ktime_get_boot_ns();
	e->latency_ns = now - s->h.time_ns;
	e->h.time_ns = now;
	e->newstate = newstate;
	e->err = BPF_CORE_READ(sk, sk_err);
	e->_pad = 0;
	u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e->family = family;
	e->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	__builtin_memset(e->saddr, 0, sizeof(e->saddr));
	__builtin_memset(e->daddr, 0, sizeof(e->daddr));
	/* BPF_CORE_READ_INTO reads sizeof(*dst): give it typed destinations. */
	if (family == AF_INET) {
		__be32 a = 0;
		BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_rcv_saddr);
		__builtin_memcpy(e->saddr, &a, 4);
		BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_daddr);
		__builtin_memcpy(e->daddr, &a, 4);
	} else {
		struct in6_addr a6 = {};
		BPF_CORE_READ_INTO(&a6, sk, __sk_common.skc_v6_rcv_saddr);
		__builtin_memcpy(e->saddr, &a6, 16);
		BPF_CORE_READ_INTO(&a6, sk, __sk_common.skc_v6_daddr);
		__builtin_memcpy(e->daddr, &a6, 16);
	}
	bpf_map_delete_elem(&ctrsh_conns, &key);
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

/* open: syscalls:sys_enter_openat and sys_exit_openat (and open, openat2
 * where the kernel has them). The path filter's literal prefix is checked at
 * entry; the path is copied at exit, with the result. */
struct syscall_enter {
	u64 common;
	s64 nr;
	u64 args[6];
};

struct syscall_exit {
	u64 common;
	s64 nr;
	s64 ret;
};

static __always_inline bool prefix_ok(const char *filename)
{
	u32 n = path_prefix_len;
	if (n == 0)
		return true;
	u8 buf[PREFIX_LEN] = {};
	if (bpf_probe_read_user(buf, n > PREFIX_LEN ? PREFIX_LEN : n, filename) < 0)
		return false;
	for (int i = 0; i < PREFIX_LEN; i++) {
		if (i >= n)
			break;
		if (buf[i] != path_prefix[i])
			return false;
	}
	return true;
}

static __always_inline int open_enter(const char *filename, s32 flags)
{
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	u64 cgid = 0;
	if (!selected(t, &cgid))
		return 0;
	if (!prefix_ok(filename))
		return 0;
	u64 key = bpf_get_current_pid_tgid();
	struct open_start s = {.filename = (u64)filename, .flags = flags};
	if (bpf_map_update_elem(&ctrsh_opens, &key, &s, BPF_ANY) != 0)
		count_lost();
	return 0;
}

static __always_inline int open_exit(s64 ret)
{
	u64 key = bpf_get_current_pid_tgid();
	struct open_start *s = bpf_map_lookup_elem(&ctrsh_opens, &key);
	if (!s)
		return 0;
	u64 filename = s->filename;
	s32 flags = s->flags;
	bpf_map_delete_elem(&ctrsh_opens, &key);
	struct task_struct *t = (struct task_struct *)bpf_get_current_task_btf();
	u64 cgid = 0;
	struct verdict *v = selected(t, &cgid);
	if (!v)
		return 0;
	struct open_event *e = bpf_ringbuf_reserve(&ctrsh_events, sizeof(*e), 0);
	if (!e) {
		count_lost();
		return 0;
	}
	fill(&e->h, t, KIND_OPEN, v, cgid);
	e->h.uid = (u32)bpf_get_current_uid_gid();
	e->ret = ret;
	e->flags = flags;
	e->_pad = 0;
	if (bpf_probe_read_user_str(e->path, sizeof(e->path), (void *)filename) < 0)
		e->path[0] = 0;
	bpf_ringbuf_submit(e, submit_flags());
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int ctrsh_openat_in(struct syscall_enter *ctx)
{
	return open_enter((const char *)ctx->args[1], (s32)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int ctrsh_openat_out(struct syscall_exit *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_open")
int ctrsh_open_in(struct syscall_enter *ctx)
{
	return open_enter((const char *)ctx->args[0], (s32)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_exit_open")
int ctrsh_open_out(struct syscall_exit *ctx)
{
	return open_exit(ctx->ret);
}

/* openat2(dfd, filename, struct open_how *how, size): the flags are in how. */
SEC("tracepoint/syscalls/sys_enter_openat2")
int ctrsh_openat2_in(struct syscall_enter *ctx)
{
	u64 flags = 0;
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[2]);
	return open_enter((const char *)ctx->args[1], (s32)flags);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int ctrsh_openat2_out(struct syscall_exit *ctx)
{
	return open_exit(ctx->ret);
}
