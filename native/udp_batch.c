// udp_batch: batched UDP I/O for sipstorm (Linux only), plain C against Node-API 8.
//
// Why: with node:dgram every datagram costs a libuv callback, a JS call and a Buffer, and every
// response wakes the event loop. Here the dispatcher does, per tick, one sendmmsg for everything due
// and one non-blocking recvmmsg loop that drains everything waiting. Responses are read at the tick,
// not when they arrived, so each one carries its kernel receive time (SO_TIMESTAMPNS).
//
// Conventions: setup calls (open, connect, watch) throw on error; hot-path calls (sendBatch,
// recvBatch) never throw for I/O errors and return -errno instead. No allocation per message: the
// scratch mmsghdr/iovec/cmsg arrays live in per-environment instance data (worker-thread safe).
//
// Receive timestamps: the kernel stamps datagrams with CLOCK_REALTIME. recvBatch samples REALTIME and
// MONOTONIC together (REALTIME, MONOTONIC, REALTIME, and takes the midpoint of the two REALTIME reads)
// and shifts each stamp by (mono - real): rxMonoUs = (stampRealNs + (monoNs - realNs)) / 1000. Since the
// offset is sampled in the same call, only a clock step between the arrival and the read can skew it;
// the result is clamped to [.., now]. CLOCK_MONOTONIC is the clock behind process.hrtime on Linux, so
// JS only adds the constant shift to its own time origin.
#define _GNU_SOURCE
#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "js_callback.h"
#include "md5.h"
#include "pump.h"

// Messages per syscall. The kernel caps vlen at UIO_MAXIOV (1024); 256 keeps the scratch small.
#define CHUNK 256
#define CMSG_BYTES CMSG_SPACE(sizeof(struct timespec))
// Bytes per peer address in the optional `names` arrays (raw struct sockaddr_in / sockaddr_in6).
#define NAME_BYTES 32

typedef struct watch_s {
  uv_poll_t poll;
  int fd;
  napi_env env;
  napi_ref callback;
  napi_async_context ctx;
  struct watch_s* next;
} watch_t;

typedef struct {
  struct mmsghdr msgs[CHUNK];
  struct iovec iov[CHUNK];
  // Aligned so CMSG_FIRSTHDR/CMSG_DATA see properly aligned headers.
  union {
    char buf[CMSG_BYTES];
    struct cmsghdr align;
  } ctrl[CHUNK];
  watch_t* watches;
} instance_t;

#define CHECK(call)                                        \
  do {                                                     \
    if ((call) != napi_ok) {                               \
      napi_throw_error(env, NULL, "udp_batch: " #call);    \
      return NULL;                                         \
    }                                                      \
  } while (0)

static napi_value make_int(napi_env env, int64_t v) {
  napi_value out;
  napi_create_int64(env, v, &out);
  return out;
}

static napi_value throw_errno(napi_env env, const char* what, int err) {
  char msg[160];
  const char* code = strerrorname_np(err);
  snprintf(msg, sizeof msg, "udp_batch %s: %s (%s)", what, strerror(err), code ? code : "?");
  napi_throw_error(env, code, msg);
  return NULL;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value* argv, instance_t** inst) {
  size_t argc = want;
  void* data = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || argc < want) {
    napi_throw_type_error(env, NULL, "udp_batch: missing arguments");
    return 0;
  }
  if (inst) *inst = (instance_t*)data;
  return 1;
}

// Like get_args with `min` required and up to `max` arguments; *argc tells how many came.
static int get_args_upto(napi_env env, napi_callback_info info, size_t min, size_t max, napi_value* argv, size_t* argc, instance_t** inst) {
  *argc = max;
  void* data = NULL;
  if (napi_get_cb_info(env, info, argc, argv, NULL, &data) != napi_ok || *argc < min) {
    napi_throw_type_error(env, NULL, "udp_batch: missing arguments");
    return 0;
  }
  *inst = (instance_t*)data;
  return 1;
}

static int get_i32(napi_env env, napi_value v, int32_t* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp_batch: expected a number");
    return 0;
  }
  return 1;
}

// Fills a sockaddr from an IP literal of either family; returns its length or 0.
static socklen_t make_addr(int family, const char* host, int port, struct sockaddr_storage* ss) {
  memset(ss, 0, sizeof *ss);
  if (family == 6) {
    struct sockaddr_in6* a = (struct sockaddr_in6*)ss;
    a->sin6_family = AF_INET6;
    a->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1) return 0;
    return sizeof *a;
  }
  struct sockaddr_in* a = (struct sockaddr_in*)ss;
  a->sin_family = AF_INET;
  a->sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, host, &a->sin_addr) != 1) return 0;
  return sizeof *a;
}

