// Reads the sanitizer logs of a run (scripts/sanitize.sh):
//   node dist-dev/scripts/sanitize-reports.js DIR NAME...
// Reads DIR/NAME and every DIR/NAME.<pid> (one process's log, from
// ASAN_OPTIONS log_path; or the captured stderr of a run, where UBSan's
// reports go: see sanitize.sh). Counts
//  - reports: each ASan error ("ERROR: AddressSanitizer: ...") and each
//    UBSan finding ("runtime error: ..."), wherever it happened: node is not
//    instrumented, so they come from nsfd.node, or from node calling a libc
//    function that ASan intercepts;
//  - leaks: LeakSanitizer records ("Direct/Indirect leak of ...") with a
//    frame in nsfd.node or our sources. Node and V8 leak by design at
//    exit; those records are not counted.
// Prints each counted record on stderr and {"reports", "ours", "leaks",
// "files"} on stdout ("ours": reports with a frame in our code).
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dir = '', ...prefixes] = process.argv.slice(2);
const OURS = /nsfd\.node|\bnative\/\w+\.(?:cc|h):\d/;
const out: Record<string, any> = { reports: 0, ours: 0, leaks: 0, files: 0 };
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => prefixes.some((p) => f === p || f.startsWith(p + '.'))) : [];
for (const f of files.sort()) {
  out.files++;
  // (Captured output may carry terminal colours.)
  const text = fs.readFileSync(path.join(dir, f), 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
  // ASan errors other than LeakSanitizer's, and UBSan findings: a record runs
  // from its header to the next blank line after the stack (or SUMMARY).
  const errors = text.match(/^.*(?:ERROR: AddressSanitizer|runtime error:)[\s\S]*?(?=\n[ \t]*\n|(?![\s\S]))/gm) ?? [];
  for (const rec of errors) {
    out.reports++;
    if (OURS.test(rec)) out.ours++;
    process.stderr.write(`--- ${f}\n${rec.trimEnd()}\n`);
  }
  for (const rec of text.split(/\n(?=(?:Direct|Indirect) leak of )/)) {
    if (!/^(Direct|Indirect) leak of /.test(rec)) continue;
    const first = rec.split(/\n\s*\n/)[0] ?? '';
    if (!OURS.test(first)) continue;
    out.leaks++;
    process.stderr.write(`--- ${f}\n${first.trimEnd()}\n`);
  }
}
console.log(JSON.stringify(out));
