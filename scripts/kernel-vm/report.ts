#!/usr/bin/env node
// Reads the results of scripts/test-kernels.sh and prints the feature matrix.
//
// Usage: node report.js MANIFEST.tsv EXPECTED.json MATRIX.md
// MANIFEST.tsv columns: label, series (kernel release for the host), kind
// (vm|host), kernel image, results file, console log, status ("SECS OUTCOME"),
// failed-boots file (one "N<TAB>what went wrong" line per boot that died
// before its first test and was retried), kernel note (a pin not honoured).
// Exit status: 0 when every column ran, no test failed, and features() agrees
// with EXPECTED.json; 1 otherwise.

import * as fs from 'node:fs';
import * as path from 'node:path';

// Compiled to dist-dev/scripts/kernel-vm/: the repository is three levels up.
const repoRoot = path.resolve(__dirname, '..', '..', '..');

const [manifestPath, expectedPath, matrixPath] = process.argv.slice(2);
if (!manifestPath || !expectedPath || !matrixPath) {
  console.error('usage: node report.js MANIFEST.tsv EXPECTED.json MATRIX.md');
  process.exit(2);
}

const expectedAll = JSON.parse(fs.readFileSync(expectedPath, 'utf8'));

function majorMinor(release: any) {
  const m = /^(\d+)\.(\d+)/.exec(release || '');
  return m ? `${m[1]}.${m[2]}` : '';
}

// Parses the results channel (see init.sh and stream-reporter.mjs).
function parseResults(file: any) {
  const r = {
    begun: false,
    ended: false,
    release: '',
    featuresRc: null,
    features: null,
    featuresError: '',
    vitestRc: null,
    runnerRetries: [] as any[],
    /** The runner died after every file had finished (init.sh): no run end will come, and nothing is missing. */
    allFilesDone: false,
    workerRetries: [] as any[],
    /** What init.sh found on how a process died (NSFD-CRASH lines), per crash. */
    crashes: [] as { what: string; lines: string[] }[],
    events: [] as any[],
  };
  let text: any;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return r;
  }
  // Where the current vitest run's events begin (after a retry marker).
  let runFrom = 0;
  for (const line of text.replace(/\r/g, '').split('\n')) {
    if (line.startsWith('NSFD-T ')) {
      try {
        r.events.push(JSON.parse(line.slice('NSFD-T '.length)));
      } catch {
        // a line cut short by a killed VM
      }
    } else if (line.startsWith('NSFD-VM-BEGIN')) {
      r.begun = true;
      r.release = line.slice('NSFD-VM-BEGIN'.length).trim();
    } else if (line.startsWith('NSFD-VM-END')) {
      r.ended = true;
    } else if (line.startsWith('NSFD-FEATURES-RC ')) {
      r.featuresRc = line.slice('NSFD-FEATURES-RC '.length).trim();
    } else if (line.startsWith('NSFD-FEATURES ')) {
      try {
        r.features = JSON.parse(line.slice('NSFD-FEATURES '.length));
      } catch (e: any) {
        r.featuresError = `cannot parse features() output: ${e.message}`;
      }
    } else if (line.startsWith('NSFD-RUNNER-RETRY ')) {
      // "<exit> [nojit]": nojit, what was left ran again with V8's optimizing compilers off.
      const [rc = '?', mode] = line.slice('NSFD-RUNNER-RETRY '.length).trim().split(/\s+/);
      const nojit = mode === 'nojit';
      r.runnerRetries.push({ rc, after: r.events.filter((e) => e.ev === 'result').length, nojit });
      r.crashes.push({ what: `the vitest runner died${nojit ? ' again' : ''} (exit ${rc})`, lines: [] });
      runFrom = r.events.length;
    } else if (line.startsWith('NSFD-RUNNER-ALL-FILES-DONE')) {
      r.allFilesDone = true;
    } else if (line.startsWith('NSFD-WORKER-RETRY')) {
      // "nojit": the files ran again with V8's optimizing compilers off.
      const nojit = line.slice('NSFD-WORKER-RETRY'.length).trim() === 'nojit';
      // The tests running when it died: started in this run, and no result since.
      const open = new Map<string, number>();
      for (const e of r.events.slice(runFrom)) {
        const key = `${e.file} > ${e.name}`;
        if (e.ev === 'start') open.set(key, (open.get(key) ?? 0) + 1);
        else if (e.ev === 'result' && open.has(key)) open.set(key, (open.get(key) as number) - 1);
      }
      const running = [...open].filter(([, n]) => n > 0).map(([k]) => k);
      r.workerRetries.push({ after: r.events.filter((e) => e.ev === 'result').length, ends: r.events.filter((e) => e.ev === 'end').length, nojit, running });
      r.crashes.push({ what: `a test worker died${nojit ? ' again' : ''}`, lines: [] });
      runFrom = r.events.length;
    } else if (line.startsWith('NSFD-CRASH-BEGIN ')) {
      r.crashes.push({ what: line.slice('NSFD-CRASH-BEGIN '.length).trim(), lines: [] });
    } else if (line.startsWith('NSFD-CRASH ')) {
      if (r.crashes.length === 0) r.crashes.push({ what: 'a crash', lines: [] });
      r.crashes[r.crashes.length - 1]!.lines.push(line.slice('NSFD-CRASH '.length));
    } else if (line.startsWith('NSFD-VITEST-RC ')) {
      r.vitestRc = line.slice('NSFD-VITEST-RC '.length).trim();
    }
  }
  return r;
}

