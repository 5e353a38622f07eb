// SPDX-License-Identifier: GPL-2.0
/*
 * TCP connection tracer. One connection_map entry per socket from the first handshake state to TCP_CLOSE
 * (deleted there, so the map holds only live connections; bounded, with a drop counter when full):
 *  - sock:inet_sock_set_state: CLOSE→SYN_SENT (connect, process context: pid/comm/cgroup), →SYN_RECV (a child
 *    socket of a listener, softirq: pid unknown), →ESTABLISHED, →CLOSE (closed or failed, with sk_err);
 *  - syscalls:sys_exit_accept4/accept: the accepting process of an inbound connection (fd → file → socket);
 *  - sock:sock_send_length / sock_recv_length: bytes each way; tcp:tcp_retransmit_skb: retransmits.
 */
#include "common.h"
#include "tcp.h"

char LICENSE[] SEC("license") = "GPL";

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6

/* BPF-side TCP state numbers (include/net/tcp_states.h). */
#define ST_ESTABLISHED 1
#define ST_SYN_SENT 2
#define ST_SYN_RECV 3
#define ST_CLOSE 7

struct conn {
	__u64 start_ns;
	__u64 cgroup_id;
	__u64 bytes_sent;
	__u64 bytes_received;
	__u32 pid;
	__u32 retransmits;
	__u8 saddr[16];
	__u8 daddr[16];
	__u16 sport;
	__u16 dport;
	__u16 family;
	__u8 direction;
	__u8 established;
	__u8 announced;
	__u8 _pad[7];
	char comm[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64); /* struct sock * */
	__type(value, struct conn);
} connection_map SEC(".maps");

/* [0]: connections not tracked because connection_map was full. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tcp_dropped SEC(".maps");

static __always_inline void set_owner(struct conn *c)
{
	c->pid = bpf_get_current_pid_tgid() >> 32;
	c->cgroup_id = bpf_get_current_cgroup_id();
	bpf_get_current_comm(c->comm, sizeof(c->comm));
}

static __always_inline void copy_tuple(struct conn *c, struct trace_event_raw_inet_sock_set_state *ctx)
{
	c->family = ctx->family;
	c->sport = ctx->sport;
	c->dport = ctx->dport;
	/* The verifier refuses variable-offset ctx reads that memcpy compiles to; probe-read the arrays. */
	if (ctx->family == AF_INET) {
		bpf_probe_read_kernel(c->saddr, 4, ctx->saddr);
		bpf_probe_read_kernel(c->daddr, 4, ctx->daddr);
	} else {
		bpf_probe_read_kernel(c->saddr, 16, ctx->saddr_v6);
		bpf_probe_read_kernel(c->daddr, 16, ctx->daddr_v6);
	}
}

static __always_inline void emit(struct conn *c, __u8 type, __s32 error)
{
	struct tcp_event *e = tg_reserve(sizeof(*e), TG_EVENT_TCP);
	if (!e)
		return;
	e->cgroup_id = c->cgroup_id;
	e->duration_ns = e->hdr.timestamp_ns - c->start_ns;
	e->bytes_sent = c->bytes_sent;
	e->bytes_received = c->bytes_received;
	e->pid = c->pid;
	e->retransmits = c->retransmits;
	__builtin_memcpy(e->saddr, c->saddr, 16);
	__builtin_memcpy(e->daddr, c->daddr, 16);
	e->sport = c->sport;
	e->dport = c->dport;
	e->family = c->family;
	e->direction = c->direction;
	e->type = type;
	e->error = error;
	e->flags = c->announced ? TCP_EVF_ANNOUNCED : 0;
	__builtin_memcpy(e->comm, c->comm, 16);
	tg_submit(e);
}

static __always_inline void count_dropped(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&tcp_dropped, &zero);
	if (n)
		*n += 1;
}

