/*
 * BPF objects: open → set .rodata / max_entries / reuse shared maps → load (one call, a distinct error per
 * step, carrying libbpf's messages and the verifier log), program and map listings, attach/detach, close.
 */
#include "util.h"
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define VERIFIER_LOG_CAP (1024 * 1024)

typedef struct {
	struct bpf_object *obj;
} tg_object;

typedef struct {
	struct bpf_link *link;
} tg_link;

static void object_finalize(napi_env env, void *data, void *hint)
{
	tg_object *o = data;
	if (o->obj)
		bpf_object__close(o->obj);
	free(o);
}

static void link_finalize(napi_env env, void *data, void *hint)
{
	tg_link *l = data;
	if (l->link)
		bpf_link__destroy(l->link);
	free(l);
}

static tg_object *get_object(napi_env env, napi_value v)
{
	tg_object *o = NULL;
	if (napi_get_value_external(env, v, (void **)&o) != napi_ok || !o || !o->obj) {
		napi_throw_error(env, NULL, "not an open BPF object");
		return NULL;
	}
	return o;
}

/* Write a JS number/bigint/boolean into `size` little-endian bytes. */
static bool write_scalar(napi_env env, napi_value v, void *dst, size_t size)
{
	napi_valuetype t;
	napi_typeof(env, v, &t);
	uint64_t u = 0;
	if (t == napi_boolean) {
		bool b;
		napi_get_value_bool(env, v, &b);
		u = b;
	} else if (t == napi_bigint) {
		bool lossless;
		napi_get_value_bigint_uint64(env, v, &u, &lossless);
	} else if (t == napi_number) {
		int64_t i;
		napi_get_value_int64(env, v, &i);
		u = (uint64_t)i;
	} else {
		return false;
	}
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	memcpy(dst, &u, size); /* little-endian hosts only (x86, arm64) */
	return true;
}

/* One `name: value` entry of an options object; false (with `err` filled) stops the walk. */
typedef bool (*entry_fn)(napi_env env, const char *key, napi_value value, void *ctx, char *err, size_t errcap);

/* Call `fn` for every own property of the JS object `values` (names up to 127 bytes). */
static bool for_each_entry(napi_env env, napi_value values, entry_fn fn, void *ctx, char *err, size_t errcap)
{
	napi_value keys;
	uint32_t n = 0;
	if (napi_get_property_names(env, values, &keys) != napi_ok)
		return true;
	napi_get_array_length(env, keys, &n);
	for (uint32_t i = 0; i < n; i++) {
		napi_value k, v;
		char key[128];
		napi_get_element(env, keys, i, &k);
		if (!tg_get_string(env, k, key, sizeof(key)))
			continue;
		napi_get_property(env, values, k, &v);
		if (!fn(env, key, v, ctx, err, errcap))
			return false;
	}
	return true;
}

struct rodata_ctx {
	struct btf *btf;
	int sec_id;
	char *data;
	size_t data_size;
	bool optional;
};

static bool set_rodata_entry(napi_env env, const char *key, napi_value v, void *p, char *err, size_t errcap)
{
	struct rodata_ctx *c = p;
	if (c->data && c->sec_id > 0) {
		const struct btf_type *sec = btf__type_by_id(c->btf, c->sec_id);
		const struct btf_var_secinfo *vs = btf_var_secinfos(sec);
		for (int j = 0; j < btf_vlen(sec); j++, vs++) {
			const struct btf_type *var = btf__type_by_id(c->btf, vs->type);
			if (strcmp(btf__name_by_offset(c->btf, var->name_off), key) != 0)
				continue;
			if (vs->offset + vs->size > c->data_size || !write_scalar(env, v, c->data + vs->offset, vs->size)) {
				snprintf(err, errcap, "cannot set .rodata variable %s (size %u)", key, vs->size);
				return false;
			}
			return true;
		}
	}
	if (!c->optional) {
		snprintf(err, errcap, "no .rodata variable %s in the object", key);
		return false;
	}
	return true;
}

/* Set .rodata variables from `values` (object name → scalar). Unknown names fail unless `optional`. */
static bool set_rodata(napi_env env, struct bpf_object *obj, napi_value values, bool optional, char *err,
		       size_t errcap)
{
	struct bpf_map *rodata = NULL, *m;
	bpf_object__for_each_map(m, obj) {
		const char *name = bpf_map__name(m);
		if (bpf_map__is_internal(m) && strstr(name, ".rodata") && !strstr(name, ".rodata.")) {
			rodata = m;
			break;
		}
	}
	struct rodata_ctx c = { .btf = bpf_object__btf(obj), .sec_id = -1, .optional = optional };
	if (c.btf)
		c.sec_id = btf__find_by_name_kind(c.btf, ".rodata", BTF_KIND_DATASEC);
	if (rodata)
		c.data = (char *)bpf_map__initial_value(rodata, &c.data_size);
	return for_each_entry(env, values, set_rodata_entry, &c, err, errcap);
}

