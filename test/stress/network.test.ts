// Network leak soak, long (`npm run test:stress`): 1,000 create/link/teardown
// cycles keep fds, mounts and the host's link list flat (test/network.test.ts
// runs 200).
import * as fs from 'node:fs';

import { describe, expect, it } from 'vitest';

import { Network } from '../../lib/index';
import { fdCount, warmUp } from '../helpers';

const CYCLES = Number(process.env.NSFD_NET_CYCLES ?? 1000);
const mounts = (): number => fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').length;
const hostLinks = (): string => fs.readdirSync('/sys/class/net').sort().join(',');

describe('network soak (stress)', () => {
  it(`${CYCLES} create/link/teardown cycles: fds, mounts and host links flat`, async () => {
    await warmUp();
    await (await Network.create()).close();
    const fds = fdCount();
    const m = mounts();
    const links = hostLinks();
    for (let i = 0; i < CYCLES; i++) {
      await using netw = await Network.create();
      const a = await netw.node('a');
      const b = await netw.node('b');
      const c = await netw.node('c');
      await netw.link(a, b, { subnet: '10.220.0.0/30' });
      await netw.link(b, c, { subnet: 'fd00:220::/64' });
      if (i % 100 === 0) expect(fdCount()).toBeGreaterThan(fds);
    }
    expect(fdCount()).toBe(fds);
    expect(mounts()).toBe(m);
    expect(hostLinks()).toBe(links);
  }, 600000);
});
