#include "util.h"
#include <bpf/libbpf.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_CAP (64 * 1024)

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[LOG_CAP];
static size_t log_len;
static bool log_capturing;

static int print_fn(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	pthread_mutex_lock(&log_lock);
	if (log_capturing && log_len < LOG_CAP - 1) {
		int n = vsnprintf(log_buf + log_len, LOG_CAP - log_len, fmt, args);
		if (n > 0)
			log_len = log_len + (size_t)n < LOG_CAP - 1 ? log_len + (size_t)n : LOG_CAP - 1;
	}
	pthread_mutex_unlock(&log_lock);
	return 0;
}

void tg_log_init(void)
{
	libbpf_set_print(print_fn);
}

void tg_log_begin(void)
{
	pthread_mutex_lock(&log_lock);
	log_len = 0;
	log_buf[0] = '\0';
	log_capturing = true;
	pthread_mutex_unlock(&log_lock);
}

const char *tg_log_text(void)
{
	return log_buf;
}

void tg_log_end(void)
{
	pthread_mutex_lock(&log_lock);
	log_capturing = false;
	pthread_mutex_unlock(&log_lock);
}

void tg_throw_pending(napi_env env, const char *what)
{
	bool pending = false;
	napi_is_exception_pending(env, &pending);
	if (!pending)
		napi_throw_error(env, NULL, what);
}

napi_value tg_throw(napi_env env, const char *step, const char *msg, int err, const char *log)
{
	char text[1024];
	if (err)
		snprintf(text, sizeof(text), "%s: %s (%s)", step, msg, strerror(err < 0 ? -err : err));
	else
		snprintf(text, sizeof(text), "%s: %s", step, msg);
	napi_value m, e;
	napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &m);
	napi_create_error(env, NULL, m, &e);
	tg_set(env, e, "step", tg_str(env, step));
	tg_set(env, e, "errno", tg_int(env, err < 0 ? -err : err));
	tg_set(env, e, "log", tg_str(env, log ? log : ""));
	napi_throw(env, e);
	return NULL;
}

void *tg_only_external_arg(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	void *p = NULL;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
	    napi_get_value_external(env, argv[0], &p) != napi_ok)
		return NULL;
	return p;
}

bool tg_get_string(napi_env env, napi_value v, char *out, size_t cap)
{
	size_t len = 0;
	return napi_get_value_string_utf8(env, v, out, cap, &len) == napi_ok && len < cap - 1;
}

napi_value tg_int(napi_env env, int64_t v)
{
	napi_value r;
	napi_create_int64(env, v, &r);
	return r;
}

napi_value tg_str(napi_env env, const char *s)
{
	napi_value r;
	napi_create_string_utf8(env, s ? s : "", NAPI_AUTO_LENGTH, &r);
	return r;
}

void tg_set(napi_env env, napi_value obj, const char *key, napi_value v)
{
	napi_set_named_property(env, obj, key, v);
}

void tg_export(napi_env env, napi_value exports, const char *name, napi_callback cb)
{
	napi_value fn;
	napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
	napi_set_named_property(env, exports, name, fn);
}
