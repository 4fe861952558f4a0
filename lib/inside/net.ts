// The target's network namespace over rtnetlink: loopbackUp.
import * as fs from 'node:fs';

import { E, NsError } from '../core/errors';
import { IFF_UP, LOOPBACK_IFINDEX, NLMSG_ERROR, NLM_F_ACK, NLM_F_REQUEST, RTM_NEWLINK } from '../sys/constants';
import { socketIn } from './socket';
import { InTarget } from './target';

/**
 * Sets the loopback interface (ifindex 1) of the target's network namespace
 * up, with RTM_NEWLINK over a netlink socket made in that namespace by
 * socketIn. The permission check is made against the socket's opener (the
 * helper, for a rootless target), so this works without privileges over the
 * host: a fresh network namespace has lo down.
 */
export function loopbackUp(target: InTarget): void {
  using s = socketIn(target, { family: 'netlink', type: 'raw', protocol: 'route' });
  // struct nlmsghdr (16 bytes) + struct ifinfomsg (16 bytes)
  const req = Buffer.alloc(32);
  req.writeUInt32LE(32, 0); // nlmsg_len
  req.writeUInt16LE(RTM_NEWLINK, 4); // nlmsg_type
  req.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK, 6); // nlmsg_flags
  req.writeUInt32LE(1, 8); // nlmsg_seq
  req.writeInt32LE(LOOPBACK_IFINDEX, 20); // ifi_index
  req.writeUInt32LE(IFF_UP, 24); // ifi_flags
  req.writeUInt32LE(IFF_UP, 28); // ifi_change
  fs.writeSync(s.fd, req);
  const ack = Buffer.alloc(1024);
  const n = fs.readSync(s.fd, ack, 0, ack.length, null);
  // The ack: an NLMSG_ERROR whose error field (after the header) is 0 or -errno.
  if (n < 20 || ack.readUInt16LE(4) !== NLMSG_ERROR) throw new NsError(-E.EPROTO, 'netlink', { hint: 'unexpected reply to RTM_NEWLINK' });
  const err = ack.readInt32LE(16);
  if (err < 0) throw new NsError(err, 'netlink(RTM_NEWLINK)', { hint: err === -E.EPERM ? 'needs CAP_NET_ADMIN in the namespace' : 'could not set lo up' });
}
