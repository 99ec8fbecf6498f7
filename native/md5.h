// md5.c: md5Hex() on the addon's exports (register returns 0 on failure), and the C function for tests.
#ifndef SIPSTORM_MD5_H
#define SIPSTORM_MD5_H
#include <node_api.h>
#include <stddef.h>
#include <stdint.h>
int md5_register(napi_env env, napi_value exports);
void md5_hex(const uint8_t* data, size_t len, char out[32]);
#endif
