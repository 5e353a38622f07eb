/*
 * Ring-buffer delivery, with our own consumer over the BPF_MAP_TYPE_RINGBUF mmap layout instead of libbpf's
 * ring_buffer__add/consume. libbpf maps the data area twice, back to back, so that a record wrapping around the
 * end reads as one block; the kernel's remap_vmalloc_range() makes every mapped page resident at mmap, so a 16 MiB
 * ring cost 32 MiB of RSS. We map it once and copy a wrapping record in two pieces (every record is copied into a
 * batch anyway).
 *
 * The protocol, as the kernel defines it (kernel/bpf/ringbuf.c: struct bpf_ringbuf, ringbuf_map_mmap_kern(),
 * bpf_ringbuf_commit(); and libbpf's consumer, tools/lib/bpf/ringbuf.c: ringbuf_process_ring(), roundup_len()):
 *  - mmap offset 0, one page, read-write: consumer_pos (the kernel refuses any other writable mapping: EPERM);
 *  - mmap offset page_size, read-only: the producer page (producer_pos), then the data area (max_entries bytes,
 *    a power of two); we map page + max_entries, not page + 2 × max_entries;
 *  - producer_pos is read with acquire; each record starts at (pos & mask) with an 8-byte header: u32 len whose
 *    bit 31 (BPF_RINGBUF_BUSY_BIT) marks a reserved, not yet committed record (stop there: records are consumed
 *    in order) and bit 30 (BPF_RINGBUF_DISCARD_BIT) a discarded one (skip it), then u32 pg_off (kernel-internal);
 *    the header word is read with acquire (the kernel commits it with an atomic xchg);
 *  - a record occupies round_up(len + 8, 8) bytes; headers are 8-aligned and the data area is a multiple of the
 *    page size, so a header never straddles the end but the record's data may;
 *  - positions only grow (unsigned long, compared with !=, as libbpf does since its wrap-around fix);
 *  - consumer_pos is stored with release once the records are copied: the kernel may then reuse the space.
 * epoll on the map fd reports EPOLLIN when a producer forced a wakeup (ringbuf_map_poll_kern).
 *
 * Wakeup policy (bpf/common.h): BPF forces a wakeup when agent-bound bytes queued reach tg_wakeup_bytes or when
 * the last forced wakeup is older than tg_wakeup_latency_ns (so the first record after a quiet spell wakes us at
 * once). Here a timer of the same latency delivers what came in after a wakeup, and each delivery resets BPF's
 * clock (mark_delivered), so a steady flow costs one delivery per latency period; while the ring stays empty
 * the timer backs off (doubling, up to IDLE_MAX_MS).
 * A close() (an eventfd) ends the wait at once. Every record is appended into a batch: [u32 length][u32 0]
 * [data, zero-padded to 8] — the ring's own framing, so a batch is never larger than what it consumed and is
 * allocated at that size. Each batch is handed to JS as ONE Buffer through a threadsafe function: an external
 * Buffer over the batch itself, freed when JS drops it. It used to be copied into a Buffer of Node's; that copy
 * cost ~230 µs per 200 KB batch here (p90 ~850 µs: fresh pages), and bench:budgets showed no RSS difference
 * between the two (10k spans/s, peak 136-139 MB either way, idle 88-89 MB, 2026-12-04): the earlier finding that
 * external buffers bloat RSS did not hold for one external Buffer per batch. When JS lags, the bounded queue fills, the thread waits, the
 * kernel ring fills and BPF counts what it cannot reserve: backpressure ends in the lost counter, never in
 * unbounded memory.
 * ringbufFlush (POST /admin/flush) wakes the thread through a second eventfd: it delivers what is committed, then a
 * marker in the same queue, so JS knows when everything committed before the call has been handed over.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "util.h"
#include <bpf/bpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define BATCH_CAP (1024 * 1024)
#define TSFN_QUEUE 8
#define IDLE_MAX_MS 1000
#define RB_HDR_SZ 8

typedef struct {
	uint8_t *data;
	size_t len;
	uint64_t flushes; /* a flush marker (data NULL): how many ringbufFlush calls it answers */
} tg_batch;

