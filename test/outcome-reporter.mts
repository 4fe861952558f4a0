// A vitest reporter for CI: appends one line per failed, flaky (passed on a
// retry) or unhandled error to the file NSFD_TEST_OUTCOME names, so that
// .ci/run can print them all at the very end of its output, after every
// stage, where a truncated log still shows them. Nothing is written for a
// clean run. vitest.config.mts adds it beside the default reporter only when
// NSFD_TEST_OUTCOME is set.
import { appendFileSync } from 'node:fs';
import type { Reporter, SerializedError, TestCase, TestModule } from 'vitest/node';

const ANSI = /\x1b\[[0-9;]*m/g;

function firstLines(text: string | undefined, n: number): string {
  const lines = (text ?? '').replace(ANSI, '').split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.slice(0, n).join(' | ').slice(0, 400);
}

function describeError(e: SerializedError | undefined): string {
  if (e === undefined) return '(no error recorded)';
  return firstLines(`${e.name ?? 'Error'}: ${e.message ?? ''}`, 3);
}

function fullName(t: TestCase): string {
  return `${t.module.relativeModuleId} > ${t.fullName}`;
}

export default class OutcomeReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandled: ReadonlyArray<SerializedError>): void {
    const file = process.env.NSFD_TEST_OUTCOME;
    if (!file) return;
    const who = `node ${process.version}, uid ${process.getuid?.() ?? '?'}`;
    const lines: string[] = [];
    for (const m of modules) {
      for (const e of m.errors()) lines.push(`FAILED ${m.relativeModuleId} (the file): ${describeError(e)}`);
      for (const t of m.children.allTests()) {
        const r = t.result();
        const d = t.diagnostic();
        if (r.state === 'failed') {
          lines.push(`FAILED ${fullName(t)}: ${describeError(r.errors[0])}`);
        } else if (r.state === 'passed' && d?.flaky) {
          const first = r.errors?.[0];
          lines.push(`FLAKY ${fullName(t)}: passed on retry ${d.retryCount}; it first failed with ${describeError(first)}`);
        }
      }
    }
    for (const e of unhandled) lines.push(`UNHANDLED ${describeError(e)}`);
    if (lines.length > 0) appendFileSync(file, lines.map((l) => `[${who}] ${l}\n`).join(''));
  }
}
