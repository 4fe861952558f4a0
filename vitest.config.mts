import { defineConfig } from 'vitest/config';

// Tests run real syscalls against real namespaces. Each file runs in its
// own process (forks): a native crash or a setns stays inside one file.
const timeout = Number(process.env.NSFD_TEST_TIMEOUT_MS ?? 30000);
// CI (.ci/run) sets both: a failed test runs once more, and every failure
// and every pass on a retry is written to NSFD_TEST_OUTCOME, which .ci/run
// prints at the end of its output. A retried pass is reported, never hidden.
const retry = Number(process.env.NSFD_TEST_RETRY ?? 0);
const outcome = process.env.NSFD_TEST_OUTCOME;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ and dist-dev/ (what the fixtures run) when a source is newer.
    globalSetup: ['test/global-setup.ts'],
    exclude: process.env.NSFD_STRESS ? [] : ['test/stress/**'],
    pool: 'forks',
    // One file at a time: these tests change machine-wide state (mounts,
    // namespaces, ns_last_pid) that other files' checks would see.
    fileParallelism: false,
    maxWorkers: 1,
    retry,
    reporters: outcome ? ['default', './test/outcome-reporter.mts'] : ['default'],
    // The kernel VMs' worker-crash drill (NSFD_KERNELS_CRASH_DRILL in scripts/test-kernels.sh).
    setupFiles: process.env.NSFD_VM_CRASH_DRILL ? ['dist-dev/scripts/kernel-vm/crash-drill.mjs'] : [],
    testTimeout: timeout,
    hookTimeout: timeout,
  },
});