// Try the privileged FORCE option first (ignores net.core.*mem_max when we have CAP_NET_ADMIN), then
// the ordinary one; the caller reads back what was granted.
static void set_buf(int fd, int force_opt, int opt, int bytes) {
  if (bytes <= 0) return;
  if (setsockopt(fd, SOL_SOCKET, force_opt, &bytes, sizeof bytes) == 0) return;
  setsockopt(fd, SOL_SOCKET, opt, &bytes, sizeof bytes);
}

static int get_buf(int fd, int opt) {
  int v = 0;
  socklen_t len = sizeof v;
  getsockopt(fd, SOL_SOCKET, opt, &v, &len);
  return v;
}

// open(family, localHost, localPort, rcvbuf, sndbuf) -> { fd, port, rcvbuf, sndbuf }
static napi_value js_open(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, NULL)) return NULL;
  int32_t family, port, rcv, snd;
  char host[64];
  size_t hlen;
  if (!get_i32(env, argv[0], &family) || !get_i32(env, argv[2], &port) || !get_i32(env, argv[3], &rcv) ||
      !get_i32(env, argv[4], &snd))
    return NULL;
  if (napi_get_value_string_utf8(env, argv[1], host, sizeof host, &hlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp_batch open: localHost must be a string");
    return NULL;
  }
  if (family != 4 && family != 6) {
    napi_throw_range_error(env, NULL, "udp_batch open: family must be 4 or 6");
    return NULL;
  }
  struct sockaddr_storage ss;
  socklen_t slen = make_addr(family, host, port, &ss);
  if (!slen) {
    napi_throw_error(env, "EINVAL", "udp_batch open: localHost is not an IP literal of that family");
    return NULL;
  }
  int fd = socket(family == 6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int on = 1;
  if (setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "SO_TIMESTAMPNS", e);
  }
  if (family == 6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  set_buf(fd, SO_RCVBUFFORCE, SO_RCVBUF, rcv);
  set_buf(fd, SO_SNDBUFFORCE, SO_SNDBUF, snd);
  if (bind(fd, (struct sockaddr*)&ss, slen) != 0) {
    int e = errno;
    close(fd);
    return throw_errno(env, "bind", e);
  }
  struct sockaddr_storage local;
  socklen_t llen = sizeof local;
  getsockname(fd, (struct sockaddr*)&local, &llen);
  int lport = ntohs(local.ss_family == AF_INET6 ? ((struct sockaddr_in6*)&local)->sin6_port
                                                : ((struct sockaddr_in*)&local)->sin_port);
  napi_value out;
  CHECK(napi_create_object(env, &out));
  napi_set_named_property(env, out, "fd", make_int(env, fd));
  napi_set_named_property(env, out, "port", make_int(env, lport));
  napi_set_named_property(env, out, "rcvbuf", make_int(env, get_buf(fd, SO_RCVBUF)));
  napi_set_named_property(env, out, "sndbuf", make_int(env, get_buf(fd, SO_SNDBUF)));
  return out;
}

// connect(fd, host, port): the socket's family decides how host is parsed.
static napi_value js_connect(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, NULL)) return NULL;
  int32_t fd, port;
  char host[64];
  size_t hlen;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[2], &port)) return NULL;
  if (napi_get_value_string_utf8(env, argv[1], host, sizeof host, &hlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp_batch connect: host must be a string");
    return NULL;
  }
  int domain = 0;
  socklen_t dlen = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0) return throw_errno(env, "connect", errno);
  struct sockaddr_storage ss;
  socklen_t slen = make_addr(domain == AF_INET6 ? 6 : 4, host, port, &ss);
  if (!slen) {
    napi_throw_error(env, "EINVAL", "udp_batch connect: host is not an IP literal of the socket's family");
    return NULL;
  }
  if (connect(fd, (struct sockaddr*)&ss, slen) != 0) return throw_errno(env, "connect", errno);
  return NULL;
}

static void* typed_data(napi_env env, napi_value v, napi_typedarray_type want, size_t* len) {
  napi_typedarray_type type;
  void* data = NULL;
  if (napi_get_typedarray_info(env, v, &type, len, &data, NULL, NULL) != napi_ok || type != want) return NULL;
  return data;
}