static bool set_max_entries_entry(napi_env env, const char *key, napi_value v, void *obj, char *err, size_t errcap)
{
	uint32_t max = 0;
	napi_get_value_uint32(env, v, &max);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, key);
	int r = m ? bpf_map__set_max_entries(m, max) : -ENOENT;
	if (r) {
		snprintf(err, errcap, "cannot set max_entries of map %s to %u: %s", key, max, strerror(-r));
		return false;
	}
	return true;
}

static bool set_max_entries(napi_env env, struct bpf_object *obj, napi_value values, char *err, size_t errcap)
{
	return for_each_entry(env, values, set_max_entries_entry, obj, err, errcap);
}

/* A map the object shares with the core: reuse the core's fd (skipped when the object lacks the map). */
static bool reuse_map_entry(napi_env env, const char *key, napi_value v, void *obj, char *err, size_t errcap)
{
	int32_t fd = -1;
	napi_get_value_int32(env, v, &fd);
	struct bpf_map *m = bpf_object__find_map_by_name(obj, key);
	if (!m)
		return true;
	int r = bpf_map__reuse_fd(m, fd);
	if (r) {
		snprintf(err, errcap, "cannot reuse the shared map %s: %s", key, strerror(-r));
		return false;
	}
	return true;
}

static bool reuse_maps(napi_env env, struct bpf_object *obj, napi_value values, char *err, size_t errcap)
{
	return for_each_entry(env, values, reuse_map_entry, obj, err, errcap);
}

static napi_value get_opt(napi_env env, napi_value opts, const char *key)
{
	bool has = false;
	napi_value v = NULL;
	napi_valuetype t = napi_undefined;
	if (napi_has_named_property(env, opts, key, &has) == napi_ok && has) {
		napi_get_named_property(env, opts, key, &v);
		napi_typeof(env, v, &t);
	}
	return t == napi_object ? v : NULL;
}

/* open(path, { rodata, rodataOptional, maxEntries, reuse }) → object handle; throws {step, errno, log}. */
static napi_value open_object(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	char path[4096], err[512] = "";
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 2 || !tg_get_string(env, argv[0], path, sizeof(path)))
		return tg_throw(env, "open", "expected (path, options)", 0, NULL);

	char *vlog = calloc(1, VERIFIER_LOG_CAP);
	if (!vlog)
		return tg_throw(env, "open", "out of memory", ENOMEM, NULL);
	LIBBPF_OPTS(bpf_object_open_opts, oo, .kernel_log_buf = vlog, .kernel_log_size = VERIFIER_LOG_CAP,
		    .kernel_log_level = 0);
	tg_log_begin();
	struct bpf_object *obj = bpf_object__open_file(path, &oo);
	int e = libbpf_get_error(obj);
	if (e) {
		tg_log_end();
		tg_throw(env, "open", path, (int)e, tg_log_text());
		free(vlog);
		return NULL;
	}

	napi_value v;
	const char *step = "configure";
	bool ok = true;
	/* Optional (core defaults) first, so that the object's explicit values win. */
	if ((v = get_opt(env, argv[1], "rodataOptional")))
		ok = set_rodata(env, obj, v, true, err, sizeof(err));
	if (ok && (v = get_opt(env, argv[1], "rodata")))
		ok = set_rodata(env, obj, v, false, err, sizeof(err));
	if (ok && (v = get_opt(env, argv[1], "maxEntries")))
		ok = set_max_entries(env, obj, v, err, sizeof(err));
	if (ok && (v = get_opt(env, argv[1], "reuse")))
		ok = reuse_maps(env, obj, v, err, sizeof(err));
	int r = 0;
	if (ok) {
		step = "load";
		r = bpf_object__load(obj);
		if (r) {
			ok = false;
			snprintf(err, sizeof(err), "%s", "the kernel refused the object");
		}
	}
	tg_log_end();
	if (!ok) {
		/* libbpf's own messages first, then the verifier log of the failing program. */
		size_t a = strlen(tg_log_text()), b = strlen(vlog);
		char *all = malloc(a + b + 2);
		if (all) {
			memcpy(all, tg_log_text(), a);
			all[a] = '\n';
			memcpy(all + a + 1, vlog, b + 1);
		}
		tg_throw(env, step, err, r, all ? all : vlog);
		free(all);
		free(vlog);
		bpf_object__close(obj);
		malloc_trim(0);
		return NULL;
	}
	free(vlog);
	/* libbpf parsed the kernel's BTF (several MB, tens once indexed) for this load and freed it: give the pages back. */
	malloc_trim(0);

	tg_object *o = calloc(1, sizeof(*o));
	o->obj = obj;
	napi_value ext;
	NAPI_CALL(env, napi_create_external(env, o, object_finalize, NULL, &ext));
	return ext;
}

