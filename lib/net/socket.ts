// A NETLINK_ROUTE socket made in a target's network namespace by socketIn
// (the caller never moves), and its request/reply exchange. The socket is
// nonblocking and every write and read runs on libuv's thread pool, so the
// event loop never waits on the kernel (deleting a link can take tens of
// milliseconds). rtnetlink answers inside the sendmsg that carries the
// request, so a reply is queued by the time the write returns: a read that
// finds nothing (EAGAIN) is retried a bounded number of times, never waited on.
import * as fs from 'node:fs';

import { E, NsError, errnoName } from '../core/errors';
import type { OwnedFd } from '../core/owned-fd';
import { socketIn } from '../inside/socket';
import { sockaddr } from '../inside/sockaddr';
import { native } from '../sys/native';
import type { InTarget } from '../inside/target';
import { NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST } from '../sys/constants';
import { Attr, Message, decodeMessages, encodeMessage } from './wire';

// Above any dump chunk: the kernel sizes them to the reader's buffer, up to this.
const READ_SIZE = 64 * 1024;
const EAGAIN_RETRIES = 200;

function write(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function read(fd: number, buf: Buffer): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, null, (err, n) => (err ? reject(err) : resolve(n))));
}

function errnoOf(err: unknown): number {
  const e = err as NodeJS.ErrnoException;
  return typeof e?.errno === 'number' ? e.errno : -E.EIO;
}

/** What a request is, for errors: "RTM_NEWLINK veth0". */
export interface RequestName {
  op: string;
  subject?: string | undefined;
  /** Hints by errno name (EEXIST...). */
  hints?: Readonly<Record<string, string>>;
}

export function netlinkError(errno: number, what: RequestName): NsError {
  const code = errnoName(errno);
  const op = what.subject === undefined ? what.op : `${what.op} ${what.subject}`;
  const hint = what.hints?.[code] ?? (code === 'EPERM' ? 'needs CAP_NET_ADMIN over the network namespace' : undefined);
  // NsError appends the hint to the message.
  return new NsError(-Math.abs(errno), op, hint === undefined ? {} : { hint }, `${op}: ${code}`);
}

export class RtnlSocket {
  readonly #sock: OwnedFd;
  #seq = Math.floor(Math.random() * 0x7fffffff);
  #buf = Buffer.alloc(READ_SIZE);
  // One exchange at a time: replies are matched by sequence number, and a
  // dump must be read to its end before the next request.
  #queue: Promise<unknown> = Promise.resolve();

  constructor(target: InTarget) {
    const sock = socketIn(target, { family: 'netlink', type: 'raw', protocol: 'route', nonblock: true });
    // Connected to the kernel (nl_pid 0), the socket refuses unicasts from
    // any other netlink socket: the target's root cannot forge replies.
    const r = native.connect(sock.fd, sockaddr('netlink', { pid: 0, groups: 0 }));
    if (r < 0) {
      sock.close();
      throw new NsError(r, 'connect', { hint: 'could not connect the netlink socket to the kernel' });
    }
    this.#sock = sock;
  }

  get closed(): boolean {
    return this.#sock.closed;
  }

  close(): void {
    this.#sock.close();
  }

  /** Sends one request and resolves with its replies (a dump's messages, or none for an ACKed change). */
  request(type: number, flags: number, header: Buffer, attrs: readonly Attr[], what: RequestName): Promise<Message[]> {
    const run = this.#queue.then(() => this.#exchange(type, flags, header, attrs, what));
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * request(), on this thread: for a short-lived caller (the CLI) that
   * would rather block for the microseconds an answer takes than make a
   * pool round trip per request. Never for a change that can take long
   * (deleting a link): queries only; and not while request()s are pending
   * on this socket (their replies would be read here and dropped).
   */
  requestSync(type: number, flags: number, header: Buffer, attrs: readonly Attr[], what: RequestName): Message[] {
    const { fd, seq, msg } = this.#prepare(type, flags, header, attrs, what);
    try {
      fs.writeSync(fd, msg);
    } catch (err) {
      throw netlinkError(-errnoOf(err), what);
    }
    const out: Message[] = [];
    for (let tries = 0; ; ) {
      let n: number;
      try {
        n = fs.readSync(fd, this.#buf);
      } catch (err) {
        const errno = errnoOf(err);
        // (The answer is queued inside sendmsg: EAGAIN here is rare.)
        if (errno === -E.EAGAIN && tries++ < EAGAIN_RETRIES) continue;
        throw errno === -E.EAGAIN ? new NsError(-E.ETIMEDOUT, what.op, { hint: 'no reply from the kernel' }) : netlinkError(-errno, what);
      }
      tries = 0;
      if (this.#collect(n, seq, out, what)) return out;
    }
  }

  #prepare(type: number, flags: number, header: Buffer, attrs: readonly Attr[], what: RequestName): { fd: number; seq: number; msg: Buffer } {
    if (this.#sock.closed) throw new NsError(-E.EBADF, what.op, { hint: 'the netlink socket is closed' });
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    const dump = (flags & NLM_F_DUMP) === NLM_F_DUMP;
    return { fd: this.#sock.fd, seq, msg: encodeMessage(type, flags | NLM_F_REQUEST | (dump ? 0 : NLM_F_ACK), seq, header, attrs) };
  }

  /** Takes the `n` bytes read into #buf: true once the request's ACK or NLMSG_DONE came (its messages in `out`). */
  #collect(n: number, seq: number, out: Message[], what: RequestName): boolean {
    for (const m of decodeMessages(this.#buf.subarray(0, n))) {
      // Another request's late messages (one abandoned by an error) are skipped.
      if (m.seq !== seq) continue;
      if (m.type === NLMSG_ERROR) {
        const err = m.body.length >= 4 ? m.body.readInt32LE(0) : -E.EPROTO;
        if (err !== 0) throw netlinkError(-err, what);
        return true; // the ACK
      }
      if (m.type === NLMSG_DONE) {
        // A dump that failed part way says so in NLMSG_DONE's int.
        const err = m.body.length >= 4 ? m.body.readInt32LE(0) : 0;
        if (err < 0) throw netlinkError(-err, what);
        return true;
      }
      // Copied: the read buffer is reused.
      out.push({ ...m, body: Buffer.from(m.body) });
    }
    return false;
  }

  async #exchange(type: number, flags: number, header: Buffer, attrs: readonly Attr[], what: RequestName): Promise<Message[]> {
    const { fd, seq, msg } = this.#prepare(type, flags, header, attrs, what);
    try {
      await write(fd, msg);
    } catch (err) {
      // A request the kernel refuses outright (bad length...) fails in sendmsg.
      throw netlinkError(-errnoOf(err), what);
    }
    const out: Message[] = [];
    let tries = 0;
    for (;;) {
      let n: number;
      try {
        n = await read(fd, this.#buf);
      } catch (err) {
        const errno = errnoOf(err);
        if (errno === -E.EAGAIN && tries++ < EAGAIN_RETRIES) {
          await new Promise((r) => setImmediate(r));
          continue;
        }
        throw errno === -E.EAGAIN ? new NsError(-E.ETIMEDOUT, what.op, { hint: 'no reply from the kernel' }) : netlinkError(-errno, what);
      }
      tries = 0;
      if (this.#collect(n, seq, out, what)) return out;
    }
  }
}
