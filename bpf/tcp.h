/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connection events (kind TG_EVENT_TCP), from tcp.bpf.c. Mirrored by src/ebpf/tcp/tcp-events.ts (offsets
 * checked by test/ebpf/layouts.test.ts). Fixed-size fields only.
 */
#ifndef TELEGEN_TCP_H
#define TELEGEN_TCP_H

#include "events.h"

enum tcp_event_type {
	TCP_EV_ESTABLISHED = 1, /* outbound: handshake done; inbound: accepted by a process */
	TCP_EV_CLOSED = 2,      /* an established connection ended */
	TCP_EV_FAILED = 3,      /* never established: refused, timed out, reset during the handshake */
};

enum tcp_direction {
	TCP_DIR_OUTBOUND = 1, /* this host connect()ed */
	TCP_DIR_INBOUND = 2,  /* this host accept()ed */
};

#define TCP_EVF_ANNOUNCED 1

struct tcp_event {
	struct telegen_event_header hdr;
	__u64 cgroup_id;
	__u64 duration_ns; /* since connect() / the handshake's first packet */
	__u64 bytes_sent;
	__u64 bytes_received;
	__u32 pid; /* tgid of the connecting/accepting process; 0 when no process touched it */
	__u32 retransmits;
	__u8 saddr[16]; /* local address: IPv4 in the first 4 bytes, or IPv6 */
	__u8 daddr[16]; /* remote address */
	__u16 sport;    /* local port */
	__u16 dport;    /* remote port */
	__u16 family;   /* AF_INET (2) or AF_INET6 (10) */
	__u8 direction; /* enum tcp_direction */
	__u8 type;      /* enum tcp_event_type */
	__s32 error;    /* errno of a failure: 111 refused, 110 timed out, 104 reset; else 0 */
	__u32 flags;    /* TCP_EVF_*: bit 0 = an ESTABLISHED event was sent for this connection */
	char comm[16];
};

#endif