/** What init.sh's third run after two crashes turns off, in the runner and the workers. */
const NOJIT = "V8's optimizing compilers off (--no-opt --no-maglev --no-sparkplug)";

/** The unhandled error vitest reports when a test worker (a fork) died. */
const WORKER_DIED = /Worker exited unexpectedly|Worker forks emitted error/;

/**
 * `workerRetryEnds`: how many run ends came before a worker retry
 * (NSFD-WORKER-RETRY); the worker-died errors of those runs are left out,
 * since the files they had not finished ran again.
 */
function summarizeTests(events: any, workerRetryEnds = 0) {
  let ends = 0;
  const results = new Map();
  const started = new Map();
  const s = {
    passed: 0,
    failed: 0,
    skipped: 0,
    failures: [] as any[],
    skips: [] as any[],
    flaky: [] as any[],
    fileErrors: [] as any[],
    unhandled: [] as any[],
    unfinished: [] as any[],
    ended: false,
    reason: '',
  };
  for (const e of events) {
    const key = `${e.file} > ${e.name}`;
    if (e.ev === 'start') started.set(key, e);
    // A run after a runner crash (NSFD-RUNNER-RETRY) reports every test
    // again: its result replaces the earlier one, except a failure.
    else if (e.ev === 'result') {
      if (results.get(key)?.state !== 'failed') results.set(key, e);
    }
    else if (e.ev === 'module' && e.errors) s.fileErrors.push({ name: e.file, message: e.errors.join('\n') });
    else if (e.ev === 'end') {
      s.ended = true;
      s.reason = e.reason || '';
      const retried = ends++ < workerRetryEnds;
      for (const u of e.unhandled || []) if (!(retried && WORKER_DIED.test(String(u)))) s.unhandled.push(u);
    }
  }
  for (const [key, e] of results) {
    if (e.state === 'passed') {
      s.passed++;
      if (e.retries) s.flaky.push({ name: key, retries: e.retries });
    } else if (e.state === 'failed') {
      s.failed++;
      s.failures.push({ name: key, message: (e.errors || []).join('\n'), ms: e.ms });
    } else {
      s.skipped++;
      s.skips.push({ name: key, note: e.note || (e.todo ? 'todo' : '') });
    }
  }
  for (const key of started.keys()) if (!results.has(key)) s.unfinished.push(key);
  return s;
}

// Failed tests, broken files, unhandled errors and tests that never ended.
function failedCount(t: any) {
  return t.failed + t.fileErrors.length + t.unhandled.length + t.unfinished.length;
}

function firstLines(text: any, n: any) {
  return String(text || '')
    .split('\n')
    .filter((l) => l.trim() !== '' && !/^\s*at .*(node_modules\/|node:internal|new Promise)/.test(l))
    .slice(0, n)
    .map((l) => `      ${l}`)
    .join('\n');
}

function readFailedBoots(file: any) {
  if (!file || file === '-') return [];
  try {
    return fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => {
        const [n, ...what] = l.split('\t');
        return { n: Number(n), what: what.join(' ') };
      });
  } catch {
    return [];
  }
}

