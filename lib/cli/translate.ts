// nsfd translate PID --from PID|PATH --to PID|PATH [--tgid]
import { Namespace, type PidNsRef, Pidfd, type TranslateOptions, translatePid } from '../index';
import { UsageError, intArg, parse } from './args';
import { out } from './output';

/** A pid namespace named by a process in it (a pid) or a path. */
function pidNsRef(value: string, name: string): PidNsRef {
  if (/^\d+$/.test(value)) return Pidfd.open(intArg(value, name, 1));
  if (value === '') throw new UsageError(`${name} needs a pid or a path`);
  return Namespace.open(value, 'pid');
}

export async function cmdTranslate(args: readonly string[]): Promise<number> {
  const { values, positionals } = parse(args, { from: { type: 'string' }, to: { type: 'string' }, tgid: { type: 'boolean' } }, true);
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'translate needs a PID' : `unexpected argument '${positionals[1]}'`);
  const pid = intArg(positionals[0], 'PID', 1);
  const refs: PidNsRef[] = [];
  try {
    const opts: TranslateOptions = {};
    if (values.from !== undefined) refs.push((opts.from = pidNsRef(values.from, '--from')));
    if (values.to !== undefined) refs.push((opts.to = pidNsRef(values.to, '--to')));
    if (values.tgid) opts.tgid = true;
    out(String(translatePid(pid, opts)));
    return 0;
  } finally {
    for (const r of refs) r.close();
  }
}
