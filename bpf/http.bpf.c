// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-code HTTP capture from the raw syscall exit tracepoint (no kprobes/fentry on our kernels). ONE program runs
 * at every syscall exit (tp_btf/sys_exit) and dispatches on the syscall number, reading the arguments from the
 * user registers saved at entry (still intact at exit; the buffers, iovecs and msghdr too): accept/connect
 * register TCP connections (the fd's socket is resolved with CO-RE: AF_INET/6, SOCK_STREAM, TCP, 4-tuple);
 * read/write-family calls on a registered (pid, fd) ship the first capture_bytes bytes with the stream position;
 * close forgets the connection. Syscalls of other processes and fds that are not registered connections return
 * after one hash lookup and never touch the ring buffer; other syscall numbers after one test.
 *
 * Why not the syscalls:sys_{enter,exit}_* tracepoints (23 programs until 2026-11, bench/syscall-hooks.ts keeps
 * them as its reference): each hooked call went through the kernel's perf-syscall path twice (a perf buffer
 * filled with the arguments, then a program). Measured (docs/http-tracing.md "Cost"): a hooked call costs about
 * half as much here, nginx + wrk at saturation lose 4-6 points less throughput; a syscall we do not hook costs
 * ~22 ns instead of ~11 ns (the raw tracepoint runs a program for every syscall). No program at syscall entry:
 * one on the raw sys_enter tracepoint (~25 ns on every syscall) or on the egress calls' sys_enter_* tracepoints
 * (the perf path again) took back most of the gain, so the enter time of a syscall is not known (ts_enter).
 */
#include "common.h"
#include "http.h"
#include <bpf/bpf_endian.h>

/* The scratch event below is laid out as the ring-buffer record: header then data, contiguous. */
#pragma clang diagnostic ignored "-Wgnu-variable-sized-type-not-at-end"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define EINPROGRESS 115
#define EBADF 9
#define MSG_PEEK 2

/* Bytes copied per syscall; set from agent.ebpf.http.capture_bytes (≤ HTTP_MAX_CAPTURE). */
const volatile __u32 capture_bytes = 1024;
/*
 * Kernel-side shedding: a new exchange is not captured while more than this many bytes wait in the shared ring
 * for user space (agent.ebpf.http.shed_backlog_percent of its size; 0: never). A busy host then pays one hash
 * lookup per syscall on a traced connection instead of the copy and the ring write, and the agent catches up.
 */
const volatile __u64 shed_bytes = 0;
/*
 * The other shedding bound: exchanges captured per second on each CPU (token bucket, burst of one second; 0: no
 * bound). A niced agent that keeps up with a saturated server still takes CPU the server would use; this caps
 * what it is given (agent.ebpf.http.max_exchanges_per_cpu).
 */
const volatile __u64 exchanges_per_cpu = 0;

struct http_conn_key {
	__u32 pid;
	__u32 fd;
};

enum http_call {
	CALL_BUF = 1,     /* read, recvfrom, write, sendto: a plain buffer */
	CALL_IOV = 2,     /* readv, writev: an iovec array */
	CALL_MSG = 3,     /* recvmsg, sendmsg: a msghdr */
	CALL_NODATA = 4,  /* sendfile: bytes moved, none visible */
};

/*
 * Syscall numbers of the hooked calls. The raw tracepoints see every syscall of every process, so the number
 * is the first test. Only the architectures whose register layout was checked are built (see SYSCALL_NR).
 */
#if defined(__TARGET_ARCH_x86)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_readv 19
#define NR_writev 20
#define NR_sendfile 40 /* sendfile64 */
#define NR_connect 42
#define NR_accept 43
#define NR_sendto 44
#define NR_recvfrom 45
#define NR_sendmsg 46
#define NR_recvmsg 47
#define NR_accept4 288
/* x86_64: orig_ax keeps the number through the syscall (ax becomes the return value). */
#define SYSCALL_NR(regs) ((long)(regs)->orig_ax)
/* Every hooked number but accept4 is below 64: one mask test rejects the others (the common case). */
#define HOOKED_MASK ((1ULL << NR_read) | (1ULL << NR_write) | (1ULL << NR_close) | (1ULL << NR_readv) | \
		     (1ULL << NR_writev) | (1ULL << NR_sendfile) | (1ULL << NR_connect) | (1ULL << NR_accept) | \
		     (1ULL << NR_sendto) | (1ULL << NR_recvfrom) | (1ULL << NR_sendmsg) | (1ULL << NR_recvmsg))