static napi_value close_object(napi_env env, napi_callback_info info)
{
	tg_object *o = tg_only_external_arg(env, info);
	if (o && o->obj) {
		bpf_object__close(o->obj);
		o->obj = NULL;
	}
	return NULL;
}

static uint32_t prog_id(int fd)
{
	struct bpf_prog_info pi = {};
	uint32_t len = sizeof(pi);
	return fd >= 0 && bpf_obj_get_info_by_fd(fd, &pi, &len) == 0 ? pi.id : 0;
}

/* programs(obj) → [{ name, section, type, fd, id }] */
static napi_value programs(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], arr;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	tg_object *o = get_object(env, argv[0]);
	if (!o)
		return NULL;
	NAPI_CALL(env, napi_create_array(env, &arr));
	struct bpf_program *p;
	uint32_t i = 0;
	bpf_object__for_each_program(p, o->obj) {
		napi_value e;
		napi_create_object(env, &e);
		tg_set(env, e, "name", tg_str(env, bpf_program__name(p)));
		tg_set(env, e, "section", tg_str(env, bpf_program__section_name(p)));
		tg_set(env, e, "type", tg_str(env, libbpf_bpf_prog_type_str(bpf_program__type(p))));
		tg_set(env, e, "fd", tg_int(env, bpf_program__fd(p)));
		tg_set(env, e, "id", tg_int(env, prog_id(bpf_program__fd(p))));
		napi_set_element(env, arr, i++, e);
	}
	return arr;
}

/* maps(obj) → [{ name, type, fd, id, keySize, valueSize, maxEntries, internal }] */
static napi_value maps(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], arr;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	tg_object *o = get_object(env, argv[0]);
	if (!o)
		return NULL;
	NAPI_CALL(env, napi_create_array(env, &arr));
	struct bpf_map *m;
	uint32_t i = 0;
	bpf_object__for_each_map(m, o->obj) {
		napi_value e;
		struct bpf_map_info mi = {};
		uint32_t len = sizeof(mi);
		int fd = bpf_map__fd(m);
		if (fd >= 0)
			bpf_obj_get_info_by_fd(fd, &mi, &len);
		napi_create_object(env, &e);
		tg_set(env, e, "name", tg_str(env, bpf_map__name(m)));
		tg_set(env, e, "type", tg_str(env, libbpf_bpf_map_type_str(bpf_map__type(m))));
		tg_set(env, e, "fd", tg_int(env, fd));
		tg_set(env, e, "id", tg_int(env, mi.id));
		tg_set(env, e, "keySize", tg_int(env, bpf_map__key_size(m)));
		tg_set(env, e, "valueSize", tg_int(env, bpf_map__value_size(m)));
		tg_set(env, e, "maxEntries", tg_int(env, bpf_map__max_entries(m)));
		napi_value b;
		napi_get_boolean(env, bpf_map__is_internal(m), &b);
		tg_set(env, e, "internal", b);
		napi_set_element(env, arr, i++, e);
	}
	return arr;
}

static struct bpf_program *find_program(napi_env env, napi_value objv, napi_value namev)
{
	char name[128];
	tg_object *o = get_object(env, objv);
	if (!o)
		return NULL;
	if (!tg_get_string(env, namev, name, sizeof(name))) {
		napi_throw_error(env, NULL, "program name expected");
		return NULL;
	}
	struct bpf_program *p = bpf_object__find_program_by_name(o->obj, name);
	if (!p)
		tg_throw(env, "attach", name, ENOENT, NULL);
	return p;
}

static napi_value wrap_link(napi_env env, struct bpf_link *link)
{
	tg_link *l = calloc(1, sizeof(*l));
	l->link = link;
	napi_value ext;
	NAPI_CALL(env, napi_create_external(env, l, link_finalize, NULL, &ext));
	return ext;
}

/* attach(obj, program) → link (auto-attach from the program's SEC()). */
static napi_value attach(napi_env env, napi_callback_info info)
{
	size_t argc = 2;
	napi_value argv[2];
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct bpf_program *p = find_program(env, argv[0], argv[1]);
	if (!p)
		return NULL;
	tg_log_begin();
	struct bpf_link *link = bpf_program__attach(p);
	int e = libbpf_get_error(link);
	tg_log_end();
	if (e)
		return tg_throw(env, "attach", bpf_program__name(p), (int)e, tg_log_text());
	return wrap_link(env, link);
}

