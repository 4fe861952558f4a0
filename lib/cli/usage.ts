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
  unshare     run a command in new namespaces (like unshare)
  translate   translate a pid between pid namespaces
  features    what this kernel supports
  demo        a guided tour: sandbox, attach, spawn, socket, file, list
  netns       named network namespaces, as ip netns keeps them
  run         run a command in a new container (pivot_root into a rootfs),
              or an OCI bundle (--bundle DIR)
  state       the state of a detached bundle container (runtime-spec JSON)
  kill        send a signal to a detached bundle container
  delete      remove a stopped detached bundle container

Run 'nsfd <command> --help' for a command's options.`,
  ls: `Usage: nsfd ls [options] [NAMESPACE]

List namespaces, as lsns does (its options, columns and JSON keys), plus
those held only by an open fd, a socket or a bind mount. NAMESPACE (an
inode number) lists the processes in it.

Options:
  -J, --json            JSON output (lsns's keys, then nsfd's: inode, id,
                        pids, holders, sockets, persisted, sources, ...)
  -l, --list            list format (the default)
  -n, --noheadings      no header line
  -o, --output LIST     columns (+LIST adds to the default)
      --output-all      all columns
  -p, --task PID        the namespaces of process PID
  -r, --raw             raw output (one space between columns)
  -t, --type TYPE       only TYPE (${NS_TYPES.join(', ')}); repeatable
  -T, --tree[=REL]      tree by owner (default) or parent
  -u, --notruncate      do not cut lines at the terminal width
  -W, --nowrap          (accepted; cells never wrap)
  -h, --help            this help

Columns: NS TYPE PATH NPROCS PID PPID COMMAND UID USER NETNSID (not
known: always empty) NSFS PNS ONS (also PARENT, OWNER), and nsfd's NSID
(64-bit id, Linux 6.18+) and HELD (proc, thread, fd, socket, mount, owner).`,
  exec: `Usage: nsfd exec [options] [--] [CMD [ARG...]]

Run CMD (default: $SHELL) in other namespaces, as nsenter does: those of
process PID joined through a pidfd with one atomic setns, or namespaces
named by a file. The exit code is CMD's (128+N if killed by signal N).

Options:
  -t, --target PID[:INODE]   the process whose namespaces to join (INODE:
                             its pidfs inode, refused if it differs)
  -a, --all                  all of its namespaces (ours are skipped)
  -m, --mount[=FILE]  -u, --uts[=FILE]  -i, --ipc[=FILE]  -n, --net[=FILE]
  -p, --pid[=FILE]    -C, --cgroup[=FILE]  -U, --user[=FILE]  -T, --time[=FILE]
                             that namespace of PID, or the one FILE names
                             (/run/netns/x, /proc/N/ns/net); short: -nFILE
  -N, --net-socket FD        the network namespace of socket FD
  -r, --root[=DIR]           root directory: the target's, or DIR
  -w, --wd[=DIR]             working directory: the target's, or DIR
  -W, --wdns DIR             working directory in the joined mount namespace
  -S, --setuid UID|NAME|follow   -G, --setgid GID|NAME|follow
      --preserve-credentials     keep our uid/gid in a joined user namespace
                                 (else uid/gid 0 there, as nsenter)
  -e, --env                  the target's environment
  -c, --join-cgroup          into the target's cgroup
  -F, --no-fork              accepted: CMD is always nsfd's child
  -h, --help                 this help`,
  unshare: `Usage: nsfd unshare [options] [--] [CMD [ARG...]]

Run CMD (default: $SHELL) in new namespaces, as unshare does; CMD is a
clone3 child born in them (pid 1 of a new pid namespace, as with -f).

Options:
  -m, --mount[=FILE]  -u, --uts[=FILE]  -i, --ipc[=FILE]  -n, --net[=FILE]
  -p, --pid           -U, --user[=FILE]  -C, --cgroup[=FILE]  -T, --time[=FILE]
                      a new namespace of that type; FILE: bind it there
  -f, --fork                 accepted (always so)
      --kill-child[=SIGKILL] kill CMD when nsfd dies
      --mount-proc           mount a fresh /proc (implies -m)
  -r, --map-root-user        map our uid/gid to 0 (implies -U)
  -c, --map-current-user     map our uid/gid to themselves (implies -U)
      --map-user=UID|NAME    --map-group=GID|NAME
      --map-users=IN:OUT:N   --map-groups=IN:OUT:N
      --propagation private|unchanged   (private, the default with -m,
                             remounts /proc: the library makes / private
                             only when it mounts /proc)
      --setgroups allow|deny
  -S, --setuid UID    -G, --setgid GID
  -R, --root DIR      -w, --wd DIR
  -h, --help                 this help`,
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
  netns: `Usage: nsfd netns add NAME | list [--json] | delete NAME...

Named network namespaces under /run/netns, as 'ip netns' keeps them (each
listed, usable and deletable by either tool). add makes one held by no
process (bind-mounted; /run/netns is made a shared mount point first).

Options:
  -J, --json         (list) JSON output
  -h, --help         this help`,
  run: `Usage: nsfd run --rootfs DIR [options] -- CMD [ARG...]
       nsfd run --bundle DIR [--id ID [--detach] [--root STATE]]

Run CMD in a new container: new mount, uts, ipc, pid, net and cgroup
namespaces and a user namespace (as root: 65536 host ids of its own, DIR
shown through an idmapped mount when root owns it), DIR as its root by pivot_root, /proc
(with runc's masked and read-only paths), a minimal /dev, /sys read-only,
nsfd-init as pid 1 forwarding signals. The exit status is CMD's (128+N when
signal N ended it).

Options:
  --rootfs DIR         the root filesystem (a directory)
  --hostname NAME      the container's hostname
  --bind SRC:DST[:OPTS]
                       bind-mount host path SRC on DST inside (repeatable);
                       OPTS: ro, idmap (SRC with the container's id maps),
                       comma-separated
  --ro                 the root filesystem read-only
  --no-userns          as root: no user namespace (root inside is root outside)
  -b, --bundle DIR     run the OCI bundle in DIR (its config.json, as 'runc
                       spec' writes it, with process.terminal false); a
                       field nsfd does not implement is an error naming it
  --id ID              the container's id (names its cgroup)
  -d, --detach         (with --bundle and --id) return once the container
                       runs; it is not killed when nsfd exits: see nsfd
                       state, kill and delete
  --root DIR           where detached containers' states are kept
                       (default /run/nsfd/containers)
  -h, --help           this help`,
  state: `Usage: nsfd state [--root DIR] ID

The state of a container started by 'nsfd run --bundle DIR --detach --id ID',
as the OCI runtime spec's state JSON (status "running" or "stopped"). Its
init is found by pid and start time through a pidfd: never a recycled pid.`,
  kill: `Usage: nsfd kill [--root DIR] ID [SIGNAL]

Send SIGNAL (default SIGTERM; a name or a number) to the init of a detached
bundle container (nsfd-init passes it on to the bundle's process), through
a pidfd checked against the start time recorded at run.`,
  delete: `Usage: nsfd delete [--root DIR] [-f|--force] ID

Remove a stopped detached bundle container: its state and its own cgroup.
With --force, a running one is killed first (SIGKILL to its init, pid 1 of
its pid namespace; cgroup.kill for a cgroup of its own).`,
} as const;

export type UsageName = keyof typeof USAGE;
