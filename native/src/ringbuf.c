/*
 * Ring-buffer delivery. A native thread polls the ring buffer on a short timer (BPF submits without wakeup
 * until a byte threshold is queued); while the ring stays empty the timer backs off (doubling, up to
 * IDLE_MAX_MS) so an idle agent is not woken 50 times a second (each wake-up measured ~30 µs of CPU on a VM),
 * and snaps back to the base interval as soon as records arrive. A producer wake-up or close() (an eventfd)
 * ends the wait at once. Every record is appended into a batch: [u32 length][u32 0][data, padded
 * to 8]. Each batch is handed to JS as ONE copied Buffer through a threadsafe function (copied, not external:
 * external buffers bloated RSS). When JS lags, the bounded queue fills, the thread waits, the kernel ring fills
 * and BPF counts what it cannot reserve: backpressure ends in the lost counter, never in unbounded memory.
 */
#define _GNU_SOURCE /* pthread_setname_np */
#include "util.h"
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#define BATCH_CAP (1024 * 1024)
#define TSFN_QUEUE 8
#define IDLE_MAX_MS 200

typedef struct {
	uint8_t *data;
	size_t len;
} tg_batch;

typedef struct {
	struct ring_buffer *rb;
	napi_threadsafe_function tsfn;
	pthread_t thread;
	atomic_bool stop;
	bool started;
	int interval_ms;
	int epfd; /* our epoll set: libbpf's ring epoll fd + stop_fd */
	int stop_fd;
	uint8_t *buf;
	size_t len;
	uint64_t dropped_batches; /* only at shutdown */
} tg_ringbuf;

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };
	nanosleep(&ts, NULL);
}

static void flush(tg_ringbuf *s)
{
	if (s->len == 0)
		return;
	tg_batch *b = malloc(sizeof(*b));
	if (!b)
		return;
	b->data = s->buf;
	b->len = s->len;
	s->buf = malloc(BATCH_CAP);
	s->len = 0;
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

static int on_sample(void *ctx, void *data, size_t size)
{
	tg_ringbuf *s = ctx;
	size_t need = 8 + ((size + 7) & ~(size_t)7);
	if (s->len + need > BATCH_CAP)
		flush(s);
	if (!s->buf || need > BATCH_CAP)
		return 0; /* out of memory, or a record larger than a batch: skipped */
	uint32_t hdr[2] = { (uint32_t)size, 0 };
	memcpy(s->buf + s->len, hdr, 8);
	memcpy(s->buf + s->len + 8, data, size);
	s->len += need;
	return 0;
}

static void *poll_thread(void *arg)
{
	tg_ringbuf *s = arg;
	int timeout = s->interval_ms;
	int idle_max = s->interval_ms > IDLE_MAX_MS ? s->interval_ms : IDLE_MAX_MS;
	struct epoll_event ev[2];
	while (!atomic_load(&s->stop)) {
		/* Returns early when a producer forced a wakeup (or on close); otherwise after the timeout. */
		int r = epoll_wait(s->epfd, ev, 2, timeout);
		if (r < 0 && errno != EINTR)
			sleep_ms(timeout);
		if (atomic_load(&s->stop))
			break;
		int n = ring_buffer__consume(s->rb); /* everything queued, with or without a wakeup */
		flush(s);
		if (n > 0)
			timeout = s->interval_ms;
		else if (timeout < idle_max)
			timeout = timeout * 2 < idle_max ? timeout * 2 : idle_max;
	}
	return NULL;
}

static void call_js(napi_env env, napi_value cb, void *context, void *data)
{
	tg_batch *b = data;
	if (env && cb) {
		napi_value buf, undef;
		if (napi_create_buffer_copy(env, b->len, b->data, NULL, &buf) == napi_ok) {
			napi_get_undefined(env, &undef);
			napi_call_function(env, undef, cb, 1, &buf, NULL);
		}
	}
	free(b->data);
	free(b);
}

static void stop_thread(tg_ringbuf *s)
{
	if (!s->started)
		return;
	atomic_store(&s->stop, true);
	uint64_t one = 1;
	if (write(s->stop_fd, &one, sizeof(one)) < 0) { /* the thread still ends within one timeout */ }
	pthread_join(s->thread, NULL);
	ring_buffer__consume(s->rb); /* what arrived since the last round */
	flush(s);
	s->started = false;
	napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
	ring_buffer__free(s->rb);
	s->rb = NULL;
	free(s->buf);
	s->buf = NULL;
	close(s->epfd);
	close(s->stop_fd);
}

static void finalize(napi_env env, void *data, void *hint)
{
	tg_ringbuf *s = data;
	stop_thread(s);
	free(s);
}

/* ringbufOpen(mapFd, intervalMs, callback(batch: Buffer)) → subscription */
static napi_value open_rb(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], name, ext;
	int32_t fd, interval;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	napi_get_value_int32(env, argv[1], &interval);
	tg_ringbuf *s = calloc(1, sizeof(*s));
	if (!s)
		return tg_throw(env, "ringbuf", "out of memory", ENOMEM, NULL);
	s->interval_ms = interval > 0 ? interval : 20;
	s->buf = malloc(BATCH_CAP);
	s->rb = ring_buffer__new(fd, on_sample, s, NULL);
	int e = libbpf_get_error(s->rb);
	if (e || !s->buf) {
		if (!e)
			ring_buffer__free(s->rb);
		free(s->buf);
		free(s);
		return tg_throw(env, "ringbuf", "ring_buffer__new", e ? (int)e : ENOMEM, NULL);
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct epoll_event ring_ev = { .events = EPOLLIN }, stop_ev = { .events = EPOLLIN };
	if (s->epfd < 0 || s->stop_fd < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, ring_buffer__epoll_fd(s->rb), &ring_ev) < 0 ||
	    epoll_ctl(s->epfd, EPOLL_CTL_ADD, s->stop_fd, &stop_ev) < 0) {
		int err = errno;
		if (s->epfd >= 0)
			close(s->epfd);
		if (s->stop_fd >= 0)
			close(s->stop_fd);
		ring_buffer__free(s->rb);
		free(s->buf);
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
		ring_buffer__free(s->rb);
		free(s->buf);
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
	size_t argc = 1;
	napi_value argv[1];
	tg_ringbuf *s = NULL;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc == 1 && napi_get_value_external(env, argv[0], (void **)&s) == napi_ok && s)
		stop_thread(s);
	return NULL;
}

napi_value tg_init_ringbuf(napi_env env, napi_value exports)
{
	tg_export(env, exports, "ringbufOpen", open_rb);
	tg_export(env, exports, "ringbufClose", close_rb);
	return exports;
}
