/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP capture events (kind TG_EVENT_HTTP): one per read/write-family syscall on a tracked TCP connection, with
 * the connection's byte position in that direction, the full length moved and the first `capture_bytes` bytes;
 * one per close. User space (src/tracing/http-event.ts mirrors this layout; test/tracing/http-event.test.ts
 * checks it against the compiled object's BTF) stitches them by position and parses HTTP/1.x.
 * Fixed-size fields only; include vmlinux.h (BPF) or <linux/types.h> (user space) first.
 */
#ifndef TELEGEN_HTTP_H
#define TELEGEN_HTTP_H

/* Upper bound of the capture_bytes setting (config agent.ebpf.http.capture_bytes). */
#define HTTP_MAX_CAPTURE 8192
/* iovecs looked at per readv/writev/recvmsg/sendmsg. */
#define HTTP_MAX_IOV 16

enum http_event_type {
	HTTP_EV_DATA = 1,
	HTTP_EV_CLOSE = 2,
};

enum http_direction {
	HTTP_DIR_INGRESS = 0, /* read by the process */
	HTTP_DIR_EGRESS = 1,  /* written by the process */
};

enum http_role {
	HTTP_ROLE_SERVER = 1, /* accepted connection */
	HTTP_ROLE_CLIENT = 2, /* connected connection */
};

struct http_event {
	struct telegen_event_header hdr; /* timestamp_ns: syscall exit (CLOCK_MONOTONIC) */
	__u64 conn_id;  /* unique per connection instance: ktime at accept/connect */
	__u64 ts_enter; /* syscall enter (CLOCK_MONOTONIC) */
	__u64 position; /* bytes moved in this direction before this syscall */
	__u32 pid;      /* tgid */
	__u32 tid;
	__u32 fd;
	__u32 length;   /* bytes the syscall moved (its return value) */
	__u32 captured; /* bytes in data[] */
	__u8 type;      /* enum http_event_type */
	__u8 direction; /* enum http_direction */
	__u8 role;      /* enum http_role */
	__u8 family;    /* AF_INET (2) or AF_INET6 (10) */
	__u16 lport;    /* local port, host order */
	__u16 rport;    /* remote port, host order */
	__u8 laddr[16]; /* local address (IPv4: first 4 bytes) */
	__u8 raddr[16]; /* remote address */
	__u32 flags;    /* HTTP_F_* */
	__u8 data[];    /* `captured` bytes */
};

/*
 * HTTP_F_RESYNC: bytes of this connection before this event were not seen (exchanges shed while the ring was
 * behind, or a connection registered mid-stream by user space). Positions do not count the unseen bytes, so
 * user space forgets what it had in flight on the connection and parses from the next message start.
 */
#define HTTP_F_RESYNC 1

/*
 * A tracked connection (map http_conns, key: pid and fd). In this header because user space writes entries too:
 * connections that were open before the tracer started (src/tracing/existing-connections.ts mirrors it; the
 * layout is checked against BTF in test/tracing/http-event.test.ts).
 */
struct http_conn {
	__u64 id;     /* unique per connection instance: ktime at accept/connect (CLOCK_MONOTONIC) */
	__u64 pos[2]; /* bytes moved, by enum http_direction (shed exchanges excluded) */
	__u8 role;
	__u8 family;
	__u16 lport;
	__u16 rport;
	__u8 shed;     /* the exchange in progress is not captured */
	__u8 last_dir; /* direction of the last data syscall + 1 (0: none yet) */
	__u8 laddr[16];
	__u8 raddr[16];
	__u32 flags;   /* HTTP_F_* for the next event shipped */
	__u32 _pad;
};

/* Per-CPU counters of kernel-side shedding (map http_shed_stats). */
enum http_shed_stat {
	HTTP_SHED_EXCHANGES = 0, /* request turns not captured: one per request on HTTP/1.1 without pipelining */
	HTTP_SHED_SYSCALLS = 1,  /* data syscalls not captured */
	HTTP_SHED_NSTATS = 2,
};

/* Per-process decision kept in http_pid_filter (absent: http_settings.default_action). */
enum http_pid_action {
	HTTP_PID_TRACE = 1,
	HTTP_PID_SKIP = 2,
};

struct http_settings {
	__u32 default_action; /* enum http_pid_action for pids not in http_pid_filter */
	__u32 _pad;
};

#endif
