// SPDX-License-Identifier: GPL-2.0
/*
 * Zero-code HTTP capture from syscall tracepoints only (no kprobes/fentry on our kernels). accept/connect
 * exits register TCP connections (the fd's socket is resolved with CO-RE: AF_INET/6, SOCK_STREAM, TCP, 4-tuple);
 * read/write-family exits on a registered (pid, fd) ship the first capture_bytes bytes with the stream position;
 * close forgets the connection. Untraced pids and fds that are not registered connections return after one
 * or two hash lookups and never touch the ring buffer.
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
	CALL_CONNECT = 5,
};

struct http_args {
	__u64 ts;
	__u64 ptr;     /* buffer, iovec array or msghdr */
	__u64 conn_id; /* http_conn.id at enter: the exit ships only to that same connection instance */
	__u32 fd;
	__u32 call;
	__u32 iovcnt;
	__u32 _pad;
};

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

/*
 * Nonzero while capture is suspended (agent.ebpf.http.overload): user space sets it the moment it decides, then
 * detaches the programs in the background — each syscall tracepoint's detach waits for a grace period (~70 ms,
 * one at a time, ~1.6 s for all), and meanwhile the ones still attached capture nothing and cost a lookup.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} http_paused SEC(".maps");

static __always_inline bool capture_paused(void)
{
	__u32 zero = 0;
	__u32 *p = bpf_map_lookup_elem(&http_paused, &zero);
	return p && *p;
}

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

/*
 * Syscall arguments between enter and exit, in the thread's own local storage: a pointer kept in the task,
 * so the hot path does no hash update/lookup/delete per syscall (an LRU hash here cost ~40% of every traced
 * syscall). Bounded by the threads alive; the kernel frees an entry with its thread. `call` == 0: no syscall
 * of ours in progress (the exit clears it, so an exit without its enter ships nothing).
 */
struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct http_args);
} http_args SEC(".maps");

/* This thread's in-flight syscall slot; created on first use when `create`. */
static __always_inline struct http_args *thread_args(bool create)
{
	return bpf_task_storage_get(&http_args, bpf_get_current_task_btf(), 0,
				    create ? BPF_LOCAL_STORAGE_GET_F_CREATE : 0);
}

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

