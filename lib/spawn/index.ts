// spawn() / run(): start a program straight into new or existing namespaces
// with clone3 (native/spawn.cc). All policy is here: validation (typed
// errors before any syscall, plan.ts), which namespaces to join and in which
// order (join.ts), PATH lookup, the child's fd table (stdio.ts), and the
// Subprocess handle (subprocess.ts).
export { spawn } from './spawn';
export { run, runWith } from './run';
export { Subprocess } from './subprocess';
export type { IdMapEntry, SpawnOptions, StdioName, StdioSlot } from './options';
export type { MountSpec } from './rootfs';
export { MASKED_PATHS, READONLY_PATHS } from './rootfs';
export type { RunFailure, RunOptions, RunResult } from './run';