typedef struct {
	/* the mapped ring */
	size_t page;
	size_t size; /* data area bytes (max_entries) */
	unsigned long *consumer_pos;
	void *ro; /* producer page + data, mapped once */
	const unsigned long *producer_pos;
	const uint8_t *data;
	/* delivery */
	napi_threadsafe_function tsfn;
	pthread_t thread;
	atomic_bool stop;
	bool started;
	int latency_ms;
	int wakeup_fd; /* tg_events_wakeup (bpf/common.h): when BPF last forced a wakeup; -1 when not given */
	int epfd; /* our epoll set: the ring's map fd + stop_fd */
	int stop_fd;
	int flush_fd; /* eventfd: ringbufFlush requests since the thread last looked */
	uint64_t dropped_batches; /* only at shutdown */
} tg_ringbuf;

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

static void deliver(tg_ringbuf *s, uint8_t *data, size_t len, uint64_t flushes)
{
	tg_batch *b = malloc(sizeof(*b));
	if (!b) {
		free(data);
		return;
	}
	b->data = data;
	b->len = len;
	b->flushes = flushes;
	for (;;) {
		napi_status st = napi_call_threadsafe_function(s->tsfn, b, napi_tsfn_nonblocking);
		if (st == napi_ok)
			return;
		if (st != napi_queue_full || atomic_load(&s->stop))
			break;
		sleep_ms(1); /* JS is behind: wait (the kernel ring absorbs, then BPF counts losses) */
	}
	s->dropped_batches++;
	free(b->data);
	free(b);
}

/* Copy `n` bytes of record data starting at ring position `pos` (any alignment), in two pieces if it wraps. */
static void copy_out(const tg_ringbuf *s, uint8_t *dst, unsigned long pos, size_t n)
{
	size_t off = pos & (s->size - 1);
	size_t first = s->size - off < n ? s->size - off : n;
	memcpy(dst, s->data + off, first);
	if (first < n)
		memcpy(dst + first, s->data, n - first);
}

/*
 * One batch: the committed records from consumer_pos on, up to BATCH_CAP bytes (or one record, if a single
 * record is larger). Returns the number of records delivered; *more says whether committed data remains (the
 * cap was hit), *busy whether we stopped at a record still being written.
 */
