// The target's uts namespace: host and domain name (used by Container).
import { invalidValue } from '../core/errors';
import { UTS_NAME_MAX } from '../sys/constants';
import { throwRaw } from './failure';
import { InTarget, pidOf } from './target';
import { runInThreadNs } from './vehicle';
import { opCall } from './wire';

/** sethostname (and optionally setdomainname) in the target's uts namespace. */
export function setHostnameIn(target: InTarget, hostname: string, domainname?: string): void {
  if (typeof hostname !== 'string' || hostname.length === 0 || Buffer.byteLength(hostname) > UTS_NAME_MAX) {
    throw invalidValue('hostname', `must be a string of 1 to ${UTS_NAME_MAX} bytes`, hostname);
  }
  const r = runInThreadNs(target, 'uts', opCall('sethostname', {}, { name: hostname }), 'sethostname');
  if (r[0] < 0) throwRaw(r, { pid: pidOf(target) });
  if (domainname !== undefined) {
    if (typeof domainname !== 'string' || Buffer.byteLength(domainname) > UTS_NAME_MAX) {
      throw invalidValue('domainname', `must be a string of at most ${UTS_NAME_MAX} bytes`, domainname);
    }
    const d = runInThreadNs(target, 'uts', opCall('setdomainname', {}, { name: domainname }), 'setdomainname');
    if (d[0] < 0) throwRaw(d, { pid: pidOf(target) });
  }
}
