#!/usr/bin/env node
// npm run bench: runs every scripts/bench/*.ts, as compiled to
// dist-dev/scripts/bench/*.js (or those named on the
// command line, e.g. `npm run bench -- attach`) in its own Node process,
// one after another, so each measures on a quiet machine.
//
// Each bench also hands over its README rows (readmeRow() in _util.ts).
// With --readme, they replace the rows of the same id in
// scripts/bench/results.json (rows of benches not run are kept), and the
// README's table between its bench-table markers is written from that file.
// `--readme --no-run` writes the table from that file alone.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import type { ReadmeRow } from './bench/_util';

// Compiled to dist-dev/scripts/: the repository is two levels up.
const root = path.join(__dirname, '..', '..');
const RESULTS = path.join(root, 'scripts', 'bench', 'results.json');
const README = path.join(root, 'README.md');
const BEGIN = '<!-- bench-table:begin (npm run bench -- --readme writes this table) -->';
const END = '<!-- bench-table:end -->';

interface StoredRow extends ReadmeRow {
  /** When and where it was measured. */
  measured: string;
}

const dir = path.join(__dirname, 'bench');
const args = process.argv.slice(2);
const readme = args.includes('--readme');
const noRun = args.includes('--no-run');
const only = args.filter((a) => a !== '--readme' && a !== '--no-run');
const files = noRun ? [] : fs.readdirSync(dir).filter((f) => f.endsWith('.js') && !f.startsWith('_'))
  .filter((f) => only.length === 0 || only.some((o) => f.startsWith(o))).sort();

const rowsFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nsfd-bench-rows-')), 'rows.jsonl');
fs.writeFileSync(rowsFile, '');
let failed = 0;
for (const f of files) {
  console.log(`\n### ${f.replace(/\.js$/, '')}`);
  const r = spawnSync(process.execPath, ['--expose-gc', path.join(dir, f)], { stdio: 'inherit', env: { ...process.env, NSFD_BENCH_ROWS: rowsFile } });
  if (r.status !== 0) { failed++; console.log(`(${f} failed with ${r.status ?? r.signal})`); }
}
const fresh = fs.readFileSync(rowsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ReadmeRow);
fs.rmSync(path.dirname(rowsFile), { recursive: true, force: true });

if (readme) {
  const machine = `${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} CPUs, Linux ${os.release().split('-')[0]}, Node ${process.versions.node}, load ${os.loadavg()[0]?.toFixed(1)}`;
  const stored: StoredRow[] = fs.existsSync(RESULTS) ? (JSON.parse(fs.readFileSync(RESULTS, 'utf8')) as StoredRow[]) : [];
  const byId = new Map(stored.map((r) => [r.id, r]));
  for (const r of fresh) byId.set(r.id, { ...r, measured: machine });
  // Stored order first, new ids at the end.
  const ids = [...new Set([...stored.map((r) => r.id), ...fresh.map((r) => r.id)])];
  const rows = ids.map((id) => byId.get(id) as StoredRow);
  fs.writeFileSync(RESULTS, `${JSON.stringify(rows, null, 2)}\n`);
  const text = fs.readFileSync(README, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) {
    console.error(`README.md has no ${BEGIN} ... ${END} markers: table not written`);
    process.exit(1);
  }
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const table = [
    '| what | nsfd | peer (same run) | ratio | measured |',
    '|---|---|---|---|---|',
    ...rows.map((r) => `| ${cell(r.what)} | ${cell(r.nsfd)} | ${cell(r.peer)} | ${cell(r.ratio)} | ${cell(r.measured)} |`),
  ].join('\n');
  fs.writeFileSync(README, `${text.slice(0, a + BEGIN.length)}\n${table}\n${text.slice(b)}`);
  console.log(`\nREADME.md: ${fresh.length} rows written (${rows.length} in the table), ${path.relative(root, RESULTS)} updated`);
}
process.exit(failed ? 1 : 0);
