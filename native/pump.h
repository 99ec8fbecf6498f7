// pump.c's registration: adds every() and cancel() to the addon's exports; returns 0 on failure.
#ifndef SIPSTORM_PUMP_H
#define SIPSTORM_PUMP_H
#include <node_api.h>
int pump_register(napi_env env, napi_value exports);
#endif
