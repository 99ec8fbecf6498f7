// Calling a JS function from a libuv callback (the watch handles of udp_batch.c and the pump of pump.c),
// and closing a handle that owns one (the watch): make_callback runs nextTicks and microtasks
// afterwards, as libuv-driven JS callbacks should, and an exception becomes the process's uncaught
// exception, as from a throwing setInterval callback.
#ifndef SIPSTORM_JS_CALLBACK_H
#define SIPSTORM_JS_CALLBACK_H
#include <node_api.h>
#include <stdlib.h>
#include <uv.h>

static void free_owner_on_close(uv_handle_t* h) { free(h->data); }

// Closes a handle whose owner (a calloc'ed struct holding it) is freed once libuv is done with it;
// uv_close stops an active timer or poll first. delete_ref = 0 when the environment is going away.
static inline void release_js_handle(uv_handle_t* h, void* owner, napi_env env, napi_ref callback, napi_async_context ctx, int delete_ref) {
  if (delete_ref) {
    napi_delete_reference(env, callback);
    napi_async_destroy(env, ctx);
  }
  h->data = owner;
  uv_close(h, free_owner_on_close);
}

static inline void call_js(napi_env env, napi_ref callback, napi_async_context ctx) {
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value cb, recv, res;
  if (napi_get_reference_value(env, callback, &cb) == napi_ok && cb) {
    napi_get_global(env, &recv);
    if (napi_make_callback(env, ctx, recv, cb, 0, NULL, &res) == napi_pending_exception) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}
#endif
