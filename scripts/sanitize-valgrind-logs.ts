// Reads memcheck logs (scripts/valgrind.sh):
//   node dist-dev/scripts/sanitize-valgrind-logs.js DIR PREFIX
// Every file DIR/PREFIX.<pid> is one process's log (--log-file=...%p). Counts
//  - errors: what memcheck counted in its "ERROR SUMMARY" line, i.e. every
//    error and definite leak (--errors-for-leak-kinds=definite) that no
//    suppression in scripts/valgrind-node.supp matched;
//  - ours: those of the records printed whose stack has a frame in our
//    addon (a function of namespace nsfd, one of native/*.cc or
//    node-addon-api's napi-inl.h, or the object nsfd.node);
//  - crashes: processes that ended on a fatal signal other than SIGTERM and
//    SIGKILL (vitest stops its workers with those);
//  - incomplete: logs with no ERROR SUMMARY, i.e. valgrind did not finish
//    (its leak check is missing).
// Prints each error record on stderr, and {"errors", "ours", "crashes",
// "incomplete", "processes"} on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';

const [dir = '', prefix = ''] = process.argv.slice(2);
// Compiled to dist-dev/scripts/: the repository is two levels up.
const root = path.resolve(__dirname, '..', '..');
const sources = fs
  .readdirSync(path.join(root, 'native'))
  .filter((f) => /\.(cc|h)$/.test(f))
  .map((f) => f.replace(/\./g, '\\.'));
const OURS = new RegExp(`\\bnsfd::|\\((?:${sources.join('|')}|napi-inl\\.h|napi\\.h):\\d+\\)|nsfd\\.node`);
const KINDS =
  /^==\d+== (?:Invalid (?:read|write|free)|Conditional jump|Use of uninitialised|Syscall param|Mismatched free|Source and destination overlap|Argument '|.* are definitely lost in loss record|Jump to the invalid|Process terminating with default action of signal)/;

const out: Record<string, any> = { errors: 0, ours: 0, crashes: 0, incomplete: 0, processes: 0 };
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith(prefix + '.')) : [];
for (const f of files.sort()) {
  const text = fs.readFileSync(path.join(dir, f), 'utf8');
  if (!/==\d+== Command: /.test(text)) continue;
  out.processes++;
  const summary = /ERROR SUMMARY: ([\d,]+) errors/.exec(text);
  if (!summary) {
    out.incomplete++;
    process.stderr.write(`--- ${f}: no ERROR SUMMARY (valgrind did not finish)\n`);
  } else {
    out.errors += Number((summary[1] ?? '').replace(/,/g, ''));
  }
  // Records are separated by "==PID== " lines; valgrind's own notes
  // ("--PID-- ...") and warnings are not errors.
  const lines = text.split('\n').filter((l) => !l.startsWith('--'));
  let rec: string[] | null = null;
  const flush = () => {
    if (!rec) return;
    const r = (rec as string[]).join('\n');
    rec = null;
    const fatal = /Process terminating with default action of signal (\d+)/.exec(r);
    if (fatal) {
      if (fatal[1] === '15' || fatal[1] === '9') return;
      out.crashes++;
    } else if (OURS.test(r)) {
      out.ours++;
    }
    process.stderr.write(`--- ${f}\n${r}\n`);
  };
  for (const l of lines) {
    if (/^==\d+== ?$/.test(l)) flush();
    else if (KINDS.test(l)) {
      flush();
      rec = [l];
    } else if (rec) rec.push(l);
  }
  flush();
}
console.log(JSON.stringify(out));
