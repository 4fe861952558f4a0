// The export table: the only file that knows which modules exist.
#include "util.h"

namespace nsfd {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitFd(env, exports);
  InitPidfd(env, exports);
  InitNsfs(env, exports);
  InitSetns(env, exports);
  InitReaper(env, exports);
  InitProbe(env, exports);
  InitSpawn(env, exports);
  InitInns(env, exports);
  InitList(env, exports);
  InitMountApi(env, exports);
  InitDirfd(env, exports);
  InitInitBlob(env, exports);
  InitHash(env, exports);
  return exports;
}

}  // namespace nsfd

static Napi::Object InitAll(Napi::Env env, Napi::Object exports) { return nsfd::Init(env, exports); }

NODE_API_MODULE(nsfd, InitAll)
