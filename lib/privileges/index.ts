// Privileges of a spawned process: capabilities, no_new_privs, rlimits and
// a seccomp filter, checked and compiled into the spawn spec's words.
// native/spawn_child.cc applies them in runc's order, seccomp last.
export type { CapabilitiesOption, CapabilityName, CapabilitySets } from './capabilities';
export { DEFAULT_CAPABILITIES, capabilityMasks, capabilityWords } from './capabilities';
export type { RlimitValue, RlimitsOption } from './rlimits';
export { rlimitTriples } from './rlimits';
export type { OciSeccompProfile, OciSeccompSyscall, SeccompOption } from './seccomp';
export { compileFilter, ociFilter } from './seccomp';
export { defaultFilter } from './default-profile';
export { privilegeSpec } from './spec';
