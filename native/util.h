// Argument helpers and the return convention shared by every native file:
// a syscall's result when >= 0, or -errno captured at once. JS builds the
// error (so it has a real stack); C++ only backstops argument types.
#pragma once

#include <napi.h>
#include <cerrno>
#include <cstdint>

namespace nsfd {

inline Napi::Value Fail(const Napi::CallbackInfo& info, const char* what) {
  Napi::TypeError::New(info.Env(), what).ThrowAsJavaScriptException();
  return info.Env().Undefined();
}

// Reads argument i as an integer; false (with a pending TypeError) if absent.
inline bool ArgInt(const Napi::CallbackInfo& info, size_t i, int64_t* out) {
  if (info.Length() <= i || !info[i].IsNumber()) {
    Fail(info, "nsfd native: expected an integer argument");
    return false;
  }
  *out = info[i].As<Napi::Number>().Int64Value();
  return true;
}

inline bool ArgU64(const Napi::CallbackInfo& info, size_t i, uint64_t* out) {
  if (info.Length() > i && info[i].IsBigInt()) {
    bool lossless = true;
    *out = info[i].As<Napi::BigInt>().Uint64Value(&lossless);
    if (lossless) return true;
  } else if (info.Length() > i && info[i].IsNumber()) {
    *out = static_cast<uint64_t>(info[i].As<Napi::Number>().Int64Value());
    return true;
  }
  Fail(info, "nsfd native: expected a bigint argument");
  return false;
}

inline bool ArgString(const Napi::CallbackInfo& info, size_t i, std::string* out) {
  if (info.Length() <= i || !info[i].IsString()) {
    Fail(info, "nsfd native: expected a string argument");
    return false;
  }
  *out = info[i].As<Napi::String>().Utf8Value();
  return true;
}

#define NSFD_INT(i, name) \
  int64_t name;           \
  if (!ArgInt(info, i, &name)) return info.Env().Undefined()
#define NSFD_U64(i, name) \
  uint64_t name;          \
  if (!ArgU64(info, i, &name)) return info.Env().Undefined()
#define NSFD_STR(i, name) \
  std::string name;       \
  if (!ArgString(info, i, &name)) return info.Env().Undefined()

// result >= 0, or -errno (errno read right after the call that failed).
inline long Ret(long r) { return r < 0 ? -errno : r; }
inline Napi::Value Num(const Napi::CallbackInfo& info, long r) {
  return Napi::Number::New(info.Env(), static_cast<double>(r));
}

// Every module registers its functions through one of these.
void InitFd(Napi::Env env, Napi::Object exports);
void InitPidfd(Napi::Env env, Napi::Object exports);
void InitNsfs(Napi::Env env, Napi::Object exports);
void InitSetns(Napi::Env env, Napi::Object exports);
void InitReaper(Napi::Env env, Napi::Object exports);
void InitProbe(Napi::Env env, Napi::Object exports);
void InitSpawn(Napi::Env env, Napi::Object exports);
void InitInns(Napi::Env env, Napi::Object exports);
void InitList(Napi::Env env, Napi::Object exports);

}  // namespace nsfd