#define HOOKED(nr) ((nr) == NR_accept4 || ((__u64)(nr) < 64 && ((1ULL << (nr)) & HOOKED_MASK)))
#define TS_COMPAT 0x0002
/*
 * A 32-bit task's syscall numbers are the i386 table's (3 is read there, close here): skip them, as the
 * syscalls:* tracepoints do. x32 numbers carry bit 30 and never match the numbers above.
 */
static __always_inline bool compat_syscall(void)
{
	return bpf_get_current_task_btf()->thread_info.status & TS_COMPAT;
}
#elif defined(__TARGET_ARCH_arm64)
/* The asm-generic table. Not run on arm64 yet: built to keep the dispatcher portable, untested there. */
#define NR_close 57
#define NR_read 63
#define NR_write 64
#define NR_readv 65
#define NR_writev 66
#define NR_sendfile 71
#define NR_accept 202
#define NR_connect 203
#define NR_sendto 206
#define NR_recvfrom 207
#define NR_sendmsg 211
#define NR_recvmsg 212
#define NR_accept4 242
/* arm64: syscallno keeps the number; x0 becomes the return value and orig_x0 keeps the first argument (libbpf's
 * PT_REGS_PARM1_SYSCALL reads orig_x0). */
#define SYSCALL_NR(regs) ((long)(regs)->syscallno)
#define HOOKED(nr) ((nr) == NR_close || ((nr) >= NR_read && (nr) <= NR_writev) || (nr) == NR_sendfile || \
		    ((nr) >= NR_accept && (nr) <= NR_connect) || (nr) == NR_sendto || (nr) == NR_recvfrom || \
		    (nr) == NR_sendmsg || (nr) == NR_recvmsg || (nr) == NR_accept4)
static __always_inline bool compat_syscall(void)
{
	return false; /* TODO(arm64): AArch32 tasks (TIF_32BIT) use another table */
}
#else
#error "bpf/http.bpf.c: syscall numbers and registers are only defined for x86 and arm64"
#endif

/* Arguments as the syscall received them, from the user registers saved at entry (libbpf's per-arch map). */
#define ARG1(regs) PT_REGS_PARM1_SYSCALL(regs)
#define ARG2(regs) PT_REGS_PARM2_SYSCALL(regs)
#define ARG3(regs) PT_REGS_PARM3_SYSCALL(regs)
#define ARG4(regs) PT_REGS_PARM4_SYSCALL(regs)


/* Processes and their decision; absent → http_settings.default_action. Bounded; user space keeps it in sync. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, __u32);
} http_pid_filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_settings);
} http_settings SEC(".maps");

/* Tracked TCP connections by (pid, fd): LRU so leaked entries (a missed close) age out; close deletes. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct http_conn_key);
	__type(value, struct http_conn);
} http_conns SEC(".maps");

/* What shedding skipped, per CPU (summed in user space: telegen_http_dropped_total{reason="shed"}). */
struct http_shed_counts {
	__u64 n[HTTP_SHED_NSTATS];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_shed_counts);
} http_shed_stats SEC(".maps");

struct http_bucket {
	__u64 tokens_ns; /* tokens, as nanoseconds of refill (one exchange = NSEC_PER_SEC / exchanges_per_cpu) */
	__u64 last_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_bucket);
} http_bucket SEC(".maps");

/* The event is built here (variable length), then copied into the shared ring buffer in one go. */
#define SCRATCH_DATA (3 * HTTP_MAX_CAPTURE)
struct http_scratch {
	struct http_event ev;
	__u8 data[SCRATCH_DATA];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct http_scratch);
} http_scratch SEC(".maps");

