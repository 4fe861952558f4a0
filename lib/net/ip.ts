// IP addresses and prefixes: text <-> bytes, checked (a bad one is a typed
// error before anything is sent).
import * as net from 'node:net';

import { invalidValue } from '../core/errors';
import { AF_INET, AF_INET6 } from '../sys/constants';

/** 'inet' (IPv4) or 'inet6' (IPv6). */
export type IpFamily = 'inet' | 'inet6';

export interface Prefix {
  family: IpFamily;
  address: string;
  bytes: Buffer;
  length: number;
}

export function familyNumber(f: IpFamily): number {
  return f === 'inet' ? AF_INET : AF_INET6;
}

export function familyName(n: number): IpFamily | undefined {
  return n === AF_INET ? 'inet' : n === AF_INET6 ? 'inet6' : undefined;
}

/** The bytes of an IPv4 or IPv6 address (throws ERR_INVALID_ARG_VALUE for anything else). */
export function ipBytes(address: string, name: string): { family: IpFamily; bytes: Buffer } {
  const v = typeof address === 'string' ? net.isIP(address) : 0;
  if (v === 4) return { family: 'inet', bytes: Buffer.from(address.split('.').map(Number)) };
  if (v === 6) return { family: 'inet6', bytes: ipv6Bytes(address) };
  throw invalidValue(name, 'is not an IPv4 or IPv6 address', address);
}

function ipv6Bytes(a: string): Buffer {
  // Drop a zone (fe80::1%eth0): the kernel wants the bare address.
  const s = a.split('%')[0] as string;
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, undefined];
  const words = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const w of part.split(':')) {
      if (w.includes('.')) {
        const b = w.split('.').map(Number) as [number, number, number, number];
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else out.push(parseInt(w, 16));
    }
    return out;
  };
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const b = Buffer.alloc(16);
  all.forEach((w, i) => b.writeUInt16BE(w, i * 2));
  return b;
}

/** "10.0.0.1/24" (or an address alone: /32, /128). */
export function parsePrefix(text: string, name: string, defaultLength?: number): Prefix {
  if (typeof text !== 'string') throw invalidValue(name, 'must be an address with an optional /prefix length', text);
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const { family, bytes } = ipBytes(addr, name);
  const max = family === 'inet' ? 32 : 128;
  let length = defaultLength ?? max;
  if (slash >= 0) {
    const l = text.slice(slash + 1);
    length = /^\d{1,3}$/.test(l) ? Number(l) : NaN;
  }
  if (!Number.isInteger(length) || length < 0 || length > max) throw invalidValue(name, `has a prefix length outside 0..${max}`, text);
  return { family, address: addr, bytes, length };
}

export function ipText(family: IpFamily, b: Buffer): string {
  if (family === 'inet') return [...b.subarray(0, 4)].join('.');
  const w: string[] = [];
  for (let i = 0; i < 16; i += 2) w.push(b.readUInt16BE(i).toString(16));
  // Compress the longest run of zero words, as inet_ntop does.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return w.join(':');
  // An IPv4-mapped (::ffff:a.b.c.d) or -compatible (::a.b.c.d) address ends
  // in dotted quad, as inet_ntop (and so ip) writes it.
  if (best === 0 && (bestLen === 6 || (bestLen === 5 && w[5] === 'ffff'))) {
    return `::${bestLen === 5 ? 'ffff:' : ''}${[...b.subarray(12, 16)].join('.')}`;
  }
  return `${w.slice(0, best).join(':')}::${w.slice(best + bestLen).join(':')}`;
}

/** The network (host bits cleared) of a prefix. */
export function networkOf(p: Prefix): Buffer {
  const b = Buffer.from(p.bytes);
  for (let i = 0; i < b.length; i++) {
    const keep = Math.max(0, Math.min(8, p.length - i * 8));
    b[i] = (b[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return b;
}

/** The n-th address of a prefix's network, as text (n counts from the network address). */
export function nthAddress(p: Prefix, n: number): string {
  const b = networkOf(p);
  let carry = n;
  for (let i = b.length - 1; i >= 0 && carry > 0; i--) {
    const v = (b[i] as number) + (carry & 0xff);
    b[i] = v & 0xff;
    carry = (carry >>> 8) + (v >> 8);
  }
  return ipText(p.family, b);
}
