/*
 * telegen_bpf: a thin Node-API bridge over libbpf. It opens/configures/loads objects, attaches and detaches
 * programs, reads and writes maps, and delivers ring-buffer records in copied batches from a polling thread.
 * Everything else (registry, decoding, policy) is TypeScript (src/ebpf).
 */
#include "util.h"
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <stdlib.h>
#include <unistd.h>

static napi_value version(napi_env env, napi_callback_info info)
{
	napi_value arr;
	napi_create_array_with_length(env, 2, &arr);
	napi_set_element(env, arr, 0, tg_int(env, libbpf_major_version()));
	napi_set_element(env, arr, 1, tg_int(env, libbpf_minor_version()));
	return arr;
}

static napi_value num_possible_cpus(napi_env env, napi_callback_info info)
{
	return tg_int(env, libbpf_num_possible_cpus());
}

/*
 * mallocTrim(): hand glibc's free heap pages back to the kernel. libbpf parses the kernel's BTF for every object
 * it loads and frees it afterwards; glibc keeps those pages resident (tens of MB) unless asked. Returns whether
 * anything was released.
 */
static napi_value trim(napi_env env, napi_callback_info info)
{
	napi_value v;
	napi_get_boolean(env, malloc_trim(0) == 1, &v);
	return v;
}

/*
 * execSelf(argv): replace this process image with argv[0] argv[1..] (execv), keeping the pid, the environment and
 * the open descriptors. bin/telegen.js uses it to restart Node with V8 heap flags that cannot be set once V8 is
 * running (Node 20 has no process.execve). Returns only on failure (throws).
 */
static napi_value exec_self(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1];
	uint32_t n = 0;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || napi_get_array_length(env, argv[0], &n) != napi_ok || n == 0 || n > 4096)
		return tg_throw(env, "exec", "expected a non-empty array of strings", EINVAL, NULL);
	char **args = calloc(n + 1, sizeof(char *));
	if (!args)
		return tg_throw(env, "exec", "out of memory", ENOMEM, NULL);
	for (uint32_t i = 0; i < n; i++) {
		napi_value el;
		size_t len = 0;
		if (napi_get_element(env, argv[0], i, &el) != napi_ok ||
		    napi_get_value_string_utf8(env, el, NULL, 0, &len) != napi_ok || !(args[i] = malloc(len + 1))) {
			for (uint32_t j = 0; j < i; j++)
				free(args[j]);
			free(args);
			return tg_throw(env, "exec", "expected a non-empty array of strings", EINVAL, NULL);
		}
		napi_get_value_string_utf8(env, el, args[i], len + 1, &len);
	}
	/* Node marks stdin/stdout/stderr close-on-exec; the new image must inherit them like any exec'd program. */
	for (int fd = 0; fd <= 2; fd++) {
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0)
			fcntl(fd, F_SETFD, fl & ~FD_CLOEXEC);
	}
	execv(args[0], args);
	int e = errno;
	for (uint32_t i = 0; i < n; i++)
		free(args[i]);
	free(args);
	return tg_throw(env, "exec", "execv", e, NULL);
}

static napi_value init(napi_env env, napi_value exports)
{
	tg_log_init();
	tg_export(env, exports, "libbpfVersion", version);
	tg_export(env, exports, "numPossibleCpus", num_possible_cpus);
	tg_export(env, exports, "mallocTrim", trim);
	tg_export(env, exports, "execSelf", exec_self);
	tg_init_object(env, exports);
	tg_init_maps(env, exports);
	tg_init_ringbuf(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
