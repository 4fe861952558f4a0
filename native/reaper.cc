// The reaper: one thread per addon instance that epolls private dups of
// pidfds and tells JS (through a threadsafe function) when one becomes
// readable, i.e. the process has exited. JS then reaps or reads the exit
// status without blocking. Waiting never runs on the main thread or the
// libuv pool (node-pty's lesson: a pool thread blocked in wait starves fs).
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "util.h"

namespace nsfd {
namespace {

struct Reaper {
  int ep = -1;
  int ev = -1;
  std::thread th;
  Napi::ThreadSafeFunction tsfn;
  bool started = false;
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::unordered_map<uint32_t, int> fds;  // token -> our dup of the pidfd
  uint32_t next = 1;

  void Loop() {
    epoll_event evs[32];
    while (!stop.load()) {
      int n = epoll_wait(ep, evs, 32, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        return;
      }
      for (int i = 0; i < n; i++) {
        uint32_t tok = static_cast<uint32_t>(evs[i].data.u64);
        if (tok == 0) {
          uint64_t v;
          (void)!read(ev, &v, sizeof v);
          continue;
        }
        {
          std::lock_guard<std::mutex> lock(mu);
          auto it = fds.find(tok);
          if (it == fds.end()) continue;  // unwatched meanwhile
          epoll_ctl(ep, EPOLL_CTL_DEL, it->second, nullptr);
          close(it->second);
          fds.erase(it);
        }
        uint32_t* data = new uint32_t(tok);
        if (tsfn.NonBlockingCall(data, [](Napi::Env env, Napi::Function fn, uint32_t* d) {
              uint32_t t = *d;
              delete d;
              if (env != nullptr && fn != nullptr) fn.Call({Napi::Number::New(env, t)});
            }) != napi_ok) {
          delete data;
        }
      }
    }
  }

  void Shutdown() {
    if (!started) return;
    stop.store(true);
    uint64_t one = 1;
    (void)!write(ev, &one, sizeof one);
    if (th.joinable()) th.join();
    for (auto& kv : fds) close(kv.second);
    fds.clear();
    close(ep);
    close(ev);
    tsfn.Release();
    started = false;
  }
};

Reaper* Self(const Napi::CallbackInfo& info) { return static_cast<Reaper*>(info.Data()); }

// reaper_init(callback): starts the thread; callback(token) is called on the
// JS thread for every watched pidfd that became readable. Unref'd at start.
Napi::Value ReaperInit(const Napi::CallbackInfo& info) {
  Reaper* r = Self(info);
  if (r->started) return Num(info, 0);
  if (info.Length() < 1 || !info[0].IsFunction()) return Fail(info, "nsfd native: expected a function");
  r->ep = epoll_create1(EPOLL_CLOEXEC);
  if (r->ep < 0) return Num(info, -errno);
  r->ev = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (r->ev < 0) {
    int e = errno;
    close(r->ep);
    return Num(info, -e);
  }
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = 0;
  epoll_ctl(r->ep, EPOLL_CTL_ADD, r->ev, &e);
  r->tsfn = Napi::ThreadSafeFunction::New(info.Env(), info[0].As<Napi::Function>(), "nsfd-reaper", 0, 1);
  r->tsfn.Unref(info.Env());
  r->started = true;
  r->th = std::thread([r] { r->Loop(); });
  return Num(info, 0);
}

// reaper_watch(pidfd, untilReaped): a token, or -errno. The reaper watches
// its own dup, so closing the caller's fd never races with the epoll set.
// A pidfd reads as POLLIN once the process exits and adds POLLHUP once it
// is reaped (6.9+); untilReaped waits for the latter (epoll always reports
// HUP, so asking for no events waits for nothing else).
Napi::Value ReaperWatch(const Napi::CallbackInfo& info) {
  Reaper* r = Self(info);
  NSFD_INT(0, fd);
  if (BadFd(info, 0)) return Num(info, -EBADF);
  NSFD_INT(1, untilReaped);
  if (!r->started) return Num(info, -EINVAL);
  int dup = fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 3);
  if (dup < 0) return Num(info, -errno);
  std::lock_guard<std::mutex> lock(r->mu);
  uint32_t tok = r->next++;
  if (r->next == 0) r->next = 1;
  epoll_event e{};
  e.events = (untilReaped ? 0u : static_cast<uint32_t>(EPOLLIN)) | EPOLLONESHOT;
  e.data.u64 = tok;
  if (epoll_ctl(r->ep, EPOLL_CTL_ADD, dup, &e) < 0) {
    int err = errno;
    close(dup);
    return Num(info, -err);
  }
  r->fds[tok] = dup;
  return Num(info, tok);
}

Napi::Value ReaperUnwatch(const Napi::CallbackInfo& info) {
  Reaper* r = Self(info);
  NSFD_INT(0, tok);
  std::lock_guard<std::mutex> lock(r->mu);
  auto it = r->fds.find(static_cast<uint32_t>(tok));
  if (it == r->fds.end()) return Num(info, 0);
  epoll_ctl(r->ep, EPOLL_CTL_DEL, it->second, nullptr);
  close(it->second);
  r->fds.erase(it);
  return Num(info, 1);
}

// reaper_ref(true|false): whether pending waits keep the event loop alive.
Napi::Value ReaperRef(const Napi::CallbackInfo& info) {
  Reaper* r = Self(info);
  if (!r->started) return Num(info, -EINVAL);
  if (info.Length() > 0 && info[0].ToBoolean().Value())
    r->tsfn.Ref(info.Env());
  else
    r->tsfn.Unref(info.Env());
  return Num(info, 0);
}

}  // namespace

void InitReaper(Napi::Env env, Napi::Object exports) {
  Reaper* r = new Reaper();
  env.AddCleanupHook([r] {
    r->Shutdown();
    delete r;
  });
  exports.Set("reaper_init", Napi::Function::New(env, ReaperInit, "reaper_init", r));
  exports.Set("reaper_watch", Napi::Function::New(env, ReaperWatch, "reaper_watch", r));
  exports.Set("reaper_unwatch", Napi::Function::New(env, ReaperUnwatch, "reaper_unwatch", r));
  exports.Set("reaper_ref", Napi::Function::New(env, ReaperRef, "reaper_ref", r));
}

}  // namespace nsfd