static int consume_batch(tg_ringbuf *s, bool *more, bool *busy)
{
	unsigned long cons = *s->consumer_pos; /* only we write it */
	unsigned long prod = __atomic_load_n(s->producer_pos, __ATOMIC_ACQUIRE);
	*more = false;
	*busy = false;
	if (cons == prod)
		return 0;
	size_t avail = prod - cons;
	size_t cap = avail < BATCH_CAP ? avail : BATCH_CAP;
	uint8_t *buf = NULL;
	size_t len = 0;
	int n = 0;
	while (cons != prod) {
		const uint32_t *hdr = (const uint32_t *)(s->data + (cons & (s->size - 1)));
		uint32_t word = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		if (word & BPF_RINGBUF_BUSY_BIT) {
			*busy = true;
			break;
		}
		uint32_t rlen = word & ~(uint32_t)(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		size_t step = ((size_t)rlen + RB_HDR_SZ + 7) & ~(size_t)7;
		if (step > prod - cons)
			break; /* cannot happen with a sane kernel; never read past what was produced */
		if (!(word & BPF_RINGBUF_DISCARD_BIT)) {
			if (len + step > cap) {
				if (len > 0) {
					*more = true;
					break;
				}
				cap = step; /* a record larger than a batch: a batch of its own */
			}
			if (!buf && !(buf = malloc(cap)))
				break; /* out of memory: leave the records in the ring (BPF counts what it then loses) */
			uint32_t frame[2] = { rlen, 0 };
			memcpy(buf + len, frame, RB_HDR_SZ);
			copy_out(s, buf + len + RB_HDR_SZ, cons + RB_HDR_SZ, rlen);
			memset(buf + len + RB_HDR_SZ + rlen, 0, step - RB_HDR_SZ - rlen);
			len += step;
			n++;
		}
		cons += step;
	}
	__atomic_store_n(s->consumer_pos, cons, __ATOMIC_RELEASE);
	if (len > 0)
		deliver(s, buf, len, 0);
	else
		free(buf);
	return n;
}

/* Everything committed so far, in as many batches as needed; returns records delivered, *busy as above. */
static int consume_all(tg_ringbuf *s, bool *busy)
{
	int total = 0;
	bool more;
	do
		total += consume_batch(s, &more, busy);
	while (more); /* each round advances consumer_pos: this ends */
	return total;
}

/*
 * Tell BPF we just delivered: it forces its next wakeup only once the latency has passed since now. While records
 * flow, our timer (same latency) then does every delivery — one per period — instead of the timer and a forced
 * wakeup each (two per period); after a quiet spell the first record still wakes us at once.
 */
static void mark_delivered(tg_ringbuf *s)
{
	if (s->wakeup_fd < 0)
		return;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* the clock of bpf_ktime_get_ns() */
	uint64_t now = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	uint32_t zero = 0;
	bpf_map_update_elem(s->wakeup_fd, &zero, &now, BPF_ANY);
}

static void *poll_thread(void *arg)
{
	tg_ringbuf *s = arg;
	int timeout = s->latency_ms;
	int idle_max = s->latency_ms > IDLE_MAX_MS ? s->latency_ms : IDLE_MAX_MS;
	struct epoll_event ev[2];
	while (!atomic_load(&s->stop)) {
		/* Returns early when a producer forced a wakeup (or on close); otherwise after the timeout. */
		int r = epoll_wait(s->epfd, ev, 2, timeout);
		if (r < 0 && errno != EINTR)
			sleep_ms(timeout);
		if (atomic_load(&s->stop))
			break;
		/* Flush requests are read before consuming: what they ask for was committed before they were made. */
		uint64_t flushes = 0;
		if (read(s->flush_fd, &flushes, sizeof(flushes)) != sizeof(flushes))
			flushes = 0;
		bool busy;
		int n = consume_all(s, &busy);
		if (n > 0)
			mark_delivered(s);
		/* After the batches in the same FIFO queue: JS sees the marker once it has dispatched them all. */
		if (flushes > 0)
			deliver(s, NULL, 0, flushes);
		if (n > 0 || busy)
			timeout = s->latency_ms;
		else if (timeout < idle_max)
			timeout = timeout * 2 < idle_max ? timeout * 2 : idle_max;
	}
	return NULL;
}

/* The batch's memory is JS's now: freed when the Buffer over it is collected. */
static void free_batch_data(napi_env env, void *data, void *hint)
{
	(void)env;
	(void)hint;
	free(data);
}

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	tg_batch *b = data;
	if (env && cb) {
		napi_value args[2], undef;
		napi_get_undefined(env, &undef);
		if (!b->data) {
			/* a flush marker: cb(null, n) */
			napi_get_null(env, &args[0]);
			napi_create_double(env, (double)b->flushes, &args[1]);
			napi_call_function(env, undef, cb, 2, args, NULL);
		} else if (napi_create_external_buffer(env, b->len, b->data, free_batch_data, NULL, &args[0]) == napi_ok) {
			b->data = NULL; /* handed over: the Buffer's finalizer frees it */
			napi_call_function(env, undef, cb, 1, args, NULL);
		} else if (napi_create_buffer_copy(env, b->len, b->data, NULL, &args[0]) == napi_ok) {
			/* external buffers refused (a V8 sandbox build): one more copy */
			napi_call_function(env, undef, cb, 1, args, NULL);
		}
	}
	free(b->data);
	free(b);
}

static void unmap(tg_ringbuf *s)
{
	if (s->consumer_pos && s->consumer_pos != MAP_FAILED)
		munmap(s->consumer_pos, s->page);
	if (s->ro && s->ro != MAP_FAILED)
		munmap(s->ro, s->page + s->size);
	s->consumer_pos = NULL;
	s->ro = NULL;
}

static void stop_thread(tg_ringbuf *s)
{
	if (!s->started)
		return;
	atomic_store(&s->stop, true);
	uint64_t one = 1;
	if (write(s->stop_fd, &one, sizeof(one)) < 0) { /* the thread still ends within one timeout */ }
	pthread_join(s->thread, NULL);
	bool busy;
	consume_all(s, &busy); /* what arrived since the last round (a batch JS has no room for is dropped: JS is here) */
	s->started = false;
	napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
	unmap(s);
	close(s->epfd);
	close(s->stop_fd);
	close(s->flush_fd);
}

static void finalize(napi_env env, void *data, void *hint)
{
	tg_ringbuf *s = data;
	stop_thread(s);
	free(s);
}