/* sys_enter of a data syscall: remember its arguments when (pid, fd) is a tracked connection. */
static __always_inline void enter_data(__u32 fd, __u64 ptr, __u32 call, __u32 iovcnt, __u8 direction)
{
	if (capture_paused())
		return; /* the exit finds no arguments */
	__u64 id = bpf_get_current_pid_tgid();
	struct http_conn_key key = { .pid = id >> 32, .fd = fd };
	struct http_conn *c = bpf_map_lookup_elem(&http_conns, &key);
	if (!c)
		return; /* not a tracked connection (or an untraced pid: it never gets one) */
	if (shed(c, direction))
		return; /* the exit finds no arguments and returns at once */
	if (!pid_traced(key.pid))
		return; /* excluded after its connections were tracked */
	struct http_args *a = thread_args(true);
	if (!a)
		return;
	a->ts = bpf_ktime_get_ns();
	a->ptr = ptr;
	a->conn_id = c->id;
	a->fd = fd;
	a->call = call;
	a->iovcnt = iovcnt;
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

/* sys_exit of a data syscall: ship one event with the position, length and first bytes. */
static __always_inline void exit_data(long ret, __u8 direction)
{
	struct http_args *a = thread_args(false);
	if (!a || !a->call)
		return;
	struct http_args args = *a;
	a->call = 0;
	if (ret <= 0 || args.call == CALL_CONNECT)
		return;
	__u64 id = bpf_get_current_pid_tgid();
	struct http_conn_key key = { .pid = id >> 32, .fd = args.fd };
	struct http_conn *c = bpf_map_lookup_elem(&http_conns, &key);
	/*
	 * A different instance than at enter: the fd was closed and reused meanwhile, or these arguments are stale —
	 * left by a syscall whose exit ran while the programs were detached (capture suspended under overload), so
	 * this exit belongs to a later syscall whose enter was never seen (its buffer is not args.ptr).
	 */
	if (!c || c->id != args.conn_id)
		return;
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
	if (args.call == CALL_BUF) {
		captured = budget & (2 * HTTP_MAX_CAPTURE - 1);
		if (bpf_probe_read_user(s->data, captured, (void *)args.ptr))
			captured = 0;
	} else if (args.call == CALL_IOV) {
		captured = copy_iov(s, (const struct iovec *)args.ptr, args.iovcnt, budget);
	} else if (args.call == CALL_MSG) {
		struct user_msghdr msg;
		if (!bpf_probe_read_user(&msg, sizeof(msg), (void *)args.ptr))
			captured = copy_iov(s, msg.msg_iov, msg.msg_iovlen, budget);
	}

	struct http_event *e = &s->ev;
	e->hdr.kind = TG_EVENT_HTTP;
	e->hdr.timestamp_ns = bpf_ktime_get_ns();
	e->conn_id = c->id;
	e->ts_enter = args.ts;
	e->position = position;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->fd = args.fd;
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
	if (ret < 0 || capture_paused())
		return;
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	if (pid_traced(pid))
		track_connection(pid, ret, HTTP_ROLE_SERVER);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int trace_http_accept(struct trace_event_raw_sys_exit *ctx)
{
	exit_accept(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int trace_http_accept4(struct trace_event_raw_sys_exit *ctx)
{
	exit_accept(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int trace_http_connect_enter(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if (capture_paused() || !pid_traced(id >> 32))
		return 0;
	struct http_args *a = thread_args(true);
	if (!a)
		return 0;
	a->ts = bpf_ktime_get_ns();
	a->fd = ctx->args[0];
	a->call = CALL_CONNECT;
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int trace_http_connect(struct trace_event_raw_sys_exit *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_args *a = thread_args(false);
	if (!a || !a->call)
		return 0;
	__u32 fd = a->fd;
	__u32 call = a->call;
	a->call = 0;
	if (call == CALL_CONNECT && (ctx->ret == 0 || ctx->ret == -EINPROGRESS))
		track_connection(id >> 32, fd, HTTP_ROLE_CLIENT);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_close")
int trace_http_close(struct trace_event_raw_sys_enter *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	struct http_conn_key key = { .pid = id >> 32, .fd = ctx->args[0] };
	struct http_conn *c = bpf_map_lookup_elem(&http_conns, &key);
	if (!c)
		return 0;
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
	return 0;
}

/* ---- data: ingress ---- */

SEC("tracepoint/syscalls/sys_enter_read")
int trace_http_read_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_BUF, 0, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvfrom")
int trace_http_recvfrom_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[3] & MSG_PEEK)
		return 0; /* peeked bytes are read again later: they must not advance the position */
	enter_data(ctx->args[0], ctx->args[1], CALL_BUF, 0, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_readv")
int trace_http_readv_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_IOV, ctx->args[2], HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_recvmsg")
int trace_http_recvmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	if (ctx->args[2] & MSG_PEEK)
		return 0;
	enter_data(ctx->args[0], ctx->args[1], CALL_MSG, 0, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_read")
int trace_http_read(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int trace_http_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_readv")
int trace_http_readv(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_INGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int trace_http_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_INGRESS);
	return 0;
}

/* ---- data: egress (trace_http_request: the program that sees requests leave clients) ---- */

SEC("tracepoint/syscalls/sys_enter_write")
int trace_http_write_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_BUF, 0, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendto")
int trace_http_sendto_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_BUF, 0, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_writev")
int trace_http_writev_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_IOV, ctx->args[2], HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendmsg")
int trace_http_sendmsg_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], ctx->args[1], CALL_MSG, 0, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_sendfile64")
int trace_http_sendfile_enter(struct trace_event_raw_sys_enter *ctx)
{
	enter_data(ctx->args[0], 0, CALL_NODATA, 0, HTTP_DIR_EGRESS); /* out_fd */
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_write")
int trace_http_request(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int trace_http_sendto(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_writev")
int trace_http_writev(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int trace_http_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_EGRESS);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int trace_http_sendfile(struct trace_event_raw_sys_exit *ctx)
{
	exit_data(ctx->ret, HTTP_DIR_EGRESS);
	return 0;
}
