// Our own copy of the kernel uapi this addon needs. Debian 12 ships 6.1
// headers, which lack most of it; values are from include/uapi/linux/
// {nsfs,pidfd,sched,fcntl,mount,openat2}.h of 6.18 and checked below.
#pragma once

#include <cstddef>
#include <cstdint>
#include <sys/ioctl.h>
#include <sys/syscall.h>

namespace nsfd {

// --- syscall numbers (x86_64 / asm-generic agree for all of these) -------
#if defined(__x86_64__)
constexpr long kSysSetns = 308;
constexpr long kSysUnshare = 272;
constexpr long kSysWaitid = 247;
constexpr long kSysNameToHandleAt = 303;
constexpr long kSysOpenByHandleAt = 304;
constexpr long kSysCapset = 126;
constexpr long kSysSeccomp = 317;
#elif defined(__aarch64__)
constexpr long kSysSetns = 268;
constexpr long kSysUnshare = 97;
constexpr long kSysWaitid = 95;
constexpr long kSysNameToHandleAt = 264;
constexpr long kSysOpenByHandleAt = 265;
constexpr long kSysCapset = 91;
constexpr long kSysSeccomp = 277;
#else
#error "nsfd supports x86_64 and aarch64"
#endif
constexpr long kSysPidfdSendSignal = 424;
constexpr long kSysOpenTree = 428;
constexpr long kSysMoveMount = 429;
constexpr long kSysFsopen = 430;
constexpr long kSysFsconfig = 431;
constexpr long kSysFsmount = 432;
constexpr long kSysPidfdOpen = 434;
constexpr long kSysClone3 = 435;
constexpr long kSysCloseRange = 436;
constexpr long kSysOpenat2 = 437;
constexpr long kSysPidfdGetfd = 438;
constexpr long kSysMountSetattr = 442;
constexpr long kSysListns = 470;

#if defined(SYS_pidfd_open)
static_assert(SYS_pidfd_open == kSysPidfdOpen);
#endif
#if defined(SYS_clone3)
static_assert(SYS_clone3 == kSysClone3);
#endif
#if defined(SYS_setns)
static_assert(SYS_setns == kSysSetns);
#endif
#if defined(SYS_waitid)
static_assert(SYS_waitid == kSysWaitid);
#endif
#if defined(SYS_capset)
static_assert(SYS_capset == kSysCapset);
#endif
#if defined(SYS_seccomp)
static_assert(SYS_seccomp == kSysSeccomp);
#endif

// --- privileges: prctl, capset, seccomp (linux/prctl.h, capability.h, seccomp.h, filter.h)
constexpr int kPrSetKeepcaps = 8;
constexpr int kPrCapbsetRead = 23;
constexpr int kPrCapbsetDrop = 24;
constexpr int kPrSetNoNewPrivs = 38;
constexpr int kPrCapAmbient = 47;
constexpr int kPrCapAmbientRaise = 2;
constexpr int kPrCapAmbientClearAll = 4;
constexpr uint32_t kCapabilityVersion3 = 0x20080522;
struct CapHeader {
  uint32_t version;
  int pid;
};
struct CapData {  // two of them for v3: caps 0..31, then 32..63
  uint32_t effective, permitted, inheritable;
};
constexpr unsigned kSeccompSetModeFilter = 1;
struct SockFilter {
  uint16_t code;
  uint8_t jt, jf;
  uint32_t k;
};
struct SockFprog {
  unsigned short len;
  SockFilter* filter;
};
static_assert(sizeof(SockFilter) == 8);
static_assert(sizeof(SockFprog) == 16);
static_assert(sizeof(CapData) == 12);

// --- clone flags ----------------------------------------------------------
constexpr uint64_t kCloneVm = 0x00000100;
constexpr uint64_t kCloneFs = 0x00000200;
constexpr uint64_t kCloneFiles = 0x00000400;
constexpr uint64_t kCloneSighand = 0x00000800;
constexpr uint64_t kClonePidfd = 0x00001000;
constexpr uint64_t kCloneVfork = 0x00004000;
constexpr uint64_t kCloneParent = 0x00008000;
constexpr uint64_t kCloneThread = 0x00010000;
constexpr uint64_t kCloneNewtime = 0x00000080;
constexpr uint64_t kCloneNewns = 0x00020000;
constexpr uint64_t kCloneNewcgroup = 0x02000000;
constexpr uint64_t kCloneNewuts = 0x04000000;
constexpr uint64_t kCloneNewipc = 0x08000000;
constexpr uint64_t kCloneNewuser = 0x10000000;
constexpr uint64_t kCloneNewpid = 0x20000000;
constexpr uint64_t kCloneNewnet = 0x40000000;
constexpr uint64_t kCloneClearSighand = 1ULL << 32;
constexpr uint64_t kCloneIntoCgroup = 1ULL << 33;

// --- struct clone_args (every field __aligned_u64) ------------------------
struct CloneArgs {
  uint64_t flags;
  uint64_t pidfd;
  uint64_t child_tid;
  uint64_t parent_tid;
  uint64_t exit_signal;
  uint64_t stack;
  uint64_t stack_size;
  uint64_t tls;
  uint64_t set_tid;
  uint64_t set_tid_size;
  uint64_t cgroup;
};
constexpr size_t kCloneArgsSizeVer0 = 64;
constexpr size_t kCloneArgsSizeVer1 = 80;
constexpr size_t kCloneArgsSizeVer2 = 88;
static_assert(sizeof(CloneArgs) == kCloneArgsSizeVer2);
static_assert(offsetof(CloneArgs, set_tid) == kCloneArgsSizeVer0);
static_assert(offsetof(CloneArgs, cgroup) == kCloneArgsSizeVer1);

// --- pidfd ----------------------------------------------------------------
constexpr unsigned kPidfdNonblock = 04000;  // O_NONBLOCK
constexpr unsigned kPidfdThread = 0200;     // O_EXCL
constexpr int kPidfsIoctlMagic = 0xFF;
constexpr unsigned long kPidfdGetCgroupNamespace = _IO(kPidfsIoctlMagic, 1);
constexpr unsigned long kPidfdGetIpcNamespace = _IO(kPidfsIoctlMagic, 2);
constexpr unsigned long kPidfdGetMntNamespace = _IO(kPidfsIoctlMagic, 3);
constexpr unsigned long kPidfdGetNetNamespace = _IO(kPidfsIoctlMagic, 4);
constexpr unsigned long kPidfdGetPidNamespace = _IO(kPidfsIoctlMagic, 5);
constexpr unsigned long kPidfdGetPidForChildrenNamespace = _IO(kPidfsIoctlMagic, 6);
constexpr unsigned long kPidfdGetTimeNamespace = _IO(kPidfsIoctlMagic, 7);
constexpr unsigned long kPidfdGetTimeForChildrenNamespace = _IO(kPidfsIoctlMagic, 8);
constexpr unsigned long kPidfdGetUserNamespace = _IO(kPidfsIoctlMagic, 9);
constexpr unsigned long kPidfdGetUtsNamespace = _IO(kPidfsIoctlMagic, 10);
static_assert(kPidfdGetCgroupNamespace == 0xff01);
static_assert(kPidfdGetUtsNamespace == 0xff0a);

// struct pidfd_info, VER0 layout (64 bytes, 6.13). Later fields (coredump
// at 64..71, supported_mask at 72 or 80) moved between releases: we only
// ask for the first 64 bytes and trust the returned mask.
struct PidfdInfo {
  uint64_t mask;
  uint64_t cgroupid;
  uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
  int32_t exit_code;
};
constexpr size_t kPidfdInfoSizeVer0 = 64;
static_assert(sizeof(PidfdInfo) == kPidfdInfoSizeVer0);
static_assert(offsetof(PidfdInfo, pid) == 16);
static_assert(offsetof(PidfdInfo, exit_code) == 60);
constexpr unsigned long kPidfdGetInfo = _IOWR(kPidfsIoctlMagic, 11, PidfdInfo);
static_assert(kPidfdGetInfo == 0xc040ff0b);
constexpr uint64_t kPidfdInfoPid = 1 << 0;
constexpr uint64_t kPidfdInfoCreds = 1 << 1;
constexpr uint64_t kPidfdInfoCgroupid = 1 << 2;
constexpr uint64_t kPidfdInfoExit = 1 << 3;

constexpr unsigned long kPidfsMagic = 0x50494446;

// --- nsfs -----------------------------------------------------------------
constexpr int kNsio = 0xb7;
constexpr unsigned long kNsGetUserns = _IO(kNsio, 0x1);
constexpr unsigned long kNsGetParent = _IO(kNsio, 0x2);
constexpr unsigned long kNsGetNstype = _IO(kNsio, 0x3);
constexpr unsigned long kNsGetOwnerUid = _IO(kNsio, 0x4);
constexpr unsigned long kNsGetMntnsId = _IOR(kNsio, 0x5, uint64_t);
constexpr unsigned long kNsGetPidFromPidns = _IOR(kNsio, 0x6, int);
constexpr unsigned long kNsGetTgidFromPidns = _IOR(kNsio, 0x7, int);
constexpr unsigned long kNsGetPidInPidns = _IOR(kNsio, 0x8, int);
constexpr unsigned long kNsGetTgidInPidns = _IOR(kNsio, 0x9, int);
constexpr unsigned long kNsGetId = _IOR(kNsio, 13, uint64_t);
static_assert(kNsGetUserns == 0xb701);
static_assert(kNsGetOwnerUid == 0xb704);
static_assert(kNsGetMntnsId == 0x8008b705);
static_assert(kNsGetPidFromPidns == 0x8004b706);
static_assert(kNsGetTgidInPidns == 0x8004b709);
static_assert(kNsGetId == 0x8008b70d);
constexpr unsigned long kNsfsMagic = 0x6e736673;

// nsfs file handles (6.18): struct nsfs_file_handle, handle type FILEID_NSFS.
struct NsfsFileHandle {
  uint64_t ns_id;
  uint32_t ns_type;
  uint32_t ns_inum;
};
static_assert(sizeof(NsfsFileHandle) == 16);
constexpr int kFileidNsfs = 0xf1;
constexpr int kFdNsfsRoot = -10003;

// listns (6.19)
struct NsIdReq {
  uint32_t size;
  uint32_t spare;
  uint64_t ns_id;
  uint32_t ns_type;
  uint32_t spare2;
  uint64_t user_ns_id;
};
static_assert(sizeof(NsIdReq) == 32);

// --- openat2 / new mount API ---------------------------------------------
struct OpenHow {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
static_assert(sizeof(OpenHow) == 24);
constexpr uint64_t kResolveNoXdev = 0x01;
constexpr uint64_t kResolveNoMagiclinks = 0x02;
constexpr uint64_t kResolveNoSymlinks = 0x04;
constexpr uint64_t kResolveBeneath = 0x08;
constexpr uint64_t kResolveInRoot = 0x10;

constexpr unsigned kCloseRangeCloexec = 1U << 2;

constexpr unsigned kOpenTreeClone = 1;
constexpr unsigned kOpenTreeCloexec = 02000000;  // O_CLOEXEC
constexpr unsigned kMoveMountFEmptyPath = 0x00000004;
constexpr unsigned kFsopenCloexec = 0x00000001;
constexpr unsigned kFsmountCloexec = 0x00000001;
constexpr unsigned kFsconfigSetFlag = 0;
constexpr unsigned kFsconfigSetString = 1;
constexpr unsigned kFsconfigCmdCreate = 6;
constexpr unsigned kMoveMountTEmptyPath = 0x00000040;

// memfd_create MFD_EXEC (6.3): executable even under vm.memfd_noexec=1
constexpr unsigned kMfdExec = 0x0010;

// --- lo up (SIOCGIFFLAGS / SIOCSIFFLAGS on struct ifreq) -----------------
constexpr unsigned long kSiocgifflags = 0x8913;
constexpr unsigned long kSiocsifflags = 0x8914;
constexpr short kIffUp = 0x1;
static_assert(SIOCGIFFLAGS == kSiocgifflags);  // <sys/ioctl.h>
static_assert(SIOCSIFFLAGS == kSiocsifflags);
constexpr unsigned kAtRecursive = 0x8000;
constexpr unsigned kAtEmptyPath = 0x1000;
constexpr uint64_t kMountAttrRdonly = 0x1;
// MOUNT_ATTR_IDMAP (5.12): mount_setattr's userns_fd maps the mount's ids
constexpr uint64_t kMountAttrIdmap = 0x00100000;
// struct mount_attr (mount_setattr, 5.12)
struct MountAttr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};
static_assert(sizeof(MountAttr) == 32);

// ioctl to get the netns of a socket
constexpr unsigned long kSiocgskns = 0x894C;

}  // namespace nsfd