static __always_inline bool pid_traced(__u32 pid)
{
	__u32 *action = bpf_map_lookup_elem(&http_pid_filter, &pid);
	if (action)
		return *action == HTTP_PID_TRACE;
	__u32 zero = 0;
	struct http_settings *s = bpf_map_lookup_elem(&http_settings, &zero);
	return s && s->default_action == HTTP_PID_TRACE;
}

/* The struct sock behind fd in the current task when it is a TCP socket, else NULL. */
static __always_inline struct sock *tcp_sock_of_fd(__u32 fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) || !f)
		return NULL;
	umode_t mode = BPF_CORE_READ(f, f_inode, i_mode);
	if ((mode & S_IFMT) != S_IFSOCK)
		return NULL;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock || BPF_CORE_READ(sock, type) != SOCK_STREAM)
		return NULL;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return NULL;
	return sk;
}

static __always_inline void track_connection(__u32 pid, __u32 fd, __u8 role)
{
	struct sock *sk = tcp_sock_of_fd(fd);
	if (!sk)
		return;
	struct http_conn c = {};
	c.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (c.family == AF_INET) {
		bpf_core_read(c.laddr, 4, &sk->__sk_common.skc_rcv_saddr);
		bpf_core_read(c.raddr, 4, &sk->__sk_common.skc_daddr);
	} else if (c.family == AF_INET6) {
		bpf_core_read(c.laddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		bpf_core_read(c.raddr, 16, &sk->__sk_common.skc_v6_daddr);
	} else {
		return;
	}
	c.id = bpf_ktime_get_ns();
	c.role = role;
	c.lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	c.rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	struct http_conn_key key = { .pid = pid, .fd = fd };
	bpf_map_update_elem(&http_conns, &key, &c, BPF_ANY);
}

static __always_inline void count_shed(int stat)
{
	__u32 zero = 0;
	struct http_shed_counts *n = bpf_map_lookup_elem(&http_shed_stats, &zero);
	if (n && stat < HTTP_SHED_NSTATS)
		n->n[stat] += 1; /* per-CPU slot: no atomics needed */
}

#define NSEC_PER_SEC 1000000000ULL

/* Take one exchange from this CPU's bucket; false when it is empty (the rate bound is reached). */
static __always_inline bool take_token(void)
{
	if (!exchanges_per_cpu)
		return true;
	__u32 zero = 0;
	struct http_bucket *b = bpf_map_lookup_elem(&http_bucket, &zero);
	if (!b)
		return true;
	__u64 now = bpf_ktime_get_ns();
	__u64 cost = NSEC_PER_SEC / exchanges_per_cpu;
	/* Time is the token: elapsed ns refill, up to one second's worth (the burst). */
	__u64 tokens = b->tokens_ns + (now - b->last_ns);
	if (tokens > NSEC_PER_SEC)
		tokens = NSEC_PER_SEC;
	b->last_ns = now;
	if (tokens < cost) {
		b->tokens_ns = tokens;
		return false;
	}
	b->tokens_ns = tokens - cost;
	return true;
}

/*
 * Is this syscall shed? The decision is taken once per exchange — at the first syscall in the request direction
 * (server: a read, client: a write) after one in the other direction — and kept until the next exchange, so a
 * request is never captured without its response or the reverse. While shed, positions do not advance; the
 * next event shipped carries HTTP_F_RESYNC and user space restarts at the next message start.
 */
static __always_inline bool shed(struct http_conn *c, __u8 direction)
{
	__u8 turn = direction + 1;
	if (c->last_dir != turn) {
		c->last_dir = turn;
		__u8 request_dir = c->role == HTTP_ROLE_SERVER ? HTTP_DIR_INGRESS : HTTP_DIR_EGRESS;
		if (direction == request_dir) {
			c->shed = (shed_bytes && bpf_ringbuf_query(&tg_events, BPF_RB_AVAIL_DATA) > shed_bytes) ||
				  !take_token();
			if (c->shed) {
				c->flags |= HTTP_F_RESYNC;
				count_shed(HTTP_SHED_EXCHANGES);
			}
		}
	}
	if (!c->shed)
		return false;
	count_shed(HTTP_SHED_SYSCALLS);
	return true;
}

/* Copy up to `budget` bytes of an iovec array into the scratch data. */
static __always_inline __u32 copy_iov(struct http_scratch *s, const struct iovec *iov, __u32 iovcnt, __u32 budget)
{
	__u32 off = 0;
	for (int i = 0; i < HTTP_MAX_IOV; i++) {
		if (i >= iovcnt || off >= budget)
			break;
		struct iovec v;
		if (bpf_probe_read_user(&v, sizeof(v), &iov[i]))
			break;
		__u64 n = v.iov_len;
		if (n > budget - off)
			n = budget - off;
		if (n == 0)
			continue;
		/* Masks prove the bounds to the verifier: off < HTTP_MAX_CAPTURE, n ≤ HTTP_MAX_CAPTURE. */
		__u32 o = off & (HTTP_MAX_CAPTURE - 1);
		__u32 k = n & (2 * HTTP_MAX_CAPTURE - 1);
		if (bpf_probe_read_user(&s->data[o], k, v.iov_base))
			break;
		off += k;
	}
	return off;
}

/*
 * The exit of a data syscall on (pid, fd): ship one event with the position, length and first bytes. The user
 * buffer (or iovec array / msghdr) is the one the syscall was given: at exit it holds what was read, and what was
 * written is still there.
 */
static __always_inline void exit_data(long ret, __u32 fd, __u64 ptr, __u32 call, __u32 iovcnt, __u8 direction)
{
	if (ret <= 0)
		return; /* nothing moved: no event, and no turn of the exchange either */
	__u64 id = bpf_get_current_pid_tgid();
	struct http_conn_key key = { .pid = id >> 32, .fd = fd };
	struct http_conn *c = bpf_map_lookup_elem(&http_conns, &key);
	if (!c)
		return; /* not a tracked connection (or an untraced pid: it never gets one) */
	if (shed(c, direction))
		return;
	if (!pid_traced(key.pid))
		return; /* excluded after its connections were tracked */
	__u32 zero = 0;
	struct http_scratch *s = bpf_map_lookup_elem(&http_scratch, &zero);
	if (!s)
		return;
	__u64 position = direction == HTTP_DIR_EGRESS ? c->pos[1] : c->pos[0];
	if (direction == HTTP_DIR_EGRESS)
		c->pos[1] += ret;
	else
		c->pos[0] += ret;

	__u32 budget = capture_bytes < HTTP_MAX_CAPTURE ? capture_bytes : HTTP_MAX_CAPTURE;
	if (budget > ret)
		budget = ret;
	__u32 captured = 0;
	if (call == CALL_BUF) {
		captured = budget & (2 * HTTP_MAX_CAPTURE - 1);
		if (bpf_probe_read_user(s->data, captured, (void *)ptr))
			captured = 0;
	} else if (call == CALL_IOV) {
		captured = copy_iov(s, (const struct iovec *)ptr, iovcnt, budget);
	} else if (call == CALL_MSG) {
		struct user_msghdr msg;
		if (!bpf_probe_read_user(&msg, sizeof(msg), (void *)ptr))
			captured = copy_iov(s, msg.msg_iov, msg.msg_iovlen, budget);
	}

	struct http_event *e = &s->ev;
	e->hdr.kind = TG_EVENT_HTTP;
	e->hdr.timestamp_ns = bpf_ktime_get_ns();
	e->conn_id = c->id;
	/* No program runs at syscall entry (see the top of this file): the enter time is not known. */
	e->ts_enter = e->hdr.timestamp_ns;
	e->position = position;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->fd = fd;
	e->length = ret;
	e->captured = captured;
	e->type = HTTP_EV_DATA;
	e->direction = direction;
	e->role = c->role;
	e->family = c->family;
	e->lport = c->lport;
	e->rport = c->rport;
	__builtin_memcpy(e->laddr, c->laddr, 16);
	__builtin_memcpy(e->raddr, c->raddr, 16);
	e->flags = c->flags;
	c->flags = 0;
	__u32 size = sizeof(struct http_event) + (captured & (2 * HTTP_MAX_CAPTURE - 1));
	e->hdr.size = size;
	if (bpf_ringbuf_output(&tg_events, s, size, tg_wakeup_flags()))
		tg_count_lost();
}

/* ---- connections ---- */

static __always_inline void exit_accept(long ret)
{
	if (ret < 0)
		return;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid_traced(pid))
		track_connection(pid, ret, HTTP_ROLE_SERVER);
}