// The optional peer-address array: a Uint8Array with room for `count` addresses.
static int get_names(napi_env env, napi_value v, int32_t count, uint8_t** out) {
  size_t len;
  *out = typed_data(env, v, napi_uint8_array, &len);
  if (!*out || len < (size_t)count * NAME_BYTES) {
    napi_throw_type_error(env, NULL, "udp_batch: names must be a Uint8Array of 32 bytes per message");
    return 0;
  }
  return 1;
}

// sendBatch(fd, data, offsets, lengths, count[, names]) -> sent | -errno. Stops at the first EAGAIN
// (returns what went). A hard error after some messages went returns the count; the next call sees the
// error. With `names` (an unconnected server socket), message i goes to the raw sockaddr at
// names[i * NAME_BYTES], as recvBatch wrote it.
static napi_value js_send_batch(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  instance_t* inst;
  size_t argc;
  if (!get_args_upto(env, info, 5, 6, argv, &argc, &inst)) return NULL;
  int32_t fd, count;
  void* buf;
  size_t blen, olen, llen;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[4], &count)) return NULL;
  uint32_t* offs = typed_data(env, argv[2], napi_uint32_array, &olen);
  uint32_t* lens = typed_data(env, argv[3], napi_uint32_array, &llen);
  if (napi_get_buffer_info(env, argv[1], &buf, &blen) != napi_ok || !offs || !lens || count < 0 ||
      (size_t)count > olen || (size_t)count > llen) {
    napi_throw_type_error(env, NULL, "udp_batch sendBatch: bad arguments");
    return NULL;
  }
  uint8_t* names = NULL;
  if (argc >= 6 && !get_names(env, argv[5], count, &names)) return NULL;
  int done = 0;
  while (done < count) {
    int n = count - done < CHUNK ? count - done : CHUNK;
    for (int i = 0; i < n; i++) {
      uint32_t o = offs[done + i], l = lens[done + i];
      if ((uint64_t)o + l > blen) {
        napi_throw_range_error(env, NULL, "udp_batch sendBatch: message outside the buffer");
        return NULL;
      }
      inst->iov[i].iov_base = (char*)buf + o;
      inst->iov[i].iov_len = l;
      memset(&inst->msgs[i].msg_hdr, 0, sizeof(struct msghdr));
      inst->msgs[i].msg_hdr.msg_iov = &inst->iov[i];
      inst->msgs[i].msg_hdr.msg_iovlen = 1;
      if (names) {
        uint8_t* name = names + (size_t)(done + i) * NAME_BYTES;
        sa_family_t fam;
        memcpy(&fam, name, sizeof fam);
        inst->msgs[i].msg_hdr.msg_name = name;
        inst->msgs[i].msg_hdr.msg_namelen = fam == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
      }
    }
    int r;
    do r = sendmmsg(fd, inst->msgs, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || done > 0) break;
      return make_int(env, -errno);
    }
    done += r;
    if (r < n) break;  // the send buffer filled up mid-batch
  }
  return make_int(env, done);
}

static inline int64_t ts_ns(const struct timespec* t) { return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec; }

