// The help texts: `nsfd --help`, `nsfd COMMAND --help`, and the usage
// printed after a usage error.
import { NS_TYPES } from './args';

export const USAGE = {
  main: `Usage: nsfd <command> [options]

Linux processes and namespaces through file descriptors.

Commands:
  ls          list namespaces (like lsns, plus those held only by an fd,
              a socket or a bind mount)
  exec        run a command in the namespaces of a process (like nsenter)
  translate   translate a pid between pid namespaces
  features    what this kernel supports
  demo        a guided tour: sandbox, attach, spawn, socket, file, list
  run         run a command in a new container (pivot_root into a rootfs)

Run 'nsfd <command> --help' for a command's options.`,
  ls: `Usage: nsfd ls [options]

List namespaces: those of every process and thread, those held only by an
open fd, by a socket or by a bind mount, and their owners and parents.

Options:
  -t, --type TYPE    only namespaces of TYPE (${NS_TYPES.join(', ')})
  -J, --json         JSON output ({"namespaces": [...]}; ids as strings)
  -T, --tree         user namespaces with what they own, and pid
                     namespaces by parent, as trees
  -n, --noheadings   no header line
  -h, --help         this help

Columns: NS (inode), TYPE, NPROCS, PID (lowest; else a holder), USER,
NSID (64-bit id, Linux 6.18+), HELD (proc, thread, fd, socket, mount,
owner), PATH (bind mounts), COMMAND.`,
  exec: `Usage: nsfd exec -t PID [options] [--] [CMD [ARG...]]

Run CMD (default: $SHELL) in namespaces of process PID, joined through a
pidfd with one atomic setns. The exit code is CMD's (128+N if killed by
signal N).

Options:
  -t, --target PID   the process whose namespaces to join (required)
  -a, --all          all of its namespaces (those we already share are skipped)
  -m, --mount        mount namespace      -u, --uts      UTS namespace
  -i, --ipc          IPC namespace        -n, --net      network namespace
  -p, --pid          pid namespace        -C, --cgroup   cgroup namespace
  -U, --user         user namespace       -T, --time     time namespace
  -r, --root         run in the target's root directory
  -w, --wd DIR       working directory (in the target's file system view)
  -S, --uid UID      run as UID          -G, --gid GID   run as GID
  -h, --help         this help`,
  translate: `Usage: nsfd translate PID [--from PID|PATH] [--to PID|PATH] [--tgid]

Print PID, given as seen in one pid namespace, as seen in another. A
namespace is named by a process in it (a pid) or a path (/proc/N/ns/pid or
a bind mount of one). Both default to ours.

Options:
  --from PID|PATH    pid namespace PID is given in
  --to PID|PATH      pid namespace to express it in
  --tgid             the thread-group id (process) rather than the thread
  -h, --help         this help`,
  features: `Usage: nsfd features [--json]

What this kernel supports, each with the release that brought it.

Options:
  -J, --json         JSON output
  -h, --help         this help`,
  demo: `Usage: nsfd demo

Makes a sandbox process in new namespaces, attaches to it, spawns
commands into it, opens a socket and a file in it, lists its namespaces,
cleans up, and prints each step. Needs root (or unprivileged user
namespaces).

Options:
  -h, --help         this help`,
  run: `Usage: nsfd run --rootfs DIR [options] -- CMD [ARG...]

Run CMD in a new container: new mount, uts, ipc, pid, net and cgroup
namespaces (and user, unprivileged), DIR as its root by pivot_root, /proc
(with runc's masked and read-only paths), a minimal /dev, /sys read-only,
nsfd-init as pid 1 forwarding signals. The exit status is CMD's (128+N when
signal N ended it).

Options:
  --rootfs DIR         the root filesystem (a directory)
  --hostname NAME      the container's hostname
  --bind SRC:DST[:ro]  bind-mount host path SRC on DST inside (repeatable)
  --ro                 the root filesystem read-only
  -h, --help           this help`,
} as const;

export type UsageName = keyof typeof USAGE;