static __always_inline void exit_connect(long ret, __u32 fd)
{
	if (ret != 0 && ret != -EINPROGRESS)
		return;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid_traced(pid))
		track_connection(pid, fd, HTTP_ROLE_CLIENT);
}

/*
 * Is fd of this task open again, on the connection `c` describes? Between a close releasing fd and this exit,
 * another thread of the process may have accepted or connected on the same number and registered it: that entry
 * is the new connection's and stays.
 */
static __always_inline bool reopened_as(__u32 fd, struct http_conn *c)
{
	struct sock *sk = tcp_sock_of_fd(fd);
	return sk && BPF_CORE_READ(sk, __sk_common.skc_num) == c->lport &&
	       bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport)) == c->rport;
}

static __always_inline void exit_close(long ret, __u32 fd)
{
	if (ret == -EBADF)
		return;
	__u64 id = bpf_get_current_pid_tgid();
	struct http_conn_key key = { .pid = id >> 32, .fd = fd };
	struct http_conn *c = bpf_map_lookup_elem(&http_conns, &key);
	if (!c || reopened_as(fd, c))
		return;
	struct http_event *e = tg_reserve(sizeof(*e), TG_EVENT_HTTP);
	if (e) {
		__builtin_memset(&e->conn_id, 0, sizeof(*e) - sizeof(e->hdr));
		e->conn_id = c->id;
		e->ts_enter = e->hdr.timestamp_ns;
		e->pid = key.pid;
		e->tid = (__u32)id;
		e->fd = key.fd;
		e->type = HTTP_EV_CLOSE;
		e->role = c->role;
		e->family = c->family;
		e->lport = c->lport;
		e->rport = c->rport;
		e->flags = c->flags;
		tg_submit(e);
	}
	bpf_map_delete_elem(&http_conns, &key);
}

