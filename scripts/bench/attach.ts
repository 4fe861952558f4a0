// Issue 3 benchmarks, measured in one run:
//  - attach + restore of net, uts, ipc, cgroup through a pidfd (one
//    setns(pidfd, flags)) vs the classic way: four /proc/PID/ns/* opens and
//    four setns calls, then four more to go back (Go netns, python-nsenter);
//  - translatePid vs reading NSpid from /proc/PID/status.
import * as fs from 'node:fs';
import { Pidfd, attach, translatePid } from '../../lib/index.js';
import { native } from '../../lib/sys/native.js';
import { AT_FDCWD } from '../../lib/sys/constants.js';
import { faster, fmt, readmeRow, startTarget, table, timeSync } from './_util.js';

const TYPES = { net: 0x40000000, uts: 0x04000000, ipc: 0x08000000, cgroup: 0x02000000 };

(async () => {
  const t = await startTarget();
  try {
    const pidfd = Pidfd.open(t.pid);
    const N = 20000;

    const viaPidfd = timeSync(() => {
      attach(pidfd).restore();
    }, N);

    const viaProc = timeSync(() => {
      const saved: any[] = [];
      for (const [type, flag] of Object.entries(TYPES)) {
        const cur = native.openat(AT_FDCWD, `/proc/thread-self/ns/${type}`, 0, 0);
        const fd = native.openat(AT_FDCWD, `/proc/${t.pid}/ns/${type}`, 0, 0);
        if (native.setns(fd, flag) < 0) throw new Error('setns');
        native.close(fd);
        saved.push([cur, flag]);
      }
      for (const [cur, flag] of saved as [number, number][]) {
        if (native.setns(cur, flag) < 0) throw new Error('setns back');
        native.close(cur);
      }
    }, N);

    table(`attach + restore of 4 namespaces (net, uts, ipc, cgroup), ${N} times`, [
      ['4 x /proc/PID/ns open + setns', viaProc],
      ['nsfd attach(pidfd) + restore', viaPidfd],
    ]);
    readmeRow({
      id: 'attach',
      what: 'attach + restore of net, uts, ipc, cgroup',
      nsfd: `${fmt(viaPidfd)} \`attach(pidfd)\` (one setns)`,
      peer: `${fmt(viaProc)}: 4 × \`/proc/PID/ns\` open + setns, then back`,
      ratio: `**${faster(viaPidfd, viaProc)}**`,
    });

    const M = 50000;
    const viaIoctl = timeSync(() => translatePid(1, { from: pidfd }), M);
    const viaNSpid = timeSync(() => {
      const text = fs.readFileSync(`/proc/${t.pid}/status`, 'latin1');
      const m = /^NSpid:\s*(.*)$/m.exec(text);
      return Number((m?.[1] ?? '').split(/\s+/)[0]);
    }, M);
    if (translatePid(1, { from: pidfd }) !== t.pid) throw new Error('translatePid disagrees with the target pid');
    table(`pid 1 of the target's pid namespace -> our pid, ${M} times`, [
      ['read NSpid from /proc/PID/status', viaNSpid],
      ['nsfd translatePid (NS_GET_PID_FROM_PIDNS)', viaIoctl],
    ]);
    readmeRow({
      id: 'translate',
      what: 'a container\'s pid 1 as our pid',
      nsfd: `${fmt(viaIoctl)} \`translatePid\``,
      peer: `${fmt(viaNSpid)}: read \`NSpid\` from \`/proc/PID/status\``,
      ratio: `**${faster(viaIoctl, viaNSpid)}**`,
    });
    pidfd.close();
  } finally {
    t.stop();
  }
})();
