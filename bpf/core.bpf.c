// SPDX-License-Identifier: GPL-2.0
/*
 * The core object: creates the shared ring buffer and lost counter (common.h) that every other object reuses,
 * and reports process exec/exit (thread-group leaders only) and TCP listens for discovery.
 */
#include "common.h"

char LICENSE[] SEC("license") = "GPL";

static __always_inline void emit_process(__u32 type, __u32 exit_code)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct process_event *e = tg_reserve(sizeof(*e), TG_EVENT_PROCESS);
	if (!e)
		return;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->type = type;
	e->exit_code = exit_code;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (type == TG_PROCESS_EXIT)
		tg_submit(e);
	else
		tg_submit_prompt(e); /* selection waits on exec and listen events */
}

SEC("tracepoint/sched/sched_process_exec")
int trace_process_exec(void *ctx)
{
	emit_process(TG_PROCESS_EXEC, 0);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int trace_process_exit(void *ctx)
{
	__u64 id = bpf_get_current_pid_tgid();
	if ((__u32)id != (__u32)(id >> 32))
		return 0; /* a thread, not the process */
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	emit_process(TG_PROCESS_EXIT, BPF_CORE_READ(task, exit_code) >> 8);
	return 0;
}

#define TG_IPPROTO_TCP 6
#define TG_TCP_LISTEN 10 /* include/net/tcp_states.h */

/* A TCP socket entered LISTEN: listen(2) runs in the owner's context, so the current process is the listener. */
SEC("tracepoint/sock/inet_sock_set_state")
int trace_process_listen(struct trace_event_raw_inet_sock_set_state *ctx)
{
	if (ctx->protocol != TG_IPPROTO_TCP || ctx->newstate != TG_TCP_LISTEN)
		return 0;
	emit_process(TG_PROCESS_LISTEN, 0);
	return 0;
}