/* ---- the program ---- */

/*
 * Every syscall exit of every process. Hooked numbers: read, recvfrom, readv, recvmsg (ingress); write (the
 * egress that sees requests leave clients), sendto, writev, sendmsg, sendfile64 (egress); accept, accept4,
 * connect (register); close (forget). Any other number returns after one test.
 */
SEC("tp_btf/sys_exit")
int BPF_PROG(trace_http_sys_exit, struct pt_regs *regs, long ret)
{
	long nr = SYSCALL_NR(regs);
	if (!HOOKED(nr) || compat_syscall())
		return 0;
	__u32 fd = ARG1(regs);
	__u64 ptr = ARG2(regs);
	__u32 call = CALL_BUF, iovcnt = 0;
	__u8 direction = HTTP_DIR_INGRESS;
	switch (nr) {
	case NR_accept:
	case NR_accept4:
		exit_accept(ret);
		return 0;
	case NR_connect:
		exit_connect(ret, fd);
		return 0;
	case NR_close:
		exit_close(ret, fd);
		return 0;
	case NR_read:
		break;
	case NR_recvfrom:
		if (ARG4(regs) & MSG_PEEK)
			return 0; /* peeked bytes are read again later: they must not advance the position */
		break;
	case NR_readv:
		call = CALL_IOV;
		iovcnt = ARG3(regs);
		break;
	case NR_recvmsg:
		if (ARG3(regs) & MSG_PEEK)
			return 0;
		call = CALL_MSG;
		break;
	case NR_write:
	case NR_sendto:
		direction = HTTP_DIR_EGRESS;
		break;
	case NR_writev:
		call = CALL_IOV;
		iovcnt = ARG3(regs);
		direction = HTTP_DIR_EGRESS;
		break;
	case NR_sendmsg:
		call = CALL_MSG;
		direction = HTTP_DIR_EGRESS;
		break;
	case NR_sendfile:
		call = CALL_NODATA; /* out_fd is the first argument */
		direction = HTTP_DIR_EGRESS;
		break;
	default:
		return 0;
	}
	exit_data(ret, fd, ptr, call, iovcnt, direction);
	return 0;
}