// ------------------------------------------------------------------ columns
const cols: any[] = [];
const unexpectedKeys = new Set();
for (const raw of fs.readFileSync(manifestPath, 'utf8').split('\n')) {
  if (!raw.trim()) continue;
  const [label, series, kind, image, resultsFile, consoleLog, status, bootsFile, kernelNote] = raw.split('\t');
  const [secs, ...outcomeParts] = (status || '0 unknown').split(' ');
  const c: Record<string, any> = {
    label,
    series,
    kind,
    image,
    consoleLog,
    secs: Number(secs),
    outcome: outcomeParts.join(' '),
    res: parseResults(resultsFile),
    problems: [] as any[],
    mismatches: [] as any[],
    info: [] as any[],
    tests: null,
    failedBoots: readFailedBoots(bootsFile),
    kernelNote: kernelNote || '',
  };
  const release = c.res.release || (kind === 'host' ? series : '');
  c.release = release;
  c.header = kind === 'host' ? `host (${majorMinor(release) || '?'})` : label;
  if (c.outcome !== 'ok') c.problems.push(`VM did not complete: ${c.outcome}`);
  else if (!c.res.ended) c.problems.push('results incomplete (no NSFD-VM-END)');

  if (c.res.begun) {
    if (!c.res.features) {
      c.problems.push(
        `features() probe failed (exit ${c.res.featuresRc ?? '?'})${c.res.featuresError ? `: ${c.res.featuresError}` : ''}`,
      );
    }
    const rc = c.res.vitestRc;
    if (rc !== 'skipped' && (rc !== null || c.res.events.length > 0)) {
      const t = summarizeTests(c.res.events, Math.max(0, ...c.res.workerRetries.map((w: any) => w.ends)));
      // The runner crashed once every file had reported (the runner crash line says so).
      if (!t.ended && c.res.allFilesDone && t.unfinished.length === 0) t.ended = true;
      c.tests = t;
      for (const f of t.failures) c.problems.push(`test failed: ${f.name} (${f.ms} ms)\n${firstLines(f.message, 14)}`);
      for (const e of t.fileErrors) c.problems.push(`test file failed: ${e.name}\n${firstLines(e.message, 14)}`);
      for (const u of t.unhandled) c.problems.push(`unhandled error during the run:\n${firstLines(u, 14)}`);
      for (const u of t.unfinished) c.problems.push(`test never finished (hung or killed): ${u}`);
      if (!t.ended) {
        c.problems.push(
          rc === '137'
            ? 'vitest was killed by the in-VM watchdog before the run ended (NSFD_KERNELS_TIMEOUT; tests after the hung one did not run)'
            : `vitest did not finish the run (exit ${rc ?? 'none: VM stopped'})`,
        );
      } else if (rc !== '0' && t.failures.length + t.fileErrors.length + t.unhandled.length === 0) {
        c.problems.push(`vitest exited ${rc ?? '?'} (see ${c.consoleLog !== '-' ? c.consoleLog : 'the output above'})`);
      }
    }
  }

  // Expectations: the VM's own label ("6.12-arm64") when expected.json has
  // it, else its kernel's major.minor.
  const expKey = kind === 'vm' && Object.hasOwn(expectedAll, label as string) ? label : majorMinor(release || series);
  const exp = expectedAll[expKey as string];
  if (c.res.features) {
    if (!exp) c.info.push(`no expectations for kernel ${expKey || '?'} in expected.json`);
    for (const [key, v] of Object.entries<any>(c.res.features)) {
      const avail = v && typeof v === 'object' ? v.available : undefined;
      if (typeof avail !== 'boolean') {
        c.problems.push(`features().${key} has no boolean 'available'`);
        continue;
      }
      if (!exp) continue;
      if (!(key in exp)) {
        unexpectedKeys.add(key);
      } else if (exp[key] !== avail) {
        c.mismatches.push(key);
        c.problems.push(
          `features().${key}.available is ${avail} on ${release || series}, expected ${exp[key]}` +
            (v.detail ? ` (detail: ${v.detail})` : ''),
        );
      }
    }
    if (exp) {
      for (const key of Object.keys(exp)) {
        if (!key.startsWith('_') && !(key in c.res.features)) c.info.push(`${key}: expected in features() but not reported`);
      }
    }
  }
  cols.push(c);
}

