/* Shared helpers of the addon: N-API argument plumbing, errors, and the libbpf log capture. */
#ifndef TELEGEN_UTIL_H
#define TELEGEN_UTIL_H
#include <node_api.h>
#include <stdbool.h>
#include <stddef.h>

#define NAPI_CALL(env, call)                                                                                  \
	do {                                                                                                  \
		if ((call) != napi_ok) {                                                                      \
			tg_throw_pending(env, #call);                                                         \
			return NULL;                                                                          \
		}                                                                                             \
	} while (0)

void tg_throw_pending(napi_env env, const char *what);
/* Throw an Error "<step>: <msg>" with properties step, errno and log (verifier log / libbpf messages). */
napi_value tg_throw(napi_env env, const char *step, const char *msg, int err, const char *log);
bool tg_get_string(napi_env env, napi_value v, char *out, size_t cap);
/* The pointer behind a call's one external argument (close/detach/flush of a handle), or NULL. */
void *tg_only_external_arg(napi_env env, napi_callback_info info);
napi_value tg_int(napi_env env, int64_t v);
napi_value tg_str(napi_env env, const char *s);
void tg_set(napi_env env, napi_value obj, const char *key, napi_value v);

/* libbpf's messages (warnings and above) are captured while a load is in progress, to be returned with errors. */
void tg_log_init(void);
void tg_log_begin(void);
/* The captured text (owned by the log; valid until the next tg_log_begin). */
const char *tg_log_text(void);
void tg_log_end(void);

napi_value tg_init_object(napi_env env, napi_value exports);
napi_value tg_init_maps(napi_env env, napi_value exports);
napi_value tg_init_ringbuf(napi_env env, napi_value exports);
void tg_export(napi_env env, napi_value exports, const char *name, napi_callback cb);
#endif
