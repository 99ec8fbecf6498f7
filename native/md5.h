// md5.c: md5Hex() on the addon's exports (register returns 0 on failure).
#ifndef SIPSTORM_MD5_H
#define SIPSTORM_MD5_H
#include <node_api.h>
int md5_register(napi_env env, napi_value exports);
#endif
