// nsfd features [--json]
import * as os from 'node:os';

import { features } from '../index';
import { parse } from './args';
import { out } from './output';

export async function cmdFeatures(args: readonly string[]): Promise<number> {
  const { values } = parse(args, { json: { type: 'boolean', short: 'J' } });
  const f = features();
  if (values.json) {
    out(JSON.stringify(f, null, 2));
    return 0;
  }
  out(`Linux ${os.release()} (${process.arch})`);
  const w = Math.max(7, ...Object.keys(f).map((n) => n.length));
  out(`${'FEATURE'.padEnd(w)}  AVAILABLE  SINCE  DETAIL`);
  for (const [n, x] of Object.entries(f)) {
    out(`${n.padEnd(w)}  ${(x.available ? 'yes' : 'no').padEnd(9)}  ${x.since.padEnd(5)}  ${x.detail ?? ''}`.trimEnd());
  }
  return 0;
}
