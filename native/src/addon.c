/*
 * telegen_bpf: a thin Node-API bridge over libbpf. It opens/configures/loads objects, attaches and detaches
 * programs, reads and writes maps, and delivers ring-buffer records in copied batches from a polling thread.
 * Everything else (registry, decoding, policy) is TypeScript (src/ebpf).
 */
#include "util.h"
#include <bpf/libbpf.h>

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

static napi_value init(napi_env env, napi_value exports)
{
	tg_log_init();
	tg_export(env, exports, "libbpfVersion", version);
	tg_export(env, exports, "numPossibleCpus", num_possible_cpus);
	tg_init_object(env, exports);
	tg_init_maps(env, exports);
	tg_init_ringbuf(env, exports);
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
