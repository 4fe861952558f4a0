// NSFD_KERNELS_CRASH_DRILL=FILE (scripts/test-kernels.sh): the vitest setup
// file (vitest.config.mts adds it when the VM's NSFD_VM_CRASH_DRILL is set)
// that, in the arm64 VMs, kills the test worker running FILE with
// SIGSEGV at its first test, as emulation has killed real ones, unless V8's
// optimizing compilers are off. So a drill run goes through init.sh's whole
// worker-crash path: the files run again, die again, run a third time with
// the compilers off and pass; the report says so, with the crash evidence.
import { beforeEach } from 'vitest';

const drillFile = process.env.NSFD_VM_CRASH_DRILL ?? '';

beforeEach((ctx) => {
  const file = ctx.task.file?.filepath ?? '';
  if (drillFile === '' || !file.endsWith(`/${drillFile}`)) return;
  if (process.execArgv.includes('--no-opt')) return;
  process.stderr.write(`crash drill: killing this worker (${drillFile}) with SIGSEGV\n`);
  process.kill(process.pid, 'SIGSEGV');
});