// recvBatch(fd, arena, slotBytes, maxMessages, lengths, rxUs: Float64Array[, names]) -> count | -errno.
// Message i lands at arena[i*slotBytes]; lengths[i] is its real size (larger than slotBytes when it was
// truncated: MSG_TRUNC asks the kernel for the real length); rxUs[i] its CLOCK_MONOTONIC receive time;
// with `names`, its sender's raw sockaddr at names[i * NAME_BYTES] (what sendBatch takes back).
static napi_value js_recv_batch(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  instance_t* inst;
  size_t argc;
  if (!get_args_upto(env, info, 6, 7, argv, &argc, &inst)) return NULL;
  int32_t fd, slot, max;
  void* arena;
  size_t alen, llen, tlen;
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[2], &slot) || !get_i32(env, argv[3], &max)) return NULL;
  uint32_t* lens = typed_data(env, argv[4], napi_uint32_array, &llen);
  double* rx = typed_data(env, argv[5], napi_float64_array, &tlen);
  if (napi_get_buffer_info(env, argv[1], &arena, &alen) != napi_ok || !lens || !rx || slot <= 0 || max < 0 ||
      (size_t)max > llen || (size_t)max > tlen || (uint64_t)slot * (uint64_t)max > alen) {
    napi_throw_type_error(env, NULL, "udp_batch recvBatch: bad arguments");
    return NULL;
  }
  uint8_t* names = NULL;
  if (argc >= 7 && !get_names(env, argv[6], max, &names)) return NULL;
  struct timespec r1, m, r2;
  clock_gettime(CLOCK_REALTIME, &r1);
  clock_gettime(CLOCK_MONOTONIC, &m);
  clock_gettime(CLOCK_REALTIME, &r2);
  int64_t mono_now = ts_ns(&m);
  int64_t shift = mono_now - (ts_ns(&r1) + ts_ns(&r2)) / 2;

  int got = 0;
  while (got < max) {
    int n = max - got < CHUNK ? max - got : CHUNK;
    for (int i = 0; i < n; i++) {
      inst->iov[i].iov_base = (char*)arena + (size_t)(got + i) * slot;
      inst->iov[i].iov_len = slot;
      struct msghdr* h = &inst->msgs[i].msg_hdr;
      h->msg_name = names ? names + (size_t)(got + i) * NAME_BYTES : NULL;
      h->msg_namelen = names ? NAME_BYTES : 0;
      h->msg_iov = &inst->iov[i];
      h->msg_iovlen = 1;
      h->msg_control = inst->ctrl[i].buf;
      h->msg_controllen = CMSG_BYTES;
      h->msg_flags = 0;
    }
    int r;
    do r = recvmmsg(fd, inst->msgs, n, MSG_DONTWAIT | MSG_TRUNC, NULL);
    while (r < 0 && errno == EINTR);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || got > 0) break;
      return make_int(env, -errno);
    }
    for (int i = 0; i < r; i++) {
      struct msghdr* h = &inst->msgs[i].msg_hdr;
      int64_t t = mono_now;
      for (struct cmsghdr* c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
          struct timespec ts;
          memcpy(&ts, CMSG_DATA(c), sizeof ts);
          t = ts_ns(&ts) + shift;
          if (t > mono_now) t = mono_now;
          break;
        }
      }
      lens[got + i] = inst->msgs[i].msg_len;
      rx[got + i] = (double)t / 1000.0;
    }
    got += r;
    if (r < n) break;  // the socket is empty
  }
  return make_int(env, got);
}

// sendTo(fd, data, host, port) -> bytes | -errno: one datagram to an address given as text (the slow
// path of a server: a response held back for a delay).
static napi_value js_send_to(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!get_args(env, info, 4, argv, NULL)) return NULL;
  int32_t fd, port;
  void* buf;
  size_t blen, hlen;
  char host[64];
  if (!get_i32(env, argv[0], &fd) || !get_i32(env, argv[3], &port)) return NULL;
  if (napi_get_buffer_info(env, argv[1], &buf, &blen) != napi_ok ||
      napi_get_value_string_utf8(env, argv[2], host, sizeof host, &hlen) != napi_ok) {
    napi_throw_type_error(env, NULL, "udp_batch sendTo: bad arguments");
    return NULL;
  }
  int domain = 0;
  socklen_t dlen = sizeof domain;
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0) return make_int(env, -errno);
  struct sockaddr_storage ss;
  socklen_t slen = make_addr(domain == AF_INET6 ? 6 : 4, host, port, &ss);
  if (!slen) return make_int(env, -EINVAL);
  ssize_t r;
  do r = sendto(fd, buf, blen, MSG_DONTWAIT | MSG_NOSIGNAL, (struct sockaddr*)&ss, slen);
  while (r < 0 && errno == EINTR);
  return make_int(env, r < 0 ? -errno : r);
}

// nowUs() -> CLOCK_MONOTONIC in microseconds (fractional), for JS to align its own time base.
static napi_value js_now_us(napi_env env, napi_callback_info info) {
  (void)info;
  struct timespec m;
  clock_gettime(CLOCK_MONOTONIC, &m);
  napi_value out;
  napi_create_double(env, (double)ts_ns(&m) / 1000.0, &out);
  return out;
}

// ---- watch: an event-driven mode (readable -> callback), one uv_poll_t per fd ----

static void release_watch(watch_t* w, int delete_ref) {
  release_js_handle((uv_handle_t*)&w->poll, w, w->env, w->callback, w->ctx, delete_ref);
}

static void on_readable(uv_poll_t* p, int status, int events) {
  (void)status;
  (void)events;
  watch_t* w = (watch_t*)p->data;
  call_js(w->env, w->callback, w->ctx);
}

