// md5Hex(text): MD5 (RFC 1321) of a string's UTF-8 bytes as 32 lower-case hex digits.
//
// Why not node:crypto: a REGISTER's digest response is one MD5 of ~120 bytes, and crypto.hash spent
// ~2 us per call on the generator's core (EVP context set-up, malloc/free, encoding) against well under
// 1 us for the hashing itself. Only MD5 is here (RFC 2617's default and what trunks offer); the other
// digest algorithms stay with node:crypto.
#include <node_api.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md5.h"

typedef struct {
  uint32_t a, b, c, d;
} md5_state;

// Per-round shift amounts and the constants floor(abs(sin(i + 1)) * 2^32), RFC 1321 section 3.4.
static const uint8_t SHIFT[64] = {
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20, 5, 9,  14, 20,
    4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
};
static const uint32_t SINES[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void md5_block(md5_state* s, const uint8_t* p) {
  uint32_t m[16];
  for (int i = 0; i < 16; i++) m[i] = (uint32_t)p[4 * i] | (uint32_t)p[4 * i + 1] << 8 | (uint32_t)p[4 * i + 2] << 16 | (uint32_t)p[4 * i + 3] << 24;
  uint32_t a = s->a, b = s->b, c = s->c, d = s->d;
  // Four rounds of 16 steps, each its own loop: no branch per step (this runs per digest response).
#define MD5_STEP(f, g)                                           \
  do {                                                           \
    uint32_t next = b + rotl(a + (f) + SINES[i] + m[g], SHIFT[i]); \
    a = d;                                                       \
    d = c;                                                       \
    c = b;                                                       \
    b = next;                                                    \
  } while (0)
  int i = 0;
  for (; i < 16; i++) MD5_STEP((b & c) | (~b & d), i);
  for (; i < 32; i++) MD5_STEP((d & b) | (~d & c), (5 * i + 1) & 15);
  for (; i < 48; i++) MD5_STEP(b ^ c ^ d, (3 * i + 5) & 15);
  for (; i < 64; i++) MD5_STEP(c ^ (b | ~d), (7 * i) & 15);
#undef MD5_STEP
  s->a += a;
  s->b += b;
  s->c += c;
  s->d += d;
}

static void md5_hex(const uint8_t* data, size_t len, char out[32]) {
  md5_state s = {0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476};
  size_t whole = len & ~(size_t)63;
  for (size_t off = 0; off < whole; off += 64) md5_block(&s, data + off);
  // Padding: 0x80, zeros to 56 mod 64, then the bit length (little-endian); one or two last blocks.
  uint8_t tail[128] = {0};
  size_t rest = len - whole;
  memcpy(tail, data + whole, rest);
  tail[rest] = 0x80;
  size_t tail_len = rest < 56 ? 64 : 128;
  uint64_t bits = (uint64_t)len * 8;
  for (int i = 0; i < 8; i++) tail[tail_len - 8 + i] = (uint8_t)(bits >> (8 * i));
  md5_block(&s, tail);
  if (tail_len == 128) md5_block(&s, tail + 64);
  static const char HEX[] = "0123456789abcdef";
  uint32_t words[4] = {s.a, s.b, s.c, s.d};
  for (int w = 0; w < 4; w++) {
    for (int k = 0; k < 4; k++) {
      uint8_t byte = (uint8_t)(words[w] >> (8 * k));
      out[8 * w + 2 * k] = HEX[byte >> 4];
      out[8 * w + 2 * k + 1] = HEX[byte & 15];
    }
  }
}

static napi_value js_md5_hex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc < 1) {
    napi_throw_type_error(env, NULL, "md5Hex: expected a string");
    return NULL;
  }
  // Digest inputs are a few hundred bytes: a stack buffer, else the exact size from the heap.
  char stack[1024];
  char* buf = stack;
  size_t len = 0;
  if (napi_get_value_string_utf8(env, arg, stack, sizeof stack, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "md5Hex: expected a string");
    return NULL;
  }
  if (len >= sizeof stack - 4) {
    // Possibly cut short (Node stops before a character that would not fit): ask for the full length.
    size_t full = 0;
    napi_get_value_string_utf8(env, arg, NULL, 0, &full);
    buf = malloc(full + 1);
    if (!buf) {
      napi_throw_error(env, NULL, "md5Hex: out of memory");
      return NULL;
    }
    napi_get_value_string_utf8(env, arg, buf, full + 1, &len);
  }
  char hex[32];
  md5_hex((const uint8_t*)buf, len, hex);
  if (buf != stack) free(buf);
  napi_value out;
  napi_create_string_latin1(env, hex, 32, &out);
  return out;
}

int md5_register(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"md5Hex", NULL, js_md5_hex, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  return napi_define_properties(env, exports, 1, props) == napi_ok;
}
