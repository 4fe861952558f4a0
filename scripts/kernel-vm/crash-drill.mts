// NSFD_KERNELS_CRASH_DRILL=[runner:]FILE (scripts/test-kernels.sh): the
// vitest setup file (vitest.config.mts adds it when the VM's
// NSFD_VM_CRASH_DRILL is set) that, in the arm64 VMs, kills the test worker
// running FILE (or, with "runner:", the vitest runner, its parent) with
// SIGSEGV at FILE's first test, as emulation has killed real ones, unless
// V8's optimizing compilers are off. So a drill run goes through init.sh's
// whole crash path: what was left runs again, dies again, runs a third time
// with the compilers off and passes; the report says so, with the crash
// evidence.
import { beforeEach } from 'vitest';

const drill = process.env.NSFD_VM_CRASH_DRILL ?? '';
const runner = drill.startsWith('runner:');
const drillFile = runner ? drill.slice('runner:'.length) : drill;

beforeEach((ctx) => {
  const file = ctx.task.file?.filepath ?? '';
  if (drillFile === '' || !file.endsWith(`/${drillFile}`)) return;
  // (init.sh's third run gives the runner and the workers the same flags.)
  if (process.execArgv.includes('--no-opt')) return;
  const pid = runner ? process.ppid : process.pid;
  process.stderr.write(`crash drill: killing the vitest ${runner ? 'runner' : 'worker'} (${drillFile}) with SIGSEGV\n`);
  process.kill(pid, 'SIGSEGV');
});