static watch_t** find_watch(instance_t* inst, int fd) {
  for (watch_t** pw = &inst->watches; *pw; pw = &(*pw)->next)
    if ((*pw)->fd == fd) return pw;
  return NULL;
}

static int unwatch_fd(instance_t* inst, int fd) {
  watch_t** pw = find_watch(inst, fd);
  if (!pw) return 0;
  watch_t* w = *pw;
  *pw = w->next;
  release_watch(w, 1);
  return 1;
}

// watch(fd, callback): callback() whenever fd is readable, until unwatch(fd) or close(fd).
static napi_value js_watch(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  instance_t* inst;
  if (!get_args(env, info, 2, argv, &inst)) return NULL;
  int32_t fd;
  if (!get_i32(env, argv[0], &fd)) return NULL;
  napi_valuetype t;
  if (napi_typeof(env, argv[1], &t) != napi_ok || t != napi_function) {
    napi_throw_type_error(env, NULL, "udp_batch watch: callback must be a function");
    return NULL;
  }
  unwatch_fd(inst, fd);
  uv_loop_t* loop;
  CHECK(napi_get_uv_event_loop(env, &loop));
  watch_t* w = calloc(1, sizeof *w);
  if (!w) return throw_errno(env, "watch", ENOMEM);
  w->fd = fd;
  w->env = env;
  int e = uv_poll_init(loop, &w->poll, fd);
  if (e != 0) {
    free(w);
    return throw_errno(env, "watch", -e);
  }
  w->poll.data = w;
  napi_value name;
  napi_create_string_utf8(env, "udp_batch.watch", NAPI_AUTO_LENGTH, &name);
  napi_create_reference(env, argv[1], 1, &w->callback);
  napi_async_init(env, NULL, name, &w->ctx);
  e = uv_poll_start(&w->poll, UV_READABLE, on_readable);
  if (e != 0) {
    release_watch(w, 1);
    return throw_errno(env, "watch", -e);
  }
  w->next = inst->watches;
  inst->watches = w;
  return NULL;
}

static napi_value js_unwatch(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  instance_t* inst;
  int32_t fd;
  if (!get_args(env, info, 1, argv, &inst) || !get_i32(env, argv[0], &fd)) return NULL;
  napi_value out;
  napi_get_boolean(env, unwatch_fd(inst, fd), &out);
  return out;
}

// close(fd): stops any watch first (libuv must not poll a closed, possibly reused, fd).
static napi_value js_close(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  instance_t* inst;
  int32_t fd;
  if (!get_args(env, info, 1, argv, &inst) || !get_i32(env, argv[0], &fd)) return NULL;
  unwatch_fd(inst, fd);
  int r = close(fd);
  return make_int(env, r == 0 ? 0 : -errno);
}

static void cleanup(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  instance_t* inst = data;
  // The loop is going away with the environment: stop polling; the handles' memory is reclaimed with
  // the loop's last run (uv_close callbacks), references die with the env.
  while (inst->watches) {
    watch_t* w = inst->watches;
    inst->watches = w->next;
    release_watch(w, 0);
  }
  free(inst);
}

static napi_value init(napi_env env, napi_value exports) {
  instance_t* inst = calloc(1, sizeof *inst);
  if (!inst) {
    napi_throw_error(env, NULL, "udp_batch: out of memory");
    return NULL;
  }
  if (napi_set_instance_data(env, inst, cleanup, NULL) != napi_ok) {
    free(inst);
    napi_throw_error(env, NULL, "udp_batch: napi_set_instance_data failed");
    return NULL;
  }
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, inst},
      {"connect", NULL, js_connect, NULL, NULL, NULL, napi_enumerable, inst},
      {"sendBatch", NULL, js_send_batch, NULL, NULL, NULL, napi_enumerable, inst},
      {"recvBatch", NULL, js_recv_batch, NULL, NULL, NULL, napi_enumerable, inst},
      {"sendTo", NULL, js_send_to, NULL, NULL, NULL, napi_enumerable, inst},
      {"nowUs", NULL, js_now_us, NULL, NULL, NULL, napi_enumerable, inst},
      {"watch", NULL, js_watch, NULL, NULL, NULL, napi_enumerable, inst},
      {"unwatch", NULL, js_unwatch, NULL, NULL, NULL, napi_enumerable, inst},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, inst},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  if (!pump_register(env, exports) || !md5_register(env, exports)) {
    napi_throw_error(env, NULL, "udp_batch: pump or md5 registration failed");
    return NULL;
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
