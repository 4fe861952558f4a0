// The kernel's numbers, in one place: the only module with O_*, AT_*, magic
// and ioctl numbers (native/uapi.h is the C++ side's copy, checked there).
// Values from the uapi headers; see KERNEL-FACTS.md.

// fcntl.h / openat
export const AT_FDCWD = -100;
export const AT_RECURSIVE = 0x8000;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_NOCTTY = 0o400;
export const O_NONBLOCK = 0o4000;
// O_DIRECTORY is one of the open flags whose number depends on the
// architecture: x86 has its own, arm64 takes asm-generic's. (x86's 0o200000
// is O_DIRECT on arm64: opening a cgroup directory with it fails EINVAL.)
export const O_DIRECTORY_X86_64 = 0o200000;
export const O_DIRECTORY_AARCH64 = 0o40000;
export const O_DIRECTORY = process.arch === 'arm64' ? O_DIRECTORY_AARCH64 : O_DIRECTORY_X86_64;
export const O_PATH = 0o10000000;
export const O_CREAT = 0o100;
// O_NOFOLLOW differs as O_DIRECTORY does (x86's 0o400000, asm-generic's 0o100000).
export const O_NOFOLLOW = process.arch === 'arm64' ? 0o100000 : 0o400000;
// flock(2)
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
export const O_TMPFILE = 0o20000000 | O_DIRECTORY;

// openat2 RESOLVE_*
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_IN_ROOT = 0x10;

// openat2 RESOLVE_NO_XDEV: no mount crossing (an over-mount is not followed)
export const RESOLVE_NO_XDEV = 0x01;

// the new mount API
export const FSCONFIG_CMD_CREATE = 6;
export const MOUNT_ATTR_NOSUID = 0x00000002;
export const MOUNT_ATTR_NODEV = 0x00000004;
export const MOUNT_ATTR_NOEXEC = 0x00000008;

// open_tree, move_mount, umount2
export const OPEN_TREE_CLONE = 1;
export const MOVE_MOUNT_F_EMPTY_PATH = 0x00000004;
/** mount_setattr propagation (MS_SHARED): /run/netns is made shared as iproute2 does */
export const MS_SHARED = 1 << 20;
export const MNT_DETACH = 2;

// socket
export const SOCK_NONBLOCK = 0o4000;

// pidfd_open flags
export const PIDFD_NONBLOCK = 0o4000;
export const PIDFD_THREAD = 0o200;

// struct pidfd_info request/result mask bits (PIDFD_GET_INFO)
export const PIDFD_INFO_PID = 1n << 0n;
export const PIDFD_INFO_CREDS = 1n << 1n;
export const PIDFD_INFO_CGROUPID = 1n << 2n;
export const PIDFD_INFO_EXIT = 1n << 3n;

// waitid
export const WNOHANG = 1;
export const WEXITED = 4;
export const WNOWAIT = 0x01000000;
export const CLD_EXITED = 1;

// statfs f_type
export const NSFS_MAGIC = 0x6e736673;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const PIDFS_MAGIC = 0x50494446;
export const CGROUP2_SUPER_MAGIC = 0x63677270;

// name_to_handle_at handle type of nsfs (FILEID_NSFS)
export const FILEID_NSFS = 0xf1;

// CLONE_NEW* (sched.h): the namespace types' clone/unshare/setns flags
export const CLONE_NEWTIME = 0x00000080;
export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWCGROUP = 0x02000000;
export const CLONE_NEWUTS = 0x04000000;
export const CLONE_NEWIPC = 0x08000000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;
export const CLONE_NEWNET = 0x40000000;

// pidfd ioctls PIDFD_GET_<TYPE>_NAMESPACE: the nr of _IO(0xFF, nr) (6.11+)
export const PIDFD_GET_CGROUP_NAMESPACE = 1;
export const PIDFD_GET_IPC_NAMESPACE = 2;
export const PIDFD_GET_MNT_NAMESPACE = 3;
export const PIDFD_GET_NET_NAMESPACE = 4;
export const PIDFD_GET_PID_NAMESPACE = 5;
export const PIDFD_GET_TIME_NAMESPACE = 7;
export const PIDFD_GET_USER_NAMESPACE = 9;
export const PIDFD_GET_UTS_NAMESPACE = 10;