// ------------------------------------------------------------------ table
const keys: any[] = [];
const since: Record<string, any> = {};
for (const c of [...cols].reverse()) {
  // host first: it has the newest kernel and the full key list
  for (const [k, v] of Object.entries<any>(c.res.features || {})) {
    if (!keys.includes(k)) keys.push(k);
    if (v && v.since && !since[k]) since[k] = String(v.since);
  }
}

function cell(c: any, k: any) {
  const v = c.res.features && c.res.features[k];
  if (!v) return c.res.features ? '–' : '?';
  const s = v.available ? 'yes' : 'no';
  return c.mismatches.includes(k) ? `${s} ✗` : s;
}

const header = ['feature', 'since', ...cols.map((c) => c.header)];
const rows = keys.map((k) => [k, since[k] || '', ...cols.map((c) => cell(c, k))]);
function testsLine(c: any) {
  if (c.tests) {
    const t = c.tests;
    return `${t.passed} passed, ${failedCount(t)} failed, ${t.skipped} skipped${t.ended ? '' : ' (run incomplete)'}`;
  }
  if (c.kind === 'host' && c.res.vitestRc === null) return 'not run (NSFD_KERNELS_HOST_TESTS=1)';
  if (c.res.vitestRc === 'skipped') return 'not run';
  return 'no results';
}
const testsRow = [
  'tests pass/fail/skip',
  '',
  ...cols.map((c) =>
    c.tests
      ? `${c.tests.passed}/${failedCount(c.tests)}/${c.tests.skipped}${c.tests.ended ? '' : '+'}`
      : c.kind === 'host'
        ? 'not run'
        : 'none',
  ),
];

function widths(all: any) {
  return header.map((_, i) => Math.max(...all.map((r: any) => [...String(r[i])].length)));
}
const w = widths([header, ...rows, testsRow]);
const pad = (s: any, n: any) => s + ' '.repeat(Math.max(0, n - [...s].length));
const fmt = (r: any) => r.map((s: any, i: any) => pad(String(s), w[i])).join('  ').trimEnd();

const out: any[] = [];
out.push('');
out.push(fmt(header));
out.push(w.map((n) => '-'.repeat(n)).join('  '));
for (const r of rows) out.push(fmt(r));
out.push(w.map((n) => '-'.repeat(n)).join('  '));
out.push(fmt(testsRow));
out.push('');
for (const c of cols) {
  const boots = c.failedBoots.length ? `, ${c.failedBoots.length + 1} boots` : '';
  const t = c.kind === 'vm' ? ` [${c.release || c.image}, ${c.secs}s, ${c.outcome}${boots}]` : ` [${c.release}]`;
  out.push(`${c.header}: ${testsLine(c)}${t}`);
}
// Boots that died before their first test were retried: not a failure of
// nsfd, but worth knowing (how often, and why).
for (const c of cols) {
  for (const b of c.failedBoots) out.push(`retried boot (${c.header}): boot ${b.n} failed before the first test: ${b.what}`);
  if (c.kernelNote) out.push(`KERNEL PIN (${c.header}): ${c.kernelNote}`);
  if (c.tests) for (const f of c.tests.flaky) out.push(`flaky (${c.header}): ${f.name} passed after ${f.retries} ${f.retries === 1 ? 'retry' : 'retries'}`);
  for (const r of c.res.runnerRetries) {
    const sig = Number(r.rc) > 128 ? ` (signal ${Number(r.rc) - 128})` : '';
    const then = r.nojit
      ? `what was left ran again with ${NOJIT}`
      : c.res.allFilesDone && r === c.res.runnerRetries[c.res.runnerRetries.length - 1]
        ? 'every file had finished, so nothing ran again'
        : 'what was left ran again';
    out.push(`runner crash (${c.header}): the vitest runner died${r.nojit ? ' again' : ''} with exit ${r.rc}${sig} after ${r.after} test results; ${then} (console: ${c.consoleLog})`);
  }
  for (const w of c.res.workerRetries) {
    const then = w.nojit ? `what was left ran again with ${NOJIT}` : 'the files it had not finished ran again';
    const during = w.running.length ? ` during ${w.running.join(', ')}` : '';
    out.push(`worker crash (${c.header}): a test worker died${w.nojit ? ' again' : ''}${during}, after ${w.after} test results; ${then} (console: ${c.consoleLog})`);
  }
  // Node died twice and what was left then passed without V8's optimizing
  // compilers: not counted as a failure (emulation and the JIT), but said
  // loudly, with what the VM saw.
  if (c.tests && c.problems.length === 0 && [...c.res.runnerRetries, ...c.res.workerRetries].some((x: any) => x.nojit)) {
    out.push(`JIT-ONLY CRASH (${c.header}): after two crashes, what was left passed with ${NOJIT}`);
  }
  for (const k of c.res.crashes) {
    out.push(`crash evidence (${c.header}): ${k.what}${k.lines.length ? ':' : ': nothing in the kernel log or on stderr'}`);
    for (const l of k.lines.slice(0, 20)) out.push(`    ${l}`);
  }
}

