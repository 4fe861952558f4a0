// nsfd netns add|list|delete NAME: named network namespaces, as `ip netns`
// keeps them (bind mounts under /run/netns), made with no process in them.
import * as fs from 'node:fs';
import * as path from 'node:path';

import { Namespace, Rtnetlink } from '../index';
import { UsageError, parse } from './args';
import { out } from './output';

const RUN_DIR = '/run/netns';

function checkName(name: string | undefined): string {
  if (name === undefined) throw new UsageError('missing NAME');
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0') || Buffer.byteLength(name) > 255) {
    throw new UsageError(`invalid namespace name '${name}'`);
  }
  return name;
}

export async function cmdNetns(args: readonly string[]): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const { positionals } = parse(rest, {}, true);
      if (positionals.length > 1) throw new UsageError('too many arguments');
      const name = checkName(positionals[0]);
      const file = path.join(RUN_DIR, name);
      if (fs.existsSync(file)) throw new UsageError(`'${name}' exists (${file})`);
      const made = await Namespace.create(['net'], { persist: file });
      made.net.close();
      made.user?.close();
      return 0;
    }
    case 'delete':
    case 'del': {
      const { positionals } = parse(rest, {}, true);
      if (positionals.length === 0) throw new UsageError('missing NAME');
      for (const n of positionals) Namespace.unpersist(path.join(RUN_DIR, checkName(n)));
      return 0;
    }
    case 'list':
    case 'ls':
    case undefined: {
      const { values } = parse(rest, { json: { type: 'boolean', short: 'J' } });
      const rows = await listNetns();
      if (values.json) out(JSON.stringify(rows.map((r) => (r.id === undefined ? { name: r.name } : r))));
      else for (const r of rows) out(r.id === undefined ? r.name : `${r.name} (id: ${r.id})`);
      return 0;
    }
    default:
      throw new UsageError(`unknown netns command '${sub}' (expected add, list or delete)`);
  }
}

/** The names under /run/netns that hold a network namespace, newest first as ip lists them, with their netns id here if any. */
async function listNetns(): Promise<{ name: string; id?: number }[]> {
  let names: string[];
  try {
    names = fs
      .readdirSync(RUN_DIR)
      .map((n) => ({ n, t: fs.statSync(path.join(RUN_DIR, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t)
      .map((x) => x.n);
  } catch {
    return [];
  }
  using here = Namespace.current('net');
  // Ids are a bonus: a netlink socket in our own namespace can be refused (rootless).
  let nl: ReturnType<typeof Rtnetlink.open> | undefined;
  try {
    nl = Rtnetlink.open(here);
  } catch {
    nl = undefined;
  }
  const rows: { name: string; id?: number }[] = [];
  for (const name of names) {
    let ns;
    try {
      ns = Namespace.open(path.join(RUN_DIR, name), 'net');
    } catch {
      continue; // not (or no longer) a namespace: ip skips it too
    }
    try {
      const id = nl === undefined ? undefined : await nl.nsid(ns).catch(() => undefined);
      rows.push(id === undefined ? { name } : { name, id });
    } finally {
      ns.close();
    }
  }
  nl?.close();
  return rows;
}
