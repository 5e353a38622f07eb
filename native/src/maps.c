/* Map access by fd: lookup, update, delete, bounded iteration and counting. Keys/values are raw Buffers. */
#include "util.h"
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static bool get_buf(napi_env env, napi_value v, void **data, size_t *len)
{
	bool is = false;
	napi_is_buffer(env, v, &is);
	return is && napi_get_buffer_info(env, v, data, len) == napi_ok;
}

/* mapLookup(fd, key, valueSize) → Buffer | null */
static napi_value lookup(napi_env env, napi_callback_info info)
{
	size_t argc = 3, klen;
	napi_value argv[3], out;
	int32_t fd;
	uint32_t vsize;
	void *key, *val;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	napi_get_value_uint32(env, argv[2], &vsize);
	if (!get_buf(env, argv[1], &key, &klen))
		return tg_throw(env, "map", "key must be a Buffer", EINVAL, NULL);
	NAPI_CALL(env, napi_create_buffer(env, vsize, &val, &out));
	if (bpf_map_lookup_elem(fd, key, val) != 0) {
		if (errno == ENOENT) {
			napi_get_null(env, &out);
			return out;
		}
		return tg_throw(env, "map", "lookup", errno, NULL);
	}
	return out;
}

/* mapUpdate(fd, key, value, flags) */
static napi_value update(napi_env env, napi_callback_info info)
{
	size_t argc = 4, klen, vlen;
	napi_value argv[4];
	int32_t fd;
	uint32_t flags = 0;
	void *key, *val;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	if (argc > 3)
		napi_get_value_uint32(env, argv[3], &flags);
	if (!get_buf(env, argv[1], &key, &klen) || !get_buf(env, argv[2], &val, &vlen))
		return tg_throw(env, "map", "key and value must be Buffers", EINVAL, NULL);
	if (bpf_map_update_elem(fd, key, val, flags) != 0)
		return tg_throw(env, "map", "update", errno, NULL);
	return NULL;
}

/* mapDelete(fd, key) → existed */
static napi_value delete_(napi_env env, napi_callback_info info)
{
	size_t argc = 2, klen;
	napi_value argv[2], out;
	int32_t fd;
	void *key;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	if (!get_buf(env, argv[1], &key, &klen))
		return tg_throw(env, "map", "key must be a Buffer", EINVAL, NULL);
	int r = bpf_map_delete_elem(fd, key);
	if (r != 0 && errno != ENOENT)
		return tg_throw(env, "map", "delete", errno, NULL);
	napi_get_boolean(env, r == 0, &out);
	return out;
}

/* mapEntries(fd, keySize, valueSize, limit) → [keys Buffer, values Buffer, count] (lookups may race deletes). */
static napi_value entries(napi_env env, napi_callback_info info)
{
	size_t argc = 4;
	napi_value argv[4], arr, kb, vb;
	int32_t fd;
	uint32_t ks, vs, limit;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	napi_get_value_uint32(env, argv[1], &ks);
	napi_get_value_uint32(env, argv[2], &vs);
	napi_get_value_uint32(env, argv[3], &limit);
	char *keys = malloc((size_t)ks * (limit + 1)), *vals = malloc((size_t)vs * (limit ? limit : 1));
	if (!keys || !vals) {
		free(keys);
		free(vals);
		return tg_throw(env, "map", "iterate", ENOMEM, NULL);
	}
	uint32_t n = 0;
	void *prev = NULL;
	while (n < limit && bpf_map_get_next_key(fd, prev, keys + (size_t)n * ks) == 0) {
		char *k = keys + (size_t)n * ks;
		prev = k;
		if (bpf_map_lookup_elem(fd, k, vals + (size_t)n * vs) == 0)
			n++;
		else
			memcpy(keys + (size_t)limit * ks, k, ks), prev = keys + (size_t)limit * ks; /* deleted meanwhile */
	}
	napi_create_buffer_copy(env, (size_t)n * ks, keys, NULL, &kb);
	napi_create_buffer_copy(env, (size_t)n * vs, vals, NULL, &vb);
	free(keys);
	free(vals);
	napi_create_array_with_length(env, 3, &arr);
	napi_set_element(env, arr, 0, kb);
	napi_set_element(env, arr, 1, vb);
	napi_set_element(env, arr, 2, tg_int(env, n));
	return arr;
}

/* mapCount(fd, keySize, limit) → number of keys (walk stops at limit). */
static napi_value count(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3];
	int32_t fd;
	uint32_t ks, limit;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	napi_get_value_int32(env, argv[0], &fd);
	napi_get_value_uint32(env, argv[1], &ks);
	napi_get_value_uint32(env, argv[2], &limit);
	char *a = calloc(2, ks ? ks : 1);
	if (!a)
		return tg_throw(env, "map", "count", ENOMEM, NULL);
	char *cur = a, *next = a + ks;
	uint32_t n = 0;
	void *prev = NULL;
	while (n < limit && bpf_map_get_next_key(fd, prev, next) == 0) {
		n++;
		char *t = cur;
		cur = next;
		next = t;
		prev = cur;
	}
	free(a);
	return tg_int(env, n);
}

napi_value tg_init_maps(napi_env env, napi_value exports)
{
	tg_export(env, exports, "mapLookup", lookup);
	tg_export(env, exports, "mapUpdate", update);
	tg_export(env, exports, "mapDelete", delete_);
	tg_export(env, exports, "mapEntries", entries);
	tg_export(env, exports, "mapCount", count);
	return exports;
}