const anyProblem = cols.some((c) => c.problems.length > 0);
for (const c of cols) {
  if (c.problems.length) {
    out.push('');
    out.push(`FAILED on ${c.header}:`);
    for (const p of c.problems) out.push(`  - ${p}`);
    // The VM ran to the end but something inside broke before a report was
    // made: show the end of its console (test-kernels.sh already did so for
    // VMs that timed out or panicked).
    const noReport = !c.res.features || (c.tests && !c.tests.ended);
    if (c.kind === 'vm' && c.outcome === 'ok' && noReport) {
      let tail: any[] = [];
      try {
        tail = fs
          .readFileSync(c.consoleLog, 'utf8')
          .replace(/\r/g, '')
          .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').trimEnd().split('\n').slice(-40);
      } catch {
        tail = ['(no console log)'];
      }
      out.push(`  last ${tail.length} console lines (${c.consoleLog}):`);
      for (const l of tail) out.push(`    | ${l}`);
    }
  }
}
const infos = cols.filter((c) => c.info.length);
if (infos.length || unexpectedKeys.size) out.push('');
for (const c of infos) for (const i of c.info) out.push(`note (${c.header}): ${i}`);
if (unexpectedKeys.size) {
  out.push(`note: not checked (no entry in scripts/kernel-vm/expected.json): ${[...unexpectedKeys].join(', ')}`);
}
const ran = cols.filter((c) => c.tests);
if (ran.length) {
  const tot = ran.reduce(
    (a, c) => ({ p: a.p + c.tests.passed, f: a.f + failedCount(c.tests), s: a.s + c.tests.skipped }),
    { p: 0, f: 0, s: 0 },
  );
  out.push('');
  out.push(`kernels: ${tot.p} passed, ${tot.f} failed, ${tot.s} skipped`);
}
out.push(anyProblem ? 'test:kernels: FAILED' : 'test:kernels: OK');
console.log(out.join('\n'));

// ------------------------------------------------------------------ markdown
const md: any[] = [];
const esc = (s: any) => String(s).replace(/\|/g, '\\|');
md.push(`| ${header.map(esc).join(' | ')} |`);
md.push(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) md.push(`| ${r.map(esc).join(' | ')} |`);
md.push(`| ${testsRow.map(esc).join(' | ')} |`);
md.push('');
md.push(
  `Kernels: ${cols
    .filter((c) => c.kind === 'vm')
    .map((c) => `${c.label} = Debian \`${String(c.image).replace(/^vmlinuz-/, '')}\``)
    .join(', ')}; host = \`${cols.find((c) => c.kind === 'host')?.release || '?'}\`. ` +
    'Generated by `npm run test:kernels`.',
);
if (cols.some((c) => c.mismatches.length)) md.push('', '✗ = differs from scripts/kernel-vm/expected.json.');
for (const c of cols) {
  if (c.tests && c.tests.skips.length) {
    md.push('', `<details><summary>Skipped on ${esc(c.header)} (${c.tests.skips.length})</summary>`, '');
    for (const s of c.tests.skips) md.push(`- ${esc(s.name)}${s.note ? ` — ${esc(s.note)}` : ''}`);
    md.push('', '</details>');
  }
}
fs.writeFileSync(matrixPath, md.join('\n') + '\n');

process.exit(anyProblem ? 1 : 0);
