// Working inside a target's namespaces without moving the caller: a socket
// in its network namespace, a file resolved under its root, a directory or
// a mount made there, its host name, its loopback up. Nothing here calls
// setns on a thread of Node's.
//
//   target.ts    an InTarget (Pidfd, Container, Namespace[s]) resolved into
//                fds; the target's root (procRootFd)
//   vehicle.ts   which vehicle runs an op: a thread in one namespace, the
//                helper child (user, mount, pid joins), or this thread
//   wire.ts      the addon's op ids, slots, steps and bits (native/inns.h)
//   failure.ts   a failed raw result as an NsError with a hint
//   socket.ts    socketIn, socketNamespace (sockaddr.ts: the bind address)
//   files.ts     openFlags, openIn, readFileIn, writeFileIn, mkdirIn
//   mount.ts     mountIn, makePrivateIn
//   uts.ts       setHostnameIn
//   net.ts       loopbackUp
export { HELPER_BECOME_ROOT, HELPER_INTO_PIDNS } from './wire';
export type { OpCall, Raw } from './wire';
export { procRootFd } from './target';
export type { InTarget, PidfdHolder } from './target';
export { RESOLVE, runInThreadNs, runUnderRoot } from './vehicle';
export { socketIn, socketNamespace } from './socket';
export type { SocketBind, SocketFamily, SocketInOptions, SocketType } from './socket';
export { mkdirIn, openFlags, openIn, readFileIn, writeFileIn } from './files';
export type { MkdirInOptions, OpenFlags, ReadFileInOptions, WriteFileInOptions } from './files';
export { MOUNT_ATTR, makePrivateIn, mountIn } from './mount';
export type { MountOptions } from './mount';
export { setHostnameIn } from './uts';
export { loopbackUp } from './net';
