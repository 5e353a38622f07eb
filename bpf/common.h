/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What every Telegen BPF object shares: the ONE ring buffer (tg_events), the lost-events counter
 * (tg_events_lost), the time of the last forced wakeup (tg_events_wakeup), and the submit helpers with the
 * wakeup policy. The core creates the maps (core.bpf.c);
 * every other object declares the same maps through this header and the loader makes them reuse the core's
 * (bpf_map__reuse_fd), so all events travel one road and are dispatched in user space by header.kind.
 *
 * Usage in a tracer:
 *	struct my_event *e = tg_reserve(sizeof(*e), TG_EVENT_X);
 *	if (!e) return 0;            // counted in tg_events_lost
 *	... fill e ...
 *	tg_submit(e);
 */
#ifndef TELEGEN_COMMON_H
#define TELEGEN_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "events.h"

/* max_entries is set by the core from agent.ebpf.ringbuf_size before load. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} tg_events SEC(".maps");

/* Events dropped because the ring buffer was full (reserve failed), per CPU; summed in user space. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tg_events_lost SEC(".maps");

/*
 * Wakeup policy (the delivery latency bound, agent.ebpf.delivery_latency): a submit wakes the user-space
 * consumer only when tg_wakeup_bytes are queued, or when the last forced wakeup is older than
 * tg_wakeup_latency_ns — so the first record after a quiet spell is delivered at once, and under a steady low
 * rate the consumer wakes about once per latency period instead of per record (per-event wakeups cost ~10x the
 * CPU). Records submitted without a wakeup are picked up by the next forced one or by the consumer's timer of
 * the same latency (native/src/ringbuf.c). Both knobs are set by the core in every object's .rodata.
 */
const volatile __u64 tg_wakeup_bytes = 256 * 1024;
const volatile __u64 tg_wakeup_latency_ns = 200000000;

/* When the last forced wakeup happened (bpf_ktime_get_ns), one slot shared by every object (reused from the core). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} tg_events_wakeup SEC(".maps");

static __always_inline void tg_count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&tg_events_lost, &zero);
	if (lost)
		*lost += 1; /* per-CPU slot: no atomics needed */
}

/* Reserve `size` bytes for an event of `kind` and fill its header; NULL (and counted as lost) when full. */
static __always_inline void *tg_reserve(__u32 size, __u32 kind)
{
	struct telegen_event_header *h = bpf_ringbuf_reserve(&tg_events, size, 0);
	if (!h) {
		tg_count_lost();
		return NULL;
	}
	h->kind = kind;
	h->size = size;
	h->timestamp_ns = bpf_ktime_get_ns();
	return h;
}

static __always_inline __u64 tg_wakeup_flags(void)
{
	__u32 zero = 0;
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&tg_events_wakeup, &zero);
	/* Racing CPUs may both force a wakeup (harmless) or read a stale time (the consumer's timer catches up). */
	if (!last || bpf_ringbuf_query(&tg_events, BPF_RB_AVAIL_DATA) >= tg_wakeup_bytes ||
	    now - *last >= tg_wakeup_latency_ns) {
		if (last)
			*last = now;
		return BPF_RB_FORCE_WAKEUP;
	}
	return BPF_RB_NO_WAKEUP;
}

static __always_inline void tg_submit(void *event)
{
	bpf_ringbuf_submit(event, tg_wakeup_flags());
}

/*
 * For the few events other decisions wait on (a process exec'd or started listening: whether it is traced
 * depends on them, and its first connections follow within milliseconds): always a wakeup. Not rate-limited:
 * a limit leaves the event waiting for the consumer's timer (up to the latency bound) whenever another wakeup
 * happened just before — measured: a client exec'd right after another process's exec was traced ~190 ms late
 * and its first burst of requests missed. An exec already costs discovery ~1 ms of reads; a wakeup is ~30 µs.
 */
static __always_inline void tg_submit_prompt(void *event)
{
	bpf_ringbuf_submit(event, BPF_RB_FORCE_WAKEUP);
}

static __always_inline void tg_discard(void *event)
{
	bpf_ringbuf_discard(event, BPF_RB_NO_WAKEUP);
}

#endif
