// The kernel's numbers, in one place: the only module with O_*, AT_*, magic
// and ioctl numbers (native/uapi.h is the C++ side's copy, checked there).
// Values from the uapi headers; see KERNEL-FACTS.md.

// fcntl.h / openat
export const AT_FDCWD = -100;
export const AT_RECURSIVE = 0x8000;
export const O_RDONLY = 0;
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

// rtnetlink: RTM_NEWLINK on lo
export const NLMSG_ERROR = 2;
export const RTM_NEWLINK = 16;
export const NLM_F_REQUEST = 0x1;
export const NLM_F_ACK = 0x4;
export const IFF_UP = 0x1;
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

// Container rootfs set-up (native/spawn_wire.h FsOpKind / FsOpFlag: nsfd's
// own wire numbers, kept with the kernel's so the layout rule holds)
export const S_IFCHR = 0o020000;
export const FS_OP_MOUNT = 1;
export const FS_OP_BIND = 2;
export const FS_OP_MASK = 3;
export const FS_OP_MKNOD = 4;
export const FS_OP_SYMLINK = 5;
export const FS_OP_ROOT_RO = 6;
export const FS_RECURSIVE = 1;
export const FS_OPTIONAL = 2;
export const FS_SRC_IN_ROOT = 4;
export const FS_FILE = 8;
