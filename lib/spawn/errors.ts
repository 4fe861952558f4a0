// A native failure (a step of the child, or of the parent around clone3)
// as an NsError, with a hint saying what that step needed.
import { E, NsError, UnsupportedError, commonHint } from '../core/errors';
import { CLONE_FLAG, NsType } from '../core/ns-types';
import type { Prepared } from './plan';
import { opSource } from './rootfs';

/** What native spawn_clone3 returns for a failure. */
export interface NativeFailure {
  errno: number;
  step: string;
  syscall: string;
  detail: number;
}

const SETNS_TYPES = new Map<number, NsType>(Object.entries(CLONE_FLAG).map(([t, f]) => [f, t as NsType]));

function execHint(e: number, prep: Prepared, detail: number): { hint: string | undefined; path: string } {
  const searched = !prep.file.includes('/');
  const path = e === E.ENOENT && searched ? prep.file : (prep.spec.paths[detail] ?? prep.file);
  const hint =
    e === E.ENOENT
      ? searched
        ? `${prep.file} not found in PATH (searched inside the child's root and mount namespace)`
        : 'no such file (inside the child\'s root and mount namespace)'
      : e === E.EACCES
        ? 'permission denied: not executable, or a directory on the way is not searchable'
        : e === E.ENOEXEC
          ? 'not an executable format (a script without #!?)'
          : undefined;
  return { hint, path };
}

function setnsHint(e: number, detail: number): string | undefined {
  const t = SETNS_TYPES.get(detail);
  const what = t ? `the ${t} namespace` : 'the namespaces';
  return e === E.EPERM
    ? `joining ${what} needs CAP_SYS_ADMIN in the user namespace that owns it`
    : e === E.ESRCH
      ? 'the target process has exited'
      : e === E.EINVAL
        ? `cannot join ${what} (a pid namespace must be ours or a descendant)`
        : commonHint(e);
}

function cgroupHint(e: number): string {
  return e === E.EBUSY
    ? 'the cgroup has controllers in cgroup.subtree_control: processes may only live in leaf cgroups'
    : e === E.EOPNOTSUPP
      ? 'the cgroup is "domain invalid"'
      : e === E.EACCES
        ? 'no write access to the cgroup\'s cgroup.procs'
        : e === E.ENOENT
          ? 'the cgroup has been removed'
          : 'not a cgroup v2 directory';
}

function credHint(e: number, step: string): string | undefined {
  return e === E.EPERM
    ? `needs CAP_SET${step === 'setuid' ? 'UID' : 'GID'}${step === 'setgroups' ? ' and /proc/PID/setgroups "allow"' : ''}`
    : e === E.EINVAL
      ? 'the id is not mapped in the child\'s user namespace'
      : undefined;
}

/** Why the rootfs or a bind source could not be idmapped (the parent's open_tree + mount_setattr MOUNT_ATTR_IDMAP). */
function idmapHint(e: number, syscall: string, what: 'the rootfs' | 'the bind source'): string {
  const rootfs = what === 'the rootfs';
  if (syscall === 'mount_setattr' && e === E.EINVAL) {
    return `idmap: ${rootfs ? 'the rootfs\'s' : 'the bind source\'s'} filesystem does not support idmapped mounts (ext4, xfs, btrfs, overlayfs 5.19+ and tmpfs 6.3+ do; ramfs, nfs and others do not): put it on one that does, ${rootfs ? 'chown it into the container\'s id range, or use userns: false' : 'or leave out the idmap option'}`;
  }
  if (e === E.ENOSYS) return 'idmap: mount_setattr needs Linux 5.12';
  if (e === E.EPERM) return 'idmap: an idmapped mount needs CAP_SYS_ADMIN over the filesystem\'s user namespace';
  return `idmap: presenting ${what} with the container's id maps (${syscall})`;
}

