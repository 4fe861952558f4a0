// The public API of nsfd.
export { NsError, UnsupportedError } from './core/errors';
export type { NsErrorDetails } from './core/errors';
export { OwnedFd } from './core/owned-fd';
export { Pidfd } from './pidfd';
export type { PidfdOpenOptions, ExitStatus, ProcessInfo, IdSet, WaitOptions } from './pidfd';
export { Namespace } from './namespace';
export type { CreatableNsType, CreateNamespaceOptions, CreatedNamespaces } from './namespace';
// Installs Namespace.create (it spawns, and spawn imports namespace.ts).
import './create-namespace';
export { attach, withNamespaces, AttachScope, ATTACHABLE } from './attach';
export type { AttachTarget } from './attach';
export { translatePid } from './translate';
export type { TranslateOptions, PidNsRef } from './translate';
export { features } from './features';
export type { Feature, FeatureName, Features } from './features';
export { NS_TYPES, CLONE_FLAG } from './core/ns-types';
export type { NsType } from './core/ns-types';
export { listNamespaces, namespaceTree, buildNamespaceTree } from './list';
export type { NamespaceInfo, NamespaceTree, NamespaceTreeNode, NsSource, NsHolder, NsThread, NsForeignMount, ListOptions } from './list';
export { socketIn, socketNamespace, openIn, readFileIn, writeFileIn, mkdirIn, mountIn, loopbackUp, openFlags } from './inside';
export type { InTarget, PidfdHolder, SocketFamily, SocketType, SocketBind, SocketInOptions, OpenFlags, ReadFileInOptions, WriteFileInOptions, MkdirInOptions, MountOptions } from './inside';
export { spawn, run, Subprocess, MASKED_PATHS, READONLY_PATHS } from './spawn';
export type { SpawnOptions, RunOptions, RunResult, RunFailure, IdMapEntry, StdioName, StdioSlot, MountSpec } from './spawn';
export { Container, DEFAULT_INIT, DEFAULT_UNSHARE, BundleConfigError } from './container';
export { Cgroup } from './cgroup';
export type { CgroupResources, CgroupStats } from './cgroup';
export type { ContainerCreateOptions, ContainerInfo, BundleOptions } from './container';
export { DEFAULT_CAPABILITIES } from './privileges';
export type { CapabilitiesOption, CapabilityName, CapabilitySets, RlimitsOption, RlimitValue, SeccompOption, OciSeccompProfile, OciSeccompSyscall } from './privileges';
export { Rtnetlink, Network, NETWORK_RUN_DIR } from './net';
export type { Address, AddressOptions, Link, LinkChange, MacvlanMode, Route, RouteSpec, VethOptions, LinkEnd, LinkOptions, NetNode, NetworkOptions, IpFamily } from './net';
/** @internal For nsfd/testing: opens the package's long-lived fds (the reaper's, the embedded init's memfd) before a leak check counts fds. */
export { openLongLivedFds as _openLongLivedFds } from './container/init';
