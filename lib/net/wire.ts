// The netlink wire: messages (struct nlmsghdr + a fixed header + attributes)
// encoded and decoded in TS. Netlink is host-endian; Linux on x86_64 and
// aarch64 is little-endian.
import { NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN } from '../sys/constants';

export const align4 = (n: number): number => (n + 3) & ~3;

/** An attribute to encode: a payload, or nested attributes. */
export type Attr = [type: number, value: Buffer | readonly Attr[]];

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0);
  return b;
}

export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32LE(v);
  return b;
}

export function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}

/** A NUL-terminated string attribute payload. */
export function str(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

export function encodeAttrs(attrs: readonly Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attrs) {
    const nested = !Buffer.isBuffer(value);
    const payload = nested ? encodeAttrs(value as readonly Attr[]) : (value as Buffer);
    const head = Buffer.alloc(NLA_HDRLEN);
    head.writeUInt16LE(NLA_HDRLEN + payload.length, 0);
    head.writeUInt16LE(type | (nested ? NLA_F_NESTED : 0), 2);
    parts.push(head, payload, Buffer.alloc(align4(payload.length) - payload.length));
  }
  return Buffer.concat(parts);
}

/** Decoded attributes by type (NLA_F_NESTED and byte-order bits masked off); the last one wins. */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + NLA_HDRLEN <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + NLA_HDRLEN, off + len));
    off += align4(len);
  }
  return out;
}

export function encodeMessage(type: number, flags: number, seq: number, header: Buffer, attrs: readonly Attr[]): Buffer {
  const body = Buffer.concat([header, Buffer.alloc(align4(header.length) - header.length), encodeAttrs(attrs)]);
  const head = Buffer.alloc(NLMSG_HDRLEN);
  head.writeUInt32LE(NLMSG_HDRLEN + body.length, 0);
  head.writeUInt16LE(type, 4);
  head.writeUInt16LE(flags, 6);
  head.writeUInt32LE(seq, 8);
  head.writeUInt32LE(0, 12); // nlmsg_pid: the kernel fills in our port id
  return Buffer.concat([head, body]);
}

export interface Message {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** What follows the nlmsghdr. */
  body: Buffer;
}

/** The messages in one datagram (stops at a truncated one). */
export function decodeMessages(buf: Buffer): Message[] {
  const out: Message[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > buf.length) break;
    out.push({
      type: buf.readUInt16LE(off + 4),
      flags: buf.readUInt16LE(off + 6),
      seq: buf.readUInt32LE(off + 8),
      pid: buf.readUInt32LE(off + 12),
      body: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}
