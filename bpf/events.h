/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The header every ring-buffer event starts with, and the event-kind registry. Shared by BPF programs and
 * user space (mirrored in src/ebpf/events.ts; test/ebpf/layouts.test.ts checks sizes and offsets).
 * Fixed-size fields only. Include <linux/types.h> (user space) or vmlinux.h (BPF) first.
 */
#ifndef TELEGEN_EVENTS_H
#define TELEGEN_EVENTS_H

/* Keep in step with EventKind in src/ebpf/core.ts and the table in src/ebpf/README.md. */
enum telegen_event_kind {
	TG_EVENT_TCP = 1,
	TG_EVENT_PROCESS = 2,
	TG_EVENT_HTTP = 3,
	/* 4..63 reserved for future tracers; 200..255 test fixtures */
	TG_EVENT_TEST_FLOOD = 200,
};

struct telegen_event_header {
	__u32 kind;         /* enum telegen_event_kind */
	__u32 size;         /* bytes of the whole event, header included */
	__u64 timestamp_ns; /* bpf_ktime_get_ns() (CLOCK_MONOTONIC) */
};

/*
 * Process lifecycle (kind TG_EVENT_PROCESS), from sched:sched_process_exec / sched_process_exit, and a TCP
 * socket of the process entering LISTEN (sock:inet_sock_set_state, in listen()'s process context): discovery
 * reads the process again then instead of polling for new listeners.
 */
enum telegen_process_event_type {
	TG_PROCESS_EXEC = 1,
	TG_PROCESS_EXIT = 2,
	TG_PROCESS_LISTEN = 3,
};

struct process_event {
	struct telegen_event_header hdr;
	__u32 pid;  /* tgid */
	__u32 ppid; /* parent's tgid */
	__u32 type; /* enum telegen_process_event_type */
	__u32 exit_code;
	char comm[16];
};

#endif