/* Map the ring of `fd` once: consumer page RW at 0, producer page + data RO at page_size. Returns 0 or errno. */
static int map_ring(tg_ringbuf *s, int fd, const char **step)
{
	struct bpf_map_info info;
	uint32_t info_len = sizeof(info);
	memset(&info, 0, sizeof(info));
	*step = "bpf_obj_get_info_by_fd";
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len) < 0)
		return errno;
	if (info.type != BPF_MAP_TYPE_RINGBUF || info.max_entries == 0 ||
	    (info.max_entries & (info.max_entries - 1)) != 0) {
		*step = "not a ring buffer map";
		return EINVAL;
	}
	s->page = (size_t)sysconf(_SC_PAGESIZE);
	s->size = info.max_entries;
	*step = "mmap consumer page";
	s->consumer_pos = mmap(NULL, s->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (s->consumer_pos == MAP_FAILED) {
		s->consumer_pos = NULL;
		return errno;
	}
	*step = "mmap producer page and data";
	s->ro = mmap(NULL, s->page + s->size, PROT_READ, MAP_SHARED, fd, (off_t)s->page);
	if (s->ro == MAP_FAILED) {
		int e = errno;
		s->ro = NULL;
		unmap(s);
		return e;
	}
	s->producer_pos = s->ro;
	s->data = (const uint8_t *)s->ro + s->page;
	return 0;
}

/* ringbufOpen(mapFd, latencyMs, callback(batch: Buffer), wakeupMapFd = -1) → subscription */
static napi_value open_rb(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], name, ext;
	int32_t fd, latency, wakeup_fd = -1;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	napi_get_value_int32(env, argv[1], &latency);
	if (argc >= 4 && napi_get_value_int32(env, argv[3], &wakeup_fd) != napi_ok)
		wakeup_fd = -1;
	tg_ringbuf *s = calloc(1, sizeof(*s));
	if (!s)
		return tg_throw(env, "ringbuf", "out of memory", ENOMEM, NULL);
	s->latency_ms = latency > 0 ? latency : 200;
	s->wakeup_fd = wakeup_fd;
	const char *step = "";
	int e = map_ring(s, fd, &step);
	if (e) {
		free(s);
		return tg_throw(env, "ringbuf", step, e, NULL);
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->flush_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ring_ev = { .events = EPOLLIN }, stop_ev = { .events = EPOLLIN }, flush_ev = { .events = EPOLLIN };
	if (s->epfd < 0 || s->stop_fd < 0 || s->flush_fd < 0 || epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ring_ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stop_fd, &stop_ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->flush_fd, &flush_ev) < 0) {
		int err = errno;
		if (s->epfd >= 0)
			close(s->epfd);
		if (s->stop_fd >= 0)
			close(s->stop_fd);
		if (s->flush_fd >= 0)
			close(s->flush_fd);
		unmap(s);
		free(s);
		return tg_throw(env, "ringbuf", "epoll", err, NULL);
	}
	napi_create_string_utf8(env, "telegen-ringbuf", NAPI_AUTO_LENGTH, &name);
	NAPI_CALL(env, napi_create_threadsafe_function(env, argv[2], NULL, name, TSFN_QUEUE, 1, NULL, NULL, NULL,
						       call_js, &s->tsfn));
	/* The poll thread must not keep the process alive on its own. */
	napi_unref_threadsafe_function(env, s->tsfn);
	if (pthread_create(&s->thread, NULL, poll_thread, s) != 0) {
		napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
		close(s->epfd);
		close(s->stop_fd);
		close(s->flush_fd);
		unmap(s);
		free(s);
		return tg_throw(env, "ringbuf", "pthread_create", errno, NULL);
	}
	pthread_setname_np(s->thread, "tg-ringbuf"); /* visible in /proc/<pid>/task/<tid>/comm and /debug/pprof/threadcreate */
	s->started = true;
	NAPI_CALL(env, napi_create_external(env, s, finalize, NULL, &ext));
	return ext;
}

/* ringbufClose(subscription): stops the thread at once (eventfd); pending batches are still delivered. */
static napi_value close_rb(napi_env env, napi_callback_info info)
{
	tg_ringbuf *s = tg_only_external_arg(env, info);
	if (s)
		stop_thread(s);
	return NULL;
}

/*
 * ringbufFlush(subscription): wake the thread to deliver everything committed so far, then cb(null, n) — after
 * those batches — answering this call (n counts the calls one marker answers). No-op once closed.
 */
static napi_value flush_rb(napi_env env, napi_callback_info info)
{
	tg_ringbuf *s = tg_only_external_arg(env, info);
	if (s && s->started) {
		uint64_t one = 1;
		if (write(s->flush_fd, &one, sizeof(one)) < 0) { /* eventfd counter full: cannot happen at 2^64-1 */ }
	}
	return NULL;
}

napi_value tg_init_ringbuf(napi_env env, napi_value exports)
{
	tg_export(env, exports, "ringbufFlush", flush_rb);
	tg_export(env, exports, "ringbufOpen", open_rb);
	tg_export(env, exports, "ringbufClose", close_rb);
	return exports;
}
