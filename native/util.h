// Argument helpers and the return convention shared by every native file:
// a syscall's result when >= 0, or -errno captured at once. JS builds the
// error (so it has a real stack); C++ only backstops argument types.
#pragma once

#include <napi.h>
#include <cerrno>
#include <cstdint>
#include <string>

namespace nsfd {

// Throws a TypeError, unless an exception is pending already (reading a
// value ran JS that threw): a second napi_throw would be node-addon-api's
// fatal error, and the first exception is the one to report.
inline Napi::Value Fail(const Napi::CallbackInfo& info, const char* what) {
  Napi::Env env = info.Env();
  if (!env.IsExceptionPending()) Napi::TypeError::New(env, what).ThrowAsJavaScriptException();
  return env.Undefined();
}

// fds are ints. A larger number would be truncated into another, open fd,
// and NaN or 1.5 would be read as 0 or 1 (stdin, stdout): refuse them all.
inline bool BadFdValue(double d) {
  return !(d >= INT32_MIN && d <= INT32_MAX && d == static_cast<double>(static_cast<int64_t>(d)));
}
// For argument i, already known to be a number (NSFD_INT).
inline bool BadFd(const Napi::CallbackInfo& info, size_t i) {
  return BadFdValue(info[i].As<Napi::Number>().DoubleValue());
}

// Reading a property or an element of a JS object may run JS (a getter, a
// Proxy trap), and that may throw. Then the exception is pending: the
// caller must return at once, calling nothing else that may run JS and
// throwing nothing (the exception thrown is the reader's). These read and
// say whether it went well.
inline bool GetProp(Napi::Object o, Napi::Value key, Napi::Value* out) {
  Napi::Value v = o.Get(key);
  if (o.Env().IsExceptionPending() || v.IsEmpty()) return false;
  *out = v;
  return true;
}
inline bool GetElem(Napi::Array a, uint32_t i, Napi::Value* out) {
  Napi::Value v = a.Get(i);
  if (a.Env().IsExceptionPending() || v.IsEmpty()) return false;
  *out = v;
  return true;
}

// A number that is an integer in [lo, hi] (NaN, 1.5 and out-of-range
// values are not: a cast would turn them into some other, valid value).
inline bool IntIn(Napi::Value v, double lo, double hi, int64_t* out) {
  if (!v.IsNumber()) return false;
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= lo && d <= hi && d == static_cast<double>(static_cast<int64_t>(d)))) return false;
  *out = static_cast<int64_t>(d);
  return true;
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

// A string with a null byte in it: the kernel would see only the part
// before it, another path (or name) than the one given.
inline bool HasNul(const std::string& s) { return s.find('\0') != std::string::npos; }

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
void InitMountApi(Napi::Env env, Napi::Object exports);
void InitDirfd(Napi::Env env, Napi::Object exports);
void InitInitBlob(Napi::Env env, Napi::Object exports);
void InitHash(Napi::Env env, Napi::Object exports);

}  // namespace nsfd
