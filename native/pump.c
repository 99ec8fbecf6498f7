// pump: a repeating libuv timer that calls one JS function, for the batched generator's tick.
//
// Why not setInterval: on this class of VM a wake-up from idle is the dominant fixed cost at a few
// thousand requests/s, and measured per empty 4 ms tick (bench/pump.ts) Node's timer path cost
// ~125-170 us of CPU against ~60-110 us for a uv_timer whose callback enters JS through
// napi_make_callback (which still runs nextTicks and microtasks afterwards, as libuv-driven JS
// callbacks should). The timer keeps the loop alive while it runs, like setInterval.
//
// Holding: just before libuv would sleep (its prepare phase), if the loop has nothing to do before this
// pump's next tick (no other timer due sooner, no immediates, no pending or closing handles), the pump
// sleeps on the loop's own epoll fd and runs the next tick itself, skipping a loop turn (Node's per-turn
// check/immediate work and the timer heap). Any I/O becoming ready on the loop (a signal, a socket, a
// thread-pool completion, a platform task) wakes the poll and hands control back to libuv at once, so
// the loop sees everything as soon as it would have; other timers are never delayed because the pump
// only holds until its own timer, and only while that is the earliest. (Holding from the timer callback
// instead would miss timers libuv already took off its heap for the same pass.) Each tick is still its
// own make_callback (nextTicks and microtasks run between ticks), and a held stretch is capped so the
// loop turns at least every MAX_HELD ticks.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "js_callback.h"
#include "pump.h"

typedef struct pump_s {
  uv_timer_t timer;
  uv_prepare_t prepare;  // where held ticks run
  int open_handles;      // the struct is freed when both handles have closed
  int32_t id;
  uint32_t held;  // ticks run without a loop turn, for held(id)
  int cancelled;  // set by cancel() (possibly from inside the callback): no further call this turn
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  struct pump_s* next;
} pump_t;

typedef struct {
  pump_t* pumps;
  int32_t next_id;
} pumps_t;

static void on_handle_closed(uv_handle_t* h) {
  pump_t* p = (pump_t*)h->data;
  if (--p->open_handles == 0) free(p);
}

// uv_close stops the handles first; the memory goes once libuv is done with both (cancelling from
// inside the pump's own callback is safe). delete_ref = 0 when the environment is going away.
static void release_pump(pump_t* p, int delete_ref) {
  if (delete_ref) {
    napi_delete_reference(p->env, p->callback);
    napi_async_destroy(p->env, p->ctx);
  }
  uv_close((uv_handle_t*)&p->timer, on_handle_closed);
  uv_close((uv_handle_t*)&p->prepare, on_handle_closed);
}

enum { MAX_HELD = 64 };

// Whether the loop has nothing to do before this pump's next tick but sleep; sleeps until then if so
// (returns 1 with the tick due), or returns 0 to hand control back to libuv.
static int wait_own_tick(uv_timer_t* t) {
  uv_loop_t* loop = t->loop;
  uv_update_time(loop);
  uint64_t ours = uv_timer_get_due_in(t);
  // uv_backend_timeout: 0 with immediates, idle handles or closing handles pending; else ms to the
  // earliest timer, which includes this one.
  int earliest = uv_backend_timeout(loop);
  if (earliest == 0 || (earliest > 0 && (uint64_t)earliest < ours)) return 0;
  // Millisecond timeouts against a millisecond loop clock can wake a little early: sleep again then.
  for (int naps = 0; ours > 0; naps++) {
    struct pollfd pfd = {.fd = uv_backend_fd(loop), .events = POLLIN, .revents = 0};
    if (naps == 3 || poll(&pfd, 1, (int)ours) != 0) return 0;  // I/O ready (or a signal): the loop takes over
    uv_update_time(loop);
    ours = uv_timer_get_due_in(t);
  }
  // Re-arm for the period after this one, as libuv does before calling a repeating timer back.
  uv_timer_again(t);
  return 1;
}

static void on_timer(uv_timer_t* t) {
  pump_t* p = (pump_t*)t->data;
  call_js(p->env, p->callback, p->ctx);
}

static void on_prepare(uv_prepare_t* h) {
  pump_t* p = (pump_t*)h->data;
  for (int held = 0; held < MAX_HELD && !p->cancelled && wait_own_tick(&p->timer); held++) {
    p->held++;
    call_js(p->env, p->callback, p->ctx);
  }
}

