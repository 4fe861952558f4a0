// A vitest reporter for scripts/test-kernels.sh: writes one line per event
// ("NSFD-T <json>") to the file named by NSFD_VM_RESULTS (the VM's second
// serial port, or a file on the host), as the events happen. So when a test
// hangs and the run is killed, everything before it is still known, and so
// is the test that was running.
//
// Events:
//   {"ev":"start","file","name"}                       a test begins
//   {"ev":"result","file","name","state","ms","retries"?,"note"?,"todo"?,"errors"?}
//   (retries: how many times a test was retried before this result)
//   {"ev":"module","file","state","errors"?}           a test file ends
//   {"ev":"end","reason","unhandled"?}                 the run ends
import { appendFileSync, openSync, writeSync } from 'node:fs';
import { relative } from 'node:path';

const target = process.env.NSFD_VM_RESULTS;
let fd = -1;
if (target) {
  try {
    fd = openSync(target, 'a');
  } catch {
    fd = -1;
  }
}

function emit(obj: any) {
  if (fd < 0) return;
  try {
    writeSync(fd, `NSFD-T ${JSON.stringify(obj)}\n`);
  } catch {
    /* the results channel is gone: nothing to do */
  }
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (s: any) => s.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '');
const rel = (p: any) => relative(process.cwd(), String(p));

function errs(list: any) {
  if (!list || list.length === 0) return undefined;
  return list.slice(0, 5).map((e: any) => {
    const msg = `${e.name && !String(e.message).startsWith(e.name) ? `${e.name}: ` : ''}${e.message ?? ''}`;
    const stack = String(e.stack || '')
      .split('\n')
      .filter((l) => /^\s*at /.test(l) && !/node_modules\/|node:internal|new Promise/.test(l))
      .slice(0, 4)
      .join('\n');
    const diff = e.diff ? String(e.diff).slice(0, 1500) : '';
    // Vitest wraps a dead worker's error ("Worker forks emitted error"):
    // the cause says how it died.
    const causes: string[] = [];
    for (let c = e.cause, k = 0; c && k < 3; c = c.cause, k++) causes.push(`caused by: ${c.name && !String(c.message).startsWith(c.name) ? `${c.name}: ` : ''}${c.message ?? String(c)}`.slice(0, 500));
    return stripAnsi([msg.slice(0, 2000), ...causes, diff, stack].filter((s) => s !== '').join('\n'));
  });
}

function testName(tc: any) {
  const parts: any[] = [];
  for (let p = tc.parent; p && p.type === 'suite'; p = p.parent) parts.unshift(p.name);
  parts.push(tc.name);
  return parts.join(' > ');
}

export default class NsfdStreamReporter {
  /** Per file, the tests started and not yet ended: a file with any is not done (its worker died). */
  #open = new Map<string, number>();

  onTestCaseReady(tc: any) {
    const file = rel(tc.module.moduleId);
    this.#open.set(file, (this.#open.get(file) ?? 0) + 1);
    emit({ ev: 'start', file, name: testName(tc) });
  }

  onTestCaseResult(tc: any) {
    const file = rel(tc.module.moduleId);
    this.#open.set(file, (this.#open.get(file) ?? 1) - 1);
    const r = tc.result();
    const d = tc.diagnostic();
    const o: Record<string, unknown> = {
      ev: 'result',
      file,
      name: testName(tc),
      state: r.state,
      ms: d ? Math.round(d.duration) : 0,
    };
    if (d && d.retryCount > 0) o.retries = d.retryCount;
    if (r.state === 'skipped') {
      if (r.note) o.note = r.note;
      if (tc.options && tc.options.mode === 'todo') o.todo = true;
    }
    const e = errs(r.errors);
    if (e) o.errors = e;
    emit(o);
  }

  onTestModuleEnd(m: any) {
    const o: Record<string, unknown> = { ev: 'module', file: rel(m.moduleId), state: m.state() };
    const e = errs(m.errors());
    if (e) o.errors = e;
    emit(o);
    // The files done, for init.sh: a runner that crashes (arm64 under TCG)
    // is run again on the files it had not finished.
    const done = process.env.NSFD_VM_DONE;
    // (A file with a test that never ended, its worker gone, is not done.)
    if (done && (this.#open.get(o.file as string) ?? 0) <= 0) {
      try {
        appendFileSync(done, `${o.file}\n`);
      } catch {
        /* no list: init.sh runs the whole suite again */
      }
    }
  }

  onTestRunEnd(_modules: any, unhandled: any, reason: any) {
    const o: Record<string, unknown> = { ev: 'end', reason };
    const e = errs(unhandled);
    if (e) o.unhandled = e;
    emit(o);
    // For init.sh: a test worker that died ("Worker exited unexpectedly").
    const file = process.env.NSFD_VM_UNHANDLED;
    if (file && e) {
      try {
        appendFileSync(file, `${e.join('\n')}\n`);
      } catch {
        /* then no worker retry */
      }
    }
  }
}
