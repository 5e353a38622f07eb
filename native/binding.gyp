{
  "targets": [
    {
      "target_name": "telegen_bpf",
      "sources": ["src/addon.c", "src/object.c", "src/maps.c", "src/ringbuf.c", "src/util.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-std=gnu11"],
      "libraries": ["-lbpf", "-lelf", "-lz", "-lpthread"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