export function spawnError(r: NativeFailure, prep: Prepared): NsError {
  const e = -r.errno;
  const { spec } = prep;
  let hint: string | undefined;
  let path: string | undefined;
  switch (r.step) {
    case 'execve':
      ({ hint, path } = execHint(e, prep, r.detail));
      break;
    case 'setns':
      hint = setnsHint(e, r.detail);
      break;
    case 'unshare':
    case 'clone3':
      if (r.syscall === 'clone3' && e === E.ENOSYS) return new UnsupportedError('clone3', '5.3', r.errno, 'clone3');
      hint = e === E.EPERM ? 'creating namespaces needs CAP_SYS_ADMIN; unprivileged, add "user" to unshare' : e === E.ENOSPC ? 'too many namespaces (/proc/sys/user/max_*_namespaces)' : undefined;
      break;
    case 'cgroup':
      path = prep.cgroupPath;
      hint = cgroupHint(e);
      break;
    case 'uid_map':
    case 'gid_map':
      hint =
        e === E.EPERM
          ? `${r.step}: without CAP_SET${r.step === 'uid_map' ? 'UID' : 'GID'} in our user namespace only one mapping of our own ${r.step === 'uid_map' ? 'uid' : 'gid (with setgroups "deny")'}, count 1, may be written`
          : `${r.step}: writing the new user namespace's map failed`;
      break;
    case 'dup':
      hint = e === E.EBADF ? `stdio[${r.detail}]: that fd is not open` : `placing stdio[${r.detail}]`;
      break;
    case 'chroot':
      path = spec.root;
      break;
    case 'root':
      hint = e === E.ENOTDIR ? 'options.root: not a directory fd' : e === E.EBADF ? 'options.root: that fd is not open' : undefined;
      break;
    case 'chdir':
      path = spec.cwd ?? '/';
      hint = e === E.ENOENT ? 'no such directory (inside the child\'s root and mount namespace)' : undefined;
      break;
    case 'setgroups':
    case 'setgid':
    case 'setuid':
      hint = credHint(e, r.step);
      break;
    case 'fs_op':
    case 'rootfs':
    case 'pivot_root':
      path = prep.rootfs?.path;
      hint = r.step === 'fs_op' ? `rootfs: ${prep.rootfs?.labels[r.detail] ?? `op ${r.detail}`}${e === E.ELOOP ? ' (a symlink in the destination: refused)' : ''}` : `rootfs: ${r.step}`;
      break;
    case 'idmap':
      // (detail: the idmapped bind's op, or -1 for the rootfs.)
      if (r.detail >= 0 && prep.rootfs !== undefined) {
        path = opSource(prep.rootfs, r.detail);
        hint = `${idmapHint(e, r.syscall, 'the bind source')} (rootfs: ${prep.rootfs.labels[r.detail] ?? `op ${r.detail}`})`;
      } else {
        path = prep.rootfs?.path;
        hint = idmapHint(e, r.syscall, 'the rootfs');
      }
      break;
    case 'hostname':
    case 'domainname':
    case 'loopback':
      hint = e === E.EPERM ? `${r.step}: needs a namespace of the child's own` : undefined;
      break;
    case 'mount_proc':
    case 'mount':
      hint = e === E.EPERM ? 'mounting proc needs CAP_SYS_ADMIN over the mount and pid namespaces' : undefined;
      break;
    case 'rlimit':
      hint = e === E.EPERM ? `resource ${r.detail}: raising a hard limit needs CAP_SYS_RESOURCE` : `resource ${r.detail}`;
      break;
    case 'cap_bounding':
      hint = e === E.EPERM ? `dropping capability ${r.detail} from the bounding set needs CAP_SETPCAP (unprivileged, add "user" to unshare)` : undefined;
      break;
    case 'capset':
      hint = e === E.EPERM ? 'the asked permitted/inheritable sets exceed what the process holds after its uid change' : undefined;
      break;
    case 'cap_ambient':
      hint = `capability ${r.detail}: an ambient capability must be permitted and inheritable`;
      break;
    case 'seccomp':
      hint = e === E.EACCES ? 'a seccomp filter needs noNewPrivileges or CAP_SYS_ADMIN' : e === E.EINVAL ? 'the kernel refused the filter program' : undefined;
      break;
    default:
      break;
  }
  if (r.step !== r.syscall && hint !== undefined && !hint.startsWith(r.step)) hint = `${r.step}: ${hint}`;
  else if (r.step !== r.syscall && hint === undefined) hint = `step ${r.step}`;
  return new NsError(r.errno, r.syscall, { step: r.step, hint, path });
}

/** A failure reading a join target's namespace links (native spawn_ns_links). */
export function targetError(r: number, pid: number, type?: NsType): NsError {
  const call = type ? `readlink(/proc/PID/ns/${type})` : 'pidfd_send_signal';
  return new NsError(r, call, {
    pid,
    hint:
      r === -E.ESRCH
        ? 'the target process has exited'
        : r === -E.EOPNOTSUPP
          ? `this kernel has no ${type} namespaces`
          : r === -E.EACCES
            ? 'no ptrace access to the target process (PTRACE_MODE_READ)'
            : commonHint(-r),
  });
}
