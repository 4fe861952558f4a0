// nsfd-init's bytes, carried inside the addon, and init_memfd() to run
// them: a prebuilt package (prebuildify ships .node files only) or a copy
// of the tree with the .node alone then still has the containers' init.
// node-gyp builds the nsfd-init target first (binding.gyp) and this file
// includes its output with .incbin; a build without it (check-native.sh,
// sanitize.sh) carries nothing and init_memfd() says ENOENT.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "uapi.h"
#include "util.h"

#ifdef NSFD_INIT_BIN
__asm__(
    ".section .rodata\n"
    ".balign 16\n"
    "nsfd_init_blob:\n"
    ".incbin \"" NSFD_INIT_BIN "\"\n"
    "nsfd_init_blob_end:\n"
    ".previous\n");
// Hidden: addressed PC-relative. As default-visibility externs, -fPIC
// reached them through the GOT, and on aarch64 both local labels got the
// one GOT entry of their section (an addend a GOT slot cannot hold): the
// size came out 0 and every arm64 build said it carried no init.
extern "C" __attribute__((visibility("hidden"))) const char nsfd_init_blob[] __asm__("nsfd_init_blob");
extern "C" __attribute__((visibility("hidden"))) const char nsfd_init_blob_end[] __asm__("nsfd_init_blob_end");
#endif

namespace nsfd {
namespace {

// init_memfd(): a sealed memfd (MFD_CLOEXEC) holding nsfd-init, to execveat
// by fd; or -errno (-ENOENT: this build carries none).
Napi::Value InitMemfd(const Napi::CallbackInfo& info) {
#ifdef NSFD_INIT_BIN
  size_t size = static_cast<size_t>(nsfd_init_blob_end - nsfd_init_blob);
  if (size == 0) return Num(info, -ENOENT);
  // MFD_EXEC: executable even where vm.memfd_noexec makes memfds noexec
  // by default; a kernel before 6.3 knows no such flag (EINVAL).
  int fd = memfd_create("nsfd-init", MFD_CLOEXEC | MFD_ALLOW_SEALING | kMfdExec);
  if (fd < 0 && errno == EINVAL) fd = memfd_create("nsfd-init", MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return Num(info, -errno);
  size_t off = 0;
  while (off < size) {
    ssize_t n = write(fd, nsfd_init_blob + off, size - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : EIO;
      close(fd);
      return Num(info, -e);
    }
    off += static_cast<size_t>(n);
  }
  // Sealed: nothing can change the program once it is handed out.
  if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0) {
    int e = errno;
    close(fd);
    return Num(info, -e);
  }
  return Num(info, fd);
#else
  return Num(info, -ENOENT);
#endif
}

}  // namespace

void InitInitBlob(Napi::Env env, Napi::Object exports) {
  exports.Set("init_memfd", Napi::Function::New(env, InitMemfd, "init_memfd"));
}

}  // namespace nsfd