/* attachPerfEvent(obj, program, { cpu, pid, frequency }) → link (owns the perf event fd). */
static napi_value attach_perf_event(napi_env env, napi_callback_info info)
{
	size_t argc = 3;
	napi_value argv[3], v;
	int32_t cpu = -1, pid = -1;
	uint32_t freq = 99;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	struct bpf_program *p = find_program(env, argv[0], argv[1]);
	if (!p)
		return NULL;
	if (napi_get_named_property(env, argv[2], "cpu", &v) == napi_ok)
		napi_get_value_int32(env, v, &cpu);
	if (napi_get_named_property(env, argv[2], "pid", &v) == napi_ok)
		napi_get_value_int32(env, v, &pid);
	if (napi_get_named_property(env, argv[2], "frequency", &v) == napi_ok)
		napi_get_value_uint32(env, v, &freq);
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.sample_freq = freq,
		.freq = 1,
	};
	int fd = (int)syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		return tg_throw(env, "attach", "perf_event_open", errno, NULL);
	tg_log_begin();
	struct bpf_link *link = bpf_program__attach_perf_event(p, fd);
	int e = libbpf_get_error(link);
	tg_log_end();
	if (e) {
		close(fd);
		return tg_throw(env, "attach", bpf_program__name(p), (int)e, tg_log_text());
	}
	return wrap_link(env, link);
}

static napi_value detach(napi_env env, napi_callback_info info)
{
	tg_link *l = tg_only_external_arg(env, info);
	if (l && l->link) {
		bpf_link__destroy(l->link);
		l->link = NULL;
	}
	return NULL;
}

/*
 * detachAsync([link, ...]) → Promise: destroys the links on a libuv worker thread. Closing a syscall tracepoint's
 * perf event waits for an RCU grace period in the kernel (~70 ms each here, serialised under the kernel's
 * event_mutex): done on the JS thread, detaching the HTTP tracer's 23 programs blocked the event loop ~1.6 s.
 * The wrappers give their links up at once (a later detach or finalizer finds none).
 */
typedef struct {
	napi_async_work work;
	napi_deferred deferred;
	uint32_t n;
	struct bpf_link *links[];
} detach_work;

static void detach_execute(napi_env env, void *data)
{
	(void)env;
	detach_work *w = data;
	for (uint32_t i = 0; i < w->n; i++)
		bpf_link__destroy(w->links[i]);
}

static void detach_complete(napi_env env, napi_status status, void *data)
{
	(void)status;
	detach_work *w = data;
	napi_value undef;
	napi_get_undefined(env, &undef);
	napi_resolve_deferred(env, w->deferred, undef);
	napi_delete_async_work(env, w->work);
	free(w);
}

static napi_value detach_async(napi_env env, napi_callback_info info)
{
	size_t argc = 1;
	napi_value argv[1], promise, name;
	uint32_t n = 0;
	NAPI_CALL(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
	if (argc < 1 || napi_get_array_length(env, argv[0], &n) != napi_ok)
		return tg_throw(env, "detach", "detachAsync", EINVAL, "expected an array of links");
	detach_work *w = calloc(1, sizeof(*w) + (size_t)n * sizeof(struct bpf_link *));
	if (!w)
		return tg_throw(env, "detach", "detachAsync", ENOMEM, NULL);
	for (uint32_t i = 0; i < n; i++) {
		napi_value v;
		tg_link *l = NULL;
		if (napi_get_element(env, argv[0], i, &v) == napi_ok && napi_get_value_external(env, v, (void **)&l) == napi_ok
		    && l && l->link) {
			w->links[w->n++] = l->link;
			l->link = NULL;
		}
	}
	NAPI_CALL(env, napi_create_promise(env, &w->deferred, &promise));
	NAPI_CALL(env, napi_create_string_utf8(env, "telegen:detach", NAPI_AUTO_LENGTH, &name));
	NAPI_CALL(env, napi_create_async_work(env, NULL, name, detach_execute, detach_complete, w, &w->work));
	NAPI_CALL(env, napi_queue_async_work(env, w->work));
	return promise;
}

napi_value tg_init_object(napi_env env, napi_value exports)
{
	tg_export(env, exports, "open", open_object);
	tg_export(env, exports, "close", close_object);
	tg_export(env, exports, "programs", programs);
	tg_export(env, exports, "maps", maps);
	tg_export(env, exports, "attach", attach);
	tg_export(env, exports, "attachPerfEvent", attach_perf_event);
	tg_export(env, exports, "detach", detach);
	tg_export(env, exports, "detachAsync", detach_async);
	return exports;
}
