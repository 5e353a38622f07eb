/*
 * Ring-buffer delivery. A native thread polls the ring buffer on a short timer (BPF submits without wakeup
 * until a byte threshold is queued) and appends every record into a batch: [u32 length][u32 0][data, padded
 * to 8]. Each batch is handed to JS as ONE copied Buffer through a threadsafe function (copied, not external:
 * external buffers bloated RSS). When JS lags, the bounded queue fills, the thread waits, the kernel ring fills
 * and BPF counts what it cannot reserve: backpressure ends in the lost counter, never in unbounded memory.
 */
#include "util.h"
#include <bpf/libbpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_CAP (1024 * 1024)
#define TSFN_QUEUE 8

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
	while (!atomic_load(&s->stop)) {
		/* Returns early when a producer forced a wakeup; otherwise after the interval. */
		int r = ring_buffer__poll(s->rb, s->interval_ms);
		if (r < 0 && r != -EINTR)
			sleep_ms(s->interval_ms);
		ring_buffer__consume(s->rb); /* records submitted without wakeup */
		flush(s);
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
	pthread_join(s->thread, NULL);
	s->started = false;
	napi_release_threadsafe_function(s->tsfn, napi_tsfn_release);
	ring_buffer__free(s->rb);
	s->rb = NULL;
	free(s->buf);
	s->buf = NULL;
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
		free(s->buf);
		free(s);
		return tg_throw(env, "ringbuf", "ring_buffer__new", e ? (int)e : ENOMEM, NULL);
	}
	napi_create_string_utf8(env, "telegen-ringbuf", NAPI_AUTO_LENGTH, &name);
	NAPI_CALL(env, napi_create_threadsafe_function(env, argv[2], NULL, name, TSFN_QUEUE, 1, NULL, NULL, NULL,
						       call_js, &s->tsfn));
	/* The poll thread must not keep the process alive on its own. */
	napi_unref_threadsafe_function(env, s->tsfn);
	if (pthread_create(&s->thread, NULL, poll_thread, s) != 0) {
		napi_release_threadsafe_function(s->tsfn, napi_tsfn_abort);
		ring_buffer__free(s->rb);
		free(s->buf);
		free(s);
		return tg_throw(env, "ringbuf", "pthread_create", errno, NULL);
	}
	s->started = true;
	NAPI_CALL(env, napi_create_external(env, s, finalize, NULL, &ext));
	return ext;
}

/* ringbufClose(subscription): stops the thread (within one interval); pending batches are still delivered. */
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