static napi_value fail(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

// every(ms, callback, hold = true) -> id: callback() every ms milliseconds (first call after ms) until
// cancel(id); hold = false turns every tick through the loop (for comparison).
static napi_value js_every(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || argc < 2) return fail(env, "pump every: missing arguments");
  pumps_t* all = data;
  int32_t ms;
  if (napi_get_value_int32(env, argv[0], &ms) != napi_ok || ms < 1) return fail(env, "pump every: ms must be an integer >= 1");
  napi_valuetype type;
  if (napi_typeof(env, argv[1], &type) != napi_ok || type != napi_function) return fail(env, "pump every: callback must be a function");
  bool hold = true;
  napi_valuetype hold_type;
  if (argc >= 3 && napi_typeof(env, argv[2], &hold_type) == napi_ok && hold_type != napi_undefined &&
      napi_get_value_bool(env, argv[2], &hold) != napi_ok)
    return fail(env, "pump every: hold must be a boolean");
  uv_loop_t* loop;
  if (napi_get_uv_event_loop(env, &loop) != napi_ok) return fail(env, "pump every: no event loop");
  pump_t* p = calloc(1, sizeof *p);
  if (!p) {
    napi_throw_error(env, NULL, "pump every: out of memory");
    return NULL;
  }
  p->env = env;
  p->id = ++all->next_id;
  uv_timer_init(loop, &p->timer);
  p->timer.data = p;
  uv_prepare_init(loop, &p->prepare);
  p->prepare.data = p;
  p->open_handles = 2;
  if (hold) {
    uv_prepare_start(&p->prepare, on_prepare);
    uv_unref((uv_handle_t*)&p->prepare);  // the timer alone keeps the loop alive
  }
  napi_value name;
  napi_create_string_utf8(env, "sipstorm.pump", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &p->callback);
  napi_async_init(env, NULL, name, &p->ctx);
  uv_timer_start(&p->timer, on_timer, (uint64_t)ms, (uint64_t)ms);
  p->next = all->pumps;
  all->pumps = p;
  napi_value out;
  napi_create_int32(env, p->id, &out);
  return out;
}

// The pumps and the id argument of cancel(id) and held(id); NULL (with a TypeError thrown) without an id.
static pumps_t* id_argument(napi_env env, napi_callback_info info, const char* what, int32_t* id) {
  size_t argc = 1;
  napi_value argv[1];
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], id) != napi_ok) {
    fail(env, what);
    return NULL;
  }
  return data;
}

// cancel(id) -> whether a pump stopped. Safe from inside the pump's own callback.
static napi_value js_cancel(napi_env env, napi_callback_info info) {
  int32_t id;
  pumps_t* all = id_argument(env, info, "pump cancel: expected an id", &id);
  if (!all) return NULL;
  int found = 0;
  for (pump_t** pp = &all->pumps; *pp; pp = &(*pp)->next) {
    if ((*pp)->id != id) continue;
    pump_t* p = *pp;
    *pp = p->next;
    p->cancelled = 1;
    release_pump(p, 1);
    found = 1;
    break;
  }
  napi_value out;
  napi_get_boolean(env, found, &out);
  return out;
}

// held(id) -> how many of the pump's ticks ran without a loop turn (0 for an unknown id).
static napi_value js_held(napi_env env, napi_callback_info info) {
  int32_t id;
  pumps_t* all = id_argument(env, info, "pump held: expected an id", &id);
  if (!all) return NULL;
  uint32_t held = 0;
  for (pump_t* p = all->pumps; p; p = p->next)
    if (p->id == id) held = p->held;
  napi_value out;
  napi_create_uint32(env, held, &out);
  return out;
}

static void cleanup(void* arg) {
  pumps_t* all = arg;
  // The environment is going away: stop the timers; their memory goes with the loop's last run.
  while (all->pumps) {
    pump_t* p = all->pumps;
    all->pumps = p->next;
    release_pump(p, 0);
  }
  free(all);
}

int pump_register(napi_env env, napi_value exports) {
  pumps_t* all = calloc(1, sizeof *all);
  if (!all) return 0;
  if (napi_add_env_cleanup_hook(env, cleanup, all) != napi_ok) {
    free(all);
    return 0;
  }
  napi_property_descriptor props[] = {
      {"every", NULL, js_every, NULL, NULL, NULL, napi_enumerable, all},
      {"cancel", NULL, js_cancel, NULL, NULL, NULL, napi_enumerable, all},
      {"held", NULL, js_held, NULL, NULL, NULL, napi_enumerable, all},
  };
  return napi_define_properties(env, exports, sizeof props / sizeof props[0], props) == napi_ok;
}