SEC("tracepoint/sock/inet_sock_set_state")
int trace_tcp_connect(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != IPPROTO_TCP || (ctx->family != AF_INET && ctx->family != AF_INET6))
		return 0;
	__u64 sk = (__u64)ctx->skaddr;
	int ns = ctx->newstate;

	if (ns == ST_SYN_SENT || ns == ST_SYN_RECV) {
		struct conn c = {};
		c.start_ns = bpf_ktime_get_ns();
		copy_tuple(&c, ctx);
		if (ns == ST_SYN_SENT) {
			c.direction = TCP_DIR_OUTBOUND;
			set_owner(&c); /* connect() runs in the caller's context */
		} else {
			c.direction = TCP_DIR_INBOUND; /* softirq: the owner is known at accept */
		}
		if (bpf_map_update_elem(&connection_map, &sk, &c, BPF_NOEXIST) != 0 &&
		    !bpf_map_lookup_elem(&connection_map, &sk))
			count_dropped();
		return 0;
	}

	struct conn *c = bpf_map_lookup_elem(&connection_map, &sk);
	if (!c)
		return 0;
	if (ns == ST_ESTABLISHED) {
		copy_tuple(c, ctx);
		c->established = 1;
		if (c->direction == TCP_DIR_OUTBOUND && !c->announced) {
			c->announced = 1;
			emit(c, TCP_EV_ESTABLISHED, 0);
		}
		return 0;
	}
	if (ns == ST_CLOSE) {
		if (c->established) {
			emit(c, TCP_EV_CLOSED, 0);
		} else {
			struct sock *s = (struct sock *)ctx->skaddr;
			emit(c, TCP_EV_FAILED, BPF_CORE_READ(s, sk_err));
		}
		bpf_map_delete_elem(&connection_map, &sk);
	}
	return 0;
}

/* The accepting process of an inbound connection: fd → struct file → struct socket → struct sock. */
static __always_inline int on_accept(long fd)
{
	if (fd < 0)
		return 0;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	if (!fdt || fd >= BPF_CORE_READ(fdt, max_fds))
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = NULL;
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	__u64 sk = (__u64)BPF_CORE_READ(sock, sk);
	struct conn *c = bpf_map_lookup_elem(&connection_map, &sk);
	if (!c || c->direction != TCP_DIR_INBOUND)
		return 0;
	set_owner(c);
	if (c->established && !c->announced) {
		c->announced = 1;
		emit(c, TCP_EV_ESTABLISHED, 0);
	}
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int trace_tcp_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int trace_tcp_accept(struct trace_event_raw_sys_exit *ctx)
{
	return on_accept(ctx->ret);
}

static __always_inline int on_bytes(struct trace_event_raw_sock_msg_length *ctx, int sent)
{
	if (ctx->protocol != IPPROTO_TCP || ctx->ret <= 0)
		return 0;
	__u64 sk = (__u64)ctx->sk;
	struct conn *c = bpf_map_lookup_elem(&connection_map, &sk);
	if (!c)
		return 0;
	if (sent)
		__sync_fetch_and_add(&c->bytes_sent, ctx->ret);
	else
		__sync_fetch_and_add(&c->bytes_received, ctx->ret);
	return 0;
}

SEC("tracepoint/sock/sock_send_length")
int trace_tcp_send(struct trace_event_raw_sock_msg_length *ctx)
{
	return on_bytes(ctx, 1);
}

SEC("tracepoint/sock/sock_recv_length")
int trace_tcp_recv(struct trace_event_raw_sock_msg_length *ctx)
{
	return on_bytes(ctx, 0);
}

SEC("tracepoint/tcp/tcp_retransmit_skb")
int trace_tcp_retransmit(struct trace_event_raw_tcp_retransmit_skb *ctx)
{
	__u64 sk = (__u64)ctx->skaddr;
	struct conn *c = bpf_map_lookup_elem(&connection_map, &sk);
	if (c)
		__sync_fetch_and_add(&c->retransmits, 1);
	return 0;
}
