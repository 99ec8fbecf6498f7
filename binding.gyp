{
  "targets": [
    {
      "target_name": "udp_batch",
      "sources": ["native/udp_batch.c", "native/pump.c", "native/md5.c"],
      "defines": ["NAPI_VERSION=8"],
      "cflags": ["-O2", "-funroll-loops", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["OS!='linux'", { "type": "none", "sources": [] }]
      ]
    }
  ]
}