// nsfs ioctls: the nr of _IO(0xb7, nr) / _IOR(0xb7, nr, ...); the addon
// builds the full request number.
export const NS_GET_USERNS = 1;
export const NS_GET_PARENT = 2;
export const NS_GET_NSTYPE = 3;
export const NS_GET_PID_FROM_PIDNS = 6;
export const NS_GET_TGID_FROM_PIDNS = 7;
export const NS_GET_PID_IN_PIDNS = 8;
export const NS_GET_TGID_IN_PIDNS = 9;

// list: the *_for_children PIDFD_GET_*_NAMESPACE ioctl nrs (_IO(0xFF, nr));
// the per-type ones are PIDFD_NS_IOCTL in core/ns-types.ts.
export const PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE = 6;
export const PIDFD_GET_TIME_FOR_CHILDREN_NAMESPACE = 8;
// ---- inside (lib/inside/: sockets, netlink, mount attributes) -------------

// socket(2) address families, types and protocols
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_SCTP = 132;
export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
export const NETLINK_AUDIT = 9;
export const NETLINK_NETFILTER = 12;
export const NETLINK_KOBJECT_UEVENT = 15;
export const NETLINK_GENERIC = 16;

// struct sockaddr_un: sun_path is 108 bytes (a path needs its NUL too)
export const UNIX_PATH_MAX = 108;

// netlink / rtnetlink (linux/netlink.h, linux/rtnetlink.h, linux/if_link.h,
// linux/if_addr.h, linux/veth.h, linux/net_namespace.h): lib/inside/net.ts, lib/net/
export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_HDRLEN = 16;
export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_TYPE_MASK = 0x3fff;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP = 0x300;
/**
 * Modifiers of a NEW request, as the header groups them. A table, not loose
 * consts: 0x400 (1024) is too common a number for the layout test to tell apart.
 */
export const NLM_F_NEW = Object.freeze({ REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800 });
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWNSID = 88;
export const RTM_GETNSID = 90;
/** sizeof(struct ifinfomsg), struct ifaddrmsg, struct rtmsg, struct rtgenmsg (padded to 4) */
export const IFINFOMSG_LEN = 16;
export const IFADDRMSG_LEN = 8;
export const RTMSG_LEN = 12;
export const RTGENMSG_LEN = 4;
/** IFNAMSIZ: an interface name and its NUL */
export const IFNAMSIZ = 16;
export const IFF_UP = 0x1;
export const IFF_LOOPBACK = 0x8;
export const IFF_LOWER_UP = 0x10000;
export const IFLA_ADDRESS = 1;
export const IFLA_IFNAME = 3;
export const IFLA_MTU = 4;
export const IFLA_LINK = 5;
export const IFLA_MASTER = 10;
export const IFLA_OPERSTATE = 16;
export const IFLA_LINKINFO = 18;
export const IFLA_NET_NS_PID = 19;
export const IFLA_NET_NS_FD = 28;
export const IFLA_LINK_NETNSID = 37;
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;
export const VETH_INFO_PEER = 1;
export const IFLA_MACVLAN_MODE = 1;
export const MACVLAN_MODE_PRIVATE = 1;
export const MACVLAN_MODE_VEPA = 2;
export const MACVLAN_MODE_BRIDGE = 4;
export const MACVLAN_MODE_PASSTHRU = 8;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;
export const IFA_LABEL = 3;
export const IFA_BROADCAST = 4;
export const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;
export const IFA_F_PERMANENT = 0x80;
export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_PREFSRC = 7;
export const RTA_TABLE = 15;
export const RT_TABLE_MAIN = 254;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;
/** RTM_*NSID attributes; NSID_NOT_ASSIGNED (-1): no id, or "pick one" in RTM_NEWNSID (a table: -1 is everywhere). */
export const NETNSA = Object.freeze({ NSID: 1, PID: 2, FD: 3, NSID_NOT_ASSIGNED: -1 });
/** The loopback device is always ifindex 1 in a network namespace. */
export const LOOPBACK_IFINDEX = 1;

// mount_setattr / fsmount MOUNT_ATTR_*
export const MOUNT_ATTR_RDONLY = 0x1;
// (MOUNT_ATTR_NOSUID, NODEV and NOEXEC are with the new mount API above)
export const MOUNT_ATTR_NOATIME = 0x10;
export const MOUNT_ATTR_STRICTATIME = 0x20;
export const MOUNT_ATTR_NODIRATIME = 0x80;

// utsname fields (__NEW_UTS_LEN): host and domain names, without the NUL
export const UTS_NAME_MAX = 64;

