// The reaper: one epoll set per addon instance over private dups of
// pidfds, itself watched by the instance's libuv loop (a uv_poll on the
// epoll fd). When a watched process exits, the loop wakes the JS thread
// directly and JS then reaps it or reads its exit status without blocking.
//
// Nothing here blocks: epoll_wait is called with a zero timeout, only once
// libuv says the set is readable. (An earlier version had a thread of its
// own blocked in epoll_wait that woke JS through a threadsafe function:
// one more thread to wake on every exit, ~70 us per spawn-and-wait on a
// 2-CPU VM.) Waiting still never runs on the libuv pool (node-pty's
// lesson: a pool thread blocked in wait starves fs).
#include <fcntl.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <uv.h>

#include <unordered_map>
#include <vector>

#include "util.h"

namespace nsfd {
namespace {

struct Reaper {
  napi_env env = nullptr;
  napi_async_cleanup_hook_handle cleanup = nullptr;
  int ep = -1;
  uv_poll_t* poll = nullptr;  // freed in its close callback
  Napi::FunctionReference dispatch;
  std::unordered_map<uint32_t, int> fds;  // token -> our dup of the pidfd
  uint32_t next = 1;

  bool started() const { return poll != nullptr; }

  // libuv: the epoll set is readable. Drop every watch that fired, then tell
  // JS, one token per call (each in its own callback scope, so the promise
  // it settles runs its reactions before the next).
  static void OnReadable(uv_poll_t* handle, int status, int /*events*/) {
    Reaper* r = static_cast<Reaper*>(handle->data);
    if (status < 0) return;
    std::vector<uint32_t> fired;
    epoll_event evs[32];
    int n;
    do {
      n = epoll_wait(r->ep, evs, 32, 0);
      for (int i = 0; i < n; i++) {
        uint32_t tok = static_cast<uint32_t>(evs[i].data.u64);
        auto it = r->fds.find(tok);
        if (it == r->fds.end()) continue;  // unwatched meanwhile
        epoll_ctl(r->ep, EPOLL_CTL_DEL, it->second, nullptr);
        close(it->second);
        r->fds.erase(it);
        fired.push_back(tok);
      }
    } while (n == 32 || (n < 0 && errno == EINTR));
    Napi::Env env(r->env);
    for (uint32_t tok : fired) {
      Napi::HandleScope scope(env);
      r->dispatch.MakeCallback(env.Global(), {Napi::Number::New(env, tok)});
      if (env.IsExceptionPending()) {
        // As an exception from any other callback: 'uncaughtException'.
        napi_value err;
        napi_get_and_clear_last_exception(r->env, &err);
        napi_fatal_exception(r->env, err);
      }
    }
  }

  // Env teardown: stop watching, close the handle, then let Node go on.
  static void OnCleanup(napi_async_cleanup_hook_handle handle, void* arg) {
    Reaper* r = static_cast<Reaper*>(arg);
    r->cleanup = handle;
    for (auto& kv : r->fds) close(kv.second);
    r->fds.clear();
    r->dispatch.Reset();
    if (!r->started()) return Finish(r);
    uv_poll_stop(r->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(r->poll), [](uv_handle_t* h) {
      Reaper* self = static_cast<Reaper*>(h->data);
      delete reinterpret_cast<uv_poll_t*>(h);
      self->poll = nullptr;
      Finish(self);
    });
  }
  static void Finish(Reaper* r) {
    if (r->ep >= 0) close(r->ep);
    napi_remove_async_cleanup_hook(r->cleanup);
    delete r;
  }
};

Reaper* Self(const Napi::CallbackInfo& info) { return static_cast<Reaper*>(info.Data()); }

// reaper_init(callback): makes the epoll set and watches it from this
// env's loop; callback(token) is called on the JS thread for every watched
// pidfd that became readable. Unref'd at start. 0 or -errno.
Napi::Value ReaperInit(const Napi::CallbackInfo& info) {
  Reaper* r = Self(info);
  if (r->started()) return Num(info, 0);
  if (info.Length() < 1 || !info[0].IsFunction()) return Fail(info, "nsfd native: expected a function");
  uv_loop_t* loop = nullptr;
  if (napi_get_uv_event_loop(info.Env(), &loop) != napi_ok || loop == nullptr) return Num(info, -EINVAL);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) return Num(info, -errno);
  uv_poll_t* poll = new uv_poll_t;
  int e = uv_poll_init(loop, poll, ep);
  if (e == 0) {
    poll->data = r;
    e = uv_poll_start(poll, UV_READABLE, Reaper::OnReadable);
    if (e != 0) {
      uv_close(reinterpret_cast<uv_handle_t*>(poll), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll = nullptr;
    }
  } else {
    delete poll;
    poll = nullptr;
  }
  if (poll == nullptr) {
    close(ep);
    return Num(info, e);  // libuv's errors are -errno
  }
  uv_unref(reinterpret_cast<uv_handle_t*>(poll));
  r->ep = ep;
  r->poll = poll;
  r->dispatch = Napi::Persistent(info[0].As<Napi::Function>());
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
  if (!r->started()) return Num(info, -EINVAL);
  int dup = fcntl(static_cast<int>(fd), F_DUPFD_CLOEXEC, 3);
  if (dup < 0) return Num(info, -errno);
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
  if (!r->started()) return Num(info, -EINVAL);
  uv_handle_t* h = reinterpret_cast<uv_handle_t*>(r->poll);
  if (info.Length() > 0 && info[0].ToBoolean().Value())
    uv_ref(h);
  else
    uv_unref(h);
  return Num(info, 0);
}

}  // namespace

void InitReaper(Napi::Env env, Napi::Object exports) {
  Reaper* r = new Reaper();
  r->env = env;
  // Async: closing the uv_poll handle finishes on a later loop turn.
  napi_add_async_cleanup_hook(env, Reaper::OnCleanup, r, nullptr);
  exports.Set("reaper_init", Napi::Function::New(env, ReaperInit, "reaper_init", r));
  exports.Set("reaper_watch", Napi::Function::New(env, ReaperWatch, "reaper_watch", r));
  exports.Set("reaper_unwatch", Napi::Function::New(env, ReaperUnwatch, "reaper_unwatch", r));
  exports.Set("reaper_ref", Napi::Function::New(env, ReaperRef, "reaper_ref", r));
}

}  // namespace nsfd
