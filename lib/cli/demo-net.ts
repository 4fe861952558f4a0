// The demo's network step: two namespaces held by no process, joined by a
// veth pair over rtnetlink, a TCP server listening in one through socketIn
// and a client connecting from the other. Everything goes on close().
import * as net from 'node:net';

import { api } from './api';
import { messageOf } from './output';

export interface Say {
  title(t: string): void;
  say(t: string): void;
  skip(why: string): void;
}

export async function stepNetwork(n: Say): Promise<void> {
  n.title('A network: two namespaces, a veth pair, TCP across it (Namespace.create, Rtnetlink, socketIn)');
  const { Network, socketIn } = api();
  let netw: Awaited<ReturnType<typeof Network.create>> | undefined;
  try {
    netw = await Network.create({ persist: false });
    const a = await netw.node('a');
    const b = await netw.node('b');
    n.say(`Namespace.create(['net']) x2: net:[${a.ns.inode}] and net:[${b.ns.inode}], no process in either, lo up over rtnetlink`);
    const [ea, eb] = await netw.link(a, b, { subnet: '10.77.0.0/30' });
    n.say(`veth pair ${ea.dev} (${ea.cidr}) <-> ${eb.dev} (${eb.cidr}): one RTM_NEWLINK with the peer's IFLA_NET_NS_FD, then addresses and up`);
    const lfd = socketIn(a.ns, { family: 'inet', type: 'stream', bind: { address: ea.address, port: 0 } });
    const server = net.createServer((c) => c.on('data', (d) => c.end(`hello from a, you said ${d.toString()}`)));
    await new Promise<void>((r) => server.listen({ fd: lfd.release() }, r));
    const port = (server.address() as net.AddressInfo).port;
    n.say(`server: socketIn(a, bind ${ea.address}:${port}) -> net.createServer().listen({ fd })`);
    try {
      const sock = new net.Socket({ fd: socketIn(b.ns, { family: 'inet', type: 'stream' }).release() });
      const reply = await new Promise<string>((resolve, reject) => {
        let got = '';
        sock.on('error', reject);
        sock.on('data', (d) => (got += d.toString()));
        sock.on('end', () => resolve(got));
        sock.connect(port, ea.address, () => sock.write(`hi from ${eb.address}`));
      });
      n.say(`client in b: socketIn(b) -> connect ${ea.address}:${port}: "${reply}"`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  } catch (err) {
    n.skip(messageOf(err));
  } finally {
    await netw?.close();
  }
  n.say('network closed: both namespaces (and the veth pair with them) gone');
}