// Capabilities (linux/capability.h), by their OCI names without "CAP_"
export const CAPABILITY_NUMBERS: Readonly<Record<string, number>> = {
  CHOWN: 0, DAC_OVERRIDE: 1, DAC_READ_SEARCH: 2, FOWNER: 3, FSETID: 4, KILL: 5, SETGID: 6, SETUID: 7,
  SETPCAP: 8, LINUX_IMMUTABLE: 9, NET_BIND_SERVICE: 10, NET_BROADCAST: 11, NET_ADMIN: 12, NET_RAW: 13,
  IPC_LOCK: 14, IPC_OWNER: 15, SYS_MODULE: 16, SYS_RAWIO: 17, SYS_CHROOT: 18, SYS_PTRACE: 19, SYS_PACCT: 20,
  SYS_ADMIN: 21, SYS_BOOT: 22, SYS_NICE: 23, SYS_RESOURCE: 24, SYS_TIME: 25, SYS_TTY_CONFIG: 26, MKNOD: 27,
  LEASE: 28, AUDIT_WRITE: 29, AUDIT_CONTROL: 30, SETFCAP: 31, MAC_OVERRIDE: 32, MAC_ADMIN: 33, SYSLOG: 34,
  WAKE_ALARM: 35, BLOCK_SUSPEND: 36, AUDIT_READ: 37, PERFMON: 38, BPF: 39, CHECKPOINT_RESTORE: 40,
};

// Resource limits (asm-generic/resource.h; x86_64 and aarch64 agree), by their names without "RLIMIT_"
export const RLIMIT_NUMBERS: Readonly<Record<string, number>> = {
  CPU: 0, FSIZE: 1, DATA: 2, STACK: 3, CORE: 4, RSS: 5, NPROC: 6, NOFILE: 7, MEMLOCK: 8, AS: 9,
  LOCKS: 10, SIGPENDING: 11, MSGQUEUE: 12, NICE: 13, RTPRIO: 14, RTTIME: 15,
};

// Classic BPF (linux/bpf_common.h, filter.h) as seccomp uses it
export const BPF_LD_W_ABS = 0x20; // BPF_LD | BPF_W | BPF_ABS
export const BPF_ALU_AND_K = 0x54; // BPF_ALU | BPF_AND | BPF_K
export const BPF_JMP_JA = 0x05;
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGT_K = 0x25;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_RET_K = 0x06;
/** BPF_MAXINSNS: the longest program the kernel takes. */
export const BPF_MAXINSNS = 4096;

// seccomp (linux/seccomp.h): struct seccomp_data offsets and filter return values
export const SECCOMP_DATA_NR = 0;
export const SECCOMP_DATA_ARCH = 4;
export const SECCOMP_DATA_ARGS = 16;
export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_KILL_THREAD = 0x00000000;
export const SECCOMP_RET_TRAP = 0x00030000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_TRACE = 0x7ff00000;
export const SECCOMP_RET_LOG = 0x7ffc0000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

// personality(2) values Docker's profile allows (linux/personality.h)
export const PER_LINUX = 0x0000;
export const PER_LINUX32 = 0x0008;
export const UNAME26 = 0x0020000;

// AUDIT_ARCH_* (linux/audit.h): seccomp_data.arch
export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;
/** x32 syscalls on x86_64 carry this bit in their number (__X32_SYSCALL_BIT). */
export const X32_SYSCALL_BIT = 0x40000000;

// capability bits (linux/capability.h), as in /proc/PID/status CapEff
export const CAP_SETGID = 6;
export const CAP_SYS_ADMIN = 21;

// Container rootfs set-up (native/spawn_wire.h FsOpKind / FsOpFlag: nsfd's
// own wire numbers, kept with the kernel's so the layout rule holds)
export const S_IFCHR = 0o020000;
export const FS_OP_MOUNT = 1;
export const FS_OP_BIND = 2;
export const FS_OP_MASK = 3;
export const FS_OP_SYMLINK = 5;
export const FS_OP_ROOT_ATTRS = 6;
export const FS_RECURSIVE = 1;
export const FS_OPTIONAL = 2;
export const FS_SRC_IN_ROOT = 4;
export const FS_FILE = 8;
/** A bind whose tree the parent makes and idmaps with the child's user namespace (spawn_wire.h kFsIdmap). */
export const FS_IDMAP = 16;
/** Trees the go can carry: the idmapped rootfs and the idmapped binds (spawn_wire.h kMaxTrees). */
export const FS_MAX_TREES = 64;
